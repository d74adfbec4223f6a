"""Tests of dmnpc.stats.validation: the batched Cox engine against lifelines, fast vs slow
paths, hand-worked indexes, rms::validate goldens (tests/reference/validation.json from
ref_validation.R, rms 6.5.0) and errors."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dmnpc.stats.cox import fit_cox
from dmnpc.stats import _engine as cf
from dmnpc.stats import validation as V
from dmnpc.stats.discrimination import harrell_c

HERE = Path(__file__).resolve().parents[1]  # tests/
REF = json.loads((HERE / "reference" / "validation.json").read_text())
GBSG = pd.read_csv(HERE / "data" / "gbsg.csv")
COLS = ["age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon"]
X = GBSG[COLS]
T = GBSG["rfstime"].to_numpy(float)
E = GBSG["status"].to_numpy(int)
FIT = fit_cox(T, E, X)
FIT_RMS = fit_cox(T, E, X, eps=1e-4)  # rms::cph's convergence rule
R_INDEX = REF["runs"][0]["index"]  # Dxy R2 Slope D U Q g


# ---------------------------------------------------------------- engine
def test_batched_fits_equal_lifelines_per_replicate():
    from lifelines import CoxPHFitter

    W = V.bootstrap_frequencies(T.size, 4, seed=11)
    lay = cf.layout(T, E)
    fit = cf.fit_batch(lay, X.to_numpy(float), W)
    d = GBSG[COLS + ["rfstime", "status"]]
    for b in range(4):
        rows = np.repeat(np.arange(T.size), W[b].astype(int))
        m = CoxPHFitter().fit(d.iloc[rows], "rfstime", "status", fit_options={"precision": 1e-12})
        np.testing.assert_allclose(fit.beta[b], m.params_[COLS].to_numpy(), rtol=1e-6, atol=1e-9)
        assert fit.loglik[b] == pytest.approx(m.log_likelihood_, rel=1e-9)


def test_rms_convergence_rule_reproduces_cph_coefficients():
    f = cf.fit_batch(cf.layout(T, E), X.to_numpy(float), eps=1e-4, max_iter=10)
    np.testing.assert_allclose(f.beta[0], [REF["coef"][c] for c in COLS], rtol=1e-6)


def test_efron_ties_hand():
    # two tied deaths at t=1 among 3 patients, x = (1, 0, 0); beta = 0:
    # Efron: log L = -[log 3 + log(3 - 1/2 * 2)] = -log 6
    lay = cf.layout(np.array([1.0, 1.0, 2.0]), np.array([1, 1, 0]))
    ll = cf.loglik_at(lay, np.array([[1.0], [0.0], [0.0]]), np.zeros((1, 1)))
    assert ll[0] == pytest.approx(-np.log(6.0), rel=1e-12)


# ---------------------------------------------------------------- indexes, hand-worked
def test_gini_md_weighted_equals_repeated():
    x = np.array([[3.0, 1.0, 2.0, 2.0]])
    w = np.array([[2.0, 0.0, 1.0, 3.0]])
    rep = np.repeat(x[0], w[0].astype(int))
    brute = np.mean([abs(a - b) for i, a in enumerate(rep) for j, b in enumerate(rep) if i < j])
    assert V._gini_md(x, w)[0] == pytest.approx(brute, rel=1e-12)
    assert V._gini_md(np.array([[0.0, 1.0]]))[0] == 1.0


def test_weighted_dxy_equals_dxy_of_resampled_rows():
    rng = np.random.default_rng(3)
    lp = rng.normal(size=(6, T.size))
    lp[:, :40] = np.round(lp[:, :40], 1)  # some ties in the score
    W = V.bootstrap_frequencies(T.size, 6, seed=4)
    pairs = V._Pairs(T, E)
    got_w, got_1 = pairs.dxy_many(lp, [W, None])
    for b in range(6):
        rows = np.repeat(np.arange(T.size), W[b].astype(int))
        assert got_w[b] == pytest.approx(harrell_c(T[rows], E[rows], lp[b][rows]).somers_d, abs=1e-12)
        assert got_1[b] == pytest.approx(harrell_c(T, E, lp[b]).somers_d, abs=1e-12)


def test_bootstrap_frequencies_sum_to_n():
    W = V.bootstrap_frequencies(10, 3, seed=0)
    assert W.shape == (3, 10) and (W.sum(axis=1) == 10).all()


# ---------------------------------------------------------------- fast vs slow, reproducibility
def test_fast_and_slow_paths_agree():
    fast = V.validate_cox(FIT, B=4, seed=7)
    slow = V.validate_cox(FIT, B=4, seed=7, method="slow")
    # identical samples; coefficients differ only by lifelines' convergence tolerance
    np.testing.assert_allclose(fast.coef, slow.coef, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(fast.table.to_numpy(float), slow.table.to_numpy(float), rtol=1e-6, atol=1e-9)


def test_same_seed_same_result_and_progress_bar():
    a = V.validate_cox(FIT, B=10, seed=1)
    b = V.validate_cox(FIT, B=10, seed=1, progress=True)
    pd.testing.assert_frame_equal(a.table, b.table)
    c = V.validate_cox(FIT, B=10, seed=2)
    assert not np.allclose(a.table["test"], c.table["test"])
    assert isinstance(a.corrected("C"), float) and isinstance(a.apparent("Dxy"), float)
    assert a.table.loc["C", "index_orig"] == pytest.approx(a.table.loc["Dxy", "index_orig"] / 2 + 0.5)


# ---------------------------------------------------------------- R goldens
def test_apparent_indexes_equal_rms():
    v = V.validate_cox(FIT_RMS, B=2, seed=0)
    ours = v.table.loc[R_INDEX, "index_orig"].to_numpy(float)
    np.testing.assert_allclose(ours, REF["runs"][0]["index_orig"], rtol=1e-6)


def test_apparent_c_equals_harrell_c():
    v = V.validate_cox(FIT, B=2, seed=0)
    lp = X.to_numpy(float) @ cf.fit_batch(cf.layout(T, E), X.to_numpy(float)).beta[0]
    assert v.apparent("C") == pytest.approx(harrell_c(T, E, lp).c, rel=1e-12)


@pytest.mark.parametrize("index", ["Dxy", "R2", "Slope", "D", "g"])
def test_corrected_indexes_within_monte_carlo_error_of_rms(index):
    """Our B=200 run (NumPy seed) vs the mean of rms::validate over R seeds 1..20 (B=200 each).

    Monte Carlo error: both are B=200 bootstrap estimates with the same per-run SD
    sigma (the apparent index is fixed, so all the noise is in the optimism).
    R's SD over its k=20 runs, s, estimates sigma; its upper 97.5% confidence
    limit is s*sqrt((k-1)/chi2_{0.025,k-1}) = 1.46 s. The difference ours - mean(R)
    has SD sigma*sqrt(1 + 1/k); we allow 3 of those with sigma at that limit.
    """
    j = R_INDEX.index(index)
    runs = np.array([r["corrected"][j] for r in REF["runs"]])
    k = runs.size
    sigma_up = runs.std(ddof=1) * np.sqrt((k - 1) / stats.chi2.ppf(0.025, k - 1))
    tol = 3 * sigma_up * np.sqrt(1 + 1 / k)
    v = V.validate_cox(FIT_RMS, B=200, seed=2024)
    assert abs(v.corrected(index) - runs.mean()) < tol


# ---------------------------------------------------------------- errors
def test_errors():
    # design problems are the fit's (fit_cox / design_array), caught before any validation
    with pytest.raises(ValueError, match="one row per patient"):
        fit_cox(T, E, X.iloc[:10])
    with pytest.raises(ValueError, match="no columns"):
        fit_cox(T, E, np.empty((T.size, 0)))
    with pytest.raises(ValueError, match="missing or infinite"):
        fit_cox(T, E, np.where(np.arange(T.size)[:, None] == 0, np.nan, X.to_numpy(float)))
    with pytest.raises(ValueError, match="same value for every patient"):
        fit_cox(T, E, np.c_[X.to_numpy(float), np.ones(T.size)])
    with pytest.raises(ValueError, match="no events"):
        fit_cox(T, np.zeros_like(E), X)
    with pytest.raises(ValueError, match="takes a fitted model"):
        V.validate_cox(X, B=2)
    with pytest.raises(ValueError, match="positive integer"):
        V.validate_cox(FIT, B=0)
    with pytest.raises(ValueError, match="method must be"):
        V.validate_cox(FIT, B=2, method="medium")
    with pytest.raises(ValueError, match="At least two events"):
        V.validate_cox(fit_cox([1, 2, 3], [1, 0, 0], np.array([[1.0], [0.0], [2.0]])), B=2)
    monotone = fit_cox([9.0, 1, 2, 3, 4, 5, 6, 7], [0, 1, 1, 0, 1, 1, 0, 1], [[0.0]] + [[1.0]] * 7)
    assert not monotone.converged
    with pytest.raises(ValueError, match="monotone likelihood"):
        V.validate_cox(monotone, B=2)


# ---------------------------------------------------------------- replicates without a finite maximum
RIDGE_REF = json.loads((HERE / "reference" / "ridge.json").read_text())


def _rare_deaths_cohort(seed=3):
    """40 patients; the x = 0 level (8 patients) has 1 death, so many bootstrap samples draw none."""
    rng = np.random.default_rng(seed)
    x = np.r_[np.zeros(8), np.ones(32)]
    z = rng.normal(size=40)
    t = rng.exponential(np.where(x == 1, 1.0, 4.0)) + rng.uniform(0, 1e-3, 40)
    t[0] = np.median(t[8:])  # the one x = 0 death, with half the x = 1 patients still at risk
    e = np.r_[1, np.zeros(7), (rng.uniform(size=32) < 0.7)].astype(int)
    return t, e, np.c_[x, z]


def _monotone_by_hand(t, e, x, w):
    """Single binary term: the likelihood rises without bound in beta (or in -beta) iff every death
    on the x = 0 (x = 1) side happens when nobody of the other side is at risk (no tied times)."""
    out = []
    for side in (0, 1):
        deaths = (w > 0) & (e == 1) & (x == side)
        other_at_risk = [((w > 0) & (x != side) & (t >= ti)).any() for ti in t[deaths]]
        out.append(not any(other_at_risk))
    return any(out)


def test_ridge_equals_coxph_ridge():
    """ridge_cox against coxph(~ ridge(..., theta, scale = FALSE)) (tests/reference/ref_ridge.R), also
    with a term whose unpenalised coefficient diverges."""
    d = GBSG.assign(late=((GBSG["rfstime"] > 2000) & (GBSG["status"] == 0)).astype(int))
    terms = RIDGE_REF["terms"]
    assert fit_cox(T, E, d[terms]).infinite == ("late",)
    lay = cf.layout(T, E)
    for ref in RIDGE_REF["fits"]:
        b = V.ridge_cox(T, E, d[terms], ref["theta"])
        np.testing.assert_allclose(b, ref["coef"], rtol=1e-6, atol=1e-9)
        assert cf.loglik_at(lay, d[terms].to_numpy(float), b[None])[0] == pytest.approx(ref["loglik"][1], rel=1e-9)
        assert ref["theta"] * np.sum(b ** 2) / 2 == pytest.approx(ref["penalty"][0], rel=1e-6)


def test_ridge_weights_equal_duplicated_rows_and_errors():
    W = V.bootstrap_frequencies(T.size, 2, seed=5)
    b = V.ridge_cox(T, E, X, 0.5, weights=W)
    rows = np.repeat(np.arange(T.size), W[1].astype(int))
    np.testing.assert_allclose(b[1], V.ridge_cox(T[rows], E[rows], X.iloc[rows], 0.5), rtol=1e-8, atol=1e-10)
    assert V.ridge_cox(T, E, X, 0.5, weights=W[0]).shape == (len(COLS),)
    with pytest.raises(ValueError, match="positive number"):
        V.ridge_cox(T, E, X, 0.0)
    with pytest.raises(ValueError, match="one per patient"):
        V.ridge_cox(T, E, X, 1.0, weights=np.ones(3))


def test_flagged_replicates_are_exactly_the_monotone_ones():
    t, e, X2 = _rare_deaths_cohort()
    fit = fit_cox(t, e, X2[:, :1])
    v = V.validate_cox(fit, B=60, seed=4)
    W = V.bootstrap_frequencies(t.size, 60, seed=4)
    hand = np.array([_monotone_by_hand(t, e, X2[:, 0], w) for w in W])
    assert 0 < hand.sum() < 60  # the test has both kinds
    np.testing.assert_array_equal(v.flagged, hand)
    assert v.n_flagged == hand.sum() and v.diverged.to_dict() == {"x0": int(hand.sum())}
    assert v.diverged_terms == ("x0",)
    assert v.n_failed == 0 and v.remedy is None and v.theta is None
    np.testing.assert_array_equal(V.diverging(fit, W).any(axis=1), hand)


def test_no_replicate_flagged_where_every_maximum_is_finite():
    v = V.validate_cox(FIT, B=20, seed=3)
    assert v.n_flagged == 0 and v.diverged_terms == () and (v.diverged == 0).all()
    assert list(v.diverged.index) == COLS
    r = V.validate_cox(FIT, B=20, seed=3, remedy="ridge")
    pd.testing.assert_frame_equal(r.table, v.table)  # nothing to remedy: same result


def test_flagging_does_not_depend_on_the_stopping_rule_or_path():
    t, e, X2 = _rare_deaths_cohort()
    full = V.validate_cox(fit_cox(t, e, X2), B=30, seed=8)
    rms_rule = V.validate_cox(fit_cox(t, e, X2, eps=1e-4), B=30, seed=8)
    assert full.n_flagged > 0
    np.testing.assert_array_equal(full.flagged, rms_rule.flagged)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines warns about the separation it is given
        slow = V.validate_cox(fit_cox(t, e, X2), B=30, seed=8, method="slow")
    np.testing.assert_array_equal(full.flagged, slow.flagged)


def test_remedies():
    t, e, X2 = _rare_deaths_cohort()
    fit = fit_cox(t, e, X2)
    B, seed = 40, 6
    W = V.bootstrap_frequencies(t.size, B, seed)
    plain = V.validate_cox(fit, B=B, seed=seed)
    fl = plain.flagged
    assert fl.any() and (np.abs(plain.coef[fl, 0]) > 10).all()  # walked out to a numerical infinity
    # exclude: the flagged replicates are left out, the others used as fitted
    ex = V.validate_cox(fit, B=B, seed=seed, remedy="exclude")
    assert ex.table["n"].iloc[0] == B - fl.sum() and ex.remedy == "exclude"
    np.testing.assert_array_equal(ex.flagged, fl)
    np.testing.assert_allclose(ex.test["Slope"].to_numpy(), plain.test["Slope"].to_numpy()[~fl], rtol=1e-10)
    # ridge: flagged replicates refitted with the penalty, the others untouched
    th = 0.7
    rd = V.validate_cox(fit, B=B, seed=seed, remedy="ridge", theta=th)
    assert rd.table["n"].iloc[0] == B and rd.theta == th and rd.remedy == "ridge"
    np.testing.assert_array_equal(rd.flagged, fl)
    np.testing.assert_allclose(rd.coef[fl], V.ridge_cox(t, e, X2, th, weights=W[fl]), rtol=1e-8)
    np.testing.assert_array_equal(rd.coef[~fl], plain.coef[~fl])
    assert np.isfinite(rd.coef).all() and (np.abs(rd.coef[fl, 0]) < np.abs(plain.coef[fl, 0])).all()
    # the diverging replicates pull the corrected slope down; both remedies raise it
    assert plain.corrected("Slope") < min(ex.corrected("Slope"), rd.corrected("Slope"))
    assert rd.table.loc["Slope", "index_orig"] == plain.table.loc["Slope", "index_orig"] == 1.0
    with pytest.raises(ValueError, match="remedy must be"):
        V.validate_cox(fit, B=2, remedy="drop")
    with pytest.raises(ValueError, match="positive number"):
        V.validate_cox(fit, B=2, remedy="ridge", theta=-1.0)


def test_default_ridge_theta_is_the_stated_prior():
    # 95% of a normal prior with sd = 1 / sqrt(theta) lies between HR 1/100 and 100
    sd = 1 / np.sqrt(V.RIDGE_THETA)
    assert stats.norm.cdf(np.log(100), scale=sd) - stats.norm.cdf(-np.log(100), scale=sd) == pytest.approx(0.95)
