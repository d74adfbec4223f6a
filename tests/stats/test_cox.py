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


def _close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=0)


# ----------------------------------------------------------------------------- hand-worked
def test_no_ties_closed_form():
    # deaths at 1, 2, 3 with x = 1, 0, 1:  l(b) = b - log(2e^b + 1) - log(1 + e^b)
    # score 0  <=>  2 y^2 = 1 (y = e^b), so b = -log(2)/2
    d = pd.DataFrame({"x": [1.0, 0.0, 1.0], "t": [1.0, 2.0, 3.0], "e": [1, 1, 1]})
    fit = fit_cox(d, "t", "e")
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
    fit = fit_cox(d, "t", "e")
    y = np.sqrt(6)
    assert fit.summary["coef"].iloc[0] == pytest.approx(np.log(y), rel=1e-9)
    info = 2 * y / (y + 2) ** 2 + 3 * y / (y + 3) ** 2
    assert fit.summary["se"].iloc[0] == pytest.approx(1 / np.sqrt(info), rel=1e-9)
    ll, u, i = efron_score_information(d.t, d.e, d[["x"]], [np.log(y)])
    assert ll == pytest.approx(np.log(y) - np.log(y + 2) - np.log((y + 3) / 2), rel=1e-12)
    assert abs(u[0]) < 1e-12


def test_model_and_summary_agree():
    fit = fit_cox(GBSG[TERMS + ["rfstime", "status"]], "rfstime", "status")
    assert isinstance(fit, CoxFit)
    _close(fit.model.params_.loc[TERMS].to_numpy(), fit.summary["coef"], rtol=1e-12)
    assert fit.terms == TERMS


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
    fit = fit_cox(GBSG[TERMS + ["rfstime", "status"]], "rfstime", "status")
    _check_summary(fit.summary, REF["gbsg"])
    _check_tests(fit, REF["gbsg_tests"])


def test_tied_matches_coxph():
    fit = fit_cox(pd.DataFrame(REF["tied_data"]), "time", "status")
    _check_summary(fit.summary, REF["tied"])
    _check_tests(fit, REF["tied_tests"])


def _check_zph(got, ref):
    r = pd.DataFrame(ref)
    assert got["term"].tolist() == r["term"].tolist()
    assert got["df"].tolist() == r["df"].tolist()
    _close(got["chisq"], r["chisq"])
    _close(got["p"], r["p"])


def test_ph_test_matches_cox_zph():
    fit = fit_cox(GBSG[TERMS + ["rfstime", "status"]], "rfstime", "status")
    _check_zph(ph_test(fit), REF["gbsg_zph"])
    _check_zph(ph_test(fit_cox(pd.DataFrame(REF["tied_data"]), "time", "status")), REF["tied_zph"])


def test_univariable_screen_matches_r():
    g = GBSG.assign(size_na=np.where(GBSG.pid % 10 == 0, np.nan, GBSG["size"]))
    s = univariable_screen(g, "rfstime", "status", TERMS + ["size_na"])
    r = pd.DataFrame(REF["screen"])
    _check_summary(s, r)
    assert s["n"].tolist() == r["n"].tolist()
    assert s["n_events"].tolist() == r["nevent"].tolist()
    assert s.set_index("term").loc["size_na", "n_missing"] == int((GBSG.pid % 10 == 0).sum())
    assert (s["note"] == "").all()


# ----------------------------------------------------------------------------- screen on cohort terms
def test_screen_builds_cohort_terms_and_reports_missing():
    # a tiny cohort-like frame: ldh_high is missing for one patient and must be dropped visibly
    df = pd.DataFrame({"age": [40, 60, 45, 70, 55, 35], "ldh": [200, 300, np.nan, 260, 100, 240],
                       "os_months": [5, 3, 8, 2, 9, 12], "os_event": [1, 1, 0, 1, 0, 1]})
    s = univariable_screen(df, "os_months", "os_event", ["age_high", "ldh_high"]).set_index("term")
    assert s.loc["age_high", "n"] == 6 and s.loc["age_high", "n_missing"] == 0
    assert s.loc["ldh_high", "n"] == 5 and s.loc["ldh_high", "n_missing"] == 1
    assert s.loc["ldh_high", "n_events"] == 4


def test_screen_constant_term_is_reported_not_fitted():
    df = pd.DataFrame({"x": [1.0] * 4, "z": [0.0, 1.0, 0.0, 1.0], "t": [1, 2, 3, 4], "e": [1, 1, 0, 1]})
    s = univariable_screen(df, "t", "e", ["x", "z"]).set_index("term")
    assert "same value" in s.loc["x", "note"] and np.isnan(s.loc["x", "hr"])
    assert s.loc["z", "note"] == ""


# ----------------------------------------------------------------------------- plotting
def test_plot_forest():
    fit = fit_cox(GBSG[TERMS + ["rfstime", "status"]], "rfstime", "status")
    ax = plot_forest(fit.summary)
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == TERMS
    import matplotlib.pyplot as plt
    plt.close("all")


# ----------------------------------------------------------------------------- errors
_D = pd.DataFrame({"x": [0.0, 1.0, 1.0], "t": [1.0, 2.0, 3.0], "e": [1, 0, 1]})


@pytest.mark.parametrize("data, match", [
    ([1, 2], "must be a pandas DataFrame"),
    (_D.iloc[:0], "no patients"),
    (_D.drop(columns="t"), "column 't' not found"),
    (_D[["t", "e"]], "no predictors"),
    (_D.assign(x=["a", "b", "c"]), "is not numeric"),
    (_D.assign(x=[0.0, np.nan, 1.0]), "missing values"),
    (_D.assign(t=[-1.0, 2.0, 3.0]), "must be finite and >= 0"),
    (_D.assign(e=[1, 2, 0]), "must be 0 .censored. or 1"),
    (_D.assign(e=[0, 0, 0]), "no events"),
    (_D.assign(x=[1.0, 1.0, 1.0]), "same value for every patient"),
])
def test_fit_cox_errors(data, match):
    with pytest.raises(ValueError, match=match):
        fit_cox(data, "t", "e")


def test_other_errors():
    with pytest.raises(ValueError, match="conf_level"):
        fit_cox(_D, "t", "e", conf_level=95)
    with pytest.raises(ValueError, match="no patients"):
        univariable_screen(_D.iloc[:0], "t", "e", ["x"])
    with pytest.raises(ValueError, match="no terms given"):
        univariable_screen(_D, "t", "e", [])
    with pytest.raises(ValueError, match="column 'time' not found"):
        univariable_screen(_D, "time", "e", ["x"])
    with pytest.raises(ValueError, match="neither columns of the data nor known design terms"):
        univariable_screen(_D, "t", "e", ["shoe_size"])
    with pytest.raises(ValueError, match="unknown transform"):
        ph_test(fit_cox(_D, "t", "e"), transform="sqrt")
    with pytest.raises(ValueError, match="needs columns"):
        plot_forest(pd.DataFrame({"term": ["a"]}))
    with pytest.raises(ValueError, match="nothing to draw"):
        plot_forest(pd.DataFrame({"term": ["a"], "hr": [np.nan], "lower": [np.nan], "upper": [np.nan]}))


def test_monotone_likelihood_flagged():
    # the only death among x = 0 comes first; x = 1 patients die when alone at risk:
    # the likelihood increases without bound as b -> -inf
    fit = fit_cox(_D, "t", "e")
    assert not fit.converged
    s = univariable_screen(_D, "t", "e", ["x"])
    assert "monotone likelihood" in s["note"].iloc[0]
    assert fit_cox(GBSG[TERMS + ["rfstime", "status"]], "rfstime", "status").converged


def test_monotone_likelihood_is_flagged_and_noted_in_the_screen():
    # the only patient with x = 0 is censored last: the likelihood increases without bound as beta grows
    d = pd.DataFrame({"x": [0.0] + [1.0] * 7,
                      "time": [9.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
                      "event": [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]})
    assert not cox.fit_cox(d, "time", "event").converged
    screen = cox.univariable_screen(d, "time", "event", ["x"])
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
    fit = cox.fit_cox(d, "time", "event")
    assert fit.converged
    np.testing.assert_allclose(fit.summary["coef"], ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(fit.summary["se"], ref["se"], rtol=1e-6)
    np.testing.assert_allclose(fit.loglik, ref["loglik"][1], rtol=1e-9)


def test_no_maximum_after_lifelines_failure_is_a_clear_error(monkeypatch):
    # when lifelines fails and step-halving Newton finds no maximum either, say so plainly
    d = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "cox_rare_level.csv")
    monkeypatch.setattr(cox, "_polish", lambda *a, **k: None)
    with pytest.raises(cox.MonotoneLikelihoodError, match=r"no finite maximum \(monotone likelihood\)"):
        cox.fit_cox(d, "time", "event")
