"""Tests for dmnpc.stats.cox: hand-worked Efron likelihoods, R golden values (survival 3.5.3), errors."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest

from dmnpc.book.plots import plot_forest
from dmnpc.stats import cox
from dmnpc.stats.cox import CoxFit, efron_score_information, fit_cox, ph_test, univariable_screen

HERE = Path(__file__).resolve().parents[1]  # tests/
REF = json.loads((HERE / "reference" / "cox.json").read_text())
GBSG = pd.read_csv(HERE / "data" / "gbsg.csv")
TERMS = REF["gbsg_terms"]
RTOL = 1e-6


def fit_frame(d: pd.DataFrame, time: str, event: str, **kw):
    """fit_cox on a frame: every column but the time and event columns is a predictor."""
    return fit_cox(d[time], d[event], d.drop(columns=[time, event]), **kw)


def _close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=0)


# ----------------------------------------------------------------------------- hand-worked
def test_no_ties_closed_form():
    # deaths at 1, 2, 3 with x = 1, 0, 1:  l(b) = b - log(2e^b + 1) - log(1 + e^b)
    # score 0  <=>  2 y^2 = 1 (y = e^b), so b = -log(2)/2
    d = pd.DataFrame({"x": [1.0, 0.0, 1.0], "t": [1.0, 2.0, 3.0], "e": [1, 1, 1]})
    fit = fit_frame(d, "t", "e")
    y = 1 / np.sqrt(2)
    b = np.log(y)
    info = 2 * y / (2 * y + 1) ** 2 + y / (1 + y) ** 2
    assert fit.summary["coef"].iloc[0] == pytest.approx(b, rel=1e-9)
    assert fit.summary["se"].iloc[0] == pytest.approx(1 / np.sqrt(info), rel=1e-9)
    assert fit.summary["hr"].iloc[0] == pytest.approx(y, rel=1e-9)
    # global tests: U(0) = 1 - 2/3 - 1/2 = -1/6, I(0) = 2/9 + 1/4 = 17/36 -> score = 1/17
    assert fit.score_test["chisq"] == pytest.approx(1 / 17, rel=1e-12)
    ll_b = b - np.log(2 * y + 1) - np.log(1 + y)
    ll_0 = -np.log(3) - np.log(2)
    assert fit.lr_test["chisq"] == pytest.approx(2 * (ll_b - ll_0), rel=1e-9)
    assert fit.wald_test["chisq"] == pytest.approx(b * b * info, rel=1e-9)
    assert fit.n == 3 and fit.n_events == 3 and fit.lr_test["df"] == 1
    assert isinstance(fit.summary["p"].iloc[0], float)


def test_efron_ties_closed_form():
    # two deaths tied at t=1 (x = 1, 0), one censored at 2 (x = 0).
    # Efron: score 1 - y/(y+2) - y/(y+3) = 0  <=>  y^2 = 6; Breslow would give y = 2.
    d = pd.DataFrame({"x": [1.0, 0.0, 0.0], "t": [1.0, 1.0, 2.0], "e": [1, 1, 0]})
    fit = fit_frame(d, "t", "e")
    y = np.sqrt(6)
    assert fit.summary["coef"].iloc[0] == pytest.approx(np.log(y), rel=1e-9)
    info = 2 * y / (y + 2) ** 2 + 3 * y / (y + 3) ** 2
    assert fit.summary["se"].iloc[0] == pytest.approx(1 / np.sqrt(info), rel=1e-9)
    ll, u, i = efron_score_information(d.t, d.e, d[["x"]], [np.log(y)])
    assert ll == pytest.approx(np.log(y) - np.log(y + 2) - np.log((y + 3) / 2), rel=1e-12)
    assert abs(u[0]) < 1e-12


def test_fit_equals_lifelines_and_statsmodels():
    """Independent cross-checks: lifelines (fully converged) and statsmodels' PHReg (Efron ties)."""
    import statsmodels.api as sm
    from lifelines import CoxPHFitter

    fit = fit_frame(GBSG[TERMS + ["rfstime", "status"]], "rfstime", "status")
    assert isinstance(fit, CoxFit) and fit.terms == tuple(TERMS)
    ll = CoxPHFitter().fit(GBSG[TERMS + ["rfstime", "status"]], "rfstime", "status",
                           fit_options=dict(precision=1e-20, r_precision=1e-14, max_steps=200))
    _close(ll.params_.loc[TERMS].to_numpy(), fit.summary["coef"], rtol=1e-8)
    ph = sm.PHReg(GBSG["rfstime"].to_numpy(float), GBSG[TERMS].to_numpy(float),
                  status=GBSG["status"].to_numpy(float), ties="efron")
    # the variance at the estimate itself (statsmodels' analytic Hessian), to rounding error
    _close(np.linalg.inv(-ph.hessian(fit.coef)), fit.vcov, rtol=1e-10)


# ----------------------------------------------------------------------------- R golden values
def _check_summary(got: pd.DataFrame, ref):
    r = pd.DataFrame(ref)
    assert got["term"].tolist() == r["term"].tolist()
    for c in ("coef", "se", "hr", "lower", "upper", "z", "p"):
        _close(got[c], r[c])


def _check_tests(fit: CoxFit, ref):
    for k in ("lr", "wald", "score"):
        _close(getattr(fit, f"{k}_test")["chisq"], ref[f"{k}_chisq"])
        _close(getattr(fit, f"{k}_test")["p"], ref[f"{k}_p"])
    _close([fit.loglik, fit.loglik_null], [ref["loglik"], ref["loglik_null"]])
    assert (fit.n, fit.n_events) == (ref["n"], ref["nevent"])


def test_gbsg_matches_coxph():
    fit = fit_frame(GBSG[TERMS + ["rfstime", "status"]], "rfstime", "status")
    _check_summary(fit.summary, REF["gbsg"])
    _check_tests(fit, REF["gbsg_tests"])


def test_tied_matches_coxph():
    fit = fit_frame(pd.DataFrame(REF["tied_data"]), "time", "status")
    _check_summary(fit.summary, REF["tied"])
    _check_tests(fit, REF["tied_tests"])


def _check_zph(got, ref):
    r = pd.DataFrame(ref)
    assert got["term"].tolist() == r["term"].tolist()
    assert got["df"].tolist() == r["df"].tolist()
    _close(got["chisq"], r["chisq"])
    _close(got["p"], r["p"])


def test_ph_test_matches_cox_zph():
    fit = fit_frame(GBSG[TERMS + ["rfstime", "status"]], "rfstime", "status")
    _check_zph(ph_test(fit), REF["gbsg_zph"])
    _check_zph(ph_test(fit_frame(pd.DataFrame(REF["tied_data"]), "time", "status")), REF["tied_zph"])


def test_univariable_screen_matches_r():
    g = GBSG.assign(size_na=np.where(GBSG.pid % 10 == 0, np.nan, GBSG["size"]))
    s = univariable_screen(g["rfstime"], g["status"], g[TERMS + ["size_na"]])
    r = pd.DataFrame(REF["screen"])
    _check_summary(s, r)
    assert s["n"].tolist() == r["n"].tolist()
    assert s["n_events"].tolist() == r["nevent"].tolist()
    assert s.set_index("term").loc["size_na", "n_missing"] == int((GBSG.pid % 10 == 0).sum())
    assert (s["note"] == "").all()


# ----------------------------------------------------------------------------- screen on cohort terms
def test_screen_drops_missing_per_term_and_reports_it():
    # a tiny cohort-like frame: ldh_high is missing for one patient and must be dropped visibly
    df = pd.DataFrame({"age": [40, 60, 45, 70, 55, 35], "ldh": [200, 300, np.nan, 260, 100, 240],
                       "os_months": [5, 3, 8, 2, 9, 12], "os_event": [1, 1, 0, 1, 0, 1]})
    X = pd.DataFrame({"age_high": (df["age"] >= 50).astype(float),
                      "ldh_high": (df["ldh"] >= 250).astype(float).where(df["ldh"].notna())})
    s = univariable_screen(df["os_months"], df["os_event"], X).set_index("term")
    assert s.loc["age_high", "n"] == 6 and s.loc["age_high", "n_missing"] == 0
    assert s.loc["ldh_high", "n"] == 5 and s.loc["ldh_high", "n_missing"] == 1
    assert s.loc["ldh_high", "n_events"] == 4


def test_screen_constant_term_is_reported_not_fitted():
    df = pd.DataFrame({"x": [1.0] * 4, "z": [0.0, 1.0, 0.0, 1.0], "t": [1, 2, 3, 4], "e": [1, 1, 0, 1]})
    s = univariable_screen(df["t"], df["e"], df[["x", "z"]]).set_index("term")
    assert "same value" in s.loc["x", "note"] and np.isnan(s.loc["x", "hr"])
    assert s.loc["z", "note"] == ""


# ----------------------------------------------------------------------------- plotting
def test_plot_forest():
    fit = fit_frame(GBSG[TERMS + ["rfstime", "status"]], "rfstime", "status")
    ax = plot_forest(fit.summary)
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == TERMS
    import matplotlib.pyplot as plt
    plt.close("all")


# ----------------------------------------------------------------------------- errors
_D = pd.DataFrame({"x": [0.0, 1.0, 1.0], "t": [1.0, 2.0, 3.0], "e": [1, 0, 1]})


@pytest.mark.parametrize("data, match", [
    (_D.iloc[:0], "empty"),
    (_D[["t", "e"]], "no columns"),
    (_D.assign(x=["a", "b", "c"]), "not numeric"),
    (_D.assign(x=[0.0, np.nan, 1.0]), "missing or infinite values"),
    (_D.assign(t=[-1.0, 2.0, 3.0]), "negative"),
    (_D.assign(e=[1, 2, 0]), "event must be 0 .censored. or 1 .event."),
    (_D.assign(e=[0, 0, 0]), "no events"),
    (_D.assign(x=[1.0, 1.0, 1.0]), "same value for every patient"),
])
def test_fit_cox_errors(data, match):
    with pytest.raises(ValueError, match=match):
        fit_frame(data, "t", "e")


def test_other_errors():
    with pytest.raises(ValueError, match="one row per patient"):
        fit_cox(_D["t"], _D["e"], _D[["x"]].iloc[:2])
    with pytest.raises(ValueError, match="conf_level"):
        fit_frame(_D, "t", "e", conf_level=95)
    with pytest.raises(ValueError, match="empty"):
        univariable_screen(_D["t"].iloc[:0], _D["e"].iloc[:0], _D[["x"]].iloc[:0])
    with pytest.raises(ValueError, match="no terms given"):
        univariable_screen(_D["t"], _D["e"], _D[[]])
    with pytest.raises(ValueError, match="2 rows but there are 3 patients"):
        univariable_screen(_D["t"], _D["e"], _D[["x"]].iloc[:2])
    with pytest.raises(ValueError, match="unknown transform"):
        ph_test(fit_frame(_D, "t", "e"), transform="sqrt")
    with pytest.raises(ValueError, match="needs columns"):
        plot_forest(pd.DataFrame({"term": ["a"]}))
    with pytest.raises(ValueError, match="nothing to draw"):
        plot_forest(pd.DataFrame({"term": ["a"], "hr": [np.nan], "lower": [np.nan], "upper": [np.nan]}))


def test_monotone_likelihood_flagged():
    # the only death among x = 0 comes first; x = 1 patients die when alone at risk:
    # the likelihood increases without bound as b -> -inf
    fit = fit_frame(_D, "t", "e")
    assert not fit.converged
    s = univariable_screen(_D["t"], _D["e"], _D[["x"]])
    assert "monotone likelihood" in s["note"].iloc[0]
    assert fit_frame(GBSG[TERMS + ["rfstime", "status"]], "rfstime", "status").converged


def test_monotone_likelihood_is_flagged_and_noted_in_the_screen():
    # the only patient with x = 0 is censored last: the likelihood increases without bound as beta grows
    d = pd.DataFrame({"x": [0.0] + [1.0] * 7,
                      "time": [9.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
                      "event": [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]})
    assert not fit_frame(d, "time", "event").converged
    screen = cox.univariable_screen(d["time"], d["event"], d[["x"]])
    assert screen.loc[0, "note"].startswith("no finite maximum")
    assert screen.loc[0, "n"] == 8


def test_rare_level_where_lifelines_overshoots_agrees_with_coxph():
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    d = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "cox_rare_level.csv")
    ref = json.loads((Path(__file__).resolve().parents[1] / "reference" / "cox_rare_level.json").read_text())
    with pytest.raises(ConvergenceError):  # the failure the fallback exists for
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            CoxPHFitter().fit(d, "time", "event")
    fit = fit_frame(d, "time", "event")  # step-halving Newton from 0, as coxph
    assert fit.converged
    np.testing.assert_allclose(fit.summary["coef"], ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(fit.summary["se"], ref["se"], rtol=1e-6)
    np.testing.assert_allclose(fit.loglik, ref["loglik"][1], rtol=1e-9)


# ----------------------------------------------------------------------------- engine fast paths
def _tied_cohort(n: int, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, (n, 4)).astype(float)
    X[:, 3] = rng.normal(size=n)
    t = np.round(rng.exponential(10 * np.exp(-X[:, :3] @ [0.5, -0.3, 0.2])), 0)  # many ties, zeros
    return t, rng.integers(0, 2, n), X


@pytest.mark.parametrize("seed", range(6))
def test_layout_is_the_lexsort_layout(seed):
    from dmnpc.stats import _engine as engine

    t, e, _ = _tied_cohort(300, seed)
    if seed == 1:
        t[::7] = -t[::7]  # negative and -0.0 times take the lexsort branch
    if seed == 2:
        e[:] = 0  # no deaths
    lay = engine.layout(t, e)
    order = np.lexsort((e, t))
    ts, es = t[order], e[order]
    etimes, first, inverse = np.unique(ts[es == 1], return_index=True, return_inverse=True)
    start = np.searchsorted(ts, etimes, side="left")
    np.testing.assert_array_equal(lay.order, order)
    np.testing.assert_array_equal(lay.death_idx, np.flatnonzero(es == 1))
    np.testing.assert_array_equal(lay.group_first, first)
    np.testing.assert_array_equal(lay.death_group, inverse)
    np.testing.assert_array_equal(lay.start, start)
    np.testing.assert_array_equal(lay.cum_map, np.searchsorted(start, np.arange(t.size), side="right") - 1)


@pytest.mark.parametrize("seed", range(3))
def test_single_fit_fast_path_equals_the_batched_terms(seed):
    from dmnpc.stats import _engine as engine

    t, e, X = _tied_cohort(400, seed)
    lay = engine.layout(t, e)
    w = np.random.default_rng(seed).integers(0, 3, (1, t.size)).astype(float)  # frequencies, some 0
    beta = np.array([[0.3, -0.2, 0.1, 0.4]])
    one = engine.efron_terms(lay, X, beta, w)  # B = 1: the fast path
    two = engine.efron_terms(lay, X, np.repeat(beta, 2, 0), np.repeat(w, 2, 0))  # batched path
    for a, b in zip(one, two):
        np.testing.assert_allclose(a[0], b[0], rtol=1e-12, atol=1e-12 * np.abs(b[0]).max())
        np.testing.assert_allclose(b[0], b[1], rtol=0, atol=0)


@pytest.mark.parametrize("eps", [None, 1e-4])
def test_fit_batch_final_terms_are_those_at_the_estimate(eps):
    from dmnpc.stats import _engine as engine

    t, e, X = _tied_cohort(500, 7)
    lay = engine.layout(t, e)
    f = engine.fit_batch(lay, X, eps=eps, max_iter=10 if eps else 30, final_terms=True)
    ll, sc, inf = engine.efron_terms(lay, X, f.beta)
    np.testing.assert_array_equal(f.loglik, ll)
    np.testing.assert_array_equal(f.score_final, sc)
    np.testing.assert_array_equal(f.information_final, inf)
    ll0, sc0, inf0 = engine.efron_terms(lay, X, np.zeros_like(f.beta))
    np.testing.assert_array_equal(f.loglik0, ll0)
    np.testing.assert_array_equal(f.score0, sc0)
    np.testing.assert_array_equal(f.information0, inf0)
    plain = engine.fit_batch(lay, X, eps=eps, max_iter=10 if eps else 30)
    if eps is None:  # the survival rule evaluates at the estimate anyway and keeps them
        assert plain.score_final is None and plain.information_final is None
    np.testing.assert_array_equal(plain.beta, f.beta)
    np.testing.assert_array_equal(plain.information, f.information)


def test_screen_reports_the_smaller_level_a_binary_hazard_ratio_rests_on():
    df = pd.DataFrame({"x": [0.0, 1.0, 1.0, 1.0, 1.0], "z": [0.5, 1.5, 2.5, 3.5, 4.5],
                       "t": [1, 2, 3, 4, 5], "e": [1, 1, 0, 1, 0]})
    s = univariable_screen(df["t"], df["e"], df[["x", "z"]]).set_index("term")
    assert (s.loc["x", "n_smaller"], s.loc["x", "events_smaller"]) == (1, 1)
    assert np.isnan(s.loc["z", "n_smaller"]) and np.isnan(s.loc["z", "events_smaller"])  # not two-valued


def test_stratified_fit_matches_coxph_strata():
    """coxph(Surv ~ age + grade3 + nodes + hormon + strata(meno)) on gbsg (tests/reference/ref_strata.R)."""
    ref = json.loads((HERE / "reference" / "strata.json").read_text())
    g = GBSG.assign(grade3=(GBSG["grade"] == 3).astype(float))
    fit = fit_cox(g["rfstime"], g["status"], g[ref["terms"]], strata=g["meno"])
    _close(fit.coef, ref["coef"])
    _close(fit.summary["se"], ref["se"])
    _close([fit.loglik_null, fit.loglik], ref["loglik"])
    _close([fit.score_test["chisq"], fit.wald_test["chisq"]], [ref["score_chisq"], ref["wald_chisq"]])
    with pytest.raises(ValueError, match="needs an unstratified model"):
        fit.predict_survival(12.0)
    with pytest.raises(ValueError, match="needs an unstratified model"):
        ph_test(fit)
    # one stratum is the unstratified model
    one = fit_cox(g["rfstime"], g["status"], g[ref["terms"]], strata=np.zeros(len(g)))
    _close(one.coef, fit_cox(g["rfstime"], g["status"], g[ref["terms"]]).coef, rtol=1e-9)


def test_identical_patients_get_bit_identical_linear_predictors():
    """Ties of the score survive: a BLAS product rounded some repeated rows differently (gbsg, 5 terms)."""
    from dmnpc.stats.splines import rcs_basis

    nodes = rcs_basis(np.minimum(GBSG["nodes"].to_numpy(float), 19), [0.0, 1.0, 9.0])
    X = pd.DataFrame({"s1": ((GBSG["size"] > 20) & (GBSG["size"] <= 50)).astype(float),
                      "s2": (GBSG["size"] > 50).astype(float), "n": nodes[:, 0], "n1": nodes[:, 1],
                      "g3": (GBSG["grade"] == 3).astype(float)})
    fit = fit_cox(GBSG["rfstime"], GBSG["status"], X)
    for centered in (True, False):
        lp = fit.linear_predictor(X, centered=centered)
        per_pattern = pd.Series(lp).groupby(pd.Series([tuple(r) for r in X.to_numpy()])).nunique()
        assert (per_pattern == 1).all()
        np.testing.assert_allclose(lp, (X.to_numpy() - (fit.means if centered else 0)) @ fit.coef, rtol=0,
                                   atol=1e-12)
