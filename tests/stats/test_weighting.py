"""Propensity scores, balancing weights, balance and the weighted HR against R (tests/reference/ref_weighting.R).

On the synthetic twin (90 patients, treatment = LRRT). Both sides converge fully (``glm`` with
``epsilon = 1e-14``, statsmodels' IRLS to a deviance change of 1e-12; ``coxph`` with ``eps = 1e-12``),
so differences are rounding: measured at most ~2e-11 relative (the overlap-weighted Cox
P value; the propensity scores to ~3e-15). ``RTOL = 1e-6`` is the agreement asked of the module;
the weights, SMDs and ESS are closed-form in the propensity scores and inherit their agreement.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dmnpc.stats.cox import fit_cox
from dmnpc.stats.weighting import (WEIGHT_METHODS, PropensityFit, SeparationError, balance_table, balancing_weights,
                                   effective_sample_size, propensity_score, weighted_hr)

ROOT = Path(__file__).resolve().parents[2]
REF = json.loads((ROOT / "tests" / "reference" / "weighting.json").read_text())
TWIN = pd.read_csv(ROOT / "data" / "twin" / "dmnpc_twin.csv")
RTOL = 1e-6


def covariates(d: pd.DataFrame) -> pd.DataFrame:
    """The propensity model's covariates, coded as in the R script."""
    return pd.DataFrame({
        "age": d["age"], "log10_ebv": np.log10(d["ebv_dna"] + 1),
        "t34": d["t_stage"].isin(["T3", "T4"]).astype(int), "n23": d["n_stage"].isin(["N2", "N3"]).astype(int),
        "multi_organ_mets": d["multi_organ_mets"], "multiple_lesions": (d["met_lesions"] == "multiple").astype(int),
        "liver_mets": d["liver_mets"], "bone_mets": d["bone_mets"], "lung_mets": d["lung_mets"]})


X = covariates(TWIN)
TR = TWIN["lrrt"].to_numpy()


def _close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=0)


@pytest.fixture(scope="module")
def ps() -> PropensityFit:
    return propensity_score(TR, X)


# ----------------------------------------------------------------------------- R golden values
def test_propensity_score_matches_glm(ps):
    assert list(ps.terms) == REF["terms"]
    _close(ps.coef, REF["glm_coef"])
    _close(ps.se, REF["glm_se"])
    _close(ps.deviance, REF["glm_deviance"])
    _close(ps.score, REF["ps"])
    assert (ps.n, ps.n_treated) == (90, int(TR.sum()))


@pytest.mark.parametrize("method", WEIGHT_METHODS)
def test_weights_balance_and_ess_match_r(ps, method):
    ref = REF[method]
    w = balancing_weights(ps, method)
    _close(w, ref["weights"])
    ess = effective_sample_size(TR, w)
    _close([ess["treated"], ess["untreated"]], ref["ess"])
    tab = balance_table(TR, X, w)
    assert tab["term"].tolist() == REF["terms"] and tab["binary"].tolist() == REF["binary"]
    for c in ("mean_treated", "mean_untreated", "sd_pooled", "smd", "mean_treated_w", "mean_untreated_w"):
        _close(tab[c], ref[c])
    # overlap weights balance the model's covariates exactly: their SMDs are rounding, compare absolutely
    np.testing.assert_allclose(tab["smd_w"], ref["smd_w"], rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("method", WEIGHT_METHODS)
def test_weighted_hr_matches_coxph_robust(ps, method):
    ref = REF[method]["cox"]
    w = balancing_weights(ps, method)
    hr = weighted_hr(TWIN["os_months"], TWIN["os_event"], TR, w)
    for k in ("coef", "se", "naive_se", "hr", "lower", "upper", "z", "p"):
        _close(hr[k], ref[k])
    assert (hr["n"], hr["n_events"]) == (ref["n"], ref["nevent"])
    fit = fit_cox(TWIN["os_months"], TWIN["os_event"], pd.DataFrame({"no_lrrt": 1 - TR}), weights=w, robust=True)
    _close(fit.robust_score_test["chisq"], ref["rscore"])


def test_unweighted_hr_for_comparison():
    ref = REF["unweighted_cox"]
    hr = weighted_hr(TWIN["os_months"], TWIN["os_event"], TR, np.ones(TR.size))
    _close([hr["coef"], hr["naive_se"]], [ref["coef"], ref["se"]])  # unit weights: naive = coxph's se


# ----------------------------------------------------------------------------- hand-worked and properties
def test_weights_by_hand():
    # the formulas on three scores, treated share 2/3
    fit = PropensityFit(terms=("x",), coef=pd.Series(dtype=float), se=pd.Series(dtype=float),
                        score=np.array([0.8, 0.5, 0.25]), treatment=np.array([1, 1, 0]), X=np.zeros((3, 1)),
                        deviance=0.0, iterations=0)
    np.testing.assert_allclose(balancing_weights(fit, "ipw_stabilised"), [(2 / 3) / 0.8, (2 / 3) / 0.5,
                                                                          (1 / 3) / 0.75], rtol=1e-15)
    np.testing.assert_allclose(balancing_weights(fit, "overlap"), [0.2, 0.5, 0.25], rtol=1e-15)


def test_ess_and_smd_by_hand():
    tr = np.array([1, 1, 1, 0, 0])
    assert effective_sample_size(tr, [1, 1, 2, 3, 3]) == pytest.approx({"treated": 16 / 6, "untreated": 2.0})
    x = pd.DataFrame({"b": [1, 0, 1, 0, 1], "c": [1.0, 2.0, 6.0, 3.0, 5.0]})
    tab = balance_table(tr, x, [1, 1, 2, 3, 3]).set_index("term")
    # binary: p1 = 2/3, p0 = 1/2, SD sqrt((2/9 + 1/4) / 2); weighted p1 = 3/4
    sd_b = np.sqrt((2 / 9 + 1 / 4) / 2)
    assert tab.loc["b", "smd"] == pytest.approx((2 / 3 - 1 / 2) / sd_b, rel=1e-14)
    assert tab.loc["b", "smd_w"] == pytest.approx((3 / 4 - 1 / 2) / sd_b, rel=1e-14)
    # continuous: means 3 and 4, variances 7 and 2 (n - 1); weighted treated mean (1 + 2 + 12) / 4
    sd_c = np.sqrt((7 + 2) / 2)
    assert tab.loc["c", "smd"] == pytest.approx(-1 / sd_c, rel=1e-14)
    assert tab.loc["c", "smd_w"] == pytest.approx((15 / 4 - 4) / sd_c, rel=1e-14)
    assert tab.loc["c", "sd_pooled"] == pytest.approx(sd_c, rel=1e-14) and not tab.loc["c", "binary"]


def test_unit_weights_change_nothing():
    tab = balance_table(TR, X, np.ones(TR.size))
    np.testing.assert_allclose(tab["smd_w"], tab["smd"], rtol=1e-12)
    assert effective_sample_size(TR, np.ones(TR.size)) == {"treated": TR.sum(), "untreated": (1 - TR).sum()}
    assert "smd_w" not in balance_table(TR, X)


@pytest.mark.parametrize("seed", range(5))
def test_overlap_weights_balance_every_model_covariate_exactly(seed):
    """Li, Morgan & Zaslavsky (2018): with a logistic propensity model, weighted means are equal."""
    rng = np.random.default_rng(seed)
    n = 200
    Z = pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 2, n), "c": rng.gamma(2.0, size=n)})
    tr = rng.binomial(1, 1 / (1 + np.exp(-(0.3 + Z["a"] - Z["b"] + 0.2 * Z["c"]))))
    ps = propensity_score(tr, Z)
    tab = balance_table(tr, Z, balancing_weights(ps, "overlap"))
    np.testing.assert_allclose(tab["smd_w"], 0.0, atol=1e-9)
    assert np.abs(tab["smd"]).max() > 0.1  # and they were not balanced before


# ----------------------------------------------------------------------------- separation
@pytest.mark.parametrize("extra, named", [
    (pd.DataFrame({"copy": TR}), "copy"),  # complete separation
    (pd.DataFrame({"q": ((TR == 1) & (TWIN["age"] < 40)).astype(int)}), "q"),  # quasi: q = 1 only if treated
    (pd.DataFrame({"young_treated": (TR == 1) * (TWIN["age"] < 45) * (TWIN["age"] - 20)}), "young_treated"),
])
def test_separation_is_one_clear_error_naming_the_covariate(extra, named):
    with pytest.raises(SeparationError, match=rf"predicted exactly by \['{named}'\].*positivity"):
        propensity_score(TR, pd.concat([X, extra], axis=1))
    assert issubclass(SeparationError, ValueError)


def test_r_glm_does_not_warn_on_these_separations():
    """Why a linear program rather than R's warning: glm returns huge finite coefficients silently here."""
    assert REF["glm_warnings_exact"] == [] and REF["glm_warnings_quasi"] == []


def test_twin_is_not_separated_and_scores_are_inside_0_1(ps):
    assert 0 < ps.score.min() and ps.score.max() < 1


# ----------------------------------------------------------------------------- errors
def test_errors(ps):
    with pytest.raises(ValueError, match="every patient is treated"):
        propensity_score(np.ones(90), X)
    with pytest.raises(ValueError, match="treatment must be 0 \\(untreated\\) or 1 \\(treated\\)"):
        propensity_score(np.r_[2, TR[1:]], X)
    with pytest.raises(ValueError, match="collinear"):
        propensity_score(TR, X.assign(age2=2 * X["age"] + 1))
    with pytest.raises(ValueError, match="same value for every patient"):
        propensity_score(TR, X.assign(k=1.0))
    with pytest.raises(ValueError, match="missing"):
        propensity_score(TR, X.assign(age=np.r_[np.nan, X["age"].to_numpy()[1:]]))
    with pytest.raises(ValueError, match="unknown weighting 'ato'"):
        balancing_weights(ps, "ato")
    with pytest.raises(ValueError, match="expected a PropensityFit"):
        balancing_weights(ps.score, "overlap")
    with pytest.raises(ValueError, match="weights must be positive"):
        effective_sample_size(TR, np.zeros(90))
    with pytest.raises(ValueError, match="weights has 3 values but there are 90 patients"):
        balance_table(TR, X, [1, 2, 3])
    with pytest.raises(ValueError, match="treatment has 3 values but there are 90 patients"):
        weighted_hr(TWIN["os_months"], TWIN["os_event"], [1, 0, 1], np.ones(90))
    no_events_untreated = TWIN["os_event"] * TR
    with pytest.raises(ValueError, match="no events among the untreated"):
        weighted_hr(TWIN["os_months"], no_events_untreated, TR, np.ones(90))
