"""Concluding sentences follow their numbers: each helper on both sides of its threshold, at it, and missing."""

from __future__ import annotations

import math

import pytest

from dmnpc.book import prose


@pytest.mark.parametrize("p, expected", [(0.049, True), (0.05, False), (0.051, False), (0.0001, True),
                                         (None, None), (math.nan, None)])
def test_rejects_at_the_papers_alpha(p, expected):
    assert prose.rejects(p) is expected


def test_ph_sentence_rejects_below_alpha():
    s = prose.ph_sentence(0.005, 28)
    assert s.startswith("The global test rejects proportional hazards (P = 0.005)")
    assert "weak reassurance" not in s


@pytest.mark.parametrize("p", [0.05, 0.42])
def test_ph_sentence_does_not_reject_at_or_above_alpha(p):
    s = prose.ph_sentence(p, 28)
    assert s.startswith(f"The global test does not reject proportional hazards (P = {p:.3f})")
    assert "With 28 events this test has little power" in s


def test_ph_sentence_not_estimable_says_why():
    assert prose.ph_sentence(None, 3, "the Cox model has no finite maximum") == (
        "The global test of proportional hazards is not estimable: the Cox model has no finite maximum.")


def test_significant_count_sentence():
    assert prose.significant_count_sentence(6, 16, 1, "OS") == (
        "Of the 15 interpretable variables, 6 have P < 0.05 for OS on their own; 1 more is set aside as "
        "uninterpretable, because the hazard ratio rests on a handful of patients (see the table's notes).")
    assert prose.significant_count_sentence(1, 3, 0, "PFS") == (
        "Of the 3 interpretable variables, 1 has P < 0.05 for PFS on their own.")


class _It:
    def __init__(self, ratio, p, ref=2.0, oth=1.0):
        self.ratio, self.lower, self.upper, self.p = ratio, ratio / 3, ratio * 3, p
        self.reference, self.other, self.hr_reference, self.hr_other = "low", "high", ref, oth


def test_interaction_sentence_names_each_model_and_follows_p():
    s = prose.interaction_sentence(_It(0.70, 0.73), _It(0.35, 0.405, 6.90, 2.41))
    assert "With one baseline hazard shared by the two cohorts" in s and "0.70 (95% CI 0.23 to 2.10" in s
    assert "separate fits (2.41 and 6.90), the ratio is 0.35" in s
    assert s.endswith("these data do not show that the LRRT effect differs between the cohorts.")
    s = prose.interaction_sentence(_It(0.20, 0.049), _It(0.35, 0.05))
    assert s.endswith("The shared-baseline test rejects equal effects: on this cohort the hazard ratio of LRRT "
                      "differs between the risk cohorts.")
    s = prose.interaction_sentence(_It(0.20, 0.01), _It(0.30, 0.02))
    assert "The shared-baseline and the stratified tests reject equal effects" in s
    assert prose.interaction_sentence(None, None, "only one arm") == (
        "The treatment x cohort interaction is not estimable: only one arm.")


def test_absolute_sentence_reports_both_cohorts_and_the_difference():
    s = prose.absolute_sentence({"high": (0.50, 0.30), "low": (0.95, None)})
    assert "50.0% with and 30.0% without LRRT in the high-risk cohort (a difference of 20.0 percentage points)" in s
    assert "in the low-risk cohort it is not estimable" in s


def _rec(hr, lo, hi, p):
    return {"hr": hr, "lower": lo, "upper": hi, "p": p}


@pytest.mark.parametrize("hr, word", [(2.41, "higher by a factor of 2.41 (95% CI"), (1.0001, "higher by a factor of 1.00"),
                                      (0.45, "lower (hazard ratio 0.45 (95% CI"), (0.9999, "lower (hazard ratio 1.00")])
def test_hazard_change_direction_follows_the_hr(hr, word):
    assert prose.hazard_change(_rec(hr, hr / 2, hr * 2, 0.04)).startswith(word)


def test_hazard_change_at_one_and_missing():
    assert prose.hazard_change(_rec(1.0, 0.5, 2.0, 1.0)).startswith("unchanged")
    assert prose.hazard_change(_rec(None, None, None, None), "no deaths") == "not estimable: no deaths"
    assert prose.hazard_change(None, "one arm") == "not estimable: one arm"


def test_lrrt_hr_sentence_each_cohort_its_own_direction():
    s = prose.lrrt_hr_sentence({"high": _rec(0.45, 0.22, 0.93, 0.031), "low": _rec(1.8, 0.6, 5.4, 0.3)})
    assert s == ("Without LRRT, the hazard of death was lower (hazard ratio 0.45 (95% CI 0.22 to 0.93, P = 0.031)) in "
                 "the high-risk cohort and higher by a factor of 1.80 (95% CI 0.60 to 5.40, P = 0.300) in the "
                 "low-risk cohort.")


@pytest.mark.parametrize("with_, without, phrase", [(0.73, 0.36, "survived longer, and part of that gap may be selection"),
                                                    (0.25, 0.38, "survived less long; selection favours the LRRT arm, so it cannot"),
                                                    (0.5, 0.5, "both arms have the same 24-month survival"),
                                                    (None, 0.5, "not estimable")])
def test_selection_sentence_follows_which_arm_did_better(with_, without, phrase):
    assert phrase in prose.selection_sentence(with_, without)


@pytest.mark.parametrize("n_sig, flagged, expected", [
    (5, [], "In the OS model, 5 of the 5 interpretable terms have P < 0.05 with HR > 1"),
    (1, ["Age ≥ 50 vs < 50"], "In the OS model, 1 of the 4 interpretable terms has P < 0.05 with HR > 1; Age ≥ 50 vs "
                              "< 50 is set aside as uninterpretable, because the hazard ratio rests on a handful of patients"),
])
def test_multivariable_count_sentence(n_sig, flagged, expected):
    assert prose.multivariable_count_sentence(n_sig, 5, flagged) == expected


@pytest.mark.parametrize("n, req, phrase", [(90, 372, "has 24% of the minimum of 372"), (371, 372, "has 100% of the minimum"),
                                             (372, 372, "meets the minimum of 372"), (500, 372, "meets the minimum")])
def test_sample_size_sentence_on_both_sides(n, req, phrase):
    s = prose.sample_size_sentence(n, req, 16, 1.75)
    assert phrase in s
    assert ("too small" in s) == (n < req)


def test_sample_size_sentence_not_estimable():
    assert prose.sample_size_sentence(90, None, 16, None, "no deaths") == "The minimum sample size is not estimable: no deaths."


@pytest.mark.parametrize("h, b, phrase", [(0.88, 0.67, "are below 0.9: the model is overfitted"),
                                          (0.95, 0.92, "reach 0.9: little shrinkage"),
                                          (0.9, 0.9, "reach 0.9"),
                                          (0.95, 0.7, "disagree"),
                                          (None, 0.7, "is below 0.9"),
                                          (None, None, "Neither estimate")])
def test_shrinkage_sentence_on_both_sides_of_the_target(h, b, phrase):
    assert phrase in prose.shrinkage_sentence(h, b)


@pytest.mark.parametrize("cont, dich, phrase", [(160.0, 168.0, "The continuous model has the lower AIC (by 8.0)"),
                                                (177.0, 168.0, "The dichotomised model has the lower AIC (by 9.0)"),
                                                (168.0, 168.0, "The two models have the same AIC")])
def test_dichotomising_sentence(cont, dich, phrase):
    assert prose.dichotomising_sentence(cont, dich).startswith(phrase)
    assert "synthetic" in prose.dichotomising_sentence(cont, dich, synthetic=True)
    assert "synthetic" not in prose.dichotomising_sentence(cont, dich)


def test_net_benefit_sentence_follows_the_curves():
    th = [0.1, 0.2, 0.3]
    assert "at every threshold from 10% to 30%." in prose.net_benefit_sentence(th, [0.3, 0.2, 0.1], [0.2, 0.1, -0.1], 24)
    s = prose.net_benefit_sentence(th, [0.1, 0.05, 0.0], [0.2, 0.1, 0.0], 24)
    assert "does not exceed both" in s                     # below treat-all, then equal to treat-none
    s = prose.net_benefit_sentence(th, [0.1, 0.15, float("nan")], [0.2, 0.1, 0.0], 12)
    assert "at 1 of the 2 thresholds" in s and "(the lowest 20%, the highest 20%)" in s
    assert "not estimable" in prose.net_benefit_sentence(th, [float("nan")] * 3, [0.1] * 3, 12)


@pytest.mark.parametrize("ipa, phrase", [(0.2, "20% lower"), (0.0, "no better"), (-0.1, "no better"), (None, "not estimable")])
def test_ipa_sentence(ipa, phrase):
    assert phrase in prose.ipa_sentence(ipa, 24)


@pytest.mark.parametrize("cp, cf, sp, sf, phrase", [(0.82, 0.87, 0.65, 0.78, "understates the optimism"),
                                                    (0.88, 0.87, 0.80, 0.78, "add no measurable optimism"),
                                                    (0.87, 0.87, 0.78, 0.78, "add no measurable optimism"),
                                                    (0.80, 0.87, 0.80, 0.78, "discrimination suffering more"),
                                                    (0.88, 0.87, 0.70, 0.78, "calibration suffering more"),
                                                    (None, 0.87, 0.7, 0.78, "not estimable")])
def test_pipeline_sentence(cp, cf, sp, sf, phrase):
    assert phrase in prose.pipeline_sentence(cp, cf, sp, sf)


def test_screen_terms_sentence():
    paper = ["a", "b", "c"]
    assert prose.screen_terms_sentence(["c", "a", "b"], paper, {}) == "On this cohort the screen keeps exactly the paper's 3 terms."
    assert prose.screen_terms_sentence(["a", "x"], paper, {"x": "X", "b": "B", "c": "C"}) == (
        "On this cohort the screen keeps 2 terms, 1 of the paper's 3, and adds X; it drops B, C.")
    assert "not estimable" in prose.screen_terms_sentence(None, paper, {})



def test_weighted_hr_sentence_on_both_sides_of_one():
    un = _rec(3.1, 1.4, 7.0, 0.007)
    s = prose.weighted_hr_sentence({"unweighted": un, "IPTW": _rec(2.8, 1.2, 6.5, 0.01), "overlap": _rec(2.2, 1.01, 4.8, 0.048)})
    assert "still exclude 1" in s
    s = prose.weighted_hr_sentence({"unweighted": un, "IPTW": _rec(1.5, 0.8, 2.9, 0.2), "overlap": _rec(1.2, 0.6, 2.4, 0.6)})
    assert "every confidence interval includes 1" in s
    s = prose.weighted_hr_sentence({"unweighted": un, "IPTW": _rec(2.8, 1.2, 6.5, 0.01), "overlap": _rec(1.2, 0.6, 2.4, 0.6)})
    assert "hangs on the weighting" in s
    assert "IPTW: not estimable" in prose.weighted_hr_sentence({"unweighted": un, "IPTW": None})


@pytest.mark.parametrize("ci, phrase", [(1.58, "one of 1.58 each could move"), (1.0, "already includes 1"),
                                        (None, "already includes 1")])
def test_evalue_sentence(ci, phrase):
    assert phrase in prose.evalue_sentence(3.48, ci)
    assert "not estimable" in prose.evalue_sentence(None, None)


def test_pattern_sentence():
    s = prose.pattern_sentence(0.26, 0.233, 0.288, 1.0, "observed", 90)
    assert "LRRT has no effect at all and is given as in the cohort" in s and "appears in 26% (95% CI 23% to 29%)" in s
    s = prose.pattern_sentence(0.112, 0.093, 0.133, 0.6, "random", 90)
    assert "same hazard ratio (0.6, with vs without)" in s and "at random" in s



def _sc(rate, lo, hi):
    return {"pattern_rate": rate, "pattern_rate_lower": lo, "pattern_rate_upper": hi}


@pytest.mark.parametrize("obs, rnd, phrase", [(_sc(0.26, 0.23, 0.29), _sc(0.04, 0.03, 0.05), "is confounding"),
                                              (_sc(0.04, 0.03, 0.05), _sc(0.05, 0.04, 0.06), "do not differ"),
                                              (_sc(0.02, 0.01, 0.03), _sc(0.26, 0.23, 0.29), "works against"),
                                              (None, _sc(0.05, 0.04, 0.06), "not estimable")])
def test_confounding_gap_sentence(obs, rnd, phrase):
    assert phrase in prose.confounding_gap_sentence(obs, rnd)



@pytest.mark.parametrize("pb, pa, phrase", [(0.004, 0.2, "no longer significant"), (0.004, 0.01, "stays significant"),
                                            (0.3, 0.01, "only after the landmark"), (0.3, 0.4, "Neither is significant")])
def test_landmark_sentence(pb, pa, phrase):
    assert phrase in prose.landmark_sentence(_rec(3.1, 1.4, 7.0, pb), _rec(2.8, 1.2, 6.5, pa), 6)
    assert "not estimable" in prose.landmark_sentence(None, _rec(1, 1, 1, 1), 6)


def test_continuous_interaction_sentence():
    from dmnpc.stats.subgroup import ContinuousInteraction

    ci = ContinuousInteraction(coef=0.0, se=0.5, ratio=0.99, lower=0.27, upper=3.6, lr_chisq=0.0, p=0.98, n=90, events=28)
    assert "do not show that the effect of LRRT changes" in prose.continuous_interaction_sentence(ci, 100)
    ci2 = ContinuousInteraction(coef=1.0, se=0.3, ratio=2.7, lower=1.5, upper=4.9, lr_chisq=9.0, p=0.003, n=90, events=28)
    assert "changes with risk on this cohort" in prose.continuous_interaction_sentence(ci2, 100)
    assert "not estimable: x" in prose.continuous_interaction_sentence(None, 100, "x")


def test_difference_sentence():
    s = prose.difference_sentence({"low": {"est": 0.2, "lower": -0.15, "upper": 0.55},
                                   "high": {"est": 0.32, "lower": 0.01, "upper": 0.65}})
    assert "+20.0 percentage points in the low-risk cohort (95% CI -15.0 to +55.0; the interval includes 0)" in s
    assert "the interval excludes 0" in s
    assert "not estimable in the low-risk cohort" in prose.difference_sentence({"low": None})
