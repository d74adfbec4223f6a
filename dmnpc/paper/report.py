"""The whole analysis as one dictionary: the results JSON of ``python -m dmnpc report``.

The keys are a public interface (see the book's reproduction chapter): they
are added to, never renamed. Months are the time unit, survival rates are
proportions, P values are two-sided, and hazard ratios are records
``{hr, lower, upper, p}`` with Wald 95% confidence intervals.
"""

from __future__ import annotations

import math
from importlib import metadata
from typing import Any

import pandas as pd

from dmnpc.paper import analysis
from dmnpc.paper.variables import HORIZONS, TABLE_TEST
from dmnpc.stats import km

__all__ = ["compute_results", "package_versions", "CORE_PACKAGES"]

#: Packages whose versions the status page reports.
CORE_PACKAGES = ("jupyter-book", "myst-nb", "sphinx", "lifelines", "scikit-survival", "pandas", "numpy",
                 "scipy", "statsmodels", "tableone", "seaborn", "matplotlib", "pyreadstat")


def package_versions() -> pd.DataFrame:
    """Installed versions of the core packages (for the status page)."""
    import platform

    rows = [{"Package": "python", "Version": platform.python_version()}]
    for p in CORE_PACKAGES:
        try:
            rows.append({"Package": p, "Version": metadata.version(p)})
        except metadata.PackageNotFoundError:
            rows.append({"Package": p, "Version": "not installed"})
    return pd.DataFrame(rows)


def _num(x: Any) -> float | None:
    """A JSON-safe float: NaN (not reached, not estimable) becomes null."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def _survival_section(df: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    fu = km.median_followup(df["os_months"], df["os_event"])
    out["followup_median_months"] = _num(fu["median_observed"])
    for key in ("os", "pfs"):
        s = analysis.km_summary(df, key)
        out[key] = {"median_months": _num(s["median"]), "surv_12": _num(s["surv_12"]),
                    "surv_24": _num(s["surv_24"])}
    for key in ("os", "pfs"):
        by = analysis.km_by_lrrt(df, key)
        g = by["groups"]
        out[f"{key}_by_lrrt"] = {"surv_24_lrrt": _num(g["lrrt"]["surv_24"]),
                                 "surv_24_no_lrrt": _num(g["no_lrrt"]["surv_24"]),
                                 "logrank_p": _num(by["logrank"].p)}
    return out


def _hr(rec: dict[str, Any]) -> dict[str, float | None]:
    return {k: _num(rec[k]) for k in ("hr", "lower", "upper", "p")}


def _cutoffs_section(df: pd.DataFrame) -> dict[str, Any]:
    cuts = analysis.cut_points(df)
    return {"cutoffs": {m: _num(c.threshold) for m, c in cuts.items()}}


def _other_section(df: pd.DataFrame, st: analysis.Stratification, fit_os: Any) -> dict[str, Any]:
    """Numbers the paper reports outside the public keys (compared by the fidelity report)."""
    from dmnpc.stats import subgroup

    fu = km.median_followup(df["os_months"], df["os_event"])
    return {"other": {
        "followup_min_months": _num(fu["min"]), "followup_max_months": _num(fu["max"]),
        "followup_reverse_km_months": _num(fu["reverse_km_median"]),
        "lrrt_in_low": {"pfs_p": _num(subgroup.hr_record(st.lrrt_pfs, "low")["p"])},
        "lrrt_in_high": {"pfs_p": _num(subgroup.hr_record(st.lrrt_pfs, "high")["p"])},
        # printed as 28.9% (26/90) and 76.7%/23.3%: compared at the paper's rounding
        "local_tx": {"n": int(df["local_tx_mets"].sum()), "prop": round(float(df["local_tx_mets"].mean()), 3)},
        "prop_lrrt": round(float(df["lrrt"].mean()), 3),
        "prop_no_lrrt": round(float(1 - df["lrrt"].mean()), 3),
        "nomogram": {"n_factors": int(len(fit_os.terms))},
        "table2_p": _table2_p(df, st.risk),
    }}


def _table2_p(df: pd.DataFrame, risk_groups: pd.Series) -> dict[str, dict[str, float | None]]:
    from dmnpc.paper import tables

    if risk_groups.nunique() < 2:
        return {}
    try:
        t = tables.table_by_risk_and_lrrt(df, risk_groups, test=TABLE_TEST)
    except ValueError:  # a risk cohort with one LRRT arm only: no within-cohort comparison
        return {}
    p = t.groupby(["cohort", "variable"], sort=False)["p"].first()
    return {c: {v: _num(p[(c, v)]) for v in p.loc[c].index} for c in dict.fromkeys(t["cohort"])}


def _table1_section(df: pd.DataFrame) -> dict[str, Any]:
    p = analysis.table1_p_values(df)[TABLE_TEST]
    return {"table1_p": {k: _num(v) for k, v in p.items()}, "table1_test": TABLE_TEST}


def _cox_section(df: pd.DataFrame, fit_os: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, fit in (("os", fit_os), ("pfs", analysis.multivariable(df, "pfs"))):
        out[f"cox_{key}"] = {r["term"]: _hr(r) for r in fit.summary.to_dict("records")}
    return out


def _nomogram_section(df: pd.DataFrame, nom: Any, scores: pd.DataFrame) -> dict[str, Any]:
    from dmnpc.stats import nomogram

    disc = analysis.discrimination(df, scores=scores)
    h = disc["harrell"]
    auc = disc["auc"].set_index("time")["auc"]
    return {"nomogram": {"c_index": _num(h.c), "c_index_lower": _num(h.lower), "c_index_upper": _num(h.upper),
                         **{f"auc_{t:g}": _num(auc.loc[t]) for t in HORIZONS},
                         "points": {k: _num(v) for k, v in nomogram.adverse_points(nom).items()}}}


def _risk_section(df: pd.DataFrame, st: analysis.Stratification) -> dict[str, Any]:
    from dmnpc.stats import subgroup

    g = st.risk
    lrrt = df["lrrt"].to_numpy()
    out = {"risk": {
        "n_low": int((g == "low").sum()), "n_high": int((g == "high").sum()),
        "n_low_lrrt": int(((g == "low").to_numpy() & (lrrt == 1)).sum()),
        "n_low_no_lrrt": int(((g == "low").to_numpy() & (lrrt == 0)).sum()),
        "n_high_lrrt": int(((g == "high").to_numpy() & (lrrt == 1)).sum()),
        "n_high_no_lrrt": int(((g == "high").to_numpy() & (lrrt == 0)).sum()),
        "os_surv_24_low": _num(st.os["groups"]["low"]["surv_24"]),
        "os_surv_24_high": _num(st.os["groups"]["high"]["surv_24"]),
        "os_logrank_p": _num(st.os["logrank"].p),
        "pfs_logrank_p": _num(st.pfs["logrank"].p),
        "threshold_points": _num(st.threshold),
        "interaction_p": _num(st.interaction.p),
    }}
    for stratum in ("high", "low"):
        out[f"lrrt_in_{stratum}"] = _hr(subgroup.hr_record(st.lrrt_os, stratum))
    return out


def compute_results(df: pd.DataFrame) -> dict[str, Any]:
    """Run the paper's analysis on a validated cohort and return the results dictionary.

    Parameters
    ----------
    df : pandas.DataFrame
        A cohort from :func:`dmnpc.paper.contract.load_cohort`.

    Returns
    -------
    dict
        JSON-serialisable; keys as documented in the module docstring and the
        reproduction chapter. Values that cannot be estimated (a median not
        reached) are ``None``.
    """
    n_lrrt = int(df["lrrt"].sum())
    out: dict[str, Any] = {
        "n": int(len(df)),
        "n_lrrt": n_lrrt,
        "n_no_lrrt": int(len(df) - n_lrrt),
    }
    out.update(_survival_section(df))
    out.update(_cutoffs_section(df))
    out.update(_table1_section(df))
    fit_os, nom, scores = analysis.os_nomogram(df)   # fitted once, shared by the sections below
    st = analysis.stratify(df, scores=scores)
    out.update(_cox_section(df, fit_os))
    out.update(_nomogram_section(df, nom, scores))
    out.update(_risk_section(df, st))
    out.update(_other_section(df, st, fit_os))
    return out
