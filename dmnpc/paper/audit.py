"""Audit of the published tables: do the printed counts, percentages and P values agree?

Three families of checks on Tables 1 and 2 of Chen et al. (2024), all computed
from ``published.yaml`` (nothing here is typed in by hand):

* arithmetic (:func:`audit_counts`): the levels of a variable sum to the group
  size; each printed percentage equals count / denominator at the printed
  rounding (the GRIM idea of Brown & Heathers 2017); Table 2 low-risk + high-risk
  equals Table 1; and a few checks of the text against the tables;
* P values (:func:`audit_p_values`): every table P value recomputed from the
  printed and from the decided counts with Pearson's chi-square test without and
  with Yates' continuity correction and with Fisher's exact test
  (:func:`dmnpc.stats.contingency.categorical_p_values`, equal to R), and which
  of them reproduces the printed value;
* :func:`audit_summary`: the inconsistencies in plain language.

References
----------
Brown NJL, Heathers JAJ. The GRIM test: a simple technique detects numerous
anomalies in the reporting of results in psychology. Soc Psychol Personal Sci.
2017;8:363-369.
Pearson K. On the criterion that a given system of deviations ... Philos Mag.
1900;50:157-175. Yates F. Contingency tables involving small numbers and the
chi-square test. Suppl J R Stat Soc. 1934;1:217-235. Fisher RA. On the
interpretation of chi-square from contingency tables, and the calculation of P.
J R Stat Soc. 1922;85:87-94.
Chen et al., Sci Rep 2024;14:3950.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from dmnpc.paper import published
from dmnpc.stats._validate import z_value
from dmnpc.stats.contingency import categorical_p_values

__all__ = ["TESTS", "audit_counts", "audit_p_values", "p_value_match_counts", "audit_summary"]

#: The tests tried against each printed P value, in the order reported.
TESTS: tuple[str, ...] = ("chi2", "yates", "fisher")
_ARMS = ("lrrt", "no_lrrt")
_ARM_LABEL = {"lrrt": "LRRT", "no_lrrt": "without-LRRT"}
_COHORT_LABEL = {"all": "Table 1", "low": "Table 2 low-risk", "high": "Table 2 high-risk"}
#: Half a unit in the last printed digit (percentages to 0.1, P values to 0.001).
_PCT_HALF = 0.05
_P_HALF = 0.0005
_EPS = 1e-9


# --------------------------------------------------------------------------- P value helpers
#: The audit's name of each test -> its P value in categorical_p_values' result.
_P_KEY = {"chi2": "p_chisq", "yates": "p_chisq_yates", "fisher": "p_fisher"}


def _p_values(counts) -> dict[str, float]:
    """The P value of each of :data:`TESTS` and the smallest expected count of one table.

    :func:`dmnpc.stats.contingency.categorical_p_values` (equal to R's ``chisq.test``
    and ``fisher.test``) does the tests; empty levels (e.g. ECOG >= 2) are dropped.
    A printed P value needs a testable table, so one with fewer than two non-empty
    levels or groups is an error here, not NaN.
    """
    res = categorical_p_values(counts)
    if math.isnan(res["p_chisq"]):
        raise ValueError("need at least two non-empty levels and two non-empty groups to test")
    return {**{t: res[k] for t, k in _P_KEY.items()}, "min_expected": res["min_expected"]}


def _matches(p_printed: float, ps: dict[str, float]) -> list[str]:
    return [t for t in TESTS if math.isfinite(ps[t]) and abs(ps[t] - p_printed) <= _P_HALF + _EPS]


def _fmt(x: float) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:g}"


# --------------------------------------------------------------------------- counts
def _pct_ok(n: float, d: float, pct: float) -> bool:
    return d > 0 and abs(100.0 * n / d - pct) <= _PCT_HALF + _EPS


def _pct_evidence(n: int, d: int, pct: float, block: pd.DataFrame, level: str, arm: str) -> str:
    """Say what a wrong percentage could be instead."""
    hints = []
    ks = [k for k in range(d + 1) if _pct_ok(k, d, pct)]
    if ks:
        hints.append(f"{pct:g}% is {ks[0]}/{d}")
    row = block[block["level"] == level]
    row_total = int(row["n_printed"].sum())
    if row_total and _pct_ok(n, row_total, pct):
        hints.append(f"{pct:g}% = {n}/{row_total}, a row percentage over the '{level}' row")
    same = block[(block["arm"] == arm) & (block["level"] != level) & (block["pct_printed"] == pct)]
    if not same.empty:
        hints.append(f"{pct:g}% repeats the '{same['level'].iloc[0]}' cell of the same column")
    text = f"printed {pct:g}% but {n}/{d} = {100.0 * n / d:.2f}%"
    return text + ("; " + "; ".join(hints) if hints else "")


def _count_rows(table: int) -> list[dict]:
    counts = published.table_counts(table)
    sizes = published.group_sizes(table)
    rows = []
    for (cohort, arm, var), blk in counts.groupby(["cohort", "arm", "variable"], sort=False):
        g = sizes[(cohort, arm)]
        printed = blk[blk["n_printed"].notna()]
        s = int(printed["n_printed"].sum())
        whole = counts[(counts["cohort"] == cohort) & (counts["variable"] == var)
                       & counts["n_printed"].notna()]
        # which denominator do the printed percentages use: the group size, or the printed sum
        # (the non-missing patients)?
        pass_g = sum(_pct_ok(r.n_printed, g, r.pct_printed) for r in printed.itertuples())
        pass_s = sum(_pct_ok(r.n_printed, s, r.pct_printed) for r in printed.itertuples())
        denom = s if (s != g and pass_s > pass_g) else g
        missing_by_pct = denom == s and s < g
        base = {"table": table, "cohort": cohort, "arm": arm, "variable": var}
        if missing_by_pct:
            ev = (f"{s} of {g} printed; the percentages use {s} as denominator, so {g - s} "
                  f"value(s) are missing, not miscounted")
            rows.append({**base, "level": "", "check": "levels_sum", "printed": str(s),
                         "expected": str(g), "ok": True, "evidence": ev})
        else:
            ok = s == g
            ev = "" if ok else (f"levels sum to {s}, but the {_ARM_LABEL[arm]} group has {g} "
                                f"patients and the percentages use {g}")
            rows.append({**base, "level": "", "check": "levels_sum", "printed": str(s),
                         "expected": str(g), "ok": ok, "evidence": ev})
        for r in printed.itertuples():
            n = int(r.n_printed)
            ok = _pct_ok(n, denom, r.pct_printed)
            ev = "" if ok else _pct_evidence(n, denom, r.pct_printed, whole, r.level, arm)
            note = r.note or r.decision
            if not ok and note:
                ev += f". {note}"
            rows.append({**base, "level": r.level, "check": "percent", "printed": f"{r.pct_printed:g}",
                         "expected": f"{100.0 * n / denom:.1f}", "ok": ok, "evidence": ev})
        # decided counts must sum to the group size (missing LDH included as a level)
        sd = int(blk["n"].sum())
        rows.append({**base, "level": "", "check": "levels_sum_decided", "printed": str(sd),
                     "expected": str(g), "ok": sd == g,
                     "evidence": "" if sd == g else f"decided counts sum to {sd}, group size {g}"})
    return rows


def _cross_rows() -> list[dict]:
    t1 = published.table_counts(1).set_index(["arm", "variable", "level"])
    t2 = published.table_counts(2)
    rows = []
    for (arm, var, level), blk in t2.groupby(["arm", "variable", "level"], sort=False):
        if (arm, var, level) not in t1.index:
            continue
        one = t1.loc[(arm, var, level)]
        base = {"table": "1-2", "cohort": "low+high", "arm": arm, "variable": var, "level": level}
        if blk["n_printed"].notna().all() and not math.isnan(one["n_printed"]):
            s = int(blk["n_printed"].sum())
            parts = " + ".join(f"{c} {int(v)}" for c, v in zip(blk["cohort"], blk["n_printed"]))
            ok = s == int(one["n_printed"])
            ev = "" if ok else (f"Table 2 {parts} = {s}, Table 1 prints {int(one['n_printed'])}")
            rows.append({**base, "check": "table2_sums_table1", "printed": str(s),
                         "expected": str(int(one["n_printed"])), "ok": ok, "evidence": ev})
        s = int(blk["n"].sum())
        ok = s == int(one["n"])
        rows.append({**base, "check": "table2_sums_table1_decided", "printed": str(s),
                     "expected": str(int(one["n"])), "ok": ok,
                     "evidence": "" if ok else f"decided Table 2 sum {s} vs decided Table 1 {int(one['n'])}"})
    return rows


def _num(key: str) -> float:
    df = published.numbers()
    return float(df.loc[df["key"] == key, "value"].iloc[0])


def _text_row(cohort: str, arm: str, var: str, check: str, printed, expected, ok, evidence: str) -> dict:
    return {"table": "text", "cohort": cohort, "arm": arm, "variable": var, "level": "", "check": check,
            "printed": str(printed), "expected": str(expected), "ok": bool(ok), "evidence": evidence}


def _cell(tab: pd.DataFrame, cohort: str, arm: str, var: str, level: str) -> float:
    """The decided count of one cell of a published table."""
    hit = (tab["cohort"] == cohort) & (tab["arm"] == arm) & (tab["variable"] == var) & (tab["level"] == level)
    return float(tab.loc[hit, "n"].iloc[0])


def _arm_size_rows() -> list[dict]:
    """Arm and risk-group sizes of the text against each other and against the tables' columns."""
    sizes1, sizes2 = published.group_sizes(1), published.group_sizes(2)
    n, nl, nn = _num("n"), _num("n_lrrt"), _num("n_no_lrrt")
    pl, pn = 100 * _num("other.prop_lrrt"), 100 * _num("other.prop_no_lrrt")
    rows = [
        _text_row("all", "", "", "arms_sum_to_n", f"{nl:g} + {nn:g}", f"{n:g}", nl + nn == n,
                  f"Abstract/Results: {nl:g} LRRT + {nn:g} without-LRRT = {n:g}"),
        _text_row("all", "", "", "arms_match_table1", f"{nl:g}/{nn:g}",
                  f"{sizes1[('all', 'lrrt')]}/{sizes1[('all', 'no_lrrt')]}",
                  (nl, nn) == (sizes1[("all", "lrrt")], sizes1[("all", "no_lrrt")]),
                  "text arm sizes vs Table 1 columns"),
        _text_row("all", "", "", "arm_percentages", f"{pl:.1f}/{pn:.1f}", f"{100 * nl / n:.1f}/{100 * nn / n:.1f}",
                  _pct_ok(nl, n, pl) and _pct_ok(nn, n, pn), f"'{nl:g} ({pl:.1f}%) and {nn:g} ({pn:.1f}%)'"),
    ]
    for cohort in ("low", "high"):
        tot = _num(f"risk.n_{cohort}")
        a, b = sizes2[(cohort, "lrrt")], sizes2[(cohort, "no_lrrt")]
        rows.append(_text_row(cohort, "", "", "risk_group_size", f"{a} + {b}", f"{tot:g}", a + b == tot,
                              f"Results n = {tot:g} vs Table 2 columns {a} + {b}"))
    low, high = _num("risk.n_low"), _num("risk.n_high")
    rows.append(_text_row("all", "", "", "risk_groups_sum_to_n", f"{low:g} + {high:g}", f"{n:g}",
                          low + high == n, f"{low:g} + {high:g} = {n:g}"))
    for arm in _ARMS:
        s = sizes2[("low", arm)] + sizes2[("high", arm)]
        rows.append(_text_row("low+high", arm, "", "table2_columns_sum_to_table1", s, sizes1[("all", arm)],
                              s == sizes1[("all", arm)], "Table 2 low + high column sizes vs Table 1"))
    return rows


def _local_tx_rows() -> list[dict]:
    """The Methods' counts and percentages of local treatment of metastases."""
    t1 = published.table_counts(1)
    n, ltn, ltp = _num("n"), _num("other.local_tx.n"), 100 * _num("other.local_tx.prop")
    lt = _cell(t1, "all", "lrrt", "local_tx_mets", "Yes") + _cell(t1, "all", "no_lrrt", "local_tx_mets", "Yes")
    bone, liver, lung = (_num(f"other.local_tx.{k}") for k in ("bone_rt_n", "liver_n", "lung_lobectomy_n"))
    parts = bone + liver + lung
    rfa, rfp = _num("other.local_tx.liver_rfa_n"), 100 * _num("other.local_tx.liver_rfa_prop")
    return [
        _text_row("all", "", "local_tx_mets", "local_tx_text_vs_table1", f"{ltn:g}", f"{lt:g}", lt == ltn,
                  "Methods '28.9% (26/90)' vs Table 1 Yes 25 + 1"),
        _text_row("all", "", "local_tx_mets", "local_tx_percent", f"{ltp:.1f}", f"{100 * ltn / n:.1f}",
                  _pct_ok(ltn, n, ltp), f"Methods '{ltp:.1f}% ({ltn:g}/{n:g})'"),
        _text_row("all", "", "local_tx_mets", "local_tx_parts_sum", f"{bone:g} + {liver:g} + {lung:g} = {parts:g}",
                  f"{ltn:g}", parts == ltn,
                  f"bone RT {bone:g} + liver {liver:g} + lung lobectomy {lung:g} = {ltn:g}: consistent if each "
                  "patient had one kind of local treatment"),
        _text_row("all", "", "local_tx_mets", "liver_rfa_percent", f"{rfp:.1f}", f"{100 * rfa / liver:.1f}",
                  _pct_ok(rfa, liver, rfp), f"Methods '{rfp:.1f}% ({rfa:g}/{liver:g})'"),
    ]


def _wald_p_range(hr: float, lo: float, hi: float) -> tuple[float, float]:
    """The Wald P implied by a printed HR and 95% CI, over the printed 2-decimal rounding of all three."""
    z = z_value(0.95)
    pz = []
    for h in (hr - 0.005, hr + 0.005):
        for l_ in (lo - 0.005, lo + 0.005):
            for u in (hi - 0.005, hi + 0.005):
                se = (math.log(u) - math.log(l_)) / (2 * z)
                pz.append(2 * stats.norm.sf(abs(math.log(h)) / se))
    return min(pz), max(pz)


def _interval_rows() -> list[dict]:
    """Are the printed hazard ratio, its CI and P, and the C-index CI consistent with each other?"""
    hr, lo, hi, p = (_num(f"lrrt_in_high.{k}") for k in ("hr", "lower", "upper", "p"))
    geo = math.sqrt(lo * hi)
    p_lo, p_hi = _wald_p_range(hr, lo, hi)
    c, cl, cu = _num("nomogram.c_index"), _num("nomogram.c_index_lower"), _num("nomogram.c_index_upper")
    return [
        _text_row("high", "", "lrrt", "hr_ci_log_symmetric", f"{hr:g}", f"{geo:.3f}", abs(geo - hr) <= 0.01,
                  f"a Wald CI is symmetric on the log scale: sqrt({lo:g} x {hi:g}) = {geo:.3f}"),
        _text_row("high", "", "lrrt", "hr_p_from_ci", f"{p:g}", f"{p_lo:.4f}-{p_hi:.4f}",
                  p_lo - _P_HALF <= p <= p_hi + _P_HALF,
                  "Wald P implied by HR 2.46 (1.01-6.00) over their printed rounding; the P = 0.049 may also "
                  "be the log-rank P"),
        _text_row("all", "", "nomogram", "c_index_ci_symmetric", f"{c:g}", f"{(cl + cu) / 2:.4f}",
                  abs((cl + cu) / 2 - c) <= 0.001,
                  f"midpoint of {cl:g}-{cu:g}; implied SE = {(cu - cl) / (2 * z_value(0.95)):.4f}"),
    ]


def _survival_rows() -> list[dict]:
    """Medians against 2-year rates, and overall 2-year rates against the mixture of the groups'."""
    n, nl, nn = _num("n"), _num("n_lrrt"), _num("n_no_lrrt")
    rows = []
    for ep in ("os", "pfs"):
        med, s24 = _num(f"{ep}.median_months"), _num(f"{ep}.surv_24")
        rows.append(_text_row("all", "", ep, "median_vs_surv_24", f"median {med:g}, S(24) {s24:g}",
                              "median > 24 iff S(24) > 0.5", (med > 24) == (s24 > 0.5),
                              f"{ep.upper()} median {med:g} months and 2-year rate {s24:g} agree"))
        mix = (nl * _num(f"{ep}_by_lrrt.surv_24_lrrt") + nn * _num(f"{ep}_by_lrrt.surv_24_no_lrrt")) / n
        rows.append(_text_row("all", "", ep, "surv_24_mixture_lrrt", f"{s24:g}", f"{mix:.3f}", abs(mix - s24) <= 0.03,
                              "n-weighted mean of the arms' 2-year rates; equals the overall KM only under "
                              "similar censoring, so agreement within 0.03 is all that can be asked"))
    mix = (_num("risk.n_low") * _num("risk.os_surv_24_low") + _num("risk.n_high") * _num("risk.os_surv_24_high")) / n
    rows.append(_text_row("all", "", "os", "surv_24_mixture_risk", f"{_num('os.surv_24'):g}", f"{mix:.3f}",
                          abs(mix - _num("os.surv_24")) <= 0.03, "n-weighted mean of the risk groups' 2-year OS"))
    return rows


def _direction_rows() -> list[dict]:
    """Statements of the Results text ('more ... in the non-LRRT group') against the tables."""
    t1, t2 = published.table_counts(1), published.table_counts(2)
    a = _cell(t2, "high", "lrrt", "local_tx_mets", "Yes")
    b = _cell(t2, "high", "no_lrrt", "local_tx_mets", "Yes")
    rows = [_text_row("high", "", "local_tx_mets", "text_direction", "more local treatment in non-LRRT",
                      f"LRRT {a:g}/37 vs without-LRRT {b:g}/14", b / 14 > a / 37,
                      "Results, Risk stratification says more high-risk patients 'who received local treatment "
                      "for metastases were in the non-LRRT group', but Table 2 shows 13/37 (35.1%) LRRT vs 0/14 "
                      "without-LRRT; the Discussion states the opposite direction, which agrees with Table 2")]
    a = _cell(t2, "high", "lrrt", "liver_mets", "Yes")
    b = _cell(t2, "high", "no_lrrt", "liver_mets", "Yes")
    rows.append(_text_row("high", "", "liver_mets", "text_direction", "more liver metastases in non-LRRT",
                          f"LRRT {a:g}/37 vs without-LRRT {b:g}/14", b / 14 > a / 37,
                          "Results, Risk stratification vs Table 2"))
    for var, level in (("multi_organ_mets", "Yes"), ("liver_mets", "Yes")):
        a, b = _cell(t1, "all", "lrrt", var, level), _cell(t1, "all", "no_lrrt", var, level)
        rows.append(_text_row("all", "", var, "text_direction", "more in without-LRRT",
                              f"LRRT {a:g}/69 vs without {b:g}/21", b / 21 > a / 69,
                              "Results, Patient characteristics vs Table 1"))
    for var, level in (("immuno_cycles", "≥ 8"), ("local_tx_mets", "Yes")):
        a, b = _cell(t1, "all", "lrrt", var, level), _cell(t1, "all", "no_lrrt", var, level)
        rows.append(_text_row("all", "", var, "text_direction", "greater in LRRT",
                              f"LRRT {a:g}/69 vs without {b:g}/21", a / 69 > b / 21,
                              "Results, Patient characteristics vs Table 1"))
    return rows


def _wording_rows() -> list[dict]:
    """Where the text and the tables word a cut point or a variable differently (never ok)."""
    return [
        _text_row("all", "", "age", "cutoff_wording", "younger age (≤ 50 years)", "< 50 vs ≥ 50", False,
                  "Results, Construction writes '≤ 50' while Tables 1-2 split '< 50 / ≥ 50': a patient aged "
                  "exactly 50 is 'young' in the text and 'old' in the tables. We follow the tables (age ≥ 50 is "
                  "high)."),
        _text_row("all", "", "immuno_cycles", "cutoff_wording", "more than 8 cycles", "≥ 8", False,
                  "Results, Patient characteristics and Discussion say 'more than 8 cycles'; Tables 1-2 and the "
                  "Construction paragraph use '≥ 8'. We follow the tables."),
        _text_row("all", "", "met_lesions", "variable_wording", "a single metastatic site",
                  "No. of metastatic lesions", False,
                  "Abstract and Results call the model factor 'a single metastatic site', which could mean one "
                  "organ (the 'Multiple organ metastasis' row) or one lesion (the 'No. of metastatic lesions' "
                  "row). We take lesions (single vs multiple), the row whose 5 + 31 cell needed fixing; the paper "
                  "should say which."),
    ]


def _text_rows() -> list[dict]:
    """Checks of the text and abstract against the tables and against themselves."""
    return (_arm_size_rows() + _local_tx_rows() + _interval_rows() + _survival_rows() + _direction_rows()
            + _wording_rows())


def audit_counts() -> pd.DataFrame:
    """Arithmetic checks of Tables 1 and 2 and of the text.

    Returns
    -------
    pandas.DataFrame
        Columns ``table`` (1, 2, ``'1-2'`` for cross-table, ``'text'``), ``cohort``, ``arm``,
        ``variable``, ``level``, ``check``, ``printed``, ``expected`` (strings, as a reviewer
        reads them), ``ok`` (bool) and ``evidence`` (plain language; '' when ok). Checks:
        ``levels_sum`` (printed levels sum to the group size, or - LDH - to the non-missing
        denominator the percentages use), ``percent`` (printed percentage = count/denominator
        at 0.1% rounding, GRIM-style), ``levels_sum_decided``, ``table2_sums_table1``
        (low + high = Table 1, printed), ``table2_sums_table1_decided``, and text checks.

    References
    ----------
    Brown & Heathers, Soc Psychol Personal Sci 2017;8:363-369 (GRIM).
    """
    rows = _count_rows(1) + _count_rows(2) + _cross_rows() + _text_rows()
    df = pd.DataFrame(rows, columns=["table", "cohort", "arm", "variable", "level", "check",
                                     "printed", "expected", "ok", "evidence"])
    df["table"] = df["table"].astype(str)
    df["ok"] = df["ok"].astype(bool)
    return df


def _matrix(counts: pd.DataFrame, cohort: str, var: str, col: str) -> np.ndarray:
    blk = counts[(counts["cohort"] == cohort) & (counts["variable"] == var) & (counts["level"] != "missing")]
    blk = blk[blk[col].notna()] if col == "n_printed" else blk
    wide = blk.pivot(index="level", columns="arm", values=col).reindex(pd.unique(blk["level"])).fillna(0.0)
    return wide[list(_ARMS)].to_numpy(dtype=float)


def audit_p_values() -> pd.DataFrame:
    """Recompute every Table 1 / Table 2 P value and find the test the authors used.

    Each variable's level x arm table (missing LDH and unprinted empty levels left out) is
    tested with Pearson's chi-square without and with Yates' continuity correction and with
    Fisher's exact test, from the printed counts and from the decided counts.

    Returns
    -------
    pandas.DataFrame
        One row per table x cohort x variable x basis (``'printed'``, ``'decided'``) with
        ``p_printed``, ``p_chi2``, ``p_yates``, ``p_fisher``, ``min_expected`` (smallest
        expected count) and ``matches`` ('+'-joined names of the tests whose P rounds to the
        printed 3-decimal value, or ``'none'``).

    References
    ----------
    Pearson 1900; Yates 1934; Fisher 1922 (see module docstring).
    """
    rows = []
    for table in (1, 2):
        counts = published.table_counts(table)
        for r in published.table_p_values(table).itertuples():
            for basis, col in (("printed", "n_printed"), ("decided", "n")):
                ps = _p_values(_matrix(counts, r.cohort, r.variable, col))
                m = _matches(r.p_printed, ps)
                rows.append({"table": table, "cohort": r.cohort, "variable": r.variable, "basis": basis,
                             "p_printed": r.p_printed, "p_chi2": ps["chi2"], "p_yates": ps["yates"],
                             "p_fisher": ps["fisher"], "min_expected": ps["min_expected"],
                             "matches": "+".join(m) if m else "none"})
    return pd.DataFrame(rows)


def p_value_match_counts(basis: str = "decided") -> dict[str, int]:
    """How many printed table P values each test reproduces.

    Parameters
    ----------
    basis : {"decided", "printed"}
        Which counts the P values were recomputed from.

    Returns
    -------
    dict
        ``{"n": tables tested, "chi2": .., "yates": .., "fisher": .., "none": ..}`` (a P value
        can match more than one test, so the test counts may sum to more than ``n``) plus
        ``"only_<test>"`` counts of P values reproduced by that test alone.
    """
    if basis not in ("decided", "printed"):
        raise ValueError(f"basis must be 'decided' or 'printed', not {basis!r}")
    df = audit_p_values()
    df = df[df["basis"] == basis]
    sets = [set(m.split("+")) - {"none"} for m in df["matches"]]
    out = {"n": len(sets)}
    for t in TESTS:
        out[t] = sum(t in s for s in sets)
    out["none"] = sum(not s for s in sets)
    for t in TESTS:
        out[f"only_{t}"] = sum(s == {t} for s in sets)
    return out


def _p_for_any_table(p: float, n1: int, n2: int) -> list[tuple[int, int, str]]:
    """All 2 x 2 tables with these group sizes whose P (any test) rounds to ``p``."""
    hits = []
    for a in range(n1 + 1):
        for b in range(n2 + 1):
            if a + b in (0, n1 + n2):
                continue
            hits.extend((a, b, t) for t in _matches(p, _p_values([[a, b], [n1 - a, n2 - b]])))
    return hits


def _not_fisher_finding(r) -> str:
    """Explain a printed P value that Fisher's exact test does not reproduce (a row of audit_p_values)."""
    where = "Table 1" if r.table == 1 else f"Table 2 {r.cohort}-risk"
    counts = published.table_counts(r.table)
    m = _matrix(counts, r.cohort, r.variable, "n")
    n1, n2 = (int(x) for x in m.sum(axis=0))
    alt = _p_for_any_table(r.p_printed, n1, n2)
    first = m[0]
    alt_txt = (f"No 2 x 2 table with group sizes {n1}/{n2} gives {r.p_printed:.3f} under any of the three "
               f"tests, so it is not a miscounted cell" if not alt else
               f"Tables with group sizes {n1}/{n2} that give {r.p_printed:.3f} have first-level counts "
               f"(LRRT/without-LRRT, test) " + ", ".join(f"{a}/{b} ({t})" for a, b, t in alt[:6]))
    if r.matches == "yates":
        alt_txt += (". The printed value is the Yates-corrected P of the printed table - probably the "
                    "'continuity correction' line of the software output was copied instead of Fisher's")
    elif alt and min(abs(a - first[0]) + abs(b - first[1]) for a, b, _ in alt) > 1:
        alt_txt += (". None of these is the printed table or one count away from it, so the printed P is "
                    "probably a transcription error")
    return (f"{where}, {r.variable}: printed P = {r.p_printed:.3f} is not Fisher's exact P "
            f"({r.p_fisher:.4f}); chi-square {r.p_chi2:.4f}, Yates {r.p_yates:.4f}; matches: {r.matches}. "
            f"{alt_txt}.")


def audit_summary() -> list[str]:
    """The inconsistencies of the published tables and text, in plain language.

    Returns
    -------
    list of str
        One entry per problem, each with the evidence and what we decided.
    """
    out = []
    ac = audit_counts()
    bad = ac[~ac["ok"]]
    for r in bad.itertuples():
        where = {"1": "Table 1", "2": f"Table 2 {r.cohort}-risk", "1-2": "Tables 1-2", "text": "Text"}[r.table]
        arm = f", {_ARM_LABEL[r.arm]}" if r.arm in _ARM_LABEL else ""
        lvl = f" '{r.level}'" if r.level else ""
        out.append(f"{where}{arm}, {r.variable}{lvl} [{r.check}]: printed {r.printed}, expected "
                   f"{r.expected}. {r.evidence}")
    miss = published.table_counts(2)
    miss = miss[miss["level"] == "missing"]
    cells = ", ".join(f"{c}-risk {_ARM_LABEL[a]} {n}" for c, a, n in zip(miss["cohort"], miss["arm"], miss["n"]))
    out.append(f"LDH is missing for 5 patients (not stated in the paper; Table 1 LDH percentages use 65 and 20). "
               f"From the Table 2 percentage denominators they fall: {cells}.")
    out.append("ECOG: Table 1 prints levels 0 and 1 only (0 + 69 and 1 + 20 fill the groups, so no one has "
               "ECOG >= 2); Table 2 omits ECOG, so the risk group of the one ECOG-0 (without-LRRT) patient is unknown.")
    pv = audit_p_values()
    dec = pv[pv["basis"] == "decided"]
    mc = p_value_match_counts("decided")
    out.append(f"Test used for Tables 1-2: Methods say 'chi-square test', but of {mc['n']} printed P values "
               f"{mc['fisher']} equal Fisher's exact P ({mc['only_fisher']} of them Fisher alone), "
               f"{mc['yates']} Yates-corrected chi-square, {mc['chi2']} uncorrected chi-square, and "
               f"{mc['none']} none (computed from the decided counts). The tables were evidently made with "
               f"Fisher's exact test (the P = 1.000 cells are Fisher or Yates values, never uncorrected "
               f"chi-square; expected counts go down to {dec['min_expected'].min():.2f}, far below the usual 5). "
               f"The Methods should say 'Fisher's exact test'.")
    for r in dec.itertuples():
        if "fisher" not in r.matches.split("+"):
            out.append(_not_fisher_finding(r))
    both = pv[pv["basis"] == "printed"].merge(dec, on=["table", "cohort", "variable"], suffixes=("", "_d"))
    for r in both[both["matches"] != both["matches_d"]].itertuples():
        d = r._replace(p_fisher=r.p_fisher_d, matches=r.matches_d)
        out.append(f"Table {r.table} {r.cohort}-risk, {r.variable}: with the printed counts Fisher's P is "
                   f"{r.p_fisher:.4f} (matches: {r.matches}); with the decided counts {d.p_fisher:.4f} "
                   f"(matches: {d.matches}) - the printed P supports the decided count.")
    return out
