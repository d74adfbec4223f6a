"""Tests of dmnpc.stats.pipeline (bootstrap of a whole development procedure) and of the batched
engine features it relies on: every batched piece against the public single-fit function on the
resampled rows, the fast path against the slow loop replicate by replicate, the stated rules."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from dmnpc.stats import _engine as cf
from dmnpc.stats import pipeline as P
from dmnpc.stats.cox import _moving, fit_cox, univariable_screen
from dmnpc.stats.discrimination import harrell_c
from dmnpc.stats.roc import youden_cut
from dmnpc.stats.validation import bootstrap_frequencies, ridge_cox


def _cohort(n=70, seed=5):
    """Synthetic cohort: two markers (one worse when high, one when low), a strong and a weak binary
    term, a term with missing values, a rare term (10 patients, one death: no finite maximum in the
    samples without that death) and an exact copy of the strong term (aliased when both are kept)."""
    rng = np.random.default_rng(seed)
    m_hi = np.round(rng.lognormal(8, 1.5, n), -2)  # ties in the marker
    m_lo = rng.integers(1, 12, n).astype(float)
    strong = (rng.uniform(size=n) < 0.45).astype(float)
    weak = (rng.uniform(size=n) < 0.5).astype(float)
    miss = (rng.uniform(size=n) < 0.4).astype(float)
    miss[rng.choice(n, 6, replace=False)] = np.nan
    rare = np.zeros(n)
    rare[:10] = 1.0
    lp = 1.2 * strong + 0.8 * (m_hi > 3000) + 0.7 * (m_lo < 5) + 0.9 * np.nan_to_num(miss)
    t = np.round(rng.exponential(30 * np.exp(-lp)), 1) + 0.1
    c = rng.uniform(5, 60, n)
    e = (t <= c).astype(int)
    t = np.minimum(t, c)
    t[0], e[0] = np.median(t), 1  # the rare group's one death: a sample without it has no finite maximum
    e[1:10] = 0
    fixed = pd.DataFrame({"strong": strong, "weak": weak, "miss": miss, "rare": rare, "strong_copy": strong})
    return t, e, fixed, m_hi, m_lo


T, E, FIXED, M_HI, M_LO = _cohort()
N = T.size


def _proc(alpha=0.05, cand=None, fixed=FIXED):
    markers = [P.CutMarker("hi_high", M_HI, "<"), P.CutMarker("lo_low", M_LO, ">")]
    return P.Procedure.make(T, E, fixed, markers, cut_outcome=E, candidates=cand, alpha=alpha)


# ---------------------------------------------------------------- engine features
def test_each_replicate_of_a_batch_equals_its_single_fit():
    """A replicate stops at its own convergence: the batch gives what fit_cox gives on the resampled rows,
    whatever the other replicates (some of which have no finite maximum) do."""
    X = np.c_[FIXED[["strong", "rare"]].to_numpy(), M_LO < 5]
    W = bootstrap_frequencies(N, 40, seed=2)
    W = W[:12]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = cf.fit_batch(cf.layout(T, E), X, W, max_iter=50, final_terms=True)
    kinds = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for b in range(W.shape[0]):
            rows = np.repeat(np.arange(N), W[b].astype(int))
            one = fit_cox(T[rows], E[rows], X[rows])
            kinds.add(one.converged)
            moving = ~np.isfinite(f.beta[b]) | _moving(f.score_final[b], f.information_final[b], f.beta[b])
            assert (not moving.any()) == one.converged  # fit_cox's rule on the batch's estimate
            if one.converged:
                np.testing.assert_allclose(f.beta[b], one.coef, rtol=1e-10, atol=1e-12)
    assert kinds == {True, False}  # both kinds in the batch


def test_free_coefficients_equal_the_fit_of_the_free_columns():
    X = np.c_[FIXED[["strong", "weak"]].to_numpy(), M_LO < 5].astype(float)
    W = bootstrap_frequencies(N, 3, seed=4)
    free = np.array([[True, False, True], [True, True, True], [False, True, False]])
    Xp = X[None] * free[:, None, :]
    f = cf.fit_batch(cf.layout(T, E), Xp, W, max_iter=50, free=free)
    for b in range(3):
        sub = cf.fit_batch(cf.layout(T, E), X[:, free[b]], W[b:b + 1], max_iter=50)
        np.testing.assert_allclose(f.beta[b, free[b]], sub.beta[0], rtol=1e-10)
        assert (f.beta[b, ~free[b]] == 0).all()
    with pytest.raises(ValueError, match="full convergence"):
        cf.fit_batch(cf.layout(T, E), Xp, W, eps=1e-4, free=free)


# ---------------------------------------------------------------- weighted Youden
@pytest.mark.parametrize("direction", ["<", ">"])
@pytest.mark.parametrize("marker", ["hi", "lo"])
def test_weighted_youden_equals_youden_cut_on_resampled_rows(direction, marker):
    m = M_HI if marker == "hi" else M_LO
    W = bootstrap_frequencies(N, 150, seed=9)
    got = P.weighted_youden(m, E, W, direction)
    for b in range(W.shape[0]):
        rows = np.repeat(np.arange(N), W[b].astype(int))
        assert got[b] == youden_cut(m[rows], E[rows], direction).threshold


def test_weighted_youden_ties_and_extremes():
    # pROC's tiny example with a tie for the best cut (tests/reference/ref_cutoffs.R)
    m = np.array([1, 2, 2, 3, 4, 4, 5, 6.0])
    y = np.array([0, 0, 1, 0, 1, 1, 0, 1])
    for d in ("<", ">"):
        assert P.weighted_youden(m, y, np.ones((1, 8)), d)[0] == youden_cut(m, y, d).threshold
        W = np.array([[0, 2, 0, 1, 3, 0, 1, 1.0]])
        rows = np.repeat(np.arange(8), W[0].astype(int))
        assert P.weighted_youden(m, y, W, d)[0] == youden_cut(m[rows], y[rows], d).threshold
    # no split beats calling everyone positive: -inf (first in pROC's order for "<")
    assert P.weighted_youden(np.array([1.0, 2.0]), np.array([0, 1]), np.ones((1, 2)), ">")[0] == np.inf
    assert youden_cut(np.array([1.0, 2.0]), np.array([0, 1]), ">").threshold == np.inf
    with pytest.raises(ValueError, match="only one class"):
        P.weighted_youden(m, y, np.array([[1, 1, 0, 1, 0, 0, 1, 0.0]]), "<")
    with pytest.raises(ValueError, match="direction"):
        P.weighted_youden(m, y, np.ones((1, 8)), "auto")


# ---------------------------------------------------------------- batched screen
def test_batched_screen_equals_univariable_screen_on_resampled_rows():
    X = FIXED.to_numpy(float)
    obs = np.isfinite(X)
    W = bootstrap_frequencies(N, 8, seed=1)
    got = P.batched_screen(T, E, np.where(obs, X, 0.0), W[:, :, None] * obs[None])
    seen_nan = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for b in range(8):
            rows = np.repeat(np.arange(N), W[b].astype(int))
            ref = univariable_screen(T[rows], E[rows], FIXED.iloc[rows].reset_index(drop=True))
            for k in ("coef", "se", "p"):
                np.testing.assert_allclose(got[k][b], ref[k].to_numpy(), rtol=1e-8, atol=1e-12)
            assert (np.isnan(got["p"][b]) == (ref["note"] != "").to_numpy()).all()
            seen_nan |= bool(np.isnan(got["p"][b]).any())
    assert seen_nan  # the rare term is not estimable in some samples


# ---------------------------------------------------------------- aliasing
def test_aliased_drops_later_copies_and_constants():
    x = FIXED["strong"].to_numpy()
    X = np.stack([np.c_[x, x, np.ones(N), 1 - x, FIXED["weak"]]] * 2)
    free = np.array([[True] * 5, [False, True, True, True, True]])
    al = P._aliased(X, np.ones((2, N)), free)
    np.testing.assert_array_equal(al, [[False, True, True, True, False], [False, False, True, True, False]])


# ---------------------------------------------------------------- fast vs slow
@pytest.mark.parametrize("remedy", ["ridge", "exclude", None])
@pytest.mark.parametrize("alpha", [0.05, None])
def test_fast_path_equals_the_slow_loop(remedy, alpha):
    """Replicate by replicate; with the screen (missing values, an aliased copy, a term not estimable in
    some samples) and with the terms fixed (a term without a finite maximum in some samples)."""
    proc = _proc() if alpha else _proc(alpha=None, cand=("strong", "rare", "miss", "hi_high", "lo_low"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = P.validate_procedure(proc, B=16, seed=3, remedy=remedy, horizon=12.0, chunk=7)
        slow = P.validate_procedure(proc, B=16, seed=3, remedy=remedy, horizon=12.0, method="slow")
    pd.testing.assert_frame_equal(fast.selection, slow.selection)
    pd.testing.assert_frame_equal(fast.cuts, slow.cuts)
    for k in ("null", "failed", "used", "n_terms"):
        np.testing.assert_array_equal(fast.replicates[k], slow.replicates[k])
    for k in ("c_train", "c_test", "slope", "reclassified"):
        np.testing.assert_allclose(fast.replicates[k], slow.replicates[k], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.coef, slow.coef, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fast.pred, slow.pred, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(np.isnan(fast.high), np.isnan(slow.high))
    np.testing.assert_array_equal(np.nan_to_num(fast.high, nan=-1), np.nan_to_num(slow.high, nan=-1))
    pd.testing.assert_frame_equal(fast.table, slow.table, rtol=1e-9)
    # the samples have the cases the rules are about
    if alpha:
        assert fast.selection["miss"].any() and not fast.selection.all().all()
        assert fast.selection["strong"].any() and not fast.selection["strong_copy"].any()  # the copy is aliased
    else:
        assert fast.replicates["failed"].any() and not fast.replicates["failed"].all()


def test_fast_apparent_equals_develop():
    """The batched path on the original data (all frequencies 1) is the procedure's own model."""
    proc = _proc()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dev = P.develop(proc, horizon=12.0)
        lay, pairs = cf.layout(T, E), P._Pairs(T, E)
        got = P._fast_chunk(proc, lay, pairs, np.ones((1, N)), 12.0, "ridge", 0.2)
    assert tuple(c for c, s in zip(proc.candidates, got["sel"][0]) if s) == dev.terms
    np.testing.assert_allclose(got["coef"][0][got["sel"][0]], dev.coef.to_numpy(), rtol=1e-10)
    assert got["c_train"][0] == pytest.approx(dev.c, abs=1e-12) == got["c_test"][0]
    np.testing.assert_allclose(got["pred"][0], dev.pred, rtol=1e-10)
    cc = np.isfinite(dev.lp)
    assert dev.c == pytest.approx(harrell_c(T[cc], E[cc], dev.lp[cc]).c, abs=1e-12)
    assert {m: c.threshold for m, c in dev.cuts.items()} == {
        "hi_high": youden_cut(M_HI, E, "<").threshold, "lo_low": youden_cut(M_LO, E, ">").threshold}


def test_same_seed_same_result_and_progress_bar():
    proc = _proc()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = P.validate_procedure(proc, B=12, seed=1, horizon=12.0)
        b = P.validate_procedure(proc, B=12, seed=1, horizon=12.0, progress=True, chunk=5)
        c = P.validate_procedure(proc, B=12, seed=2, horizon=12.0)
    pd.testing.assert_frame_equal(a.replicates, b.replicates)
    np.testing.assert_array_equal(a.pred, b.pred)
    assert not a.replicates["c_test"].equals(c.replicates["c_test"])


# ---------------------------------------------------------------- rules
def test_empty_screen_gives_the_null_model():
    # only the weak and the rare term: most samples keep nothing
    proc = P.Procedure.make(T, E, FIXED[["weak", "rare"]], cut_outcome=E, alpha=0.001)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = P.validate_procedure(proc, B=20, seed=4, horizon=12.0)
    r = res.replicates
    assert res.n_null == r["null"].sum() > 0
    assert (r.loc[r["null"], ["c_train", "c_test"]] == 0.5).all().all()
    assert r.loc[r["null"], "slope"].isna().all()
    assert res.table.loc["Slope", "n"] == (~r["null"]).sum() and res.table.loc["C", "n"] == 20
    null_rows = np.flatnonzero(r["null"])
    assert (res.high[null_rows] == 0).all()  # nobody above the mean
    assert np.ptp(res.pred[null_rows], axis=1).max() == 0  # the sample's baseline for everyone
    assert "null model" in res.rule


def test_missing_values_complete_cases_and_no_prediction():
    proc = _proc(alpha=None, cand=("strong", "miss", "hi_high"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = P.validate_procedure(proc, B=5, seed=6, horizon=12.0)
        dev = res.apparent
    gone = FIXED["miss"].isna().to_numpy()
    assert np.isnan(res.pred[:, gone]).all() and np.isfinite(res.pred[:, ~gone]).all()
    assert np.isnan(dev.lp[gone]).all() and np.isnan(dev.high[gone]).all()
    fit = fit_cox(T[~gone], E[~gone], np.c_[FIXED.loc[~gone, ["strong", "miss"]], M_HI[~gone] > dev.cuts["hi_high"].threshold])
    np.testing.assert_allclose(dev.coef.to_numpy(), fit.coef, rtol=1e-10)


def test_failed_replicates_counted_and_remedied():
    proc = _proc(alpha=None, cand=("strong", "rare", "lo_low"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rid = P.validate_procedure(proc, B=30, seed=8, horizon=12.0)
        exc = P.validate_procedure(proc, B=30, seed=8, horizon=12.0, remedy="exclude")
    fl = rid.replicates["failed"].to_numpy()
    assert rid.n_failed == fl.sum() > 0 and (exc.replicates["failed"] == fl).all()
    assert exc.table.loc["C", "n"] == 30 - fl.sum() and rid.table.loc["C", "n"] == 30
    pd.testing.assert_frame_equal(exc.table, rid.table_excluding_failed)
    # ridge refit of a failed replicate = ridge_cox on its resampled rows
    W = bootstrap_frequencies(N, 30, seed=8)
    b = int(np.flatnonzero(fl)[0])
    rows = np.repeat(np.arange(N), W[b].astype(int))
    Xb = np.c_[FIXED[["strong", "rare"]].to_numpy(), M_LO < rid.cuts["lo_low"].iloc[b]][rows]
    np.testing.assert_allclose(rid.coef.iloc[b], ridge_cox(T[rows], E[rows], Xb, P.RIDGE_THETA), rtol=1e-7)
    assert "ridge" in rid.rule and "left out" in exc.rule


def test_instability_summary():
    proc = _proc(alpha=None, cand=("strong", "hi_high", "lo_low"))
    res = P.validate_procedure(proc, B=25, seed=2, horizon=12.0)
    ins = res.instability()
    assert list(ins.columns) == ["original", "mean", "lower", "upper", "mape", "n", "reclassified"]
    assert len(ins) == N and (ins["n"] == 25).all()
    np.testing.assert_allclose(ins["mape"], np.mean(np.abs(res.pred - res.apparent.pred), axis=0))
    assert res.mape == pytest.approx(ins["mape"].mean())
    assert res.reclassified == pytest.approx(ins["reclassified"].mean())  # complete data: same denominators
    assert (ins["lower"] <= ins["upper"]).all()


def test_errors():
    with pytest.raises(ValueError, match="direction"):
        P.Procedure.make(T, E, FIXED, [P.CutMarker("x", M_HI, "auto")], cut_outcome=E)
    with pytest.raises(ValueError, match="not found"):
        P.Procedure.make(T, E, FIXED, cut_outcome=E, candidates=("strong", "nope"))
    with pytest.raises(ValueError, match="defined twice"):
        P.Procedure.make(T, E, FIXED, [P.CutMarker("strong", M_HI, "<")], cut_outcome=E)
    with pytest.raises(ValueError, match="alpha"):
        P.Procedure.make(T, E, FIXED, cut_outcome=E, alpha=1.5)
    with pytest.raises(ValueError, match="rows"):
        P.Procedure.make(T, E, FIXED.iloc[:5], cut_outcome=E)
    proc = _proc()
    with pytest.raises(ValueError, match="positive integer"):
        P.validate_procedure(proc, B=0)
    with pytest.raises(ValueError, match="method"):
        P.validate_procedure(proc, B=2, method="medium")
    with pytest.raises(ValueError, match="remedy"):
        P.validate_procedure(proc, B=2, remedy="drop")
    with pytest.raises(ValueError, match="Procedure"):
        P.validate_procedure(FIXED, B=2)
