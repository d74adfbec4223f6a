"""Whole-pipeline validation of the paper's OS nomogram: the development procedure, bootstrapped.

The Validation chapter (:func:`dmnpc.paper.analysis.validation`) refits the paper's five
fixed terms in every bootstrap sample. The paper got those terms by a procedure: two cut
points searched by ROC (EBV DNA, immunotherapy cycles; Suppl. Fig. S1), a univariable screen
(Suppl. Table S1), a multivariable Cox model, and a split at the mean nomogram score. Here
that whole procedure is repeated in every bootstrap sample
(:func:`dmnpc.stats.pipeline.validate_procedure`), in three readings of it:

``"screen"``
    The usual reading (the paper does not state its selection rule): Youden cuts of EBV DNA
    and immunotherapy cycles against death (:data:`~dmnpc.paper.variables.CUT_OUTCOME`),
    univariable Cox screen at Wald P < 0.05 over :data:`~dmnpc.paper.variables.SCREEN_TERMS`
    (every baseline variable of Suppl. Table S1, LRRT included), then the multivariable model
    of the terms kept.
``"screen_no_lrrt"``
    The same without LRRT among the candidates (a treatment, not a baseline prognostic factor).
``"fixed_terms"``
    The paper's five terms (:data:`~dmnpc.paper.variables.OS_TERMS`) kept whatever the data;
    only the two cut points are searched again.

The cut directions are the paper's and are not re-decided per replicate: higher EBV DNA
(``ebv_dna_high`` = EBV DNA above the cut) and fewer immunotherapy cycles
(``immuno_cycles_low`` = cycles below the cut) are worse. Age (50) and chemotherapy cycles (6)
keep the paper's fixed cuts, which the paper does not say were searched.

Rules (see :mod:`dmnpc.stats.pipeline` for the generic statement):

* LDH (``ldh_high``) is missing for some patients. The screen fits it on the patients who
  have it, as :func:`dmnpc.paper.analysis.univariable` (Suppl. Table S1) does; if it is kept,
  the multivariable model, its C and its predictions use the patients with LDH (complete
  cases, R's ``na.omit``), and the others have no prediction in that replicate.
* A replicate in which no term passes the screen gets the null model (C = 0.5; no calibration
  slope, left out of the slope's mean; counted in ``n_null``).
* A replicate whose multivariable fit has no finite maximum (monotone likelihood) or does not
  converge is counted (``n_failed``) and, by default, refitted with the ridge penalty of
  :mod:`dmnpc.stats.validation` (``remedy="ridge"``); the corrected indexes excluding those
  replicates are reported beside (``c_corrected_excluding_failed``).
* A term that cannot be estimated in the screen (constant in the sample, e.g. ECOG 0 not drawn;
  no deaths; no finite maximum) has no P value and is not kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dmnpc.paper.variables import CUT_OUTCOME, HORIZONS, OS_TERMS, PAPER_CUTOFFS, SCREEN_TERMS, SEED, design_matrix
from dmnpc.stats import pipeline as _pl
from dmnpc.stats.validation import RIDGE_THETA

__all__ = ["VARIANTS", "PIPELINE_B", "PIPELINE_HORIZON", "CUT_DIRECTIONS", "procedure", "Appraisal",
           "pipeline_validation"]

#: The readings of the paper's development procedure that are bootstrapped.
VARIANTS: tuple[str, ...] = ("screen", "screen_no_lrrt", "fixed_terms")
#: Bootstrap replicates of the whole-pipeline validation.
PIPELINE_B = 500
#: Horizon (months) of the predictions whose instability is shown: the paper's 2-year OS.
PIPELINE_HORIZON: float = HORIZONS[-1]
#: The two markers cut at a searched point, with the paper's direction (fixed, not re-decided):
#: term -> (data-contract column, direction); "<" higher values are worse, ">" lower values are.
CUT_DIRECTIONS: dict[str, tuple[str, str]] = {"ebv_dna_high": ("ebv_dna", "<"),
                                              "immuno_cycles_low": ("immuno_cycles", ">")}
_ALPHA = 0.05


def procedure(df: pd.DataFrame, variant: str = "screen") -> _pl.Procedure:
    """The paper's OS development procedure on a cohort, as a :class:`dmnpc.stats.pipeline.Procedure`."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if variant == "fixed_terms":
        cand, alpha = OS_TERMS, None
    else:
        cand = SCREEN_TERMS if variant == "screen" else tuple(t for t in SCREEN_TERMS if t != "no_lrrt")
        alpha = _ALPHA
    markers = [_pl.CutMarker(term, df[col].to_numpy(float), d) for term, (col, d) in CUT_DIRECTIONS.items()
               if term in cand]
    fixed = design_matrix(df, tuple(c for c in cand if c not in CUT_DIRECTIONS), PAPER_CUTOFFS)
    return _pl.Procedure.make(df["os_months"], df["os_event"], fixed, markers, cut_outcome=df[CUT_OUTCOME],
                              candidates=cand, alpha=alpha)


@dataclass(frozen=True)
class Appraisal:
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
                        method: str = "fast") -> Appraisal:
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
    Appraisal
    """
    from dmnpc.paper import analysis
    from dmnpc.stats.discrimination import harrell_c
    from dmnpc.stats.validation import validate_cox

    res = _pl.validate_procedure(procedure(df, variant), B=B, seed=seed, horizon=PIPELINE_HORIZON, remedy=remedy,
                                 theta=theta, progress=progress, method=method)
    fit = analysis.fitted_model(df, "os")
    fixed = validate_cox(fit, B=B, seed=seed, remedy=remedy, theta=theta)
    c_nom = float(harrell_c(fit.time, fit.event, fit.X @ fit.coef).c)
    return Appraisal(variant=variant, result=res, fixed=fixed, c_nomogram=c_nom)
