"""Tests of dmnpc.stats.simulate (the replicate runner), dmnpc.stats.subgroup_sim (the development
procedure, mean split and within-group comparison on many data sets at once) and its engine
dmnpc.stats._rowcox: seeding independent of how the work is split (serial, chunk sizes, joblib
processes, a Dask LocalCluster), the batched path against the single-data-set functions, the
stated rules for what is not estimable."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dmnpc.stats import _rowcox as rc
from dmnpc.stats import simulate as S
from dmnpc.stats import subgroup_sim as G
from dmnpc.stats.cox import fit_cox
from dmnpc.stats.pipeline import CutMarker
from dmnpc.stats.roc import youden_cut
from dmnpc.stats.validation import ridge_cox


# ----------------------------------------------------------------------------- tasks
def _toy_task(seeds) -> pd.DataFrame:
    rows = []
    for s in seeds:
        rng = np.random.default_rng(s)
        rows.append({"x": rng.normal(), "k": int(rng.integers(0, 1000))})
    return pd.DataFrame(rows)


def _studies(seeds, n: int = 60):
    """Synthetic studies: a marker worse when high, one worse when low, a strong and a weak binary term,
    a term with missing values, a rare term, a treatment that helps everyone (HR 0.6)."""
    out = {k: [] for k in ("t", "e", "tr", "F", "m1", "m2")}
    for s in seeds:
        rng = np.random.default_rng(s)
        m1 = np.round(rng.lognormal(8, 1.5, n), -2)  # ties in the marker
        m2 = rng.integers(1, 12, n).astype(float)
        strong = (rng.uniform(size=n) < 0.45).astype(float)
        weak = (rng.uniform(size=n) < 0.5).astype(float)
        miss = (rng.uniform(size=n) < 0.4).astype(float)
        miss[rng.choice(n, 4, replace=False)] = np.nan
        rare = (rng.uniform(size=n) < 0.08).astype(float)
        tr = (rng.uniform(size=n) < 0.75).astype(float)
        lp = 1.2 * strong + 0.8 * (m1 > 3000) + 0.7 * (m2 < 5) + 0.9 * np.nan_to_num(miss) + np.log(0.6) * tr
        t = rng.exponential(200 * np.exp(-lp))
        c = rng.uniform(5, 60, n)
        out["t"].append(np.minimum(t, c))
        out["e"].append((t <= c).astype(float))
        out["tr"].append(tr)
        out["F"].append(np.column_stack([strong, weak, miss, rare]))
        out["m1"].append(m1)
        out["m2"].append(m2)
    return {k: np.stack(v) for k, v in out.items()}


FIXED = ("strong", "weak", "miss", "rare")
CAND = ("strong", "m1_high", "weak", "miss", "m2_low", "rare")


def _analyse(d, method="fast", details=False, **kw):
    markers = [CutMarker("m1_high", d["m1"], "<"), CutMarker("m2_low", d["m2"], ">")]
    return G.develop_split_compare(d["t"], d["e"], d["tr"], d["F"], FIXED, markers, candidates=CAND,
                                   method=method, details=details, **kw)


def _pipeline_task(seeds) -> pd.DataFrame:
    return _analyse(_studies(seeds))


def _same(a: pd.DataFrame, b: pd.DataFrame, rtol: float = 1e-6) -> None:
    assert list(a.columns) == list(b.columns)
    for c in a.columns:
        if c == "exact_path":
            continue
        x, y = a[c].to_numpy(), b[c].to_numpy()
        if x.dtype.kind == "f":
            np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-10, equal_nan=True, err_msg=c)
        else:
            assert (x == y).all(), (c, np.flatnonzero(x != y))


# ----------------------------------------------------------------------------- the runner
def test_replicate_i_draws_from_the_ith_spawned_seed():
    res = S.run_replicates(_toy_task, 12, 5, chunk_size=5)
    kids = np.random.SeedSequence(5).spawn(12)
    assert res["replicate"].tolist() == list(range(12))
    assert res["x"].tolist() == [np.random.default_rng(k).normal() for k in kids]


def test_same_seed_same_result_other_seed_other_result():
    a = S.run_replicates(_pipeline_task, 20, 11)
    assert a.equals(S.run_replicates(_pipeline_task, 20, 11))
    assert not a["deaths"].equals(S.run_replicates(_pipeline_task, 20, 12)["deaths"])


def test_the_split_into_chunks_does_not_change_any_replicate():
    """Bit for bit: the batched fits stop one by one, so a replicate's numbers do not depend on its chunk."""
    ref = S.run_replicates(_pipeline_task, 30, 3, chunk_size=30)
    for cs in (1, 4, 7):
        assert ref.equals(S.run_replicates(_pipeline_task, 30, 3, chunk_size=cs)), cs
    # a longer run's first replicates are the shorter run's replicates (spawned seeds do not depend on N)
    assert ref.equals(S.run_replicates(_pipeline_task, 37, 3, chunk_size=8).iloc[:30])


def test_joblib_processes_equal_serial():
    ser = S.run_replicates(_pipeline_task, 24, 8, chunk_size=5)
    assert ser.equals(S.run_replicates(_pipeline_task, 24, 8, chunk_size=5, n_jobs=2))


def test_dask_local_cluster_with_two_workers_equals_serial():
    distributed = pytest.importorskip("distributed")
    ser = S.run_replicates(_pipeline_task, 40, 21, chunk_size=6)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        assert ser.equals(S.run_replicates(_pipeline_task, 40, 21, chunk_size=6, scheduler=client))
        # the scheduler's address: a client is opened and closed by the runner
        assert ser.equals(S.run_replicates(_pipeline_task, 40, 21, chunk_size=9, scheduler=cl.scheduler_address))


def test_progress_bar_counts_replicates(capsys):
    S.run_replicates(_toy_task, 9, 1, chunk_size=4, progress=True, desc="toy")
    err = capsys.readouterr().err
    assert "toy" in err and "9/9" in err
    S.run_replicates(_toy_task, 9, 1, chunk_size=4)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("kw, match", [
    (dict(replicates=0), "replicates"), (dict(seed=-1), "seed"), (dict(seed=1.5), "seed"),
    (dict(chunk_size=0), "chunk"), (dict(n_jobs=0), "n_jobs"), (dict(n_jobs=True), "n_jobs"),
])
def test_bad_arguments_are_refused(kw, match):
    args = dict(replicates=3, seed=1) | kw
    with pytest.raises(ValueError, match=match):
        S.run_replicates(_toy_task, args.pop("replicates"), args.pop("seed"), **args)


def test_a_task_must_answer_one_row_per_seed():
    with pytest.raises(ValueError, match="one row per seed"):
        S.run_replicates(lambda seeds: pd.DataFrame({"x": [1.0]}), 3, 1, chunk_size=3)


@pytest.mark.parametrize("k, n", [(0, 10), (3, 10), (10, 10), (412, 1000), (1, 2000)])
def test_clopper_pearson_equals_scipy_exact_interval(k, n):
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="exact")
    assert S.binomial_ci(k, n) == pytest.approx((ci.low, ci.high), rel=1e-8, abs=1e-15)  # scipy: root finding


def test_binomial_ci_refuses_nonsense():
    for k, n in ((5, 3), (-1, 3), (1, 0)):
        with pytest.raises(ValueError):
            S.binomial_ci(k, n)


# ----------------------------------------------------------------------------- the engine
def _one_study(seed=4, n=80, p=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X[:, 0] = rng.uniform(size=n) < 0.4
    t = rng.exponential(np.exp(-X @ np.linspace(0.8, -0.3, p)))
    c = rng.uniform(0.2, 3, n)
    return np.minimum(t, c), (t <= c).astype(float), X


def _sorted(t, e, X, w=None):
    lay = rc.layout_rows(t[None], e[None])
    o = lay.order[0]
    w = np.ones_like(t) if w is None else w
    return lay.event, X[o][None], w[o][None]


def test_row_fits_equal_fit_cox_and_ridge_cox():
    t, e, X = _one_study()
    w = (np.random.default_rng(1).uniform(size=t.size) < 0.8).astype(float)
    ev, Xs, ws = _sorted(t, e, X, w)
    f = rc.fit_rows(ev, Xs, ws)
    ref = fit_cox(t[w > 0], e[w > 0], X[w > 0])
    np.testing.assert_allclose(f.beta[0], ref.coef, rtol=1e-9)
    np.testing.assert_allclose(np.linalg.inv(f.information[0]), ref.vcov, rtol=1e-8)
    assert not f.moving[0] and f.converged[0]
    fr = rc.fit_rows(ev, Xs, ws, theta=2.0)
    np.testing.assert_allclose(fr.beta[0], ridge_cox(t[w > 0], e[w > 0], X[w > 0], 2.0), rtol=1e-8)


def test_row_fit_with_a_death_tied_to_a_censoring_keeps_the_censored_patient_at_risk():
    t, e, X = _one_study(seed=9)
    dead = np.flatnonzero(e == 1)[:3]
    cens = np.flatnonzero(e == 0)[:3]
    t[cens] = t[dead]
    f = rc.fit_rows(*_sorted(t, e, X))
    np.testing.assert_allclose(f.beta[0], fit_cox(t, e, X).coef, rtol=1e-9)
    assert not rc.layout_rows(t[None], e[None]).tied[0]
    t[dead[1]] = t[dead[0]]
    assert rc.layout_rows(t[None], e[None]).tied[0]


def test_row_fit_flags_no_finite_maximum():
    t, e, X = _one_study(seed=2)
    x = X[:, :1].copy()
    e = np.where(x[:, 0] == 1, e, 0.0)  # no deaths at level 0: the coefficient runs to +infinity
    f = rc.fit_rows(*_sorted(t, e, x))
    assert f.moving[0]
    assert not fit_cox(t, e, x).converged


def test_row_fits_of_a_batch_equal_the_fits_one_by_one():
    fits = [_one_study(seed=s, p=2) for s in range(6)]
    lay = rc.layout_rows(np.stack([f[0] for f in fits]), np.stack([f[1] for f in fits]))
    Xs = np.stack([f[2][o] for f, o in zip(fits, lay.order)])
    batch = rc.fit_rows(lay.event, Xs, np.ones(lay.event.shape))
    for i in range(6):
        one = rc.fit_rows(lay.event[i:i + 1], Xs[i:i + 1], np.ones((1, Xs.shape[1])))
        assert np.array_equal(batch.beta[i], one.beta[0])


# ----------------------------------------------------------------------------- cut points
@pytest.mark.parametrize("direction", ["<", ">"])
def test_youden_rows_equal_youden_cut(direction):
    rng = np.random.default_rng(3)
    m = rng.integers(0, 15, size=(40, 50)).astype(float)  # many ties
    y = (rng.uniform(size=(40, 50)) < 1 / (1 + np.exp(-(m - 7) / 3 * (1 if direction == "<" else -1)))).astype(float)
    y[0] = 0  # one class only
    y[0, :2] = 1
    got = G.youden_rows(m, y, direction)
    for r in range(40):
        assert got[r] == youden_cut(m[r], y[r], direction).threshold, r
    y[1] = 1
    assert np.isnan(G.youden_rows(m, y, direction)[1])


# ----------------------------------------------------------------------------- the procedure
def test_fast_path_equals_the_single_data_set_functions():
    d = _studies(np.random.SeedSequence(17).spawn(40))
    fast, dfast = _analyse(d, details=True)
    slow, dslow = _analyse(d, "slow", details=True)
    assert slow["exact_path"].all() and not fast["exact_path"].any()
    _same(fast, slow)
    for k in ("screen_p", "coef", "threshold"):
        np.testing.assert_allclose(dfast[k], dslow[k], rtol=1e-6, atol=1e-9, equal_nan=True, err_msg=k)
    assert np.array_equal(dfast["high"], dslow["high"], equal_nan=True)
    # the cases the rules are about occur in these studies
    why = set(fast["why_low"]) | set(fast["why_high"])
    assert fast["sel_miss"].any() and {"", "arm_no_deaths", "monotone", "empty"} <= why


def test_a_data_set_is_analysed_alone_as_in_any_batch():
    d = _studies(np.random.SeedSequence(5).spawn(12))
    all_ = _analyse(d)
    for i in (0, 7):
        one = _analyse({k: v[i:i + 1] for k, v in d.items()})
        assert one.equals(all_.iloc[i:i + 1].reset_index(drop=True))


def test_tied_death_times_go_through_the_exact_path():
    d = _studies(np.random.SeedSequence(8).spawn(6))
    t, e = d["t"], d["e"]
    dead = np.flatnonzero(e[2] == 1)
    t[2, dead[1]] = t[2, dead[0]]
    res = _analyse(d)
    assert res["exact_path"].tolist() == [False, False, True, False, False, False]
    _same(res, _analyse(d, "slow"))


def test_not_estimable_comparisons_say_why():
    d = _studies(np.random.SeedSequence(2).spawn(4))
    d["tr"][0] = 1.0  # everybody treated: one arm in both groups
    d["e"][1] = 0.0  # no deaths at all: nothing to analyse
    res = _analyse(d)
    assert res.loc[0, ["why_high", "why_low"]].tolist() == ["one_arm", "one_arm"]
    assert res.loc[1, ["why_high", "why_low"]].tolist() == ["not_analysable", "not_analysable"]
    assert res.loc[[0, 1], ["p_high", "p_low", "hr_high", "hr_low"]].isna().all().all()
    assert set(res["why_high"]) | set(res["why_low"]) <= set(G.NOT_ESTIMABLE) | {""}


def test_null_model_puts_everybody_low():
    d = _studies(np.random.SeedSequence(6).spawn(3))
    res = _analyse(d, alpha=1e-12)  # nothing passes the screen
    assert res["null_model"].all() and (res["n_terms"] == 0).all()
    assert (res["n_high"] == 0).all() and (res["why_high"] == "empty").all()
    assert (res["n_low"] == d["t"].shape[1]).all()


def test_procedure_refuses_bad_input():
    d = _studies(np.random.SeedSequence(1).spawn(2))
    with pytest.raises(ValueError, match="candidates"):
        G.develop_split_compare(d["t"], d["e"], d["tr"], d["F"], FIXED, candidates=("nope",))
    with pytest.raises(ValueError, match="0/1"):
        G.develop_split_compare(d["t"], d["e"] * 2, d["tr"], d["F"], FIXED, candidates=FIXED)
    with pytest.raises(ValueError, match="remedy"):
        G.develop_split_compare(d["t"], d["e"], d["tr"], d["F"], FIXED, candidates=FIXED, remedy="exclude")
    with pytest.raises(ValueError, match="direction"):
        G.youden_rows(d["t"], d["e"], "auto")
