"""The paper's analysis, step by step, on a validated cohort.

Each function is one step of Chen et al. (2024) and returns data; the chapters
show them and :mod:`dmnpc.paper.report` collects their numbers into the results
JSON, so the book and the JSON can never disagree. The statistics themselves
live in the topic modules (:mod:`dmnpc.stats.km`, :mod:`dmnpc.stats.cox`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dmnpc.stats import contingency, cox, km
from dmnpc.paper.variables import (BOOT_B, CALIBRATION_M, CUT_OUTCOME, HORIZONS, LABELS, LRRT_ARMS, OS_TERMS,
                                   PAPER_CUTOFFS, PAPER_LEVEL_LABELS, PAPER_TERM_LABELS, PFS_TERMS, RISK_COHORTS,
                                   SCREEN_TERMS, SEED, TABLE_TEST, Cutoffs, design_matrix)

# The constants (HORIZONS, BOOT_B, CALIBRATION_M, CUT_OUTCOME, TABLE_TEST, SEED) are defined once in
# dmnpc.paper.variables and re-exported here for the callers that think of them as analysis settings.
__all__ = ["ENDPOINTS", "HORIZONS", "BOOT_B", "CALIBRATION_M", "CUT_OUTCOME", "TABLE_TEST", "SEED", "Endpoint",
           "Estimate", "estimate", "endpoint", "km_summary", "km_by", "km_by_lrrt", "multivariable", "univariable"]


@dataclass(frozen=True)
class Estimate:
    """A quantity that may not be estimable on a cohort: its ``value``, or ``None`` and the ``reason``.

    Not estimable is a result, not an error: the report writes ``null`` with the reason, and a
    chapter prints "not estimable: reason" in place of the number, table or figure.
    """

    value: Any
    reason: str = ""

    @property
    def ok(self) -> bool:
        """True when the quantity was estimated."""
        return self.reason == ""


def estimate(fn, *args, **kwargs) -> Estimate:
    """Call ``fn``; a :class:`ValueError` (the statistics' "cannot be estimated on these data") becomes the reason.

    Only ``ValueError`` is caught: the statistics raise it, with a reader's message, for data
    that do not allow the estimate (no events in an arm, a constant predictor, monotone
    likelihood, a horizon beyond follow-up). Any other exception is a bug and propagates.
    """
    try:
        return Estimate(fn(*args, **kwargs))
    except ValueError as err:
        return Estimate(None, str(err))


@dataclass(frozen=True)
class Endpoint:
    """A survival endpoint: its columns in the data contract and its name."""

    key: str
    time: str
    event: str
    label: str


ENDPOINTS: dict[str, Endpoint] = {
    "os": Endpoint("os", "os_months", "os_event", "Overall survival"),
    "pfs": Endpoint("pfs", "pfs_months", "pfs_event", "Progression-free survival"),
}


def endpoint(key: str) -> Endpoint:
    """Look up an endpoint by key ('os' or 'pfs')."""
    if key not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {key!r}: expected 'os' or 'pfs'")
    return ENDPOINTS[key]


def km_summary(df: pd.DataFrame, key: str, horizons: tuple[float, ...] = HORIZONS) -> dict[str, Any]:
    """Kaplan-Meier fit, median and survival at the horizons for one endpoint.

    Returns
    -------
    dict
        ``km`` (:class:`dmnpc.stats.km.KMResult`), ``median``, ``median_lower``,
        ``median_upper`` (months; NaN when not reached), ``n``, ``events`` and
        ``surv_<h>`` with ``lower_<h>``/``upper_<h>`` for each horizon ``h``.
    """
    ep = endpoint(key)
    fit = km.kaplan_meier(df[ep.time], df[ep.event])
    med, lo, hi = km.median_survival(fit)
    out: dict[str, Any] = {"km": fit, "median": med, "median_lower": lo, "median_upper": hi,
                           "n": int(fit.n), "events": int(fit.n_events)}
    at = km.survival_at(fit, list(horizons))
    for h, row in zip(horizons, at.itertuples(index=False)):
        out[f"surv_{h:g}"] = float(row.surv)
        out[f"lower_{h:g}"] = float(row.lower)
        out[f"upper_{h:g}"] = float(row.upper)
    return out


def km_by(df: pd.DataFrame, key: str, group: pd.Series, levels: dict[str, Any],
          horizons: tuple[float, ...] = HORIZONS) -> dict[str, Any]:
    """Kaplan-Meier summaries per group and the log-rank test between them.

    Parameters
    ----------
    df : pandas.DataFrame
        A validated cohort.
    key : {'os', 'pfs'}
        Endpoint.
    group : pandas.Series
        Group of each patient (aligned with ``df``).
    levels : dict
        Group code -> value of ``group``, in display order (e.g.
        :data:`dmnpc.paper.variables.LRRT_ARMS`). Display labels are not used here:
        they come from :data:`dmnpc.paper.variables.LABELS` when a figure is drawn.

    Returns
    -------
    dict
        ``groups`` (code -> :class:`Estimate` of the :func:`km_summary` dict; not estimable
        for a group without patients), ``logrank`` (:class:`Estimate` of the
        :class:`dmnpc.stats.km.LogRankResult`; not estimable with fewer than two groups).
    """
    ep = endpoint(key)
    groups = {}
    for code, val in levels.items():
        sub = df[group.values == val]
        groups[code] = (estimate(km_summary, sub, key, horizons) if len(sub)
                        else Estimate(None, f"no patient is in the {LABELS.get(code, code)} group"))
    lr = estimate(km.logrank_test, df[ep.time], df[ep.event], group.values)
    return {"groups": groups, "logrank": lr}


def km_by_lrrt(df: pd.DataFrame, key: str, horizons: tuple[float, ...] = HORIZONS) -> dict[str, Any]:
    """:func:`km_by` the LRRT arms (codes ``lrrt``, ``no_lrrt``; LRRT first as in the paper's figures)."""
    return km_by(df, key, df["lrrt"], LRRT_ARMS, horizons)


def cutoffs_used(df: pd.DataFrame) -> Cutoffs:
    """Cut points the models use (the results JSON's ``model_cutoffs``).

    With ``cut_rule: paper`` (``settings.yml``, the default) the paper's printed cuts, so a
    re-analysis is comparable; with ``cut_rule: youden`` the EBV DNA and immunotherapy cuts are
    re-derived on this cohort by :func:`cut_point` (age and chemotherapy keep the paper's).

    Raises
    ------
    ValueError
        With ``youden``, when a Youden cut is not estimable on this cohort (the reason).
    """
    from dataclasses import replace

    from dmnpc.paper.settings import current

    if current().cut_rule == "paper":
        return PAPER_CUTOFFS
    cuts = {}
    for m in CUT_MARKERS:
        est = estimate(cut_point, df, m)
        if not est.ok or not np.isfinite(est.value.threshold):
            raise ValueError(f"the Youden cut point of {m} is not estimable on this cohort "
                             f"({est.reason or 'no finite cut'}), so cut_rule: youden cannot be used")
        cuts[m] = float(est.value.threshold)
    return replace(PAPER_CUTOFFS, **cuts)


def _nan_to_none(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)


def multivariable(df: pd.DataFrame, key: str, terms: tuple[str, ...] | None = None) -> cox.CoxFit:
    """The paper's multivariable Cox model (Fig. 2C for OS, 2D for PFS).

    The paper reports the five OS factors (age, EBV DNA, metastatic lesions,
    chemotherapy and immunotherapy cycles); for PFS it reports the same
    five-term model, in which lesions and chemotherapy cycles were significant.
    """
    if terms is None:
        terms = OS_TERMS if key == "os" else PFS_TERMS
    ep = endpoint(key)
    return cox.fit_cox(df[ep.time], df[ep.event], design_matrix(df, tuple(terms), cutoffs_used(df)))


def fitted_model(df: pd.DataFrame, key: str) -> cox.CoxFit:
    """The paper's multivariable model for ``key``, or a :class:`ValueError` saying why it cannot be fitted."""
    return converged(multivariable(df, key))


def converged(fit: cox.CoxFit) -> cox.CoxFit:
    """``fit`` itself, or a :class:`ValueError` saying why its hazard ratios cannot be estimated."""
    if not fit.converged:
        which = ", ".join(fit.infinite or fit.terms)
        raise ValueError(f"the Cox model has no finite maximum: the coefficient of {which} runs to infinity "
                         "(monotone likelihood, e.g. a level without deaths), so its hazard ratios cannot be "
                         "estimated")
    return fit


#: A two-level term whose smaller level has fewer patients or events than this is flagged as
#: uninterpretable: its hazard ratio rests on a handful of patients (ECOG 0 is one patient in the paper).
MIN_SMALLER_GROUP = 5
MIN_SMALLER_EVENTS = 2


def univariable(df: pd.DataFrame, key: str, terms: tuple[str, ...] = SCREEN_TERMS) -> pd.DataFrame:
    """Univariable Cox screen of every baseline variable (Suppl. Table S1).

    Adds ``flag``: why an estimated hazard ratio is uninterpretable although it was computed
    (its smaller level has fewer than :data:`MIN_SMALLER_GROUP` patients or fewer than
    :data:`MIN_SMALLER_EVENTS` events), "" otherwise.
    """
    ep = endpoint(key)
    out = cox.univariable_screen(df[ep.time], df[ep.event], design_matrix(df, tuple(terms), cutoffs_used(df)))
    sparse = (out["n_smaller"] < MIN_SMALLER_GROUP) | (out["events_smaller"] < MIN_SMALLER_EVENTS)
    out["flag"] = [
        (f"uninterpretable: its smaller group has {int(n)} patient{'s' if n != 1 else ''} "
         f"and {int(d)} event{'s' if d != 1 else ''}") if s_ and not note else ""
        for s_, n, d, note in zip(sparse, out["n_smaller"], out["events_smaller"], out["note"])]
    return out


def flagged_summary(fit: cox.CoxFit, screen: pd.DataFrame) -> pd.DataFrame:
    """A multivariable model's summary with the ``flag`` of each term from the univariable ``screen``.

    Whether a term's smaller group is too small to interpret (:func:`univariable`) depends on the
    patients and events in its levels, not on the other terms, so the screen's flag carries over.
    """
    flags = screen.set_index("term")["flag"]
    return fit.summary.assign(flag=[flags.get(t, "") for t in fit.summary["term"]])


def os_nomogram(df: pd.DataFrame, times: tuple[float, ...] = HORIZONS):
    """The 5-factor OS nomogram (Fig. 3A) and every patient's score.

    Returns
    -------
    tuple
        ``(fit, nom, scores)``: the multivariable OS :class:`dmnpc.stats.cox.CoxFit`,
        the :class:`dmnpc.stats.nomogram.Nomogram` built from it, and the
        :func:`dmnpc.stats.nomogram.score` table of the cohort (points per term,
        ``total_points``, ``lp``, ``surv_12``, ``surv_24``), indexed like ``df``.
    """
    from dmnpc.stats import nomogram

    fit = converged(multivariable(df, "os"))
    nom = nomogram.build_nomogram(fit, times=times, labels=PAPER_TERM_LABELS, level_labels=PAPER_LEVEL_LABELS)
    X = design_matrix(df, OS_TERMS, cutoffs_used(df))
    return fit, nom, nomogram.score(nom, X)


#: The invented patient of the nomogram chapter's worked example (in the spirit of Suppl. Fig. S3).
HYPOTHETICAL_PATIENT: dict[str, Any] = {"age": 56.0, "ebv_dna": 120_000.0, "met_lesions": "multiple",
                                        "chemo_cycles": 4, "immuno_cycles": 10}


def hypothetical_patient() -> pd.DataFrame:
    """Design row (the five OS terms) of :data:`HYPOTHETICAL_PATIENT`, coded with the model's cut points."""
    raw = pd.DataFrame({k: [v] for k, v in HYPOTHETICAL_PATIENT.items()})
    return design_matrix(raw, OS_TERMS, PAPER_CUTOFFS)


def describe_hypothetical_patient() -> str:
    """:data:`HYPOTHETICAL_PATIENT` in words, for the chapter's prose."""
    p = HYPOTHETICAL_PATIENT
    return (f"aged {p['age']:.0f}, with EBV DNA of {p['ebv_dna']:,.0f} copies/mL, {p['met_lesions']} "
            f"metastatic lesions, {p['chemo_cycles']} cycles of chemotherapy and {p['immuno_cycles']} "
            "of immunotherapy")


@dataclass(frozen=True)
class Stratification:
    """The paper's risk stratification (Results, Risk stratification; Table 2; Fig. 4).

    Attributes
    ----------
    scores : pandas.DataFrame
        Nomogram score of every patient (:func:`os_nomogram`).
    risk : pandas.Series
        'low'/'high' per patient: total points at or below the cohort mean are low.
    threshold : float
        The mean total points.
    os, pfs : dict
        :func:`km_by` by risk cohort (low first).
    lrrt_os, lrrt_pfs : pandas.DataFrame
        :func:`dmnpc.stats.subgroup.hr_by_stratum`: without- vs with-LRRT within each risk cohort.
    interaction : Estimate
        Of the :class:`dmnpc.stats.subgroup.InteractionTest`: LRRT x risk-cohort interaction for
        OS (the test the subgroup P values stand in for); not estimable when a risk cohort x arm
        cell has no deaths or one cohort is empty. One baseline hazard shared by the cohorts.
    interaction_stratified : Estimate
        The same test with one baseline hazard per risk cohort (``strata(risk)``), whose
        per-cohort HRs equal the separate within-cohort fits.
    """

    scores: pd.DataFrame
    risk: pd.Series
    threshold: float
    os: dict
    pfs: dict
    lrrt_os: pd.DataFrame
    lrrt_pfs: pd.DataFrame
    interaction: Estimate
    interaction_stratified: Estimate


def stratify(df: pd.DataFrame, scores: pd.DataFrame | None = None) -> Stratification:
    """Split at the mean nomogram score and compare LRRT within each risk cohort.

    ``scores`` (from :func:`os_nomogram`) may be passed to avoid refitting the model.
    """
    from dmnpc.stats import subgroup as _risk

    if scores is None:
        _, _, scores = os_nomogram(df)
    from dmnpc.paper.settings import current

    groups = _risk.risk_groups(scores["total_points"], current().risk_split)
    threshold = float(groups.attrs.get("threshold", float(scores["total_points"].mean())))
    cohorts = {c: c for c in RISK_COHORTS}
    g = groups.astype(str)
    os_ = km_by(df, "os", g, cohorts)
    pfs_ = km_by(df, "pfs", g, cohorts)
    frame = df.assign(_risk=pd.Categorical(g, categories=list(RISK_COHORTS), ordered=True))
    lrrt_os = _risk.hr_by_stratum(frame["os_months"], frame["os_event"], frame["lrrt"], frame["_risk"])
    lrrt_pfs = _risk.hr_by_stratum(frame["pfs_months"], frame["pfs_event"], frame["lrrt"], frame["_risk"])
    inter = {s_: estimate(_risk.interaction_test, frame["os_months"], frame["os_event"], frame["lrrt"],
                          frame["_risk"], stratified=s_) for s_ in (False, True)}
    return Stratification(scores=scores, risk=g, threshold=threshold, os=os_, pfs=pfs_,
                          lrrt_os=lrrt_os, lrrt_pfs=lrrt_pfs, interaction=inter[False],
                          interaction_stratified=inter[True])


def discrimination(df: pd.DataFrame, times: tuple[float, ...] = HORIZONS,
                   scores: pd.DataFrame | None = None) -> dict[str, Any]:
    """Apparent discrimination of the OS nomogram (Results, Construction; Fig. 3B).

    Returns
    -------
    dict
        ``harrell`` (:class:`dmnpc.stats.discrimination.ConcordanceResult`, Harrell's C with the
        infinitesimal-jackknife CI of ``survival::concordance``), ``uno``
        (Uno's C truncated at the last horizon) and ``auc`` (IPCW cumulative/dynamic
        AUC at the horizons, :func:`dmnpc.stats.discrimination.time_dependent_auc`), all from the
        nomogram's linear predictor evaluated on the patients it was fitted to.
        ``scores`` (from :func:`os_nomogram`) may be passed to avoid refitting.
    """
    from dmnpc.stats import discrimination

    if scores is None:
        _, _, scores = os_nomogram(df, times)
    t, e, lp = df["os_months"], df["os_event"], scores["lp"]
    return {"harrell": discrimination.harrell_c(t, e, lp), "uno": discrimination.uno_c(t, e, lp, tau=max(times)),
            "auc": discrimination.time_dependent_auc(t, e, lp, list(times))}


def table1_p_values(df: pd.DataFrame) -> pd.DataFrame:
    """Table 1 P value of every variable under the three candidate tests.

    Returns
    -------
    pandas.DataFrame
        Index: grouping name (data-contract column); columns ``label``,
        ``chi2``, ``chi2_yates``, ``fisher`` and ``min_expected`` (the smallest
        expected cell count under independence, the usual warning sign for
        the chi-square approximation when below 5).
    """
    from dmnpc.paper import tables

    cols = {}
    for test in ("chi2", "chi2_yates", "fisher"):
        t = tables.baseline_table(df, "lrrt", test=test)
        cols[test] = t.groupby("variable", sort=False)["p"].first()
        cols["label"] = t.groupby("variable", sort=False)["label"].first()
    known = t[t["level"] != "Missing"]
    cols["min_expected"] = pd.Series({
        v: contingency.categorical_p_values(g.pivot_table(index="level", columns="arm", values="n",
                                                          aggfunc="sum", sort=False).to_numpy())["min_expected"]
        for v, g in known.groupby("variable", sort=False)})
    return pd.DataFrame(cols)[["label", "chi2", "chi2_yates", "fisher", "min_expected"]]


def cut_points(df: pd.DataFrame) -> dict[str, Any]:
    """Youden-optimal cut points of EBV DNA and immunotherapy cycles (Suppl. Fig. S1).

    Returns
    -------
    dict
        ``ebv_dna`` and ``immuno_cycles``: :class:`dmnpc.stats.roc.CutResult` of the
        ROC of each marker against death (:data:`CUT_OUTCOME`), with pROC's
        midpoint ``threshold`` (the value the paper reports) and the observed
        value at or above it.
    """
    return {m: cut_point(df, m) for m in CUT_MARKERS}


#: The markers the paper dichotomised at ROC-derived cut points.
CUT_MARKERS: tuple[str, str] = ("ebv_dna", "immuno_cycles")


def cut_point(df: pd.DataFrame, marker: str):
    """Youden-optimal cut point of one marker against death (:data:`CUT_OUTCOME`); see :func:`cut_points`."""
    from dmnpc.stats import roc

    return roc.youden_cut(df[marker], df[CUT_OUTCOME])


def validation(fit: cox.CoxFit, B: int = BOOT_B, seed: int = SEED,
               horizons: tuple[float, ...] = HORIZONS, m: int = CALIBRATION_M) -> dict[str, Any]:
    """Apparent and bootstrap optimism-corrected performance of a fitted OS model (Fig. 3C).

    ``fit`` is the 5-factor OS model of :func:`os_nomogram` (fit once, pass the fit).

    The bootstrap refits the same five dichotomised terms in every replicate
    (as ``rms::validate``/``rms::calibrate``); it does not repeat the cut-point
    search or the selection of the terms, so it still understates the optimism
    of the paper's whole modelling pipeline.

    Returns
    -------
    dict
        ``validate`` (:class:`dmnpc.stats.validation.ValidationResult`), and per horizon
        ``h``: ``calib_<h>`` (grouped KM calibration with bootstrap correction,
        :func:`dmnpc.stats.calibration.calibration_km_boot`) and ``smooth_<h>``
        (:class:`dmnpc.stats.calibration.SmoothCalibration`).
    """
    from dmnpc.stats import calibration
    from dmnpc.stats import validation as _val

    out: dict[str, Any] = {"validate": _val.validate_cox(fit, B=B, seed=seed)}
    for h in horizons:
        out[f"calib_{h:g}"] = calibration.calibration_km_boot(fit, h, m=m, B=B, seed=seed)
        pred = fit.predict_survival(h)[:, 0]
        out[f"smooth_{h:g}"] = calibration.calibration_smooth(pred, fit.time, fit.event, h)
    return out


def flow_counts(df: pd.DataFrame, risk: pd.Series | None = None) -> pd.DataFrame:
    """Count the boxes of the patient-flow diagram (the paper's Fig. 1) from the cohort.

    Parameters
    ----------
    df : pandas.DataFrame
        A validated cohort.
    risk : pandas.Series, optional
        'low'/'high' risk cohort per patient (from the nomogram); adds the
        risk x LRRT boxes when given.

    Returns
    -------
    pandas.DataFrame
        Columns ``box``, ``parent``, ``label``, ``n`` (one row per box).
    """
    rows = [{"box": "all", "parent": "", "label": "Included: dmNPC, first-line\nchemoimmunotherapy",
             "n": int(len(df))}]
    for code, arm in LRRT_ARMS.items():
        rows.append({"box": f"lrrt{arm}", "parent": "all", "label": LABELS[code],
                     "n": int((df["lrrt"] == arm).sum())})
    if risk is not None:
        for code, arm in LRRT_ARMS.items():
            for r in RISK_COHORTS:
                rows.append({"box": f"lrrt{arm}_{r}", "parent": f"lrrt{arm}",
                             "label": LABELS[r], "n": int(((df["lrrt"] == arm) & (risk == r)).sum())})
    return pd.DataFrame(rows)
