"""Baseline tables (Tables 1 and 2) and the tests behind their P values.

What tableone's ``TableOne`` does here: it counts n (%) per level and arm
(percentages among patients with a known value), adds a per-variable
``Missing`` count (missing LDH is counted, never imputed) and collects one
P value and test name per variable in its ``htest_table``.

What dmnpc adds: the tests themselves, from
:func:`dmnpc.stats.contingency.categorical_p_values` (chi-square with and
without Yates' correction, Fisher's exact test incl. Freeman-Halton, checked
against R), handed to TableOne through its ``htest`` hook; the paper's
groupings (:func:`dmnpc.paper.variables.grouped`: cut points, level order,
levels nobody has left out); and a long table keyed by codes (variable,
level, ``lrrt``/``no_lrrt``) like :func:`dmnpc.paper.published.table_counts`,
so a table built from a cohort sits beside the published one.

:func:`baseline_table` builds Table 1, :func:`table_by_risk_and_lrrt` the same
within each risk cohort (Table 2), :func:`wide_table` the display form. The
audit (:mod:`dmnpc.paper.audit`) applies the same tests to the published counts.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from dmnpc.paper.variables import GROUPINGS, PAPER_CUTOFFS, Cutoffs, Grouping, grouped
from dmnpc.stats.contingency import categorical_p_values, check_test

__all__ = ["baseline_table", "table_by_risk_and_lrrt", "wide_table"]


# ----------------------------------------------------------------------------- Table 1
def _default_arm_names(by: str, values: Sequence) -> dict:
    if by == "lrrt" and set(values) <= {0, 1}:
        return {1: "lrrt", 0: "no_lrrt"}
    return {v: str(v) for v in values}


def baseline_table(df: pd.DataFrame, by: str, groupings: Sequence[Grouping] = GROUPINGS,
                   test: str = "chi2", cutoffs: Cutoffs = PAPER_CUTOFFS,
                   arm_names: Mapping | None = None) -> pd.DataFrame:
    """Baseline characteristics by arm: n (%) per level, P value and test per variable.

    Built with tableone's ``TableOne`` on the paper's grouped variables; the
    P value of each variable comes from
    :func:`~dmnpc.stats.contingency.categorical_p_values` (passed
    to TableOne as its ``htest``), so it can be checked against R.

    Parameters
    ----------
    df : pandas.DataFrame
        A validated cohort (:func:`dmnpc.paper.contract.load_cohort`).
    by : str
        Column defining the arms (e.g. ``"lrrt"``).
    groupings : sequence of Grouping, default all of Table 1
        Row blocks (from :data:`dmnpc.paper.variables.GROUPINGS`).
    test : {"chi2", "chi2_yates", "fisher", "auto"}, default "chi2"
        See :func:`~dmnpc.stats.contingency.categorical_p_values`; the paper says it used the
        chi-square test.
    cutoffs : Cutoffs
        Cut points for the grouped variables (the paper's by default).
    arm_names : mapping, optional
        Value of ``by`` -> arm name; for ``lrrt`` the default is
        ``{1: "lrrt", 0: "no_lrrt"}`` (as :func:`dmnpc.paper.published.table_counts`).

    Returns
    -------
    pandas.DataFrame
        Long format, one row per variable x level x arm: ``variable``
        (grouping name), ``label``, ``level``, ``arm``, ``n``, ``pct``
        (percent of the arm's patients with a known value; NaN on the
        ``"Missing"`` row), ``p`` and ``test`` (repeated on each row of the
        variable). Levels nobody has (e.g. ECOG "≥2") are left out, as in the
        paper. Use :func:`wide_table` for display.

    Raises
    ------
    ValueError
        If ``by`` is not a column, has missing values or fewer than two arms,
        the data are empty, or the test is unknown.

    References
    ----------
    Pollard TJ, Johnson AEW, Raffa JD, Mark RG. tableone: An open source
    Python package for producing summary statistics for research papers.
    JAMIA Open 2018;1:26-31.
    """
    from tableone import TableOne

    test = check_test(test)
    arms = _arms(df, by)
    names = dict(arm_names) if arm_names is not None else _default_arm_names(by, arms)
    order = [a for a in (list(names) if arm_names is not None or by == "lrrt" else arms) if a in arms]
    if len(groupings) == 0:
        raise ValueError("no variables given: expected at least one grouping")
    data = _grouped_data(df, by, groupings, cutoffs)
    results = {g.name: categorical_p_values(pd.crosstab(data["_arm"], data[g.name])
                                            .reindex(index=arms, fill_value=0).to_numpy(), test)
               for g in groupings}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t1 = TableOne(data, columns=[g.name for g in groupings], categorical=[g.name for g in groupings],
                      groupby="_arm", pval=True, htest={k: _htest(r) for k, r in results.items()},
                      htest_name=True, missing=True, overall=False, include_null=False, decimals=1)
    rows = [row for g in groupings for row in _variable_rows(t1, g, results[g.name], order, names)]
    return pd.DataFrame(rows, columns=["variable", "label", "level", "arm", "n", "pct", "p", "test"])


def _arms(df: pd.DataFrame, by: str) -> list:
    """Check the data and the arm column; return the arms' values, sorted."""
    if not isinstance(df, pd.DataFrame) or len(df) == 0:
        raise ValueError("no patients: the data are empty")
    if by not in df.columns:
        raise ValueError(f"column {by!r} not found: expected the column that defines the arms")
    if df[by].isna().any():
        raise ValueError(f"column {by!r} has missing values: every patient needs an arm")
    arms = sorted(pd.unique(df[by]))
    if len(arms) < 2:
        raise ValueError(f"column {by!r} has only one value: a comparison needs two arms")
    return arms


def _grouped_data(df: pd.DataFrame, by: str, groupings: Sequence[Grouping], cutoffs: Cutoffs) -> pd.DataFrame:
    """One categorical column per grouping, and the arm as ``_arm``: what TableOne summarises."""
    # the paper's groups come from dmnpc.paper.variables.grouped; other Grouping objects are applied directly
    g_all = grouped(df, cutoffs) if all(g in GROUPINGS for g in groupings) else pd.DataFrame(index=df.index)
    cols = {}
    for g in groupings:
        cols[g.name] = (g_all[g.name] if g.name in g_all.columns
                        else pd.Categorical(g.assign(df, cutoffs), categories=list(g.levels), ordered=True))
    data = pd.DataFrame(cols, index=df.index)
    data["_arm"] = df[by].to_numpy()
    return data


def _htest(res: dict):
    """A TableOne ``htest`` function returning a computed P value, named after its test."""
    def fn(*groups):
        return res["p"]
    fn.__name__ = res["test"]
    return fn


def _variable_rows(t1, g: Grouping, res: dict, order: list, names: Mapping) -> list[dict]:
    """The long-format rows of one variable: n (%) per level and arm, then Missing counts if any."""
    sub = t1.cat_describe.loc[g.name]
    rows = []
    for lev in [lev for lev in g.levels if lev in sub.index]:
        for a in order:
            rows.append({"variable": g.name, "label": g.label, "level": lev, "arm": names[a],
                         "n": int(sub.loc[lev, ("freq", a)]),
                         "pct": float(sub.loc[lev, ("percent", a)]),
                         "p": float(t1.htest_table.loc[g.name, "P-Value"]),
                         "test": str(t1.htest_table.loc[g.name, "Test"])})
    n_miss = {a: int(np.nan_to_num(sub[("Missing", a)].iloc[0])) for a in order}
    if any(n_miss.values()):
        for a in order:
            rows.append({"variable": g.name, "label": g.label, "level": "Missing", "arm": names[a],
                         "n": n_miss[a], "pct": float("nan"), "p": float(res["p"]), "test": res["test"]})
    return rows


def table_by_risk_and_lrrt(df: pd.DataFrame, risk, by: str = "lrrt",
                           groupings: Sequence[Grouping] = GROUPINGS, test: str = "chi2",
                           cutoffs: Cutoffs = PAPER_CUTOFFS,
                           cohort_order: Sequence[str] = ("low", "high")) -> pd.DataFrame:
    """Table 2: baseline characteristics by LRRT within each risk cohort, with a P value per cohort.

    Parameters
    ----------
    df : pandas.DataFrame
        A validated cohort.
    risk : str or array-like
        Risk cohort label per patient (e.g. ``"low"``/``"high"`` from the
        nomogram), or the name of a column of ``df`` holding it.
    by, groupings, test, cutoffs
        As in :func:`baseline_table`.
    cohort_order : sequence of str
        Cohorts in display order.

    Returns
    -------
    pandas.DataFrame
        The :func:`baseline_table` columns with a leading ``cohort`` column;
        P values are computed separately within each cohort.

    Raises
    ------
    ValueError
        If ``risk`` has the wrong length, missing values or labels outside
        ``cohort_order``.
    """
    if not isinstance(df, pd.DataFrame) or len(df) == 0:
        raise ValueError("no patients: the data are empty")
    if isinstance(risk, str):
        r = df[risk]
    else:
        arr = np.asarray(risk, dtype=object).ravel()
        if arr.size != len(df):
            raise ValueError(f"risk has {arr.size} labels but there are {len(df)} patients")
        r = pd.Series(arr, index=df.index)
    if r.isna().any():
        raise ValueError("risk has missing labels: every patient needs a risk cohort")
    unknown = sorted(set(map(str, r.unique())) - set(cohort_order))
    if unknown:
        raise ValueError(f"unknown risk cohort label(s) {unknown}: expected {list(cohort_order)}")
    parts = []
    for c in cohort_order:
        sub = df[r.astype(str).to_numpy() == c]
        if len(sub) == 0:
            continue
        t = baseline_table(sub, by, groupings=groupings, test=test, cutoffs=cutoffs)
        t.insert(0, "cohort", c)
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


def wide_table(tidy: pd.DataFrame, decimals: int = 1, p_decimals: int = 3) -> pd.DataFrame:
    """Display form of :func:`baseline_table` / :func:`table_by_risk_and_lrrt` output.

    Parameters
    ----------
    tidy : pandas.DataFrame
        Long table from :func:`baseline_table` (optionally with ``cohort``).
    decimals, p_decimals : int
        Decimals of percentages and P values.

    Returns
    -------
    pandas.DataFrame
        One row per variable x level (the P value and test on the variable's
        first row), one ``"n (%)"`` column per (cohort,) arm.
    """
    need = {"variable", "label", "level", "arm", "n", "pct", "p", "test"}
    if not need.issubset(tidy.columns):
        raise ValueError(f"expected the output of baseline_table (columns {sorted(need)})")
    keys = (["cohort"] if "cohort" in tidy.columns else []) + ["arm"]
    t = tidy.copy()
    t["cell"] = [f"{n}" if pd.isna(p) else f"{n} ({p:.{decimals}f})" for n, p in zip(t["n"], t["pct"])]
    t["col"] = t[keys].astype(str).agg(" ".join, axis=1)
    idx = ["label", "level"]
    cells = t.pivot_table(index=idx, columns="col", values="cell", aggfunc="first", sort=False)
    cells = cells[list(dict.fromkeys(t["col"]))]
    out = cells.reset_index()
    first = ~out["label"].duplicated()
    if "cohort" in t.columns:
        for c in dict.fromkeys(t["cohort"]):
            pv = t[t["cohort"] == c].groupby("label", sort=False)["p"].first()
            out[f"{c} P"] = [f"{pv[lab]:.{p_decimals}f}" if f and pd.notna(pv[lab]) else ""
                             for lab, f in zip(out["label"], first)]
    else:
        pv = t.groupby("label", sort=False)["p"].first()
        tv = t.groupby("label", sort=False)["test"].first()
        out["P"] = [f"{pv[lab]:.{p_decimals}f}" if f and pd.notna(pv[lab]) else ""
                    for lab, f in zip(out["label"], first)]
        out["Test"] = [tv[lab] if f else "" for lab, f in zip(out["label"], first)]
    out["label"] = out["label"].where(first, "")
    out.columns.name = None
    return out.rename(columns={"label": "Characteristic", "level": "Level"})
