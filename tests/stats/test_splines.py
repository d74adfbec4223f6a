"""Tests of dmnpc.stats.splines: Hmisc's default knots (every special rule), the rcs basis, and Cox models
with rcs terms against rms::cph / Predict (tests/reference/splines.json from ref_splines.R, rms 6.5.0,
Hmisc 4.8.0, survival 3.5.3); hand properties of the basis and of partial effects; errors.

Tolerances. Knots are order statistics or R's type-7 interpolation redone in R's arithmetic: equal up to
a rounding or two (rtol 1e-14). The basis: cubes of numbers of order 1 (rtol 1e-12). Fitted quantities:
R fits with eps = 1e-10 (relative change in the log-likelihood), after Newton's quadratic convergence
the coefficients agree far below the 1e-6 relative tolerance used (measured ~1e-12); differences of
effects that vanish at the reference value get an absolute floor of 1e-6 times the largest effect.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dmnpc.stats import splines as S
from dmnpc.stats.cox import fit_cox
from dmnpc.stats.discrimination import harrell_c

HERE = Path(__file__).resolve().parents[1]  # tests/
REF = json.loads((HERE / "reference" / "splines.json").read_text())
GBSG = pd.read_csv(HERE / "data" / "gbsg.csv").assign(lnodes=lambda d: np.log10(d["nodes"] + 1))
ROT = pd.read_csv(HERE / "data" / "rotterdam.csv")
G90 = GBSG.iloc[np.asarray(REF["rows90"], dtype=int) - 1]  # R's rows are 1-based
REL = 1e-6
VARS = ["age", "lnodes", "pgr", "meno", "grade"]
SPLINES = {"age": 3, "lnodes": 3, "pgr": 3}

#: the variable of each knot case of ref_splines.R, rebuilt by name
CASES = {
    "gbsg_age": GBSG["age"], "gbsg_lnodes": GBSG["lnodes"], "gbsg_pgr": GBSG["pgr"],
    "gbsg_neg_pgr": -GBSG["pgr"], "gbsg_er": GBSG["er"], "gbsg90_age": G90["age"],
    "gbsg90_lnodes": G90["lnodes"], "gbsg90_pgr": G90["pgr"], "gbsg90_size": G90["size"],
    "rot_nodes": ROT["nodes"], "gbsg_age_decade": np.round(GBSG["age"] / 10),
    "tied_median": np.r_[-np.arange(1, 46), np.zeros(50), np.arange(1, 6)],
    "tied_median_90": np.r_[-np.arange(1, 41), np.zeros(45), np.arange(1, 6)],
    "tied_all": np.r_[-np.arange(1, 6), np.zeros(80), np.arange(1, 16)],
}


# ---------------------------------------------------------------- knots
@pytest.mark.parametrize("case", REF["knots"], ids=lambda c: f"{c['name']}-nk{c['nk']}")
def test_knots_equal_rcspline_eval(case):
    x = np.asarray(CASES[case["name"]], dtype=float)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        if case["error"]:
            with pytest.raises(ValueError, match="fewer than 3 distinct knots"):
                S.rcs_knots(x, case["nk"])
            return
        kn = S.rcs_knots(x, case["nk"])
    np.testing.assert_allclose(kn, case["knots"], rtol=1e-14)
    assert bool(w) == case["warned"]


def test_knot_cases_cover_every_rule():
    """The R cases exercise each branch: n < 100, the fractied rule at either end, the alternate algorithm,
    too few distinct values, fewer knots than asked, and an error."""
    def old_rule(x, nk):  # quantiles and the n < 100 rule only (this project's earlier _rcs_knots)
        probs = {3: [0.1, 0.5, 0.9], 4: [0.05, 0.35, 0.65, 0.95], 5: [0.05, 0.275, 0.5, 0.725, 0.95]}[nk]
        xs = np.sort(x)
        kn = np.quantile(xs, probs)
        if xs.size < 100:
            kn[0], kn[-1] = xs[4], xs[-5]
        return kn

    by = {(c["name"], c["nk"]): c for c in REF["knots"]}
    assert G90.shape[0] == 90 and by[("gbsg90_age", 3)]["knots"][0] == np.sort(G90["age"])[4]
    pgr = by[("gbsg_pgr", 3)]["knots"]
    assert (GBSG["pgr"] == 0).mean() >= 0.05 and pgr[0] == 1  # heavy tie at 0: next value is the knot
    assert not np.allclose(pgr, old_rule(GBSG["pgr"].to_numpy(float), 3))
    assert by[("gbsg_neg_pgr", 3)]["knots"][-1] == -1
    assert by[("tied_median", 3)]["warned"] and len(by[("tied_median", 3)]["knots"]) == 4
    assert by[("gbsg_age_decade", 5)]["warned"]
    assert len(by[("rot_nodes", 4)]["knots"]) == 3
    assert by[("tied_all", 3)]["error"]
    lnodes = by[("gbsg_lnodes", 3)]["knots"]  # tied quantiles: the 10% quantile is the minimum
    assert lnodes[0] == GBSG["lnodes"].min() and (GBSG["lnodes"] == lnodes[1]).sum() > 1


def test_fractied_off_gives_plain_quantiles():
    x = GBSG["pgr"].to_numpy(float)
    np.testing.assert_allclose(S.rcs_knots(x, 3, fractied=0), np.unique(np.quantile(x, [0.1, 0.5, 0.9])))


# ---------------------------------------------------------------- basis
def test_basis_equals_rcspline_eval_norm2():
    b = REF["basis"]
    np.testing.assert_allclose(S.rcs_basis(b["x"], b["knots"]), np.array(b["columns"]).T, rtol=1e-12, atol=1e-14)


def test_basis_is_zero_below_and_linear_beyond_the_outer_knots():
    kn = np.array([-1.0, 0.3, 2.0, 5.0, 9.0])
    below = S.rcs_basis(np.linspace(-10, -1, 7), kn)
    np.testing.assert_array_equal(below[:, 1:], 0.0)
    x = np.linspace(9.0, 40.0, 32)  # equally spaced beyond t_k: zero second differences
    beyond = S.rcs_basis(x, kn)
    scale = np.abs(beyond).max()
    np.testing.assert_allclose(np.diff(beyond, n=2, axis=0), 0.0, atol=1e-12 * scale)
    inside = S.rcs_basis(np.linspace(0.3, 5.0, 32), kn)  # but curved between the knots
    assert np.abs(np.diff(inside[:, 1:], n=2, axis=0)).max() > 1e-3


def test_basis_hand_value():
    # knots 0, 1, 2: at x = 3 the non-linear term is (27 - 8 * 2 + 1 * 1) / (2 - 0)^2 = 3
    np.testing.assert_allclose(S.rcs_basis([3.0], [0.0, 1.0, 2.0])[0], [3.0, 3.0])


# ---------------------------------------------------------------- Cox models with rcs terms
MODELS = {m["label"]: m for m in REF["models"]}
DATA = {"gbsg": GBSG, "gbsg90": G90}


@pytest.fixture(scope="module", params=list(MODELS))
def fitted(request):
    d = DATA[request.param]
    return S.fit_cox_rcs(d["rfstime"], d["status"], d[VARS], SPLINES), MODELS[request.param]


def test_design_knots_and_names_equal_cph(fitted):
    f, ref = fitted
    assert f.design.columns == tuple(ref["terms"])
    for v, kn in ref["knots"].items():
        np.testing.assert_allclose(f.knots[v], kn, rtol=1e-14)


def test_coefficients_covariance_and_tests_equal_cph(fitted):
    f, ref = fitted
    p = len(ref["terms"])
    np.testing.assert_allclose(f.fit.coef, ref["coef"], rtol=REL)
    np.testing.assert_allclose(f.fit.vcov, np.reshape(ref["vcov"], (p, p), order="F"), rtol=REL)
    np.testing.assert_allclose([f.fit.loglik_null, f.fit.loglik], ref["loglik"], rtol=REL)
    assert f.lr_chisq == pytest.approx(ref["lr_chisq"], rel=REL)
    assert f.df == ref["df"] == p
    assert f.aic == pytest.approx(ref["aic"], rel=REL)
    np.testing.assert_allclose(f.linear_predictor(), ref["lp"], rtol=REL, atol=REL * np.abs(ref["lp"]).max())


def test_concordance_equals_survival_concordance(fitted):
    f, ref = fitted
    assert f.concordance.c == pytest.approx(ref["concordance"], rel=REL)
    assert f.concordance.var == pytest.approx(ref["concordance_var"], rel=REL)
    # no ties in the linear predictor here, so rms's Dxy/2 + 1/2 (rcorr.cens) is the same number
    assert f.concordance.c == pytest.approx(ref["dxy_rcorr"] / 2 + 0.5, rel=REL)


def test_partial_effects_equal_predict_ref_zero(fitted):
    f, ref = fitted
    for p in ref["predict"]:
        v = p["variable"]
        assert f.design.reference[v] == pytest.approx(p["reference"], rel=1e-14)
        got = f.partial_effect(v, p["value"])
        floor = REL * np.abs(p["yhat"]).max()
        np.testing.assert_allclose(got["log_hr"], p["yhat"], rtol=REL, atol=floor)
        np.testing.assert_allclose(got["lower"], p["lower"], rtol=REL, atol=floor)
        np.testing.assert_allclose(got["upper"], p["upper"], rtol=REL, atol=floor)


def test_partial_effect_hand():
    f = S.fit_cox_rcs(GBSG["rfstime"], GBSG["status"], GBSG[VARS], SPLINES)
    # a linear term: coef * (x - ref), se = |x - ref| se(coef)
    j = f.design.columns.index("grade")
    pe = f.partial_effect("grade", [1.0, 2.0, 3.0], reference=1.0)
    np.testing.assert_allclose(pe["log_hr"], f.fit.coef[j] * np.array([0.0, 1.0, 2.0]), rtol=1e-12)
    np.testing.assert_allclose(pe["se"], np.sqrt(f.fit.vcov[j, j]) * np.array([0.0, 1.0, 2.0]), rtol=1e-12)
    # a spline: the difference of two linear predictors that differ only in age, and 0 at the reference
    a, b = f.design.reference["age"], 71.0
    rows = GBSG[VARS].iloc[[0, 0]].copy()
    rows["age"] = [a, b]
    lp = f.linear_predictor(rows)
    pe = f.partial_effect("age", [a, b])
    assert pe["log_hr"].iloc[0] == 0.0 and pe["se"].iloc[0] == 0.0
    assert pe["log_hr"].iloc[1] == pytest.approx(lp[1] - lp[0], rel=1e-12)
    assert np.allclose(pe["hr"], np.exp(pe["log_hr"]))
    # the interval at another level
    pe90 = f.partial_effect("age", [b], conf_level=0.90)
    assert pe90["upper"].iloc[0] - pe90["log_hr"].iloc[0] < pe["upper"].iloc[1] - pe["log_hr"].iloc[1]


def test_adjust_to_rule():
    assert S.adjust_to([0, 1, 1, 1]) == 0.0  # two values: the lower (not the median, 1)
    assert S.adjust_to([1, 3, 3, 3, 2]) == 2.0  # three values: the middle one
    assert S.adjust_to([1, 2, 3, 10]) == 2.5  # otherwise the median


def test_fit_equals_fit_cox_on_expanded_design_and_given_knots():
    d = G90
    Z, design = S.rcs_design(d[VARS], SPLINES)
    f = S.fit_cox_rcs(d["rfstime"], d["status"], d[VARS], SPLINES)
    ref = fit_cox(d["rfstime"], d["status"], Z)
    np.testing.assert_array_equal(f.fit.coef, ref.coef)
    assert f.concordance.c == harrell_c(d["rfstime"], d["status"], ref.linear_predictor()).c
    given = S.fit_cox_rcs(d["rfstime"], d["status"], d[VARS], {k: design.knots[k] for k in SPLINES})
    np.testing.assert_array_equal(given.fit.coef, f.fit.coef)
    pd.testing.assert_frame_equal(design.expand(d[VARS]), Z)
    # a purely linear model is fit_cox
    lin = S.fit_cox_rcs(d["rfstime"], d["status"], d[VARS])
    np.testing.assert_array_equal(lin.fit.coef, fit_cox(d["rfstime"], d["status"], d[VARS]).coef)


def test_errors():
    X = GBSG[VARS]
    t, e = GBSG["rfstime"], GBSG["status"]
    with pytest.raises(ValueError, match="not columns"):
        S.rcs_design(X, {"height": 3})
    with pytest.raises(ValueError, match="DataFrame"):
        S.rcs_design(X.to_numpy(), {"age": 3})
    with pytest.raises(ValueError, match="not numeric"):
        S.rcs_design(X.assign(meno=X["meno"].astype(str)), {"age": 3})
    with pytest.raises(ValueError, match="missing values"):
        S.rcs_design(X.assign(age=X["age"].where(X["age"] > 30)), {"age": 3})
    with pytest.raises(ValueError, match="increasing"):
        S.rcs_design(X, {"age": [50, 40, 60]})
    with pytest.raises(ValueError, match="at least 3 knots"):
        S.rcs_knots(X["age"], 2)
    with pytest.raises(ValueError, match="at least 6 values"):
        S.rcs_knots([1.0, 2, 3, 4, 5], 3)
    with pytest.raises(ValueError, match="at least 3 increasing"):
        S.rcs_basis([1.0], [0.0, 1.0])
    f = S.fit_cox_rcs(t, e, X, {"age": 3})
    with pytest.raises(ValueError, match="not a model variable"):
        f.partial_effect("size", [1.0])
    with pytest.raises(ValueError, match="lack the model variable"):
        f.linear_predictor(X.drop(columns="grade"))
    with pytest.raises(ValueError, match="infinite"):
        f.partial_effect("age", [np.inf])
