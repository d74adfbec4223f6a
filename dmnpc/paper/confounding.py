"""Confounding by indication: LRRT compared after weighting for who received it.

Patients were chosen for locoregional radiotherapy (LRRT) by their radiation oncologist, and
the paper's Table 1 shows the untreated had more liver and multi-organ metastases. This module
models the choice (a propensity score: logistic regression of LRRT on baseline covariates,
:func:`dmnpc.stats.weighting.propensity_score`), re-weights the patients so that the arms are
comparable on those covariates (stabilised inverse-probability weights for the average effect
in the whole cohort, and overlap weights for the patients who could have gone either way),
checks the balance reached, and compares overall survival without vs with LRRT in a weighted
Cox model with robust (sandwich) variance, as ``coxph(..., weights = w, robust = TRUE)``. The
E-value says how strong an unmeasured confounder would have to be to explain the weighted
hazard ratio away.

What weighting cannot fix: covariates that were not recorded (performance status at the LRRT
decision, response to chemoimmunotherapy), and guarantee time (LRRT follows systemic therapy,
so early deaths fall in the untreated arm), which the guarantee-time chapter addresses.

References
----------
Robins JM, Hernán MA, Brumback B. Marginal structural models and causal inference in
epidemiology. Epidemiology 2000;11:550-560.
Li F, Morgan KL, Zaslavsky AM. Balancing covariates via propensity score weighting. J Am Stat
Assoc 2018;113:390-400.
Austin PC. Balance diagnostics for comparing the distribution of baseline covariates between
treatment groups in propensity-score matched samples. Stat Med 2009;28:3083-3107.
VanderWeele TJ, Ding P. Sensitivity analysis in observational research: introducing the
E-value. Ann Intern Med 2017;167:268-274.
Hernán MA, Robins JM. Using big data to emulate a target trial when a randomized trial is not
available. Am J Epidemiol 2016;183:758-764.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dmnpc.stats import evalue as _evalue
from dmnpc.stats import weighting

__all__ = ["PS_LABELS", "propensity_covariates", "WEIGHTS", "Confounding", "confounding", "TARGET_TRIAL"]

#: Covariates of the propensity model and their display labels (baseline, known at diagnosis).
PS_LABELS: dict[str, str] = {
    "age": "Age (years)",
    "log10_ebv_dna": "log10(EBV DNA + 1)",
    "t3_4": "T3-4 vs T1-2",
    "n2_3": "N2-3 vs N0-1",
    "multi_organ_mets": "Multiple organ metastasis",
    "multiple_lesions": "Multiple metastatic lesions",
    "liver_mets": "Liver metastases",
    "bone_mets": "Bone metastases",
    "lung_mets": "Lung metastases",
}

#: Weighting methods: code -> (method of :func:`dmnpc.stats.weighting.balancing_weights`, label).
WEIGHTS: dict[str, tuple[str, str]] = {
    "iptw": ("ipw_stabilised", "Stabilised inverse-probability weights (whole cohort)"),
    "overlap": ("overlap", "Overlap weights (patients who could have gone either way)"),
}


def propensity_covariates(df: pd.DataFrame) -> pd.DataFrame:
    """The baseline covariates of the propensity model, numeric, one column per :data:`PS_LABELS` key."""
    return pd.DataFrame({
        "age": df["age"].astype(float),
        "log10_ebv_dna": np.log10(df["ebv_dna"].astype(float) + 1.0),
        "t3_4": df["t_stage"].astype(str).isin(["T3", "T4"]).astype(float),
        "n2_3": df["n_stage"].astype(str).isin(["N2", "N3"]).astype(float),
        "multi_organ_mets": df["multi_organ_mets"].astype(float),
        "multiple_lesions": (df["met_lesions"].astype(str) == "multiple").astype(float),
        "liver_mets": df["liver_mets"].astype(float),
        "bone_mets": df["bone_mets"].astype(float),
        "lung_mets": df["lung_mets"].astype(float),
    }, index=df.index)


@dataclass(frozen=True)
class Confounding:
    """Propensity model, weights, balance and weighted hazard ratios of one cohort.

    Attributes
    ----------
    ps : dmnpc.stats.weighting.PropensityFit
    weights : dict
        Method code (:data:`WEIGHTS`) -> one weight per patient.
    balance : pandas.DataFrame
        One row per covariate: ``term``, ``smd`` (unweighted) and ``smd_<method>``.
    hr : dict
        ``unweighted`` and each method -> :func:`dmnpc.stats.weighting.weighted_hr` record
        (HR without vs with LRRT, robust CI and P, effective sample sizes).
    evalue : dmnpc.stats.evalue.EValue
        E-value of the stabilised-IPW hazard ratio and of its confidence limit nearer 1
        (common outcome: HR converted to a risk ratio).
    """

    ps: weighting.PropensityFit
    weights: dict[str, np.ndarray]
    balance: pd.DataFrame
    hr: dict[str, dict[str, float]]
    evalue: Any

    def max_abs_smd(self, method: str | None = None) -> float:
        """Largest absolute SMD unweighted (``None``) or under a weighting method."""
        col = "smd" if method is None else f"smd_{method}"
        return float(self.balance[col].abs().max())


def confounding(df: pd.DataFrame) -> Confounding:
    """Propensity score of LRRT, balancing weights, balance and weighted Cox HRs of OS (see the module)."""
    lrrt = df["lrrt"].to_numpy(int)
    X = propensity_covariates(df)
    ps = weighting.propensity_score(lrrt, X)
    weights = {code: weighting.balancing_weights(ps, method) for code, (method, _) in WEIGHTS.items()}
    base = weighting.balance_table(lrrt, X)[["term", "smd"]]
    for code, w in weights.items():
        base[f"smd_{code}"] = weighting.balance_table(lrrt, X, w)["smd_w"].to_numpy()
    t, e = df["os_months"].to_numpy(float), df["os_event"].to_numpy(int)
    hr = {"unweighted": weighting.weighted_hr(t, e, lrrt, np.ones(len(df)))}
    hr.update({code: weighting.weighted_hr(t, e, lrrt, w) for code, w in weights.items()})
    h = hr["iptw"]
    ev = _evalue.evalue_hr(h["hr"], h["lower"], h["upper"], rare=False)
    return Confounding(ps, weights, base, hr, ev)


#: The target trial the observational comparison tries to emulate (Hernán & Robins 2016), and what
#: the paper's data lack for it.
TARGET_TRIAL: tuple[tuple[str, str, str], ...] = (
    ("Eligibility", "De novo metastatic NPC, fit for LRRT, started on first-line chemoimmunotherapy",
     "Fitness for LRRT at the decision is not recorded"),
    ("Treatment strategies", "LRRT after a given number of cycles of chemoimmunotherapy vs no LRRT",
     "The timing of LRRT is not recorded"),
    ("Assignment", "Random, or as good as random given measured baseline covariates",
     "Chosen by the radiation oncologist; only baseline covariates are recorded"),
    ("Time zero", "The LRRT decision (e.g. after induction chemoimmunotherapy), the same for both arms",
     "Time is measured from diagnosis: patients who die before LRRT could be given count as untreated"),
    ("Outcome", "Overall survival from time zero", "Available (from diagnosis)"),
    ("Causal contrast", "Intention to treat and per protocol", "Only as treated"),
    ("Analysis", "Cox model with weights for baseline confounders, from time zero",
     "Weighted Cox here; time zero only approximated by a landmark"),
)
