"""Tests of a contingency table: Pearson's chi-square, Yates' correction, Fisher's exact test.

:func:`categorical_p_values` equals R's ``chisq.test(correct = TRUE/FALSE)`` and
``fisher.test`` (``tests/reference/ref_tables.R``, ``tests/stats/test_contingency.py``).
What it adds over SciPy, which does each test: R's conventions in one call (Yates'
correction only on 2 x 2 tables, capped at |O - E|; empty rows and columns dropped
instead of NaN), and an exact Freeman-Halton enumeration for 2 x k tables with R's
relative tolerance 1e-7 (SciPy's r x c ``fisher_exact`` is used for larger tables).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special, stats

__all__ = ["TESTS", "categorical_p_values", "check_test"]

#: Accepted values of ``test`` and the name each is reported under.
TESTS: dict[str, str] = {
    "chi2": "Pearson chi-square",
    "chi2_yates": "Chi-square with Yates' correction",
    "fisher": "Fisher's exact",
    "auto": "",
}
_FISHER_RXC = "Fisher-Freeman-Halton exact"
# R's fisher.test counts tables whose probability is within a relative 1e-7 of the observed one
_REL_ERR = 1.0 + 1e-7


def check_test(test: str) -> str:
    """Validate the name of a test (a key of :data:`TESTS`)."""
    if test not in TESTS:
        raise ValueError(f"test must be one of {list(TESTS)}, got {test!r}")
    return test


def _fisher_2xk(m: np.ndarray) -> float:
    """Exact (Freeman-Halton) p value for a 2 x k table by full enumeration."""
    col = m.sum(axis=0).astype(int)
    r1 = int(m[0].sum())
    n = int(col.sum())
    log_denom = special.gammaln(n + 1) - special.gammaln(r1 + 1) - special.gammaln(n - r1 + 1)

    def logp(a: Sequence[int]) -> float:
        return float(sum(special.gammaln(c + 1) - special.gammaln(x + 1) - special.gammaln(c - x + 1)
                         for c, x in zip(col, a)) - log_denom)

    lp_obs = logp(m[0].astype(int))
    total = 0.0
    k = col.size
    # suffix capacity to prune impossible partial tables
    cap = np.r_[np.cumsum(col[::-1])[::-1], 0]

    def rec(j: int, remaining: int, acc: list[int]) -> None:
        nonlocal total
        if j == k - 1:
            if 0 <= remaining <= col[j]:
                lp = logp(acc + [remaining])
                if lp <= lp_obs + np.log(_REL_ERR):
                    total += np.exp(lp)
            return
        lo = max(0, remaining - int(cap[j + 1]))
        hi = min(int(col[j]), remaining)
        for x in range(lo, hi + 1):
            rec(j + 1, remaining - x, acc + [x])

    rec(0, r1, [])
    return float(min(1.0, total))


def categorical_p_values(counts, test: str = "auto") -> dict:
    """Chi-square (with and without Yates' correction) and Fisher's exact test for a table.

    Parameters
    ----------
    counts : array-like of int, shape (r, c)
        Contingency table, e.g. rows = arms, columns = levels (2 x k), as
        printed in Table 1. Rows and columns that are zero throughout (a level
        nobody has) are dropped first; R would return NaN for them.
    test : {"auto", "chi2", "chi2_yates", "fisher"}, default "auto"
        Which test fills ``p`` and ``test``: ``"chi2"`` Pearson without
        correction; ``"chi2_yates"`` Pearson with Yates' continuity correction
        (applied, as R does, to 2 x 2 tables only; R's ``chisq.test`` default);
        ``"fisher"`` Fisher's exact test; ``"auto"`` Fisher's exact test when
        any expected count is below 5, else Pearson without correction (the
        textbook rule; tableone uses the same rule for 2 x 2 tables).

    Returns
    -------
    dict
        Plain floats: ``chisq``, ``df``, ``p_chisq`` (Pearson),
        ``chisq_yates``, ``p_chisq_yates`` (equal to Pearson for tables larger
        than 2 x 2), ``p_fisher``, ``min_expected``; ``fisher_method``
        (two-sided 2 x 2 via SciPy, or exact enumeration of all 2 x k tables
        with the observed margins -- the Freeman-Halton extension, summing
        the probabilities of tables no more probable than the observed one,
        with R's relative tolerance 1e-7); and ``p``/``test`` for the chosen test.
        Tables with more than two rows and more than two columns use SciPy's
        exact r x c test.

    Raises
    ------
    ValueError
        For negative or non-integer counts, a non-2-D table, or an unknown test.

    References
    ----------
    Pearson K. On the criterion that a given system of deviations ... Philos
    Mag 1900;50:157-175. Yates F. Contingency tables involving small numbers
    and the chi-square test. Suppl J R Stat Soc 1934;1:217-235.
    Fisher RA. On the interpretation of chi-square from contingency tables.
    J R Stat Soc 1922;85:87-94. Freeman GH, Halton JH. Note on an exact
    treatment of contingency, goodness of fit and other problems of
    significance. Biometrika 1951;38:141-149.
    """
    test = check_test(test)
    m = np.asarray(counts, dtype=float)
    if m.ndim != 2:
        raise ValueError("counts must be a two-way table (rows = groups, columns = levels)")
    if np.isnan(m).any() or (m < 0).any() or not np.allclose(m, np.round(m)):
        raise ValueError("counts must be non-negative whole numbers")
    m = m[m.sum(axis=1) > 0][:, m.sum(axis=0) > 0]
    nan = float("nan")
    out = {"chisq": nan, "df": nan, "p_chisq": nan, "chisq_yates": nan, "p_chisq_yates": nan,
           "p_fisher": nan, "min_expected": nan, "fisher_method": "", "p": nan,
           "test": "not testable (fewer than two groups or levels with patients)"}
    if m.shape[0] < 2 or m.shape[1] < 2:
        return out
    n = m.sum()
    e = np.outer(m.sum(axis=1), m.sum(axis=0)) / n
    df = (m.shape[0] - 1) * (m.shape[1] - 1)
    x2 = float(((m - e) ** 2 / e).sum())
    if m.shape == (2, 2):
        dev = np.abs(m - e)
        x2y = float(((dev - np.minimum(0.5, dev)) ** 2 / e).sum())  # R: YATES = min(0.5, |O - E|)
        p_f = float(stats.fisher_exact(m.astype(int)).pvalue)
        method = "Fisher's exact (2 x 2)"
    else:
        x2y = x2
        if 2 in m.shape:
            p_f = _fisher_2xk(m if m.shape[0] == 2 else m.T)
        else:
            p_f = float(stats.fisher_exact(m.astype(int)).pvalue)
        method = _FISHER_RXC
    out.update(chisq=x2, df=float(df), p_chisq=float(stats.chi2.sf(x2, df)), chisq_yates=x2y,
               p_chisq_yates=float(stats.chi2.sf(x2y, df)), p_fisher=p_f,
               min_expected=float(e.min()), fisher_method=method)
    chosen = test
    if test == "auto":
        chosen = "fisher" if e.min() < 5 else "chi2"
    if chosen == "chi2":
        out["p"], out["test"] = out["p_chisq"], TESTS["chi2"]
    elif chosen == "chi2_yates":
        out["p"] = out["p_chisq_yates"]
        out["test"] = TESTS["chi2_yates"] if m.shape == (2, 2) else TESTS["chi2"]
    else:
        out["p"], out["test"] = p_f, (TESTS["fisher"] if m.shape == (2, 2) else _FISHER_RXC)
    return out
