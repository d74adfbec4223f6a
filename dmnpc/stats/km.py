"""Kaplan-Meier estimation, survival at fixed times, medians, log-rank test and follow-up.

Every function here reproduces R's ``survival`` package (version 3.5.3) to
numerical precision; ``tests/reference/ref_survival.R`` holds the R code and
``tests/test_survival.py`` the comparison:

* :func:`kaplan_meier` is ``survfit(Surv(time, event) ~ 1, conf.type = "log")``;
* :func:`survival_at` is ``summary(fit, times = ...)``;
* :func:`median_survival` is the median and its limits printed by ``print(fit)``;
* :func:`logrank_test` is ``survdiff(Surv(time, event) ~ group)``;
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

__all__ = [
    "KMResult",
    "LogRankResult",
    "kaplan_meier",
    "survival_at",
    "median_survival",
    "number_at_risk",
    "logrank_test",
    "median_followup",
]

# survival's print.survfit treats a survival within sqrt(machine epsilon) of 0.5 as 0.5.
_MEDIAN_TOL = float(np.finfo(float).eps) ** 0.5


# ----------------------------------------------------------------------------- checkers
def _check_time_event(time, event) -> tuple[np.ndarray, np.ndarray]:
    """Validate follow-up times and event indicators; return float arrays."""
    t = np.asarray(time, dtype=float).ravel()
    e = np.asarray(event, dtype=float).ravel()
    if t.size == 0:
        raise ValueError("no patients: the time and event data are empty")
    if t.size != e.size:
        raise ValueError(f"time and event have different lengths ({t.size} and {e.size}): "
                         "expected one time and one event indicator per patient")
    if np.isnan(t).any() or np.isnan(e).any():
        raise ValueError("time or event has missing values: every patient needs a follow-up time "
                         "and an event indicator")
    if not np.isfinite(t).all():
        raise ValueError("time has infinite values: expected finite follow-up times")
    if (t < 0).any():
        raise ValueError("time has negative values: follow-up times must be >= 0")
    if not np.isin(e, (0.0, 1.0)).all():
        raise ValueError("event must be 0 (censored) or 1 (event); other values were found")
    return t, e


def _check_conf_level(conf_level: float) -> float:
    if not (0.0 < float(conf_level) < 1.0):
        raise ValueError(f"conf_level must be between 0 and 1 (e.g. 0.95), got {conf_level}")
    return float(conf_level)


def _check_group(group, n: int) -> np.ndarray:
    g = np.asarray(group, dtype=object).ravel()
    if g.size != n:
        raise ValueError(f"group has {g.size} values but there are {n} patients: "
                         "expected one group label per patient")
    if pd.isna(pd.Series(g)).any():
        raise ValueError("group has missing values: every patient needs a group label")
    return g


def _group_levels(g: np.ndarray) -> list:
    """Distinct group labels, sorted (as R orders factor levels); first-seen order if unsortable."""
    u = list(pd.unique(pd.Series(g)))
    try:
        return sorted(u)
    except TypeError:
        return u


# ----------------------------------------------------------------------------- Kaplan-Meier
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
        For empty data, unequal lengths, missing or negative times, or event
        values other than 0/1.

    References
    ----------
    Kaplan EL, Meier P. Nonparametric estimation from incomplete observations.
    J Am Stat Assoc 1958;53:457-481.
    Greenwood M. The natural duration of cancer. Reports on Public Health and
    Medical Subjects 1926;33:1-26.
    Therneau TM. A Package for Survival Analysis in R (``survfit``), R package
    survival 3.5.
    """
    t, e = _check_time_event(time, event)
    conf_level = _check_conf_level(conf_level)
    ut, inv = np.unique(t, return_inverse=True)
    n_event = np.bincount(inv, weights=e, minlength=ut.size)
    n_total = np.bincount(inv, minlength=ut.size).astype(float)
    n_censor = n_total - n_event
    # at risk at u = patients whose time is >= u
    n_risk = np.cumsum(n_total[::-1])[::-1]
    surv = np.cumprod(1.0 - n_event / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        inc = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)
    var_log = np.cumsum(inc)
    se_log = np.sqrt(var_log)
    z = float(stats.norm.ppf(1.0 - (1.0 - conf_level) / 2.0))
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
    return KMResult(table=table, n=int(t.size), n_events=int(e.sum()), conf_level=conf_level)


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
    ts = np.atleast_1d(np.asarray(times, dtype=float))
    if ts.size == 0:
        raise ValueError("no times given: expected at least one time at which to read the curve")
    if np.isnan(ts).any() or (ts < 0).any():
        raise ValueError("times must be non-missing and >= 0")
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
    t, _ = _check_time_event(time, event)
    ts = np.atleast_1d(np.asarray(times, dtype=float))
    if ts.size == 0 or np.isnan(ts).any() or (ts < 0).any():
        raise ValueError("times must be a non-empty list of non-missing values >= 0")
    if group is None:
        rows = {"all": [int((t >= x).sum()) for x in ts]}
    else:
        g = _check_group(group, t.size)
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
    t, e = _check_time_event(time, event)
    g = _check_group(group, t.size)
    levels = _group_levels(g)
    if len(levels) < 2:
        raise ValueError("the log-rank test needs at least two groups; only one was found")
    if e.sum() == 0:
        raise ValueError("no events: the log-rank test needs at least one observed event")
    k = len(levels)
    pos = {lev: i for i, lev in enumerate(levels)}
    gi = np.array([pos[v] for v in g], dtype=int)
    ut = np.unique(t[e == 1])
    obs = np.zeros(k)
    exp_ = np.zeros(k)
    var = np.zeros((k, k))
    for u in ut:
        at_risk = t >= u
        dead = (t == u) & (e == 1)
        n_j = np.bincount(gi[at_risk], minlength=k).astype(float)
        d_j = np.bincount(gi[dead], minlength=k).astype(float)
        n, d = n_j.sum(), d_j.sum()
        obs += d_j
        exp_ += d * n_j / n
        if n > 1:
            p = n_j / n
            var += d * (n - d) / (n - 1) * (np.diag(p) - np.outer(p, p))
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
    t, e = _check_time_event(time, event)
    rev = kaplan_meier(t, 1.0 - e)
    med, lo, hi = median_survival(rev)
    return {"median_observed": float(np.median(t)), "min": float(t.min()), "max": float(t.max()),
            "reverse_km_median": med, "reverse_km_lower": lo, "reverse_km_upper": hi,
            "n": int(t.size), "n_censored": int((e == 0).sum())}


def km_left(time, event) -> np.ndarray:
    """Kaplan-Meier survival just before each patient's own time, S(t-) (for ``cox.zph``'s time scale)."""
    t = np.asarray(time, float)
    e = np.asarray(event, float)
    ut, inv = np.unique(t, return_inverse=True)
    d = np.bincount(inv, weights=e, minlength=ut.size)
    n_risk = np.cumsum(np.bincount(inv, minlength=ut.size)[::-1])[::-1].astype(float)
    surv = np.cumprod(1.0 - d / n_risk)
    return np.r_[1.0, surv[:-1]][inv]
