"""PROBAST and TRIPOD+AI: every question and item covered; computed answers follow their numbers."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from dmnpc.paper import contract, report, verdict


@pytest.fixture(scope="module")
def twin():
    df = contract.load_cohort(contract.DEFAULT_COHORT)
    return df, report.compute_results(df)


PROBAST_IDS = ["1.1", "1.2", "2.1", "2.2", "2.3", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6",
               "4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8", "4.9"]
TRIPOD_ITEMS = ["1", "2", "3a", "3b", "3c", "4", "5a", "5b", "6a", "6b", "6c", "7", "8a", "8b", "8c", "9a", "9b",
                "9c", "10", "11", *(f"12{c}" for c in "abcdefg"), "13", "14", "15", "16", "17",
                *(f"18{c}" for c in "abcdef"), "19", "20a", "20b", "20c", "21", "22", "23a", "23b", "24", "25", "26",
                "27a", "27b", "27c"]


def test_every_probast_question_answered_with_evidence(twin):
    a = verdict.probast(*twin)
    assert a["id"].tolist() == PROBAST_IDS
    assert a["answer"].isin(verdict.ANSWERS).all()
    assert (a["evidence"].str.len() > 20).all() and (a["chapter"] != "").all()
    assert a.groupby("domain", sort=False).size().to_dict() == {"Participants": 2, "Predictors": 3, "Outcome": 6,
                                                                "Analysis": 9}


def test_every_tripod_ai_item_listed_once():
    t = verdict.tripod()
    assert t["item"].tolist() == TRIPOD_ITEMS
    assert t["reported"].isin(["yes", "partly", "no", "n.a."]).all()


def test_domain_rule():
    a = pd.DataFrame({"domain": ["A", "A", "B", "B", "C"], "answer": ["Y", "PY", "Y", "NI", "PN"]})
    r = verdict.domain_ratings(a)
    assert r.to_dict() == {"A": "Low", "B": "Unclear", "C": "High"}
    assert verdict.overall_risk(r) == "High"
    assert verdict.overall_risk(r[["A", "B"]]) == "Unclear"
    assert verdict.overall_risk(r[["A"]]) == "Low"


def _answer(df, r, qid):
    return verdict.probast(df, r).set_index("id").loc[qid]


@pytest.mark.parametrize("rkm, expected", [(21.6, "PN"), (23.99, "PN"), (24.0, "PY"), (30.0, "PY"), (None, "NI")])
def test_follow_up_answer_follows_the_reverse_km_median(twin, rkm, expected):
    df, r = twin
    r = copy.deepcopy(r)
    r["other"]["followup_reverse_km_months"] = rkm
    assert _answer(df, r, "3.6")["answer"] == expected


@pytest.mark.parametrize("n_extra, req, epp, expected", [(0, 372, 1.75, "N"), (0, 372, 12.0, "PN"), (0, 90, 1.75, "Y"),
                                                         (0, 91, 30.0, "PN")])
def test_events_answer_follows_the_sample_size(twin, n_extra, req, epp, expected):
    df, r = twin
    r = copy.deepcopy(r)
    r["appraisal"]["sample_size"].update(required_n=req, events_per_parameter=epp)
    assert _answer(df, r, "4.1")["answer"] == expected


def test_missing_data_answer_follows_the_cohort(twin):
    df, r = twin
    assert df.isna().any().any()  # the twin has missing LDH values
    assert _answer(df, r, "4.4")["answer"] == "PN"
    assert _answer(df.fillna({"ldh": 200.0}), r, "4.4")["answer"] == "Y"


def test_early_deaths_counted_in_the_predictor_answer(twin):
    df, r = twin
    months = verdict.IMMUNO_CYCLES_CUT * verdict.CYCLE_WEEKS * 12 / 52
    early = int(((df["os_event"] == 1) & (df["os_months"] < months)).sum())
    assert f"{early} of the {int(df['os_event'].sum())} deaths" in _answer(df, r, "2.2")["evidence"]


def test_optimism_answer_quotes_both_c_indexes(twin):
    df, r = twin
    ev = _answer(df, r, "4.8")["evidence"]
    assert f"{r['nomogram']['c_index']:.3f}" in ev and f"{r['appraisal']['pipeline']['c_corrected']:.3f}" in ev
