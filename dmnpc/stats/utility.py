"""Clinical utility and overall accuracy of a survival prediction at a fixed horizon.

* :func:`net_benefit` -- decision-curve net benefit with the Kaplan-Meier definition of
  Vickers et al. (2008), for the model, treat-all and treat-none, with the conventions of R's
  ``dcurves`` (checked against the formula written plainly in R);
* :func:`brier_score` -- the IPCW Brier score, its null model and the index of prediction
  accuracy, equal to ``riskRegression::Score(..., metrics = "brier", summary = "ipa",
  cens.model = "km")``;
* :func:`observed_expected` -- the observed/expected ratio at the horizon with its Poisson interval
  (STRATOS TG6).

Every function takes ``time, event`` first, then the predictions at ``horizon``: predicted
*risk* ``1 - S(t | x)`` for the net benefit (the decision compares a risk with a threshold
probability), predicted *survival* ``S(t | x)`` for the Brier score and O/E (for a Cox fit,
``fit.predict_survival(horizon)[:, 0]``). Kaplan-Meier readings are those of
:func:`dmnpc.stats.km.survival_at` (``summary(survfit, times)``), the censoring weights those
of :func:`dmnpc.stats.km.censoring_km`. ``tests/reference/ref_utility.R`` holds the R code
and ``tests/stats/test_utility.py`` the comparison (survival 3.5.3, riskRegression 2022.11.28).

Why not a library: lifelines 0.30.3 has no Brier score, net benefit or O/E.
scikit-survival 0.28.0's ``brier_score`` weights an event by ``1/G`` read at the event time
itself (``predict_proba(test_time)``), not just before it, and has no null model or IPA: on
gbsg at 2 years it gives 0.167989 against riskRegression's 0.167975, and 0.1727 against 0.1406
on the tiny data with ties of ``tests/reference/ref_utility.R`` (measured).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dmnpc.stats._validate import check_horizon, check_probability, check_time_event, z_value
from dmnpc.stats.km import censoring_km, censoring_survival, kaplan_meier, survival_at

__all__ = [
    "BrierResult",
    "ObservedExpected",
    "net_benefit",
    "brier_score",
    "observed_expected",
]


# ----------------------------------------------------------------------------- helpers
def _check_thresholds(thresholds) -> np.ndarray:
    th = np.atleast_1d(np.asarray(thresholds, dtype=float)).ravel()
    if th.size == 0:
        raise ValueError("no thresholds given: expected at least one threshold probability")
    if not np.isfinite(th).all() or ((th <= 0.0) | (th >= 1.0)).any():
        raise ValueError("threshold probabilities must lie strictly between 0 and 1 "
                         "(at 0 everybody is treated, at 1 nobody: the net benefit is undefined)")
    return th


def _km_survival(t: np.ndarray, e: np.ndarray, horizon: float, extend: bool) -> float:
    """Kaplan-Meier survival at ``horizon`` as ``summary(survfit, times = horizon, extend)``."""
    return float(survival_at(kaplan_meier(t, e), horizon, extend=extend)["surv"].iloc[0])


# ----------------------------------------------------------------------------- net benefit
def net_benefit(time, event, risk, horizon: float, thresholds, extend: bool = False) -> pd.DataFrame:
    """Decision-curve net benefit of a survival prediction at ``horizon`` (Kaplan-Meier definition).

    At threshold probability ``p``, patients with predicted risk ``>= p`` are treated. With
    ``x`` the share treated and ``S`` the Kaplan-Meier survival at ``horizon`` among them,

        ``NB(p) = x (1 - S) - x S p / (1 - p)``,

    true positives minus false positives weighted by the odds of the threshold; ``NB = 0``
    when nobody is treated. Treat-all is the same with everybody treated (``x = 1``, the
    Kaplan-Meier of the whole cohort); treat-none is 0.

    Parameters
    ----------
    time, event : array-like
        Follow-up times (>= 0) and event indicators (1 event, 0 censored).
    risk : array-like of float
        Predicted risk of the event by ``horizon``, ``1 - S(horizon | x)``, in [0, 1].
    horizon : float
        Time at which the outcome is assessed; not beyond the longest follow-up.
    thresholds : float or array-like of float
        Threshold probabilities, each strictly between 0 and 1.
    extend : bool, default False
        What to do when the treated patients' follow-up all ends before ``horizon`` (their
        Kaplan-Meier does not reach it). ``False``: ``nb_model`` is ``nan`` (not estimable),
        as ``dcurves`` (Sjoberg, R package, ``.surv_to_risk``: ``NA`` when no observed time
        is at or after the horizon). ``True``: the curve's last value is carried forward, as
        ``summary(survfit, times, extend = TRUE)`` in the MSKCC ``stdca`` function, which
        assumes no event between the last follow-up and the horizon. Otherwise ``S`` is the
        Kaplan-Meier value at the last observed time ``<= horizon`` (1 before the first).

    Returns
    -------
    pandas.DataFrame
        One row per threshold: ``threshold``, ``nb_model``, ``nb_all``, ``nb_none`` (0),
        ``n_treated`` (patients with risk ``>= threshold``).

    Raises
    ------
    ValueError
        For invalid survival data (:func:`dmnpc.stats._validate.check_time_event`), a risk
        per patient missing or outside [0, 1], a threshold outside (0, 1), or a horizon
        beyond the longest follow-up.

    Notes
    -----
    A risk equal to the threshold counts as treated (``>=``, as ``dcurves``; ``stdca`` uses
    ``>``). ``stdca`` also stops at the first threshold where nobody is treated (its
    ``NA``), where this function, as ``dcurves``, gives 0.

    References
    ----------
    Vickers AJ, Elkin EB. Decision curve analysis: a novel method for evaluating prediction
    models. Med Decis Making 2006;26:565-574.
    Vickers AJ, Cronin AM, Elkin EB, Gonen M. Extensions to decision curve analysis, a novel
    method for evaluating diagnostic tests, prediction models and molecular markers. BMC Med
    Inform Decis Mak 2008;8:53.
    Sjoberg DD. dcurves: Decision Curve Analysis for Model Evaluation, R package.
    """
    t, e = check_time_event(time, event, require_events=False)
    h = check_horizon(horizon, t)
    r = check_probability(risk, t.size, "predicted risk")
    th = _check_thresholds(thresholds)
    n = t.size
    risk_all = 1.0 - _km_survival(t, e, h, extend=False)  # defined: horizon <= longest follow-up
    rows = []
    for p in th:
        odds = p / (1.0 - p)
        treated = r >= p
        k = int(treated.sum())
        if k == 0:
            nb = 0.0
        else:
            s = _km_survival(t[treated], e[treated], h, extend=extend)
            x = k / n
            nb = x * (1.0 - s) - x * s * odds
        rows.append((p, nb, risk_all - (1.0 - risk_all) * odds, 0.0, k))
    return pd.DataFrame(rows, columns=["threshold", "nb_model", "nb_all", "nb_none", "n_treated"])


# ----------------------------------------------------------------------------- Brier score
@dataclass(frozen=True)
class BrierResult:
    """IPCW Brier score at one horizon.

    Attributes
    ----------
    horizon : float
    brier : float
        Brier score of the predictions (0 is perfect).
    brier_null : float
        Brier score of the null model, which predicts the cohort's Kaplan-Meier survival at
        ``horizon`` for everybody (riskRegression's ``"Null model"``).
    ipa : float
        Index of prediction accuracy ``1 - brier / brier_null`` (0 no better than the null
        model, 1 perfect, negative worse); ``nan`` when ``brier_null`` is 0.
    """

    horizon: float
    brier: float
    brier_null: float
    ipa: float


def brier_score(time, event, surv, horizon: float) -> BrierResult:
    """Inverse-probability-of-censoring weighted Brier score at ``horizon``, its null model and IPA.

    ``BS(t) = (1/n) sum_i w_i (1{T_i > t} - S(t | x_i))^2`` with weights ``1/G(T_i-)`` for
    patients with an event at or before ``t``, ``1/G(t)`` for patients still under observation
    after ``t`` and 0 for patients censored at or before ``t``; ``G`` is the Kaplan-Meier
    estimate of the censoring distribution (:func:`dmnpc.stats.km.censoring_km`).

    Parameters
    ----------
    time, event : array-like
        Follow-up times (>= 0) and event indicators (1 event, 0 censored).
    surv : array-like of float
        Predicted survival ``S(horizon | x)`` per patient, in [0, 1].
    horizon : float
        Time of the assessment; not beyond the longest follow-up.

    Returns
    -------
    BrierResult

    Raises
    ------
    ValueError
        For invalid survival data, a predicted survival missing or outside [0, 1], or a
        horizon beyond the longest follow-up.

    Notes
    -----
    Conventions of ``riskRegression::Score(..., metrics = "brier", cens.model = "km")``
    (2022.11.28), each pinned by a tiny data set with ties in ``tests/stats/test_utility.py``:
    an event exactly at ``t`` counts as an event by ``t``, a censoring exactly at ``t`` gets
    weight 0; an event's weight uses ``G`` just *before* its time (a censoring at the same
    time comes after the event), the survivors' weight ``G(t)`` includes censorings at ``t``;
    in ``G`` deaths precede censorings at a tied time (``prodlim``'s reverse Kaplan-Meier,
    which differs from ``survfit(Surv(time, 1 - event) ~ 1)`` at such ties); the sum is
    divided by all ``n`` patients. Without censoring every weight is 1 and the Brier score
    is the mean squared error of the predicted risk against the event indicator.

    References
    ----------
    Graf E, Schmoor C, Sauerbrei W, Schumacher M. Assessment and comparison of prognostic
    classification schemes for survival data. Stat Med 1999;18:2529-2545.
    Gerds TA, Schumacher M. Consistent estimation of the expected Brier score in general
    survival models with right-censored event times. Biom J 2006;48:1029-1040.
    Kattan MW, Gerds TA. The index of prediction accuracy: an intuitive measure useful for
    evaluating risk prediction models. Diagn Progn Res 2018;2:7.
    """
    t, e = check_time_event(time, event, require_events=False)
    h = check_horizon(horizon, t)
    s = check_probability(surv, t.size, "predicted survival")
    case = (t <= h) & (e == 1)
    control = t > h
    ct, G = censoring_km(t, e)
    w = np.zeros(t.size)
    # G(T_i-) > 0 for an event (the patient itself is at risk of censoring before T_i), and
    # G(t) > 0 when somebody is followed beyond t: no division by zero
    w[case] = 1.0 / censoring_survival(ct, G, t[case], left=True)
    if control.any():
        w[control] = 1.0 / censoring_survival(ct, G, h, left=False)
    alive = control.astype(float)  # 1{T > t}; its value for weight-0 patients does not matter

    def bs(pred_surv) -> float:
        return float(np.sum(w * (alive - pred_surv) ** 2) / t.size)

    brier = bs(s)
    brier_null = bs(_km_survival(t, e, h, extend=False))
    ipa = 1.0 - brier / brier_null if brier_null > 0 else float("nan")
    return BrierResult(horizon=h, brier=brier, brier_null=brier_null, ipa=ipa)


# ----------------------------------------------------------------------------- observed / expected
@dataclass(frozen=True)
class ObservedExpected:
    """Mean calibration at one horizon.

    Attributes
    ----------
    horizon : float
    observed : float
        Observed risk ``1 - S_KM(horizon)`` (Kaplan-Meier of the whole cohort).
    expected : float
        Mean predicted risk ``mean(1 - S(horizon | x))``.
    ratio : float
        ``observed / expected`` (1 is calibrated in the large; above 1 the model
        under-predicts); ``nan`` when ``expected`` is 0.
    events : int
        Events at or before ``horizon`` (``summary(survfit, times = horizon)$n.event``).
    lower, upper : float
        95% interval ``ratio * exp(-/+ 1.96 sqrt(1 / events))``, treating the number of
        events as Poisson (the interval of McLernon et al. 2023); ``nan`` without events or
        without a ratio.
    """

    horizon: float
    observed: float
    expected: float
    ratio: float
    events: int = 0
    lower: float = float("nan")
    upper: float = float("nan")


def observed_expected(time, event, surv, horizon: float) -> ObservedExpected:
    """Observed/expected (O/E) ratio of the risk of the event by ``horizon``.

    Parameters
    ----------
    time, event : array-like
        Follow-up times (>= 0) and event indicators (1 event, 0 censored).
    surv : array-like of float
        Predicted survival ``S(horizon | x)`` per patient, in [0, 1].
    horizon : float
        Time of the assessment; not beyond the longest follow-up.

    Returns
    -------
    ObservedExpected
        With the 95% interval ``O/E * exp(-/+ 1.96 sqrt(1/O))``, ``O`` the number of events by
        ``horizon``: the Poisson approximation the STRATOS TG6 case study prints (checked against
        its R code redone in ``tests/reference/ref_external.R``).

    Raises
    ------
    ValueError
        For invalid survival data, a predicted survival missing or outside [0, 1], or a
        horizon beyond the longest follow-up.

    References
    ----------
    Debray TPA, Damen JAAG, Snell KIE, et al. A guide to systematic review and meta-analysis of
    prediction model performance. BMJ 2017;356:i6460.
    McLernon DJ, Giardiello D, Van Calster B, Wynants L, van Geloven N, van Smeden M,
    Therneau T, Steyerberg EW. Assessing performance and clinical usefulness in prediction
    models with survival outcomes: practical guidance for Cox proportional hazards models.
    Ann Intern Med 2023;176:105-114.
    Riley RD, Archer L, Snell KIE, Ensor J, Dhiman P, Martin GP, Bonnett LJ, Collins GS.
    Evaluation of clinical prediction models (part 2): how to undertake an external
    validation study. BMJ 2024;384:e074820.
    """
    t, e = check_time_event(time, event, require_events=False)
    h = check_horizon(horizon, t)
    s = check_probability(surv, t.size, "predicted survival")
    observed = 1.0 - _km_survival(t, e, h, extend=False)
    expected = float(np.mean(1.0 - s))
    ratio = observed / expected if expected > 0 else float("nan")
    events = int(np.sum((t <= h) & (e == 1)))
    lower = upper = float("nan")
    if events > 0 and ratio > 0 and np.isfinite(ratio):
        half = z_value(0.95) * np.sqrt(1.0 / events)
        lower, upper = float(ratio * np.exp(-half)), float(ratio * np.exp(half))
    return ObservedExpected(horizon=h, observed=observed, expected=expected, ratio=ratio, events=events,
                            lower=lower, upper=upper)
