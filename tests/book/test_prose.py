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
