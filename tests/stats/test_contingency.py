"""Tests for dmnpc.stats.contingency: hand-worked contingency tests, R golden values
(chisq.test, fisher.test; tests/reference/tables.json from ref_tables.R) and errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dmnpc.stats.contingency import categorical_p_values

HERE = Path(__file__).resolve().parents[1]  # tests/
REF = json.loads((HERE / "reference" / "tables.json").read_text())
RTOL = 1e-6


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


# ----------------------------------------------------------------------------- fast exact 2 x k
def _fisher_2xk_enumerated(m) -> float:
    """The former full Freeman-Halton enumeration of every 2 x k table (reference)."""
    from scipy import special

    m = np.asarray(m)
    col = m.sum(axis=0).astype(int)
    r1 = int(m[0].sum())
    n = int(col.sum())
    log_denom = special.gammaln(n + 1) - special.gammaln(r1 + 1) - special.gammaln(n - r1 + 1)

    def logp(a) -> float:
        return float(sum(special.gammaln(c + 1) - special.gammaln(x + 1) - special.gammaln(c - x + 1)
                         for c, x in zip(col, a)) - log_denom)

    lp_obs = logp(m[0].astype(int))
    total = 0.0
    k = col.size
    cap = np.r_[np.cumsum(col[::-1])[::-1], 0]

    def rec(j, remaining, acc):
        nonlocal total
        if j == k - 1:
            if 0 <= remaining <= col[j]:
                lp = logp(acc + [remaining])
                if lp <= lp_obs + np.log(1.0 + 1e-7):
                    total += np.exp(lp)
            return
        for x in range(max(0, remaining - int(cap[j + 1])), min(int(col[j]), remaining) + 1):
            rec(j + 1, remaining - x, acc + [x])

    rec(0, r1, [])
    return float(min(1.0, total))


@pytest.mark.parametrize("seed", range(40))
def test_fast_fisher_equals_enumeration(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 6))
    m = rng.integers(0, int(rng.integers(2, 15)), size=(2, k))
    if seed % 3 == 0:
        m[0] = m[1]  # a table at the mode: p = 1
    m[:, m.sum(axis=0) == 0] = 1
    if m[0].sum() == 0 or m[1].sum() == 0:
        m[0, 0] += 1
        m[1, 1] += 1
    got = categorical_p_values(m, "fisher")["p_fisher"]
    assert got == pytest.approx(_fisher_2xk_enumerated(m), rel=1e-12, abs=1e-300)


def test_fisher_2x3_at_registry_size_is_fast():
    import time

    m = np.array([[20_000, 15_000, 5_210], [19_700, 15_400, 5_050]])  # n = 80,360
    t0 = time.perf_counter()
    r = categorical_p_values(m, "fisher")
    assert time.perf_counter() - t0 < 5.0
    # at this size the exact test and Pearson's chi-square agree closely
    assert 0 < r["p_fisher"] < 1
    assert r["p_fisher"] == pytest.approx(r["p_chisq"], rel=0.05)
    # and the result still matches the full enumeration on a mid-sized table
    m = np.array([[60, 45, 16], [59, 46, 25]])
    assert categorical_p_values(m, "fisher")["p_fisher"] == pytest.approx(_fisher_2xk_enumerated(m), rel=1e-12)


def test_fisher_too_many_partial_tables_is_nan(monkeypatch):
    from dmnpc.stats import contingency

    monkeypatch.setattr(contingency, "_MAX_PARTIAL", 10)
    r = categorical_p_values([[6, 5, 4, 7], [5, 6, 7, 4]], "fisher")
    assert np.isnan(r["p_fisher"]) and np.isnan(r["p"])
    assert r["fisher_method"].startswith("not computed (more than 10 partial tables)")
    assert r["p_chisq"] > 0  # the chi-square test is still there
