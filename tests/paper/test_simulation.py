"""The subgroup-roulette simulation (dmnpc.paper.simulation) on the synthetic twin: the data-generating
model and the scenarios, one replicate against R (tests/reference/simulation.json from
tests/reference/ref_simulation.R on tests/data/sim_studies.csv), the batched path against the
single-data-set functions, serial == joblib == Dask, the counting rule, the command line."""

from __future__ import annotations

import json
import math
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dmnpc import __main__ as cli
from dmnpc.paper import analysis, contract
from dmnpc.paper import simulation as S

ROOT = Path(__file__).resolve().parents[2]
REF = json.loads((ROOT / "tests" / "reference" / "simulation.json").read_text())
STUDIES = ROOT / "tests" / "data" / "sim_studies.csv"
TOL = 1e-6


@pytest.fixture(scope="module")
def cohort():
    return contract.load_cohort(contract.DEFAULT_COHORT)


@pytest.fixture(scope="module")
def model(cohort):
    return S.data_model(cohort)


# ----------------------------------------------------------------------------- the model
def test_model_is_the_cohorts(cohort, model):
    fit = analysis.fitted_model(cohort, "os")
    assert model.size == len(cohort) == 90
    assert model.coef == dict(zip(fit.terms, fit.coef))
    assert model.death_share == pytest.approx(28 / 90)
    assert model.lrrt_share == pytest.approx(69 / 90)
    assert model.fixed.shape == (90, len(S._FIXED))
    assert np.isnan(model.fixed[:, S._FIXED.index("ldh_high")]).sum() == cohort["ldh"].isna().sum() > 0
    np.testing.assert_allclose(model.eta, fit.X @ fit.coef)


def test_weibull_baseline_is_the_maximum_likelihood_fit(cohort, model):
    t, e = cohort["os_months"].to_numpy(float), cohort["os_event"].to_numpy(float)

    def ll(k, rate):
        lam = rate * np.exp(model.eta)
        return float(np.sum(e * (np.log(k * lam) + (k - 1) * np.log(t))) - np.sum(lam * t ** k))

    k, r = model.shape, model.rate
    for dk, dr in ((1e-4, 0), (-1e-4, 0), (0, 1e-4), (0, -1e-4)):
        assert ll(k, r) >= ll(k * (1 + dk), r * (1 + dr))


@pytest.mark.parametrize("name", list(S.SCENARIOS))
def test_censoring_gives_the_cohorts_expected_deaths(model, name):
    sc = S.SCENARIOS[name]
    up = S.censoring_upper(model, sc)
    assert up > model.censor_min
    assert S._expected_death_share(model, sc, up) == pytest.approx(28 / 90, abs=1e-9)


@pytest.mark.parametrize("name", list(S.SCENARIOS))
def test_scenarios_have_the_papers_size_deaths_and_lrrt_split(model, name):
    """90 patients, about 28 deaths and 69 LRRT on average (400 studies: Monte Carlo SE ~0.25)."""
    res = S.simulate(model, name, 400, 1)
    r = res.replicates
    assert (r["n_high"] + r["n_low"] <= 90).all()
    assert abs(r["deaths"].mean() - 28) < 1.2
    assert abs(r["n_treated"].mean() - 69) < 1.2
    s = res.summary()
    assert s["replicates"] == 400 and s["n"] == 90 and s["true_hr"] == S.SCENARIOS[name].true_hr


def test_lrrt_travels_with_the_rows_or_is_drawn_apart(model):
    seeds = np.random.SeedSequence(3).spawn(30)
    obs = pd.concat([S.simulate_study(model, S.SCENARIOS["observed-0.6"], s) for s in seeds])
    rnd = pd.concat([S.simulate_study(model, S.SCENARIOS["random-0.6"], s) for s in seeds])
    assert len(obs) == 30 * 90
    assert (obs["lrrt"].to_numpy() == model.lrrt[obs["cohort_row"]]).all()
    # common random numbers: the same rows, the same event-time and censoring draws
    assert (obs["cohort_row"].to_numpy() == rnd["cohort_row"].to_numpy()).all()
    assert abs(np.corrcoef(rnd["lrrt"], model.lrrt[rnd["cohort_row"]])[0, 1]) < 0.1
    # in the cohort LRRT goes with fewer immunotherapy cycles below 8 (a prognostic term): confounding
    low_immuno = rnd["immuno_cycles"] < 8
    low_by_arm = obs["immuno_cycles"].lt(8).groupby(obs["lrrt"]).mean()
    assert low_by_arm[1] < low_by_arm[0]
    assert abs(rnd.loc[rnd["lrrt"] == 1, "immuno_cycles"].lt(8).mean() - low_immuno.mean()) < 0.05


def test_study_size_is_an_option(model):
    r = S.simulate(model, "random-1.0", 5, 2, n=180).replicates
    assert (r["n_treated"] > 100).all()
    assert S.simulate_study(model, S.SCENARIOS["random-1.0"].with_n(180), 1).shape[0] == 180
    with pytest.raises(ValueError, match="scenario"):
        S.simulate(model, "nope", 5, 1)
    with pytest.raises(ValueError, match="n must"):
        S.simulate(model, "random-1.0", 5, 1, n=3)


# ----------------------------------------------------------------------------- one replicate against R
def test_fixture_is_what_the_code_simulates(cohort):
    """tests/data/sim_studies.csv is dmnpc.paper.simulation.reference_studies on the twin (regenerate both
    the CSV and simulation.json when the data-generating model changes)."""
    saved = pd.read_csv(STUDIES)
    now = S.reference_studies(cohort)
    assert list(saved.columns) == list(now.columns)
    pd.testing.assert_frame_equal(saved, now, check_dtype=False, rtol=1e-12)


@pytest.mark.parametrize("method", ["fast", "slow"])
def test_one_replicate_equals_r(method):
    res, det = S.analyse_studies(pd.read_csv(STUDIES), method=method)
    assert len(res) == len(REF["studies"]) == 2
    for i, (study, ref) in enumerate(REF["studies"].items()):
        row = res.iloc[i]
        assert row["cut_ebv_dna_high"] == ref["cuts"]["ebv_dna_high"]
        assert row["cut_immuno_cycles_low"] == ref["cuts"]["immuno_cycles_low"]
        assert ref["screen_candidates"] == list(S.CANDIDATES)
        np.testing.assert_allclose(det["screen_p"][i], np.array(ref["screen_p"], float), rtol=TOL)
        coef = det["coef"][i]
        assert [c for c, v in zip(S.CANDIDATES, coef) if np.isfinite(v)] == ref["terms"]
        np.testing.assert_allclose(coef[np.isfinite(coef)], ref["coef"], rtol=TOL)
        assert bool(row["failed_fit"]) is ref["failed"]
        assert det["threshold"][i] == pytest.approx(ref["threshold"], rel=TOL)
        assert np.array_equal(det["high"][i], np.array(ref["high"], float), equal_nan=True)
        for g in ("high", "low"):
            r = ref["groups"][g]
            assert (row[f"n_{g}"], row[f"treated_{g}"], row[f"deaths_{g}"], row[f"why_{g}"]) == \
                (r["n"], r["treated"], r["deaths"], r["why"]), (study, g)
            for k in ("hr", "lower", "upper", "p"):
                if r[k] is None:
                    assert math.isnan(row[f"{k}_{g}"])
                else:
                    assert row[f"{k}_{g}"] == pytest.approx(r[k], rel=TOL), (study, g, k)
        assert bool(row["pattern"]) is ref["pattern"]
    # the cases the reference is there for: LDH kept (complete cases), a ridge refit, a non-estimable cohort
    assert res["sel_ldh_high"].all() and res["failed_fit"].tolist() == [False, True]
    assert np.isnan(det["high"]).any() and res.loc[1, "why_low"] != ""


# ----------------------------------------------------------------------------- the batched path, the runner
@pytest.mark.parametrize("name", ["observed-0.6", "random-1.0"])
def test_fast_equals_the_single_data_set_functions(model, name):
    fast = S.simulate(model, name, 30, 5).replicates
    slow = S.simulate(model, name, 30, 5, method="slow").replicates
    for c in fast.columns:
        if c == "exact_path":
            continue
        x, y = fast[c].to_numpy(), slow[c].to_numpy()
        if x.dtype.kind == "f":
            np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-12, equal_nan=True, err_msg=c)
        else:
            assert (x == y).all(), c


def test_serial_joblib_and_dask_give_identical_results(model):
    distributed = pytest.importorskip("distributed")
    ser = S.simulate(model, "observed-0.6", 40, 9, chunk_size=8).replicates
    assert ser.equals(S.simulate(model, "observed-0.6", 40, 9, chunk_size=8, n_jobs=2).replicates)
    assert ser.equals(S.simulate(model, "observed-0.6", 40, 9, chunk_size=40).replicates)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        assert ser.equals(S.simulate(model, "observed-0.6", 40, 9, chunk_size=8, scheduler=client).replicates)


# ----------------------------------------------------------------------------- counting
def test_pattern_rule_counts_non_estimable_comparisons_as_stated():
    nan = float("nan")
    r = pd.DataFrame({"hr_high": [2.0, 2.0, 0.4, nan, 2.0, 2.0],
                      "p_high": [0.01, 0.01, 0.01, nan, 0.2, 0.01],
                      "p_low": [0.3, nan, 0.3, 0.3, 0.3, 0.01]})
    out = S._with_pattern(r)
    # significant benefit + low not significant; low not estimable counts as not significant;
    # significant harm is not the pattern; high not estimable is not; high not significant is not;
    # both significant is not
    assert out["pattern"].tolist() == [True, True, False, False, False, False]
    assert out["pattern_any_direction"].tolist() == [True, True, True, False, False, False]


def test_summary_has_the_results_json_keys(model):
    res = S.simulate(model, "observed-1.0", 60, 4)
    s = res.summary()
    for k in ("replicates", "seed", "true_hr", "pattern_rate", "pattern_rate_lower", "pattern_rate_upper"):
        assert k in s
    r = res.replicates
    assert s["pattern_rate"] == r["pattern"].mean()
    assert s["pattern_rate_lower"] <= s["pattern_rate"] <= s["pattern_rate_upper"]
    assert s["non_estimable_low"] == (r["why_low"] != "").sum()
    assert s["n_estimable"] == ((r["why_low"] == "") & (r["why_high"] == "")).sum()
    json.dumps(cli._plain(s), allow_nan=False)


def test_simulation_summary_for_the_results_json(model):
    s = S.simulation_summary(model, replicates=20, seed=3)
    assert s["scenario"] == S.HEADLINE_SCENARIO and s["replicates"] == 20 and s["seed"] == 3
    assert set(s["scenarios"]) == set(S.SCENARIOS)
    assert s["scenarios"][S.HEADLINE_SCENARIO]["pattern_rate"] == s["pattern_rate"]


def test_figure_of_rates_by_study_size(model):
    import matplotlib

    matplotlib.use("Agg")
    from dmnpc.book import plots

    curve = S.pattern_by_n(model, scenarios=("random-1.0", "observed-1.0"), sizes=(30, 60), replicates=10, seed=1)
    assert len(curve) == 4 and set(curve["n"]) == {30, 60}
    assert ((curve["lower"] <= curve["pattern_rate"]) & (curve["pattern_rate"] <= curve["upper"])).all()
    ax = plots.plot_pattern_rates(curve)
    assert len(ax.get_legend().get_texts()) == 2


# ----------------------------------------------------------------------------- the command line
def test_cli_writes_the_results_atomically(tmp_path, capsys):
    out = tmp_path / "sim.json"
    out.write_text("old")
    mode = stat.S_IMODE(out.stat().st_mode)
    assert cli.main(["simulate", "--scenario", "random-1.0", "--replicates", "30", "--seed", "5",
                     "--out", str(out), "--chunk-size", "7"]) == 0
    err = capsys.readouterr().err
    assert f"wrote {out}" in err and "30/30" in err  # the progress bar
    doc = json.loads(out.read_text())
    assert doc["summary"]["replicates"] == 30 and doc["summary"]["seed"] == 5
    assert doc["scenario"] == {"name": "random-1.0", "true_hr": 1.0, "assignment": "random", "n": 90}
    assert doc["replicates"]["replicate"] == list(range(30))
    ref = S.simulate(contract.load_cohort(contract.DEFAULT_COHORT), "random-1.0", 30, 5).replicates
    assert doc["replicates"]["pattern"] == ref["pattern"].tolist()
    assert [p for p in doc["replicates"]["p_high"]] == [None if np.isnan(v) else v for v in ref["p_high"]]
    assert sorted(os.listdir(tmp_path)) == ["sim.json"]  # no temporary file left
    assert stat.S_IMODE(out.stat().st_mode) == mode


@pytest.mark.parametrize("args, match", [
    (["--replicates", "0"], "--replicates must be at least 1"),
    (["--seed", "-2"], "--seed must be a non-negative"),
    (["--n", "5"], "--n must be at least 10"),
    (["--jobs", "0"], "--jobs must be"),
    (["--chunk-size", "0"], "--chunk-size must be"),
])
def test_cli_rejects_bad_numbers_before_running(tmp_path, capsys, args, match):
    out = tmp_path / "sim.json"
    out.write_text("keep me")
    assert cli.main(["simulate", "--scenario", "random-1.0", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0]
    assert out.read_text() == "keep me"


def test_cli_rejects_a_bad_output_path(tmp_path, capsys):
    assert cli.main(["simulate", "--scenario", "random-1.0", "--replicates", "3", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    ro = tmp_path / "ro.json"
    ro.write_text("x")
    ro.chmod(0o444)
    if not os.access(ro, os.W_OK):  # (root can write anyway)
        assert cli.main(["simulate", "--scenario", "random-1.0", "--replicates", "3", "--out", str(ro)]) == 2
        assert "read-only" in capsys.readouterr().err


def test_cli_unknown_scenario_is_one_usage_error_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "dmnpc", "simulate", "--scenario", "nope", "--out",
                           str(tmp_path / "x.json")], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "invalid choice: 'nope'" in proc.stderr
    assert not (tmp_path / "x.json").exists()
