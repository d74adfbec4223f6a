"""Small helpers shared by the chapters: cohort set-up, the cohort banner, figure style.

Chapters call :func:`setup` in their hidden first cell. Nothing here computes
statistics; it only loads the chosen cohort, fixes the plotting style and
says, on every page, which cohort the numbers come from.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dmnpc.book import plots
from dmnpc.paper.contract import load_cohort

__all__ = ["SEED", "setup", "cohort_banner", "cohort_label", "md_table", "fmt_p", "p_text", "compare_table", "pretty_arms", "tolerance_text"]

#: Seed used by every chapter that draws random numbers (bootstrap).
SEED = 20240217


def cohort_label(df: pd.DataFrame) -> str:
    """Short name of the cohort for captions: 'synthetic twin' or the file's name."""
    if df.attrs.get("synthetic", False):
        return "synthetic twin"
    return f"cohort file {Path(str(df.attrs.get('source', 'unknown'))).name}"


def cohort_banner(df: pd.DataFrame) -> str:
    """A MyST admonition saying which cohort every number on the page comes from."""
    n = len(df)
    if df.attrs.get("synthetic", False):
        return (":::{admonition} Synthetic cohort\n:class: warning\n"
                f"Every number on this page is computed on the **synthetic twin**: {n} invented "
                "patients generated to match the aggregates Chen et al. (2024) published. It shows "
                "what the paper's analysis does, not what is true of real patients. Re-run the book "
                "on real data with `DMNPC_DATA=file make book`.\n:::")
    return (":::{admonition} Cohort\n:class: note\n"
            f"Every number on this page is computed on the {cohort_label(df)} (n = {n}), "
            "chosen with `DMNPC_DATA`.\n:::")


def setup() -> pd.DataFrame:
    """Load the cohort chosen by ``DMNPC_DATA`` (default: the twin) and set the figure style."""
    plots.set_style()
    return load_cohort()


def md_table(df: pd.DataFrame, index: bool = False, floatfmt: str = "g") -> str:
    """A DataFrame as a Markdown table (for ``{glue:md}`` inside a numbered ``{table}``)."""
    return df.to_markdown(index=index, floatfmt=floatfmt)


def p_text(p: float) -> str:
    """'P = 0.003' or 'P < 0.001', for prose."""
    f = fmt_p(p)
    return f"P {f}" if f.startswith("<") else f"P = {f}"


def fmt_p(p: float) -> str:
    """Format a P value as clinical papers do: three decimals, '< 0.001' below that."""
    p = float(p)
    if p != p:
        return "NA"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _fmt_value(kind: str, v: float | None) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "not reached"
    if kind == "proportion":
        return f"{100 * float(v):.1f}%"
    if kind == "p_value":
        return fmt_p(v)
    if kind in ("count", "cutoff"):
        return f"{float(v):,.0f}"
    if kind in ("c_index", "auc"):
        return f"{float(v):.3f}"
    if kind in ("hr", "hr_ci"):
        return f"{float(v):.2f}"
    return f"{float(v):.1f}"


def tolerance_text(rule: str, tol: float, kind: str) -> str:
    """A declared tolerance in words (for tables)."""
    if rule == "exact":
        return "exact"
    if rule == "abs":
        if kind == "proportion":
            return f"± {100 * tol:.1f} points"
        return f"± {tol:g} months" if kind in ("median", "followup") else f"± {tol:g}"
    if rule == "rel":
        return f"± {100 * tol:.0f}%"
    if rule == "log10_ratio_same_side":
        return f"same side of 0.05, within ×{10 ** tol:.2f}"
    if rule == "ge":
        return "≥ published"
    return rule


def compare_table(items: list[tuple[str, str, float | None]]) -> pd.DataFrame:
    """Published numbers beside this cohort's, with the verdict under the declared tolerance.

    Parameters
    ----------
    items : list of (label, key, value)
        ``key`` is a key of :func:`dmnpc.paper.published.numbers`; ``value`` this
        cohort's estimate (None or NaN when not estimable, e.g. a median not reached).

    Returns
    -------
    pandas.DataFrame
        Columns ``Quantity``, ``Published``, ``This cohort``, ``Tolerance``,
        ``Reproduced`` ("yes", "**no**", or "not estimable").
    """
    from dmnpc.paper import published

    pub = published.numbers().set_index("key")
    rows = []
    for label, key, value in items:
        rec = pub.loc[key]
        kind = str(rec["kind"])
        ok = "**no**: not estimable"
        if value is not None and not (isinstance(value, float) and value != value):
            ok = "yes" if published.within_tolerance(key, float(value)) else "**no**"
        rows.append({"Quantity": label, "Published": _fmt_value(kind, float(rec["value"])),
                     "This cohort": _fmt_value(kind, value), "Tolerance": tolerance_text(str(rec["tolerance_rule"]), float(rec["tolerance"]), kind),
                     "Reproduced": ok})
    return pd.DataFrame(rows)


#: Display names of the arm columns of :func:`dmnpc.paper.tables.wide_table`.
ARM_NAMES = {"lrrt": "LRRT, n (%)", "no_lrrt": "Without LRRT, n (%)"}


def pretty_arms(wide: pd.DataFrame) -> pd.DataFrame:
    """Rename the arm columns of a wide baseline table for display ('low lrrt' -> 'Low risk: LRRT, n (%)')."""
    ren = {}
    for c in wide.columns:
        parts = str(c).split(" ")
        if parts[-1] in ARM_NAMES:
            prefix = " ".join(parts[:-1])
            ren[c] = (f"{prefix.capitalize()} risk: " if prefix else "") + ARM_NAMES[parts[-1]]
        elif len(parts) == 2 and parts[1] == "P":
            ren[c] = f"{parts[0].capitalize()} risk: P"
    return wide.rename(columns=ren).fillna("")
