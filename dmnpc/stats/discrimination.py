"""Discrimination of a survival model: Harrell's and Uno's C, time-dependent AUC.

* :func:`harrell_c` equals ``survival::concordance(Surv(time, status) ~ risk,
  reverse = TRUE)`` (survival 3.5), including its infinitesimal-jackknife
  variance, and its handling of ties.
* :func:`uno_c` equals the same call with ``timewt = "n/G2", ymax = tau``.
* :func:`time_dependent_auc` equals ``riskRegression::Score(..., metrics = "auc",
  cens.model = "km")``: cumulative-case / dynamic-control AUC with inverse
  probability of censoring weights (Uno et al. 2007, Blanche et al. 2013).

Conventions (survival's): a pair is *comparable* when the patient with the
shorter follow-up had the event. A patient censored at exactly the time of
another's event counts as still at risk (comparable); two events at the same
time are "tied on time" and are not used. A comparable pair is concordant when
the patient who failed first has the higher risk score; pairs tied on the score
count one half.

Why not lifelines' or scikit-survival's C-index: neither reproduces survival's
tie rules (see :func:`uno_c`: scikit-survival differs by 7e-5 on gbsg) nor gives
the infinitesimal-jackknife variance, and riskRegression's IPCW AUC has no Python
counterpart. The censoring weights come from :func:`dmnpc.stats.km.censoring_km`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dmnpc.stats._validate import check_horizon, check_marker, check_time_event, z_value
from dmnpc.stats.km import censoring_km, censoring_survival

__all__ = [
    "ConcordanceResult",
    "harrell_c",
    "uno_c",
    "time_dependent_auc",
    "ipcw_cases_controls",
    "td_roc_curve",
]

_Z975 = z_value(0.95)


@dataclass(frozen=True)
class ConcordanceResult:
    """Concordance index with its standard error and pair counts.

    Attributes
    ----------
    c : float
        Concordance (probability that, of two comparable patients, the one
        failing first has the higher risk; ties in risk count 1/2).
    se, var : float
        Infinitesimal-jackknife standard error and variance of ``c`` (the
        ``var`` that ``survival::concordance`` reports).
    lower, upper : float
        95% Wald interval ``c +/- 1.96 se``. R prints only ``C`` and ``se(C)``;
        this interval is the one usually reported beside it.
    concordant, discordant, tied_risk, tied_time, tied_both : float
        Pair counts as ``survival``'s ``count`` (weighted when ``timewt`` is
        not ``"n"``): tied_risk = ``tied.x``, tied_time = ``tied.y``,
        tied_both = ``tied.xy``.
    n : int
        Number of patients.
    timewt : str
        ``"n"`` (Harrell) or ``"n/G2"`` (Uno).
    tau : float or None
        Truncation time (events after ``tau`` are not used).
    """

    c: float
    se: float
    var: float
    lower: float
    upper: float
    concordant: float
    discordant: float
    tied_risk: float
    tied_time: float
    tied_both: float
    n: int
    timewt: str
    tau: float | None

    @property
    def somers_d(self) -> float:
        """Somers' Dxy = 2 (C - 1/2)."""
        return 2.0 * (self.c - 0.5)


def _comparable_pairs(t: np.ndarray, e: np.ndarray, tau: float | None):
    """Index arrays (i, j) of comparable pairs (i had the event first) and tied-time pairs."""
    n = t.size
    dead = np.flatnonzero(e == 1)
    if tau is not None:
        dead = dead[t[dead] <= tau]
    I_list, J_list, Ti_list, Tj_list = [], [], [], []
    block = max(1, 4_000_000 // max(n, 1))
    for s in range(0, dead.size, block):
        di = dead[s : s + block]
        ti = t[di][:, None]
        comp = (t[None, :] > ti) | ((t[None, :] == ti) & (e[None, :] == 0))
        tied = (t[None, :] == ti) & (e[None, :] == 1) & (np.arange(n)[None, :] > di[:, None])
        a, b = np.nonzero(comp)
        I_list.append(di[a])
        J_list.append(b)
        a, b = np.nonzero(tied)
        Ti_list.append(di[a])
        Tj_list.append(b)
    cat = lambda x: np.concatenate(x) if x else np.zeros(0, int)  # noqa: E731
    return cat(I_list), cat(J_list), cat(Ti_list), cat(Tj_list)


def _concordance(time, event, risk, timewt: str, tau: float | None) -> ConcordanceResult:
    t, e = check_time_event(time, event, require_events=True)
    r = check_marker(risk, t.size)
    n = t.size
    if tau is not None:
        tau = check_horizon(tau, name="truncation time tau")
        if not np.any((e == 1) & (t <= tau)):
            raise ValueError(f"There are no events up to tau = {tau:g}; the C-index is undefined there.")
    if e.sum() < 2 and timewt != "n":
        timewt_used = "n"  # survival switches to "n" with fewer than 2 events
    else:
        timewt_used = timewt
    I, J, TI, TJ = _comparable_pairs(t, e, tau)
    if I.size == 0:
        raise ValueError(
            "No pair of patients is comparable (nobody had an event before another patient's follow-up ended)."
        )
    if timewt_used == "n/G2":
        ct, G = censoring_km(t, e)
        # weight of an event time: 1 / G(t-)^2 (censoring at t happens after the event)
        wt_ev = 1.0 / censoring_survival(ct, G, t, left=True) ** 2
    else:
        wt_ev = np.ones(n)
    pw = wt_ev[I]
    diff = r[I] - r[J]
    conc_p = pw * (diff > 0)
    disc_p = pw * (diff < 0)
    tie_p = pw * (diff == 0)
    conc, disc, tie = conc_p.sum(), disc_p.sum(), tie_p.sum()
    tw = wt_ev[TI]
    tr = r[TI] == r[TJ]
    tied_y = float(np.sum(tw * ~tr))
    tied_xy = float(np.sum(tw * tr))
    npair = conc + disc + tie
    somer = (conc - disc) / npair
    # infinitesimal jackknife (survival::concordancefit): each patient's share of
    # the concordant, discordant and risk-tied pairs it belongs to
    infl = lambda x: np.bincount(I, weights=x, minlength=n) + np.bincount(J, weights=x, minlength=n)  # noqa: E731
    ic, idd, it = infl(conc_p), infl(disc_p), infl(tie_p)
    dfbeta = (ic - idd) / npair - (somer / npair) * (ic + idd + it)
    var = float(np.sum(dfbeta**2) / 4.0)
    c = float((somer + 1) / 2)
    se = float(np.sqrt(var))
    return ConcordanceResult(
        c=c,
        se=se,
        var=var,
        lower=c - _Z975 * se,
        upper=c + _Z975 * se,
        concordant=float(conc),
        discordant=float(disc),
        tied_risk=float(tie),
        tied_time=tied_y,
        tied_both=tied_xy,
        n=int(n),
        timewt=timewt,
        tau=tau,
    )


def harrell_c(time, event, risk) -> ConcordanceResult:
    """Harrell's concordance index with its infinitesimal-jackknife variance.

    Parameters
    ----------
    time : array-like
        Follow-up times (non-negative).
    event : array-like
        1 = event, 0 = censored.
    risk : array-like
        Risk score, higher = worse prognosis (e.g. a Cox linear predictor or
        nomogram total points).

    Returns
    -------
    ConcordanceResult
        Equal to ``survival::concordance(Surv(time, event) ~ risk, reverse =
        TRUE)`` (``timewt = "n"``): ``c`` = ``$concordance``, ``var`` =
        ``$var``, counts = ``$count``. The 95% interval is ``c +/- 1.96 se``.

    Notes
    -----
    Survival's ``timefix`` (merging times that differ only by rounding error)
    is not applied; times are compared exactly.

    References
    ----------
    Harrell FE, Lee KL, Mark DB. Multivariable prognostic models. Stat Med
    1996;15:361-387.
    Therneau TM, Atkinson EJ. Concordance. Vignette of the R package survival, 2023.
    """
    return _concordance(time, event, risk, "n", None)


def uno_c(time, event, risk, tau: float | None = None) -> ConcordanceResult:
    """Uno's IPCW concordance index truncated at ``tau``.

    Each comparable pair whose earlier event happens at ``t`` is weighted by
    ``1 / G(t-)^2``, ``G`` the Kaplan-Meier estimate of the censoring
    distribution (:func:`censoring_km`); events after ``tau`` are not used.

    Parameters
    ----------
    time, event, risk : array-like
        As in :func:`harrell_c`.
    tau : float, optional
        Truncation time; ``None`` uses all events.

    Returns
    -------
    ConcordanceResult
        Equal to ``survival::concordance(Surv(time, event) ~ risk, reverse =
        TRUE, timewt = "n/G2", ymax = tau)``, including the variance (which,
        like survival's, treats the weights as fixed). This differs from Uno's
        printed estimator in two details: ties in the risk score count one half
        (Uno counts them zero), and a patient censored exactly at an event time
        is comparable (Uno requires strictly longer follow-up). On gbsg
        (tau = 1825 days) it is 0.676597 as survival; scikit-survival's
        ``concordance_index_ipcw`` gives 0.676532, a 7e-5 difference from those
        conventions.

    References
    ----------
    Uno H, Cai T, Pencina MJ, D'Agostino RB, Wei LJ. On the C-statistics for
    evaluating overall adequacy of risk prediction procedures with censored
    survival data. Stat Med 2011;30:1105-1117.
    """
    return _concordance(time, event, risk, "n/G2", tau)


def ipcw_cases_controls(t: np.ndarray, e: np.ndarray, horizon: float):
    """Cumulative cases, dynamic controls and the cases' IPCW weights at ``horizon``.

    Cases had the event at or before ``horizon`` (weight ``1 / G(T_i-)``), controls
    are still under observation after it; patients censored before it are neither
    (weight 0). ``t``, ``e`` are checked arrays (:func:`dmnpc.stats._validate.check_time_event`).
    Shared by the time-dependent AUC and ROC here and :func:`dmnpc.stats.roc.time_dependent_youden_cut`.

    Returns
    -------
    cases, controls : ndarray of bool
    w_case : ndarray of float
        ``1 / G(T_i-)`` for cases, 0 otherwise.

    Raises
    ------
    ValueError
        If there is no case or no control at ``horizon``.
    """
    cases = (t <= horizon) & (e == 1)
    controls = t > horizon
    if not cases.any():
        raise ValueError(f"no patient had an event by the horizon {horizon:g}: "
                         "a time-dependent AUC or ROC needs cases")
    if not controls.any():
        raise ValueError(f"no patient is still under observation after the horizon {horizon:g}: "
                         "a time-dependent AUC or ROC needs controls")
    ct, G = censoring_km(t, e)
    w_case = np.where(cases, 1.0 / censoring_survival(ct, G, t, left=True), 0.0)
    return cases, controls, w_case


def time_dependent_auc(time, event, risk, times) -> pd.DataFrame:
    """Cumulative/dynamic time-dependent AUC with Kaplan-Meier IPCW weights.

    At horizon ``t`` the cases are patients with an event at or before ``t``
    (weight ``1/G(T_i-)``), the controls patients still event-free after ``t``
    (weight ``1/G(t)``, a constant); patients censored before ``t`` get weight
    zero. ``AUC(t) = P(risk_case > risk_control)`` with ties counting one half.

    Parameters
    ----------
    time, event, risk : array-like
        As in :func:`harrell_c` (higher risk = worse).
    times : float or sequence of float
        Horizons (same unit as ``time``).

    Returns
    -------
    DataFrame
        Columns ``time``, ``auc``, ``n_cases``, ``n_controls``, ``n_censored``
        (censored at or before the horizon). Equals ``riskRegression::Score(...,
        metrics = "auc", cens.model = "km")$AUC$score``.

    Notes
    -----
    Ties at the horizon: an event at exactly ``t`` is a case; a patient censored
    at exactly ``t`` is neither case nor control. A case's weight uses the
    censoring survival just *before* its event time, ``G(T_i-)``, so a censoring
    at the same time does not inflate it (checked against riskRegression on a
    tiny data set with both kinds of tie, tests/stats/test_discrimination.py).

    References
    ----------
    Uno H, Cai T, Tian L, Wei LJ. Evaluating prediction rules for t-year
    survivors with censored regression models. J Am Stat Assoc 2007;102:527-537.
    Blanche P, Dartigues JF, Jacqmin-Gadda H. Estimating and comparing
    time-dependent areas under receiver operating characteristic curves for
    censored event times with competing risks. Stat Med 2013;32:5381-5397.
    """
    t, e = check_time_event(time, event, require_events=True)
    r = check_marker(risk, t.size)
    rows = []
    for h in np.atleast_1d(np.asarray(times, dtype=float)):
        h = check_horizon(h, name="AUC horizon")
        cases, controls, wc = ipcw_cases_controls(t, e, h)
        rc = np.sort(r[controls])
        rcase = r[cases]
        below = np.searchsorted(rc, rcase, side="left")
        equal = np.searchsorted(rc, rcase, side="right") - below
        auc = np.sum(wc[cases] * (below + 0.5 * equal)) / (wc[cases].sum() * rc.size)
        rows.append(
            {
                "time": float(h),
                "auc": float(auc),
                "n_cases": int(cases.sum()),
                "n_controls": int(controls.sum()),
                "n_censored": int(np.sum((t <= h) & (e == 0))),  # weight 0
            }
        )
    return pd.DataFrame(rows)


def td_roc_curve(time, event, risk, horizon: float) -> pd.DataFrame:
    """Points of the time-dependent ROC curve at one horizon (IPCW, as :func:`time_dependent_auc`).

    Returns
    -------
    DataFrame
        Columns ``threshold`` (patients with risk >= threshold are called
        positive), ``fpr``, ``tpr``; starts at (0, 0) with threshold +inf and
        ends at (1, 1). The trapezoidal area under these points equals
        :func:`time_dependent_auc`.

    References
    ----------
    Blanche P, Dartigues JF, Jacqmin-Gadda H. Stat Med 2013;32:5381-5397.
    """
    t, e = check_time_event(time, event, require_events=True)
    r = check_marker(risk, t.size)
    h = check_horizon(horizon, name="ROC horizon")
    cases, controls, wc = ipcw_cases_controls(t, e, h)
    thr = np.unique(r)[::-1]
    tpr = np.array([wc[cases & (r >= c)].sum() for c in thr]) / wc[cases].sum()
    fpr = np.array([np.sum(controls & (r >= c)) for c in thr]) / controls.sum()
    return pd.DataFrame(
        {
            "threshold": np.concatenate([[np.inf], thr]),
            "fpr": np.concatenate([[0.0], fpr]),
            "tpr": np.concatenate([[0.0], tpr]),
        }
    )
