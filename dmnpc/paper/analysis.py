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
from dmnpc.paper.variables import OS_TERMS, PAPER_CUTOFFS, PFS_TERMS, SCREEN_TERMS, Cutoffs, design_matrix

__all__ = ["ENDPOINTS", "HORIZONS", "Endpoint", "endpoint", "km_summary", "km_by", "lrrt_labels",
           "model_data", "multivariable", "univariable"]

#: Time points (months) of the paper's survival rates, time-dependent AUC and calibration.
HORIZONS: tuple[float, float] = (12.0, 24.0)


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


def km_by(df: pd.DataFrame, key: str, group: pd.Series, labels: dict[Any, str],
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
    labels : dict
        Group value -> display label, in display order.

    Returns
    -------
    dict
        ``groups`` (label -> :func:`km_summary` dict), ``logrank``
        (:class:`dmnpc.stats.km.LogRankResult`).
    """
    ep = endpoint(key)
    groups = {lab: km_summary(df[group.values == val], key, horizons) for val, lab in labels.items()}
    lr = km.logrank_test(df[ep.time], df[ep.event], group.values)
    return {"groups": groups, "logrank": lr}


def lrrt_labels() -> dict[int, str]:
    """Display labels of the LRRT arms, LRRT first as in the paper's figures."""
    return {1: "LRRT", 0: "Without LRRT"}


def cutoffs_used(df: pd.DataFrame) -> Cutoffs:
    """Cut points the models use: the paper's, so a re-analysis is comparable."""
    return PAPER_CUTOFFS


def _nan_to_none(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)


def model_data(df: pd.DataFrame, key: str, terms: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """Design columns (0/1, adverse level = 1) plus the endpoint's time and event columns."""
    ep = endpoint(key)
    X = design_matrix(df, tuple(terms), cutoffs_used(df))
    X[ep.time] = df[ep.time].astype(float)
    X[ep.event] = df[ep.event].astype(float)
    return X


def multivariable(df: pd.DataFrame, key: str, terms: tuple[str, ...] | None = None) -> cox.CoxFit:
    """The paper's multivariable Cox model (Fig. 2C for OS, 2D for PFS).

    The paper reports the five OS factors (age, EBV DNA, metastatic lesions,
    chemotherapy and immunotherapy cycles); for PFS it reports the same
    five-term model, in which lesions and chemotherapy cycles were significant.
    """
    if terms is None:
        terms = OS_TERMS if key == "os" else PFS_TERMS
    ep = endpoint(key)
    return cox.fit_cox(model_data(df, key, terms), ep.time, ep.event)


def univariable(df: pd.DataFrame, key: str, terms: tuple[str, ...] = SCREEN_TERMS) -> pd.DataFrame:
    """Univariable Cox screen of every baseline variable (Suppl. Table S1)."""
    ep = endpoint(key)
    return cox.univariable_screen(model_data(df, key, terms), ep.time, ep.event, list(terms))


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

    fit = multivariable(df, "os")
    nom = nomogram.build_nomogram(fit.model, fit.data, times=times)
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
    interaction : dmnpc.stats.subgroup.InteractionTest
        LRRT x risk-cohort interaction for OS (the test the subgroup P values stand in for).
    """

    scores: pd.DataFrame
    risk: pd.Series
    threshold: float
    os: dict
    pfs: dict
    lrrt_os: pd.DataFrame
    lrrt_pfs: pd.DataFrame
    interaction: Any


def stratify(df: pd.DataFrame, scores: pd.DataFrame | None = None) -> Stratification:
    """Split at the mean nomogram score and compare LRRT within each risk cohort.

    ``scores`` (from :func:`os_nomogram`) may be passed to avoid refitting the model.
    """
    from dmnpc.stats import subgroup as _risk

    if scores is None:
        _, _, scores = os_nomogram(df)
    groups = _risk.risk_groups(scores["total_points"], "mean")
    threshold = float(groups.attrs.get("threshold", float(scores["total_points"].mean())))
    labels = {"low": "Low risk", "high": "High risk"}
    g = groups.astype(str)
    os_ = km_by(df, "os", g, labels)
    pfs_ = km_by(df, "pfs", g, labels)
    frame = df.assign(_risk=pd.Categorical(g, categories=["low", "high"], ordered=True))
    lrrt_os = _risk.hr_by_stratum(frame, "os_months", "os_event", "lrrt", "_risk")
    lrrt_pfs = _risk.hr_by_stratum(frame, "pfs_months", "pfs_event", "lrrt", "_risk")
    inter = _risk.interaction_test(frame, "os_months", "os_event", "lrrt", "_risk")
    return Stratification(scores=scores, risk=g, threshold=threshold, os=os_, pfs=pfs_,
                          lrrt_os=lrrt_os, lrrt_pfs=lrrt_pfs, interaction=inter)


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


#: Test used for the baseline tables: the audit shows the paper's P values are Fisher's exact
#: test, although its Methods say chi-square (see the audit chapter).
TABLE_TEST = "fisher"


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


#: Outcome the paper's ROC cut points are taken against: death during follow-up (OS event).
#: The paper does not say; with it, the Youden cut on the synthetic twin is the published one.
CUT_OUTCOME = "os_event"


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
    from dmnpc.stats import roc

    y = df[CUT_OUTCOME]
    return {m: roc.youden_cut(df[m], y) for m in ("ebv_dna", "immuno_cycles")}


#: Bootstrap replicates used by the book for internal validation (rms recommends >= 200).
BOOT_B = 200
#: Patients per group in grouped calibration: three groups of about 30 in n = 90
#: (rms's default m = 150 would give no groups at all in this cohort).
CALIBRATION_M = 30


def validation(df: pd.DataFrame, B: int = BOOT_B, seed: int = 20240217,
               horizons: tuple[float, ...] = HORIZONS, m: int = CALIBRATION_M) -> dict[str, Any]:
    """Apparent and bootstrap optimism-corrected performance of the 5-factor OS model (Fig. 3C).

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

    X = design_matrix(df, OS_TERMS, cutoffs_used(df)).to_numpy(float)
    t = df["os_months"].to_numpy(float)
    e = df["os_event"].to_numpy(float)
    out: dict[str, Any] = {"validate": _val.validate_cox(X, t, e, B=B, seed=seed)}
    for h in horizons:
        out[f"calib_{h:g}"] = calibration.calibration_km_boot(X, t, e, h, m=m, B=B, seed=seed)
        pred = calibration.cox_predicted_survival(X, t, e, h)
        out[f"smooth_{h:g}"] = calibration.calibration_smooth(pred, t, e, h)
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
    for arm, lab in ((1, "LRRT"), (0, "Without LRRT")):
        rows.append({"box": f"lrrt{arm}", "parent": "all", "label": lab, "n": int((df["lrrt"] == arm).sum())})
    if risk is not None:
        for arm, lab in ((1, "LRRT"), (0, "Without LRRT")):
            for r in ("low", "high"):
                rows.append({"box": f"lrrt{arm}_{r}", "parent": f"lrrt{arm}",
                             "label": f"{r.capitalize()} risk", "n": int(((df["lrrt"] == arm) & (risk == r)).sum())})
    return pd.DataFrame(rows)
