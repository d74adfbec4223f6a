"""Weighted Cox fits with the robust variance: fit_cox(weights=, robust=) against coxph (survival 3.5.3).

Golden values: ``tests/reference/ref_cox_weighted.R`` -> ``cox_weighted.json``. Both sides converge
fully (R with ``eps = 1e-12``; Newton converges quadratically, so the last step leaves no iteration
error), hence the differences are rounding only: measured at most ~1e-11 relative (a vcov entry of
gbsg's robust fit). ``RTOL = 1e-9`` leaves a hundredfold margin for other BLAS builds, and is still
far tighter than any difference that could matter (the test of the frequency reading below shows a
wrong tie rule moves coefficients by ~1e-3).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dmnpc.stats import _engine as engine
from dmnpc.stats import cox
from dmnpc.stats.cox import fit_cox, ph_test
from dmnpc.stats.validation import diverging

HERE = Path(__file__).resolve().parents[1]  # tests/
REF = json.loads((HERE / "reference" / "cox_weighted.json").read_text())
GBSG = pd.read_csv(HERE / "data" / "gbsg.csv")
GBSG_W = 0.3 + ((37 * GBSG["pid"]) % 101) / 40  # as in the R script (REF["gbsg_weights"])
TIED = pd.DataFrame(REF["tied_data"])
RTOL = 1e-9


def _close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=0)


def _check(fit, ref):
    assert list(fit.terms) == ref["terms"]
    assert fit.robust is ref["robust"]
    s = fit.summary
    for c in ("coef", "se", "hr", "lower", "upper", "z", "p"):
        _close(s[c], ref[c])
    _close(fit.vcov.ravel(), ref["vcov"])  # R's matrices come column-major; both are symmetric
    if ref["robust"]:
        _close(s["naive_se"], ref["naive_se"])
        _close(fit.naive_vcov.ravel(), ref["naive_vcov"])
        _close(fit.robust_score_test["chisq"], ref["rscore"])
    else:
        assert "naive_se" not in s and fit.naive_vcov is None and fit.robust_score_test is None
    _close(fit.wald_test["chisq"], ref["wald"])
    _close(fit.score_test["chisq"], ref["score"])
    _close([fit.loglik_null, fit.loglik], ref["loglik"])
    assert (fit.n, fit.n_events, fit.wald_test["df"]) == (ref["n"], ref["nevent"], ref["df"])


def _gbsg(**kw):
    terms = REF["gbsg_w"]["terms"]
    return fit_cox(GBSG["rfstime"], GBSG["status"], GBSG[terms], **kw)


def _tied(weights=None, data=TIED, **kw):
    return fit_cox(data["time"], data["status"], data[["x1", "x2"]],
                   weights=None if weights is None else data[weights], **kw)


# ----------------------------------------------------------------------------- R golden values
def test_gbsg_noninteger_weights_robust_matches_coxph():
    assert GBSG["rfstime"].duplicated().any()  # gbsg has tied times: the Efron rule matters
    _check(_gbsg(weights=GBSG_W, robust=True), REF["gbsg_w"])


def test_gbsg_unweighted_robust_matches_coxph():
    _check(_gbsg(robust=True), REF["gbsg_rob"])


def test_tied_deaths_noninteger_weights_match_coxph():
    _check(_tied("w", robust=True), REF["tied_w"])


def test_integer_weights_are_case_weights_not_duplicated_rows():
    """coxph's convention, pinned: a death of weight 2 is not two tied deaths under Efron ties."""
    f_int = _tied("wi")  # robust=None: coxph's default, FALSE for integer weights
    _check(f_int, REF["tied_int"])
    dup = TIED.loc[TIED.index.repeat(TIED["wi"].astype(int))]
    f_dup = _tied(data=dup)
    _check(f_dup, REF["tied_dup"])
    assert np.abs(f_int.coef - f_dup.coef).max() > 1e-3


def test_frequency_reading_of_weights_would_fail_the_r_check(monkeypatch):
    """The check can fail: reading the weights as frequencies (the bootstrap's rule) is not coxph."""
    freq = engine.layout
    monkeypatch.setattr(cox.engine, "layout", lambda t, e, case_weights=False: freq(t, e))
    fit = _tied("wi")
    assert np.abs(fit.coef / np.array(REF["tied_int"]["coef"]) - 1).max() > 1e-3
    with pytest.raises(AssertionError):
        _check(fit, REF["tied_int"])


# ----------------------------------------------------------------------------- hand-worked and properties
def test_efron_case_weight_likelihood_by_hand():
    # deaths tied at t=1 (x = 1 weight a, x = 0 weight b), censored at 2 (x = 0, weight c).
    # coxph: l(beta) = a beta - m [log(R) + log(R - D/2)], m = (a + b)/2, R = a e^beta + b + c, D = a e^beta + b
    a, b, c, beta = 0.7, 2.5, 1.3, 0.4
    t, e, x, w = np.array([1.0, 1.0, 2.0]), np.array([1, 1, 0]), np.array([[1.0], [0.0], [0.0]]), np.array([a, b, c])
    R, D, m = a * np.exp(beta) + b + c, a * np.exp(beta) + b, (a + b) / 2
    ll = engine.loglik_at(engine.layout(t, e, case_weights=True), x, [[beta]], w[None])[0]
    assert ll == pytest.approx(a * beta - m * (np.log(R) + np.log(R - D / 2)), rel=1e-14)
    # the frequency reading of the same numbers is another likelihood
    assert engine.loglik_at(engine.layout(t, e), x, [[beta]], w[None])[0] != pytest.approx(ll, rel=1e-3)


def test_unit_weights_give_the_unweighted_fit():
    plain, unit = _gbsg(), _gbsg(weights=np.ones(len(GBSG)))
    assert not unit.robust
    np.testing.assert_allclose(unit.coef, plain.coef, rtol=1e-12)
    np.testing.assert_allclose(unit.vcov, plain.vcov, rtol=1e-10)


def test_robust_variance_ignores_the_scale_of_the_weights():
    """Multiplying every weight by 3: same coefficients and robust variance, naive variance / 3."""
    f1, f3 = _gbsg(weights=GBSG_W, robust=True), _gbsg(weights=3 * GBSG_W, robust=True)
    np.testing.assert_allclose(f3.coef, f1.coef, rtol=1e-10)
    np.testing.assert_allclose(f3.vcov, f1.vcov, rtol=1e-8)
    np.testing.assert_allclose(f3.naive_vcov, f1.naive_vcov / 3, rtol=1e-8)


def test_weighted_score_residuals_sum_to_the_score():
    f = _tied("w", robust=True)
    lay = engine.layout(TIED["time"], TIED["status"], case_weights=True)
    w = TIED["w"].to_numpy()
    X = TIED[["x1", "x2"]].to_numpy(float)
    for beta in (f.coef, np.zeros(2), np.array([0.7, -0.4])):
        res = engine.score_residuals(lay, X, beta, w)
        _, score, _ = engine.efron_terms(lay, X, beta[None], w[None])
        np.testing.assert_allclose((w[:, None] * res).sum(axis=0), score[0], atol=1e-12)


def test_robust_default_follows_coxph():
    assert _tied("w").robust  # non-integer weights
    assert not _tied("wi").robust and _tied("wi", robust=True).robust
    assert not _tied().robust and _tied(robust=True).robust


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("w, match", [
    (np.r_[0.0, np.ones(17)], "weights must be positive"),
    (np.r_[-1.0, np.ones(17)], "weights must be positive"),
    (np.r_[np.nan, np.ones(17)], "weights has missing values"),
    (np.ones(5), "weights has 5 values but there are 18 patients"),
])
def test_bad_weights(w, match):
    with pytest.raises(ValueError, match=match):
        fit_cox(TIED["time"], TIED["status"], TIED[["x1", "x2"]], weights=w)


def test_weights_or_robust_with_strata_refused():
    s = (TIED["x2"] > 1).astype(int)
    with pytest.raises(ValueError, match="not implemented with strata"):
        fit_cox(TIED["time"], TIED["status"], TIED[["x1"]], strata=s, weights=TIED["w"])
    with pytest.raises(ValueError, match="not implemented with strata"):
        fit_cox(TIED["time"], TIED["status"], TIED[["x1"]], strata=s, robust=True)


def test_weighted_fit_refuses_what_needs_an_unweighted_baseline():
    f = _tied("w")
    for call in (f.baseline, lambda: f.predict_survival(3), lambda: ph_test(f),
                 lambda: diverging(f, np.ones((1, 18)))):
        with pytest.raises(ValueError, match="not implemented for a weighted Cox model"):
            call()
