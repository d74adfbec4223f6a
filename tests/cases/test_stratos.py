"""The STRATOS TG6 external-validation case (dmnpc.cases.stratos) against R and the published values.

R reference: tests/reference/external.json from ref_external.R (survival 3.5.3, rms 6.5.0,
riskRegression 2022.11.28), the case study redone in R from its description. Agreement 1e-6
relative (the project's rule allows 1e-3 absolute for AUC, Brier and net benefit; they agree far
tighter). The published values are the case study's printed outputs (stratos.PUBLISHED).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dmnpc import __main__ as cli
from dmnpc.cases import stratos as S

HERE = Path(__file__).resolve().parents[1]  # tests/
ROOT = HERE.parent
REF = json.loads((HERE / "reference" / "external.json").read_text())
REL = 1e-6
SETS = ("development", "validation")


@pytest.fixture(scope="module")
def res():
    return S.analyse(n_boot=20)


def _close(a, b, rtol=REL):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=0)


# ---------------------------------------------------------------- data and preparation
@pytest.mark.parametrize("name", ["rotterdam.csv", "gbsg.csv"])
def test_shipped_data_are_the_exported_r_data_sets(name):
    assert (ROOT / "data" / "public" / name).read_bytes() == (HERE / "data" / name).read_bytes()
    readme = (ROOT / "data" / "public" / "README.md").read_text()
    assert "LGPL" in readme and f"survival::{name.split('.')[0]}" in readme


def test_preparation_as_the_case_study():
    rot, gb = S.load("rotterdam"), S.load("gbsg")
    dev, val, cap = S.prepare(rot, gb)
    assert cap == REF["nodes99"] == 19
    assert (dev.time.size, int(dev.event.sum())) == (2982, 1275)
    assert (val.time.size, int(val.event.sum())) == (686, 285)
    assert dev.time.max() == val.time.max() == S.HORIZON
    # AUC, Brier and IPA are read at 4.99 years: no event falls between 4.99 and 5 (the chapter says so)
    for p in (dev, val):
        assert not np.any((p.event == 1) & (p.time > S.SCORE_TIME))
    # the 43 deaths without recorded relapse after relapse follow-up ended take their death time
    fix = (rot["recur"] == 0) & (rot["death"] == 1) & (rot["rtime"] < rot["dtime"])
    assert int(fix.sum()) == 43
    np.testing.assert_array_equal(dev.raw_time[fix.to_numpy()], rot.loc[fix, "dtime"] / 365.25)
    # sizes categorised as Rotterdam's: the mm cut points 20 and 50 belong to the lower category
    assert val.X.loc[gb["size"] == 20, "size_20_50"].eq(0).all() and val.X.loc[gb["size"] == 50, "size_20_50"].eq(1).all()
    assert val.X["nodes"].max() == 19 and (val.X["grade_3"] == (gb["grade"] == 3)).all()


def test_a_broken_data_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "rotterdam.csv"
    bad.write_text("pid,size\n1,<=20\n")
    with pytest.raises(S.CaseDataError, match=r"rotterdam.csv: not the survival::rotterdam data set: no column"):
        S.load("rotterdam", bad)
    with pytest.raises(S.CaseDataError, match="missing"):
        S.load("gbsg", tmp_path / "nothere.csv")


# ---------------------------------------------------------------- R agreement
def test_model_equals_coxph(res):
    _close(res.fit.coef, REF["coef"])
    _close(res.fit.summary["se"], REF["se"])
    _close(res.s0, REF["S0_5"])


@pytest.mark.parametrize("name", SETS)
def test_predictions_equal_predictRisk(res, name):
    perf = res.perf[name]
    _close(perf.risk, REF[name]["pred"])
    # R centres binary terms differently: the linear predictors differ by one constant only
    lp = res.fit.linear_predictor(getattr(res, name).X)
    shift = lp - np.array(REF[name]["lp"])
    assert np.ptp(shift) < 1e-7


@pytest.mark.parametrize("name", SETS)
def test_measures_equal_r(res, name):
    v, r = res.perf[name].values, REF[name]
    assert (v["n"], v["events"]) == (r["n"], r["events"])
    _close(v["harrell_c"], r["harrell"][0])
    _close(v["uno_c"], r["uno"][0])
    _close(v["auc_5y"], r["auc"][0])
    _close([v["oe_5y"], *res.perf[name].ci["oe_5y"]], r["oe"])
    _close(v["slope"], r["slope"][0])
    _close(v["brier_5y"], r["brier"][0])
    _close(res.perf[name].brier_null, r["brier_null"])
    _close(v["ipa_5y"], r["ipa"])
    _close([v["ici_5y"], v["e50_5y"], v["e90_5y"]], r["ici"])          # rms::cph's convergence rule
    sf = res.perf[name].smooth_full
    _close([sf.ici, sf.e50, sf.e90], r["ici_full"])                     # fully converged
    _close(res.perf[name].smooth.knots, r["knots"])
    _close([v["nb_model"], v["nb_all"]], r["nb"][:2])
    oe = res.perf[name].oe
    assert oe.events == r["events_by_5"]
    _close([oe.observed, oe.expected], [r["observed"], r["expected"]])


@pytest.mark.parametrize("name", SETS)
def test_analytic_intervals_equal_r(res, name):
    perf, r = res.perf[name], REF[name]
    z = 1.959963984540054
    for key, ref in (("harrell_c", r["harrell"]), ("uno_c", r["uno"])):
        c, var = ref
        _close(perf.ci[key], [c - z * np.sqrt(var), c + z * np.sqrt(var)])
    _close(perf.smooth.slope_se, r["slope"][1])


@pytest.mark.parametrize("name", SETS)
def test_net_benefit_treats_the_same_patients_as_stdca(res, name):
    # stdca treats risk > threshold, net_benefit risk >= threshold: no risk sits on 0.23, so the same
    risk = res.perf[name].risk
    assert not np.any(risk == S.THRESHOLD)
    assert int(np.sum(risk > S.THRESHOLD)) == REF[name]["nb"][2]


# ---------------------------------------------------------------- published values
def test_r_reference_reproduces_the_printed_values():
    """Independent of the Python: the R redo prints what the case study printed."""
    r = REF
    assert round(r["validation"]["oe"][0], 7) == 1.0173902 and round(r["validation"]["slope"][0], 7) == 1.0562040
    assert [round(x, 8) for x in r["validation"]["ici"]] == [0.03017958, 0.02627822, 0.07466548]
    assert round(r["validation"]["nb"][0], 7) == 0.3615002
    assert round(r["development"]["auc"][0], 3) == 0.721 and round(r["validation"]["auc"][0], 3) == 0.677


def _wald(est_se, digits=3):
    est, se = est_se
    z = 1.959963984540054
    return [round(est - z * se, digits), round(est + z * se, digits)]


@pytest.mark.parametrize("name", SETS)
def test_published_auc_and_brier_intervals_are_wald_on_the_influence_function(name):
    """riskRegression::Score's standard errors give the printed AUC (timeROC) and Brier intervals: the
    book's bootstrap intervals differ from them by method, not by data or model."""
    pub = S.PUBLISHED[name]
    for key, ref in (("auc_5y", REF[name]["auc"]), ("brier_5y", REF[name]["brier"])):
        assert _wald(ref) == [pub[key]["lower"], pub[key]["upper"]], key


def test_published_development_uno_interval_is_harrells():
    """The case study's table prints Harrell's interval on the Uno row (development): measured."""
    c, var = REF["development"]["harrell"]
    assert _wald([c, np.sqrt(var)]) == [S.PUBLISHED["development"]["uno_c"]["lower"],
                                        S.PUBLISHED["development"]["uno_c"]["upper"]]
    c, var = REF["development"]["uno"]
    assert _wald([c, np.sqrt(var)]) != [S.PUBLISHED["development"]["uno_c"]["lower"],
                                        S.PUBLISHED["development"]["uno_c"]["upper"]]
    assert "interval_from" in S.PUBLISHED["development"]["uno_c"]


def test_every_published_value_agrees_at_its_printed_precision(res):
    cmp = S.comparison(res)
    same = cmp[cmp["kind"] == "same"]
    assert len(same) == 23
    assert same["same_as_printed"].all(), same.loc[~same["same_as_printed"].astype(bool), ["data", "measure"]]
    # the two development values published only after optimism correction are not the apparent ones
    internal = cmp[cmp["kind"] == "internal"]
    assert set(internal["measure"]) == {"oe_5y", "slope"} and set(internal["data"]) == {"development"}
    assert set(cmp.loc[cmp["kind"] == "not published", "measure"]) == {"ici_5y", "e50_5y", "e90_5y"}


def test_full_convergence_would_not_print_the_published_ici(res):
    """The published ICI is rms::cph's early stop (eps = 1e-4): fully converged it reads differently."""
    full = res.perf["validation"].smooth_full.ici
    assert round(full, 8) != 0.03017958 and abs(full - 0.03017958) < 1e-4


# ---------------------------------------------------------------- JSON and command line
def test_json_has_every_key(res):
    doc = S.to_json(res)
    json.dumps(doc, allow_nan=False)
    for name in SETS:
        assert set(S.MEASURES) <= set(doc[name])
        assert all(doc[name][k] is not None for k in S.MEASURES)
        assert doc[name]["threshold"] == 0.23
        assert set(doc[name]["ci"]) == {"harrell_c", "uno_c", "auc_5y", "oe_5y", "slope", "ici_5y", "e50_5y",
                                        "e90_5y", "brier_5y", "ipa_5y"}


def test_bootstrap_is_reproducible(res):
    a = S.performance(res.fit, res.validation, n_boot=30, seed=1)
    b = S.performance(res.fit, res.validation, n_boot=30, seed=1)
    assert a.ci == b.ci and a.boot_ok == 30
    lo, hi = a.ci["auc_5y"]
    assert lo < a.values["auc_5y"] < hi
    assert S.performance(res.fit, res.validation, n_boot=30, seed=2).ci != a.ci


def test_cli_writes_the_json(tmp_path):
    out = tmp_path / "external_validation.json"
    proc = subprocess.run([sys.executable, "-m", "dmnpc", "external", "--out", str(out)], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    for name in SETS:
        assert set(S.MEASURES) <= set(doc[name])
    assert doc["bootstrap"]["resamples"] == S.B


@pytest.mark.parametrize("case", ["folder", "missing_folder", "input"])
def test_cli_bad_output_is_one_line_exit_2(tmp_path, capsys, case):
    out = {"folder": tmp_path, "missing_folder": tmp_path / "no" / "x.json", "input": S.GBSG}[case]
    assert cli.main(["external", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(out) in err[0] and "Traceback" not in err[0]
    assert S.GBSG.read_bytes() == (HERE / "data" / "gbsg.csv").read_bytes()


def test_cli_missing_data_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(S, "ROTTERDAM", tmp_path / "rotterdam.csv")
    assert cli.main(["external", "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rotterdam.csv: the public rotterdam data file is missing" in err[0]
    assert not (tmp_path / "x.json").exists()
