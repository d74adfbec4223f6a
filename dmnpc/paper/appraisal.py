"""Appraisal of the paper's prediction model: sample size, shrinkage, clinical utility.

The paper developed its nomogram on 90 patients and judged it by discrimination and
calibration on the same patients. This module adds what the prediction-modelling literature
asks of such a model (Riley et al. 2020; Steyerberg 2019; McLernon et al. 2023), on
whichever cohort the book runs:

* :func:`sample_size` -- was the cohort big enough for the number of candidate predictors
  (Riley et al. 2020, all three criteria)?
* :func:`shrinkage` -- how much should the five-term model's coefficients shrink
  (van Houwelingen & le Cessie's heuristic factor, the bootstrap calibration slope)?
* :func:`utility` -- is the model useful for decisions (decision curves), and how accurate
  are its predicted probabilities (IPCW Brier score, IPA, observed/expected)?

Each takes the fitted five-term OS model (:func:`dmnpc.paper.analysis.os_nomogram`; fit once,
pass the fit) and returns plain numbers; the results JSON (``appraisal.*``) and the Appraisal
chapters read them.

References
----------
Riley RD, Ensor J, Snell KIE, et al. Calculating the sample size required for developing a
clinical prediction model. BMJ 2020;368:m441.
van Houwelingen JC, le Cessie S. Predictive value of statistical models. Stat Med
1990;9:1303-1325.
Vickers AJ, Cronin AM, Elkin EB, Gonen M. Extensions to decision curve analysis, a novel
method for evaluating diagnostic tests, prediction models and molecular markers. BMC Med
Inform Decis Mak 2008;8:53.
Kattan MW, Gerds TA. The index of prediction accuracy: an intuitive measure useful for
evaluating risk prediction models. Diagn Progn Res 2018;2:7.
McLernon DJ, Giardiello D, Van Calster B, et al. Assessing performance and clinical
usefulness in prediction models with survival outcomes: practical guidance for Cox
proportional hazards models. Ann Intern Med 2023;176:105-114.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dmnpc.paper.variables import HORIZONS, OS_TERMS, SCREEN_TERMS
from dmnpc.stats import penalised, samplesize, splines
from dmnpc.stats import utility as _utility
from dmnpc.stats.cox import CoxFit

__all__ = ["DCA_THRESHOLDS", "SAMPLE_SIZE_TIMEPOINT", "CANDIDATE_PARAMETERS", "CONTINUOUS_SPLINES", "PENALISED_METHOD",
           "continuous_predictors", "continuous_model", "model_comparison", "penalised_model", "sample_size",
           "shrinkage", "utility", "dca_frame"]

#: The continuous model's spline terms: restricted cubic splines with 3 knots at rms's default
#: places (the 10th, 50th and 90th percentiles; the 5th smallest and largest values below 100 patients).
CONTINUOUS_SPLINES: dict[str, int] = {"age": 3, "log10_ebv_dna": 3}


def continuous_predictors(df: pd.DataFrame) -> pd.DataFrame:
    """The paper's five OS factors without their cut points.

    Age in years and log10(EBV DNA + 1) (to be splined), chemotherapy and immunotherapy cycles as
    counts (linear), multiple metastatic lesions as 0/1. The cycle counts are post-baseline (they
    accrue while the patient lives), as in the paper's own model.
    """
    return pd.DataFrame({
        "age": df["age"].astype(float),
        "log10_ebv_dna": np.log10(df["ebv_dna"].astype(float) + 1.0),
        "chemo_cycles": df["chemo_cycles"].astype(float),
        "immuno_cycles": df["immuno_cycles"].astype(float),
        "multiple_lesions": (df["met_lesions"].astype(str) == "multiple").astype(float),
    }, index=df.index)


def continuous_model(df: pd.DataFrame) -> splines.RcsCoxFit:
    """Cox model of OS on :func:`continuous_predictors` with :data:`CONTINUOUS_SPLINES` (as ``rms::cph``)."""
    return splines.fit_cox_rcs(df["os_months"], df["os_event"], continuous_predictors(df), CONTINUOUS_SPLINES)


def model_comparison(dichotomised: CoxFit, continuous: splines.RcsCoxFit) -> pd.DataFrame:
    """LR chi-square, df, AIC and Harrell's C of the dichotomised (paper's) and the continuous model.

    The models are not nested, so they are compared by AIC (lower is better) and by how much of
    the continuous model's LR chi-square the cut points keep (Royston, Altman & Sauerbrei 2006).
    """
    from dmnpc.stats.discrimination import harrell_c

    rows = {}
    for name, fit in (("dichotomised", dichotomised), ("continuous", continuous.fit)):
        lr, k = float(fit.lr_test["chisq"]), int(fit.lr_test["df"])
        rows[name] = {"lr_chi2": lr, "df": k, "aic": -2.0 * float(fit.loglik) + 2.0 * k,
                      "c_index": harrell_c(fit.time, fit.event, fit.linear_predictor()).c}
    return pd.DataFrame(rows).T


#: How :func:`penalised_model` penalises (the results JSON's ``appraisal.shrinkage.penalised_method``).
PENALISED_METHOD = "ridge (standardised terms), penalty chosen by leave-one-out cross-validated partial likelihood"


def penalised_model(fit: CoxFit) -> penalised.RidgeCV:
    """Ridge refit of the five-term model, penalty chosen by leave-one-out cross-validated partial likelihood.

    Ridge rather than Firth: Firth's penalty removes the small-sample bias of each coefficient
    (and gives finite estimates under monotone likelihood) but does not shrink predictions towards
    the average, which is what an overfitted prognostic model needs; the ridge penalty does, and
    its size is chosen by the data (Verweij & van Houwelingen 1994). Columns are standardised
    (``ridge(scale = TRUE)``), so the penalty does not depend on how each term is coded.
    """
    return penalised.ridge_cv(fit.time, fit.event, pd.DataFrame(fit.X, columns=list(fit.terms)))


def nomogram_points(coef: pd.Series) -> pd.Series:
    """Points of the adverse level of each binary term: 100 for the largest |coefficient| (rms's scale)."""
    return 100.0 * coef.abs() / coef.abs().max()

#: Threshold probabilities of the decision curves in the results JSON (5% to 60% by 5%).
DCA_THRESHOLDS: tuple[float, ...] = tuple(round(0.05 * k, 2) for k in range(1, 13))

#: Time point (months) of Riley et al.'s criterion 3: the overall 2-year risk estimated precisely.
SAMPLE_SIZE_TIMEPOINT: float = 24.0

#: Candidate predictor parameters the paper screened (Suppl. Table S1: every baseline variable,
#: one parameter each). The two cut-point searches spent more degrees of freedom than this counts.
CANDIDATE_PARAMETERS: int = len(SCREEN_TERMS)


def sample_size(fit: CoxFit, parameters: int = CANDIDATE_PARAMETERS,
                timepoint: float = SAMPLE_SIZE_TIMEPOINT) -> dict[str, Any]:
    """Riley et al.'s minimum sample size for the paper's model, from this cohort's own figures.

    The anticipated Cox-Snell R2 is the five-term model's apparent R2 shrunk by its heuristic
    shrinkage factor (:func:`dmnpc.stats.samplesize.adjusted_cox_snell_r2`), the choice
    Riley et al. (2020) recommend when a previous model's LR chi-square is known. When the
    apparent model has no positive shrinkage (LR chi-square <= df) the conservative choice, 15%
    of the maximum R2, is used instead, and ``r2_cs_basis`` says so. The event rate is deaths
    per person-month and the mean follow-up the mean observed OS time.

    Returns
    -------
    dict
        ``candidate_parameters``, ``r2_cs``, ``r2_cs_basis``, ``events``, ``rate_per_month``,
        ``mean_followup_months``, ``criterion1_n``, ``criterion2_n``, ``criterion3_n``,
        ``required_n``, ``events_per_parameter`` (this cohort's events over the candidate
        parameters), ``n`` (this cohort's size) and ``result`` (the full
        :class:`dmnpc.stats.samplesize.SurvivalSampleSize`).
    """
    t, e = np.asarray(fit.time, float), np.asarray(fit.event, float)
    events = int(e.sum())
    if events == 0:
        raise ValueError("no deaths: the event rate is zero, so no sample size can be computed")
    rate, mean_fu = events / float(t.sum()), float(t.mean())
    lr, df = float(fit.lr_test["chisq"]), int(fit.lr_test["df"])
    r2 = samplesize.adjusted_cox_snell_r2(lr, fit.n, df)
    basis = "apparent Cox-Snell R2 of the five-term model, shrunk by its heuristic shrinkage factor"
    if not np.isfinite(r2) or r2 <= 0:
        r2 = samplesize.conservative_r2_cs(rate, mean_fu)
        basis = ("15% of the maximum Cox-Snell R2 (the five-term model's likelihood-ratio chi-square does not "
                 "exceed its degrees of freedom)")
    res = samplesize.riley_survival(parameters, r2, rate, timepoint, mean_fu)
    return {"candidate_parameters": int(parameters), "r2_cs": float(r2), "r2_cs_basis": basis,
            "events": events, "rate_per_month": rate, "mean_followup_months": mean_fu,
            "criterion1_n": res.criterion1_n, "criterion2_n": res.criterion2_n, "criterion3_n": res.criterion3_n,
            "required_n": res.required_n, "events_per_parameter": events / parameters, "n": int(fit.n),
            "result": res}


def shrinkage(fit: CoxFit, bootstrap_slope: float | None = None) -> dict[str, Any]:
    """How much the five-term model's coefficients should shrink.

    ``heuristic`` is van Houwelingen & le Cessie's (LR chi-square - df) / LR chi-square (NaN
    when the LR chi-square does not exceed the degrees of freedom); ``bootstrap_slope`` is the
    optimism-corrected calibration slope of the Validation chapter (``rms::validate``), passed
    in so that the bootstrap runs once.
    """
    lr, df = float(fit.lr_test["chisq"]), int(fit.lr_test["df"])
    return {"heuristic": samplesize.heuristic_shrinkage(lr, df), "lr_chi2": lr, "df": df,
            "bootstrap_slope": np.nan if bootstrap_slope is None else float(bootstrap_slope)}


def utility(fit: CoxFit, horizons: tuple[float, ...] = HORIZONS,
            thresholds: tuple[float, ...] = DCA_THRESHOLDS) -> dict[float, dict[str, Any]]:
    """Decision curves, Brier score, IPA and observed/expected at each horizon.

    Predicted risk is 1 - S(t | x) from the fitted model with the Efron baseline hazard (as
    ``survfit.coxph``); every measure is computed on the patients the model was fitted to
    (apparent performance).

    Returns
    -------
    dict
        horizon -> ``{"dca": DataFrame (threshold, nb_model, nb_all, nb_none, n_treated),
        "brier": BrierResult, "oe": ObservedExpected}``.
    """
    surv = fit.predict_survival(list(horizons))
    out: dict[float, dict[str, Any]] = {}
    for j, h in enumerate(horizons):
        s = surv[:, j]
        out[h] = {"dca": _utility.net_benefit(fit.time, fit.event, 1.0 - s, h, list(thresholds)),
                  "brier": _utility.brier_score(fit.time, fit.event, s, h),
                  "oe": _utility.observed_expected(fit.time, fit.event, s, h)}
    return out


def dca_frame(results: dict[float, dict[str, Any]]) -> pd.DataFrame:
    """The decision curves of :func:`utility` as one long table (horizon, threshold, strategy, net benefit)."""
    rows = []
    for h, r in results.items():
        d = r["dca"]
        for col, name in (("nb_model", "Nomogram"), ("nb_all", "Treat all"), ("nb_none", "Treat none")):
            rows += [{"horizon": h, "threshold": th, "strategy": name, "net_benefit": v}
                     for th, v in zip(d["threshold"], d[col])]
    return pd.DataFrame(rows)
