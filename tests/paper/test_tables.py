"""Tests for dmnpc.paper.tables: hand-worked contingency tests, R golden values (chisq.test,
fisher.test), the TableOne-built baseline tables, and every error message."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dmnpc.paper.tables import baseline_table, categorical_p_values, table_by_risk_and_lrrt, wide_table
from dmnpc.paper.variables import GROUPINGS

HERE = Path(__file__).resolve().parents[1]  # tests/
REF = json.loads((HERE / "reference" / "tables.json").read_text())
RTOL = 1e-6
BY_NAME = {g.name: g for g in GROUPINGS}


# ----------------------------------------------------------------------------- hand-worked
def test_2x2_by_hand():
    r = categorical_p_values([[3, 1], [1, 3]], test="auto")
    # every expected count is 2: X2 = 4 * 1/2 = 2; Yates: 4 * (1 - 0.5)^2 / 2 = 0.5
    assert r["chisq"] == pytest.approx(2.0) and r["chisq_yates"] == pytest.approx(0.5)
    assert r["min_expected"] == 2.0 and r["df"] == 1.0
    # hypergeometric: P(a) = C(4,a) C(4,4-a) / C(8,4) = 1,16,36,16,1 over 70; two-sided = 34/70
    assert r["p_fisher"] == pytest.approx(34 / 70)
    assert r["test"] == "Fisher's exact" and r["p"] == r["p_fisher"]  # auto: expected < 5
    assert categorical_p_values([[3, 1], [1, 3]], "chi2")["test"] == "Pearson chi-square"
    y = categorical_p_values([[3, 1], [1, 3]], "chi2_yates")
    assert y["test"] == "Chi-square with Yates' correction" and y["p"] == y["p_chisq_yates"]


def test_yates_never_overcorrects():
    # Table 1 age: E = 69 * 46 / 90 = 35.267, |O - E| = 0.267 < 0.5. R subtracts min(0.5, |O - E|),
    # so the corrected statistic is 0 and P = 1 (the paper prints 1.000); subtracting a full 0.5
    # would give a positive statistic.
    r = categorical_p_values([[35, 34], [11, 10]])
    assert abs(r["chisq_yates"]) < 1e-12 and r["p_chisq_yates"] == pytest.approx(1.0)
    assert r["chisq"] > 0.01


def test_freeman_halton_2x3_by_hand():
    # margins rows (2, 2), columns (2, 1, 1), n = 4. First-row tables and probabilities:
    # (2,0,0) 1/6, (1,1,0) 2/6, (1,0,1) 2/6, (0,1,1) 1/6  -> observed (2,0,0): p = 2/6
    r = categorical_p_values([[2, 0, 0], [0, 1, 1]], test="fisher")
    assert r["p_fisher"] == pytest.approx(1 / 3)
    assert r["test"] == "Fisher-Freeman-Halton exact"
    assert r["chisq_yates"] == r["chisq"]  # no continuity correction beyond 2 x 2, as R
    # a level nobody has is dropped first (R would give NaN); transposed table gives the same p
    assert categorical_p_values([[2, 0, 0, 0], [0, 1, 1, 0]])["p_fisher"] == pytest.approx(1 / 3)
    assert categorical_p_values([[2, 0], [0, 1], [0, 1]])["p_fisher"] == pytest.approx(1 / 3)


def test_all_tables_equally_likely():
    assert categorical_p_values([[1, 0, 0], [0, 1, 1]])["p_fisher"] == pytest.approx(1.0)


def test_not_testable():
    r = categorical_p_values([[5, 0], [3, 0]])
    assert np.isnan(r["p"]) and r["test"].startswith("not testable")


# ----------------------------------------------------------------------------- R golden values
@pytest.mark.parametrize("name", sorted(REF))
def test_matches_r(name):
    ref = REF[name]
    r = categorical_p_values(ref["table"])
    for key in ("chisq", "p_chisq", "chisq_yates", "p_chisq_yates", "p_fisher", "min_expected"):
        # R's Yates statistic for paper_age is 6e-31 (rounding noise of 0): absolute check there
        np.testing.assert_allclose(r[key], ref[key], rtol=RTOL, atol=1e-12, err_msg=key)
    assert r["df"] == ref["df"]


def test_paper_counts_reproduce_printed_p_with_fisher():
    # Table 1 prints P = 0.233 (ECOG), 0.177 (lesions), 0.006 (liver), 0.040 (immunotherapy):
    # Fisher's exact test reproduces all four to the printed 3 decimals, Pearson's does not.
    printed = {"paper_ecog": 0.233, "paper_lesions": 0.177, "paper_liver": 0.006, "paper_immuno": 0.040}
    for name, p in printed.items():
        r = categorical_p_values(REF[name]["table"])
        assert round(r["p_fisher"], 3) == p
        assert round(r["p_chisq"], 3) != p


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
    with pytest.raises(ValueError, match="two-way table"):
        categorical_p_values([1, 2, 3])
    with pytest.raises(ValueError, match="non-negative whole numbers"):
        categorical_p_values([[1, -2], [3, 4]])
    with pytest.raises(ValueError, match="non-negative whole numbers"):
        categorical_p_values([[1.5, 2], [3, 4]])
    with pytest.raises(ValueError, match="test must be one of"):
        categorical_p_values([[1, 2], [3, 4]], test="t-test")
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
