"""Tests for dmnpc.paper.tables: the TableOne-built baseline tables and every error message
(the contingency tests themselves are in tests/stats/test_contingency.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dmnpc.paper.tables import baseline_table, table_by_risk_and_lrrt, wide_table
from dmnpc.paper.variables import GROUPINGS
from dmnpc.stats.contingency import categorical_p_values

BY_NAME = {g.name: g for g in GROUPINGS}


# ----------------------------------------------------------------------------- baseline tables
def _cohort() -> pd.DataFrame:
    """Twelve hand-made patients with every column the groupings use."""
    n = 12
    return pd.DataFrame({
        "age": [45, 55, 60, 30, 52, 49, 50, 61, 38, 47, 66, 41],
        "sex": pd.Categorical(["male"] * 9 + ["female"] * 3, categories=["male", "female"]),
        "ecog": [1] * 11 + [0],
        "t_stage": pd.Categorical(["T1", "T3", "T4", "T2", "T3", "T3", "T4", "T1", "T2", "T3", "T4", "T4"],
                                  categories=["T1", "T2", "T3", "T4"]),
        "n_stage": pd.Categorical(["N2", "N3", "N1", "N2", "N2", "N3", "N0", "N2", "N3", "N2", "N2", "N1"],
                                  categories=["N0", "N1", "N2", "N3"]),
        "ebv_dna": [1e3, 7e4, 66_600, 5e2, 2e5, 1e4, 3e4, 9e4, 1e2, 66_599, 1e6, 0],
        "multi_organ_mets": [0, 1, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0],
        "met_lesions": pd.Categorical(["single", "multiple"] * 6, categories=["single", "multiple"]),
        "liver_mets": [0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1],
        "bone_mets": [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0],
        "lung_mets": [0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0],
        "ldh": [200, 300, np.nan, 180, 260, 240, np.nan, 400, 150, 250, 320, 190],
        "chemo_cycles": [6, 4, 6, 8, 3, 6, 6, 2, 6, 5, 4, 6],
        "immuno_cycles": [8, 4, 10, 12, 3, 8, 9, 2, 8, 6, 4, 8],
        "local_tx_mets": [1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1],
        "lrrt": [1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1],
        "risk": ["low", "low", "high", "low", "high", "low", "low", "high", "low", "low", "high", "low"],
    }, index=range(100, 100 + n))


def test_baseline_table_counts_percent_p():
    df = _cohort()
    t = baseline_table(df, "lrrt", test="fisher")
    assert list(t.columns) == ["variable", "label", "level", "arm", "n", "pct", "p", "test"]
    assert t["arm"].unique().tolist() == ["lrrt", "no_lrrt"]  # paper's column order
    # ages in the LRRT arm: 45, 60, 30, 49, 50, 38, 47, 41 -> 2 of 8 are >= 50
    age = t[(t.variable == "age")].set_index(["level", "arm"])
    assert age.loc[("≥ 50", "lrrt"), "n"] == 2 and age.loc[("≥ 50", "lrrt"), "pct"] == pytest.approx(25.0)
    assert age.loc[("≥ 50", "no_lrrt"), "n"] == 4  # 55, 52, 61, 66: all four without LRRT
    # every count equals a direct crosstab; P equals categorical_p_values on those counts
    from dmnpc.paper.variables import grouped
    g = grouped(df)
    for var in t.variable.unique():
        sub = t[(t.variable == var) & (t.level != "Missing")]
        ct = pd.crosstab(df["lrrt"], g[var])
        for _, row in sub.iterrows():
            a = 1 if row.arm == "lrrt" else 0
            assert row.n == ct.loc[a, row.level]
            assert row.pct == pytest.approx(100 * ct.loc[a, row.level] / ct.loc[a].sum())
        want = categorical_p_values(ct.to_numpy(), "fisher")
        assert sub["p"].iloc[0] == pytest.approx(want["p"], rel=1e-12)
        assert sub["test"].iloc[0] == want["test"]


def test_missing_ldh_is_a_count_row():
    t = baseline_table(_cohort(), "lrrt", test="chi2")
    ldh = t[t.variable == "ldh"].set_index(["level", "arm"])
    # LDH missing for patients 102 and 106, both LRRT
    assert ldh.loc[("Missing", "lrrt"), "n"] == 2 and ldh.loc[("Missing", "no_lrrt"), "n"] == 0
    assert np.isnan(ldh.loc[("Missing", "lrrt"), "pct"])
    # percentages among the 6 LRRT patients with a known LDH: >= 250 is 250 only -> 1 of 6
    assert ldh.loc[("≥ 250", "lrrt"), "n"] == 1
    assert ldh.loc[("≥ 250", "lrrt"), "pct"] == pytest.approx(100 / 6)


def test_empty_level_left_out_and_auto_test():
    t = baseline_table(_cohort(), "lrrt", test="auto")
    assert "≥2" not in t[t.variable == "ecog"]["level"].tolist()
    assert set(t["test"]) <= {"Fisher's exact", "Pearson chi-square"}


def test_wide_table_display():
    w = wide_table(baseline_table(_cohort(), "lrrt", groupings=[BY_NAME["age"]], test="fisher"))
    assert w.columns.tolist() == ["Characteristic", "Level", "lrrt", "no_lrrt", "P", "Test"]
    assert w.loc[1, "lrrt"] == "2 (25.0)" and w.loc[1, "Characteristic"] == ""


def test_table_by_risk_separate_p():
    df = _cohort()
    t = table_by_risk_and_lrrt(df, "risk", test="fisher", groupings=[BY_NAME["liver_mets"]])
    for c in ("low", "high"):
        sub = df[df.risk == c]
        want = baseline_table(sub, "lrrt", groupings=[BY_NAME["liver_mets"]], test="fisher")
        got = t[t.cohort == c].drop(columns="cohort").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want)
    w = wide_table(t)
    assert "low P" in w.columns and "high P" in w.columns


# ----------------------------------------------------------------------------- errors
def test_errors():
    with pytest.raises(ValueError, match="test must be one of"):
        baseline_table(_cohort(), "lrrt", test="t-test")
    df = _cohort()
    with pytest.raises(ValueError, match="no patients"):
        baseline_table(df.iloc[:0], "lrrt")
    with pytest.raises(ValueError, match="column 'arm' not found"):
        baseline_table(df, "arm")
    with pytest.raises(ValueError, match="has missing values"):
        baseline_table(df.assign(lrrt=[np.nan] + [1] * 11), "lrrt")
    with pytest.raises(ValueError, match="only one value"):
        baseline_table(df.assign(lrrt=1), "lrrt")
    with pytest.raises(ValueError, match="no variables given"):
        baseline_table(df, "lrrt", groupings=[])
    with pytest.raises(ValueError, match="test must be one of"):
        baseline_table(df, "lrrt", test="anova")
    with pytest.raises(ValueError, match="no patients"):
        table_by_risk_and_lrrt(df.iloc[:0], "risk")
    with pytest.raises(ValueError, match="risk has 3 labels"):
        table_by_risk_and_lrrt(df, ["low", "high", "low"])
    with pytest.raises(ValueError, match="missing labels"):
        table_by_risk_and_lrrt(df.assign(risk=[None] + ["low"] * 11), "risk")
    with pytest.raises(ValueError, match="unknown risk cohort"):
        table_by_risk_and_lrrt(df.assign(risk="medium"), "risk")
    with pytest.raises(ValueError, match="output of baseline_table"):
        wide_table(pd.DataFrame({"x": [1]}))
