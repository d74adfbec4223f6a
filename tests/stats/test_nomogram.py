"""Tests for dmnpc.stats.nomogram: hand-worked cases and rms golden values (tests/reference/nomogram.json)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from dmnpc.book.plots import plot_nomogram
from dmnpc.stats.cox import CoxFit, fit_cox  # noqa: E402
from dmnpc.stats.nomogram import (adverse_points, build_nomogram, nomogram_table,  # noqa: E402
                            points_to_lp, points_to_survival, r_pretty, score,
                            survival_to_points, to_json, total_points)

HERE = Path(__file__).resolve().parents[1]  # tests/
REF = json.loads((HERE / "reference" / "nomogram.json").read_text())
RTOL = 1e-6
LN2 = math.log(2.0)


# --------------------------------------------------------------------------- helpers
def stub_fit(data: pd.DataFrame, coefs: dict[str, float], duration="T", event="E") -> CoxFit:
    """A CoxFit carrying chosen coefficients, as if fitted on ``data`` (no estimation, no checks)."""
    p = len(coefs)
    nan = float("nan")
    return CoxFit(terms=tuple(coefs), coef=np.array(list(coefs.values()), float), vcov=np.full((p, p), nan),
                  summary=pd.DataFrame(), lr_test={}, wald_test={}, score_test={}, loglik=nan, loglik_null=nan,
                  n=len(data), n_events=int(data[event].sum()), conf_level=0.95, converged=True, infinite=(), eps=None,
                  X=data[list(coefs)].to_numpy(float), time=data[duration].to_numpy(float),
                  event=data[event].to_numpy(float))


@pytest.fixture(scope="module")
def gbsg() -> pd.DataFrame:
    d = pd.read_csv(HERE / "data" / "gbsg.csv")
    d["grade3"] = (d["grade"] == 3).astype(float)
    d["nodes4"] = (d["nodes"] >= 4).astype(float)
    d["size30"] = (d["size"] >= 30).astype(float)
    return d


def fit_ref(gbsg: pd.DataFrame, model: str):
    terms = REF[model]["terms"]
    df = gbsg[terms + ["rfstime", "status"]].astype(float)
    return fit_cox(df["rfstime"], df["status"], df[terms]), df


def rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


# --------------------------------------------------------------------------- hand-worked
@pytest.fixture()
def tiny() -> pd.DataFrame:
    # exp(beta.x) with beta = (ln 2, -ln 4): 1, 2, 1/4, 1/2
    return pd.DataFrame({"T": [1.0, 2.0, 3.0, 4.0], "E": [1, 1, 0, 1],
                         "x1": [0.0, 1.0, 0.0, 1.0], "x2": [0.0, 0.0, 1.0, 1.0]})


def test_two_binary_predictors_exact_points(tiny):
    nom = build_nomogram(stub_fit(tiny, {"x1": LN2, "x2": -2 * LN2}), times=(2, 4))
    t1, t2 = nom.terms
    # widest range |ln 4| spans 0..100: x1 = 1 earns ln2/ln4 * 100 = 50; x2 is protective, so x2 = 1 gets 0
    assert t1.points == pytest.approx((0.0, 50.0), abs=1e-12)
    assert t2.points == pytest.approx((100.0, 0.0), abs=1e-12)
    assert nom.scale == pytest.approx(100 / (2 * LN2), rel=1e-14)
    # centre = ln2 * 0.5 - ln4 * 0.5 = -ln2/2; intercept = -centre + (0 - ln 4) = -1.5 ln 2
    assert nom.center == pytest.approx(-0.5 * LN2, rel=1e-14)
    assert nom.intercept == pytest.approx(-1.5 * LN2, rel=1e-14)
    assert points_to_lp(nom, 150.0) == pytest.approx(1.5 * LN2, rel=1e-14)
    tab = nomogram_table(nom)
    assert list(tab.columns) == ["term", "label", "level", "value", "points"]
    assert tab["points"].tolist() == pytest.approx([0, 50, 100, 0], abs=1e-12)
    assert adverse_points(nom) == pytest.approx({"x1": 50.0, "x2": 0.0}, abs=1e-12)


def test_breslow_baseline_by_hand(tiny):
    nom = build_nomogram(stub_fit(tiny, {"x1": LN2, "x2": -2 * LN2}), times=(2, 4))
    # uncentred cumulative hazard: events at 1 (risk sum 3.75), 2 (2.75), 4 (0.5)
    h2 = 1 / 3.75 + 1 / 2.75
    h4 = h2 + 1 / 0.5
    pts = pd.DataFrame({"x1": [1.0, 0.0, 0.0], "x2": [0.0, 1.0, 0.0]})
    s = score(nom, pts)
    assert s["total_points"].tolist() == pytest.approx([150.0, 0.0, 100.0], abs=1e-12)
    expbx = np.array([2.0, 0.25, 1.0])
    assert s["surv_2"].to_numpy() == pytest.approx(np.exp(-expbx * h2), rel=1e-12)
    assert s["surv_4"].to_numpy() == pytest.approx(np.exp(-expbx * h4), rel=1e-12)
    assert s["lp"].to_numpy() == pytest.approx(np.log(expbx) + 0.5 * LN2, abs=1e-12)
    # baseline at the means: exp(centre) * uncentred hazard
    assert nom.baseline_survival[0] == pytest.approx(math.exp(-h2 * math.exp(-0.5 * LN2)), rel=1e-12)
    assert total_points(nom, pts).tolist() == pytest.approx([150.0, 0.0, 100.0], abs=1e-12)


def test_tied_events_breslow_vs_efron_by_hand():
    d = pd.DataFrame({"T": [1.0, 1.0, 2.0, 3.0], "E": [1, 1, 0, 1],
                      "x1": [0.0, 1.0, 0.0, 1.0], "x2": [0.0, 0.0, 1.0, 1.0]})
    coefs = {"x1": LN2, "x2": -2 * LN2}
    zero = pd.DataFrame({"x1": [0.0], "x2": [0.0]})
    # at t = 1: risk sum R = 3.75, tied deaths' sum D = 1 + 2 = 3
    br = score(build_nomogram(stub_fit(d, coefs), times=(1, 3), baseline="breslow"), zero)
    ef = score(build_nomogram(stub_fit(d, coefs), times=(1, 3), baseline="efron"), zero)
    assert br["surv_1"].iloc[0] == pytest.approx(math.exp(-2 / 3.75), rel=1e-12)
    assert ef["surv_1"].iloc[0] == pytest.approx(math.exp(-(1 / 3.75 + 1 / (3.75 - 1.5))), rel=1e-12)
    assert br["surv_3"].iloc[0] == pytest.approx(math.exp(-2 / 3.75 - 2), rel=1e-12)
    assert ef["surv_3"].iloc[0] == pytest.approx(math.exp(-(1 / 3.75 + 1 / 2.25) - 2), rel=1e-12)


def test_constant_predictor_gets_zero_points(tiny):
    d = tiny.assign(x3=1.0)
    nom = build_nomogram(stub_fit(d, {"x1": LN2, "x2": -2 * LN2, "x3": 0.7}), times=(2,))
    assert nom.terms[2].points == (0.0,)
    # a constant shifts neither points nor predictions: lp still equals beta.(x - mean)
    s = score(nom, pd.DataFrame({"x1": [1.0], "x2": [0.0], "x3": [1.0]}))
    assert s["total_points"].iloc[0] == pytest.approx(150.0, abs=1e-12)
    assert s["lp"].iloc[0] == pytest.approx(1.5 * LN2, abs=1e-12)


def test_continuous_points_linear_in_value():
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"T": rng.uniform(1, 10, 40), "E": rng.integers(0, 2, 40),
                      "age": rng.uniform(21.3, 79.2, 40), "x": rng.integers(0, 2, 40).astype(float)})
    nom = build_nomogram(stub_fit(d, {"age": 0.05, "x": 1.0}), times=(5,))
    age = nom.terms[0]
    assert age.kind == "continuous"
    assert age.values == tuple(np.arange(20.0, 81.0, 5.0))  # pretty(c(21.3, 79.2), 10)
    # widest range 0.05 * 60 = 3 -> sc = 100/3; age 50 earns (50 - 20) * 0.05 * 100/3 = 50
    s = score(nom, pd.DataFrame({"age": [50.0, 20.0, 80.0], "x": [0.0, 1.0, 0.0]}))
    assert s["points_age"].tolist() == pytest.approx([50.0, 0.0, 100.0], abs=1e-12)
    assert s["points_x"].tolist() == pytest.approx([0.0, 100 / 3, 0.0], abs=1e-12)


def test_survival_points_round_trip(tiny):
    nom = build_nomogram(stub_fit(tiny, {"x1": LN2, "x2": -2 * LN2}), times=(2, 4))
    p = np.array([0.0, 37.5, 150.0])
    s = points_to_survival(nom, p, 2)
    assert survival_to_points(nom, s, 2) == pytest.approx(p, abs=1e-9)
    tk = nom.survival_ticks
    assert np.all((tk["total_points"] >= 0) & (tk["total_points"] <= max(nom.total_points_axis)))
    for t in nom.times:
        sub = tk[tk["time"] == t]
        assert points_to_survival(nom, sub["total_points"], t) == pytest.approx(sub["survival"], rel=1e-12)


# --------------------------------------------------------------------------- R golden
def test_r_pretty_matches_r():
    for case in REF["pretty"]:
        want = np.atleast_1d(np.asarray(case["value"], float))
        got = r_pretty(case["lo"], case["hi"], int(case["n"]))
        assert got.shape == want.shape, case
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15), case


def test_fit_equals_coxph(gbsg):
    for model in ("binary", "continuous"):
        fit, _ = fit_ref(gbsg, model)
        assert rel(fit.coef, [REF[model]["coxph_coef"][t] for t in REF[model]["terms"]]) < RTOL


@pytest.mark.parametrize("model", ["binary", "continuous"])
def test_points_scale_and_axes_match_rms(gbsg, model):
    R = REF[model]
    cph, df = fit_ref(gbsg, model)
    nom = build_nomogram(cph, times=REF["times"], baseline="efron")
    assert rel(nom.scale, R["nomogram"]["sc"]) < RTOL
    assert rel(nom.intercept, R["nomogram"]["intercept"]) < RTOL
    assert rel(nom.center, R["center"]) < RTOL
    for term in nom.terms:
        r = R["nomogram"]["points"][term.name]
        assert term.values == pytest.approx(r["values"], abs=0)
        # points are 0 at the lowest-risk value: compare on the max-points scale
        assert np.max(np.abs(np.array(term.points) - r["points"])) < RTOL * 100
        assert rel(term.coef * np.array(term.values), r["xbeta"]) < RTOL
    assert nom.total_points_axis == pytest.approx(R["nomogram"]["total_points_axis"], rel=1e-12)
    assert nom.lp_axis == pytest.approx(R["nomogram"]["lp_axis"]["lp"], rel=1e-12, abs=1e-14)
    assert (np.array(nom.lp_axis) - nom.intercept) * nom.scale == pytest.approx(R["nomogram"]["lp_axis"]["x"], rel=RTOL)
    assert nom.terms[int(np.argmax([max(t.points) for t in nom.terms]))].name == "nodes4"


@pytest.mark.parametrize("model", ["binary", "continuous"])
def test_points_to_survival_matches_rms_efron(gbsg, model):
    R = REF[model]
    cph, df = fit_ref(gbsg, model)
    nom = build_nomogram(cph, times=REF["times"], baseline="efron")
    assert rel(nom.baseline_survival, R["baseline"]["efron_rms"]) < RTOL
    for t in REF["times"]:
        fe = R["nomogram"]["fun_exact"][f"{t:g}"]
        assert fe["total_points"] == pytest.approx(REF["total_points_grid"], abs=1e-9)
        assert rel(points_to_lp(nom, fe["total_points"]), fe["lp"]) < RTOL
        assert rel(points_to_survival(nom, fe["total_points"], t), fe["survival"]) < RTOL


@pytest.mark.parametrize("model", ["binary", "continuous"])
def test_default_survival_axis_positions_match_rms(gbsg, model):
    """rms inverts fun() by approx() on a 1000-point lp grid; redo exactly that and compare."""
    R = REF[model]
    cph, df = fit_ref(gbsg, model)
    nom = build_nomogram(cph, times=REF["times"], baseline="efron")
    for k, t in enumerate(REF["times"]):
        fd = R["nomogram"]["fun_default"][f"{t:g}"]
        lp_at = np.asarray(nom.lp_axis)
        xseq = np.linspace(lp_at.min(), lp_at.max(), 1000)
        fu = nom.baseline_survival[k] ** np.exp(xseq)
        w = np.interp(fd["survival"], fu[::-1], xseq[::-1])
        assert rel((w - nom.intercept) * nom.scale, fd["total_points"]) < RTOL
        # our exact inverse differs from rms's interpolated one only by that interpolation error,
        # bounded by h^2/8 * max|d2 lp/ds2| * sc (h = survival grid spacing) -- well below 1e-3 points
        exact = survival_to_points(nom, fd["survival"], t)
        assert np.max(np.abs(exact - fd["total_points"])) < 1e-3


@pytest.mark.parametrize("model", ["binary", "continuous"])
@pytest.mark.parametrize("baseline,key", [("efron", "survest"), ("breslow", "breslow")])
def test_new_patients_match_r(gbsg, model, baseline, key):
    R = REF[model]
    cph, df = fit_ref(gbsg, model)
    nom = build_nomogram(cph, times=REF["times"], baseline=baseline)
    new = pd.DataFrame(R["new_patients"]["data"])
    s = score(nom, new)
    assert np.max(np.abs(s["lp"] - R["new_patients"]["lp"])) < RTOL
    got = s[[f"surv_{t:g}" for t in REF["times"]]].to_numpy()
    assert rel(got, R["new_patients"][key]) < RTOL
    # total points agree with the lp through the affine map
    assert points_to_lp(nom, s["total_points"]) == pytest.approx(s["lp"].to_numpy(), abs=1e-10)
    if baseline == "efron":
        assert rel(got, R["new_patients"]["survival_lp"]) < RTOL


def test_breslow_baseline_matches_r_and_lifelines(gbsg):
    for model in ("binary", "continuous"):
        cph, df = fit_ref(gbsg, model)
        nom = build_nomogram(cph, times=REF["times"])
        assert nom.baseline_method == "breslow"
        assert rel(nom.baseline_survival, REF[model]["baseline"]["breslow"]) < RTOL
        from lifelines import CoxPHFitter  # independent cross-check of the Breslow baseline

        ll = CoxPHFitter().fit(df, "rfstime", "status", fit_options=dict(precision=1e-20, r_precision=1e-14,
                                                                          max_steps=200))
        ll_s0 = ll.baseline_survival_.loc[nom.baseline["time"]].to_numpy().ravel()
        assert rel(nom.baseline["survival"], ll_s0) < 1e-9
        # gbsg has tied event days, so Breslow and Efron differ (by ~3e-5 here)
        assert abs(nom.baseline_survival[0] - REF[model]["baseline"]["efron_rms"][0]) > 1e-5


def test_rms_default_eps_is_not_converged():
    """Record of why the references use eps = 1e-10: cph's default eps = 1e-4 is 1e-3-level off."""
    R = REF["binary"]
    assert rel([R["coef_cph_default_eps"][t] for t in R["terms"]], [R["coxph_coef"][t] for t in R["terms"]]) > 1e-4


# --------------------------------------------------------------------------- json / plot
def test_to_json_recipe_reproduces_score(gbsg):
    cph, df = fit_ref(gbsg, "continuous")
    nom = build_nomogram(cph, times=REF["times"])
    doc = json.loads(json.dumps(to_json(nom)))  # plain types only (no NumPy scalars)
    assert (doc["format"], doc["version"]) == ("dmnpc-nomogram", 1)
    new = pd.DataFrame(REF["continuous"]["new_patients"]["data"])
    want = score(nom, new)
    for i, row in new.iterrows():
        total = 0.0
        for term in doc["terms"]:
            v = float(row[term["name"]])
            if term["kind"] == "discrete":
                total += next(lv["points"] for lv in term["levels"] if lv["value"] == v)
            else:
                total += (term["coef"] * v - term["xbeta_min"]) * doc["scale"]
        lp = doc["points_to_lp"]["intercept"] + doc["points_to_lp"]["slope"] * total
        assert total == pytest.approx(want.loc[i, "total_points"], abs=1e-9)
        for tm in doc["times"]:
            assert tm["baseline_survival"] ** math.exp(lp) == pytest.approx(
                want.loc[i, f"surv_{tm['time']:g}"], rel=1e-10)
    ex = {e["name"]: e for e in doc["examples"]}
    assert ex["lowest_risk"]["total_points"] == pytest.approx(0.0, abs=1e-12)
    assert ex["highest_risk"]["total_points"] > ex["first_levels"]["total_points"]


def test_plot_nomogram_draws_all_axes(tiny):
    nom = build_nomogram(stub_fit(tiny, {"x1": LN2, "x2": -2 * LN2}), times=(2, 4),
                         labels={"x1": "Factor one"}, time_labels={2: "S(2)"})
    ax = plot_nomogram(nom, show_lp=True)
    texts = {t.get_text() for t in ax.texts}
    assert {"Points", "Factor one", "x2", "Total points", "Linear predictor", "S(2)", "4-month survival"} <= texts
    assert {"0", "1"} <= texts  # level labels of the unlabeled terms
    import matplotlib.pyplot as plt
    plt.close("all")


# --------------------------------------------------------------------------- errors
def test_errors(tiny, gbsg):
    cph = stub_fit(tiny, {"x1": LN2, "x2": -2 * LN2})
    with pytest.raises(ValueError, match="beyond the longest follow-up"):
        build_nomogram(cph, times=(2, 5))
    with pytest.raises(ValueError, match="must be positive"):
        build_nomogram(cph, times=(-1,))
    with pytest.raises(ValueError, match="must be numbers"):
        build_nomogram(cph, times=("one year",))
    with pytest.raises(ValueError, match="must be distinct"):
        build_nomogram(cph, times=(2, 2))
    with pytest.raises(ValueError, match="baseline must be 'breslow' or 'efron'"):
        build_nomogram(cph, times=(2,), baseline="kaplan-meier")
    with pytest.raises(ValueError, match="max_points must be a positive number"):
        build_nomogram(cph, times=(2,), max_points=0)
    with pytest.raises(ValueError, match="takes a fitted model"):
        build_nomogram(tiny, times=(2,))
    with pytest.raises(ValueError, match="nothing to draw"):
        build_nomogram(stub_fit(tiny, {"x1": 0.0, "x2": 0.0}), times=(2,))
    with pytest.raises(ValueError, match="non-finite coefficients"):
        build_nomogram(stub_fit(tiny, {"x1": np.inf, "x2": 0.0}), times=(2,))
    monotone = fit_cox([9.0, 1, 2, 3, 4, 5, 6, 7], [0, 1, 1, 0, 1, 1, 0, 1], [[0.0]] + [[1.0]] * 7)
    with pytest.raises(ValueError, match="monotone likelihood"):
        build_nomogram(monotone, times=(2,))

    nom = build_nomogram(cph, times=(2,))
    with pytest.raises(ValueError, match=r"the new patients lacks the model term\(s\) \['x1'\]"):
        score(nom, pd.DataFrame({"x2": [0.0]}))
    with pytest.raises(ValueError, match=r"'x1' takes the values \[0.0, 1.0\] in the model data; got \[2.0\]"):
        score(nom, pd.DataFrame({"x1": [2.0], "x2": [0.0]}))
    with pytest.raises(ValueError, match="non-numeric"):
        score(nom, pd.DataFrame({"x1": ["yes"], "x2": [0.0]}))
    with pytest.raises(ValueError, match="must be a pandas DataFrame"):
        score(nom, {"x1": [1.0], "x2": [0.0]})
    with pytest.raises(ValueError, match="is not one of the nomogram's times"):
        points_to_survival(nom, 10.0, 3)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        survival_to_points(nom, 1.0, 2)

    cont, df = fit_ref(gbsg, "continuous")
    with pytest.raises(ValueError, match="'age' is not a 0/1 indicator"):
        adverse_points(build_nomogram(cont, times=(365,)))
