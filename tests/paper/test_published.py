"""Tests of dmnpc.paper.published: the YAML is complete and internally consistent.

The arithmetic checks here are independent of dmnpc.paper.audit: they re-derive from the
printed tables what the decisions must be (group sizes, LDH denominators, Table 2
low + high = Table 1) rather than trusting the recorded decisions.
"""

import math
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from dmnpc.paper import published
from dmnpc.paper.variables import GROUPINGS, TABLE_ROWS

ARMS = ("lrrt", "no_lrrt")
LEVELS = {g.name: g.levels for g in GROUPINGS}


@pytest.fixture(scope="module")
def raw():
    with open(published.PUBLISHED_YAML, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


# ----------------------------------------------------------------------------- structure
def test_every_number_record_is_complete(raw):
    for rec in raw["numbers"]:
        for field in ("key", "label", "value", "where", "kind", "tolerance"):
            assert field in rec and rec[field] not in (None, ""), (rec, field)
        assert rec["tolerance"] in raw["tolerances"], rec


def test_tolerances_have_rule_and_rationale(raw):
    for name, spec in raw["tolerances"].items():
        assert len(spec["rationale"]) > 30, name
        assert spec.get("rule", "exact") in published._RULES, name
        if spec.get("rule") != "none":
            assert spec["tolerance"] is not None and spec["tolerance"] >= 0, name


def test_numbers_frame_keys_unique_and_columns():
    df = published.numbers()
    assert list(df.columns[:6]) == ["key", "value", "where", "kind", "tolerance", "tolerance_rule"]
    assert not df["key"].duplicated().any()
    assert df["where"].str.len().min() > 0


def test_results_json_keys_present():
    keys = set(published.numbers()["key"])
    expected = {"n", "n_lrrt", "n_no_lrrt", "followup_median_months",
                "os.median_months", "os.surv_12", "os.surv_24", "pfs.median_months", "pfs.surv_12",
                "pfs.surv_24", "os_by_lrrt.surv_24_lrrt", "os_by_lrrt.surv_24_no_lrrt",
                "os_by_lrrt.logrank_p", "pfs_by_lrrt.surv_24_lrrt", "pfs_by_lrrt.surv_24_no_lrrt",
                "pfs_by_lrrt.logrank_p", "cutoffs.ebv_dna", "cutoffs.immuno_cycles",
                "nomogram.c_index", "nomogram.c_index_lower", "nomogram.c_index_upper",
                "nomogram.auc_12", "nomogram.auc_24", "risk.n_low", "risk.n_high", "risk.n_low_lrrt",
                "risk.n_low_no_lrrt", "risk.n_high_lrrt", "risk.n_high_no_lrrt", "risk.os_surv_24_low",
                "risk.os_surv_24_high", "risk.os_logrank_p", "lrrt_in_high.hr", "lrrt_in_high.lower",
                "lrrt_in_high.upper", "lrrt_in_high.p"}
    expected |= {f"table1_p.{v}" for v in TABLE_ROWS}
    assert expected <= keys, expected - keys
    # everything else is namespaced, so it can never clash with a results-JSON key
    toplevel = {"n", "n_lrrt", "n_no_lrrt", "followup_median_months", "os", "pfs", "os_by_lrrt",
                "pfs_by_lrrt", "cutoffs", "table1_p", "nomogram", "risk", "lrrt_in_high",
                "lrrt_in_low", "cox_os", "cox_pfs", "other"}
    assert {k.split(".")[0] for k in keys} <= toplevel


def test_rates_are_proportions_and_tolerances_by_kind():
    df = published.numbers()
    prop = df[df["kind"] == "proportion"]
    assert ((prop["value"] > 0) & (prop["value"] < 1)).all()
    surv = df[df["key"].str.contains("surv_")]
    assert (surv["tolerance_rule"] == "abs").all() and (surv["tolerance"] == 0.02).all()
    assert (df.loc[df["kind"] == "count", "tolerance_rule"] == "exact").all()
    assert (df.loc[(df["kind"] == "hr") & df["key"].str.endswith(".hr"), "tolerance"] == 0.10).all()
    # significance and direction claims of the Cox models are bounds, not estimates
    bounds = df[df["key"].str.startswith(("cox_os.", "cox_pfs."))]
    assert set(bounds["tolerance_rule"]) == {"lt", "gt"}
    assert (bounds.loc[bounds["key"].str.endswith(".p"), "tolerance_rule"] == "lt").all()
    assert (bounds.loc[bounds["key"].str.endswith(".hr"), "value"] == 1.0).all()
    assert len(bounds[bounds["key"].str.startswith("cox_os.")]) == 10


def test_bound_rules():
    assert published.within_tolerance("cox_os.age_high.p", 0.049) is True
    assert published.within_tolerance("cox_os.age_high.p", 0.05) is False
    assert published.within_tolerance("cox_os.age_high.hr", 1.01) is True
    assert published.within_tolerance("cox_os.age_high.hr", 0.99) is False
    assert published.within_tolerance("risk.pfs_logrank_p", 0.05) is True


def test_table_p_values_shape():
    p1, p2 = published.table_p_values(1), published.table_p_values(2)
    assert list(p1.columns) == ["table", "cohort", "variable", "p_printed"]
    assert set(p1["variable"]) == set(TABLE_ROWS) and len(p1) == 15
    assert set(p2["cohort"]) == {"low", "high"} and len(p2) == 28  # ECOG is not in Table 2
    assert ((p2["p_printed"] > 0) & (p2["p_printed"] <= 1)).all()


def test_table1_has_every_grouping_level_and_arm():
    c = published.table_counts(1)
    assert list(c.columns[:9]) == ["table", "cohort", "arm", "variable", "level", "n_printed",
                                   "pct_printed", "n", "decision"]
    for g in GROUPINGS:
        for level in g.levels:
            for arm in ARMS:
                hit = c[(c.variable == g.name) & (c.level == level) & (c.arm == arm)]
                assert len(hit) == 1, (g.name, level, arm)
    assert set(c["cohort"]) == {"all"}


def test_table2_has_both_cohorts():
    c = published.table_counts(2)
    for cohort in ("low", "high"):
        for g in GROUPINGS:
            if g.name == "ecog":
                continue
            for level in g.levels:
                for arm in ARMS:
                    assert len(c[(c.cohort == cohort) & (c.variable == g.name) & (c.level == level)
                                 & (c.arm == arm)]) == 1, (cohort, g.name, level, arm)


def test_levels_are_grouping_levels():
    for t in (1, 2):
        c = published.table_counts(t)
        for r in c.itertuples():
            assert r.level in LEVELS[r.variable] or (r.variable == "ldh" and r.level == "missing")


# ----------------------------------------------------------------------------- arithmetic
def test_group_sizes_agree_with_text():
    s1, s2 = published.group_sizes(1), published.group_sizes(2)
    num = published.numbers().set_index("key")["value"]
    assert s1[("all", "lrrt")] == num["n_lrrt"] and s1[("all", "no_lrrt")] == num["n_no_lrrt"]
    assert s2[("low", "lrrt")] + s2[("low", "no_lrrt")] == num["risk.n_low"]
    assert s2[("high", "lrrt")] + s2[("high", "no_lrrt")] == num["risk.n_high"]
    assert num["n_lrrt"] + num["n_no_lrrt"] == num["n"] == num["risk.n_low"] + num["risk.n_high"]


@pytest.mark.parametrize("table", [1, 2])
def test_decided_levels_sum_to_group_size(table):
    c = published.table_counts(table)
    sizes = published.group_sizes(table)
    sums = c.groupby(["cohort", "arm", "variable"])["n"].sum()
    for (cohort, arm, var), s in sums.items():
        assert s == sizes[(cohort, arm)], (cohort, arm, var)


def test_decided_table2_low_plus_high_equals_table1():
    t1 = published.table_counts(1).set_index(["arm", "variable", "level"])["n"]
    t2 = published.table_counts(2).groupby(["arm", "variable", "level"])["n"].sum()
    assert len(t2) == 2 * sum(len(g.levels) for g in GROUPINGS if g.name != "ecog") + 2  # + LDH missing
    for idx, s in t2.items():
        assert s == t1[idx], idx


def _denominator_from_percentages(cells: pd.DataFrame, group: int) -> int:
    """The denominators d <= group for which every printed percentage is n/d (0.1% rounding)."""
    ds = [d for d in range(1, group + 1)
          if all(abs(100 * r.n_printed / d - r.pct_printed) <= 0.05 + 1e-9 for r in cells.itertuples())]
    assert len(ds) == 1, ds
    return ds[0]


@pytest.mark.parametrize("table", [1, 2])
def test_ldh_missing_matches_percentage_denominators(table):
    """Missing LDH is re-derived from the printed LDH percentages, not read from the decisions."""
    c = published.table_counts(table)
    sizes = published.group_sizes(table)
    for (cohort, arm), g in sizes.items():
        cells = c[(c.cohort == cohort) & (c.arm == arm) & (c.variable == "ldh") & c.n_printed.notna()]
        d = _denominator_from_percentages(cells, g)
        missing = c[(c.cohort == cohort) & (c.arm == arm) & (c.variable == "ldh") & (c.level == "missing")]
        assert int(missing["n"].iloc[0]) == g - d, (cohort, arm)


def test_ldh_missing_total_is_five():
    t1 = published.table_counts(1)
    assert t1.loc[t1.level == "missing", "n"].sum() == (69 - 65) + (21 - 20)


@pytest.mark.parametrize("table", [1, 2])
def test_every_printed_percentage_reproduced_by_decided_count_or_explained(table):
    """GRIM with the decided counts: each printed % is decided n / non-missing denominator,
    unless a recorded note says why the printed percentage is wrong."""
    c = published.table_counts(table)
    sizes = published.group_sizes(table)
    for r in c[c.n_printed.notna()].itertuples():
        miss = c[(c.cohort == r.cohort) & (c.arm == r.arm) & (c.variable == r.variable) & (c.level == "missing")]
        d = sizes[(r.cohort, r.arm)] - (int(miss["n"].iloc[0]) if len(miss) else 0)
        ok = abs(100 * r.n / d - r.pct_printed) <= 0.05 + 1e-9
        assert ok or r.note, (r.cohort, r.arm, r.variable, r.level)
        if r.note:  # a note is only there when the printed percentage really is wrong
            assert not ok


def test_changed_counts_carry_evidence():
    for t in (1, 2):
        c = published.table_counts(t)
        changed = c[c.n_printed.isna() | (c.n != c.n_printed)]
        assert (changed["decision"].str.len() > 20).all()
        unchanged = c[c.n_printed.notna() & (c.n == c.n_printed)]
        assert (unchanged["decision"] == "").all()


# ----------------------------------------------------------------------------- API behaviour
@pytest.mark.parametrize("bad", [0, 3, "1"])
def test_table_number_validated(bad):
    with pytest.raises(ValueError, match="two baseline tables"):
        published.table_counts(bad)
    with pytest.raises(ValueError, match="two baseline tables"):
        published.table_p_values(bad)
    with pytest.raises(ValueError, match="two baseline tables"):
        published.group_sizes(bad)


def test_load_published_is_a_copy():
    a = published.load_published()
    a["numbers"].clear()
    assert len(published.load_published()["numbers"]) > 50


def test_numbers_returns_a_copy():
    df = published.numbers()
    df.loc[0, "value"] = -1
    assert published.numbers().loc[0, "value"] != -1


def test_unknown_tolerance_class():
    with pytest.raises(ValueError, match="unknown tolerance class"):
        published._tolerance("nonsense")


@pytest.mark.parametrize("key,value,expected", [
    ("n", 90, True), ("n", 89, False),
    ("os.surv_24", 0.674, True), ("os.surv_24", 0.6745, False), ("os.surv_24", 0.634, True),
    ("os.median_months", 30.4, True), ("os.median_months", 30.5, False),
    ("nomogram.c_index", 0.884, True), ("nomogram.c_index", 0.8835, False),
    ("nomogram.auc_24", 0.816, True), ("nomogram.auc_24", 0.817, False),
    ("lrrt_in_high.hr", 2.706, True), ("lrrt_in_high.hr", 2.71, False), ("lrrt_in_high.hr", 2.214, True),
    ("lrrt_in_high.upper", 6.9, True), ("lrrt_in_high.upper", 6.95, False),
    ("lrrt_in_high.p", 0.035, True),   # log10(0.049/0.035) = 0.146
    ("lrrt_in_high.p", 0.030, False),  # log10(0.049/0.030) = 0.213
    ("lrrt_in_high.p", 0.051, False),  # wrong side of 0.05
    ("os_by_lrrt.logrank_p", 0.0047, True), ("os_by_lrrt.logrank_p", 0.0048, False),
    ("risk.pfs_logrank_p", 0.30, True), ("risk.pfs_logrank_p", 0.04, False),
    ("table1_p.liver_mets", 0.0057, True), ("table1_p.liver_mets", 0.0044, False),
])
def test_within_tolerance(key, value, expected):
    assert published.within_tolerance(key, value) is expected


def test_within_tolerance_errors():
    with pytest.raises(ValueError, match="reports no number"):
        published.within_tolerance("os.surv_36", 0.5)
    with pytest.raises(ValueError, match="not a finite number"):
        published.within_tolerance("os.surv_24", math.nan)
    with pytest.raises(ValueError, match="not compared with data"):
        published.within_tolerance("other.dose.bone_max_gy", 50)
    with pytest.raises(ValueError, match="must be > 0"):
        published.within_tolerance("lrrt_in_high.p", 0.0)


PAPER = Path("/work/shared/paper/chen2024-dmnpc-nomogram.md")
CELL = r"(\d+) \(([\d.]+)\)"


@pytest.mark.skipif(not PAPER.exists(), reason="paper text not available (only on the project machine)")
def test_tables_transcribed_exactly_from_paper_text():
    """Re-read every printed cell and P value of Tables 1-2 from the paper and compare with the YAML."""
    txt = PAPER.read_text(encoding="utf-8")
    t1 = re.findall(r"^[^\t\n]+\t" + CELL + r"\t" + CELL + r"\t?$", txt, re.M)
    t2 = re.findall(r"^[^\t\n]+\t" + CELL + r"\t" + CELL + r"\t\t" + CELL + r"\t" + CELL + r"\t?$", txt, re.M)
    conv = [int, float] * 4
    paper1 = [tuple(f(x) for f, x in zip(conv, r)) for r in t1]
    paper2 = [tuple(f(x) for f, x in zip(conv, r)) for r in t2]
    c1 = published.table_counts(1)
    c1 = c1[c1.n_printed.notna()]
    ours1 = []
    for _, g in c1.groupby(["variable", "level"], sort=False):
        g = g.set_index("arm")
        ours1.append(tuple(x for arm in ARMS for x in (int(g.n_printed[arm]), g.pct_printed[arm])))
    c2 = published.table_counts(2)
    c2 = c2[c2.n_printed.notna()]
    ours2 = []
    for _, g in c2.groupby(["variable", "level"], sort=False):
        g = g.set_index(["cohort", "arm"])
        ours2.append(tuple(x for k in (("low", "lrrt"), ("low", "no_lrrt"), ("high", "lrrt"), ("high", "no_lrrt"))
                           for x in (int(g.n_printed[k]), g.pct_printed[k])))
    assert ours1 == paper1 and len(paper1) == 30
    assert ours2 == paper2 and len(paper2) == 28
    p1 = [float(x) for x in re.findall(r"^[^\t\n]+\t\t\t([\d.]+)\t?$", txt, re.M)]
    p2 = [(float(a), float(b)) for a, b in re.findall(r"^[^\t\n]+\t\t\t([\d.]+)\t\t\t([\d.]+)\t?$", txt, re.M)]
    assert p1 == list(published.table_p_values(1)["p_printed"])
    tp2 = published.table_p_values(2).set_index(["cohort", "variable"])["p_printed"]
    assert p2 == [(tp2["low", v], tp2["high", v]) for v in tp2["low"].index]


@pytest.mark.skipif(not PAPER.exists(), reason="paper text not available (only on the project machine)")
def test_every_number_in_the_text_is_held():
    """Each number in Abstract .. Results (bar citations, CI level words, software versions, approval
    number and e-mail) equals some published value (as is, or as a proportion)."""
    txt = PAPER.read_text(encoding="utf-8")
    body = re.sub(r"<sup>[^<]*</sup>", "", txt[txt.index("To develop a prognostic"):txt.index("Characteristic\tLRRT")])
    body = re.sub(r"\S+@\S+|V\.24\.0|version 4\.2\.1|K2023-046-01|95% CI", "", body)
    vals = set(published.numbers()["value"].round(4))
    missing = []
    for m in re.finditer(r"\d[\d,]*\.?\d*", body):
        v = float(m.group().rstrip(".").replace(",", ""))
        if not ({v, round(v / 100, 4)} & vals):
            missing.append(body[max(0, m.start() - 30):m.end() + 10])
    assert missing == []
