"""The treatment claim appraised: guarantee time and effect modification.

The paper concludes that high-risk patients benefit from locoregional radiotherapy (LRRT).
Besides confounding (:mod:`dmnpc.paper.confounding`), two things stand in the way:

* **Guarantee time** (immortal time). Two of the model's predictors are totals of treatment
  cycles, which only patients who live long enough can reach, and LRRT is given after systemic
  therapy, so early deaths fall in the untreated arm. A landmark analysis
  (:func:`landmark_analysis`) starts the clock at 6 months for everybody still alive then;
  :func:`guarantee_simulation` shows the hazard ratios the paper's analysis reports when cycles
  and LRRT do nothing at all.
* **Effect modification.** "Significant in the high-risk cohort, not in the low-risk one" is
  not evidence that the effect differs. :func:`effect_modification` gathers the tests that are:
  the LRRT x risk-cohort interaction (both models), LRRT x the continuous score (no split), and
  the absolute difference in 2-year survival in each cohort.

References
----------
Anderson JR, Cain KC, Gelber RD. Analysis of survival by tumor response. J Clin Oncol
1983;1:710-719.
Suissa S. Immortal time bias in pharmaco-epidemiology. Am J Epidemiol 2008;167:492-499.
Kent DM, Paulus JK, van Klaveren D, et al. The Predictive Approaches to Treatment effect
Heterogeneity (PATH) statement. Ann Intern Med 2020;172:35-45.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dmnpc.paper import analysis
from dmnpc.paper.variables import OS_TERMS, PAPER_CUTOFFS, SEED, design_matrix
from dmnpc.stats import cox, subgroup

__all__ = ["LANDMARK_MONTHS", "SCORE_UNIT", "landmark_analysis", "guarantee_simulation", "effect_modification",
           "SIM_PATIENTS"]

#: The landmark (months from diagnosis): eight three-weekly cycles take 5.5 months.
LANDMARK_MONTHS = 6.0
#: The continuous modifier is the nomogram's total points per this many points.
SCORE_UNIT = 100.0
#: Patients of the guarantee-time simulation (large, so that its HRs are close to their limits).
SIM_PATIENTS = 2000


def _record(fit: cox.CoxFit, term: str) -> dict[str, float]:
    r = fit.summary.set_index("term").loc[term]
    return {k: float(r[k]) for k in ("hr", "lower", "upper", "p")}


def _landmark_cohort_check(events: int, n: int, months: float) -> None:
    if n == 0:
        raise ValueError(f"nobody is alive and followed beyond the {months:g}-month landmark: nothing to compare")
    if events == 0:
        raise ValueError(f"no death after the {months:g}-month landmark: nothing to compare")


def _landmark_cox_os(df: pd.DataFrame, mask: np.ndarray, t: np.ndarray, months: float) -> dict[str, dict[str, float]]:
    """The five OS terms (the full cohort's cut points) refitted on the landmark cohort; raises when not estimable."""
    e = df["os_event"].to_numpy()[mask]
    _landmark_cohort_check(int(e.sum()), int(mask.sum()), months)
    X = design_matrix(df, OS_TERMS, analysis.cutoffs_used(df))[mask]
    fit = analysis.converged(cox.fit_cox(t, e, X))
    return {term: _record(fit, term) for term in OS_TERMS}


def _landmark_lrrt(df: pd.DataFrame, mask: np.ndarray, t: np.ndarray, months: float) -> dict[str, float]:
    """Unadjusted HR without vs with LRRT on the landmark cohort; raises when not estimable."""
    e = df["os_event"].to_numpy()[mask]
    _landmark_cohort_check(int(e.sum()), int(mask.sum()), months)
    lr = subgroup.hr_by_stratum(t, e, df["lrrt"].to_numpy()[mask], ["all"] * int(mask.sum()))
    if lr["note"].iloc[0]:
        raise ValueError(f"LRRT after the {months:g}-month landmark: {lr['note'].iloc[0]}")
    return subgroup.hr_record(lr, "all")


def landmark_analysis(df: pd.DataFrame, months: float = LANDMARK_MONTHS) -> dict[str, Any]:
    """The paper's five-term OS model and the LRRT comparison among patients alive at ``months``.

    Landmark convention (:func:`dmnpc.stats.subgroup.landmark`): a patient is kept when
    ``os_months > months``; a death or a censoring exactly at the landmark is left out, as
    R's ``subset(os_months > months)``. Time is then measured from the landmark,
    ``os_months - months``; events are unchanged.

    ``cox_os`` refits the paper's five OS terms (:data:`dmnpc.paper.variables.OS_TERMS`, with
    the full cohort's cut points, :func:`dmnpc.paper.analysis.cutoffs_used`) on the landmark
    cohort. ``lrrt`` is the **unadjusted** hazard ratio without vs with LRRT (a Cox model with
    ``no_lrrt`` alone, as the paper's within-cohort comparisons), Efron ties, Wald CI and P.

    Degenerate cohorts are results, not errors: ``cox_os`` and ``lrrt`` are
    :class:`dmnpc.paper.analysis.Estimate`, not estimable (with the reason) when nobody or
    no death remains after the landmark, when one LRRT arm is empty or has no deaths, or when
    the model has no finite maximum; ``n`` and ``events`` are always given.

    Parameters
    ----------
    df : pandas.DataFrame
        A validated cohort (:func:`dmnpc.paper.contract.load_cohort`).
    months : float
        The landmark, in months from diagnosis (default :data:`LANDMARK_MONTHS`).

    Returns
    -------
    dict
        ``months`` (float), ``n`` and ``events`` (int: patients kept, deaths after the landmark),
        ``cox_os`` (Estimate of term -> ``{hr, lower, upper, p}``) and ``lrrt`` (Estimate of
        ``{hr, lower, upper, p}``).

    Raises
    ------
    ValueError
        Only for an invalid ``months`` (not a positive finite time).

    References
    ----------
    Anderson JR, Cain KC, Gelber RD. Analysis of survival by tumor response. J Clin Oncol
    1983;1:710-719.
    Dafni U. Landmark analysis at the 25-year landmark point. Circ Cardiovasc Qual Outcomes
    2011;4:363-371.
    """
    mask, t = subgroup.landmark(df["os_months"], df["os_event"], months)
    return {"months": float(months), "n": int(mask.sum()), "events": int(df["os_event"].to_numpy()[mask].sum()),
            "cox_os": analysis.estimate(_landmark_cox_os, df, mask, t, months),
            "lrrt": analysis.estimate(_landmark_lrrt, df, mask, t, months)}


def guarantee_simulation(n: int = SIM_PATIENTS, seed: int = SEED, months: float = LANDMARK_MONTHS) -> pd.DataFrame:
    """Hazard ratios the paper's analysis reports when treatment does nothing but needs survival.

    Generating model (every treatment without any effect on death):

    * death: exponential with a median of 24 months, censoring uniform between 6 and 54 months;
    * planned cycles of chemotherapy uniform on 2..8 and of immunotherapy on 2..16, one every
      3 weeks from diagnosis; a patient receives the planned cycles that start before death or
      censoring (cycle k starts at 3(k - 1) weeks);
    * LRRT planned for a random 77% of patients (the paper's 69/90) and given at 6 months to
      those still alive and followed then.

    So "fewer than 8 immunotherapy cycles" includes everyone who died or was censored before the
    8th cycle (21 weeks, 4.8 months), "fewer than 6 chemotherapy cycles" everyone before the 6th
    (15 weeks), and "no LRRT" everyone who died before 6 months. Each term is fitted alone
    (univariable Cox, Efron ties, Wald CI and P), from diagnosis on everybody, and from the landmark
    on the patients with follow-up beyond ``months`` (:func:`dmnpc.stats.subgroup.landmark`), whose
    cycle counts and LRRT were all decided before it: there the true HR of 1 is what is estimated.
    Deterministic for a given ``seed``; a few milliseconds at :data:`SIM_PATIENTS`.

    Returns
    -------
    pandas.DataFrame
        One row per term (``chemo_cycles_low`` < 6 cycles, ``immuno_cycles_low`` < 8 cycles,
        ``no_lrrt``) and analysis (``from diagnosis``, as the paper; ``landmark``, from ``months``
        among patients alive then): ``hr``, ``lower``, ``upper``, ``p``. The true HR is 1 for all.
    """
    rng = np.random.default_rng(seed)
    death = rng.exponential(24.0 / np.log(2), n)
    censor = rng.uniform(6.0, 54.0, n)
    time = np.minimum(death, censor)
    event = (death <= censor).astype(int)
    weeks = time * 52.0 / 12.0
    started = np.floor(weeks / 3.0) + 1  # cycles that started before the end of follow-up
    chemo = np.minimum(rng.integers(2, 9, n), started)
    immuno = np.minimum(rng.integers(2, 17, n), started)
    planned = rng.random(n) < 69 / 90
    lrrt = (planned & (time > months)).astype(float)
    X = pd.DataFrame({"chemo_cycles_low": (chemo < PAPER_CUTOFFS.chemo_cycles).astype(float),
                      "immuno_cycles_low": (immuno < PAPER_CUTOFFS.immuno_cycles).astype(float),
                      "no_lrrt": 1.0 - lrrt})
    rows = []
    keep = time > months
    for label, sel, t in (("from diagnosis", np.ones(n, bool), time), ("landmark", keep, time - months)):
        for term in X.columns:
            fit = cox.fit_cox(t[sel], event[sel], X.loc[sel, [term]])
            rows.append({"analysis": label, "term": term, **_record(fit, term)})
    return pd.DataFrame(rows)


def effect_modification(df: pd.DataFrame, strat: analysis.Stratification, scores: pd.DataFrame,
                        horizon: float = 24.0) -> dict[str, Any]:
    """Does the LRRT effect differ with risk? Interaction on the HR scale and differences on the absolute scale.

    Parameters
    ----------
    strat : Stratification
        :func:`dmnpc.paper.analysis.stratify` of the cohort (the mean split and both interaction tests).
    scores : pandas.DataFrame
        The nomogram scores (``total_points``) of :func:`dmnpc.paper.analysis.os_nomogram`.

    Returns
    -------
    dict
        ``shared`` and ``stratified`` (:class:`dmnpc.stats.subgroup.InteractionTest` Estimates),
        ``continuous`` (Estimate of :class:`dmnpc.stats.subgroup.ContinuousInteraction`, the
        modifier being total points / :data:`SCORE_UNIT`), and ``diff_<cohort>`` (Estimate of
        :func:`dmnpc.stats.subgroup.survival_difference`: survival with minus without LRRT at
        ``horizon`` within each risk cohort).
    """
    out: dict[str, Any] = {"shared": strat.interaction, "stratified": strat.interaction_stratified}
    t, e, lrrt = df["os_months"], df["os_event"], df["lrrt"]
    out["continuous"] = analysis.estimate(subgroup.interaction_continuous, t, e, lrrt,
                                          scores["total_points"].to_numpy(float) / SCORE_UNIT)
    for c in ("low", "high"):
        m = (strat.risk == c).to_numpy()
        out[f"diff_{c}"] = analysis.estimate(subgroup.survival_difference, t[m], e[m], lrrt[m], horizon)
    return out
