"""Kaplan-Meier estimation, survival at fixed times, medians, log-rank test, censoring distribution
and follow-up.

Why not lifelines or statsmodels, which have Kaplan-Meier and log-rank: R's
conventions (log-scale confidence limits, ``survfit``'s median rule, deaths
before censorings in the censoring distribution) and speed, because the
calibration bootstrap calls :func:`km_at` thousands of times: on the 90-patient
cohort :func:`km_at` takes about 30 microseconds, lifelines'
``KaplanMeierFitter().fit`` about 3.8 ms (130 times longer, measured with
``timeit``, lifelines 0.30.3). ``tests/stats/test_km.py`` checks lifelines'
survival and Greenwood variance agree with :func:`kaplan_meier` to 1e-12.

One private vectorised core (:func:`_km_core`: distinct times, numbers at
risk and of events, survival, Greenwood cumulative sum) serves every
Kaplan-Meier here. Each function reproduces R's ``survival`` package (version
3.5.3) to numerical precision; ``tests/reference/ref_survival.R`` holds the R
code and ``tests/stats/test_km.py`` the comparison:

* :func:`kaplan_meier` is ``survfit(Surv(time, event) ~ 1, conf.type = "log")``;
* :func:`survival_at` is ``summary(fit, times = ...)``;
* :func:`km_at` is ``rms::groupkm``'s reading of the curve at one horizon (the
  calibration bootstrap's hot path), :func:`km_left` the curve just before
  each patient's time (``cox.zph``'s ``"km"`` scale);
* :func:`median_survival` is the median and its limits printed by ``print(fit)``;
* :func:`logrank_test` is ``survdiff(Surv(time, event) ~ group)``;
* :func:`censoring_km` and :func:`censoring_survival` are the censoring
  distribution G used by every IPCW weight (Uno's C, time-dependent AUC and ROC);
* :func:`median_followup` gives both the median observed time (what the paper
  reports) and the reverse Kaplan-Meier median (Schemper & Smith 1996).

Times may be in any unit (the cohort uses months); events are 1 (event) or
0 (censored). Drawing lives in :func:`dmnpc.book.plots.plot_km`, apart from the computations.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dmnpc.stats._validate import check_group, check_time_event, check_times, z_value

__all__ = [
    "KMResult",
    "LogRankResult",
    "kaplan_meier",
    "km_at",
    "km_left",
    "censoring_km",
    "censoring_survival",
    "survival_at",
    "median_survival",
    "number_at_risk",
    "logrank_test",
    "median_followup",
]

# survival's print.survfit treats a survival within sqrt(machine epsilon) of 0.5 as 0.5.
_MEDIAN_TOL = float(np.finfo(float).eps) ** 0.5


# ----------------------------------------------------------------------------- helpers
def _group_levels(g: np.ndarray) -> list:
    """Distinct group labels, sorted (as R orders factor levels); first-seen order if unsortable."""
    u = list(pd.unique(pd.Series(g)))
    try:
        return sorted(u)
    except TypeError:
        return u


# ----------------------------------------------------------------------------- Kaplan-Meier
def _km_core(t: np.ndarray, e: np.ndarray):
    """The one Kaplan-Meier computation (checked arrays in, no checks here).

    Returns ``(times, inverse, n_risk, n_event, n_total, surv, var_log)``: the
    distinct observed times, each patient's index into them, the numbers at
    risk (time >= u), of events and of patients (events + censorings) at each
    time, the survival just after it, and the Greenwood cumulative sum
    ``sum d / (n (n - d))`` (the variance of log S; ``inf`` once S = 0).
    """
    ut, inv = np.unique(t, return_inverse=True)
    n_event = np.bincount(inv, weights=e, minlength=ut.size)
    n_total = np.bincount(inv, minlength=ut.size).astype(float)
    # at risk at u = patients whose time is >= u
    n_risk = np.cumsum(n_total[::-1])[::-1]
    surv = np.cumprod(1.0 - n_event / n_risk)
    # Greenwood increment d / (n (n - d)): 0 without events, inf when everyone at risk dies
    with np.errstate(divide="ignore", invalid="ignore"):
        inc = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)
    return ut, inv, n_risk, n_event, n_total, surv, np.cumsum(inc)


@dataclass(frozen=True)
class KMResult:
    """A Kaplan-Meier fit (one group).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per distinct observed time (event or censoring), as R's
        ``survfit``: ``time``, ``n_risk``, ``n_event``, ``n_censor``, ``surv``,
        ``std_err`` (Greenwood standard error of the survival probability,
        on the survival scale, as ``summary.survfit``'s ``std.err``),
        ``std_err_log`` (Greenwood standard error of the cumulative hazard,
        i.e. of log S, as ``survfit``'s ``std.err`` component), ``lower``,
        ``upper`` (pointwise log-transformed confidence limits,
        ``conf.type = "log"``; missing where the survival is 0).
    n : int
        Number of patients.
    n_events : int
        Number of events.
    conf_level : float
        Confidence level of ``lower``/``upper``.
    """

    table: pd.DataFrame
    n: int
    n_events: int
    conf_level: float


def kaplan_meier(time, event, conf_level: float = 0.95) -> KMResult:
    """Kaplan-Meier estimate with Greenwood standard errors and log-scale confidence limits.

    Parameters
    ----------
    time : array-like of float
        Follow-up time of each patient (>= 0).
    event : array-like of {0, 1}
        1 if the event (e.g. death) was observed at ``time``, 0 if censored.
    conf_level : float, default 0.95
        Level of the pointwise confidence interval.

    Returns
    -------
    KMResult
        See :class:`KMResult`. The confidence limits are
        ``S * exp(-/+ z * se_log)`` with the upper one truncated at 1, exactly
        as ``survfit(..., conf.type = "log")`` (R's default).

    Raises
    ------
    ValueError
        For empty data, unequal lengths, missing, infinite or negative times, or
        event values other than 0/1 (:func:`dmnpc.stats._validate.check_time_event`).

    References
    ----------
    Kaplan EL, Meier P. Nonparametric estimation from incomplete observations.
    J Am Stat Assoc 1958;53:457-481.
    Greenwood M. The natural duration of cancer. Reports on Public Health and
    Medical Subjects 1926;33:1-26.
    Therneau TM. A Package for Survival Analysis in R (``survfit``), R package
    survival 3.5.
    """
    t, e = check_time_event(time, event, require_events=False)
    z = z_value(conf_level)
    ut, _, n_risk, n_event, n_total, surv, var_log = _km_core(t, e)
    n_censor = n_total - n_event
    se_log = np.sqrt(var_log)
    with np.errstate(invalid="ignore", over="ignore"):
        pos = surv > 0
        lower = np.where(pos, surv * np.exp(-z * se_log), np.nan)
        upper = np.where(pos, np.minimum(surv * np.exp(z * se_log), 1.0), np.nan)
        std_err = np.where(pos, surv * se_log, np.nan)
    table = pd.DataFrame({
        "time": ut, "n_risk": n_risk.astype(int), "n_event": n_event.astype(int),
        "n_censor": n_censor.astype(int), "surv": surv, "std_err": std_err,
        "std_err_log": se_log, "lower": lower, "upper": upper,
    })
    return KMResult(table=table, n=int(t.size), n_events=int(e.sum()), conf_level=float(conf_level))


def km_at(time, event, horizon: float) -> tuple[float, float]:
    """Kaplan-Meier survival at ``horizon`` and the Greenwood standard error of log S.

    As ``rms::groupkm``: the estimate at the last event/censoring time not after
    ``horizon + 1e-6``; ``(1, 0)`` before the first time; ``nan`` when the
    horizon lies beyond the last follow-up while survival is still positive
    (once S = 0 it stays defined, with an infinite standard error). This is the
    calibration bootstrap's hot path: one :func:`_km_core` call, no table.

    Parameters
    ----------
    time, event : array-like
        Follow-up times and 0/1 event indicators (validated as in :func:`kaplan_meier`).
    horizon : float
        Time at which to read the curve.

    Returns
    -------
    tuple of float
        ``(surv, se_log)``.

    References
    ----------
    Harrell FE. ``groupkm``, R package rms.
    """
    t, e = check_time_event(time, event, require_events=False)
    ut, _, _, _, _, surv, var_log = _km_core(t, e)
    k = np.searchsorted(ut, horizon + 1e-6, side="right")
    if k == 0:
        return 1.0, 0.0
    if horizon > ut[-1] + 1e-6 and surv[-1] > 0:
        return float("nan"), float("nan")
    return float(surv[k - 1]), float(np.sqrt(var_log[k - 1]))


def km_left(time, event) -> np.ndarray:
    """Kaplan-Meier survival just before each patient's own time, S(t-), one value per patient.

    ``1 - km_left`` is the ``"km"`` time scale of ``survival::cox.zph``.
    """
    t, e = check_time_event(time, event, require_events=False)
    _, inv, _, _, _, surv, _ = _km_core(t, e)
    return np.r_[1.0, surv[:-1]][inv]


# ----------------------------------------------------------------------------- censoring distribution
def censoring_km(time, event) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate of the censoring distribution ``G``.

    Censorings are the "events"; at a time with both deaths and censorings the
    deaths are taken to happen first (the censored patients' risk set excludes
    patients who died at that time), as ``survival`` and ``prodlim`` do.

    Returns
    -------
    times, G : ndarray
        Distinct censoring times and ``G(t)`` just after each of them
        (right-continuous step function, ``G = 1`` before the first);
        read it with :func:`censoring_survival`.
    """
    t, e = check_time_event(time, event, require_events=False)
    ut, _, n_risk, n_event, n_total, _, _ = _km_core(t, e)
    n_cens = n_total - n_event
    # at risk for censoring at u: follow-up > u, or censored at u (deaths at u come first)
    at_risk = n_risk - n_event
    is_c = n_cens > 0
    factor = 1.0 - np.divide(n_cens, at_risk, out=np.zeros_like(n_cens), where=is_c)
    return ut[is_c], np.cumprod(factor)[is_c]


def censoring_survival(ctimes: np.ndarray, G: np.ndarray, at, left: bool) -> np.ndarray:
    """Evaluate the censoring survival ``G`` of :func:`censoring_km` at ``at``.

    ``left=True`` gives the left limit ``G(at-)`` (the weight of an event at
    ``at``, a censoring at the same time coming after it), else ``G(at)``.
    """
    k = np.searchsorted(ctimes, at, side="left" if left else "right")
    return np.concatenate([[1.0], G])[k]


def survival_at(km: KMResult, times: Sequence[float] | float, extend: bool = False) -> pd.DataFrame:
    """Survival probability and confidence limits at chosen times (a step function).

    Parameters
    ----------
    km : KMResult
        From :func:`kaplan_meier`.
    times : float or sequence of float
        Times at which to read the curve (e.g. 12 and 24 months).
    extend : bool, default False
        Times after the last observed time are undefined: with ``False`` they
        get missing values (R's ``summary(fit, times)`` drops them); with
        ``True`` the last value is carried forward (``extend = TRUE``).

    Returns
    -------
    pandas.DataFrame
        Columns ``time``, ``n_risk`` (patients still under observation at
        ``time``), ``surv``, ``std_err`` (survival scale), ``lower``, ``upper``;
        before the first observed time the survival is 1 with zero standard
        error, as in R.

    Raises
    ------
    ValueError
        If a time is negative or missing.

    References
    ----------
    Therneau TM. ``summary.survfit``, R package survival 3.5.
    """
    ts = check_times(times)
    tab = km.table
    tt = tab["time"].to_numpy()
    idx = np.searchsorted(tt, ts, side="right") - 1  # last observed time <= t
    first_ge = np.searchsorted(tt, ts, side="left")
    nr = tab["n_risk"].to_numpy()
    rows = []
    for t, i, j in zip(ts, idx, first_ge):
        n_risk = int(nr[j]) if j < len(tt) else 0
        if t > tt[-1] and not extend:
            rows.append((t, n_risk, np.nan, np.nan, np.nan, np.nan))
        elif i < 0:
            rows.append((t, n_risk, 1.0, 0.0, 1.0, 1.0))
        else:
            r = tab.iloc[i]
            rows.append((t, n_risk, r.surv, r.std_err, r.lower, r.upper))
    out = pd.DataFrame(rows, columns=["time", "n_risk", "surv", "std_err", "lower", "upper"])
    out["n_risk"] = out["n_risk"].astype(int)
    return out


def _minmin(y: np.ndarray, x: np.ndarray) -> float:
    """First time the curve ``y`` reaches 0.5 or below, with survival's flat-segment rule."""
    keep = ~np.isnan(y) & (y < 0.5 + _MEDIAN_TOL)
    if not keep.any():
        return float("nan")
    xk, yk = x[keep], y[keep]
    if abs(yk[0] - 0.5) < _MEDIAN_TOL and (yk < yk[0]).any():
        return float((xk[0] + xk[np.flatnonzero(yk < yk[0])[0]]) / 2.0)
    return float(xk[0])


def median_survival(km: KMResult) -> tuple[float, float, float]:
    """Median survival time and its confidence limits, as ``print(survfit)``.

    The median is the first time at which the Kaplan-Meier curve is at or
    below 0.5. If the curve is exactly 0.5 over a flat segment (up to a
    tolerance of sqrt(machine epsilon)), the median is the midpoint between
    the start of that segment and the next time the curve drops below 0.5.
    The confidence limits are found the same way on the lower and upper
    confidence curves (Brookmeyer & Crowley 1982), so a limit is missing
    (``nan``) when that curve never reaches 0.5.

    Parameters
    ----------
    km : KMResult
        From :func:`kaplan_meier`.

    Returns
    -------
    tuple of float
        ``(median, lower, upper)``; ``nan`` where not reached (e.g. every
        patient censored).

    References
    ----------
    Brookmeyer R, Crowley J. A confidence interval for the median survival
    time. Biometrics 1982;38:29-41.
    Therneau TM. ``print.survfit`` / ``survmean``, R package survival 3.5.
    """
    tab = km.table
    x = tab["time"].to_numpy()
    return (_minmin(tab["surv"].to_numpy(), x), _minmin(tab["lower"].to_numpy(float), x),
            _minmin(tab["upper"].to_numpy(float), x))


def number_at_risk(time, event, times: Sequence[float], group=None) -> pd.DataFrame:
    """Numbers of patients still at risk (time >= t) at chosen times.

    Parameters
    ----------
    time, event : array-like
        Follow-up times and 0/1 event indicators (validated as in :func:`kaplan_meier`).
    times : sequence of float
        Times for the columns (e.g. 0, 12, 24, 36 months).
    group : array-like, optional
        Group label per patient; one row per group (sorted), else one row ``"all"``.

    Returns
    -------
    pandas.DataFrame
        Integer counts, index = group, columns = ``times``.

    References
    ----------
    Pocock SJ, Clayton TC, Altman DG. Survival plots of time-to-event outcomes
    in clinical trials: good practice and pitfalls. Lancet 2002;359:1686-1689.
    """
    t, _ = check_time_event(time, event, require_events=False)
    ts = check_times(times)
    if group is None:
        rows = {"all": [int((t >= x).sum()) for x in ts]}
    else:
        g = check_group(group, t.size)
        rows = {lev: [int(((t >= x) & (g == lev)).sum()) for x in ts] for lev in _group_levels(g)}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=list(ts))
    out.index.name = "group"
    return out


# ----------------------------------------------------------------------------- log-rank
@dataclass(frozen=True)
class LogRankResult:
    """Log-rank test (``survdiff``, rho = 0).

    Attributes
    ----------
    chisq : float
        Chi-square statistic.
    df : int
        Degrees of freedom (groups with a positive expected count, minus 1).
    p : float
        Two-sided p value from the chi-square distribution.
    table : pandas.DataFrame
        Per group: ``group``, ``n``, ``observed``, ``expected``, ``o_minus_e``.
    """

    chisq: float
    df: int
    p: float
    table: pd.DataFrame


def logrank_test(time, event, group) -> LogRankResult:
    """Log-rank test comparing survival between groups, equal to R's ``survdiff``.

    At each distinct event time the observed and expected numbers of events
    per group (expected under equal hazards, hypergeometric) are summed; the
    statistic is ``(O - E)' V^- (O - E)`` with the hypergeometric variance,
    dropping the first group (and groups with zero expected events).

    Parameters
    ----------
    time, event : array-like
        Follow-up times and 0/1 event indicators.
    group : array-like
        Group label per patient (at least two groups).

    Returns
    -------
    LogRankResult

    Raises
    ------
    ValueError
        For invalid time/event data, fewer than two groups or no events.

    References
    ----------
    Mantel N. Evaluation of survival data and two new rank order statistics
    arising in its consideration. Cancer Chemother Rep 1966;50:163-170.
    Peto R, Peto J. Asymptotically efficient rank invariant test procedures.
    J R Stat Soc A 1972;135:185-207.
    """
    t, e = check_time_event(time, event, require_events=True)
    g = check_group(group, t.size)
    levels = _group_levels(g)
    if len(levels) < 2:
        raise ValueError("the log-rank test needs at least two groups; only one was found")
    k = len(levels)
    pos = {lev: i for i, lev in enumerate(levels)}
    gi = np.array([pos[v] for v in g], dtype=int)
    # one row per distinct event time u, one column per group
    ut, ev_idx = np.unique(t[e == 1], return_inverse=True)
    m = ut.size
    d_j = np.bincount(ev_idx * k + gi[e == 1], minlength=m * k).reshape(m, k).astype(float)
    # a patient is at risk at the event times <= its own time: count by the number of them
    last = np.searchsorted(ut, t, side="right")
    by_last = np.bincount(last * k + gi, minlength=(m + 1) * k).reshape(m + 1, k)
    n_j = np.cumsum(by_last[::-1], axis=0)[::-1][1:].astype(float)
    n, d = n_j.sum(axis=1), d_j.sum(axis=1)
    obs = d_j.sum(axis=0)
    exp_ = (d[:, None] * n_j / n[:, None]).sum(axis=0)
    p = n_j / n[:, None]
    cov = np.eye(k)[None] * p[:, None, :] - p[:, :, None] * p[:, None, :]  # diag(p) - p p'
    several = n > 1
    coef = d[several] * (n[several] - d[several]) / (n[several] - 1)
    var = (coef[:, None, None] * cov[several]).sum(axis=0) if several.any() else np.zeros((k, k))
    keep = exp_ > 0
    if keep.sum() < 2:
        chisq = 0.0
    else:
        diff = (obs - exp_)[keep][1:]
        vv = var[np.ix_(keep, keep)][1:, 1:]
        chisq = float(diff @ np.linalg.solve(vv, diff))
    df = int(keep.sum()) - 1
    p = float(stats.chi2.sf(chisq, df)) if df > 0 else float("nan")
    table = pd.DataFrame({"group": levels, "n": np.bincount(gi, minlength=k).astype(int),
                          "observed": obs, "expected": exp_, "o_minus_e": obs - exp_})
    return LogRankResult(chisq=chisq, df=df, p=p, table=table)


# ----------------------------------------------------------------------------- follow-up
def median_followup(time, event) -> dict[str, float]:
    """Median follow-up, two ways.

    Parameters
    ----------
    time, event : array-like
        Follow-up times and 0/1 event indicators (event = death for OS).

    Returns
    -------
    dict of str to float
        ``median_observed``, ``min``, ``max``: median and range of all observed
        times, which is how papers usually report follow-up (Chen et al. 2024:
        "17.5 (4.6 to 52.7) months"); it is shortened by early deaths.
        ``reverse_km_median``, ``reverse_km_lower``, ``reverse_km_upper``: the
        reverse Kaplan-Meier median (censoring treated as the event and deaths
        as censored) with its log-CI limits, the potential follow-up
        recommended by Schemper & Smith (1996); ``nan`` if not reached.
        ``n`` and ``n_censored``.

    References
    ----------
    Schemper M, Smith TL. A note on quantifying follow-up in studies of failure
    time. Control Clin Trials 1996;17:343-346.
    """
    t, e = check_time_event(time, event, require_events=False)
    rev = kaplan_meier(t, 1.0 - e)
    med, lo, hi = median_survival(rev)
    return {"median_observed": float(np.median(t)), "min": float(t.min()), "max": float(t.max()),
            "reverse_km_median": med, "reverse_km_lower": lo, "reverse_km_upper": hi,
            "n": int(t.size), "n_censored": int((e == 0).sum())}
