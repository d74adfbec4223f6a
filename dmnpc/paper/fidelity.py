"""Fidelity table: every published number beside the value a cohort's analysis gives.

The comparison rules and tolerances are those declared in
:mod:`dmnpc.paper.published` (``published.yaml``), fixed before any cohort existed;
this module only applies them (through :func:`dmnpc.paper.published.within_tolerance`)
and explains each miss. It is used for the synthetic twin (which was built to
reproduce the paper) and for a real cohort (where a miss is a finding).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = ["lookup", "fidelity", "missed", "summary", "table_cells", "format_value", "format_published",
           "twin_basis", "BASIS_EVIDENCE", "BASIS_CONSTRUCTION"]

_STATUSES = ("within", "missed", "not computed", "not compared")


def lookup(results: dict[str, Any], key: str) -> Any:
    """Value at a dotted results-JSON path (``"os.surv_24"`` -> ``results["os"]["surv_24"]``).

    Parameters
    ----------
    results : dict
        Nested results dictionary (:func:`dmnpc.paper.report.compute_results`).
    key : str
        Dotted path.

    Returns
    -------
    object
        The value, or ``None`` if any part of the path is absent.
    """
    node: Any = results
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _deviation(value: float, pub: float, rule: str, tol: float | None) -> float:
    """Distance from the published number in units of its tolerance (0 = identical)."""
    if rule == "exact":
        return 0.0 if value == pub else math.inf
    if rule == "abs":
        d = abs(value - pub)
    elif rule == "rel":
        d = abs(value / pub - 1.0)
    elif rule == "log10_ratio_same_side":
        if value <= 0:
            return math.inf
        d = abs(math.log10(value / pub))
    else:  # bounds (ge, lt, gt): inside or outside only
        return math.nan
    return d / tol if tol else (0.0 if d == 0 else math.inf)


def _reason(key: str, value: float, pub: float, rule: str, tol: float | None) -> str:
    if rule == "exact":
        return f"{value:g} differs from the published {pub:g} (must be equal)"
    if rule == "abs":
        return f"{value:.4g} vs {pub:g}: off by {abs(value - pub):.3g}, more than the tolerance {tol:g}"
    if rule == "rel":
        return f"{value:.4g} vs {pub:g}: off by {100 * abs(value / pub - 1):.1f}%, more than {100 * tol:g}%"
    if rule == "log10_ratio_same_side":
        if (value < 0.05) != (pub < 0.05):
            side = "significant" if pub < 0.05 else "not significant"
            return f"P = {value:.3g} vs {pub:g}: on the other side of 0.05 (published {side})"
        return (f"P = {value:.3g} vs {pub:g}: a factor {max(value / pub, pub / value):.2f} apart, "
                f"more than 10^{tol:g} = {10 ** tol:.2f}")
    if rule == "ge":
        return f"{value:.3g} is below the published bound {pub:g} (reported as not significant)"
    if rule == "lt":
        return f"{value:.3g} is not below {pub:g}"
    if rule == "gt":
        return f"{value:.3g} is not above {pub:g}"
    return f"{value!r} vs {pub!r}"


def _audit_note(key: str) -> str:
    """What the audit of the published counts says about a missed table P value."""
    from dmnpc.paper import audit

    parts = key.split(".")
    table, cohort, var = (1, "all", parts[1]) if parts[0] == "table1_p" else (2, parts[2], parts[3])
    p = audit.audit_p_values()
    hit = p[(p["table"] == table) & (p["cohort"] == cohort) & (p["variable"] == var) & (p["basis"] == "decided")]
    if hit.empty:
        return ""
    r = hit.iloc[0]
    if "fisher" in str(r["matches"]):
        return ""
    names = {"chi2": "the uncorrected chi-square test", "yates": "the Yates-corrected chi-square test"}
    how = "no test" if r["matches"] == "none" else " and ".join(names.get(m, m) for m in str(r["matches"]).split("+"))
    return (f"; the audit shows the printed P is reproduced from the published counts by {how}, not by "
            f"Fisher's exact test (P = {r['p_fisher']:.3f}), so no cohort with these counts can match it")


def fidelity(results: dict[str, Any]) -> pd.DataFrame:
    """Compare every published number with the value at its key in a results dictionary.

    Parameters
    ----------
    results : dict
        Nested results dictionary with the results-JSON layout
        (:func:`dmnpc.paper.report.compute_results`). Keys ``other.<...>`` are looked
        up under ``results["other"]`` when present.

    Returns
    -------
    pandas.DataFrame
        One row per published number, in the order of
        :func:`dmnpc.paper.published.numbers`, with columns ``key``, ``published``,
        ``value`` (ours; NaN when not computed), ``kind``, ``tolerance``,
        ``tolerance_rule``, ``within`` (True/False; None when not compared or
        not computed), ``deviation`` (distance in units of the tolerance; NaN
        for bounds), ``status`` (``"within"``, ``"missed"``, ``"not computed"``,
        ``"not compared"``) and ``reason`` (why a number missed or was not
        compared; '' when within).

    Raises
    ------
    ValueError
        If ``results`` is not a dictionary.
    """
    from dmnpc.paper import published

    if not isinstance(results, dict):
        raise ValueError("results must be the dictionary returned by dmnpc.paper.report.compute_results")
    rows = []
    for rec in published.numbers().itertuples(index=False):
        key, pub, rule = rec.key, float(rec.value), str(rec.tolerance_rule)
        tol = None if rec.tolerance is None or pd.isna(rec.tolerance) else float(rec.tolerance)
        row = {"key": key, "published": pub, "value": math.nan, "kind": rec.kind, "tolerance": tol,
               "tolerance_rule": rule, "within": None, "deviation": math.nan}
        raw = lookup(results, key)
        if rule == "none":
            row.update(status="not compared", reason="context from the paper, not estimable from cohort data")
        elif raw is None or isinstance(raw, (dict, list, str, bool)):
            why = "not in the results (the analysis does not compute it)" if raw is None else \
                f"the results hold a {type(raw).__name__} here, not a number"
            row.update(status="not computed", reason=why)
        else:
            value = float(raw)
            if not math.isfinite(value):
                row.update(value=value, status="missed", within=False,
                           reason="not estimable on this cohort (e.g. median not reached)")
            else:
                ok = bool(published.within_tolerance(key, value))
                row.update(value=value, within=ok, deviation=_deviation(value, pub, rule, tol),
                           status="within" if ok else "missed",
                           reason="" if ok else _reason(key, value, pub, rule, tol))
                if not ok and rec.kind == "p_table":
                    row["reason"] += _audit_note(key)
        rows.append(row)
    return pd.DataFrame(rows, columns=["key", "published", "value", "kind", "tolerance", "tolerance_rule",
                                       "within", "deviation", "status", "reason"])


def missed(table: pd.DataFrame) -> list[str]:
    """The misses of a :func:`fidelity` table, one line each: ``"key: reason"``.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`fidelity`.

    Returns
    -------
    list of str
        Empty when every compared number is within tolerance.
    """
    _check_table(table)
    sel = table[table["status"] == "missed"]
    return [f"{k}: {r}" for k, r in zip(sel["key"], sel["reason"])]


def summary(table: pd.DataFrame) -> dict[str, int]:
    """Counts of each status in a :func:`fidelity` table (plain ints, for glue).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`fidelity`.

    Returns
    -------
    dict
        ``{"within": ..., "missed": ..., "not computed": ..., "not compared": ..., "compared": ...}``.
    """
    _check_table(table)
    out = {s: int((table["status"] == s).sum()) for s in _STATUSES}
    out["compared"] = out["within"] + out["missed"]
    return out


def _check_table(table: pd.DataFrame) -> None:
    if not isinstance(table, pd.DataFrame) or not {"key", "status", "reason"} <= set(table.columns):
        raise ValueError("expected the table returned by dmnpc.paper.fidelity.fidelity(results)")


_BOUND_SIGN = {"ge": "≥", "lt": "<", "gt": ">"}
_P_KINDS = ("p_value", "p_table", "p_bound")


def format_value(kind: str, value: Any) -> str:
    """A number at the precision the paper prints numbers of its ``kind`` (published.yaml's kinds).

    P values with three decimals and ``< 0.001`` below that (the paper's style: 0.003, 0.151);
    proportions as percentages with one decimal; counts as integers; cut points and settings
    as printed (66,600; 0.95); C-index and AUC with three decimals; hazard ratios with two;
    months with one. ``None``/NaN gives ``"not estimable"``.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not estimable"
    v = float(value)
    if kind in _P_KINDS:
        return "< 0.001" if v < 0.001 else f"{v:.3f}"
    if kind == "proportion":
        return f"{100 * v:.1f}%"
    if kind == "count":
        return f"{v:,.0f}"
    if kind in ("cutoff", "context"):
        return f"{v:,g}"
    if kind in ("c_index", "auc"):
        return f"{v:.3f}"
    if kind in ("hr", "hr_ci", "hr_bound"):
        return f"{v:.2f}"
    return f"{v:.1f}"


def format_published(kind: str, rule: str, value: Any) -> str:
    """A published number as the paper states it: a bound as a bound (``≥ 0.05``, ``< 0.05``, ``> 1``).

    The tolerance rules ``ge``, ``lt`` and ``gt`` of published.yaml mark numbers the paper gives
    only as a bound (e.g. "P >= 0.05", "HR > 1"); printing the bound's value alone, at another
    kind's precision, would turn "P >= 0.05" into "0.1". Other numbers: :func:`format_value`.
    """
    if rule in _BOUND_SIGN:
        return f"{_BOUND_SIGN[rule]} {float(value):g}"
    return format_value(kind, value)


#: Labels of :func:`twin_basis`: why a published number agrees on the synthetic twin.
BASIS_EVIDENCE = "evidence"
BASIS_CONSTRUCTION = "by construction"


def twin_basis(table: pd.DataFrame) -> pd.DataFrame:
    """For each compared number, whether its agreement on the twin is evidence or holds by construction.

    The twin (:mod:`dmnpc.paper.twin`) copies the published counts and searches survival
    times to hit the published survival numbers, so an agreement with a number it was built
    to reproduce shows only that the construction worked. The rules, read from the twin's
    construction rather than typed per number:

    * ``p_table`` (the P values of Tables 1-2): a function of the Table 1-2 counts alone. The
      twin copies the counts but not the P values, and no search over times can move them;
      agreement shows that the book applies the paper's test to the paper's counts: evidence.
    * a key among the twin search's targets (:func:`dmnpc.paper.twin._targets`): by construction.
    * an ``exact`` count or proportion (cohort sizes, risk-group membership) or cut point: built
      into the twin (assigned counts, the search's risk-split constraint, EBV DNA and cycle values
      placed so that Youden's index finds the published cut): by construction.
    * anything else compared: not targeted by the construction, so evidence.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`fidelity` table; its ``key``, ``kind``, ``tolerance_rule`` and ``status`` are read.

    Returns
    -------
    pandas.DataFrame
        ``key``, ``basis`` (:data:`BASIS_EVIDENCE` or :data:`BASIS_CONSTRUCTION`) and ``why``,
        for the rows whose status is ``within`` or ``missed``.
    """
    from dmnpc.paper import twin

    _check_table(table)
    targets = {k for k, *_ in twin._targets()}
    rows = []
    for r in table[table["status"].isin(["within", "missed"])].itertuples(index=False):
        if r.kind == "p_table":
            basis, why = BASIS_EVIDENCE, "count-only; the twin copies the counts, not this P value"
        elif r.key in targets:
            basis, why = BASIS_CONSTRUCTION, "the twin's times were searched to hit it"
        elif r.tolerance_rule == "exact" and r.kind in ("count", "proportion"):
            basis, why = BASIS_CONSTRUCTION, "the twin was built with this count"
        elif r.tolerance_rule == "exact" and r.kind == "cutoff":
            basis, why = BASIS_CONSTRUCTION, "the twin's values were placed so that this cut point is found"
        else:
            basis, why = BASIS_EVIDENCE, "not targeted by the twin's construction"
        rows.append({"key": r.key, "basis": basis, "why": why})
    return pd.DataFrame(rows, columns=["key", "basis", "why"])


def table_cells(df: pd.DataFrame, table: int = 1, risk: pd.Series | None = None) -> pd.DataFrame:
    """Every published cell of Table 1 or 2 beside the cohort's count.

    Parameters
    ----------
    df : pandas.DataFrame
        A validated cohort.
    table : {1, 2}
        Table 1 (by LRRT) or Table 2 (by risk cohort and LRRT).
    risk : pandas.Series, optional
        'low'/'high' per patient; required for Table 2.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`dmnpc.paper.published.table_counts` with ``n_cohort``
        (this cohort's count; the level ``missing`` counts missing values) and
        ``equal`` (``n_cohort == n``, the decided count).
    """
    import numpy as np

    from dmnpc.paper import published
    from dmnpc.paper.variables import grouped

    if table == 2 and risk is None:
        raise ValueError("Table 2 needs the risk cohort of every patient (risk='low'/'high')")
    g = grouped(df)
    arm = np.where(df["lrrt"].to_numpy() == 1, "lrrt", "no_lrrt")
    cohort = np.full(len(df), "all") if table == 1 else np.asarray(risk).astype(str)
    t = published.table_counts(table)
    ours = []
    for rec in t.itertuples(index=False):
        col = g.loc[(cohort == rec.cohort) & (arm == rec.arm), rec.variable]
        ours.append(int(col.isna().sum()) if rec.level == "missing" else int((col == rec.level).sum()))
    return t.assign(n_cohort=ours, equal=[a == int(b) for a, b in zip(ours, t["n"])])
