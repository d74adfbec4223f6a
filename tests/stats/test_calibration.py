"""Tests of dmnpc.stats.calibration: hand-worked cases, R goldens (tests/reference/calibration.json
from ref_calibration.R, rms 6.5.0) and errors."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dmnpc.book import plots
from dmnpc.stats.cox import fit_cox
from dmnpc.stats import calibration as C

HERE = Path(__file__).resolve().parents[1]  # tests/
REF = json.loads((HERE / "reference" / "calibration.json").read_text())
GBSG = pd.read_csv(HERE / "data" / "gbsg.csv")
COLS = ["age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon"]
X = GBSG[COLS]
T = GBSG["rfstime"].to_numpy(float)
E = GBSG["status"].to_numpy(int)
U = REF["u"]
PRED_R = np.array(REF["predicted"])
FIT = fit_cox(T, E, X)
FIT_RMS = fit_cox(T, E, X, eps=1e-4)  # rms::cph's convergence rule
REL = 1e-6


# ---------------------------------------------------------------- hand-worked
def test_cut2_left_closed_groups():
    g = C._cut2(np.array([0.2, 0.5, 0.7, 1.0]), np.array([0.0, 0.5, 1.0]))
    assert g.tolist() == [0, 1, 1, 1]


def test_rms_cuts_are_quantiles_of_0_1_and_predictions():
    p = np.linspace(0.1, 0.9, 300)
    cuts = C._rms_cuts(p, 150)  # floor(300/150) = 2 groups
    np.testing.assert_allclose(cuts, np.quantile(np.r_[0, 1, p], [0, 0.5, 1]))


def test_rcs_basis_hand():
    # knots 0, 1, 2: non-linear term at x = 3 is (27 - 8*2 + 1*1) / 4 = 3, and linear beyond 2
    b = C.rcs_basis(np.array([-1.0, 3.0, 4.0, 5.0]), np.array([0.0, 1.0, 2.0]))
    np.testing.assert_allclose(b[:, 1], [0.0, 3.0, 4.5, 6.0])
    np.testing.assert_allclose(b[:, 0], [-1, 3, 4, 5])


def test_perfect_calibration_slope_is_one_for_cox_predictions():
    # predictions of the fitted Cox model itself: cloglog(risk) = log H0(u) + lp, so the slope is 1
    p = FIT.predict_survival(U)[:, 0]
    s = C.calibration_smooth(p, T, E, U)
    assert s.slope == pytest.approx(1.0, abs=1e-8)
    assert isinstance(s.ici, float)


def test_efron_and_breslow_predictions_differ_only_where_times_tie():
    # lifelines predicts with the Breslow baseline; rms with the Efron-type one: close, not equal
    from lifelines import CoxPHFitter

    d = GBSG[COLS + ["rfstime", "status"]]
    m = CoxPHFitter().fit(d, "rfstime", "status", fit_options=dict(precision=1e-20, r_precision=1e-14))
    p = m.predict_survival_function(GBSG[COLS], times=[U]).to_numpy().ravel()
    np.testing.assert_allclose(FIT.predict_survival(U, method="breslow")[:, 0], p, rtol=1e-7)
    assert np.abs(p - PRED_R).max() < 5e-3


# ---------------------------------------------------------------- R goldens
def test_predicted_survival_matches_rms_cph():
    p = FIT_RMS.predict_survival(U)[:, 0]
    np.testing.assert_allclose(p, PRED_R, rtol=REL)


def test_grouped_apparent_matches_rms_calibrate():
    got = C.calibration_km(PRED_R, T, E, U, m=REF["m"])
    a = REF["apparent"]
    np.testing.assert_allclose(got["mean_predicted"], a["mean_predicted"], rtol=REL)
    np.testing.assert_allclose(got["km"], a["KM"], rtol=REL)
    np.testing.assert_allclose(got["std_err"], a["std_err"], rtol=REL)


def test_smooth_calibration_matches_austin_code():
    s = C.calibration_smooth(PRED_R, T, E, U, eps=1e-4)
    np.testing.assert_allclose(s.knots, REF["knots"], rtol=REL)
    obs_r = np.sort(np.array(REF["observed"]))
    np.testing.assert_allclose(np.sort(s.curve["observed_risk"]), obs_r, rtol=REL)
    for ours, theirs in [(s.ici, "ICI"), (s.e50, "E50"), (s.e90, "E90"), (s.slope, "slope")]:
        assert ours == pytest.approx(REF[theirs], rel=REL)


def test_bootstrap_corrected_km_within_monte_carlo_error():
    """Our B=200 run (NumPy seed) vs the mean of R's 10 runs with B=200 (R seeds 1..10).

    Monte Carlo error: both are B=200 bootstrap means with the same per-run SD
    sigma. R's SD over its k=10 runs, s, estimates sigma; its upper 97.5%
    confidence limit is s*sqrt((k-1)/chi2_{0.025,k-1}) = 1.83 s. The difference
    (ours - mean of R's) has SD sigma*sqrt(1 + 1/k); we allow 3 of those with
    sigma at its upper limit (false-alarm rate < 0.3% per group).
    """
    runs = np.array([r["KM_corrected"] for r in REF["runs"]])
    k = runs.shape[0]
    s = runs.std(axis=0, ddof=1)
    sigma_up = s * np.sqrt((k - 1) / stats.chi2.ppf(0.025, k - 1))
    tol = 3 * sigma_up * np.sqrt(1 + 1 / k)
    got = C.calibration_km_boot(FIT, U, m=REF["m"], B=200, seed=2024)
    diff = np.abs(got["km_corrected"].to_numpy() - runs.mean(axis=0))
    assert np.all(diff < tol), (diff, tol)
    assert (got["n_boot"] == 200).all()


def test_bootstrap_reproducible():
    a = C.calibration_km_boot(FIT, U, B=20, seed=5)
    b = C.calibration_km_boot(FIT, U, B=20, seed=5)
    pd.testing.assert_frame_equal(a, b)


# ---------------------------------------------------------------- errors
def test_errors():
    with pytest.raises(ValueError, match="beyond the longest follow-up"):
        C.calibration_km(PRED_R, T, E, 1e6)
    with pytest.raises(ValueError, match="horizon must be a positive time"):
        C.calibration_km(PRED_R, T, E, -5)
    with pytest.raises(ValueError, match="probabilities between 0 and 1"):
        C.calibration_km(PRED_R * 2, T, E, U)
    with pytest.raises(ValueError, match="predicted survival has 10 values but there are"):
        C.calibration_km(PRED_R[:10], T, E, U)
    with pytest.raises(ValueError, match="m \\(patients per group\\)"):
        C.calibration_km(PRED_R, T, E, U, m=1)
    with pytest.raises(ValueError, match="takes a converged fit"):
        C.calibration_km_boot(X, U)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        C.calibration_smooth(np.where(np.arange(T.size) == 0, 1.0, PRED_R), T, E, U)
    with pytest.raises(ValueError, match="3, 4 or 5 knots"):
        C.calibration_smooth(PRED_R, T, E, U, nk=7)
    with pytest.raises(ValueError, match="too few distinct values"):
        C.calibration_smooth(np.full(T.size, 0.5), T, E, U)
    with pytest.raises(ValueError, match="positive integer"):
        C.calibration_km_boot(FIT, U, B=0)
    with pytest.raises(ValueError, match="Give grouped calibration"):
        plots.plot_calibration()
    with pytest.raises(ValueError, match="scale must be"):
        plots.plot_calibration(C.calibration_km(PRED_R, T, E, U), scale="odds")
    with pytest.raises(ValueError, match="no events"):
        C.calibration_km(PRED_R, T, np.zeros_like(E), U)
