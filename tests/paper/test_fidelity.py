"""Tests of dmnpc.paper.fidelity on hand-made results dictionaries."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dmnpc.paper import fidelity, published


def _row(table: pd.DataFrame, key: str) -> pd.Series:
    return table.set_index("key").loc[key]


def test_lookup_dotted_paths():
    r = {"os": {"surv_24": 0.6}, "n": 90}
    assert fidelity.lookup(r, "os.surv_24") == 0.6
    assert fidelity.lookup(r, "n") == 90
    assert fidelity.lookup(r, "os.surv_12") is None
    assert fidelity.lookup(r, "n.x") is None


def test_within_missed_and_not_computed():
    r = {"n": 90, "n_lrrt": 68, "os": {"surv_24": 0.654 + 0.019, "surv_12": 0.93 - 0.021,
                                       "median_months": float("nan")},
         "os_by_lrrt": {"logrank_p": 0.06}}
    t = fidelity.fidelity(r)
    assert _row(t, "n")["status"] == "within"
    assert _row(t, "os.surv_24")["status"] == "within"
    assert _row(t, "os.surv_24")["deviation"] == pytest.approx(0.95)
    miss = _row(t, "os.surv_12")
    assert miss["status"] == "missed" and "tolerance 0.02" in miss["reason"]
    assert _row(t, "n_lrrt")["status"] == "missed" and "must be equal" in _row(t, "n_lrrt")["reason"]
    assert "other side of 0.05" in _row(t, "os_by_lrrt.logrank_p")["reason"]
    assert "not estimable" in _row(t, "os.median_months")["reason"]
    assert _row(t, "pfs.surv_24")["status"] == "not computed"
    lines = fidelity.missed(t)
    assert any(line.startswith("os.surv_12: ") for line in lines)
    s = fidelity.summary(t)
    assert s["within"] == 2 and s["compared"] == s["within"] + s["missed"]
    assert s["not compared"] > 0  # context numbers (doses, literature) are never compared


def test_p_value_factor_rule():
    t = fidelity.fidelity({"risk": {"os_logrank_p": 0.002 * 10 ** 0.25}})
    row = _row(t, "risk.os_logrank_p")
    assert row["status"] == "missed" and "a factor 1.78 apart" in row["reason"]
    assert math.isclose(row["deviation"], 0.25 / 0.2)


def test_errors():
    with pytest.raises(ValueError, match="must be the dictionary"):
        fidelity.fidelity([1, 2])
    with pytest.raises(ValueError, match="expected the table"):
        fidelity.missed(pd.DataFrame({"a": [1]}))


def test_table_cells_compare_every_published_cell():
    from dmnpc.paper import analysis, contract

    df = contract.load_cohort(contract.DEFAULT_COHORT)
    t1 = fidelity.table_cells(df, 1)
    assert len(t1) == len(published.table_counts(1)) and t1["equal"].all()
    risk = analysis.stratify(df).risk
    assert fidelity.table_cells(df, 2, risk)["equal"].all()
    # one patient moved across the age cut breaks exactly the two age cells of its arm
    older = df.copy()
    i = older.index[(older["age"] < 50) & (older["lrrt"] == 1)][0]
    older.loc[i, "age"] = 60.0
    bad = fidelity.table_cells(older, 1)
    assert set(bad.loc[~bad["equal"], "level"]) == {"< 50", "≥ 50"}
    assert set(bad.loc[~bad["equal"], "arm"]) == {"lrrt"}
    with pytest.raises(ValueError, match="Table 2 needs the risk cohort"):
        fidelity.table_cells(df, 2)


def test_format_bounds_as_bounds_and_p_values_at_the_papers_precision():
    # "P >= 0.05" is printed as a bound, not as "0.1"; a P value of 0.151 with three decimals, not "0.2"
    assert fidelity.format_published("p_bound", "ge", 0.05) == "≥ 0.05"
    assert fidelity.format_published("p_bound", "lt", 0.05) == "< 0.05"
    assert fidelity.format_published("hr_bound", "gt", 1.0) == "> 1"
    assert fidelity.format_value("p_bound", 0.151) == "0.151"
    assert fidelity.format_value("p_value", 0.0004) == "< 0.001"
    assert fidelity.format_published("p_table", "abs", 0.121) == "0.121"
    assert fidelity.format_value("proportion", 0.654) == "65.4%"
    assert fidelity.format_value("cutoff", 66600.0) == "66,600"
    assert fidelity.format_value("cutoff", 0.95) == "0.95"
    assert fidelity.format_value("count", 90) == "90"
    assert fidelity.format_value("hr", 2.456) == "2.46"
    assert fidelity.format_value("auc", 0.8431) == "0.843"
    assert fidelity.format_value("median", 29.44) == "29.4"
    assert fidelity.format_value("p_value", float("nan")) == "not estimable"
    assert fidelity.format_value("hr", None) == "not estimable"
    # every bound rule of published.yaml prints with its sign
    pub = published.numbers()
    for r in pub[pub["tolerance_rule"].isin(["ge", "lt", "gt"])].itertuples(index=False):
        assert fidelity.format_published(r.kind, r.tolerance_rule, r.value)[0] in "≥<>"


def test_twin_basis_separates_evidence_from_construction():
    from dmnpc.paper import twin

    targets = {k for k, *_ in twin._targets()}
    pub = published.numbers()
    # a results dictionary holding every published value: every comparable number is compared
    res: dict = {}
    for r in pub.itertuples(index=False):
        node = res
        *path, last = r.key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = float(r.value)
    t = fidelity.fidelity(res)
    b = fidelity.twin_basis(t).set_index("key")
    assert set(b.index) == set(t.loc[t["status"].isin(["within", "missed"]), "key"])
    kinds = t.set_index("key")["kind"]
    for key, row in b.iterrows():
        if kinds[key] == "p_table":  # count-only: targeted nominally, but no time search can move it
            assert row["basis"] == fidelity.BASIS_EVIDENCE and "count-only" in row["why"]
        elif key in targets:
            assert row["basis"] == fidelity.BASIS_CONSTRUCTION and "searched" in row["why"]
    assert b.loc["n", "basis"] == fidelity.BASIS_CONSTRUCTION
    assert b.loc["cutoffs.ebv_dna", "basis"] == fidelity.BASIS_CONSTRUCTION
    assert b.loc["os.surv_24", "basis"] == fidelity.BASIS_CONSTRUCTION
    assert (b["basis"] == fidelity.BASIS_EVIDENCE).sum() == (kinds[b.index] == "p_table").sum()
    with pytest.raises(ValueError, match="expected the table"):
        fidelity.twin_basis(pd.DataFrame({"a": [1]}))
