"""Tests of dmnpc.stats.samplesize: Riley et al.'s minimum sample size for a time-to-event model.

Expected values come from three independent places:

* the published worked example (Riley et al. BMJ 2020;368:m441, recurrent venous
  thromboembolism; the Part II abstract, Stat Med 2019;38:1276-1296, states its EPP >= 23);
* the expectations of pmsampsize's own tests (cran/pmsampsize, tests/testthat/test_surv.R,
  tests 3.1-3.9, written by its authors);
* tests/reference/ref_samplesize.R, an R implementation of the papers' formulas written
  separately (numerical roots where the Python has closed forms) and
  ``survival::summary.coxph``'s ``rsq``/``maxrsq`` (tests/reference/samplesize.json).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dmnpc.stats import samplesize as ss
from dmnpc.stats.cox import fit_cox

HERE = Path(__file__).resolve().parents[1]  # tests/
REF = json.loads((HERE / "reference" / "samplesize.json").read_text())
VALIDATION = json.loads((HERE / "reference" / "validation.json").read_text())
GBSG = pd.read_csv(HERE / "data" / "gbsg.csv")

#: Agreement with the R implementation. R's roots are found to 1e-14 (log n) and 1e-15 (S), the
#: closed forms are exact to a few ulps: 1e-10 leaves four orders of magnitude for rounding.
RTOL_R = 1e-10
#: R2 of fit_cox against coxph: coxph stops when the log-likelihood changes by < eps = 1e-10
#: relative (ref_samplesize.R), i.e. 1e-10 * |loglik| = 1.7e-7 on an LR of 102: 1.7e-9 relative,
#: and the Cox-Snell R2 moves relatively no more than the LR (d log R2 / d log LR <= 1).
RTOL_FIT = 2e-9

BMJ = dict(parameters=30, r2_cs=0.051, rate=0.065, timepoint=2, mean_followup=2.07)


def run_case(c: dict) -> ss.SurvivalSampleSize:
    return ss.riley_survival(c["parameters"], c["r2_cs"], c["rate"], c["timepoint"], c["mean_followup"],
                             shrinkage=c["shrinkage"], delta=c["delta"], margin=c["margin"],
                             conf_level=c["conf_level"],
                             reference_n=None if c["reference_n"] is None else int(c["reference_n"]))


# ----------------------------------------------------------------------------- published numbers
def test_bmj_venous_thromboembolism_example():
    """Riley et al. BMJ 2020, time-to-event example (30 parameters, R2cs 0.051, rate 0.065/year,
    t = 2 years, mean follow-up 2.07 years): 5143 patients, 692 events, EPP 23.07, set by criterion 1;
    the Part II abstract (Stat Med 2019;38:1276) gives the same model's EPP as 'at least 23'."""
    r = ss.riley_survival(**BMJ)
    assert r.criterion1_n == 5143
    assert r.required_n == 5143 and r.binding == 1
    assert math.ceil(r.events) == 692
    assert round(r.epp, 2) == 23.07 and r.epp >= 23
    assert r.criterion2_n < r.required_n and r.criterion3_n < r.required_n


# pmsampsize tests 3.1-3.9: inputs, then (criterion 1, criterion 2, final) sizes and EPPs of pmsampsize
# <= 1.1.0, which rounded max R2cs to 2 and S2 to 3 decimals (criterion 1 never depended on them).
PMSAMPSIZE = [
    ((25, 0.051, 0.065, 2, 2.07), (4286, 875, 4286), (23.07, 4.71)),
    ((25, 0.065, 0.065, 2, 2.07), (3335, 868, 3335), (17.95, 4.67)),
    ((50, 0.051, 0.065, 2, 2.07), (8572, 1749, 8572), (23.07, 4.71)),
    ((25, 0.051, 0.1, 2, 2.07), (4286, 725, 4286), (35.49, 6.0)),
    ((25, 0.051, 0.065, 4, 2.07), (4286, 875, 4286), (23.07, 4.71)),
    ((25, 0.051, 0.065, 2, 4), (4286, 684, 4286), (44.57, 7.11)),
    ((40, 0.06, 0.08, 3, 5), (5798, 974, 5798), (57.98, 9.74)),
    ((10, 0.03, 0.09, 3, 3), (2950, 273, 2950), (79.65, 7.37)),
    ((80, 0.3, 0.03, 1, 5), (1974, 2279, 2279), (3.7, 4.27)),
]


@pytest.mark.parametrize("args, sizes, epps", PMSAMPSIZE)
def test_pmsampsize_criterion_1(args, sizes, epps):
    p, r2, rate, t, fup = args
    r = ss.riley_survival(p, r2, rate, t, fup)
    assert r.criterion1_n == sizes[0]
    assert round(r.criterion1_n * rate * fup / p, 2) == epps[0]


@pytest.mark.parametrize("args, sizes, epps", PMSAMPSIZE)
def test_pmsampsize_rounded_criterion_2(args, sizes, epps):
    """Criterion 2 with pmsampsize 1.0's rounding reproduces its tests: the formula is the same and
    the differences from riley_survival (up to 1%) are that rounding alone."""
    p, r2, rate, t, fup = args
    mx = round(ss.survival_max_r2_cs(rate, fup, reference_n=10000), 2)
    s2 = round(r2 / (r2 + 0.05 * mx), 3)
    n2 = math.ceil(ss.min_n_for_shrinkage(p, r2, s2))
    assert n2 == sizes[1]
    assert round(n2 * rate * fup / p, 2) == epps[1]
    assert max(n2, ss.riley_survival(p, r2, rate, t, fup).criterion1_n) == sizes[2]
    exact = ss.riley_survival(p, r2, rate, t, fup).criterion2_n
    assert abs(exact - n2) / n2 < 0.011


# ----------------------------------------------------------------------------- the R implementation
@pytest.mark.parametrize("case", REF["cases"], ids=lambda c: "p{parameters}-r{r2_cs:.3g}-rate{rate}-ref{reference_n}"
                         .format(**c))
def test_agrees_with_r(case):
    r = run_case(case)
    pairs = {"max_r2_cs": "max_r2_cs", "criterion2_shrinkage": "criterion2_shrinkage",
             "criterion1_n_exact": "n1", "criterion2_n_exact": "n2", "criterion3_n_exact": "n3",
             "shrinkage": "shrinkage_at_n", "events": "events", "epp": "epp", "risk": "risk"}
    for ours, theirs in pairs.items():
        assert getattr(r, ours) == pytest.approx(case[theirs], rel=RTOL_R), ours
    np.testing.assert_allclose(r.risk_ci, [case["risk_lower"], case["risk_upper"]], rtol=RTOL_R, atol=0)
    assert r.required_n == case["required_n"]
    assert (r.criterion1_n, r.criterion2_n, r.criterion3_n) == tuple(
        math.ceil(case[k]) for k in ("n1", "n2", "n3"))


def test_r_cases_cover_every_binding_criterion():
    """The reference set exercises each criterion as the one that sets the size."""
    assert {run_case(c).binding for c in REF["cases"]} == {1, 2, 3}


def test_conservative_r2_agrees_with_r():
    c = REF["cases"][-1]
    assert ss.conservative_r2_cs(c["rate"], c["mean_followup"]) == pytest.approx(c["r2_cs"], rel=1e-13)
    assert ss.conservative_r2_cs(c["rate"], c["mean_followup"]) == pytest.approx(0.15 * c["max_r2_cs"], rel=1e-13)


# ----------------------------------------------------------------------------- R2 helpers
def test_cox_snell_helpers_equal_summary_coxph():
    g = REF["gbsg_cox"]
    assert ss.cox_snell_r2(g["lr_chisq"], g["n"]) == pytest.approx(g["rsq"], rel=1e-13)
    assert ss.max_cox_snell_r2(g["loglik_null"], g["n"]) == pytest.approx(g["maxrsq"], rel=1e-13)
    assert ss.heuristic_shrinkage(g["lr_chisq"], g["df"]) == pytest.approx(g["heuristic_shrinkage"], rel=1e-13)
    assert ss.adjusted_cox_snell_r2(g["lr_chisq"], g["n"], g["df"]) == pytest.approx(g["adjusted_rsq"], rel=1e-13)


def test_cox_snell_helpers_on_a_fit_cox_fit():
    g = REF["gbsg_cox"]
    fit = fit_cox(GBSG["rfstime"], GBSG["status"], GBSG[g["terms"]])
    assert ss.cox_snell_r2(fit.lr_test["chisq"], fit.n) == pytest.approx(g["rsq"], rel=RTOL_FIT)
    assert ss.max_cox_snell_r2(fit.loglik_null, fit.n) == pytest.approx(g["maxrsq"], rel=RTOL_FIT)
    assert ss.heuristic_shrinkage(fit.lr_test["chisq"], fit.lr_test["df"]) == pytest.approx(
        g["heuristic_shrinkage"], rel=RTOL_FIT)


def test_nagelkerke_ratio_is_rms_r2():
    """cox_snell_r2 / max_cox_snell_r2 is the R2 index of rms::validate (validation.json, rms 6.5.0),
    for the fit with rms's stopping rule (eps = 1e-4) that validate used. Both follow the same Newton
    iterates; the log-likelihood is stationary in the coefficients, so their agreement (1e-6, asserted
    in test_validation.py) enters R2 at second order only: RTOL_FIT is ample."""
    run = VALIDATION["runs"][0]
    rms_r2 = run["index_orig"][run["index"].index("R2")]
    terms = list(VALIDATION["coef"])
    fit = fit_cox(GBSG["rfstime"], GBSG["status"], GBSG[terms], eps=1e-4)
    ours = ss.cox_snell_r2(fit.lr_test["chisq"], fit.n) / ss.max_cox_snell_r2(fit.loglik_null, fit.n)
    assert ours == pytest.approx(rms_r2, rel=RTOL_FIT)


def test_heuristic_shrinkage_by_hand_and_not_estimable():
    assert ss.heuristic_shrinkage(20.0, 5) == 0.75
    assert ss.adjusted_cox_snell_r2(20.0, 100, 5) == pytest.approx(0.75 * (1 - math.exp(-0.2)), rel=1e-15)
    for lr in (5.0, 4.9, 0.0):  # LR <= df: shrinkage <= 0 would mean flattening or reversing the model
        assert math.isnan(ss.heuristic_shrinkage(lr, 5))
        assert math.isnan(ss.adjusted_cox_snell_r2(lr, 100, 5))
    assert "not estimable" in ss.SHRINKAGE_NOT_ESTIMABLE


def test_max_r2_does_not_depend_on_the_cohort_size():
    """The exponential null log-likelihood E ln(E/n) - E (time in mean follow-ups) over n is
    D ln D - D: max_cox_snell_r2 of any cohort equals survival_max_r2_cs."""
    rate, fup = 0.065, 2.07
    for n in (50, 1000, 10 ** 6):
        e = n * rate * fup
        assert ss.max_cox_snell_r2(e * math.log(e / n) - e, n) == pytest.approx(
            ss.survival_max_r2_cs(rate, fup), rel=1e-12)
    # pmsampsize's ceiling(events) at n = 10000 rounds D up: a slightly larger maximum
    assert ss.survival_max_r2_cs(rate, fup, reference_n=10000) > ss.survival_max_r2_cs(rate, fup)
    # one event per patient: max = 1 - exp(-2)
    assert ss.survival_max_r2_cs(0.5, 2.0) == pytest.approx(1 - math.exp(-2), rel=1e-15)


# ----------------------------------------------------------------------------- properties
def test_shrinkage_round_trip():
    for p, r2, s in [(30, 0.051, 0.9), (5, 0.2, 0.95), (80, 0.3, 0.7), (1, 0.01, 0.5)]:
        n = ss.min_n_for_shrinkage(p, r2, s)
        assert ss.expected_shrinkage(p, r2, n) == pytest.approx(s, rel=1e-13)


def test_expected_shrinkage_meets_both_overfitting_criteria():
    for c in REF["cases"]:
        r = run_case(c)
        assert r.shrinkage >= r.shrinkage_target and r.shrinkage >= r.criterion2_shrinkage
        assert ss.expected_shrinkage(r.parameters, r.r2_cs, r.criterion2_n_exact) == pytest.approx(
            r.criterion2_shrinkage, rel=1e-13)


def test_criterion_3_margin_is_met_and_tight():
    r = ss.riley_survival(2, 0.1, 0.3, 3, 1.5)
    assert r.binding == 3
    lo, hi = r.risk_ci
    assert r.risk - lo <= r.margin and hi - r.risk <= r.margin
    # 0.1% fewer patients than the exact size: the lower limit is too far
    z = 1.959963984540054
    half = z * math.sqrt(r.rate / ((r.criterion3_n_exact * 0.999) * r.mean_followup))
    assert r.risk - (1 - math.exp(-(r.rate - half) * r.timepoint)) > r.margin
    # at the exact size the lower distance is the margin, the upper one less
    half = z * math.sqrt(r.rate / (r.criterion3_n_exact * r.mean_followup))
    lower = r.risk - (1 - math.exp(-(r.rate - half) * r.timepoint))
    upper = (1 - math.exp(-(r.rate + half) * r.timepoint)) - r.risk
    assert lower == pytest.approx(r.margin, rel=1e-12) and upper < r.margin


@pytest.mark.parametrize("field", ["criterion1_n_exact", "criterion2_n_exact"])
def test_more_parameters_need_more_patients(field):
    sizes = [getattr(ss.riley_survival(p, 0.051, 0.065, 2, 2.07), field) for p in (1, 2, 5, 10, 30, 100)]
    assert all(b > a for a, b in zip(sizes, sizes[1:]))
    required = [ss.riley_survival(p, 0.051, 0.065, 2, 2.07).required_n for p in (1, 2, 5, 10, 30, 100)]
    assert all(b >= a for a, b in zip(required, required[1:]))


def test_other_monotonicities():
    def n1(**kw):
        return ss.riley_survival(**{**BMJ, **kw}).criterion1_n_exact

    assert n1(r2_cs=0.03) > n1(r2_cs=0.051) > n1(r2_cs=0.1)  # weaker model, more patients
    assert n1(shrinkage=0.95) > n1(shrinkage=0.9) > n1(shrinkage=0.8)

    def n3(**kw):
        return ss.riley_survival(**{**BMJ, **kw}).criterion3_n_exact

    assert n3(margin=0.02) > n3(margin=0.05) > n3(margin=0.1)
    assert n3(conf_level=0.99) > n3(conf_level=0.95) > n3(conf_level=0.9)
    assert n3(mean_followup=1.0) > n3(mean_followup=2.07)


def test_result_is_frozen():
    r = ss.riley_survival(**BMJ)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.required_n = 1


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kw, match", [
    (dict(r2_cs=0.0), "between 0 and its maximum"),
    (dict(r2_cs=-0.1), "between 0 and its maximum"),
    (dict(r2_cs=0.6), "between 0 and its maximum 0.5546"),
    (dict(r2_cs=float("nan")), "finite number"),
    (dict(r2_cs=0.05, shrinkage=0.04), "below the shrinkage"),
    (dict(rate=0.0), "event rate must be positive"),
    (dict(rate=-0.065), "event rate must be positive"),
    (dict(rate=float("inf")), "event rate must be a finite number"),
    (dict(rate="0.065"), "event rate must be a number"),
    (dict(rate=0.6), "at most one event per patient"),
    (dict(timepoint=0), "time point must be a positive time"),
    (dict(mean_followup=-2.07), "mean follow-up must be a positive time"),
    (dict(parameters=0), "whole number >= 1"),
    (dict(parameters=2.5), "whole number >= 1"),
    (dict(parameters=True), "whole number >= 1"),
    (dict(shrinkage=1.0), "shrinkage must lie strictly between 0 and 1"),
    (dict(delta=0.0), "delta"),
    (dict(margin=1.5), "margin of error"),
    (dict(conf_level=1.0), "conf_level must be between 0 and 1"),
    (dict(reference_n=0), "reference_n"),
])
def test_invalid_inputs(kw, match):
    with pytest.raises(ValueError, match=match):
        ss.riley_survival(**{**BMJ, **kw})


def test_delta_too_large_for_criterion_2():
    # one event per patient: max R2cs = 0.865; 0.5 + 0.99 * 0.865 > 1, so S2 < R2cs
    with pytest.raises(ValueError, match="too large"):
        ss.riley_survival(5, 0.5, 0.5, 1, 2, delta=0.99)


def test_helper_errors():
    with pytest.raises(ValueError, match="chi-square must be >= 0"):
        ss.cox_snell_r2(-1.0, 10)
    with pytest.raises(ValueError, match="number of patients"):
        ss.cox_snell_r2(1.0, 0)
    with pytest.raises(ValueError, match="null log-likelihood must be negative"):
        ss.max_cox_snell_r2(0.0, 10)
    with pytest.raises(ValueError, match="degrees of freedom"):
        ss.heuristic_shrinkage(10.0, 0)
    with pytest.raises(ValueError, match="fraction"):
        ss.conservative_r2_cs(0.065, 2.07, fraction=0.0)
    with pytest.raises(ValueError, match="indistinguishable"):
        ss.expected_shrinkage(1000, 0.05, 1)
    with pytest.raises(ValueError, match="below the shrinkage"):
        ss.min_n_for_shrinkage(10, 0.5, 0.4)
