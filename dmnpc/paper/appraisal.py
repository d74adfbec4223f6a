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
* :func:`pipeline_validation` -- how optimistic is the whole development procedure (the two
  cut-point searches, the univariable screen, the multivariable fit, the mean split), when it
  is repeated in every bootstrap sample (section "Whole-pipeline validation" below)?

The first three take the fitted five-term OS model (:func:`dmnpc.paper.analysis.os_nomogram`; fit
once, pass the fit) and return plain numbers; :func:`pipeline_validation` takes the cohort (it
redoes the development). The results JSON (``appraisal.*``) and the Appraisal chapters read them.

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

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dmnpc.paper.variables import CUT_OUTCOME, HORIZONS, OS_TERMS, PAPER_CUTOFFS, SCREEN_TERMS, SEED, design_matrix
from dmnpc.stats import penalised, samplesize, splines
from dmnpc.stats import utility as _utility
from dmnpc.stats import pipeline as _pl
from dmnpc.stats.cox import CoxFit
from dmnpc.stats.validation import RIDGE_THETA

__all__ = ["DCA_THRESHOLDS", "SAMPLE_SIZE_TIMEPOINT", "CANDIDATE_PARAMETERS", "CONTINUOUS_SPLINES", "PENALISED_METHOD",
           "continuous_predictors", "continuous_model", "model_comparison", "penalised_model", "sample_size",
           "shrinkage", "utility", "dca_frame", "PIPELINE_VARIANTS", "PIPELINE_B", "PIPELINE_HORIZON",
           "CUT_DIRECTIONS", "pipeline_procedure", "PipelineAppraisal", "pipeline_validation"]

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

# ============================================================================ whole-pipeline validation
# Whole-pipeline validation of the paper's OS nomogram: the development procedure, bootstrapped.
#
# The Validation chapter (:func:`dmnpc.paper.analysis.validation`) refits the paper's five
# fixed terms in every bootstrap sample. The paper got those terms by a procedure: two cut
# points searched by ROC (EBV DNA, immunotherapy cycles; Suppl. Fig. S1), a univariable screen
# (Suppl. Table S1), a multivariable Cox model, and a split at the mean nomogram score. Here
# that whole procedure is repeated in every bootstrap sample
# (:func:`dmnpc.stats.pipeline.validate_procedure`), in three readings of it:
#
# ``"screen"``
#     The usual reading (the paper does not state its selection rule): Youden cuts of EBV DNA
#     and immunotherapy cycles against death (:data:`~dmnpc.paper.variables.CUT_OUTCOME`),
#     univariable Cox screen at Wald P < 0.05 over :data:`~dmnpc.paper.variables.SCREEN_TERMS`
#     (every baseline variable of Suppl. Table S1, LRRT included), then the multivariable model
#     of the terms kept.
# ``"screen_no_lrrt"``
#     The same without LRRT among the candidates (a treatment, not a baseline prognostic factor).
# ``"fixed_terms"``
#     The paper's five terms (:data:`~dmnpc.paper.variables.OS_TERMS`) kept whatever the data;
#     only the two cut points are searched again.
#
# The cut directions are the paper's and are not re-decided per replicate: higher EBV DNA
# (``ebv_dna_high`` = EBV DNA above the cut) and fewer immunotherapy cycles
# (``immuno_cycles_low`` = cycles below the cut) are worse. Age (50) and chemotherapy cycles (6)
# keep the paper's fixed cuts, which the paper does not say were searched.
#
# Rules (see :mod:`dmnpc.stats.pipeline` for the generic statement):
#
# * LDH (``ldh_high``) is missing for some patients. The screen fits it on the patients who
#   have it, as :func:`dmnpc.paper.analysis.univariable` (Suppl. Table S1) does; if it is kept,
#   the multivariable model, its C and its predictions use the patients with LDH (complete
#   cases, R's ``na.omit``), and the others have no prediction in that replicate.
# * A replicate in which no term passes the screen gets the null model (C = 0.5; no calibration
#   slope, left out of the slope's mean; counted in ``n_null``).
# * A replicate whose multivariable fit has no finite maximum (monotone likelihood) or does not
#   converge is counted (``n_failed``) and, by default, refitted with the ridge penalty of
#   :mod:`dmnpc.stats.validation` (``remedy="ridge"``); the corrected indexes excluding those
#   replicates are reported beside (``c_corrected_excluding_failed``).
# * A term that cannot be estimated in the screen (constant in the sample, e.g. ECOG 0 not drawn;
#   no deaths; no finite maximum) has no P value and is not kept.

#: The readings of the paper's development procedure that are bootstrapped.
PIPELINE_VARIANTS: tuple[str, ...] = ("screen", "screen_no_lrrt", "fixed_terms")
#: Bootstrap replicates of the whole-pipeline validation.
PIPELINE_B = 500
#: Horizon (months) of the predictions whose instability is shown: the paper's 2-year OS.
PIPELINE_HORIZON: float = HORIZONS[-1]
#: The two markers cut at a searched point, with the paper's direction (fixed, not re-decided):
#: term -> (data-contract column, direction); "<" higher values are worse, ">" lower values are.
CUT_DIRECTIONS: dict[str, tuple[str, str]] = {"ebv_dna_high": ("ebv_dna", "<"),
                                              "immuno_cycles_low": ("immuno_cycles", ">")}
_ALPHA = 0.05


def pipeline_candidates(variant: str) -> tuple[str, ...]:
    """The candidate terms of a pipeline variant (the five terms of the paper for ``fixed_terms``)."""
    if variant not in PIPELINE_VARIANTS:
        raise ValueError(f"variant must be one of {PIPELINE_VARIANTS}, got {variant!r}")
    if variant == "fixed_terms":
        return OS_TERMS
    return SCREEN_TERMS if variant == "screen" else tuple(t for t in SCREEN_TERMS if t != "no_lrrt")


def pipeline_procedure(df: pd.DataFrame, variant: str = "screen") -> _pl.Procedure:
    """The paper's OS development procedure on a cohort, as a :class:`dmnpc.stats.pipeline.Procedure`."""
    cand = pipeline_candidates(variant)
    alpha = None if variant == "fixed_terms" else _ALPHA
    markers = [_pl.CutMarker(term, df[col].to_numpy(float), d) for term, (col, d) in CUT_DIRECTIONS.items()
               if term in cand]
    fixed = design_matrix(df, tuple(c for c in cand if c not in CUT_DIRECTIONS), PAPER_CUTOFFS)
    return _pl.Procedure.make(df["os_months"], df["os_event"], fixed, markers, cut_outcome=df[CUT_OUTCOME],
                              candidates=cand, alpha=alpha)


@dataclass(frozen=True)
class PipelineAppraisal:
    """Result of :func:`pipeline_validation` (numbers as Python floats; arrays for the plots).

    Attributes
    ----------
    variant : str
    result : dmnpc.stats.pipeline.PipelineResult
        Everything per replicate (cuts, selection, coefficients, indexes, predictions).
    fixed : dmnpc.stats.validation.ValidationResult
        The paper's five-term model validated as the Validation chapter does (terms and cuts
        fixed), on the same bootstrap samples (same B and seed) and with the same remedy.
    c_nomogram : float
        Apparent Harrell's C of the paper's nomogram (five terms, published cuts).
    """

    variant: str
    result: _pl.PipelineResult
    fixed: Any
    c_nomogram: float

    # --------------------------------------------------------------- headline numbers
    @property
    def b(self) -> int:
        return int(self.result.B)

    @property
    def terms_apparent(self) -> tuple[str, ...]:
        """The terms the procedure picks on the original data (the pipeline's own model)."""
        return self.result.apparent.terms

    @property
    def c_apparent(self) -> float:
        """Apparent C of the pipeline's own model (on the original data)."""
        return self.result.c_apparent

    @property
    def c_optimism(self) -> float:
        return self.result.c_optimism

    @property
    def c_corrected(self) -> float:
        return self.result.c_corrected

    @property
    def slope_apparent(self) -> float:
        return self.result.slope_apparent

    @property
    def slope_optimism(self) -> float:
        return self.result.slope_optimism

    @property
    def slope_corrected(self) -> float:
        return self.result.slope_corrected

    @property
    def c_corrected_excluding_failed(self) -> float:
        return float(self.result.table_excluding_failed.loc["C", "corrected"])

    @property
    def slope_corrected_excluding_failed(self) -> float:
        return float(self.result.table_excluding_failed.loc["Slope", "corrected"])

    @property
    def n_failed(self) -> int:
        return self.result.n_failed

    @property
    def n_null(self) -> int:
        return self.result.n_null

    @property
    def rule(self) -> str:
        return self.result.rule

    @property
    def selection_freq(self) -> pd.Series:
        """Share of replicates whose model has each candidate (the paper's five terms among them)."""
        return self.result.selection_freq

    @property
    def paper_terms_freq(self) -> pd.Series:
        """:attr:`selection_freq` of the paper's five terms (0 for one that is not a candidate)."""
        return self.selection_freq.reindex(list(OS_TERMS), fill_value=0.0)

    @property
    def cuts(self) -> pd.DataFrame:
        """Cut chosen in each replicate (pROC midpoint): columns ``ebv_dna``, ``immuno_cycles``."""
        return self.result.cuts.rename(columns={t: c for t, (c, _) in CUT_DIRECTIONS.items()})

    def cut_iqr(self, marker: str) -> list[float]:
        """[25th, 75th] percentile of a marker's bootstrap cuts."""
        return [float(q) for q in np.quantile(self.cuts[marker], [0.25, 0.75])]

    @property
    def cut_ebv_dna_iqr(self) -> list[float]:
        return self.cut_iqr("ebv_dna")

    @property
    def cut_immuno_cycles_iqr(self) -> list[float]:
        return self.cut_iqr("immuno_cycles")

    @property
    def cuts_apparent(self) -> dict[str, float]:
        """Cut of each marker on the original data (pROC midpoint)."""
        return {CUT_DIRECTIONS[t][0]: float(c.threshold) for t, c in self.result.apparent.cuts.items()}

    @property
    def pred_2y(self) -> np.ndarray:
        """(B, n) predicted 2-year OS of every patient by every bootstrap model (NaN: no prediction)."""
        return self.result.pred

    @property
    def pred_2y_original(self) -> np.ndarray:
        """(n,) predicted 2-year OS by the pipeline's own model on the original data."""
        return self.result.apparent.pred

    @property
    def instability(self) -> pd.DataFrame:
        """Per patient: original prediction, bootstrap mean, 95% range, MAPE, risk-group changes."""
        return self.result.instability()

    @property
    def mape(self) -> float:
        return self.result.mape

    @property
    def reclassified(self) -> float:
        """Mean share of patients whose mean-split risk group differs from the pipeline's own model's."""
        return self.result.reclassified

    def summary(self) -> dict[str, Any]:
        """The headline numbers as plain Python (for the results JSON)."""
        fx = self.fixed.table
        return {
            "variant": self.variant, "b": self.b, "seed": self.result.seed,
            "terms_apparent": list(self.terms_apparent), "cuts_apparent": self.cuts_apparent,
            "c_nomogram": self.c_nomogram, "c_apparent": self.c_apparent, "c_optimism": self.c_optimism,
            "c_corrected": self.c_corrected, "slope_apparent": self.slope_apparent,
            "slope_optimism": self.slope_optimism, "slope_corrected": self.slope_corrected,
            "c_corrected_excluding_failed": self.c_corrected_excluding_failed,
            "slope_corrected_excluding_failed": self.slope_corrected_excluding_failed,
            "n_failed": self.n_failed, "n_null": self.n_null, "remedy": self.result.remedy, "rule": self.rule,
            "selection_freq": {k: float(v) for k, v in self.selection_freq.items()},
            "cut_ebv_dna_iqr": self.cut_ebv_dna_iqr, "cut_immuno_cycles_iqr": self.cut_immuno_cycles_iqr,
            "mape_2y": self.mape, "reclassified": self.reclassified,
            "fixed": {"c_apparent": float(fx.loc["C", "index_orig"]), "c_optimism": float(fx.loc["C", "optimism"]),
                      "c_corrected": float(fx.loc["C", "index_corrected"]),
                      "slope_optimism": float(fx.loc["Slope", "optimism"]),
                      "slope_corrected": float(fx.loc["Slope", "index_corrected"]),
                      "n_flagged": int(self.fixed.n_flagged), "remedy": self.fixed.remedy},
        }


def pipeline_validation(df: pd.DataFrame, B: int = PIPELINE_B, seed: int = SEED, variant: str = "screen",
                        remedy: str | None = "ridge", theta: float = RIDGE_THETA, progress: bool = False,
                        method: str = "fast") -> PipelineAppraisal:
    """Bootstrap the paper's whole OS development procedure (see the module docstring).

    Parameters
    ----------
    df : pandas.DataFrame
        A validated cohort (:func:`dmnpc.paper.contract.load_cohort`).
    B, seed : int
        Bootstrap replicates and seed (the samples of :func:`dmnpc.stats.validation.validate_cox`
        with the same seed).
    variant : {"screen", "screen_no_lrrt", "fixed_terms"}
    remedy : {"ridge", "exclude", None}
        Rule for replicates whose multivariable fit fails (also applied to the fixed model).
    progress : bool
        Show a progress bar.
    method : {"fast", "slow"}
        Batched (default) or the single-fit loop (reference).

    Returns
    -------
    PipelineAppraisal
    """
    from dmnpc.paper import analysis
    from dmnpc.stats.discrimination import harrell_c
    from dmnpc.stats.validation import validate_cox

    res = _pl.validate_procedure(pipeline_procedure(df, variant), B=B, seed=seed, horizon=PIPELINE_HORIZON,
                                 remedy=remedy, theta=theta, progress=progress, method=method)
    fit = analysis.fitted_model(df, "os")
    fixed = validate_cox(fit, B=B, seed=seed, remedy=remedy, theta=theta)
    c_nom = float(harrell_c(fit.time, fit.event, fit.X @ fit.coef).c)
    return PipelineAppraisal(variant=variant, result=res, fixed=fixed, c_nomogram=c_nom)
