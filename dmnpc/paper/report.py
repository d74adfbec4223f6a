"""The whole analysis as one dictionary: the results JSON of ``python -m dmnpc report``.

The keys are a public interface (see the book's reproduction chapter): they
are added to, never renamed. Months are the time unit, survival rates are
proportions, P values are two-sided, and hazard ratios are records
``{hr, lower, upper, p}`` with Wald 95% confidence intervals.

Sections: ``n``, ``n_lrrt``, ``n_no_lrrt``, ``followup_median_months``; ``os`` and ``pfs``
(median, 1- and 2-year survival); ``os_by_lrrt`` and ``pfs_by_lrrt``; ``cutoffs`` (this
cohort's Youden cuts) and ``model_cutoffs`` (the cuts the models used: the paper's unless
``settings.yml`` says ``cut_rule: youden``); ``settings`` (the settings in force); ``table1_p`` and ``table1_test``; ``cox_os`` and ``cox_pfs`` (term ->
HR record); ``ph_os`` (global proportional-hazards test of the OS model: ``global_chi2``,
``global_df``, ``global_p``); ``nomogram`` (C-index with CI, time-dependent AUCs, points);
``risk`` (the mean split, survival by cohort, both interaction tests) and ``lrrt_in_high`` /
``lrrt_in_low``; ``other`` (numbers the paper reports in passing); ``appraisal``, the
appraisal of the prediction model: ``sample_size`` (Riley et al. 2020), ``shrinkage``,
``continuous`` / ``dichotomised`` (LR chi-square, df, AIC, C), ``pipeline`` /
``pipeline_no_lrrt`` / ``pipeline_fixed_terms`` (whole-procedure bootstrap), ``dca`` (per
horizon: ``thresholds``, ``nb_model``, ``nb_all`` as lists), ``brier`` and ``oe_24``; and
``notes``: for every null, its dotted key and the reason.
"""

from __future__ import annotations

import math
from importlib import metadata
from typing import Any

import pandas as pd

from dmnpc.paper import analysis
from dmnpc.paper.variables import (BOOT_B, HORIZONS, OS_TERMS, PFS_TERMS, RISK_COHORTS, SEED, TABLE_ROWS,
                                   TABLE_TEST)
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
    """A JSON-safe float: NaN or infinity (not reached, not estimable) becomes null."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


_HR_KEYS = ("hr", "lower", "upper", "p")


def _hr(rec: dict[str, Any] | None) -> dict[str, float | None]:
    return {k: (None if rec is None else _num(rec[k])) for k in _HR_KEYS}


class _Builder:
    """The results dictionary and, for every null in it, the reason (``notes``: dotted key -> reason)."""

    def __init__(self) -> None:
        self.out: dict[str, Any] = {}
        self.reasons: dict[str, str] = {}   # dotted key or key prefix -> reason

    def section(self, key: str, template: Any, fn, *args) -> Any:
        """Set ``out[key]`` to ``fn(*args)``; when not estimable, to ``template`` (all nulls) and note why."""
        est = analysis.estimate(fn, *args)
        if est.ok:
            self.out[key] = est.value
        else:
            self.out[key] = template
            self.reasons[key] = est.reason
        return est

    def note(self, key: str, reason: str) -> None:
        self.reasons.setdefault(key, reason)

    def take(self, key: str, est: analysis.Estimate, get=lambda v: v) -> float | None:
        """``get(est.value)`` as a JSON number for an estimate; else null, its reason noted under ``key``."""
        if est.ok:
            return _num(get(est.value))
        self.note(key, est.reason)
        return None

    def notes(self) -> dict[str, str]:
        """A reason for every null leaf: its own, or its nearest ancestor's, else a generic one."""
        out: dict[str, str] = {}

        def walk(d: dict, prefix: str) -> None:
            for k, v in d.items():
                key = f"{prefix}{k}"
                if isinstance(v, dict):
                    walk(v, key + ".")
                elif v is None:
                    parts = key.split(".")
                    anc = (".".join(parts[:i]) for i in range(len(parts), 0, -1))
                    out[key] = next((self.reasons[a] for a in anc if a in self.reasons), "not estimable")
        walk(self.out, "")
        return out


_BEYOND = "the follow-up ends before {h:g} months, so survival there is not estimable"


def _surv(b: _Builder, key: str, summary: dict[str, Any], h: float) -> float | None:
    """Survival at ``h`` from a :func:`dmnpc.paper.analysis.km_summary`, noting why it is null."""
    v = _num(summary[f"surv_{h:g}"])
    if v is None:
        b.note(key, _BEYOND.format(h=h))
    return v


def _km_record(b: _Builder, df: pd.DataFrame, key: str) -> dict[str, float | None]:
    s = analysis.km_summary(df, key)
    return {"median_months": _num(s["median"]),
            **{f"surv_{h:g}": _surv(b, f"{key}.surv_{h:g}", s, h) for h in HORIZONS}}


def _by_lrrt(b: _Builder, df: pd.DataFrame, key: str) -> None:
    by = analysis.km_by_lrrt(df, key)
    rec: dict[str, float | None] = {}
    for arm, est in by["groups"].items():
        k = f"{key}_by_lrrt.surv_24_{arm}"
        rec[f"surv_24_{arm}"] = b.take(k, est, lambda s, k=k: _surv(b, k, s, 24.0))
    rec["logrank_p"] = b.take(f"{key}_by_lrrt.logrank_p", by["logrank"], lambda lr: lr.p)
    b.out[f"{key}_by_lrrt"] = rec


def _survival_sections(b: _Builder, df: pd.DataFrame) -> None:
    fu = km.median_followup(df["os_months"], df["os_event"])
    b.out["followup_median_months"] = _num(fu["median_observed"])
    for key in ("os", "pfs"):
        b.section(key, dict.fromkeys(("median_months", *(f"surv_{h:g}" for h in HORIZONS))), _km_record, b, df, key)
        if b.out[key]["median_months"] is None:
            b.note(f"{key}.median_months", "not reached: the Kaplan-Meier curve stays above 50%")
    for key in ("os", "pfs"):
        _by_lrrt(b, df, key)


def _cutoffs_section(b: _Builder, df: pd.DataFrame) -> None:
    """``cutoffs``: this cohort's Youden cuts; ``model_cutoffs``: the cuts the models used; ``settings``."""
    from dataclasses import asdict

    from dmnpc.paper.settings import current

    b.out["cutoffs"] = {m: b.take(f"cutoffs.{m}", analysis.estimate(analysis.cut_point, df, m),
                                  lambda c: c.threshold) for m in analysis.CUT_MARKERS}
    used = analysis.estimate(analysis.cutoffs_used, df)
    keys = ("age", "ebv_dna", "chemo_cycles", "immuno_cycles")
    b.out["model_cutoffs"] = {k: b.take(f"model_cutoffs.{k}", used, lambda c, k=k: asdict(c)[k]) for k in keys}
    b.out["settings"] = current().as_dict()


def _table1_section(b: _Builder, df: pd.DataFrame) -> None:
    est = b.section("table1_p", dict.fromkeys(TABLE_ROWS),
                    lambda: {k: _num(v) for k, v in analysis.table1_p_values(df)[TABLE_TEST].items()})
    b.out["table1_test"] = TABLE_TEST
    if est.ok:
        for k, v in b.out["table1_p"].items():
            if v is None:
                b.note(f"table1_p.{k}", f"every patient has the same {k} level: there is nothing to test")


def _cox_summary(fit) -> dict[str, dict[str, float | None]]:
    return {r["term"]: _hr(r) for r in analysis.converged(fit).summary.to_dict("records")}


def _cox_sections(b: _Builder, df: pd.DataFrame) -> None:
    for key, terms in (("os", OS_TERMS), ("pfs", PFS_TERMS)):
        b.section(f"cox_{key}", {t: _hr(None) for t in terms}, lambda k=key: _cox_summary(analysis.multivariable(df, k)))


def _ph_section(b: _Builder, df: pd.DataFrame) -> None:
    """The global proportional-hazards test of the multivariable OS model (``cox.zph``'s GLOBAL row)."""
    from dmnpc.stats import cox

    def glob(fit):
        return cox.ph_test(analysis.converged(fit)).set_index("term").loc["GLOBAL"]

    est = analysis.estimate(lambda: glob(analysis.multivariable(df, "os")))
    b.out["ph_os"] = {
        "global_chi2": b.take("ph_os.global_chi2", est, lambda g: g["chisq"]),
        "global_df": b.take("ph_os.global_df", est, lambda g: g["df"]),
        "global_p": b.take("ph_os.global_p", est, lambda g: g["p"]),
    }


def _nomogram_section(b: _Builder, df: pd.DataFrame, fitted: analysis.Estimate) -> None:
    from dmnpc.stats import discrimination, nomogram

    keys = ("c_index", "c_index_lower", "c_index_upper", *(f"auc_{t:g}" for t in HORIZONS))
    rec: dict[str, Any] = dict.fromkeys(keys)
    rec["points"] = dict.fromkeys(OS_TERMS)
    b.out["nomogram"] = rec
    if not fitted.ok:
        b.note("nomogram", fitted.reason)
        return
    _, nom, scores = fitted.value
    rec["points"] = {k: _num(v) for k, v in nomogram.adverse_points(nom).items()}
    t, e, lp = df["os_months"], df["os_event"], scores["lp"]
    h = analysis.estimate(discrimination.harrell_c, t, e, lp)
    for k, attr in (("c_index", "c"), ("c_index_lower", "lower"), ("c_index_upper", "upper")):
        rec[k] = b.take(f"nomogram.{k}", h, lambda c, a=attr: getattr(c, a))
    for hz in HORIZONS:
        auc = analysis.estimate(discrimination.time_dependent_auc, t, e, lp, [hz])
        rec[f"auc_{hz:g}"] = b.take(f"nomogram.auc_{hz:g}", auc, lambda a: a["auc"].iloc[0])


def _risk_counts(df: pd.DataFrame, g: pd.Series | None) -> dict[str, int | None]:
    lrrt = df["lrrt"].to_numpy()
    out: dict[str, int | None] = {}
    for c in RISK_COHORTS:
        m = None if g is None else (g == c).to_numpy()
        out[f"n_{c}"] = None if m is None else int(m.sum())
        out[f"n_{c}_lrrt"] = None if m is None else int((m & (lrrt == 1)).sum())
        out[f"n_{c}_no_lrrt"] = None if m is None else int((m & (lrrt == 0)).sum())
    return out


def _stratum_hr(b: _Builder, key: str, table: pd.DataFrame, stratum: str, field: str | None = None):
    """An HR record (or one field of it) of one stratum of ``hr_by_stratum``, noting why values are null."""
    from dmnpc.stats import subgroup

    sel = table[table["stratum"] == stratum]
    if len(sel) == 0:
        b.note(key, f"no patient is in the {stratum}-risk cohort")
        return None if field else _hr(None)
    note = str(sel["note"].iloc[0])
    if note:
        b.note(key, note)
    rec = subgroup.hr_record(table, stratum)
    return _num(rec[field]) if field else _hr(rec)


def _risk_section(b: _Builder, df: pd.DataFrame, st: analysis.Stratification | None) -> None:
    keys = ("os_surv_24_low", "os_surv_24_high", "os_logrank_p", "pfs_logrank_p", "threshold_points",
            "interaction_p", "interaction_ratio_shared", "interaction_ratio_stratified", "interaction_p_stratified")
    risk: dict[str, Any] = {**_risk_counts(df, None if st is None else st.risk), **dict.fromkeys(keys)}
    b.out["risk"] = risk
    for s in ("high", "low"):
        b.out[f"lrrt_in_{s}"] = _hr(None)
    if st is None:
        return
    risk["threshold_points"] = _num(st.threshold)
    for c in RISK_COHORTS:
        k = f"risk.os_surv_24_{c}"
        risk[f"os_surv_24_{c}"] = b.take(k, st.os["groups"][c], lambda s, k=k: _surv(b, k, s, 24.0))
    for ep in ("os", "pfs"):
        risk[f"{ep}_logrank_p"] = b.take(f"risk.{ep}_logrank_p", getattr(st, ep)["logrank"], lambda lr: lr.p)
    risk["interaction_p"] = b.take("risk.interaction_p", st.interaction, lambda it: it.p)
    risk["interaction_ratio_shared"] = b.take("risk.interaction_ratio_shared", st.interaction, lambda it: it.ratio)
    risk["interaction_ratio_stratified"] = b.take("risk.interaction_ratio_stratified", st.interaction_stratified,
                                                  lambda it: it.ratio)
    risk["interaction_p_stratified"] = b.take("risk.interaction_p_stratified", st.interaction_stratified,
                                              lambda it: it.p)
    for s in ("high", "low"):
        b.out[f"lrrt_in_{s}"] = _stratum_hr(b, f"lrrt_in_{s}", st.lrrt_os, s)


def _other_section(b: _Builder, df: pd.DataFrame, st: analysis.Stratification | None) -> None:
    """Numbers the paper reports outside the public keys (compared by the fidelity report)."""
    fu = km.median_followup(df["os_months"], df["os_event"])
    other: dict[str, Any] = {
        "followup_min_months": _num(fu["min"]), "followup_max_months": _num(fu["max"]),
        "followup_reverse_km_months": _num(fu["reverse_km_median"]),
        "lrrt_in_low": {"pfs_p": None}, "lrrt_in_high": {"pfs_p": None},
        # printed as 28.9% (26/90) and 76.7%/23.3%: compared at the paper's rounding
        "local_tx": {"n": int(df["local_tx_mets"].sum()), "prop": round(float(df["local_tx_mets"].mean()), 3)},
        "prop_lrrt": round(float(df["lrrt"].mean()), 3),
        "prop_no_lrrt": round(float(1 - df["lrrt"].mean()), 3),
        "nomogram": {"n_factors": len(OS_TERMS)},
        "table2_p": {},
    }
    if other["followup_reverse_km_months"] is None:
        b.note("other.followup_reverse_km_months", "not reached: fewer than half the patients were censored")
    b.out["other"] = other
    if st is None:
        return
    for s in ("low", "high"):
        other[f"lrrt_in_{s}"]["pfs_p"] = _stratum_hr(b, f"other.lrrt_in_{s}.pfs_p", st.lrrt_pfs, s, "p")
    other["table2_p"] = _table2_p(b, df, st.risk)


def _table2_p(b: _Builder, df: pd.DataFrame, risk_groups: pd.Series) -> dict[str, dict[str, float | None]]:
    from dmnpc.paper import tables

    if risk_groups.nunique() < 2:
        return {}
    est = analysis.estimate(tables.table_by_risk_and_lrrt, df, risk_groups, test=TABLE_TEST)
    if not est.ok:  # e.g. a risk cohort with one LRRT arm only: no within-cohort comparison
        return {}
    t = est.value
    p = t.groupby(["cohort", "variable"], sort=False)["p"].first()
    levels = t[t["n"] > 0].groupby(["cohort", "variable"], sort=False)["level"].nunique()
    for (c, v), k in levels.items():
        if k < 2:
            b.note(f"other.table2_p.{c}.{v}", f"every patient of the {c}-risk cohort has the same {v} level: "
                                               "there is nothing to test")
    return {c: {v: _num(p[(c, v)]) for v in p.loc[c].index} for c in dict.fromkeys(t["cohort"])}


_COMPARISON_KEYS = ("lr_chi2", "df", "aic", "c_index")
_PIPELINE_KEYS = ("b", "c_apparent", "c_optimism", "c_corrected", "slope_optimism", "slope_corrected",
                  "c_corrected_excluding_failed", "slope_corrected_excluding_failed", "fixed_model_c_optimism",
                  "fixed_model_c_corrected", "fixed_model_slope_corrected", "c_nomogram", "n_failed", "n_null",
                  "mape_2y", "reclassified")
#: results-JSON key of each pipeline variant (``appraisal.pipeline`` is the usual reading of the paper)
_PIPELINE_SECTIONS = {"screen": "pipeline", "screen_no_lrrt": "pipeline_no_lrrt", "fixed_terms": "pipeline_fixed_terms"}


def _pipeline_record(b: _Builder, key: str, est: analysis.Estimate, variant: str) -> dict[str, Any]:
    from dmnpc.paper import appraisal

    rec: dict[str, Any] = {**dict.fromkeys(_PIPELINE_KEYS), "selection_freq": dict.fromkeys(
                               appraisal.pipeline_candidates(variant)), "cut_ebv_dna_iqr": None,
                           "cut_immuno_cycles_iqr": None, "terms_apparent": None, "rule": None}
    if not est.ok:
        b.note(f"appraisal.{key}", est.reason)
        return rec
    s = est.value.summary()
    flat = {**s, "fixed_model_c_optimism": s["fixed"]["c_optimism"], "fixed_model_c_corrected": s["fixed"]["c_corrected"],
            "fixed_model_slope_corrected": s["fixed"]["slope_corrected"]}
    for k in _PIPELINE_KEYS:
        rec[k] = int(flat[k]) if k in ("b", "n_failed", "n_null") else _num(flat[k])
        if rec[k] is None:
            b.note(f"appraisal.{key}.{k}", "not estimable on this cohort (see the whole-pipeline chapter)")
    rec["selection_freq"].update({t: _num(v) for t, v in s["selection_freq"].items()})
    for k in ("cut_ebv_dna_iqr", "cut_immuno_cycles_iqr"):
        v = [_num(x) for x in s[k]] if s[k] is not None else None
        rec[k] = v if v and None not in v else None
        if rec[k] is None:
            b.note(f"appraisal.{key}.{k}", "no finite cut was chosen in enough replicates")
    rec["terms_apparent"] = ", ".join(s["terms_apparent"])
    rec["rule"] = s["rule"]
    return rec
_SAMPLE_SIZE_COUNTS = ("candidate_parameters", "events", "criterion1_n", "criterion2_n", "criterion3_n", "required_n")
_SAMPLE_SIZE_KEYS = ("candidate_parameters", "r2_cs", "events", "rate_per_month", "mean_followup_months",
                     "criterion1_n", "criterion2_n", "criterion3_n", "required_n", "events_per_parameter")


def _appraisal_section(b: _Builder, df: pd.DataFrame, fitted: analysis.Estimate) -> None:
    """``appraisal``: sample size, shrinkage, decision curves, Brier/IPA and O/E of the five-term OS model."""
    from dmnpc.paper import appraisal
    from dmnpc.stats import validation

    horizons = tuple(f"{h:g}" for h in HORIZONS)
    ap: dict[str, Any] = {
        "sample_size": {**dict.fromkeys(_SAMPLE_SIZE_KEYS), "r2_cs_basis": None},
        "shrinkage": {"heuristic": None, "bootstrap_slope": None, "penalised_method": None, "penalty": None},
        "continuous": dict.fromkeys(_COMPARISON_KEYS),
        "dichotomised": dict.fromkeys(_COMPARISON_KEYS),
        "dca": {h: {"thresholds": list(appraisal.DCA_THRESHOLDS), "nb_model": None, "nb_all": None} for h in horizons},
        "brier": {f"{k}_{h}": None for k in ("brier", "ipa") for h in horizons},
        "oe_24": None,
    }
    b.out["appraisal"] = ap
    _treatment_sections(b, df, ap)  # confounding and the simulation do not need the nomogram
    if not fitted.ok:
        b.note("appraisal", fitted.reason)
        for variant, key in _PIPELINE_SECTIONS.items():
            ap[key] = _pipeline_record(b, key, fitted, variant)
        return
    fit = fitted.value[0]
    ss = analysis.estimate(appraisal.sample_size, fit)
    for k in _SAMPLE_SIZE_KEYS:
        v = b.take(f"appraisal.sample_size.{k}", ss, lambda v, k=k: v[k])
        ap["sample_size"][k] = int(v) if v is not None and k in _SAMPLE_SIZE_COUNTS else v
    ap["sample_size"]["r2_cs_basis"] = ss.value["r2_cs_basis"] if ss.ok else None
    val = analysis.estimate(validation.validate_cox, fit, B=BOOT_B, seed=SEED)
    sh = analysis.estimate(appraisal.shrinkage, fit, val.value.corrected("Slope") if val.ok else None)
    ap["shrinkage"]["heuristic"] = b.take("appraisal.shrinkage.heuristic", sh, lambda v: v["heuristic"])
    if sh.ok and ap["shrinkage"]["heuristic"] is None:
        b.note("appraisal.shrinkage.heuristic", "the likelihood-ratio chi-square does not exceed its degrees of "
                                                "freedom: no positive shrinkage factor")
    ap["shrinkage"]["bootstrap_slope"] = b.take("appraisal.shrinkage.bootstrap_slope", val,
                                                lambda v: v.corrected("Slope"))
    pen = analysis.estimate(appraisal.penalised_model, fit)
    ap["shrinkage"]["penalty"] = b.take("appraisal.shrinkage.penalty", pen, lambda r: r.theta)
    ap["shrinkage"]["penalised_method"] = appraisal.PENALISED_METHOD if pen.ok else None
    cont = analysis.estimate(appraisal.continuous_model, df)
    cmp = analysis.estimate(appraisal.model_comparison, fit, cont.value) if cont.ok else cont
    for m in ("continuous", "dichotomised"):
        for k in _COMPARISON_KEYS:
            v = b.take(f"appraisal.{m}.{k}", cmp, lambda t, m=m, k=k: t.loc[m, k])
            ap[m][k] = int(v) if k == "df" and v is not None else v
    for variant, key in _PIPELINE_SECTIONS.items():
        ap[key] = _pipeline_record(b, key, analysis.estimate(appraisal.pipeline_validation, df, variant=variant),
                                   variant)
    ut = analysis.estimate(appraisal.utility, fit)
    for h, hk in zip(HORIZONS, horizons):
        d = ap["dca"][hk]
        for col in ("nb_model", "nb_all"):
            if not ut.ok:
                b.note(f"appraisal.dca.{hk}.{col}", ut.reason)
                continue
            d[col] = [_num(x) for x in ut.value[h]["dca"][col]]
            if None in d[col]:
                b.note(f"appraisal.dca.{hk}.{col}", "null where the treated patients are not followed to the horizon")
        ap["brier"][f"brier_{hk}"] = b.take(f"appraisal.brier.brier_{hk}", ut, lambda v: v[h]["brier"].brier)
        ap["brier"][f"ipa_{hk}"] = b.take(f"appraisal.brier.ipa_{hk}", ut, lambda v: v[h]["brier"].ipa)
    ap["oe_24"] = b.take("appraisal.oe_24", ut, lambda v: v[24.0]["oe"].ratio if 24.0 in v else None)


_WEIGHTED_KEYS = ("hr", "lower", "upper", "p", "ess_lrrt", "ess_no_lrrt", "max_abs_smd_before", "max_abs_smd_after")
_SIM_KEYS = ("replicates", "seed", "true_hr", "pattern_rate", "pattern_rate_lower", "pattern_rate_upper")
_SIM_SCENARIO_KEYS = ("true_hr", "assignment", "n", "pattern_rate", "pattern_rate_lower", "pattern_rate_upper")


def _landmark_and_modification(b: _Builder, df: pd.DataFrame, ap: dict[str, Any],
                               st: analysis.Stratification | None, scores: pd.DataFrame | None) -> None:
    """``appraisal.landmark`` (guarantee time) and ``appraisal.interaction`` (effect modification)."""
    from dmnpc.paper import treatment

    lm = treatment.landmark_analysis(df)  # never raises on a cohort: its fits are Estimates
    cox_os, lrrt = lm["cox_os"], lm["lrrt"]
    for key, est in (("cox_os", cox_os), ("lrrt", lrrt)):
        if not est.ok:
            b.note(f"appraisal.landmark.{key}", est.reason)
    ap["landmark"] = {"months": lm["months"], "n": lm["n"], "events": lm["events"],
                      "cox_os": {t: _hr(cox_os.value[t] if cox_os.ok else None) for t in OS_TERMS},
                      "lrrt": _hr(lrrt.value if lrrt.ok else None)}
    diff_keys = ("est", "lower", "upper")
    it = {"shared_baseline_ratio": None, "shared_baseline_p": None, "stratified_ratio": None, "stratified_p": None,
          "continuous_score_p": None, "surv24_diff_low": dict.fromkeys(diff_keys),
          "surv24_diff_high": dict.fromkeys(diff_keys)}
    ap["interaction"] = it
    if st is None or scores is None:
        b.note("appraisal.interaction", "no nomogram score to split at")
        return
    em = treatment.effect_modification(df, st, scores)
    for name, key in (("shared", "shared_baseline"), ("stratified", "stratified")):
        it[f"{key}_ratio"] = b.take(f"appraisal.interaction.{key}_ratio", em[name], lambda x: x.ratio)
        it[f"{key}_p"] = b.take(f"appraisal.interaction.{key}_p", em[name], lambda x: x.p)
    it["continuous_score_p"] = b.take("appraisal.interaction.continuous_score_p", em["continuous"], lambda x: x.p)
    for c in ("low", "high"):
        est = em[f"diff_{c}"]
        it[f"surv24_diff_{c}"] = {k: b.take(f"appraisal.interaction.surv24_diff_{c}.{k}", est, lambda d, k=k: d[k])
                                  for k in diff_keys}


def _treatment_sections(b: _Builder, df: pd.DataFrame, ap: dict[str, Any]) -> None:
    """``appraisal.iptw`` / ``overlap`` / ``evalue`` (confounding) and ``appraisal.simulation``."""
    from dmnpc.paper import confounding, simulation

    conf = analysis.estimate(confounding.confounding, df)
    for code in confounding.WEIGHTS:
        rec = dict.fromkeys(_WEIGHTED_KEYS)
        if conf.ok:
            h = conf.value.hr[code]
            rec.update({k: _num(h[k]) for k in ("hr", "lower", "upper", "p")},
                       ess_lrrt=_num(h["ess_treated"]), ess_no_lrrt=_num(h["ess_untreated"]),
                       max_abs_smd_before=_num(conf.value.max_abs_smd()),
                       max_abs_smd_after=_num(conf.value.max_abs_smd(code)))
        else:
            b.note(f"appraisal.{code}", conf.reason)
        ap[code] = rec
    ev = conf.value.evalue if conf.ok else None
    ap["evalue"] = {"point": None if ev is None else _num(ev.evalue),
                    "ci": None if ev is None else _num(ev.evalue_ci)}
    if ev is None:
        b.note("appraisal.evalue", conf.reason)
    sim = analysis.estimate(simulation.simulation_summary, df)
    rec = {**dict.fromkeys(_SIM_KEYS), "scenario": None,
           "scenarios": {name: dict.fromkeys(_SIM_SCENARIO_KEYS) for name in simulation.SCENARIOS}}
    if sim.ok:
        s = sim.value
        rec.update({k: (int(s[k]) if k in ("replicates", "seed") else _num(s[k])) for k in _SIM_KEYS})
        rec["scenario"] = s["scenario"]
        rec["scenarios"] = {name: {k: (v if k == "assignment" else _num(v)) for k, v in sc.items()
                                   if k in _SIM_SCENARIO_KEYS} for name, sc in s["scenarios"].items()}
    else:
        b.note("appraisal.simulation", sim.reason)
    ap["simulation"] = rec


def compute_results(df: pd.DataFrame) -> dict[str, Any]:
    """Run the paper's analysis on a validated cohort and return the results dictionary.

    Parameters
    ----------
    df : pandas.DataFrame
        A cohort from :func:`dmnpc.paper.contract.load_cohort`.

    Returns
    -------
    dict
        JSON-serialisable (strict JSON: no NaN or infinity); keys as documented in the
        module docstring and the reproduction chapter. Every key is always present:
        a value that cannot be estimated on this cohort (a median not reached, a hazard
        ratio in an arm without deaths, a model with monotone likelihood) is ``None``,
        and ``notes`` maps its dotted key to the reason.
    """
    b = _Builder()
    n_lrrt = int(df["lrrt"].sum())
    b.out.update(n=int(len(df)), n_lrrt=n_lrrt, n_no_lrrt=int(len(df) - n_lrrt))
    _survival_sections(b, df)
    _cutoffs_section(b, df)
    _table1_section(b, df)
    fitted = analysis.estimate(analysis.os_nomogram, df)   # fitted once, shared by the sections below
    _cox_sections(b, df)
    _ph_section(b, df)
    _nomogram_section(b, df, fitted)
    st = analysis.stratify(df, scores=fitted.value[2]) if fitted.ok else None
    if not fitted.ok:
        for key in ("risk", "lrrt_in_high", "lrrt_in_low", "other.lrrt_in_low", "other.lrrt_in_high"):
            b.note(key, f"no nomogram score to split at: {fitted.reason}")
    _risk_section(b, df, st)
    _other_section(b, df, st)
    _appraisal_section(b, df, fitted)
    _landmark_and_modification(b, df, b.out["appraisal"], st, fitted.value[2] if fitted.ok else None)
    b.out["notes"] = b.notes()
    return b.out
