"""Groups are keyed by codes; display labels live in one table (dmnpc.paper.variables)."""

from __future__ import annotations

from dmnpc.book import chapter
from dmnpc.paper import analysis, contract, published, variables


def test_every_group_code_has_one_label():
    codes = set(variables.LRRT_ARMS) | set(variables.RISK_COHORTS)
    assert codes <= set(variables.LABELS)
    assert variables.label("no_lrrt") == "Without LRRT"
    assert variables.label("ebv_dna_high") == variables.TERM_LABELS["ebv_dna_high"]
    assert variables.label("unknown_code") == "unknown_code"


def test_paper_nomogram_labels_built_from_the_cut_points():
    assert variables.PAPER_LEVEL_LABELS["ebv_dna_high"] == {0.0: "< 66,600", 1.0: "≥ 66,600"}
    assert variables.PAPER_LEVEL_LABELS["immuno_cycles_low"][1.0] == "< 8"
    assert set(variables.PAPER_TERM_LABELS) == set(variables.OS_TERMS)


def test_km_groups_keyed_by_code_and_labelled_only_for_drawing():
    df = contract.load_cohort(contract.DEFAULT_COHORT)
    by = analysis.km_by_lrrt(df, "os")
    assert list(by["groups"]) == ["lrrt", "no_lrrt"]
    assert list(chapter.km_curves(by)) == ["LRRT", "Without LRRT"]
    assert list(analysis.stratify(df).os["groups"]) == ["low", "high"]


def test_constants_have_one_definition():
    from dmnpc.paper import twin

    assert analysis.HORIZONS is variables.HORIZONS and analysis.TABLE_TEST is variables.TABLE_TEST
    assert chapter.SEED == variables.SEED == twin.DEFAULT_SEED
    assert analysis.validation.__defaults__[1] == variables.SEED


def test_compare_table_reads_results_by_key_with_yaml_labels():
    results = {"nomogram": {"c_index": 0.9, "c_index_lower": None}}
    t = chapter.compare_table(results, ["nomogram.c_index", "nomogram.c_index_lower"])
    labels = published.numbers().set_index("key")["label"]
    assert list(t["Quantity"]) == [labels["nomogram.c_index"], labels["nomogram.c_index_lower"]]
    # a missing value is "not estimable" (it said "not reached" for any quantity, a median's wording)
    assert list(t["This cohort"]) == ["0.900", "not estimable"]
    assert t["Reproduced"].iloc[0] == "yes" and "not estimable" in t["Reproduced"].iloc[1]
    results["notes"] = {"nomogram.c_index_lower": "no pair of patients is comparable"}
    t = chapter.compare_table(results, ["nomogram.c_index_lower"])
    assert list(t["This cohort"]) == ["not estimable: no pair of patients is comparable"]


def test_univariable_flags_a_term_resting_on_one_patient():
    """The paper's ECOG 0 level is one patient: its HR is reported but flagged, the others are not."""
    uni = analysis.univariable(contract.load_cohort(contract.DEFAULT_COHORT), "os").set_index("term")
    assert uni.loc["ecog_ge1", "flag"] == "uninterpretable: its smaller group has 1 patient and 1 event"
    assert uni.loc["age_high", "flag"] == ""
    assert uni.loc["ecog_ge1", "hr"] == uni.loc["ecog_ge1", "hr"]  # still estimated, only flagged
