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


class _RankPrefix:
    """Weighted counts ``sum(w[p] for p < s if v[p] < x)`` for many ``(s, x)`` at once.

    A wavelet matrix over the sequence ``v`` of integer ranks in ``[0, R)``: one
    stable partition by each bit of the rank (most significant first) with the
    prefix counts and weight sums of the zero bits. A query walks the bits of
    ``x`` and, where that bit is 1, adds the weight of the current range's
    zero-bit part (its ranks agree with ``x`` above the bit and are below it).
    ``O(m log R)`` to build, ``O(q log R)`` for ``q`` queries, all in array
    operations, ``O(m log R)`` memory.
    """

    def __init__(self, v: np.ndarray, w: np.ndarray | None, R: int):
        m = v.size
        self.m = m
        self.L = max(1, int(R - 1).bit_length())
        self.top = 1 << self.L
        self.unit = w is None  # unit weights: the weight sums are the zero counts
        self.cw = np.arange(m + 1, dtype=float) if w is None else np.r_[0.0, np.cumsum(w)]
        self.levels = []
        idx = np.int32 if m < 2**31 - 1 else np.int64
        pos = np.arange(m + 1, dtype=idx)
        cur, curw = v, w
        for b in range(self.L - 1, -1, -1):
            zero = ((cur >> b) & 1) == 0
            Z = np.zeros(m + 1, idx)
            np.cumsum(zero, out=Z[1:])
            nz = Z[-1]
            # next position of a range end when the query bit is 0 (first half) or 1 (second half)
            step = np.concatenate([Z, nz + pos - Z])
            W0 = None if w is None else np.r_[0.0, np.cumsum(np.where(zero, curw, 0.0))]
            self.levels.append((b, step, W0))
            order = np.concatenate([np.flatnonzero(zero), np.flatnonzero(~zero)])
            cur = cur[order]
            if w is not None:
                curw = curw[order]

    def below(self, s: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Weight of the positions ``p < s`` whose rank is below ``x`` (``0 <= x <= R``)."""
        q = s.size
        P = np.concatenate([np.zeros(q, s.dtype), s]).astype(self.levels[0][1].dtype)  # range [lo, hi)
        x = np.asarray(x, np.int64)
        acc = np.zeros(q)
        for b, step, W0 in self.levels:
            one = ((x >> b) & 1).astype(P.dtype)
            one2 = np.concatenate([one, one])
            nP = step[P + one2 * (self.m + 1)]
            if self.unit:  # zeros in the range = its length minus the length of its ones part
                acc += one * ((P[q:] - P[:q]) - (nP[q:] - nP[:q]))
            else:
                Wp = W0[P]
                acc += np.where(one == 1, Wp[q:] - Wp[:q], 0.0)
            P = nP
        return np.where(x >= self.top, self.cw[s], acc)


def _pair_sums(t: np.ndarray, e: np.ndarray, dr: np.ndarray, wt_ev: np.ndarray | None, tau: float | None):
    """Per-patient weighted concordant, discordant and risk-tied pair totals, without forming pairs.

    Patients are put in decreasing order of follow-up; at a tied time the
    censored come before the deaths are compared and the deaths after (entry
    key ``a``), so the patients comparable with death ``i`` are those with
    ``a_j < b_i`` -- a prefix of that order (as in
    :class:`dmnpc.stats.validation._Pairs`). Counting, in each death's prefix,
    the patients with a lower, equal or higher risk rank (and, in reverse, the
    weighted deaths whose prefix holds a patient) is a prefix-rank query
    (:class:`_RankPrefix`): ``O(n log n)`` time and memory instead of the
    ``O(n^2)`` pairs.

    Returns
    -------
    conc, disc, tie : ndarray
        Each patient's total pair weight (``wt_ev`` of the pair's death) over
        the comparable pairs it belongs to, as the death or as the patient at risk.
    n_pairs : int
        Number of comparable pairs (unweighted).
    concordant, discordant, tied_risk : float
        Total pair weights (each pair counted once).
    """
    n = t.size
    o = np.argsort(-t, kind="stable")  # decreasing follow-up
    ts = t[o]
    blk = np.empty(n, np.int64)  # rank of the distinct time, 0 = longest follow-up
    blk[o] = np.r_[0, np.cumsum(ts[1:] != ts[:-1])]
    a = 2 * blk + np.where(e == 1, 2, 0)
    dead = np.flatnonzero(e == 1)
    if tau is not None:
        dead = dead[t[dead] <= tau]
    b = 2 * blk[dead] + 1
    R = int(dr.max()) + 1
    unit = wt_ev is None
    # the death as the earlier member: patients in its prefix with a lower / equal rank
    entry = o[np.argsort(a[o], kind="stable")]  # nearly sorted already
    a_sorted = a[entry]
    K = np.searchsorted(a_sorted, b, side="left")
    seq = _RankPrefix(dr[entry], None, R)
    xd = dr[dead]
    low = seq.below(np.r_[K, K], np.r_[xd, xd + 1])
    lt, le = low[: dead.size], low[dead.size :]
    wd = np.ones(dead.size) if unit else wt_ev[dead]
    conc = np.zeros(n)
    disc = np.zeros(n)
    tie = np.zeros(n)
    conc[dead] = wd * lt
    tie[dead] = wd * (le - lt)
    disc[dead] = wd * (K - le)
    totals = float(np.sum(conc[dead])), float(np.sum(disc[dead])), float(np.sum(tie[dead]))
    # the patient at risk as the later member: deaths whose prefix holds it (b_i > a_j)
    order = np.argsort(-b, kind="stable")
    b_desc = b[order]
    S = np.searchsorted(-b_desc, -a, side="left")  # deaths with b_i > a_j
    dseq = _RankPrefix(xd[order], None if unit else wd[order], R)
    low = dseq.below(np.r_[S, S], np.r_[dr, dr + 1])
    lt, le = low[:n], low[n:]
    conc += dseq.cw[S] - le  # the death has the higher risk
    tie += le - lt
    disc += lt
    return conc, disc, tie, int(K.sum()), *totals


def _tied_time(t, e, dr, wt_ev, tau):
    """Weighted pairs of deaths tied on time: with different (tied.y) and equal (tied.xy) risk."""
    d = np.flatnonzero(e == 1)
    if tau is not None:
        d = d[t[d] <= tau]
    w = np.ones(d.size) if wt_ev is None else wt_ev[d]  # one weight per time
    _, g, c_t = np.unique(t[d], return_inverse=True, return_counts=True)
    _, gr, c_tr = np.unique(g.ravel() * (int(dr.max()) + 1) + dr[d], return_inverse=True, return_counts=True)
    w_t = np.zeros(c_t.size)
    w_t[g] = w
    w_tr = np.zeros(c_tr.size)
    w_tr[gr] = w
    all_pairs = float(np.sum(w_t * (c_t * (c_t - 1) / 2)))
    tied_xy = float(np.sum(w_tr * (c_tr * (c_tr - 1) / 2)))
    return all_pairs - tied_xy, tied_xy


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
    if timewt_used == "n/G2":
        ct, G = censoring_km(t, e)
        # weight of an event time: 1 / G(t-)^2 (censoring at t happens after the event)
        wt_ev = 1.0 / censoring_survival(ct, G, t, left=True) ** 2
    else:
        wt_ev = None  # unit weights: every count is an exact integer sum
    dr = np.unique(r, return_inverse=True)[1].ravel()  # dense ranks of the risk score
    ic, idd, it, n_pairs, conc, disc, tie = _pair_sums(t, e, dr, wt_ev, tau)
    if n_pairs == 0:
        raise ValueError(
            "No pair of patients is comparable (nobody had an event before another patient's follow-up ended)."
        )
    tied_y, tied_xy = _tied_time(t, e, dr, wt_ev, tau)
    npair = conc + disc + tie
    somer = (conc - disc) / npair
    # infinitesimal jackknife (survival::concordancefit): each patient's share of
    # the concordant, discordant and risk-tied pairs it belongs to
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
