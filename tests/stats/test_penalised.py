"""Tests of dmnpc.stats.penalised: the leave-one-out cvl of Verweij & van Houwelingen against a plain R loop of
coxph(ridge(..., scale = FALSE)) (tests/reference/penalised.json from ref_penalised.R, survival 3.5.3) on a
random 90 patients of gbsg with 10 design columns (rcs terms); the batched leave-one-out against a loop
over subsets; the ridge path near theta = 0 against fit_cox; scale invariance; errors.

Tolerances. R's fits stop at eps = 1e-12 (relative change in the penalised log-likelihood) and this
module's at a 1e-10 relative step, both after Newton's quadratic convergence: the cvl (a sum of 90
differences of log-likelihoods of order 200) and the coefficients agree far below the 1e-6 relative
tolerance used (measured ~1e-12).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dmnpc.stats import _engine as cf
from dmnpc.stats import penalised as P
from dmnpc.stats.cox import efron_score_information, fit_cox
from dmnpc.stats.splines import rcs_design
from dmnpc.stats.validation import ridge_cox

HERE = Path(__file__).resolve().parents[1]  # tests/
REF = json.loads((HERE / "reference" / "penalised.json").read_text())
GBSG = pd.read_csv(HERE / "data" / "gbsg.csv").assign(lnodes=lambda d: np.log10(d["nodes"] + 1))
D90 = GBSG.iloc[np.asarray(REF["rows"], dtype=int) - 1]
Z, _ = rcs_design(D90[["age", "lnodes", "pgr", "meno", "grade", "hormon", "size"]],
                  {"age": 3, "lnodes": 3, "pgr": 3})
T = D90["rfstime"].to_numpy(float)
E = D90["status"].to_numpy(int)
REL = 1e-6
RUNS = {r["scale"]: r for r in REF["runs"]}


@pytest.fixture(scope="module", params=[False, True], ids=["unscaled", "scaled"])
def run(request):
    return P.ridge_cv(T, E, Z, REF["grid"], scale=request.param), RUNS[request.param]


def test_design_is_rms_design():
    assert list(Z.columns) == REF["terms"] and Z.shape == (90, 10) and E.sum() == 42


def test_cvl_curve_equals_r_loop(run):
    cv, ref = run
    np.testing.assert_allclose(cv.grid, REF["grid"], rtol=1e-15)
    np.testing.assert_allclose(cv.cvl, ref["cvl"], rtol=REL)
    pd.testing.assert_frame_equal(cv.table, pd.DataFrame({"theta": cv.grid, "cvl": cv.cvl}))


def test_chosen_theta_and_refit_equal_r(run):
    cv, ref = run
    assert cv.theta == ref["theta"]
    assert not cv.at_boundary  # an interior maximum on this grid
    # not a near tie: the runner-up is below by over 10 times the cvl tolerance, so equal thetas are no luck
    second = np.sort(ref["cvl"])[-2]
    assert max(ref["cvl"]) - second > 10 * 2 * REL * abs(second)
    np.testing.assert_allclose(cv.coef, ref["coef"], rtol=REL)
    np.testing.assert_allclose(cv.coef, ref["coef_ridge_native"], rtol=REL)  # scale = TRUE is survival's own
    assert cv.loglik == pytest.approx(ref["loglik"], rel=REL)
    assert cv.summary["term"].tolist() == REF["terms"]
    np.testing.assert_allclose(cv.linear_predictor(), (Z.to_numpy() - Z.to_numpy().mean(0)) @ cv.coef)


def test_batched_leave_one_out_equals_loop_over_subsets():
    """The cvl by definition, patient by patient, with separate fits on the data without each patient
    (a small cohort with tied deaths, where a zero weight must equal removing the row)."""
    rng = np.random.default_rng(7)
    n = 25
    X = rng.normal(size=(n, 3))
    t = np.round(rng.exponential(np.exp(-X[:, 0]), size=n), 1) + 0.1  # rounded: tied times
    e = (rng.uniform(size=n) < 0.7).astype(int)
    tt = t[e == 1]
    assert tt.size > np.unique(tt).size  # tied deaths
    for theta in (0.05, 2.0):
        total = 0.0
        for i in range(n):
            keep = np.arange(n) != i
            b = ridge_cox(t[keep], e[keep], X[keep], theta)
            total += efron_score_information(t, e, X, b)[0] - efron_score_information(t[keep], e[keep], X[keep], b)[0]
        assert P.cv_loglik(t, e, X, [theta], scale=False)[0] == pytest.approx(total, rel=1e-9)


def test_ridge_path_leaves_the_cox_fit_with_slope_minus_v_beta():
    """theta -> 0: the ridge fit is fit_cox, and d beta / d theta at 0 is -V S^2 beta (implicit function theorem
    on U(beta) - theta S^2 beta = 0, S = diag of the column scales): pins the penalty theta/2 sum (s_j beta_j)^2
    (a penalty theta sum beta^2 would double the slope; scaling the wrong way would change it)."""
    fit = fit_cox(T, E, Z)
    Xa = Z.to_numpy(float)
    for scale in (np.ones(Xa.shape[1]), Xa.std(axis=0, ddof=1)):
        slope = -fit.vcov @ (fit.coef * scale ** 2)
        theta = 1e-6
        b = ridge_cox(T, E, Xa / scale, theta) / scale
        # the remainder is second order (measured ~3e-3 relative at theta = 1e-4, ~3e-4 at 1e-5, ~3e-5 at 1e-6)
        np.testing.assert_allclose((b - fit.coef) / theta, slope, rtol=1e-3, atol=1e-3 * np.abs(slope).max())
        # and at theta = 1e-9 the two fits agree up to theta |slope| (+ the fits' own 1e-10 convergence)
        b0 = ridge_cox(T, E, Xa / scale, 1e-9) / scale
        np.testing.assert_allclose(b0, fit.coef, rtol=0, atol=1e-9 * np.abs(slope).max() + 1e-9)


def test_scaled_penalty_is_unit_free():
    """scale=True: measuring size in mm instead of cm changes nothing but that coefficient's unit; scale=False
    would change the fit."""
    grid = REF["grid"][::4]
    Zmm = Z.assign(size=Z["size"] * 10)
    a, b = P.ridge_cv(T, E, Z, grid), P.ridge_cv(T, E, Zmm, grid)
    np.testing.assert_allclose(b.cvl, a.cvl, rtol=1e-9)
    assert a.theta == b.theta
    np.testing.assert_allclose(b.coef * np.where(Z.columns == "size", 10, 1), a.coef, rtol=1e-8)
    u, v = P.cv_loglik(T, E, Z, grid, scale=False), P.cv_loglik(T, E, Zmm, grid, scale=False)
    assert np.abs(u - v).max() > 1e-3


def test_boundary_flag_and_grid_handling():
    cv = P.ridge_cv(T, E, Z, [0.1, 0.01])  # cvl still rising at 0.1 (see the R curve): maximum at the end
    assert cv.at_boundary and cv.theta == 0.1 and cv.grid.tolist() == [0.01, 0.1]
    one = P.ridge_cv(T, E, Z, [5.0])
    assert not one.at_boundary and one.theta == 5.0
    assert P.ridge_cv(T, E, Z).grid.size == P.DEFAULT_GRID.size == 21


def test_errors():
    with pytest.raises(ValueError, match="at least 2 events"):
        P.ridge_cv(T, np.r_[1, np.zeros(T.size - 1)], Z)
    for bad in ([], [0.0, 1.0], [np.nan], [-1.0]):
        with pytest.raises(ValueError, match="positive finite"):
            P.ridge_cv(T, E, Z, bad)
    with pytest.raises(ValueError, match="same value for every patient"):
        P.ridge_cv(T, E, Z.assign(k=1.0))
    with pytest.raises(ValueError, match="one row per patient"):
        P.cv_loglik(T, E, Z.iloc[:10], [1.0])
    with pytest.raises(ValueError, match="0 \\(censored\\) or 1"):
        P.ridge_cv(T, E + 1, Z)
