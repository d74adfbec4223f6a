"""Tests of dmnpc.paper.audit: P value routines against R, hand-worked cases, and the audit's findings."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dmnpc.paper import audit, published

REF = Path(__file__).resolve().parents[1] / "reference" / "audit.json"
REL = 1e-6


@pytest.fixture(scope="module")
def ref():
    with open(REF, encoding="utf-8") as fh:
        return json.load(fh)["cases"]


# ----------------------------------------------------------------------------- against R
def test_reference_covers_every_table_p_value(ref):
    n_p = len(published.table_p_values(1)) + len(published.table_p_values(2))
    assert len(ref) == 2 * n_p  # printed and decided counts


def test_p_values_match_r(ref):
    """chisq.test(correct = FALSE / TRUE) and fisher.test on every printed / decided 2 x 2 table."""
    worst = 0.0
    for case in ref:
        ps = audit._p_values(np.array(case["counts"], dtype=float))
        for ours, theirs in (("chi2", "p_chi2"), ("yates", "p_yates"),
                             ("fisher", "p_fisher"), ("min_expected", "min_expected")):
            r = case[theirs]
            assert ps[ours] == pytest.approx(r, rel=REL), (case["table"], case["cohort"], case["variable"], ours)
            worst = max(worst, abs(ps[ours] - r) / abs(r))
    assert worst < REL


def test_audit_p_values_use_the_tables_r_used(ref):
    """audit_p_values builds the same tables from the YAML as the R script did."""
    df = audit.audit_p_values().set_index(["table", "cohort", "variable", "basis"])
    for case in ref:
        row = df.loc[(case["table"], case["cohort"], case["variable"], case["basis"])]
        assert row["p_printed"] == pytest.approx(case["p_printed"], abs=1e-12)
        assert row["p_fisher"] == pytest.approx(case["p_fisher"], rel=REL)
        assert row["p_yates"] == pytest.approx(case["p_yates"], rel=REL)
        assert row["p_chi2"] == pytest.approx(case["p_chi2"], rel=REL)


# ----------------------------------------------------------------------------- hand-worked cases
def test_fisher_single_patient_exact():
    """ECOG in Table 1: one ECOG-0 patient among 90; P(the one lands in the 21 without-LRRT) = 21/90.
    The other table (the patient in the LRRT arm) has probability 69/90 > 21/90, so two-sided P = 21/90."""
    ps = audit._p_values(np.array([[0, 1], [69, 20]]))
    assert ps["fisher"] == pytest.approx(21 / 90, rel=1e-12)
    # chi-square: E = (1*69/90, 1*21/90, ...); X2 = N (ad - bc)^2 / (r1 r2 c1 c2) = 90 * 69^2 / (1*89*69*21)
    x2 = 90 * 69 ** 2 / (1 * 89 * 69 * 21)
    assert ps["chi2"] == pytest.approx(math.erfc(math.sqrt(x2 / 2)), rel=1e-12)
    assert ps["min_expected"] == pytest.approx(21 / 90, rel=1e-12)


def test_balanced_table_p_is_one():
    ps = audit._p_values(np.array([[10, 10], [10, 10]]))
    assert ps["chi2"] == pytest.approx(1.0) and ps["yates"] == pytest.approx(1.0) and ps["fisher"] == pytest.approx(1.0)


def test_yates_hand_computed():
    """[[12, 2], [57, 19]]: |ad - bc| = |228 - 114| = 114; Yates X2 = N (|ad-bc| - N/2)^2 / (r1 r2 c1 c2)."""
    a, b, c, d = 12, 2, 57, 19
    n = a + b + c + d
    x2 = n * (abs(a * d - b * c) - n / 2) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d))
    ps = audit._p_values(np.array([[a, b], [c, d]]))
    assert ps["yates"] == pytest.approx(math.erfc(math.sqrt(x2 / 2)), rel=1e-12)


def test_empty_level_is_dropped():
    """An unprinted level with no patients (ECOG >= 2) does not change the test."""
    with_empty = audit._p_values(np.array([[0, 1], [69, 20], [0, 0]]))
    without = audit._p_values(np.array([[0, 1], [69, 20]]))
    assert with_empty == without


@pytest.mark.parametrize("bad,msg", [
    (np.array([1, 2, 3]), "two-way table"),
    (np.array([[1, -1], [2, 3]]), "non-negative whole numbers"),
    (np.array([[1.5, 1], [2, 3]]), "non-negative whole numbers"),
    (np.array([[5, 3], [0, 0]]), "at least two non-empty levels"),
    (np.array([[5, 0], [3, 0]]), "at least two non-empty levels"),
])
def test_p_values_input_errors(bad, msg):
    with pytest.raises(ValueError, match=msg):
        audit._p_values(bad)


@pytest.mark.parametrize("n,d,pct,ok", [
    (26, 32, 81.3, True),   # 81.25: half-up rounding
    (26, 32, 81.2, True),   # 81.25: half-even rounding
    (18, 37, 48.6, True), (18, 37, 49.6, False),
    (0, 14, 0.0, True), (14, 14, 100.0, True),
])
def test_grim_percent(n, d, pct, ok):
    assert audit._pct_ok(n, d, pct) is ok


# ----------------------------------------------------------------------------- audit findings
def test_audit_counts_columns_and_decided_checks_pass():
    ac = audit.audit_counts()
    assert list(ac.columns) == ["table", "cohort", "arm", "variable", "level", "check", "printed",
                                "expected", "ok", "evidence"]
    for check in ("levels_sum_decided", "table2_sums_table1_decided"):
        sub = ac[ac.check == check]
        assert len(sub) > 0 and sub["ok"].all(), check
    assert (ac.loc[~ac.ok, "evidence"].str.len() > 20).all()


def test_audit_finds_the_known_table_errors():
    """The cells found wrong by reading the paper by hand (before this module existed)."""
    ac = audit.audit_counts()
    pct = ac[(ac.check == "percent") & ~ac.ok]
    got = set(zip(pct.table, pct.cohort, pct.arm, pct.variable, pct.level))
    assert got == {("2", "high", "lrrt", "age", "< 50"), ("2", "high", "no_lrrt", "age", "≥ 50"),
                   ("2", "high", "lrrt", "met_lesions", "Multiple"), ("2", "high", "lrrt", "chemo_cycles", "≥ 6")}
    sums = ac[(ac.check == "levels_sum") & ~ac.ok]
    assert set(zip(sums.cohort, sums.arm, sums.variable)) == {("high", "lrrt", "met_lesions")}
    cross = ac[(ac.check == "table2_sums_table1") & ~ac.ok]
    assert set(zip(cross.arm, cross.variable, cross.level)) == {("lrrt", "met_lesions", "Multiple")}
    ldh = ac[(ac.check == "levels_sum") & (ac.variable == "ldh")]
    assert ldh["ok"].all()
    short = ldh[ldh.printed.astype(int) < ldh.expected.astype(int)]
    assert len(short) == 5 and short["evidence"].str.contains("missing").all()  # only high-risk without-LRRT is complete


def test_audit_detects_an_injected_error(monkeypatch):
    """A count changed in the printed table must break the sum, percent and cross-table checks."""
    real = published.table_counts

    def fake(table):
        c = real(table)
        if table == 1:
            i = c.index[(c.variable == "sex") & (c.level == "Male") & (c.arm == "lrrt")][0]
            c.loc[i, "n_printed"] = 57.0
            c.loc[i, "n"] = 57
        return c

    monkeypatch.setattr(published, "table_counts", fake)
    ac = audit.audit_counts()
    bad = ac[~ac.ok & (ac.variable == "sex")]
    assert {"levels_sum", "percent", "table2_sums_table1", "levels_sum_decided",
            "table2_sums_table1_decided"} <= set(bad.check)


def test_printed_p_values_mostly_fisher():
    counts = audit.p_value_match_counts("decided")
    assert counts["n"] == 43
    pv = audit.audit_p_values()
    dec = pv[pv.basis == "decided"].set_index(["table", "cohort", "variable"])
    # the unmatched ones, found by hand
    none = set(dec.index[dec.matches == "none"])
    assert none == {(2, "low", "bone_mets"), (2, "high", "t_stage")}
    assert dec.loc[(1, "all", "lung_mets"), "matches"] == "yates"
    assert counts["fisher"] == 43 - 2 - 1
    assert counts["none"] == 2


def test_decided_lesion_count_restores_fisher_match():
    pv = audit.audit_p_values().set_index(["table", "cohort", "variable", "basis"])
    assert pv.loc[(2, "high", "met_lesions", "printed"), "matches"] == "none"
    assert pv.loc[(2, "high", "met_lesions", "decided"), "matches"] == "fisher"


def test_match_counts_basis_validated():
    with pytest.raises(ValueError, match="basis must be"):
        audit.p_value_match_counts("other")


def test_summary_is_plain_text():
    s = audit.audit_summary()
    assert all(isinstance(x, str) and len(x) > 40 for x in s)
    text = " ".join(s)
    for phrase in ("Fisher", "LDH is missing for 5", "31", "0.666", "0.739", "non-LRRT"):
        assert phrase in text, phrase


def test_table_search_uses_r_equal_p_values(ref):
    """The search over 2 x 2 tables (_p_for_any_table) tests integer tables as R does, and finds the table itself."""
    for case in ref:
        (a, b), (c, d) = case["counts"]
        if min(a + b, c + d, a + c, b + d) == 0:
            continue
        fast = audit._p_values([[int(a), int(b)], [int(c), int(d)]])
        for t in audit.TESTS:
            assert fast[t] == pytest.approx(case["p_chi2" if t == "chi2" else f"p_{t}"], rel=REL)
    (a, b), (c, d) = min((case["counts"] for case in ref), key=lambda m: sum(map(sum, m)))  # a quick search
    p_fisher = audit._p_values([[a, b], [c, d]])["fisher"]
    assert (a, b, "fisher") in audit._p_for_any_table(round(p_fisher, 3), a + c, b + d)
