"""The results JSON's ``appraisal`` section on the synthetic twin against R.

Expected values are R's (tests/reference/appraisal.json, written by tests/reference/ref_appraisal.R:
survival::coxph, rms::cph, survival::concordance, riskRegression::Score and Riley et al.'s sample-size
formulas written out in R). Deterministic quantities agree to 1e-6 relative (integer criteria and the
model's degrees of freedom exactly, the cross-validated ridge penalty as the same grid value); the
Brier score, IPA and net benefit to 1e-3 absolute. The bootstrap calibration slope is Monte Carlo and
is checked elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dmnpc.paper import analysis, appraisal, contract, report

REF = json.loads((Path(__file__).resolve().parents[1] / "reference" / "appraisal.json").read_text())

DETERMINISTIC = 1e-6   # relative
SCORES = 1e-3          # absolute: Brier, IPA, net benefit
HORIZONS = ("12", "24")


@pytest.fixture(scope="module")
def cohort():
    return contract.load_cohort(contract.DEFAULT_COHORT)


@pytest.fixture(scope="module")
def ap(cohort) -> dict:
    return report.compute_results(cohort)["appraisal"]


@pytest.fixture(scope="module")
def fit(cohort):
    return analysis.os_nomogram(cohort)[0]


def test_same_data_and_model(cohort, fit):
    """The reference is of this cohort and this five-term model (else every comparison below is moot)."""
    assert len(cohort) == REF["n"]
    assert list(fit.terms) == REF["terms"]
    np.testing.assert_allclose(fit.coef, REF["coef"], rtol=DETERMINISTIC)


# ----------------------------------------------------------------------------- sample size
@pytest.mark.parametrize("key", ["candidate_parameters", "events", "criterion1_n", "criterion2_n",
                                 "criterion3_n", "required_n"])
def test_sample_size_counts(ap, key):
    got = ap["sample_size"][key]
    assert isinstance(got, int)
    assert got == REF["sample_size"][key]


@pytest.mark.parametrize("key", ["r2_cs", "rate_per_month", "mean_followup_months", "events_per_parameter"])
def test_sample_size_numbers(ap, key):
    assert ap["sample_size"][key] == pytest.approx(REF["sample_size"][key], rel=DETERMINISTIC)


def test_sample_size_before_rounding(fit):
    """Each criterion before rounding up (R solves criterion 3 numerically, the Python in closed form)."""
    res = appraisal.sample_size(fit)["result"]
    ref = REF["sample_size"]
    for k in (1, 2, 3):
        assert getattr(res, f"criterion{k}_n_exact") == pytest.approx(ref[f"criterion{k}_n_exact"],
                                                                    rel=DETERMINISTIC), k
    assert res.max_r2_cs == pytest.approx(ref["max_r2_cs"], rel=DETERMINISTIC)


# ----------------------------------------------------------------------------- shrinkage
def test_heuristic_shrinkage(ap):
    assert ap["shrinkage"]["heuristic"] == pytest.approx(REF["shrinkage"]["heuristic"], rel=DETERMINISTIC)


def test_penalty_same_grid_value(ap):
    grid = np.asarray(REF["shrinkage"]["grid"])
    got, want = ap["shrinkage"]["penalty"], REF["shrinkage"]["penalty"]
    assert int(np.argmin(np.abs(np.log(grid / got)))) == int(np.argmin(np.abs(np.log(grid / want))))
    assert got == pytest.approx(want, rel=1e-12)


def test_penalty_cv_curve(fit):
    """The whole leave-one-out cvl curve, not only its argmax."""
    cv = appraisal.penalised_model(fit)
    np.testing.assert_allclose(cv.grid, REF["shrinkage"]["grid"], rtol=1e-12)
    np.testing.assert_allclose(cv.cvl, REF["shrinkage"]["cvl"], rtol=DETERMINISTIC)


# ----------------------------------------------------------------------------- continuous vs dichotomised
@pytest.mark.parametrize("model", ["continuous", "dichotomised"])
@pytest.mark.parametrize("key", ["lr_chi2", "aic", "c_index"])
def test_model_comparison(ap, model, key):
    assert ap[model][key] == pytest.approx(REF[model][key], rel=DETERMINISTIC)


@pytest.mark.parametrize("model", ["continuous", "dichotomised"])
def test_model_comparison_df(ap, model):
    assert isinstance(ap[model]["df"], int)
    assert ap[model]["df"] == REF[model]["df"]


# ----------------------------------------------------------------------------- utility
@pytest.mark.parametrize("h", HORIZONS)
def test_thresholds(ap, h):
    np.testing.assert_allclose(ap["dca"][h]["thresholds"], REF["dca"][h]["thresholds"], rtol=0, atol=1e-15)


@pytest.mark.parametrize("h", HORIZONS)
@pytest.mark.parametrize("col", ["nb_model", "nb_all"])
def test_net_benefit(ap, h, col):
    got, want = ap["dca"][h][col], REF["dca"][h][col]
    assert len(got) == len(want)
    assert [g is None for g in got] == [w is None for w in want]
    np.testing.assert_allclose(np.array(got, dtype=float), np.array(want, dtype=float), rtol=0, atol=SCORES)


@pytest.mark.parametrize("key", ["brier_12", "brier_24", "ipa_12", "ipa_24"])
def test_brier_ipa(ap, key):
    assert ap["brier"][key] == pytest.approx(REF["brier"][key], rel=0, abs=SCORES)


def test_observed_expected_24(ap):
    assert ap["oe_24"] == pytest.approx(REF["oe_24"], rel=DETERMINISTIC)
