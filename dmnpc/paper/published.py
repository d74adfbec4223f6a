"""The numbers Chen et al. (2024) report, with where each appears and how closely we must match it.

Everything lives in ``published.yaml`` next to this module: scalar numbers
(keys are results-JSON paths, e.g. ``os.surv_24``, ``lrrt_in_high.hr``,
``nomogram.c_index``; others ``other.<...>``), Tables 1 and 2 as printed, and
our decisions on the cells the paper gets wrong (see :mod:`dmnpc.paper.audit`).
Tolerances were fixed in the YAML before any cohort existed.

References
----------
Chen Y, Chen C, Peng H, et al. Risk-adapted locoregional radiotherapy strategies
based on a prognostic nomogram for de novo metastatic nasopharyngeal carcinoma
patients treated with chemoimmunotherapy. Sci Rep. 2024;14:3950.
doi:10.1038/s41598-024-54230-6
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from dmnpc.paper.variables import GROUPINGS, LABELS

__all__ = ["PUBLISHED_YAML", "load_published", "numbers", "table_counts", "table_p_values",
           "group_sizes", "within_tolerance"]

#: Path of the YAML file holding the published numbers.
PUBLISHED_YAML = Path(__file__).resolve().parent / "published.yaml"

_ARMS = ("lrrt", "no_lrrt")
_RULES = {"exact", "abs", "rel", "log10_ratio_same_side", "ge", "lt", "gt", "none"}
_LEVELS = {g.name: g.levels for g in GROUPINGS}
_GROUP_LABELS = {g.name: g.label for g in GROUPINGS}
#: Levels that exist in the decisions but are not GROUPINGS levels (never printed).
_EXTRA_LEVELS = {"ldh": ("missing",)}


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    with open(PUBLISHED_YAML, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_published() -> dict[str, Any]:
    """Return the parsed ``published.yaml`` (a fresh deep copy, safe to modify).

    Returns
    -------
    dict
        Keys ``tolerances``, ``numbers``, ``tables``, ``decisions``, ``notes``.

    References
    ----------
    Chen et al., Sci Rep 2024;14:3950.
    """
    import copy
    return copy.deepcopy(_raw())


def _check_table(table: int) -> int:
    if table not in (1, 2):
        raise ValueError(f"the paper has two baseline tables: table must be 1 or 2, not {table!r}")
    return int(table)


def _tolerance(name: str) -> tuple[float | None, str, str]:
    tol = _raw()["tolerances"]
    if name not in tol:
        raise ValueError(f"unknown tolerance class {name!r}: expected one of {sorted(tol)}")
    spec = tol[name]
    rule = spec.get("rule", "exact")
    value = spec.get("tolerance")
    return (None if value is None else float(value)), rule, spec["rationale"]


@lru_cache(maxsize=1)
def _numbers() -> pd.DataFrame:
    raw = _raw()
    rows = []
    for rec in raw["numbers"]:
        tol, rule, why = _tolerance(rec["tolerance"])
        rows.append({"key": rec["key"], "value": float(rec["value"]), "where": rec["where"],
                     "kind": rec["kind"], "tolerance": tol, "tolerance_rule": rule,
                     "tolerance_class": rec["tolerance"], "rationale": why,
                     "note": rec.get("note", ""), "label": rec["label"]})
    # Table P values as scalar numbers too: table1_p.<variable> (results-JSON keys) and
    # other.table2_p.<cohort>.<variable>.
    tol, rule, why = _tolerance("p_table")
    for table in (1, 2):
        for cohort, block in raw["tables"][table]["cohorts"].items():
            for var, row in block["rows"].items():
                key = f"table1_p.{var}" if table == 1 else f"other.table2_p.{cohort}.{var}"
                where = (f"Table 1, {var}, P" if table == 1 else f"Table 2, {cohort}-risk, {var}, P")
                rows.append({"key": key, "value": float(row["p"]), "where": where, "kind": "p_table",
                             "tolerance": tol, "tolerance_rule": rule, "tolerance_class": "p_table",
                             "rationale": why, "note": "",
                             "label": f"{_GROUP_LABELS[var]}: P" if table == 1
                             else f"{LABELS[cohort]}, {_GROUP_LABELS[var]}: P"})
    return pd.DataFrame(rows)


def numbers() -> pd.DataFrame:
    """Every scalar number the paper reports.

    Returns
    -------
    pandas.DataFrame
        Columns ``key`` (results-JSON path or ``other.<...>``), ``value`` (float; rates as
        proportions), ``where`` (location in the paper), ``kind``, ``tolerance`` (float or
        None), ``tolerance_rule`` (``exact``, ``abs``, ``rel``, ``log10_ratio_same_side``,
        ``ge`` or ``none``), ``tolerance_class``, ``rationale``, ``note``, ``label`` (short
        display name, the row label of the chapters' comparison tables).

    References
    ----------
    Chen et al., Sci Rep 2024;14:3950.
    """
    return _numbers().copy()


def group_sizes(table: int) -> dict[tuple[str, str], int]:
    """Group sizes of a table's columns, ``{(cohort, arm): n}``.

    Parameters
    ----------
    table : int
        1 (cohort ``all``) or 2 (cohorts ``low`` and ``high``).

    Returns
    -------
    dict
        E.g. ``{("all", "lrrt"): 69, ("all", "no_lrrt"): 21}`` for Table 1.
    """
    table = _check_table(table)
    out = {}
    for cohort, block in _raw()["tables"][table]["cohorts"].items():
        for arm in _ARMS:
            out[(cohort, arm)] = int(block["groups"][arm])
    return out


@lru_cache(maxsize=2)
def _table_counts(table: int) -> pd.DataFrame:
    raw = _raw()
    decisions = {(d["table"], d["cohort"], d["arm"], d["variable"], d["level"]): d
                 for d in raw["decisions"]}
    notes = {(d["table"], d["cohort"], d["arm"], d["variable"], d["level"]): d["note"]
             for d in raw.get("notes", [])}
    rows = []
    for cohort, block in raw["tables"][table]["cohorts"].items():
        for var, row in block["rows"].items():
            levels = tuple(_LEVELS[var]) + _EXTRA_LEVELS.get(var, ())
            for level in levels:
                for arm in _ARMS:
                    printed = row["levels"].get(level, {}).get(arm)
                    key = (table, cohort, arm, var, level)
                    dec = decisions.get(key)
                    if printed is None and dec is None:
                        continue  # a level the table neither prints nor implies (none at present)
                    n_printed = float(printed[0]) if printed is not None else math.nan
                    pct = float(printed[1]) if printed is not None else math.nan
                    n = int(dec["n_decided"]) if dec is not None else int(printed[0])
                    rows.append({"table": table, "cohort": cohort, "arm": arm, "variable": var,
                                 "level": level, "n_printed": n_printed, "pct_printed": pct, "n": n,
                                 "decision": dec["decision"] if dec is not None else "",
                                 "note": notes.get(key, "")})
    return pd.DataFrame(rows)


def table_counts(table: int) -> pd.DataFrame:
    """Cell counts of Table 1 or Table 2: printed, and our decided true count.

    Parameters
    ----------
    table : int
        1 or 2.

    Returns
    -------
    pandas.DataFrame
        One row per cohort x arm x variable x level with columns ``table``, ``cohort``
        (``'all'`` for Table 1, ``'low'``/``'high'`` for Table 2), ``arm`` (``'lrrt'``,
        ``'no_lrrt'``), ``variable`` (a :data:`dmnpc.paper.variables.GROUPINGS` name), ``level``
        (its label), ``n_printed`` and ``pct_printed`` (NaN where the paper prints nothing),
        ``n`` (decided true count), ``decision`` (evidence; '' when the printed count stands)
        and ``note`` (evidence about a wrong printed percentage whose count stands).
        Unprinted cells that the tables imply are included: ECOG "≥2" (0) in Table 1 and LDH
        level ``'missing'`` in both tables, so every variable's decided ``n`` sums to its
        group size. Table 2 has no ECOG rows (the paper omits ECOG there).

    References
    ----------
    Chen et al., Sci Rep 2024;14:3950, Tables 1-2.
    """
    return _table_counts(_check_table(table)).copy()


def table_p_values(table: int) -> pd.DataFrame:
    """Printed P values of Table 1 or Table 2.

    Parameters
    ----------
    table : int
        1 or 2.

    Returns
    -------
    pandas.DataFrame
        Columns ``table``, ``cohort``, ``variable``, ``p_printed``.
    """
    table = _check_table(table)
    rows = [{"table": table, "cohort": cohort, "variable": var, "p_printed": float(row["p"])}
            for cohort, block in _raw()["tables"][table]["cohorts"].items()
            for var, row in block["rows"].items()]
    return pd.DataFrame(rows)


def within_tolerance(key: str, value: float) -> bool:
    """Whether ``value`` agrees with the published number ``key`` under its declared rule.

    Parameters
    ----------
    key : str
        A key of :func:`numbers` (e.g. ``"os.surv_24"``).
    value : float
        Our estimate (proportion for rates, months for times).

    Returns
    -------
    bool
        ``exact``: equal; ``abs``: ``|value - pub| <= tol``; ``rel``: ``|value/pub - 1| <= tol``;
        ``log10_ratio_same_side``: same side of 0.05 and ``|log10(value/pub)| <= tol``;
        ``ge``: ``value >= pub`` (a reported "not significant" bound); ``lt``: ``value < pub``
        (a reported "significant" bound); ``gt``: ``value > pub`` (a reported direction, HR > 1).

    Raises
    ------
    ValueError
        Unknown key, a non-finite value, or a number that is not compared (context).
    """
    df = _numbers()
    hit = df[df["key"] == key]
    if hit.empty:
        raise ValueError(f"the paper reports no number called {key!r}")
    rec = hit.iloc[0]
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"cannot compare {key!r}: our value is {value}, not a finite number")
    pub, rule = float(rec["value"]), str(rec["tolerance_rule"])
    tol = None if rec["tolerance"] is None or pd.isna(rec["tolerance"]) else float(rec["tolerance"])
    if rule == "none":
        raise ValueError(f"{key!r} is context from the paper ({rec['where']}); it is not compared with data")
    if rule == "exact":
        return value == pub
    if rule == "abs":
        return abs(value - pub) <= tol + 1e-12
    if rule == "rel":
        return abs(value / pub - 1.0) <= tol + 1e-12
    if rule == "ge":
        return value >= pub
    if rule == "lt":
        return value < pub
    if rule == "gt":
        return value > pub
    if rule == "log10_ratio_same_side":
        if value <= 0:
            raise ValueError(f"a P value must be > 0 to compare on the log scale; got {value} for {key!r}")
        return bool(((value < 0.05) == (pub < 0.05)) and abs(math.log10(value / pub)) <= tol + 1e-12)
    raise ValueError(f"unknown tolerance rule {rule!r} for {key!r}")  # pragma: no cover
