"""Tests of a contingency table: Pearson's chi-square, Yates' correction, Fisher's exact test.

:func:`categorical_p_values` equals R's ``chisq.test(correct = TRUE/FALSE)`` and
``fisher.test`` (``tests/reference/ref_tables.R``, ``tests/stats/test_contingency.py``).
What it adds over SciPy, which does each test: R's conventions in one call (Yates'
correction only on 2 x 2 tables, capped at |O - E|; empty rows and columns dropped
instead of NaN), and an exact Freeman-Halton test for 2 x k tables with R's
relative tolerance 1e-7 that runs at registry size (a 2 x 3 table with n = 100,000 in
a fraction of a second; SciPy's r x c ``fisher_exact`` is used for larger tables).
A 2 x k table that would need more than 5 million partial tables (k >= 4 with n in
the thousands) gets ``p_fisher`` NaN and says so in ``fisher_method``.
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


#: Largest number of partial tables (first k - 2 columns of a 2 x k table) enumerated
#: for Fisher's exact test; a 2 x 3 table needs at most n + 1 at any n, a 2 x 4 table
#: about (n / 4)^2, so only 2 x k tables with k >= 4 and n in the thousands exceed it.
_MAX_PARTIAL = 5_000_000
#: Tables less likely than the observed one by more than this many log units are
#: skipped: at most e^-80 = 2e-35 times the observed table's probability each, and
#: the p value is at least that probability, so with fewer than 1e15 tables they
#: change it by less than 1e-19 relative.
_NEGLIGIBLE = 80.0


def _fisher_2xk(m: np.ndarray) -> float:
    """Exact (Freeman-Halton) p value for a 2 x k table.

    Sums the probabilities of every table with the observed margins that is at
    most as likely as the observed one (within R's relative 1e-7). The first
    ``k - 2`` columns of the first row are enumerated (vectorised); given them,
    the table's probability as a function of the next cell ``x`` is a
    hypergeometric probability, log-concave in ``x``, so the tables more likely
    than the observed one form an interval of ``x`` (found by bisection with the
    same log probabilities as a full enumeration) and the tables counted are the
    two tails outside it, summed one by one down to :data:`_NEGLIGIBLE`. For a
    2 x 3 table that is ``O(n)`` tables (a window of about +/- 13 standard
    deviations around the most likely table) instead of the ``O(n^2)`` of a
    full enumeration.

    Returns NaN when more than :data:`_MAX_PARTIAL` partial tables would be needed.
    """
    col = m.sum(axis=0).astype(np.int64)
    r1 = int(m[0].sum())
    n = int(col.sum())
    k = col.size
    log_denom = special.gammaln(n + 1) - special.gammaln(r1 + 1) - special.gammaln(n - r1 + 1)

    def term(j: int, x):
        return special.gammaln(col[j] + 1) - special.gammaln(x + 1) - special.gammaln(col[j] - x + 1)

    lp_obs = float(sum(term(j, x) for j, x in enumerate(m[0].astype(np.int64))) - log_denom)
    thr = lp_obs + np.log(_REL_ERR)
    cap = np.r_[np.cumsum(col[::-1])[::-1], 0]  # cells still to fill after column j
    # partial tables: first-row total s and summed log terms of columns 0..k-3
    s = np.zeros(1, np.int64)
    acc = np.zeros(1)
    for j in range(k - 2):
        lo = np.maximum(0, r1 - s - cap[j + 1])
        hi = np.minimum(col[j], r1 - s)
        cnt = np.maximum(hi - lo + 1, 0)
        if cnt.sum() > _MAX_PARTIAL:
            return float("nan")
        par = np.repeat(np.arange(s.size), cnt)
        x = lo[par] + np.arange(par.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        s, acc = s[par] + x, (acc[par] + term(j, x) if j else term(j, x))
    a, b = k - 2, k - 1
    rem = r1 - s
    xlo = np.maximum(0, rem - col[b])
    xhi = np.minimum(col[a], rem)

    def f(x):
        return (acc + term(a, x) if k > 2 else term(a, x)) + term(b, rem - x) - log_denom

    # mode of the hypergeometric: x successes among rem draws from col[a] + col[b]
    mode = np.clip((rem + 1) * (col[a] + 1) // (col[a] + col[b] + 2), xlo, xhi)
    fm = f(mode)
    keep = fm >= thr - _NEGLIGIBLE  # partial tables with a non-negligible table
    acc, rem, xlo, xhi, mode, fm = (v[keep] if np.ndim(v) else v for v in (acc, rem, xlo, xhi, mode, fm))
    L = _bisect(f, xlo, mode, thr, rising=True)  # the more likely tables are x in [L, U]
    U = _bisect(f, mode, xhi, thr, rising=False)
    inner = fm > thr
    L, U = np.where(inner, L, mode + 1), np.where(inner, U, mode)
    L2 = _bisect(f, xlo, mode, thr - _NEGLIGIBLE, rising=True, strict=False)  # window of the
    U2 = _bisect(f, mode, xhi, thr - _NEGLIGIBLE, rising=False, strict=False)  # non-negligible ones
    total = 0.0
    for lo_, hi_ in ((L2, L - 1), (U + 1, U2)):  # the two tails, summed table by table
        cnt = np.maximum(hi_ - lo_ + 1, 0)
        csum = np.cumsum(cnt)
        start = 0
        while start < cnt.size:  # chunks of about 2 million tables
            stop = max(int(np.searchsorted(csum, csum[start] - cnt[start] + 2_000_000, side="right")), start + 1)
            c = cnt[start:stop]
            par = np.repeat(np.arange(start, stop), c)
            x = lo_[par] + np.arange(par.size) - np.repeat(np.cumsum(c) - c, c)
            total += float(np.sum(np.exp(_f_at(acc, rem, x, par, k, term, a, b, log_denom))))
            start = stop
    return float(min(1.0, total))


def _f_at(acc, rem, x, par, k, term, a, b, log_denom):
    """Log probability of the tables (partial ``par``, next cell ``x``), as a full enumeration adds it up."""
    return (acc[par] + term(a, x) if k > 2 else term(a, x)) + term(b, rem[par] - x) - log_denom


def _bisect(f, lo, hi, level, rising: bool, strict: bool = True):
    """End of the run of ``f(x) > level`` (``>=`` if not strict) in ``[lo, hi]`` with ``f`` monotone there.

    ``rising``: ``f`` increases on ``[lo, hi]``; the smallest ``x`` above the level
    (``hi`` if none). Otherwise ``f`` decreases; the largest such ``x`` (``lo`` if none).
    """
    lo, hi = lo.copy(), hi.copy()
    above = (lambda v: v > level) if strict else (lambda v: v >= level)  # noqa: E731
    while np.any(lo < hi):
        if rising:
            mid = (lo + hi) // 2
            up = above(f(mid))
            hi, lo = np.where(up, mid, hi), np.where(up, lo, mid + 1)
        else:
            mid = (lo + hi + 1) // 2
            up = above(f(mid))
            lo, hi = np.where(up, mid, lo), np.where(up, hi, mid - 1)
    return lo


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
        method = _FISHER_RXC
        if 2 in m.shape:
            p_f = _fisher_2xk(m if m.shape[0] == 2 else m.T)
            if np.isnan(p_f):
                method = f"not computed (more than {_MAX_PARTIAL:,} partial tables)"
        else:
            p_f = float(stats.fisher_exact(m.astype(int)).pvalue)
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
