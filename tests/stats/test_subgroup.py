"""Tests for dmnpc.stats.subgroup: hand-worked cases and R golden values (tests/reference/risk.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dmnpc.stats.subgroup import InteractionTest, hr_by_stratum, hr_record, interaction_test, risk_groups

HERE = Path(__file__).resolve().parents[1]  # tests/
REF = json.loads((HERE / "reference" / "risk.json").read_text())
RTOL = 1e-6


@pytest.fixture(scope="module")
def gbsg() -> pd.DataFrame:
    d = pd.read_csv(HERE / "data" / "gbsg.csv")
    d["score_count"] = (d["grade"] == 3) * 1.0 + (d["nodes"] >= 4) * 1.0 + (d["size"] >= 30) * 1.0
    d["score_median"] = d["nodes"] + d["size"] / 10
    return d


def tiny() -> pd.DataFrame:
    # treated: deaths at 1 and 3; untreated: deaths at 2 and 4 (no ties)
    return pd.DataFrame({"time": [1.0, 3.0, 2.0, 4.0], "event": [1, 1, 1, 1], "trt": [1, 1, 0, 0]})


# --------------------------------------------------------------------------- risk_groups
def test_risk_groups_mean_and_ties():
    g = risk_groups([1.0, 2.0, 3.0, 4.0])
    assert g.tolist() == ["low", "low", "high", "high"]
    assert g.attrs["threshold"] == 2.5
    assert list(g.cat.categories) == ["low", "high"] and g.cat.ordered and g.name == "risk_group"
    # a score equal to the threshold goes low by default ("high" = strictly above average)
    assert risk_groups([1.0, 2.0, 3.0]).tolist() == ["low", "low", "high"]
    assert risk_groups([1.0, 2.0, 3.0], at_threshold="high").tolist() == ["low", "high", "high"]
    assert risk_groups([5.0, 1.0, 1.0, 2.0], "median").tolist() == ["high", "low", "low", "high"]
    s = pd.Series([10.0, 40.0, 25.0], index=["a", "b", "c"])
    g = risk_groups(s, 25)
    assert g.index.tolist() == ["a", "b", "c"] and g.tolist() == ["low", "high", "low"]


def test_risk_groups_errors():
    with pytest.raises(ValueError, match="threshold 'average' not understood"):
        risk_groups([1.0, 2.0], "average")
    with pytest.raises(ValueError, match="threshold True not understood"):
        risk_groups([1.0, 2.0], True)
    with pytest.raises(ValueError, match="threshold nan not understood"):
        risk_groups([1.0, 2.0], float("nan"))
    with pytest.raises(ValueError, match="1 score\\(s\\) are missing"):
        risk_groups([1.0, np.nan])
    with pytest.raises(ValueError, match="no scores to split"):
        risk_groups([])
    with pytest.raises(ValueError, match="scores must be numbers"):
        risk_groups(pd.Series(["low", "high"]))
    with pytest.raises(ValueError, match="at_threshold must be 'low' or 'high'"):
        risk_groups([1.0, 2.0], at_threshold="middle")


# --------------------------------------------------------------------------- hand-worked
def test_logrank_and_counts_by_hand():
    # log-rank by hand: E(treated) = 1/2 + 1/3 + 1/2 = 4/3, O = 2, V = 1/4 + 2/9 + 1/4 = 13/18
    # chi-square = (2/3)^2 / (13/18) = 8/13
    t = hr_by_stratum(tiny()["time"], tiny()["event"], tiny()["trt"], pd.Series(["x"] * 4))
    r = t.iloc[0]
    assert (r.n, r.n_treated, r.n_untreated, r.events_treated, r.events_untreated) == (4, 2, 2, 2, 2)
    assert r.logrank_chisq == pytest.approx(8 / 13, rel=1e-12)
    assert r.logrank_p == pytest.approx(stats.chi2.sf(8 / 13, 1), rel=1e-12)
    # the untreated die later (2, 4 vs 1, 3): HR without vs with treatment < 1
    assert r.hr < 1 and r.lower < r.hr < r.upper
    assert r.note == ""


def test_hr_direction_without_vs_with():
    # swap the arms: now the untreated die first (1, 3), so HR(without vs with) > 1
    d = tiny().assign(trt=[0, 0, 1, 1])
    r = hr_by_stratum(d["time"], d["event"], d["trt"], pd.Series(["x"] * 4)).iloc[0]
    r2 = hr_by_stratum(tiny()["time"], tiny()["event"], tiny()["trt"], pd.Series(["x"] * 4)).iloc[0]
    assert r2.hr < 1 < r.hr
    assert r.hr == pytest.approx(1 / r2.hr, rel=1e-9)  # swapping arms inverts the HR
    assert r.p == pytest.approx(r2.p, rel=1e-9)


def test_degenerate_strata_reported_not_raised():
    a = tiny().assign(s="a")
    b = pd.DataFrame({"time": [1.0, 2.0, 3.0], "event": [1, 1, 0], "trt": [1, 1, 0], "s": "b"})  # no untreated events
    c = pd.DataFrame({"time": [1.0, 2.0], "event": [1, 1], "trt": [1, 1], "s": "c"})  # one arm only
    e = pd.DataFrame({"time": [1.0, 2.0], "event": [0, 0], "trt": [0, 1], "s": "e"})  # all censored
    d = pd.concat([a, b, c, e], ignore_index=True)
    t = hr_by_stratum(d["time"], d["event"], d["trt"], d["s"], overall=True).set_index("stratum")
    assert t.index.tolist() == ["all", "a", "b", "c", "e"]
    assert np.isnan(t.loc["b", "hr"]) and "not estimable" in t.loc["b", "note"]
    assert 0 < t.loc["b", "logrank_p"] < 1
    assert np.isnan(t.loc["c", "logrank_p"]) and "only one arm" in t.loc["c", "note"]
    assert np.isnan(t.loc["e", "logrank_p"]) and "no events in this stratum" in t.loc["e", "note"]
    assert t.loc["all", "n"] == len(d)


def test_interaction_identical_strata_is_null():
    d = pd.concat([tiny().assign(s="low"), tiny().assign(s="high")], ignore_index=True)
    it = interaction_test(d["time"], d["event"], d["trt"], d["s"])
    assert isinstance(it, InteractionTest)
    assert (it.reference, it.other) == ("low", "high")
    assert it.ratio == pytest.approx(1.0, abs=1e-9)
    assert it.lr_chisq == pytest.approx(0.0, abs=1e-9)
    assert it.p == pytest.approx(1.0, abs=1e-6)
    assert it.hr_reference == pytest.approx(it.hr_other, rel=1e-9)
    assert set(it.as_dict()) >= {"ratio", "lower", "upper", "lr_chisq", "p"}


# --------------------------------------------------------------------------- R golden
@pytest.mark.parametrize("definition,threshold", [("count", "mean"), ("median", "median")])
def test_hr_by_stratum_matches_r(gbsg, definition, threshold):
    R = REF[definition]
    g = risk_groups(gbsg[f"score_{definition}"], threshold)
    assert g.attrs["threshold"] == pytest.approx(R["threshold"], rel=1e-12)
    assert (int((g == "low").sum()), int((g == "high").sum())) == (R["n_low"], R["n_high"])
    got = hr_by_stratum(gbsg["rfstime"], gbsg["status"], gbsg["hormon"], g, overall=True)
    want = pd.DataFrame(R["strata"])
    assert got["stratum"].tolist() == want["stratum"].tolist() == ["all", "low", "high"]
    for c in ("n", "n_treated", "n_untreated", "events_treated", "events_untreated"):
        assert got[c].tolist() == want[c].tolist(), c
    for c in ("coef", "se", "hr", "lower", "upper", "p", "logrank_chisq", "logrank_p"):
        np.testing.assert_allclose(got[c].to_numpy(float), want[c].to_numpy(float), rtol=RTOL, err_msg=c)
    rec = hr_record(got, "high")
    assert set(rec) == {"hr", "lower", "upper", "p"} and all(type(v) is float for v in rec.values())


@pytest.mark.parametrize("definition,threshold", [("count", "mean"), ("median", "median")])
def test_interaction_matches_r(gbsg, definition, threshold):
    R = REF[definition]["interaction"]
    g = risk_groups(gbsg[f"score_{definition}"], threshold)
    it = interaction_test(gbsg["rfstime"], gbsg["status"], gbsg["hormon"], g)
    for k in ("ratio", "lower", "upper", "wald_p", "lr_chisq", "p", "hr_reference", "hr_other"):
        assert getattr(it, k) == pytest.approx(R[k], rel=RTOL), k
    assert R["lr_chisq_anova"] == pytest.approx(R["lr_chisq"], rel=1e-12)
    assert it.df == 1 and (it.n, it.events) == (686, 299)
    assert it.hr_other / it.hr_reference == pytest.approx(it.ratio, rel=1e-12)


def test_subgroup_p_values_mislead_but_interaction_does_not():
    """The 'count' split: significant in one stratum, not the other, yet no evidence of interaction."""
    s = {r["stratum"]: r for r in REF["count"]["strata"]}
    assert s["low"]["p"] < 0.01 and s["high"]["p"] > 0.4
    assert REF["count"]["interaction"]["p"] > 0.1


# --------------------------------------------------------------------------- errors
def test_errors():
    d = tiny().assign(s=["a", "a", "b", "b"])
    T, E, TR, S = d["time"], d["event"], d["trt"], d["s"]
    with pytest.raises(ValueError, match="the treatment indicator has 3 values but there are 4 patients"):
        hr_by_stratum(T, E, TR[:3], S)
    with pytest.raises(ValueError, match="empty"):
        hr_by_stratum(T[:0], E[:0], TR[:0], S[:0])
    with pytest.raises(ValueError, match="negative"):
        hr_by_stratum([-1.0, 2, 3, 4], E, TR, S)
    with pytest.raises(ValueError):
        hr_by_stratum(["1", "x", "3", "4"], E, TR, S)
    with pytest.raises(ValueError, match="event must be 0 .censored. or 1 .event."):
        hr_by_stratum(T, [2, 1, 1, 1], TR, S)
    with pytest.raises(ValueError, match="the treatment indicator must be 0 .untreated. or 1 .treated."):
        hr_by_stratum(T, E, ["LRRT", "LRRT", "no", "no"], S)
    with pytest.raises(ValueError, match="no events"):
        hr_by_stratum(T, E * 0, TR, S)
    with pytest.raises(ValueError, match="event has missing values"):
        hr_by_stratum(T, [1, np.nan, 1, 1], TR, S)
    with pytest.raises(ValueError, match="one value per patient"):
        hr_by_stratum(T, E, TR, ["a", "b"])
    with pytest.raises(ValueError, match="group has missing values"):
        hr_by_stratum(T, E, TR, ["a", None, "b", "b"])
    with pytest.raises(ValueError, match="stratum 'c' not in the table"):
        hr_record(hr_by_stratum(T, E, TR, S), "c")
    with pytest.raises(ValueError, match="exactly two strata, got 3"):
        interaction_test(T, E, TR, ["a", "b", "c", "c"])
    two = pd.concat([tiny().assign(s="low"), tiny().assign(s="high", event=[1, 1, 0, 0])], ignore_index=True)
    with pytest.raises(ValueError, match="no events among patients without treatment in stratum 'high'"):
        interaction_test(two["time"], two["event"], two["trt"], two["s"])


def test_stratified_interaction_matches_r(gbsg):
    """coxph(Surv ~ nohormon + nohormon:high + strata(high)) vs without the interaction (ref_strata.R)."""
    R = json.loads((HERE / "reference" / "strata.json").read_text())["interaction"]
    score = gbsg["nodes"] + gbsg["size"] / 10
    g = risk_groups(score, "median")
    it = interaction_test(gbsg["rfstime"], gbsg["status"], gbsg["hormon"], g, stratified=True)
    for k in ("ratio", "lower", "upper", "lr_chisq", "p", "hr_reference", "hr_other"):
        assert getattr(it, k) == pytest.approx(R[k], rel=1e-6), k


def test_stratum_without_a_finite_maximum_is_not_estimable_not_an_error():
    """Both arms have deaths, yet every untreated death precedes every treated one: no finite HR."""
    from dmnpc.stats.subgroup import hr_by_stratum

    t = [1, 2, 3, 4, 10, 11, 12, 13]
    e = [1, 0, 1, 0, 1, 1, 0, 1]
    tr = [1, 1, 1, 1, 0, 0, 0, 0]
    out = hr_by_stratum(t, e, tr, ["s"] * 8)
    assert out["note"].iloc[0].startswith("the hazard ratio has no finite estimate")
    assert out["hr"].isna().all() and out["logrank_p"].notna().all()
