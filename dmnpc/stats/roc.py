"""Data-driven cut points: ROC curves, the Youden-optimal cut, its time-dependent
version and its bootstrap instability.

Clinical studies often choose the cut point of a continuous marker from an
ROC curve. :func:`roc_curve` and
:func:`youden_cut` reproduce R's pROC (``roc(outcome, marker)`` with
``direction = "auto"``; ``coords(r, "best", best.method = "youden")``).
pROC's thresholds are midpoints between consecutive distinct observed values
(plus -Inf and +Inf); clinical groups are usually formed as ``value >= cut``
on observed values, so :class:`CutResult` also gives the cut as the first
observed value on the high-risk side of the midpoint, which defines the same
split of the patients.

Data-driven cut points are unstable and optimistic (Altman et al. 1994;
Royston, Altman & Sauerbrei 2006); :func:`bootstrap_cut_distribution` shows
how much the optimal cut moves between bootstrap samples.

Why not scikit-learn's ``roc_curve``: its thresholds are the observed values,
not pROC's midpoints, it has no ``direction = "auto"`` and no IPCW
(time-dependent) version; the cases, controls and censoring weights come from
:func:`dmnpc.stats.discrimination.ipcw_cases_controls`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dmnpc.stats._validate import (check_binary, check_horizon, check_marker, check_not_empty,
                                    check_time_event)
from dmnpc.stats.discrimination import ipcw_cases_controls

__all__ = ["CutResult", "roc_curve", "youden_cut", "time_dependent_youden_cut",
           "bootstrap_cut_distribution"]


# ----------------------------------------------------------------------------- checkers
def _check_marker_outcome(marker, outcome) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(outcome, dtype=float).ravel()
    check_not_empty(y.size)
    m = check_marker(marker, y.size, "marker")
    y = check_binary(y, "outcome", "no event").astype(float)
    if y.sum() == 0 or y.sum() == y.size:
        raise ValueError("the outcome has only one class: a ROC curve needs patients with and "
                         "without the event")
    return m, y


def _check_direction(direction: str) -> str:
    if direction not in ("auto", "<", ">"):
        raise ValueError(f"direction must be 'auto', '<' (higher marker = event) or '>' "
                         f"(lower marker = event), got {direction!r}")
    return direction


# ----------------------------------------------------------------------------- ROC
def _thresholds(m: np.ndarray) -> np.ndarray:
    u = np.unique(m)
    if u.size == 1:
        return np.array([-np.inf, u[0], np.inf])
    return np.r_[-np.inf, (u[1:] + u[:-1]) / 2.0, np.inf]


def _auto_direction(m: np.ndarray, y: np.ndarray) -> str:
    # pROC: "<" if median(controls) <= median(cases), else ">"
    return "<" if np.median(m[y == 0]) <= np.median(m[y == 1]) else ">"


def _counts(m, y, thr, direction, w_case=None):
    """True-positive weight and true-negative count at each threshold."""
    cases, controls = m[y == 1], m[y == 0]
    wc = np.ones(cases.size) if w_case is None else w_case
    if direction == "<":
        oc = np.argsort(cases)
        cs, cw = cases[oc], np.cumsum(wc[oc][::-1])[::-1]
        idx = np.searchsorted(cs, thr, side="right")  # first case > thr
        tp = np.where(idx < cs.size, cw[np.minimum(idx, cs.size - 1)], 0.0)
        tn = np.searchsorted(np.sort(controls), thr, side="right")  # controls <= thr
    else:
        oc = np.argsort(cases)
        cs, cw = cases[oc], np.cumsum(wc[oc])
        idx = np.searchsorted(cs, thr, side="left")  # cases < thr
        tp = np.where(idx > 0, cw[np.maximum(idx - 1, 0)], 0.0)
        tn = controls.size - np.searchsorted(np.sort(controls), thr, side="left")  # controls >= thr
    return tp.astype(float), tn.astype(float), float(wc.sum()), controls.size


def _auc(m, y, direction, w_case=None) -> float:
    cases, controls = m[y == 1], m[y == 0]
    wc = np.ones(cases.size) if w_case is None else w_case
    sc = np.sort(controls)
    lt = np.searchsorted(sc, cases, side="left")   # controls < case
    le = np.searchsorted(sc, cases, side="right")  # controls <= case
    if direction == "<":
        score = lt + 0.5 * (le - lt)
    else:
        score = (controls.size - le) + 0.5 * (le - lt)
    return float((wc * score).sum() / (wc.sum() * controls.size))


def roc_curve(marker, outcome, direction: str = "auto") -> pd.DataFrame:
    """Empirical ROC curve with pROC's thresholds.

    Parameters
    ----------
    marker : array-like of float
        The continuous marker (e.g. a biomarker's concentration).
    outcome : array-like of {0, 1}
        1 = event ("case"), 0 = no event ("control").
    direction : {"auto", "<", ">"}, default "auto"
        ``"<"``: higher marker values indicate the event (positive if
        marker > threshold); ``">"``: lower values do. ``"auto"`` chooses as
        pROC: ``"<"`` if the median marker of controls is <= that of cases.

    Returns
    -------
    pandas.DataFrame
        ``threshold`` (-Inf, the midpoints between consecutive distinct
        values, +Inf), ``sensitivity``, ``specificity``, ordered from
        sensitivity 1 to sensitivity 0 as ``coords(r, "all")``; ``attrs``
        hold ``direction`` and ``auc``.

    References
    ----------
    Robin X, et al. pROC: an open-source package for R and S+ to analyze and
    compare ROC curves. BMC Bioinformatics 2011;12:77.
    """
    m, y = _check_marker_outcome(marker, outcome)
    direction = _check_direction(direction)
    if direction == "auto":
        direction = _auto_direction(m, y)
    thr = _thresholds(m)
    if direction == ">":
        thr = thr[::-1]
    tp, tn, ncase, nctrl = _counts(m, y, thr, direction)
    out = pd.DataFrame({"threshold": thr, "sensitivity": tp / ncase, "specificity": tn / nctrl})
    out.attrs["direction"] = direction
    out.attrs["auc"] = _auc(m, y, direction)
    return out


@dataclass(frozen=True)
class CutResult:
    """An optimal cut point.

    Attributes
    ----------
    threshold : float
        The cut as pROC reports it: a midpoint between two consecutive
        distinct marker values.
    threshold_observed : float
        The same split expressed on observed values: for direction ``"<"``
        the smallest observed value above the midpoint (high group =
        ``marker >= threshold_observed``, the usual clinical rule); for ``">"`` the
        largest observed value below it (event group = ``marker <= threshold_observed``).
    sensitivity, specificity, youden : float
        At the cut; ``youden = sensitivity + specificity - 1``.
    auc : float
        Area under the ROC curve (time-dependent: cumulative/dynamic IPCW AUC).
    direction : str
        ``"<"`` or ``">"``.
    tied_thresholds : tuple of float
        All midpoints that reach the same maximal Youden index (pROC returns
        them all); ``threshold`` is the first, i.e. the one with the highest
        sensitivity.
    """

    threshold: float
    threshold_observed: float
    sensitivity: float
    specificity: float
    youden: float
    auc: float
    direction: str
    tied_thresholds: tuple[float, ...]


def _best(m, y, direction, w_case=None, auc=None) -> CutResult:
    thr = _thresholds(m)
    if direction == ">":
        thr = thr[::-1]
    tp, tn, ncase, nctrl = _counts(m, y, thr, direction, w_case)
    if w_case is None:
        # exact integer comparison so that mathematically equal Youden indices tie exactly
        crit = tp * nctrl + tn * ncase
        best = np.flatnonzero(crit == crit.max())
    else:
        crit = tp / ncase + tn / nctrl
        best = np.flatnonzero(crit >= crit.max() - 1e-12)
    i = int(best[0])
    t = float(thr[i])
    if direction == "<":
        above = m[m > t]
        obs = float(above.min()) if above.size else float("inf")
    else:
        below = m[m < t]
        obs = float(below.max()) if below.size else float("-inf")
    sens, spec = float(tp[i] / ncase), float(tn[i] / nctrl)
    return CutResult(threshold=t, threshold_observed=obs, sensitivity=sens, specificity=spec,
                     youden=sens + spec - 1.0,
                     auc=float(_auc(m, y, direction, w_case) if auc is None else auc),
                     direction=direction, tied_thresholds=tuple(float(v) for v in thr[best]))


def youden_cut(marker, outcome, direction: str = "auto") -> CutResult:
    """The cut point maximising Youden's index (sensitivity + specificity - 1).

    Equal to ``pROC::coords(roc(outcome, marker), "best", best.method = "youden")``.

    Parameters
    ----------
    marker, outcome, direction
        As in :func:`roc_curve`.

    Returns
    -------
    CutResult
        pROC's midpoint ``threshold`` and the equivalent observed value
        ``threshold_observed`` (see :class:`CutResult`).

    Raises
    ------
    ValueError
        For empty or unequal-length data, missing values, a non-binary outcome,
        an outcome with one class, or an unknown direction.

    References
    ----------
    Youden WJ. Index for rating diagnostic tests. Cancer 1950;3:32-35.
    Robin X, et al. pROC. BMC Bioinformatics 2011;12:77.
    """
    m, y = _check_marker_outcome(marker, outcome)
    direction = _check_direction(direction)
    if direction == "auto":
        direction = _auto_direction(m, y)
    return _best(m, y, direction)


# ----------------------------------------------------------------------------- time-dependent
def time_dependent_youden_cut(marker, time, event, horizon: float,
                              direction: str = "<") -> CutResult:
    """Youden-optimal cut for the event by a time horizon, with censoring handled by IPCW.

    Cumulative/dynamic definition (Heagerty et al. 2000): at horizon ``tau``
    the cases are the patients with an event at or before ``tau``, the
    controls those still event-free after ``tau``. Patients censored before
    ``tau`` are neither; to correct for them each case ``i`` is weighted by
    ``1 / G(T_i-)`` and each control by ``1 / G(tau)``, where ``G`` is the
    Kaplan-Meier estimate of the censoring distribution (Uno et al. 2007;
    Blanche et al. 2013). Then sensitivity(c) = weighted share of cases with
    marker > c, specificity(c) = share of controls with marker <= c
    (direction ``"<"``), and the cut maximises their sum. Thresholds are the
    midpoints of consecutive distinct marker values, as in :func:`youden_cut`.

    Parameters
    ----------
    marker : array-like of float
    time : array-like of float
        Follow-up times (>= 0).
    event : array-like of {0, 1}
    horizon : float
        The time horizon ``tau`` (e.g. 24 months); must leave at least one
        case and one control.
    direction : {"<", ">"}, default "<"
        ``"<"`` if higher marker values mean higher risk.

    Returns
    -------
    CutResult
        ``auc`` is the IPCW cumulative/dynamic AUC at ``horizon`` (as
        ``riskRegression::Score(..., metrics = "auc")``).

    Raises
    ------
    ValueError
        For invalid data or no cases/controls at the horizon (e.g. beyond follow-up).

    References
    ----------
    Heagerty PJ, Lumley T, Pepe MS. Time-dependent ROC curves for censored
    survival data and a diagnostic marker. Biometrics 2000;56:337-344.
    Uno H, Cai T, Tian L, Wei LJ. Evaluating prediction rules for t-year
    survivors with censored regression models. J Am Stat Assoc 2007;102:527-537.
    Blanche P, Dartigues JF, Jacqmin-Gadda H. Estimating and comparing
    time-dependent areas under receiver operating characteristic curves for
    censored event times with competing risks. Stat Med 2013;32:5381-5397.
    """
    t, e = check_time_event(time, event, require_events=False)
    m = check_marker(marker, t.size, "marker")
    if direction not in ("<", ">"):
        raise ValueError(f"direction must be '<' (higher marker = event) or '>', got {direction!r}")
    tau = check_horizon(horizon)
    # the one IPCW case/control split (dmnpc.stats.discrimination): weight 1/G(T_i-) for cases
    case, ctrl, w_all = ipcw_cases_controls(t, e, tau)
    keep = case | ctrl
    w_case = w_all[case]
    # the control weight 1/G(tau) is common to all controls and cancels in the specificity
    y = case[keep].astype(float)
    return _best(m[keep], y, direction, w_case=w_case)


# ----------------------------------------------------------------------------- bootstrap
def bootstrap_cut_distribution(marker, outcome, B: int = 1000, seed: int = 20240219,
                               direction: str = "auto") -> pd.DataFrame:
    """Youden-optimal cut points in bootstrap samples: how unstable the data-driven cut is.

    Cases and controls are resampled separately (a stratified bootstrap, as
    pROC's ``ci.coords``), so every sample keeps the observed numbers of
    events and non-events and has a defined cut. With ``direction = "auto"``
    the direction is fixed once from the full data.

    Parameters
    ----------
    marker, outcome
        As in :func:`roc_curve`.
    B : int, default 1000
        Number of bootstrap samples.
    seed : int
        Seed of :func:`numpy.random.default_rng` (results are reproducible).
    direction : {"auto", "<", ">"}

    Returns
    -------
    pandas.DataFrame
        One row per sample: ``replicate``, ``threshold`` (midpoint),
        ``threshold_observed``, ``sensitivity``, ``specificity``, ``youden``,
        ``auc``; ``attrs`` holds the full-data cut (``"original"``).

    References
    ----------
    Altman DG, Lausen B, Sauerbrei W, Schumacher M. Dangers of using
    "optimal" cutpoints in the evaluation of prognostic factors. J Natl
    Cancer Inst 1994;86:829-835.
    Royston P, Altman DG, Sauerbrei W. Dichotomizing continuous predictors in
    multiple regression: a bad idea. Stat Med 2006;25:127-141.
    """
    m, y = _check_marker_outcome(marker, outcome)
    direction = _check_direction(direction)
    if int(B) != B or B < 1:
        raise ValueError(f"B must be a positive whole number of bootstrap samples, got {B}")
    if direction == "auto":
        direction = _auto_direction(m, y)
    rng = np.random.default_rng(seed)
    cases, ctrls = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    rows = []
    for b in range(int(B)):
        idx = np.r_[rng.choice(cases, cases.size, replace=True),
                    rng.choice(ctrls, ctrls.size, replace=True)]
        r = _best(m[idx], y[idx], direction)
        rows.append((b + 1, r.threshold, r.threshold_observed, r.sensitivity, r.specificity,
                     r.youden, r.auc))
    out = pd.DataFrame(rows, columns=["replicate", "threshold", "threshold_observed", "sensitivity",
                                      "specificity", "youden", "auc"])
    out.attrs["original"] = _best(m, y, direction)
    return out
