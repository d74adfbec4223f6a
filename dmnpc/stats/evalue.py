"""E-values: how strong unmeasured confounding would have to be to explain an association away.

VanderWeele & Ding (2017): the E-value of a risk ratio ``RR`` is the minimum strength of
association, on the risk-ratio scale, that an unmeasured confounder would need to have with
both the treatment and the outcome, beyond the measured covariates, to move the estimate to 1::

    E = RR + sqrt(RR (RR - 1))          for RR >= 1 (use 1 / RR for RR < 1)

and the E-value of the confidence interval is that of the limit closer to 1 (1 if the interval
includes 1). A hazard ratio is first put on the risk-ratio scale: with a rare outcome (under
15% at the end of follow-up) ``RR ~ HR``; with a common outcome (VanderWeele 2020)::

    RR ~ (1 - 0.5 ** sqrt(HR)) / (1 - 0.5 ** sqrt(1 / HR))

as ``EValue::evalues.HR(est, lo, hi, rare = FALSE)``. The EValue package is not on this
machine's CRAN mirror; the same formulas, written plainly in R, give the reference values
(``tests/reference/ref_evalue.R``), and the published worked examples are checked in
``tests/stats/test_evalue.py``.

References
----------
VanderWeele TJ, Ding P. Sensitivity analysis in observational research: introducing the
E-value. Ann Intern Med 2017;167:268-274.
Ding P, VanderWeele TJ. Sensitivity analysis without assumptions. Epidemiology 2016;27:368-377.
VanderWeele TJ. Optimal approximate conversions of odds ratios and hazard ratios to risk ratios.
Biometrics 2020;76:746-752.
Mathur MB, Ding P, Riddell CA, VanderWeele TJ. Web site and R package for computing E-values.
Epidemiology 2018;29:e45-e47.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dmnpc.stats._validate import check_positive

__all__ = ["EValue", "evalue_rr", "evalue_hr", "hr_to_rr"]


@dataclass(frozen=True)
class EValue:
    """E-values of an estimate and of its confidence interval.

    Attributes
    ----------
    measure : {"RR", "HR"}
        Scale of the estimate given.
    rare : bool or None
        For a hazard ratio, whether the outcome was taken as rare (``RR ~ HR``) or common.
    estimate, lower, upper : float or None
        The estimate and confidence limits as given.
    rr, rr_lower, rr_upper : float or None
        The same on the risk-ratio scale.
    evalue : float
        E-value of the point estimate (1 when it is 1).
    evalue_ci : float or None
        E-value of the confidence limit closer to 1; 1 when the interval includes 1;
        None when no interval was given.
    """

    measure: str
    rare: bool | None
    estimate: float
    lower: float | None
    upper: float | None
    rr: float
    rr_lower: float | None
    rr_upper: float | None
    evalue: float
    evalue_ci: float | None


def _threshold(rr: float) -> float:
    """``RR + sqrt(RR (RR - 1))`` of ``max(RR, 1 / RR)``."""
    x = rr if rr >= 1.0 else 1.0 / rr
    return x + math.sqrt(x * (x - 1.0))


def hr_to_rr(hr: float, *, rare: bool) -> float:
    """A hazard ratio on the risk-ratio scale: itself if the outcome is rare, else VanderWeele's conversion.

    ``(1 - 0.5 ** sqrt(HR)) / (1 - 0.5 ** sqrt(1 / HR))`` for a common outcome (VanderWeele 2020);
    1 maps to 1 and ``1 / HR`` to ``1 / RR``.
    """
    hr = check_positive(hr, "hazard ratio")
    if rare:
        return hr
    return (1.0 - 0.5 ** math.sqrt(hr)) / (1.0 - 0.5 ** math.sqrt(1.0 / hr)) if hr != 1.0 else 1.0


def _check_interval(est: float, lower, upper, what: str) -> tuple[float | None, float | None]:
    lo = None if lower is None else check_positive(lower, f"lower confidence limit of the {what}")
    hi = None if upper is None else check_positive(upper, f"upper confidence limit of the {what}")
    if (lo is not None and lo > est) or (hi is not None and hi < est):
        raise ValueError(f"the confidence interval ({lower}, {upper}) does not contain the {what} {est}: "
                         "expected lower <= estimate <= upper")
    return lo, hi


def _evalues(measure: str, rare: bool | None, est: float, lo, hi, rr: float, rr_lo, rr_hi) -> EValue:
    if rr > 1.0:  # the limit closer to 1 is the lower one
        near = rr_lo
        ci = None if near is None else (1.0 if near <= 1.0 else _threshold(near))
    elif rr < 1.0:
        near = rr_hi
        ci = None if near is None else (1.0 if near >= 1.0 else _threshold(near))
    else:
        ci = None if (rr_lo is None and rr_hi is None) else 1.0
    return EValue(measure=measure, rare=rare, estimate=est, lower=lo, upper=hi, rr=rr, rr_lower=rr_lo,
                  rr_upper=rr_hi, evalue=_threshold(rr), evalue_ci=ci)


def evalue_rr(rr: float, lower: float | None = None, upper: float | None = None) -> EValue:
    """E-values of a risk ratio and of its confidence interval (``EValue::evalues.RR``).

    Parameters
    ----------
    rr : float
        Risk ratio (> 0), adjusted for the measured confounders.
    lower, upper : float, optional
        Its confidence limits. Only the limit closer to 1 matters: give at least that one
        (the lower for ``rr > 1``, the upper for ``rr < 1``) to get ``evalue_ci``.

    Returns
    -------
    EValue

    Raises
    ------
    ValueError
        A value that is not a positive finite number, or limits on the wrong side of the estimate.

    References
    ----------
    VanderWeele TJ, Ding P. Ann Intern Med 2017;167:268-274.

    Examples
    --------
    The paper's worked example, RR 3.9 (95% CI 1.8 to 8.7):

    >>> e = evalue_rr(3.9, 1.8, 8.7)
    >>> round(e.evalue, 2), round(e.evalue_ci, 2)
    (7.26, 3.0)
    """
    est = check_positive(rr, "risk ratio")
    lo, hi = _check_interval(est, lower, upper, "risk ratio")
    return _evalues("RR", None, est, lo, hi, est, lo, hi)


def evalue_hr(hr: float, lower: float | None = None, upper: float | None = None, *, rare: bool) -> EValue:
    """E-values of a hazard ratio and of its confidence interval (``EValue::evalues.HR``).

    Parameters
    ----------
    hr : float
        Hazard ratio (> 0), adjusted for the measured confounders (e.g. a weighted Cox model).
    lower, upper : float, optional
        Its confidence limits (see :func:`evalue_rr`).
    rare : bool
        Whether the outcome is rare (under about 15% by the end of follow-up): then ``RR ~ HR``;
        otherwise the hazard ratios are converted by :func:`hr_to_rr`. No default, as in EValue:
        with about a third of patients dying, overall survival is a common outcome.

    Returns
    -------
    EValue
        ``rr``, ``rr_lower``, ``rr_upper`` hold the converted values.

    References
    ----------
    VanderWeele TJ, Ding P. Ann Intern Med 2017;167:268-274.
    VanderWeele TJ. Biometrics 2020;76:746-752.
    """
    if not isinstance(rare, bool):
        raise ValueError("say whether the outcome is rare (under about 15% at the end of follow-up): "
                         "rare=True or rare=False")
    est = check_positive(hr, "hazard ratio")
    lo, hi = _check_interval(est, lower, upper, "hazard ratio")
    conv = lambda v: None if v is None else hr_to_rr(v, rare=rare)  # noqa: E731
    return _evalues("HR", rare, est, lo, hi, conv(est), conv(lo), conv(hi))
