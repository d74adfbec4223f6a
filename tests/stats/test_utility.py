"""Tests of dmnpc.stats.utility: R goldens (tests/reference/utility.json from ref_utility.R:
survival 3.5.3 survfit.coxph, riskRegression 2022.11.28 Score, the Kaplan-Meier net benefit
written plainly in R), hand-worked cases and errors.

Tolerances. Against R on R's own predictions (read from the JSON, printed with 17 significant
digits) both sides evaluate the same finite sums in double precision, so they differ only by
rounding and summation order: 1e-10 relative. Through the Python Cox fit the predictions
themselves differ from R's by the two Newton iterations' stopping points: 1e-6 relative, the
tolerance of every fitted-model comparison in these tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dmnpc.stats import utility as U
from dmnpc.stats.cox import fit_cox

HERE = Path(__file__).resolve().parents[1]  # tests/
REF = json.loads((HERE / "reference" / "utility.json").read_text())
GBSG = pd.read_csv(HERE / "data" / "gbsg.csv")
T = GBSG["rfstime"].to_numpy(float)
E = GBSG["status"].to_numpy(int)
HORIZONS = REF["horizons"]
THRESHOLDS = REF["thresholds"]
S_R = np.array(REF["surv"]).T  # R's S(t | x), patients x horizons
EXACT = 1e-10  # same inputs as R: rounding only
FITTED = 1e-6  # through the Python fit
FIT = fit_cox(T, E, GBSG[REF["terms"]])
S_PY = FIT.predict_survival(HORIZONS)
BY_HORIZON = pytest.mark.parametrize("j", range(len(HORIZONS)), ids=["2y", "5y"])


def _nan(x) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in x], dtype=float)


# ---------------------------------------------------------------- R: the model
def test_cox_fit_and_predicted_survival_equal_r():
    np.testing.assert_allclose(FIT.coef, REF["coef"], rtol=FITTED)
    np.testing.assert_allclose(S_PY, S_R, rtol=FITTED)


# ---------------------------------------------------------------- R: Brier score and IPA
@BY_HORIZON
def test_brier_and_ipa_equal_riskregression(j):
    got = U.brier_score(T, E, S_R[:, j], HORIZONS[j])
    assert got.horizon == HORIZONS[j]
    assert got.brier == pytest.approx(REF["brier"][j], rel=EXACT)
    assert got.brier_null == pytest.approx(REF["brier_null"][j], rel=EXACT)
    assert got.ipa == pytest.approx(REF["ipa"][j], rel=EXACT)


@BY_HORIZON
def test_brier_of_the_python_fit_equals_riskregression(j):
    got = U.brier_score(T, E, S_PY[:, j], HORIZONS[j])
    assert got.brier == pytest.approx(REF["brier"][j], rel=FITTED)
    assert got.ipa == pytest.approx(REF["ipa"][j], rel=FITTED)


def test_brier_ties_as_riskregression():
    # deaths tied with censorings at 2, 3 and at the horizon 5: events weighted by 1/G(T-),
    # survivors by 1/G(t) (the censoring at t included), deaths before censorings in G
    d = REF["tiny_brier"]
    got = U.brier_score(d["time"], d["status"], 1 - np.array(d["risk"]), d["horizon"])
    assert got.brier == pytest.approx(d["brier"][0], rel=EXACT)
    assert got.brier_null == pytest.approx(d["brier_null"][0], rel=EXACT)
    assert got.ipa == pytest.approx(d["ipa"][0], rel=EXACT)


def test_brier_ties_by_hand():
    # the same data worked by hand. Reverse KM, deaths first: G = 0.9 after t=1, x (1 - 1/8)
    # at 2 (9 at risk, 1 of them died at 2), x (1 - 1/6) at 3, x (1 - 1/3) at 5.
    d = REF["tiny_brier"]
    g1, g2 = 0.9, 0.9 * 7 / 8
    g3 = g2 * 5 / 6
    g5 = g3 * 2 / 3
    risk = np.array(d["risk"])
    # events at 2, 3, 4, 5 (weights 1/G(T-)); survivors at 6 and 7 (weight 1/G(5))
    terms = ((1 - risk[1]) ** 2 / g1 + (1 - risk[3]) ** 2 / g2 + (1 - risk[5]) ** 2 / g3
             + (1 - risk[6]) ** 2 / g3 + (risk[8] ** 2 + risk[9] ** 2) / g5)
    got = U.brier_score(d["time"], d["status"], 1 - risk, 5)
    assert got.brier == pytest.approx(terms / 10, rel=1e-12)


# ---------------------------------------------------------------- R: net benefit
@BY_HORIZON
@pytest.mark.parametrize("extend, key", [(False, "net_benefit"), (True, "net_benefit_extend")])
def test_net_benefit_equals_r(j, extend, key):
    ref = REF[key][j]
    got = U.net_benefit(T, E, 1 - S_R[:, j], HORIZONS[j], THRESHOLDS, extend=extend)
    assert got.columns.tolist() == ["threshold", "nb_model", "nb_all", "nb_none", "n_treated"]
    np.testing.assert_array_equal(got["threshold"], ref["threshold"])
    np.testing.assert_array_equal(got["n_treated"], ref["n_treated"])
    np.testing.assert_allclose(got["nb_model"], ref["nb_model"], rtol=EXACT)
    np.testing.assert_allclose(got["nb_all"], ref["nb_all"], rtol=EXACT)
    assert (got["nb_none"] == 0).all()


@BY_HORIZON
def test_net_benefit_of_the_python_fit_equals_r(j):
    # the same patients are treated only if no R risk lies within the fits' difference of a
    # threshold: check that first (else the comparison would fail for a reason of its own)
    risk_r = 1 - S_R[:, j]
    gap = np.min(np.abs(risk_r[:, None] - np.array(THRESHOLDS)[None, :]))
    assert gap > 100 * np.max(np.abs(S_PY[:, j] - S_R[:, j]))
    got = U.net_benefit(T, E, 1 - S_PY[:, j], HORIZONS[j], THRESHOLDS)
    np.testing.assert_array_equal(got["n_treated"], REF["net_benefit"][j]["n_treated"])
    np.testing.assert_allclose(got["nb_model"], REF["net_benefit"][j]["nb_model"], rtol=FITTED)


@pytest.mark.parametrize("extend, key", [(False, "no_extend"), (True, "extend")])
def test_net_benefit_when_the_treated_are_not_followed_to_the_horizon(extend, key):
    # at threshold 0.5 the two treated patients are censored at 2 and 3, before the horizon 4:
    # not estimable (nan, dcurves) or the KM carried forward (S = 1, stdca's extend = TRUE);
    # the patient with risk exactly 0.3 is treated at threshold 0.3
    d = REF["tiny_nb"]
    ref = d[key]
    got = U.net_benefit(d["time"], d["status"], d["risk"], d["horizon"], ref["threshold"], extend=extend)
    np.testing.assert_array_equal(got["n_treated"], ref["n_treated"])
    np.testing.assert_allclose(got["nb_model"], _nan(ref["nb_model"]), rtol=EXACT)
    np.testing.assert_allclose(got["nb_all"], ref["nb_all"], rtol=EXACT)
    assert np.isnan(got["nb_model"].iloc[2]) == (not extend)


# ---------------------------------------------------------------- R: observed / expected
@BY_HORIZON
def test_observed_expected_equals_r(j):
    got = U.observed_expected(T, E, S_R[:, j], HORIZONS[j])
    assert got.observed == pytest.approx(REF["observed"][j], rel=EXACT)
    assert got.expected == pytest.approx(REF["expected"][j], rel=EXACT)
    assert got.ratio == pytest.approx(REF["oe"][j], rel=EXACT)
    got_py = U.observed_expected(T, E, S_PY[:, j], HORIZONS[j])
    assert got_py.ratio == pytest.approx(REF["oe"][j], rel=FITTED)


# ---------------------------------------------------------------- hand-worked
# no censoring before the horizon 5 (one censoring after it): every IPCW weight is 1
TIME = np.array([1.0, 2.0, 3.0, 4.0, 6.0, 7.0, 8.0, 9.0])
EVENT = np.array([1, 1, 1, 1, 1, 0, 1, 1])
RISK = np.array([0.7, 0.4, 0.9, 0.2, 0.35, 0.1, 0.6, 0.05])
DIED = (TIME <= 5) & (EVENT == 1)  # outcome by the horizon: 4 of 8


def test_brier_without_censoring_is_the_mean_squared_error():
    got = U.brier_score(TIME, EVENT, 1 - RISK, 5.0)
    assert got.brier == pytest.approx(np.mean((DIED - RISK) ** 2), rel=1e-12)
    p = DIED.mean()
    assert got.brier_null == pytest.approx(p * (1 - p), rel=1e-12)
    assert got.ipa == pytest.approx(1 - got.brier / got.brier_null, rel=1e-12)


def test_brier_of_a_perfect_prediction_is_zero_and_ipa_one():
    got = U.brier_score(TIME, EVENT, 1.0 - DIED, 5.0)
    assert got.brier == 0.0 and got.ipa == 1.0


def test_ipa_undefined_when_the_null_model_is_perfect():
    # no event by the horizon: the null model predicts survival 1 and is never wrong
    got = U.brier_score([3.0, 4.0, 5.0], [0, 0, 1], [0.9, 0.8, 1.0], 2.0)
    assert got.brier_null == 0.0 and np.isnan(got.ipa)
    assert got.brier == pytest.approx((0.1 ** 2 + 0.2 ** 2) / 3, rel=1e-12)


def test_net_benefit_without_censoring_is_the_binary_net_benefit():
    # Vickers & Elkin 2006: NB = TP/n - FP/n * p/(1 - p), counting patients
    got = U.net_benefit(TIME, EVENT, RISK, 5.0, [0.1, 0.3, 0.5])
    n = TIME.size
    for p, row in zip([0.1, 0.3, 0.5], got.itertuples()):
        treated = RISK >= p
        tp, fp = np.sum(treated & DIED), np.sum(treated & ~DIED)
        assert row.nb_model == pytest.approx(tp / n - fp / n * p / (1 - p), rel=1e-12)
        assert row.n_treated == treated.sum()


def test_treat_all_is_the_formula_and_the_model_when_everybody_is_treated():
    p = 0.2
    got = U.net_benefit(TIME, EVENT, RISK, 5.0, p)
    prev = DIED.mean()  # no censoring before 5: KM risk = share with the event
    assert got["nb_all"].iloc[0] == pytest.approx(prev - (1 - prev) * p / (1 - p), rel=1e-12)
    everybody = U.net_benefit(TIME, EVENT, RISK, 5.0, RISK.min())
    assert everybody["n_treated"].iloc[0] == TIME.size
    assert everybody["nb_model"].iloc[0] == pytest.approx(everybody["nb_all"].iloc[0], rel=1e-12)


def test_net_benefit_is_zero_when_nobody_is_treated():
    got = U.net_benefit(TIME, EVENT, RISK, 5.0, [0.95, 0.99])
    assert (got["nb_model"] == 0.0).all() and (got["n_treated"] == 0).all()
    assert (got["nb_all"] < 0).all()


def test_observed_expected_by_hand():
    got = U.observed_expected(TIME, EVENT, 1 - RISK, 5.0)
    assert got.observed == pytest.approx(DIED.mean(), rel=1e-12)
    assert got.expected == pytest.approx(RISK.mean(), rel=1e-12)
    assert got.ratio == pytest.approx(DIED.mean() / RISK.mean(), rel=1e-12)
    calibrated = U.observed_expected(TIME, EVENT, np.full(TIME.size, 1 - DIED.mean()), 5.0)
    assert calibrated.ratio == pytest.approx(1.0, rel=1e-12)


def test_observed_expected_interval_by_hand():
    # log(O/E) +/- 1.96 sqrt(1/O), O = events at or before the horizon (McLernon et al. 2023);
    # the case study's numbers are pinned in tests/cases/test_stratos.py
    got = U.observed_expected(TIME, EVENT, 1 - RISK, 5.0)
    o = int(np.sum((TIME <= 5.0) & (EVENT == 1)))
    assert got.events == o
    half = 1.959963984540054 * np.sqrt(1 / o)
    assert got.lower == pytest.approx(got.ratio * np.exp(-half), rel=1e-12)
    assert got.upper == pytest.approx(got.ratio * np.exp(half), rel=1e-12)
    none = U.observed_expected(TIME, np.zeros_like(EVENT), 1 - RISK, 5.0)
    assert none.events == 0 and np.isnan(none.lower) and np.isnan(none.upper)


# ---------------------------------------------------------------- errors (the one checker's wording)
@pytest.mark.parametrize("thresholds", [0.0, 1.0, [0.1, 1.2], [-0.1], [0.2, np.nan], []])
def test_thresholds_outside_zero_one(thresholds):
    match = "no thresholds" if np.size(thresholds) == 0 else "strictly between 0 and 1"
    with pytest.raises(ValueError, match=match):
        U.net_benefit(TIME, EVENT, RISK, 5.0, thresholds)


@pytest.mark.parametrize("bad", [1.2, -0.1])
def test_probabilities_outside_zero_one(bad):
    r = RISK.copy()
    r[0] = bad
    with pytest.raises(ValueError, match="predicted risk must be probabilities between 0 and 1"):
        U.net_benefit(TIME, EVENT, r, 5.0, 0.2)
    with pytest.raises(ValueError, match="predicted survival must be probabilities between 0 and 1"):
        U.brier_score(TIME, EVENT, r, 5.0)
    with pytest.raises(ValueError, match="predicted survival must be probabilities between 0 and 1"):
        U.observed_expected(TIME, EVENT, r, 5.0)


@pytest.mark.parametrize("fn", [U.brier_score, U.observed_expected,
                                lambda t, e, p, h: U.net_benefit(t, e, p, h, 0.2)])
def test_checked_by_the_common_checker(fn):
    with pytest.raises(ValueError, match="has 7 values but there are 8 patients"):
        fn(TIME, EVENT, RISK[:-1], 5.0)
    with pytest.raises(ValueError, match="has missing values"):
        fn(TIME, EVENT, np.r_[np.nan, RISK[1:]], 5.0)
    with pytest.raises(ValueError, match="event has 7 values but there are 8 patients"):
        fn(TIME, EVENT[:-1], RISK, 5.0)
    with pytest.raises(ValueError, match="must be 0 \\(censored\\) or 1"):
        fn(TIME, np.r_[2, EVENT[1:]], RISK, 5.0)
    with pytest.raises(ValueError, match="beyond the longest follow-up"):
        fn(TIME, EVENT, RISK, 10.0)
    with pytest.raises(ValueError, match="must be a positive time"):
        fn(TIME, EVENT, RISK, 0.0)
