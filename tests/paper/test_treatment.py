"""Guarantee time and effect modification (dmnpc.paper.treatment), checked against R (ref_treatment.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dmnpc.paper import analysis, contract, report, treatment
from dmnpc.stats import subgroup

REF = json.loads((Path(__file__).resolve().parents[1] / "reference" / "treatment.json").read_text())
#: deterministic fits converged to 1e-12 on both sides: 1e-6 relative leaves room for the stopping rules
RTOL = 1e-6


@pytest.fixture(scope="module")
def twin():
    df = contract.load_cohort(contract.DEFAULT_COHORT)
    fit, nom, scores = analysis.os_nomogram(df)
    return df, analysis.stratify(df, scores), scores


def _rec(r):
    return [r["hr"], r["lower"], r["upper"], r["p"]]


def test_landmark_equals_r(twin):
    df, _, _ = twin
    lm = treatment.landmark_analysis(df)
    assert (lm["n"], lm["events"]) == (REF["landmark"]["n"], REF["landmark"]["events"])
    assert lm["cox_os"].ok and lm["lrrt"].ok
    assert list(lm["cox_os"].value) == list(REF["landmark"]["cox_os"])  # the paper's five terms, in order
    for term, r in REF["landmark"]["cox_os"].items():
        np.testing.assert_allclose(_rec(lm["cox_os"].value[term]), r, rtol=RTOL)
    np.testing.assert_allclose(_rec(lm["lrrt"].value), REF["landmark"]["lrrt"], rtol=RTOL)


def test_continuous_interaction_equals_r(twin):
    df, st, scores = twin
    em = treatment.effect_modification(df, st, scores)
    c, r = em["continuous"].value, REF["continuous"]
    np.testing.assert_allclose([c.ratio, c.lower, c.upper, c.p], [r["ratio"], r["lower"], r["upper"], r["p"]],
                               rtol=RTOL)
    # the statistic itself is tiny on the twin: compare it on the absolute scale of a chi-square
    assert abs(c.lr_chisq - r["lr_chisq"]) < 1e-8


def test_risk_interactions_equal_r(twin):
    """LRRT x risk cohort on both baselines; R recomputes the mean split from its own five-term coxph."""
    df, st, scores = twin
    em = treatment.effect_modification(df, st, scores)
    for key in ("shared", "stratified"):
        it, r = em[key].value, REF["interaction"][key]
        np.testing.assert_allclose([it.ratio, it.lower, it.upper, it.lr_chisq, it.p],
                                   [r["ratio"], r["lower"], r["upper"], r["lr_chisq"], r["p"]], rtol=RTOL)


def test_survival_differences_equal_r(twin):
    df, st, scores = twin
    em = treatment.effect_modification(df, st, scores)
    for c in ("low", "high"):
        d, r = em[f"diff_{c}"].value, REF["difference"][c]
        assert int((st.risk == c).sum()) == r["n"]
        np.testing.assert_allclose([d[k] for k in ("est", "lower", "upper", "surv_1", "surv_0")],
                                   [r[k] for k in ("est", "lower", "upper", "surv_1", "surv_0")], rtol=RTOL, atol=1e-12)


def test_results_json_carries_the_keys(twin):
    r = report.compute_results(twin[0])
    it = r["appraisal"]["interaction"]
    assert it["continuous_score_p"] == pytest.approx(REF["continuous"]["p"], rel=RTOL)
    assert it["surv24_diff_high"]["est"] == pytest.approx(REF["difference"]["high"]["est"], rel=RTOL)
    assert it["stratified_ratio"] == r["risk"]["interaction_ratio_stratified"]
    assert it["shared_baseline_p"] == pytest.approx(REF["interaction"]["shared"]["p"], rel=RTOL)
    assert it["surv24_diff_low"]["lower"] == pytest.approx(REF["difference"]["low"]["lower"], rel=RTOL)
    lm = r["appraisal"]["landmark"]
    assert (lm["months"], lm["n"], lm["events"]) == (6.0, REF["landmark"]["n"], REF["landmark"]["events"])
    assert lm["cox_os"]["immuno_cycles_low"]["hr"] == pytest.approx(REF["landmark"]["cox_os"]["immuno_cycles_low"][0],
                                                                     rel=RTOL)
    assert r["appraisal"]["landmark"]["lrrt"]["hr"] == pytest.approx(REF["landmark"]["lrrt"][0], rel=RTOL)


def test_guarantee_simulation_shows_the_bias_and_the_landmark_removes_it():
    sim = treatment.guarantee_simulation().set_index(["analysis", "term"])
    for term in ("immuno_cycles_low", "no_lrrt"):
        assert sim.loc[("from diagnosis", term), "lower"] > 1          # spurious harm, no true effect
        lo, hi = sim.loc[("landmark", term), ["lower", "upper"]]
        assert lo < 1 < hi                                               # gone after the landmark
    assert treatment.guarantee_simulation().equals(treatment.guarantee_simulation())  # seeded


def test_landmark_rules_and_not_estimable_cases(twin):
    df = twin[0]
    # a death and a censoring exactly at the landmark are both left out (R: subset(time > at))
    mask, t = subgroup.landmark([5.0, 6.0, 6.0, 6.5, 10.0], [1, 1, 0, 1, 0], 6.0)
    assert mask.tolist() == [False, False, False, True, True] and t.tolist() == [0.5, 4.0]
    # nobody without LRRT: the five-term refit stands, the LRRT comparison is not estimable
    everyone = df.assign(lrrt=1)
    lm = treatment.landmark_analysis(everyone)
    assert (lm["n"], lm["events"]) == (REF["landmark"]["n"], REF["landmark"]["events"])
    assert lm["cox_os"].ok and not lm["lrrt"].ok and "only one arm" in lm["lrrt"].reason
    np.testing.assert_allclose(_rec(lm["cox_os"].value["age_high"]), REF["landmark"]["cox_os"]["age_high"],
                               rtol=RTOL)
    # no death after the landmark: n is given, both fits are not estimable
    early = df.assign(os_event=np.where(df["os_months"] > 6, 0, df["os_event"]))
    lm = treatment.landmark_analysis(early)
    assert (lm["n"], lm["events"]) == (REF["landmark"]["n"], 0)
    for key in ("cox_os", "lrrt"):
        assert lm[key].value is None and "no death after the 6-month landmark" in lm[key].reason
    # nobody followed beyond the landmark
    lm = treatment.landmark_analysis(df, float(df["os_months"].max()))
    assert lm["n"] == 0 and "nobody is alive" in lm["lrrt"].reason and not lm["cox_os"].ok
    # the results JSON: nulls with their reasons, the rest filled
    r = report.compute_results(everyone)
    a = r["appraisal"]["landmark"]
    assert a["lrrt"]["hr"] is None and a["n"] == REF["landmark"]["n"] and a["cox_os"]["age_high"]["hr"] is not None
    assert "only one arm" in r["notes"]["appraisal.landmark.lrrt.hr"]
    r = report.compute_results(early)
    assert r["appraisal"]["landmark"]["events"] == 0
    assert "no death after" in r["notes"]["appraisal.landmark.cox_os.immuno_cycles_low.p"]


def test_effect_modification_without_untreated_patients_is_not_estimable(twin):
    df, _, scores = twin
    everyone = df.assign(lrrt=1)
    em = treatment.effect_modification(everyone, analysis.stratify(everyone, scores), scores)
    for key in ("shared", "stratified", "continuous", "diff_low", "diff_high"):
        assert not em[key].ok and em[key].value is None and em[key].reason, key
    assert "no patient is in group 0" in em["diff_high"].reason
