"""Minimum sample size for developing a prediction model with a time-to-event outcome.

:func:`riley_survival` implements the three criteria of Riley et al. (2019, Part II)
and Riley et al. (2020, BMJ) for a survival (Cox) model with ``p`` candidate predictor
parameters and an anticipated Cox-Snell R2 (``R2cs``):

1. **small overfitting**: expected uniform shrinkage of the predictor effects ``S >= 0.9``,

       n1 = p / ((S - 1) ln(1 - R2cs / S));

2. **small optimism in Nagelkerke's R2**: apparent minus adjusted Nagelkerke R2 at most
   ``delta = 0.05``, i.e. criterion 1 at the shrinkage ``S2 = R2cs / (R2cs + delta max_R2cs)``;
3. **precise overall risk**: the 95% confidence interval of the cumulative risk at a
   time point ``t``, ``F(t) = 1 - exp(-rate t)``, lies within ``margin = 0.05`` of it.

The required size is the largest of the three, rounded up; with it come the expected
number of events ``n rate mean_followup``, the events per candidate parameter (EPP) and
the expected shrinkage at that size (:func:`expected_shrinkage`).

Helpers for the inputs: :func:`cox_snell_r2` and :func:`max_cox_snell_r2` from a fitted
model's likelihood-ratio chi-square and null log-likelihood (``CoxFit.lr_test["chisq"]``,
``CoxFit.loglik_null``, ``CoxFit.n``; their ratio is the Nagelkerke R2 of
:mod:`dmnpc.stats.validation`, equal to ``rms``'s ``R2``); :func:`heuristic_shrinkage`
(van Houwelingen & le Cessie) and :func:`adjusted_cox_snell_r2` to turn a published
model's apparent R2 into an anticipated one; :func:`survival_max_r2_cs` and
:func:`conservative_r2_cs` when nothing is known but the event rate.

The maximum Cox-Snell R2 of a survival outcome
----------------------------------------------
Criterion 2 needs ``max_R2cs = 1 - exp(2 lnL_null / n)``, the largest Cox-Snell R2 any
model could reach. For an anticipated study Riley et al. take ``lnL_null`` of an
exponential (constant-hazard) model without predictors, ``E ln(E / T) - E`` for ``E``
events in total follow-up ``T``, with time measured **in units of the mean follow-up**
(Riley et al. 2020; pmsampsize >= 1.0.2, which made the result independent of the time
unit), so that ``T = n``. Then ``lnL_null / n = D ln D - D`` with ``D = E / n = rate
mean_followup`` the expected events per patient, and

    max_R2cs = 1 - exp(2 D (ln D - 1)),

which does not depend on ``n`` at all. This module uses that exact expression.
pmsampsize instead plugs in an arbitrary ``n = 10000`` with ``E = ceiling(10000 D)``
events, which rounds ``D`` up to a multiple of 1e-4 and moves ``max_R2cs`` in its fourth
decimal (0.55473 instead of 0.55464 in the BMJ example, where criterion 2 is 1038.45
instead of 1038.62 before rounding up: 1039 either way; elsewhere it can move by one
patient). ``reference_n=10000`` reproduces that choice. pmsampsize up to 1.1.0 also
rounded ``max_R2cs`` to 2 and ``S2`` to 3 decimals (removed in 1.1.1), which moved criterion
2 by up to 1% (e.g. 2279 instead of 2272); that rounding is not reproduced.

Criterion 3
-----------
The papers check criterion 3 at the size of criteria 1 and 2: the rate's Wald interval
``rate +/- z sqrt(rate / (n mean_followup))`` is mapped to the risk scale through
``1 - exp(-rate t)`` and found narrow enough or not (pmsampsize reports that interval and
sets its criterion-3 size to ``max(n1, n2)``). Here criterion 3 is solved for the smallest
``n`` whose interval lies within ``margin`` of ``F(t)`` on **both** sides. With
``a = z t sqrt(rate / (n mean_followup))`` the upper limit lies ``exp(-rate t)(1 - e^-a)``
above ``F(t)`` and the lower limit ``exp(-rate t)(e^a - 1)`` below it; the lower distance is
the larger, so

    n3 = rate (z t / ln(1 + margin exp(rate t)))^2 / mean_followup.

When ``n3 <= max(n1, n2)`` (as in every published example) the required size equals the
papers' and pmsampsize's; otherwise it is larger and says so (``binding == 3``). ``z`` is
the exact normal quantile (1.959964 for 95%), where pmsampsize uses 1.96.

References
----------
Riley RD, Snell KIE, Ensor J, Burke DL, Harrell FE Jr, Moons KGM, Collins GS. Minimum
sample size for developing a multivariable prediction model: PART II - binary and
time-to-event outcomes. Stat Med 2019;38:1276-1296 (correction Stat Med 2019;38:5672).
Riley RD, Ensor J, Snell KIE, Harrell FE Jr, Martin GP, Reitsma JB, Moons KGM, Collins G,
van Smeden M. Calculating the sample size required for developing a clinical prediction
model. BMJ 2020;368:m441.
van Houwelingen JC, le Cessie S. Predictive value of statistical models. Stat Med
1990;9:1303-1325.
Ensor J, Martin EC, Riley RD. pmsampsize: calculates the minimum sample size required for
developing a multivariable prediction model. R package, CRAN (versions 1.0.0-1.1.3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize

from dmnpc.stats._validate import (check_conf_level, check_count, check_fraction, check_horizon, check_number,
                                   check_positive, z_value)

__all__ = ["SurvivalSampleSize", "riley_survival", "min_n_for_shrinkage", "expected_shrinkage",
           "cox_snell_r2", "max_cox_snell_r2", "heuristic_shrinkage", "adjusted_cox_snell_r2",
           "survival_max_r2_cs", "conservative_r2_cs", "SHRINKAGE_NOT_ESTIMABLE",
           "CONSERVATIVE_FRACTION"]

#: Why :func:`heuristic_shrinkage` (and :func:`adjusted_cox_snell_r2`) return nan.
SHRINKAGE_NOT_ESTIMABLE = ("the likelihood-ratio chi-square does not exceed its degrees of freedom: the model "
                           "explains no more than noise would, so no shrinkage factor above 0 exists "
                           "(not estimable)")

#: Fraction of the maximum Cox-Snell R2 to anticipate when nothing is known (Riley et al. 2020).
CONSERVATIVE_FRACTION = 0.15


def _check_lr(lr_chi2) -> float:
    v = check_number(lr_chi2, "likelihood-ratio chi-square")
    if v < 0:
        raise ValueError(f"the likelihood-ratio chi-square must be >= 0, got {lr_chi2!r}")
    return v


def _events_per_patient(rate: float, mean_followup: float, reference_n: int | None) -> float:
    d = rate * mean_followup
    if d > 1.0:
        raise ValueError(f"rate x mean follow-up = {d:g} expected events per patient: a time-to-event model counts "
                         "at most one event per patient, so this must not exceed 1 (are the rate and the follow-up "
                         "in the same time unit?)")
    if reference_n is not None:
        m = check_count(reference_n, "reference_n")
        d = math.ceil(d * m) / m
    return d


# ----------------------------------------------------------------------------- R2 helpers
def cox_snell_r2(lr_chi2: float, n: int) -> float:
    """Cox-Snell R2 of a fitted model, ``1 - exp(-LR / n)``.

    Parameters
    ----------
    lr_chi2 : float
        Likelihood-ratio chi-square of the model against the null model (for a
        :class:`~dmnpc.stats.cox.CoxFit`, ``fit.lr_test["chisq"]``).
    n : int
        Number of patients (``fit.n``; ``survival::summary.coxph`` also uses patients, not events).

    Returns
    -------
    float
        In ``[0, 1)``; ``survival::summary.coxph(fit)$rsq["rsq"]``.

    Raises
    ------
    ValueError
        A negative or non-finite chi-square, or ``n`` not a whole number >= 1.

    References
    ----------
    Cox DR, Snell EJ. Analysis of Binary Data, 2nd ed. Chapman & Hall, 1989.
    Riley et al. Stat Med 2019;38:1276-1296, section 3.
    """
    return -math.expm1(-_check_lr(lr_chi2) / check_count(n, "number of patients"))


def max_cox_snell_r2(loglik_null: float, n: int) -> float:
    """Largest Cox-Snell R2 a model can reach, ``1 - exp(2 lnL_null / n)``.

    ``cox_snell_r2(LR, n) / max_cox_snell_r2(lnL_null, n)`` is Nagelkerke's R2, the
    ``R2`` index of :mod:`dmnpc.stats.validation` and of ``rms``.

    Parameters
    ----------
    loglik_null : float
        Log-likelihood of the model without predictors (for a Cox fit, the partial
        log-likelihood at beta = 0, ``fit.loglik_null``); must be negative.
    n : int
        Number of patients.

    Returns
    -------
    float
        In ``(0, 1)``; ``survival::summary.coxph(fit)$rsq["maxrsq"]``.

    Raises
    ------
    ValueError
        A null log-likelihood that is not negative and finite, or ``n`` not a whole number >= 1.

    References
    ----------
    Nagelkerke NJD. A note on a general definition of the coefficient of determination.
    Biometrika 1991;78:691-692.
    """
    ll0 = check_number(loglik_null, "null log-likelihood")
    if ll0 >= 0:
        raise ValueError(f"the null log-likelihood must be negative, got {loglik_null!r}")
    return -math.expm1(2.0 * ll0 / check_count(n, "number of patients"))


def heuristic_shrinkage(lr_chi2: float, df: int) -> float:
    """Van Houwelingen & le Cessie's heuristic shrinkage factor ``(LR - df) / LR``.

    The expected calibration slope of the model in new patients: ``1`` means no
    overfitting, ``0.8`` that predictions are 20% too extreme.

    Parameters
    ----------
    lr_chi2 : float
        Likelihood-ratio chi-square of the model (``fit.lr_test["chisq"]``).
    df : int
        Its degrees of freedom: the number of estimated predictor parameters (``fit.lr_test["df"]``;
        for a model after selection, the number of candidate parameters).

    Returns
    -------
    float
        In ``(0, 1)`` when ``LR > df``. When ``LR <= df`` the model's chi-square is no larger
        than its expectation under no association at all, so the formula gives a factor
        ``<= 0``, i.e. predictions that should be flattened entirely or reversed: the factor is
        **not estimable** and ``nan`` is returned (reason: :data:`SHRINKAGE_NOT_ESTIMABLE`);
        no exception, so that a table of models can still be built.

    Raises
    ------
    ValueError
        A negative or non-finite chi-square, or ``df`` not a whole number >= 1.

    References
    ----------
    van Houwelingen JC, le Cessie S. Predictive value of statistical models. Stat Med
    1990;9:1303-1325.
    """
    lr = _check_lr(lr_chi2)
    k = check_count(df, "degrees of freedom")
    if lr <= k:
        return math.nan
    return (lr - k) / lr


def adjusted_cox_snell_r2(lr_chi2: float, n: int, df: int) -> float:
    """Anticipated Cox-Snell R2 from a published model: the apparent R2 times its heuristic shrinkage.

    ``heuristic_shrinkage(LR, df) * cox_snell_r2(LR, n)``, Riley et al.'s adjustment of an
    existing model's apparent R2 for its optimism before using it as ``r2_cs`` in
    :func:`riley_survival`.

    Returns
    -------
    float
        ``nan`` when the shrinkage is not estimable (``LR <= df``; :data:`SHRINKAGE_NOT_ESTIMABLE`).

    References
    ----------
    Riley et al. Stat Med 2019;38:1276-1296, section 3 (obtaining R2cs from a previous study).
    """
    return heuristic_shrinkage(lr_chi2, df) * cox_snell_r2(lr_chi2, n)


def survival_max_r2_cs(rate: float, mean_followup: float, *, reference_n: int | None = None) -> float:
    """Maximum Cox-Snell R2 of a survival outcome from its event rate and mean follow-up.

    ``1 - exp(2 D (ln D - 1))`` with ``D = rate * mean_followup`` expected events per
    patient: the exponential null model's log-likelihood with time in units of the mean
    follow-up (see the module notes), independent of the sample size.

    Parameters
    ----------
    rate : float
        Overall event rate per unit of time (e.g. 0.065 per year).
    mean_followup : float
        Mean follow-up in the same time unit.
    reference_n : int, optional
        Reproduce pmsampsize (which uses 10000): ``D`` becomes ``ceiling(D n) / n``.

    Raises
    ------
    ValueError
        A rate or follow-up that is not positive, or more than one expected event per patient.

    References
    ----------
    Riley et al. BMJ 2020;368:m441; Riley et al. Stat Med 2019;38:1276-1296.
    """
    rate = check_positive(rate, "event rate")
    mean_followup = check_horizon(check_number(mean_followup, "mean follow-up"), name="mean follow-up")
    d = _events_per_patient(rate, mean_followup, reference_n)
    return -math.expm1(2.0 * d * (math.log(d) - 1.0))


def conservative_r2_cs(rate: float, mean_followup: float, fraction: float = CONSERVATIVE_FRACTION, *,
                       reference_n: int | None = None) -> float:
    """A conservative anticipated Cox-Snell R2 when no previous model is available.

    Riley et al. (2020) suggest, when nothing is known of the new model's performance, to
    anticipate a Nagelkerke R2 of 0.15, i.e. a Cox-Snell R2 of 15% of the maximum
    (:func:`survival_max_r2_cs`): a modest model, so a large sample. ``fraction`` changes
    the 15%.

    References
    ----------
    Riley et al. BMJ 2020;368:m441 (choosing the anticipated R2 when no information exists).
    """
    f = check_fraction(fraction, "fraction of the maximum R2", "0.15")
    return f * survival_max_r2_cs(rate, mean_followup, reference_n=reference_n)


# ----------------------------------------------------------------------------- criterion 1 and its inverse
def _shrinkage_n(p: int, r2: float, s: float) -> float:
    return p / ((s - 1.0) * math.log1p(-r2 / s))


def min_n_for_shrinkage(parameters: int, r2_cs: float, shrinkage: float = 0.9) -> float:
    """Patients needed for an expected uniform shrinkage ``S``: ``p / ((S - 1) ln(1 - R2cs / S))``.

    Criterion 1 of :func:`riley_survival` (and criterion 2 at its own ``S``), before rounding up.

    Raises
    ------
    ValueError
        ``parameters`` not a whole number >= 1, ``R2cs`` or ``S`` outside (0, 1), or ``R2cs >= S``
        (the formula needs ``R2cs / S < 1``).

    References
    ----------
    Riley et al. Stat Med 2019;38:1276-1296, eq. for criterion (i); van Houwelingen & le Cessie 1990.
    """
    p = check_count(parameters, "number of candidate parameters")
    r2 = check_fraction(r2_cs, "anticipated Cox-Snell R2", "0.05")
    s = check_fraction(shrinkage, "shrinkage", "0.9")
    if r2 >= s:
        raise ValueError(f"the anticipated Cox-Snell R2 ({r2:g}) must be below the shrinkage ({s:g}): "
                         "no sample size gives that shrinkage")
    return _shrinkage_n(p, r2, s)


def expected_shrinkage(parameters: int, r2_cs: float, n: float) -> float:
    """Expected uniform shrinkage of a model with ``p`` parameters developed on ``n`` patients.

    The inverse of :func:`min_n_for_shrinkage`: the ``S`` in ``(R2cs, 1)`` solving
    ``(S - 1) ln(1 - R2cs / S) = p / n`` (the left side falls from +infinity to 0 on that
    interval, so the root is unique), found by Brent's method to full double precision.

    Raises
    ------
    ValueError
        Invalid ``parameters`` or ``R2cs``, ``n`` not positive, or ``p / n`` so large that ``S``
        is indistinguishable from ``R2cs`` in double precision.

    References
    ----------
    Riley et al. Stat Med 2019;38:1276-1296 (van Houwelingen's shrinkage expressed through R2cs).
    """
    p = check_count(parameters, "number of candidate parameters")
    r2 = check_fraction(r2_cs, "anticipated Cox-Snell R2", "0.05")
    nn = check_positive(n, "number of patients")
    target = p / nn

    def f(s: float) -> float:
        return (s - 1.0) * math.log1p(-r2 / s) - target

    lo = r2 + (1.0 - r2) / 2.0
    while f(lo) <= 0.0:
        step = (lo - r2) / 2.0
        if step <= 4.0 * math.ulp(r2):
            raise ValueError(f"{p} parameters on {nn:g} patients: the expected shrinkage is indistinguishable "
                             f"from R2cs = {r2:g} (no usable model)")
        lo = r2 + step
    return optimize.brentq(f, lo, 1.0, xtol=1e-300, rtol=4.0 * 2.0 ** -52, maxiter=500)


# ----------------------------------------------------------------------------- the three criteria
@dataclass(frozen=True)
class SurvivalSampleSize:
    """Minimum sample size of a time-to-event prediction model (:func:`riley_survival`).

    Attributes
    ----------
    parameters, r2_cs, rate, timepoint, mean_followup, shrinkage_target, delta, margin, conf_level
        The inputs.
    max_r2_cs : float
        Maximum Cox-Snell R2 from the rate and mean follow-up (:func:`survival_max_r2_cs`).
    r2_nagelkerke : float
        The anticipated Nagelkerke R2, ``r2_cs / max_r2_cs``.
    criterion1_n_exact, criterion2_n_exact, criterion3_n_exact : float
        Each criterion's size before rounding up.
    criterion1_n, criterion2_n, criterion3_n : int
        The same, rounded up.
    criterion2_shrinkage : float
        ``S2 = R2cs / (R2cs + delta max_R2cs)``, the shrinkage criterion 2 asks for.
    required_n : int
        ``max(criterion1_n, criterion2_n, criterion3_n)``.
    binding : int
        The criterion that sets ``required_n`` (the first one on a tie).
    shrinkage : float
        Expected shrinkage at ``required_n`` (:func:`expected_shrinkage`); at least
        ``shrinkage_target`` and ``criterion2_shrinkage``.
    events : float
        Expected events ``required_n * rate * mean_followup`` (not rounded; pmsampsize prints its ceiling).
    epp : float
        Events per candidate parameter, ``events / parameters``.
    person_time : float
        Total follow-up ``required_n * mean_followup``.
    risk : float
        Overall risk at the time point, ``1 - exp(-rate timepoint)``.
    risk_ci : tuple of float
        Its ``conf_level`` interval at ``required_n`` (the rate's Wald interval on the risk scale;
        the lower limit is not clipped at 0).
    """

    parameters: int
    r2_cs: float
    rate: float
    timepoint: float
    mean_followup: float
    shrinkage_target: float
    delta: float
    margin: float
    conf_level: float
    max_r2_cs: float
    r2_nagelkerke: float
    criterion1_n_exact: float
    criterion2_n_exact: float
    criterion3_n_exact: float
    criterion1_n: int
    criterion2_n: int
    criterion3_n: int
    criterion2_shrinkage: float
    required_n: int
    binding: int
    shrinkage: float
    events: float
    epp: float
    person_time: float
    risk: float
    risk_ci: tuple[float, float]


def _risk_ci(rate: float, timepoint: float, person_time: float, z: float) -> tuple[float, float]:
    half = z * math.sqrt(rate / person_time)
    return -math.expm1(-(rate - half) * timepoint), -math.expm1(-(rate + half) * timepoint)


def riley_survival(parameters: int, r2_cs: float, rate: float, timepoint: float, mean_followup: float, *,
                   shrinkage: float = 0.9, delta: float = 0.05, margin: float = 0.05, conf_level: float = 0.95,
                   reference_n: int | None = None) -> SurvivalSampleSize:
    """Minimum sample size for developing a time-to-event prediction model (Riley et al.).

    Parameters
    ----------
    parameters : int
        Candidate predictor parameters (every coefficient considered, before any selection).
    r2_cs : float
        Anticipated Cox-Snell R2 of the new model, in ``(0, max_r2_cs)``: from a previous model
        (:func:`adjusted_cox_snell_r2`) or, lacking one, :func:`conservative_r2_cs`.
    rate : float
        Overall event rate per unit of time.
    timepoint : float
        Time point of the predictions (criterion 3), in the rate's time unit.
    mean_followup : float
        Anticipated mean follow-up, in the rate's time unit.
    shrinkage : float, default 0.9
        Target expected shrinkage of criterion 1.
    delta : float, default 0.05
        Largest acceptable optimism in Nagelkerke's R2 (criterion 2).
    margin : float, default 0.05
        Largest acceptable distance of either confidence limit from the overall risk (criterion 3).
    conf_level : float, default 0.95
        Level of criterion 3's interval.
    reference_n : int, optional
        ``10000`` reproduces pmsampsize's maximum R2 (see :func:`survival_max_r2_cs`).

    Returns
    -------
    SurvivalSampleSize

    Raises
    ------
    ValueError
        ``parameters`` not a whole number >= 1; a rate, time point or follow-up that is not
        positive; more than one expected event per patient; ``shrinkage``, ``delta``, ``margin``
        or ``conf_level`` outside (0, 1); ``r2_cs`` outside ``(0, max_r2_cs)`` or not below
        ``shrinkage``.

    Notes
    -----
    For the recurrent venous thromboembolism example of Riley et al. (BMJ 2020): 30
    parameters, R2cs = 0.051, rate 0.065 per year, t = 2 years, mean follow-up 2.07 years
    give 5143 patients (criterion 1), 692 events and EPP 23.07.

    References
    ----------
    Riley RD, Snell KIE, Ensor J, et al. Minimum sample size for developing a multivariable
    prediction model: PART II - binary and time-to-event outcomes. Stat Med 2019;38:1276-1296.
    Riley RD, Ensor J, Snell KIE, et al. Calculating the sample size required for developing a
    clinical prediction model. BMJ 2020;368:m441.
    """
    p = check_count(parameters, "number of candidate parameters")
    rate_ = check_positive(rate, "event rate")
    t = check_horizon(check_number(timepoint, "time point"), name="time point")
    fup = check_horizon(check_number(mean_followup, "mean follow-up"), name="mean follow-up")
    s1 = check_fraction(shrinkage, "shrinkage", "0.9")
    dlt = check_fraction(delta, "acceptable optimism in Nagelkerke's R2 (delta)", "0.05")
    mrg = check_fraction(margin, "margin of error", "0.05")
    cl = check_conf_level(conf_level)
    r2 = check_number(r2_cs, "anticipated Cox-Snell R2")
    mx = survival_max_r2_cs(rate_, fup, reference_n=reference_n)
    if not 0.0 < r2 < mx:
        raise ValueError(f"the anticipated Cox-Snell R2 ({r2:g}) must lie between 0 and its maximum {mx:.4g} "
                         f"for an event rate of {rate_:g} and a mean follow-up of {fup:g} (beyond it the "
                         "Nagelkerke R2 would exceed 1)")
    n1x = min_n_for_shrinkage(p, r2, s1)
    s2 = r2 / (r2 + dlt * mx)
    if r2 >= s2:  # only when r2 + delta * max >= 1
        raise ValueError(f"delta = {dlt:g} is too large for R2cs = {r2:g}: criterion 2's shrinkage "
                         f"{s2:.4g} would not exceed R2cs")
    n2x = _shrinkage_n(p, r2, s2)
    z = z_value(cl)
    n3x = rate_ * (z * t / math.log1p(mrg * math.exp(rate_ * t))) ** 2 / fup
    ns = (math.ceil(n1x), math.ceil(n2x), math.ceil(n3x))
    n = max(ns)
    events = n * rate_ * fup
    return SurvivalSampleSize(
        parameters=p, r2_cs=r2, rate=rate_, timepoint=t, mean_followup=fup, shrinkage_target=s1, delta=dlt,
        margin=mrg, conf_level=cl, max_r2_cs=mx, r2_nagelkerke=r2 / mx,
        criterion1_n_exact=n1x, criterion2_n_exact=n2x, criterion3_n_exact=n3x,
        criterion1_n=ns[0], criterion2_n=ns[1], criterion3_n=ns[2], criterion2_shrinkage=s2,
        required_n=n, binding=ns.index(n) + 1, shrinkage=expected_shrinkage(p, r2, n), events=events,
        epp=events / p, person_time=n * fup, risk=-math.expm1(-rate_ * t),
        risk_ci=_risk_ci(rate_, t, n * fup, z),
    )
