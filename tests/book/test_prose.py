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
