"""Every figure of the book, drawn with one palette and one style.

Computation lives in :mod:`dmnpc.stats` and :mod:`dmnpc.paper`; the functions here
only draw what those return (a Kaplan-Meier fit, a Cox summary, a ROC table, a
calibration result, a nomogram, the flow counts) and return the matplotlib Axes.
:func:`set_style` is called once per chapter by :func:`dmnpc.book.chapter.setup`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from matplotlib.transforms import blended_transform_factory

from dmnpc.stats import discrimination
from dmnpc.stats.calibration import SmoothCalibration
from dmnpc.stats.km import KMResult
from dmnpc.stats.nomogram import Nomogram
from dmnpc.stats.roc import CutResult

__all__ = ["PALETTE", "DISPLAY_WIDTH_IN", "MIN_DISPLAY_PT", "readable_pt", "panel_title", "set_style", "plot_km", "plot_forest", "plot_roc", "plot_td_roc", "plot_calibration",
           "plot_nomogram", "plot_flow", "plot_cut_distribution", "plot_decision_curve", "plot_smooth_calibration", "plot_partial_effect", "plot_cv_curve", "plot_instability", "plot_love", "keep_text_readable",
           "not_estimable", "plot_pattern_rates"]

#: Colour-blind-safe palette (Okabe & Ito 2008), in the order the book uses it.
PALETTE: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
                            "#000000")


#: Width, in inches at the browser's 96 CSS px per inch, at which the book shows a figure that is
#: wider than its column (a 1280-px window: 660 px; the browser test measures it on every page).
DISPLAY_WIDTH_IN: float = 660 / 96

#: Smallest size, in points on the reader's screen, of the text of a figure drawn here.
MIN_DISPLAY_PT: float = 9.0


def readable_pt(fig, pt: float = MIN_DISPLAY_PT, margin: float = 1.08) -> float:
    """Font size (points in the figure) that shows as at least ``pt`` points on the page.

    A figure wider than :data:`DISPLAY_WIDTH_IN` is scaled down to the column, and its text with
    it; this returns ``pt`` enlarged by that factor (``margin`` covers labels drawn outside the
    axes, which widen the saved, tightly cropped image beyond the figure).
    """
    return float(pt) * max(1.0, margin * float(fig.get_figwidth()) / DISPLAY_WIDTH_IN)


def panel_title(ax: Axes, text: str, size: float = 10.0) -> Axes:
    """A panel's title, left-aligned, readable on the page and wrapped to the panel's width.

    A title wider than its panel (a long "not estimable: reason") would widen the saved image
    and so shrink every text of the figure on the page; wrapping keeps it inside.
    """
    import textwrap

    fig = ax.figure
    pt = readable_pt(fig, size)
    width_in = ax.get_position().width * fig.get_figwidth()
    chars = max(20, int(width_in * 72 / (0.55 * pt)))   # about 0.55 em per character
    ax.set_title(textwrap.fill(str(text), chars), loc="left", fontsize=pt)
    return ax


def set_style() -> None:
    """The book's figure style: the palette, readable fonts, no top/right spines, SVG output.

    In a notebook kernel, figures are rendered as SVG (text drawn as paths, ids fixed by a salt, no
    date), so they stay sharp at any zoom and the browser test can read every text's size from the
    file the reader's browser shows.
    """
    mpl.rcParams.update({
        "svg.fonttype": "path",
        "svg.hashsalt": "dmnpc",
        "figure.dpi": 110,
        "savefig.dpi": 200,
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
        "legend.frameon": False,
    })
    try:
        from IPython import get_ipython

        if get_ipython() is not None:
            from matplotlib_inline.backend_inline import set_matplotlib_formats

            set_matplotlib_formats("svg", metadata={"Date": None})
    except ImportError:  # pragma: no cover - plotting outside IPython
        pass


def plot_km(km_by_group: Mapping[str, KMResult] | KMResult, ax=None, at_risk: bool = True,
            risk_times: Sequence[float] | None = None, ci: bool = True, censor_marks: bool = True,
            colors: Sequence[str] = PALETTE, xlabel: str = "Time (months)",
            ylabel: str = "Survival probability", title: str | None = None):
    """Draw Kaplan-Meier curves with censoring marks, CI bands and a numbers-at-risk table.

    Parameters
    ----------
    km_by_group : KMResult or mapping of label to KMResult
        Curves to draw, in the mapping's order (from :func:`kaplan_meier`).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made if omitted.
    at_risk : bool, default True
        Print the numbers at risk under the axes at ``risk_times``.
    risk_times : sequence of float, optional
        Times for the at-risk table (default: the x tick positions).
    ci : bool, default True
        Shade the pointwise confidence band.
    censor_marks : bool, default True
        Mark censoring times with ``+``.
    colors : sequence of str
        Line colours; the default is the colour-blind-safe Okabe-Ito palette.
    xlabel, ylabel, title : str
        Axis labels and optional title.

    Returns
    -------
    matplotlib.axes.Axes
    """

    if isinstance(km_by_group, KMResult):
        km_by_group = {"All patients": km_by_group}
    if len(km_by_group) == 0:
        raise ValueError("nothing to draw: give at least one Kaplan-Meier result")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.5))
    fs = readable_pt(ax.figure)
    tmax = 0.0
    for i, (label, km) in enumerate(km_by_group.items()):
        tab = km.table
        col = colors[i % len(colors)]
        x = np.r_[0.0, tab["time"].to_numpy()]
        y = np.r_[1.0, tab["surv"].to_numpy()]
        ax.step(x, y, where="post", color=col, lw=1.6, label=label)
        if ci:
            lo = np.r_[1.0, tab["lower"].to_numpy(float)]
            hi = np.r_[1.0, tab["upper"].to_numpy(float)]
            ax.fill_between(x, lo, hi, step="post", color=col, alpha=0.15, lw=0)
        if censor_marks:
            c = tab[tab["n_censor"] > 0]
            ax.plot(c["time"], c["surv"], ls="none", marker="+", ms=7, mew=1.2, color=col)
        tmax = max(tmax, float(x.max()))
    ax.set_xlim(0, tmax * 1.02 if tmax > 0 else 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel, fontsize=fs)
    ax.set_ylabel(ylabel, fontsize=fs)
    ax.tick_params(labelsize=fs)
    if title:
        ax.set_title(title, fontsize=fs)
    if len(km_by_group) > 1 or "All patients" not in km_by_group:
        ax.legend(frameon=False, loc="lower left", fontsize=fs)
    if at_risk:
        if risk_times is None:
            risk_times = ax.get_xticks()
        # only times inside the drawn range: a follow-up shorter than the last requested time
        # would otherwise push at-risk numbers far beyond the axes
        risk_times = [v for v in risk_times if 0 <= v <= tmax * 1.02]
        # offsets in points below the x axis, so the table keeps its place when the figure is
        # resized or tight_layout() moves the axes (it includes these texts in the layout)
        trans = blended_transform_factory(ax.transData, ax.transAxes)
        # the rows of the table are ``fs`` points high: every number reads at >= MIN_DISPLAY_PT on the page
        base = 2.9 * fs + 6.0
        ax.annotate("Number at risk", xy=(0.0, 0.0), xycoords="axes fraction", xytext=(0, -base),
                    textcoords="offset points", ha="left", va="top", fontsize=fs, fontweight="bold",
                    gid="dmnpc-at-risk-title")
        for i, (label, km) in enumerate(km_by_group.items()):
            tab = km.table
            tt = tab["time"].to_numpy()
            nr = tab["n_risk"].to_numpy()
            dy = -(base + 1.45 * fs * (i + 1))
            ax.annotate(str(label), xy=(0.0, 0.0), xycoords="axes fraction", xytext=(-1.5 * fs, dy),
                        textcoords="offset points", ha="right", va="top", fontsize=fs,
                        color=colors[i % len(colors)], gid=f"dmnpc-at-risk-label-{i}")
            for k, rt in enumerate(risk_times):
                j = int(np.searchsorted(tt, rt, side="left"))
                n = int(nr[j]) if j < len(tt) else 0
                ax.annotate(str(n), xy=(rt, 0.0), xycoords=trans, xytext=(0, dy),
                            textcoords="offset points", ha="center", va="top", fontsize=fs,
                            gid=f"dmnpc-at-risk-{i}-{k}")
    return ax

def plot_forest(summary_df: pd.DataFrame, ax=None, labels: dict | None = None,
                color: str = PALETTE[0], title: str | None = None):
    """Forest plot of hazard ratios with confidence intervals on a log scale.

    Parameters
    ----------
    summary_df : pandas.DataFrame
        With columns ``term``, ``hr``, ``lower``, ``upper`` and optionally ``p``
        (e.g. ``CoxFit.summary`` or :func:`univariable_screen`); rows with a
        missing HR are skipped.
    ax : matplotlib.axes.Axes, optional
    labels : dict, optional
        Display label per term.
    color : str
        Marker colour.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """

    need = {"term", "hr", "lower", "upper"}
    if not need.issubset(summary_df.columns):
        raise ValueError(f"summary_df needs columns {sorted(need)}")
    s = summary_df.dropna(subset=["hr", "lower", "upper"]).reset_index(drop=True)
    if len(s) == 0:
        raise ValueError("nothing to draw: no term has an estimated hazard ratio")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.45 * len(s) + 1.2))
    y = np.arange(len(s))[::-1]
    ax.hlines(y, s["lower"], s["upper"], color=color, lw=1.5)
    ax.plot(s["hr"], y, "s", color=color, ms=6)
    ax.axvline(1.0, color="0.4", ls="--", lw=0.8)
    ax.set_xscale("log")

    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(0.1, 0.2, 0.5, 1.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    names = [labels.get(t, t) if labels else t for t in s["term"]]
    ax.set_yticks(y, names)
    ax.set_xlabel("Hazard ratio (log scale)")
    lo = min(float(s["lower"].min()), 1.0)
    hi = max(float(s["upper"].max()), 1.0)
    ax.set_xlim(lo / 1.3, hi * 1.3)
    # HR (CI) and P printed to the right of the axes (x in axes fraction, y in data units)

    trans = blended_transform_factory(ax.transAxes, ax.transData)
    for yi, (_, r) in zip(y, s.iterrows()):
        txt = f"{r.hr:.2f} ({r.lower:.2f}-{r.upper:.2f})"
        if "p" in s.columns and pd.notna(r.get("p")):
            txt += f"  P={r.p:.3f}" if r.p >= 0.001 else "  P<0.001"
        ax.text(1.03, yi, txt, transform=trans, va="center", ha="left", fontsize=MIN_DISPLAY_PT)
    ax.set_ylim(-0.7, len(s) - 0.3)
    if title:
        ax.set_title(title)
    return ax

def plot_roc(roc_df: pd.DataFrame, cut: CutResult | None = None, ax=None, color: str = PALETTE[0],
             label: str | None = None):
    """Draw a ROC curve (sensitivity against 1 - specificity) and mark the chosen cut.

    Parameters
    ----------
    roc_df : pandas.DataFrame
        From :func:`roc_curve`.
    cut : CutResult, optional
        Point to mark and annotate (e.g. from :func:`youden_cut`).
    ax : matplotlib.axes.Axes, optional
    color : str
    label : str, optional
        Legend label; the AUC is appended when known.

    Returns
    -------
    matplotlib.axes.Axes
    """

    if not {"sensitivity", "specificity"}.issubset(roc_df.columns):
        raise ValueError("roc_df needs columns 'sensitivity' and 'specificity' (use roc_curve)")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    auc = roc_df.attrs.get("auc")
    lab = label or "ROC"
    if auc is not None:
        lab += f" (AUC {auc:.3f})"
    ax.plot(1 - roc_df["specificity"], roc_df["sensitivity"], color=color, lw=1.8, label=lab,
            drawstyle="default")
    ax.plot([0, 1], [0, 1], ls="--", color="0.6", lw=0.8)
    if cut is not None:
        ax.plot(1 - cut.specificity, cut.sensitivity, "o", color="#D55E00", ms=7)
        ax.annotate(f"cut {cut.threshold:g}\nsens {cut.sensitivity:.2f}, spec {cut.specificity:.2f}",
                    (1 - cut.specificity, cut.sensitivity), textcoords="offset points",
                    xytext=(10, -28), fontsize=MIN_DISPLAY_PT)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("Sensitivity")
    ax.legend(frameon=False, loc="lower right")
    return ax

def plot_td_roc(time, event, risk, times, ax=None, labels: list[str] | None = None):
    """Draw time-dependent ROC curves, one per horizon, with the AUC in the legend.

    Parameters
    ----------
    time, event, risk : array-like
        As in :func:`time_dependent_auc`.
    times : float or sequence of float
        Horizons.
    ax : matplotlib Axes, optional
        Axes to draw on (a new figure when ``None``).
    labels : list of str, optional
        Legend label per horizon (default ``"t = <time>"``).

    Returns
    -------
    matplotlib.axes.Axes
    """

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    hs = np.atleast_1d(np.asarray(times, dtype=float))
    aucs = discrimination.time_dependent_auc(time, event, risk, hs)
    for k, h in enumerate(hs):
        roc = discrimination.td_roc_curve(time, event, risk, h)
        lab = labels[k] if labels is not None else f"t = {h:g}"
        ax.step(roc["fpr"], roc["tpr"], where="post", label=f"{lab} (AUC {aucs['auc'].iloc[k]:.3f})")
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1)
    ax.set_xlabel("1 - specificity (false-positive rate)")
    ax.set_ylabel("Sensitivity (true-positive rate)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_aspect("equal")
    ax.legend(loc="lower right", frameon=False)
    return ax

def plot_calibration(
    groups: pd.DataFrame | None = None,
    smooth: SmoothCalibration | None = None,
    ax=None,
    scale: str = "survival",
    label: str = "",
):
    """Calibration plot: grouped KM points with 95% CIs and/or the smooth curve, with the diagonal.

    Parameters
    ----------
    groups : DataFrame, optional
        Output of :func:`calibration_km` or :func:`calibration_km_boot` (then the
        bootstrap-corrected points are added as crosses).
    smooth : SmoothCalibration, optional
        Output of :func:`calibration_smooth`.
    ax : matplotlib Axes, optional
    scale : {"survival", "risk"}
        Axis scale for the smooth curve (grouped points are on the survival scale
        and are converted when ``"risk"``).
    label : str
        Legend prefix.

    Returns
    -------
    matplotlib.axes.Axes
    """

    if groups is None and smooth is None:
        raise ValueError("Give grouped calibration results, a smooth calibration, or both.")
    if scale not in ("survival", "risk"):
        raise ValueError("scale must be 'survival' or 'risk'.")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    conv = (lambda s: s) if scale == "survival" else (lambda s: 1 - s)  # noqa: E731
    if groups is not None:
        g = groups.dropna(subset=["km"])
        x = conv(g["mean_predicted"].to_numpy())
        y = conv(g["km"].to_numpy())
        lo = conv(g["km_lower"].to_numpy())
        hi = conv(g["km_upper"].to_numpy())
        yerr = np.vstack([np.abs(y - np.minimum(lo, hi)), np.abs(np.maximum(lo, hi) - y)])
        ax.errorbar(x, y, yerr=yerr, fmt="o-", capsize=3, label=f"{label}Kaplan-Meier (95% CI)".strip())
        if "km_corrected" in g:
            ax.plot(x, conv(g["km_corrected"].to_numpy()), "x", ms=8, label=f"{label}bootstrap-corrected".strip())
    if smooth is not None:
        c = smooth.curve
        if scale == "survival":
            ax.plot(c["predicted_survival"], c["observed_survival"], "-", label=f"{label}smooth (ICI {smooth.ici:.3f})".strip())
        else:
            ax.plot(c["predicted_risk"], c["observed_risk"], "-", label=f"{label}smooth (ICI {smooth.ici:.3f})".strip())
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1)
    what = "survival" if scale == "survival" else "risk"
    ax.set_xlabel(f"Predicted {what} probability")
    ax.set_ylabel(f"Observed {what} probability")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.legend(loc="upper left", frameon=False)
    return ax

def _thin(pos: Sequence[float], labels: Sequence[str], char_width: float) -> list[int]:
    """Indices of ticks whose labels do not overlap; rounder labels (fewer characters) win."""
    order = sorted(range(len(pos)), key=lambda i: (len(labels[i]), pos[i]))
    keep: list[int] = []
    for i in order:
        if all(abs(pos[i] - pos[j]) >= (len(labels[i]) + len(labels[j])) / 2 * char_width + char_width
               for j in keep):
            keep.append(i)
    return sorted(keep, key=lambda i: pos[i])

_TICK_LEN = 0.12


def _axis_row(ax, y: float, title: str, xs: Sequence[float], labels: Sequence[str], *, width: float,
              fontsize: float, line: tuple[float, float] | None = None, minor: Sequence[float] = (),
              labels_below: bool = False) -> None:
    """One nomogram axis: the line, its labelled ticks, unlabelled minor ticks and the title."""
    lo, hi = line if line is not None else (min(xs), max(xs))
    ax.plot([lo, hi], [y, y], color="black", lw=0.9, solid_capstyle="butt")
    for x, lab in zip(xs, labels):
        ax.plot([x, x], [y, y + _TICK_LEN], color="black", lw=0.9)
        # a label at the left end starts at its tick, so it never runs into the row's title
        ax.text(x, y + (-_TICK_LEN - 0.05 if labels_below else _TICK_LEN + 0.05), lab,
                ha="left" if x <= 1e-9 * width else "center", va="top" if labels_below else "bottom",
                fontsize=fontsize)
    for x in minor:
        ax.plot([x, x], [y, y + _TICK_LEN / 2], color="black", lw=0.6)
    ax.text(-0.04 * width, y, title, ha="right", va="center", fontsize=fontsize + 1)


def _term_row(axis_row, y: float, t, char_w: float) -> None:
    """A predictor's axis; two levels too close for their labels get the second label below the line."""
    pos, labs = list(t.points), list(t.level_labels)
    if t.kind == "continuous":
        keep = _thin(pos, labs, char_w)
        pos, labs = [pos[i] for i in keep], [labs[i] for i in keep]
    line = (min(t.points), max(t.points))
    if len(pos) == 2 and abs(pos[0] - pos[1]) < (len(labs[0]) + len(labs[1])) / 2 * char_w + char_w:
        axis_row(y, t.label, pos[:1], labs[:1], line=line)
        axis_row(y, t.label, pos[1:], labs[1:], line=line, labels_below=True)
    else:
        axis_row(y, t.label, pos, labs, line=line)


def plot_nomogram(nom: Nomogram, ax: Any = None, *, show_lp: bool = False, fontsize: float = 9):
    """Draw the nomogram in the style of ``plot.nomogram`` (rms).

    Rows from top to bottom: Points (0..max_points), one axis per predictor with its level
    labels, Total points, optionally the linear predictor, then one axis per time with round
    survival probabilities at their Total-points positions. The Total-points and survival axes
    are compressed so that the whole Total-points axis has the width of the Points axis.

    Parameters
    ----------
    nom : Nomogram
    ax : matplotlib.axes.Axes, optional
        Drawn into a new figure when omitted.
    show_lp : bool
        Add the linear-predictor axis (rms draws it by default; papers usually omit it).
    fontsize : float
        Font size of tick labels (axis titles are one point larger).

    Returns
    -------
    matplotlib.axes.Axes
    """

    nrows = 2 + len(nom.terms) + int(show_lp) + len(nom.times)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.55 * nrows + 0.6))
    fontsize = max(float(fontsize), readable_pt(ax.figure))
    W = nom.max_points
    # the Total points axis ends at the highest score a patient can reach (every term at its
    # maximum), drawn as wide as the Points axis; ticks beyond it would be stray
    tp_max = float(sum(max(t.points) for t in nom.terms)) if nom.terms else W
    comp = W / tp_max  # total points -> drawing x
    char_w = 0.0125 * W * fontsize / 9  # approximate label character width in x units

    def axis_row(y, title, xs, labels, **kw) -> None:
        _axis_row(ax, y, title, xs, labels, width=W, fontsize=fontsize, **kw)

    def inside(v) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        return (v >= -1e-9) & (v <= tp_max * (1 + 1e-9))

    y = 0.0
    step = 10 if W >= 50 else W / 5
    pts_ticks = np.arange(0, W + 1e-9, step)
    axis_row(y, "Points", pts_ticks, [f"{v:g}" for v in pts_ticks], line=(0, W),
             minor=[v for v in np.arange(0, W + 1e-9, step / 5) if not np.isclose(v % step, 0)
                    and not np.isclose(v % step, step)])
    for t in nom.terms:
        y -= 1
        _term_row(axis_row, y, t, char_w)
    y -= 1
    tps = np.asarray(nom.total_points_axis, dtype=float)
    tps = tps[inside(tps)]
    mids = (tps[:-1] + tps[1:]) / 2
    mids = np.r_[mids, tps[-1] + (tps[-1] - tps[-2]) / 2] if len(tps) > 1 else mids
    mids = mids[inside(mids)] * comp
    axis_row(y, "Total points", tps * comp, [f"{v:g}" for v in tps], line=(0, W), minor=mids)
    if show_lp:
        y -= 1
        lp = np.asarray(nom.lp_axis)
        x = (lp - nom.intercept) * nom.scale * comp
        ok = np.flatnonzero((x >= -1e-9) & (x <= W + 1e-9))
        labs = [f"{v:g}" for v in lp[ok]]
        keep = _thin(list(x[ok]), labs, char_w)
        axis_row(y, "Linear predictor", x[ok][keep], [labs[i] for i in keep])
    for t, lab in zip(nom.times, nom.time_labels):
        y -= 1
        tk = nom.survival_ticks[nom.survival_ticks["time"] == t]
        tk = tk[inside(tk["total_points"])]
        if len(tk) == 0:
            continue
        x = tk["total_points"].to_numpy() * comp
        labs = [f"{v:g}" for v in tk["survival"].to_numpy()]
        keep = _thin(list(x), labs, char_w)
        dropped = [x[i] for i in range(len(x)) if i not in keep]
        # the line joins every tick, labelled or not, so no tick stands apart from its axis
        axis_row(y, lab, x[keep], [labs[i] for i in keep], minor=dropped, line=(float(x.min()), float(x.max())))
    ax.set_xlim(-0.02 * W, 1.03 * W)
    ax.set_ylim(y - 0.6, 0.7)
    ax.axis("off")
    keep_text_readable(ax.figure)
    return ax


def keep_text_readable(fig, pt: float = MIN_DISPLAY_PT, rounds: int = 4) -> None:
    """Enlarge every text of ``fig`` until it shows at ``pt`` points or more on the page.

    A figure whose tightly cropped image (labels outside the axes included) is wider than the
    page column is shown scaled down, and its text with it. This draws the figure, measures the
    cropped width and the smallest font, and scales all fonts up by the missing factor; since
    larger labels widen the crop again, it repeats (a few rounds converge).
    """
    for _ in range(rounds):
        fig.canvas.draw()
        texts = [t for t in fig.findobj(mpl.text.Text) if t.get_visible() and t.get_text().strip()]
        if not texts:
            return
        width_in = fig.get_tightbbox().width + 2 * float(mpl.rcParams["savefig.pad_inches"])  # as saved, cropped
        shown = min(1.0, DISPLAY_WIDTH_IN / width_in)
        smallest = min(t.get_fontsize() for t in texts) * shown
        if smallest >= 1.02 * pt:  # a 2% margin for the browser's rounding of the image width
            return
        factor = 1.04 * pt / smallest
        for t in texts:
            t.set_fontsize(t.get_fontsize() * factor)

def not_estimable(ax: Axes, reason: str, title: str | None = None) -> Axes:
    """An empty panel that says why its figure cannot be drawn on this cohort."""
    import textwrap

    ax.axis("off")
    ax.text(0.5, 0.5, "Not estimable on this cohort:\n" + textwrap.fill(reason, 60), ha="center", va="center",
            fontsize=10, transform=ax.transAxes, bbox={"boxstyle": "round,pad=0.6", "fc": "#F5F5F5", "ec": "0.6"})
    if title:
        ax.set_title(title, loc="left")
    return ax


def plot_flow(counts: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Draw the flow diagram of :func:`flow_counts` as boxes and arrows; returns ``ax``."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    levels: dict[str, int] = {}
    for _, r in counts.iterrows():
        levels[r.box] = 0 if not r.parent else levels[r.parent] + 1
    depth = max(levels.values())
    pos: dict[str, tuple[float, float]] = {}
    for lev in range(depth + 1):
        boxes = [b for b in counts.box if levels[b] == lev]
        for i, b in enumerate(boxes):
            pos[b] = ((i + 0.5) / len(boxes), 1 - (lev + 0.5) / (depth + 1))
    for _, r in counts.iterrows():
        x, y = pos[r.box]
        if r.parent:
            px, py = pos[r.parent]
            ax.annotate("", xy=(x, y + 0.09), xytext=(px, py - 0.09),
                        arrowprops={"arrowstyle": "->", "color": "0.3"})
        ax.text(x, y, f"{r.label}\nn = {r.n}", ha="center", va="center", fontsize=readable_pt(ax.figure),
                bbox={"boxstyle": "round,pad=0.4", "fc": "#EAF2FA", "ec": PALETTE[0]})
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    return ax


def plot_cut_distribution(thresholds: Sequence[float] | pd.Series, cut: float, ax: Axes | None = None, *,
                          log10: bool = False, binwidth: float | None = None, xlabel: str = "Cut point",
                          ylabel: str = "Resamples") -> Axes:
    """Histogram of the cut points chosen in bootstrap resamples, with the full-data cut marked.

    Parameters
    ----------
    thresholds : sequence of float
        One cut per resample (:func:`dmnpc.stats.roc.bootstrap_cut_distribution`'s ``threshold``);
        resamples without a finite cut are left out.
    cut : float
        The cut chosen on the full data (vertical line).
    log10 : bool, default False
        Draw log10 of the cuts (values below 1 are clipped to 1), for markers spanning decades.
    binwidth : float, optional
        Bin width (on the drawn scale); bins centred on the values when given, 40 bins otherwise.
    xlabel, ylabel : str
        Axis labels.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import seaborn as sns

    x = pd.Series(np.asarray(thresholds, dtype=float))
    x = x[np.isfinite(x)]
    line = float(cut)
    if log10:
        x, line = np.log10(x.clip(lower=1)), float(np.log10(cut))
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.6))
    bins: Any = 40 if binwidth is None else np.arange(x.min() - binwidth / 2, x.max() + 1.5 * binwidth, binwidth)
    sns.histplot(x=x.to_numpy(), bins=bins, color=PALETTE[0], alpha=1.0, edgecolor="white", ax=ax)
    ax.axvline(line, color=PALETTE[1])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_decision_curve(curves: pd.DataFrame, ax=None, title: str | None = None,
                        xlabel: str = "Threshold probability of death (%)", mark: float | None = None):
    """Decision curves: net benefit against threshold probability, one line per strategy.

    Parameters
    ----------
    curves : pandas.DataFrame
        Long format with ``threshold``, ``strategy`` and ``net_benefit`` (e.g.
        :func:`dmnpc.paper.appraisal.dca_frame` for one horizon); NaN net benefits are gaps.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    xlabel : str
        The x axis' label (what the threshold is a probability of).
    mark : float, optional
        A threshold probability (0-1) to mark with a dotted vertical line.

    Returns
    -------
    matplotlib.axes.Axes

    References
    ----------
    Vickers AJ, Elkin EB. Decision curve analysis: a novel method for evaluating prediction
    models. Med Decis Making 2006;26:565-574.
    """
    import seaborn as sns

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.2))
    fs = readable_pt(ax.figure, 10)
    d = curves.assign(threshold_pct=100 * curves["threshold"])
    sns.lineplot(data=d, x="threshold_pct", y="net_benefit", hue="strategy", style="strategy", ax=ax,
                 palette=list(PALETTE[: d["strategy"].nunique()]), linewidth=1.8)
    ymax = float(np.nanmax(d["net_benefit"])) if np.isfinite(d["net_benefit"]).any() else 0.1
    ax.set_ylim(-0.05 * max(ymax, 0.05), 1.15 * max(ymax, 0.05))  # treat-all falls far below 0: cut it off
    if mark is not None:
        ax.axvline(100 * float(mark), color="0.5", lw=0.9, ls=":")
    ax.set_xlabel(xlabel, fontsize=fs)
    ax.set_ylabel("Net benefit", fontsize=fs)
    ax.tick_params(labelsize=fs)
    ax.legend(frameon=False, fontsize=fs, title=None)
    if title:
        panel_title(ax, title)
    return ax


def plot_smooth_calibration(cal: SmoothCalibration, ax=None, title: str | None = None,
                            label: str = "Smooth calibration curve", what: str = "risk",
                            color: str = PALETTE[0]):
    """A smooth calibration curve on the risk scale with the distribution of the predictions.

    The curve of :func:`dmnpc.stats.calibration.calibration_smooth` (observed against predicted
    risk at its horizon), the diagonal of perfect calibration, and a histogram of the predicted
    risks along the bottom (so the reader sees where the curve rests on patients). Text is sized
    by :func:`readable_pt`.

    Parameters
    ----------
    cal : SmoothCalibration
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    label : str
        Legend label of the curve.
    what : str
        What the risk is of, for the axis labels ("risk" or e.g. "5-year risk of recurrence or death").
    color : str

    Returns
    -------
    matplotlib.axes.Axes

    References
    ----------
    Austin PC, Harrell FE Jr, van Klaveren D. Graphical calibration curves and the integrated
    calibration index (ICI) for survival models. Stat Med 2020;39:2714-2742.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    fs = readable_pt(ax.figure, 10)
    c = cal.curve
    x, y = c["predicted_risk"].to_numpy(), c["observed_risk"].to_numpy()
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1, label="Perfect calibration")
    ax.plot(x, y, "-", color=color, lw=2, label=label)
    counts, edges = np.histogram(x, bins=np.linspace(0, 1, 51))
    if counts.max() > 0:
        ax.bar(edges[:-1], 0.12 * counts / counts.max(), width=np.diff(edges), align="edge", color=color,
               alpha=0.3, lw=0, label="Predicted risks (histogram)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel(f"Predicted {what}", fontsize=fs)
    ax.set_ylabel(f"Observed {what}", fontsize=fs)
    ax.tick_params(labelsize=fs)
    ax.legend(loc="upper left", frameon=False, fontsize=fs)
    if title:
        panel_title(ax, title)
    return ax


def plot_partial_effect(effect: pd.DataFrame, ax=None, xlabel: str = "", knots=None, title: str | None = None):
    """Hazard ratio of one predictor against its reference value, with its pointwise 95% band (log scale).

    ``effect`` is :meth:`dmnpc.stats.splines.RcsCoxFit.partial_effect` (``value``, ``log_hr``,
    ``lower``, ``upper``); ``knots`` (optional) are marked as dotted vertical lines. No patient's
    own value is drawn.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8))
    fs = readable_pt(ax.figure, 10)
    x = effect["value"].to_numpy()
    ax.fill_between(x, np.exp(effect["lower"]), np.exp(effect["upper"]), color=PALETTE[0], alpha=0.2, lw=0)
    ax.plot(x, np.exp(effect["log_hr"]), color=PALETTE[0], lw=2)
    ax.axhline(1.0, color="0.5", lw=0.8, ls="--")
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    for k in ([] if knots is None else knots):
        ax.axvline(float(k), color="0.6", lw=0.8, ls=":")
    ax.set_xlabel(xlabel, fontsize=fs)
    ax.set_ylabel("Hazard ratio (log scale)", fontsize=fs)
    ax.tick_params(labelsize=fs, which="both")
    if title:
        panel_title(ax, title)
    return ax


def plot_cv_curve(grid, cvl, chosen: float, ax=None, xlabel: str = "Ridge penalty θ"):
    """Cross-validated log-likelihood against the penalty (log scale), the chosen penalty marked."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.plot(np.asarray(grid, float), np.asarray(cvl, float), marker="o", color=PALETTE[0])
    ax.axvline(float(chosen), color=PALETTE[1], ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Cross-validated log-likelihood")
    return ax


def plot_instability(original, boot, ax=None, bins: int = 25, xlabel: str = "Predicted 2-year survival, original model",
                     ylabel: str = "Predicted by the bootstrap models"):
    """Prediction instability (Riley & Collins 2023) as a density, not as patients' points.

    Every pair (a patient's prediction by the original model, the same patient's prediction by
    one bootstrap model) is counted in a 2-D histogram; the diagonal is perfect stability. Only
    counts per cell are drawn, so no patient's own values reach the figure.

    Parameters
    ----------
    original : array-like, shape (n,)
    boot : array-like, shape (B, n)
        NaN (a patient without a prediction in a replicate) is left out.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5.0))
    fs = readable_pt(ax.figure, 10)
    b = np.asarray(boot, dtype=float)
    x = np.broadcast_to(np.asarray(original, dtype=float), b.shape).ravel()
    y = b.ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    edges = np.linspace(0.0, 1.0, bins + 1)
    h, _, _ = np.histogram2d(x[ok], y[ok], bins=[edges, edges])
    h = np.ma.masked_equal(h.T, 0)
    mesh = ax.pcolormesh(edges, edges, h, cmap="Blues", norm=mpl.colors.LogNorm(vmin=1, vmax=max(2, h.max())))
    ax.plot([0, 1], [0, 1], color=PALETTE[1], lw=1, ls="--")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel(xlabel, fontsize=fs)
    ax.set_ylabel(ylabel, fontsize=fs)
    ax.tick_params(labelsize=fs)
    cb = ax.figure.colorbar(mesh, ax=ax, shrink=0.8)
    cb.set_label("Patient x replicate pairs", fontsize=fs)
    cb.ax.tick_params(labelsize=fs)
    return ax


def plot_pattern_rates(curve: pd.DataFrame, ax=None, title: str | None = None):
    """How often the paper's subgroup pattern appears, against the study size, one line per scenario.

    Parameters
    ----------
    curve : pandas.DataFrame
        :func:`dmnpc.paper.simulation.pattern_by_n`: ``scenario``, ``assignment``, ``true_hr``, ``n``,
        ``pattern_rate``, ``lower``, ``upper`` (the Monte Carlo 95% interval, drawn as error bars).
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    need = {"scenario", "assignment", "true_hr", "n", "pattern_rate", "lower", "upper"}
    if not need.issubset(curve.columns):
        raise ValueError(f"curve needs columns {sorted(need)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    ns = sorted(curve["n"].unique())
    for i, (name, g) in enumerate(curve.groupby("scenario", sort=False)):
        g = g.sort_values("n")
        a, hr = g["assignment"].iloc[0], float(g["true_hr"].iloc[0])
        label = (f"HR {hr:g}, LRRT as observed (confounded)" if a == "observed"
                 else f"HR {hr:g}, LRRT at random")
        y = g["pattern_rate"].to_numpy(float)
        err = np.vstack([y - g["lower"].to_numpy(float), g["upper"].to_numpy(float) - y])
        ax.errorbar(g["n"], y, yerr=err, marker="o" if a == "observed" else "s", ms=5, capsize=3, lw=1.5,
                    ls="-" if hr != 1 else "--", color=PALETTE[i % len(PALETTE)], label=label)
    ax.set_xscale("log")
    ax.set_xticks(ns, [str(int(v)) for v in ns])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel("Patients per simulated study (log scale)")
    ax.set_ylabel("Studies showing the paper's pattern")
    ax.legend(fontsize=MIN_DISPLAY_PT, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.17),
              ncol=2)
    if title:
        ax.set_title(title)
    return ax


def plot_love(balance: pd.DataFrame, columns: dict[str, str], labels: dict[str, str] | None = None, ax=None,
              threshold: float = 0.1):
    """Love plot: absolute standardised mean difference of each covariate, before and after weighting.

    Parameters
    ----------
    balance : pandas.DataFrame
        ``term`` and one SMD column per entry of ``columns`` (e.g. ``smd``, ``smd_iptw``).
    columns : dict
        SMD column -> legend label, in drawing order.
    labels : dict, optional
        Display label per term.
    threshold : float
        The usual 0.1 line of acceptable imbalance (Austin 2009).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 0.38 * len(balance) + 1.4))
    fs = readable_pt(ax.figure, 10)
    order = balance.assign(_a=balance[next(iter(columns))].abs()).sort_values("_a")
    y = np.arange(len(order))
    markers = ("o", "s", "D", "^")
    for i, (col, lab) in enumerate(columns.items()):
        ax.scatter(order[col].abs(), y, marker=markers[i % len(markers)], color=PALETTE[i % len(PALETTE)],
                   label=lab, zorder=3, s=28)
    ax.axvline(threshold, color="0.5", ls="--", lw=0.8)
    ax.set_yticks(y, [(labels or {}).get(t, t) for t in order["term"]])
    ax.set_xlabel("Absolute standardised mean difference", fontsize=fs)
    ax.tick_params(labelsize=fs)
    ax.set_xlim(left=0)
    ax.legend(frameon=False, fontsize=fs, loc="lower right")
    return ax
