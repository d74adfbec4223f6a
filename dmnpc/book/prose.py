"""Sentences that draw a conclusion from a number, generated from that number.

A sentence such as "a large P value is weak reassurance" is true on one cohort and false on
the next. Every concluding sentence of the book comes from one small function here, which
reads the number and its threshold, so that the sentence stays true when the book runs on
the authors' data; ``tests/book/test_prose.py`` tests each on both sides of its threshold.
"""

from __future__ import annotations

import math

from dmnpc.book.chapter import hr_text, not_estimable, p_text

__all__ = ["ALPHA", "rejects", "ph_sentence", "significant_count_sentence", "interaction_sentence",
           "absolute_sentence", "multivariable_count_sentence", "sample_size_sentence", "shrinkage_sentence",
           "dichotomising_sentence", "net_benefit_sentence", "ipa_sentence", "pipeline_sentence",
           "screen_terms_sentence", "weighted_hr_sentence", "evalue_sentence", "pattern_sentence",
           "confounding_gap_sentence", "landmark_sentence", "continuous_interaction_sentence",
           "difference_sentence", "hazard_change", "lrrt_hr_sentence", "selection_sentence"]

#: The paper's significance level ("A two-sided P < 0.05 was considered to indicate statistical significance").
ALPHA = 0.05


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def rejects(p: float | None, alpha: float = ALPHA) -> bool | None:
    """True when ``p < alpha`` (the test rejects its null hypothesis), None when P is not estimable."""
    return None if _missing(p) else float(p) < alpha


def ph_sentence(global_p: float | None, events: int, reason: str = "") -> str:
    """The conclusion of the global proportional-hazards test (Grambsch & Therneau), from its P value.

    Parameters
    ----------
    global_p : float or None
        P value of the global test; None when the test could not be computed.
    events : int
        Events the model rests on (the test's power depends on them).
    reason : str
        Why the test is not estimable, when ``global_p`` is None.
    """
    verdict = rejects(global_p)
    if verdict is None:
        return f"The global test of proportional hazards is {not_estimable(reason)}."
    if verdict:
        return (f"The global test rejects proportional hazards ({p_text(global_p)}): at least one hazard "
                "ratio of the model changes over follow-up, so a single HR per term misdescribes it and "
                "the nomogram's predictions inherit that misfit.")
    return (f"The global test does not reject proportional hazards ({p_text(global_p)}). With {events} events "
            "this test has little power, so that is weak reassurance, not proof.")


def significant_count_sentence(n_significant: int, n_terms: int, n_flagged: int, what: str) -> str:
    """'k of n variables have P < 0.05 for OS on their own', saying how many were set aside as uninterpretable."""
    kept = n_terms - n_flagged
    text = f"Of the {kept} interpretable variables, {n_significant} {'has' if n_significant == 1 else 'have'} " \
           f"P < {ALPHA:g} for {what} on their own"
    if n_flagged:
        text += (f"; {n_flagged} more {'is' if n_flagged == 1 else 'are'} set aside as uninterpretable, "
                 "because the hazard ratio rests on a handful of patients (see the table's notes)")
    return text + "."


def multivariable_count_sentence(n_significant: int, n_terms: int, flagged: list[str], what: str = "OS") -> str:
    """'In the OS model, k of the n terms have P < 0.05 with HR > 1', leaving out uninterpretable terms.

    ``flagged`` lists the display labels of terms whose smaller group is too small to interpret;
    ``n_significant`` counts the interpretable terms with P < 0.05 and HR > 1.
    """
    kept = n_terms - len(flagged)
    text = (f"In the {what} model, {n_significant} of the {kept} interpretable terms "
            f"{'has' if n_significant == 1 else 'have'} P < {ALPHA:g} with HR > 1")
    if flagged:
        text += (f"; {', '.join(flagged)} {'is' if len(flagged) == 1 else 'are'} set aside as uninterpretable, "
                 "because the hazard ratio rests on a handful of patients")
    return text


def _ratio_text(it) -> str:
    return f"{it.ratio:.2f} (95% CI {it.lower:.2f} to {it.upper:.2f}; likelihood-ratio {p_text(it.p)})"


def interaction_sentence(shared, stratified, reason: str = "") -> str:
    """Both treatment x cohort interaction tests, which model each number comes from, and what they conclude.

    ``shared`` and ``stratified`` are :class:`dmnpc.stats.subgroup.InteractionTest` results (or None
    when not estimable, with ``reason``): one baseline hazard shared by the cohorts, and one per cohort.
    """
    if shared is None or stratified is None:
        return f"The treatment x cohort interaction is {not_estimable(reason)}."
    text = (f"With one baseline hazard shared by the two cohorts, the HR without vs with LRRT in the "
            f"{stratified.other}-risk cohort is {_ratio_text(shared)} times that in the {stratified.reference}-risk "
            f"cohort. With a separate baseline hazard for each cohort, the model whose cohort HRs equal the separate "
            f"fits ({stratified.hr_other:.2f} and {stratified.hr_reference:.2f}), the ratio is "
            f"{_ratio_text(stratified)}. ")
    rejected = [name for name, it in (("shared-baseline", shared), ("stratified", stratified)) if rejects(it.p)]
    if not rejected:
        return text + ("Neither test rejects equal effects: these data do not show that the LRRT effect differs "
                       "between the cohorts.")
    return text + (f"The {' and the '.join(rejected)} test{'s reject' if len(rejected) == 2 else ' rejects'} "
                   "equal effects: on this cohort the hazard ratio of LRRT differs between the risk cohorts.")


def absolute_sentence(surv: dict, horizon: float = 24.0) -> str:
    """Survival with and without treatment in each cohort at ``horizon`` and their difference, on the absolute scale.

    ``surv`` maps cohort -> (survival with, survival without), each a proportion or None.
    """
    parts = []
    for cohort, (with_, without) in surv.items():
        if with_ is None or without is None:
            parts.append(f"in the {cohort}-risk cohort it is not estimable")
            continue
        parts.append(f"{100 * with_:.1f}% with and {100 * without:.1f}% without LRRT in the {cohort}-risk cohort "
                     f"(a difference of {100 * (with_ - without):.1f} percentage points)")
    return (f"On the absolute scale, {horizon:g}-month overall survival was " + "; ".join(parts) + ". With the "
            "same hazard ratio in every patient the absolute difference is larger where survival is lower, so a "
            "larger absolute gain in the high-risk cohort is expected even without any effect modification.")


def hazard_change(rec: dict | None, reason: str = "") -> str:
    """'higher by a factor of 2.41 (95% CI ...)' or 'lower (hazard ratio 0.45, ...)' from an HR record.

    The direction word comes from the point estimate; whether the interval excludes 1 is said
    by its P value, which the text always carries.
    """
    if rec is None or _missing(rec.get("hr")):
        return not_estimable(reason)
    hr = float(rec["hr"])
    if hr > 1:
        return f"higher by a factor of {hr_text(rec)}"
    if hr < 1:
        return f"lower (hazard ratio {hr_text(rec)})"
    return f"unchanged (HR {hr_text(rec)})"


def lrrt_hr_sentence(records: dict, reasons: dict | None = None) -> str:
    """Hazard of death without vs with LRRT in each risk cohort, its direction generated from each HR.

    ``records`` maps cohort code ("high", "low") -> HR record ``{hr, lower, upper, p}`` or None;
    ``reasons`` maps cohort code -> why it is not estimable.
    """
    reasons = reasons or {}
    parts = [f"{hazard_change(rec, reasons.get(c, ''))} in the {c}-risk cohort" for c, rec in records.items()]
    return "Without LRRT, the hazard of death was " + " and ".join(parts) + "."


def selection_sentence(surv_lrrt: float | None, surv_no: float | None, horizon: float = 24.0) -> str:
    """What survivor-treatment selection does to the LRRT comparison, given which arm fared better.

    Selection (only patients who lived long enough could receive LRRT) favours the LRRT arm. When
    that arm survived better, part of its advantage may be selection; when it survived worse,
    selection cannot explain the gap.
    """
    if _missing(surv_lrrt) or _missing(surv_no):
        return (f"The {horizon:g}-month survival of one arm is not estimable, so the direction of the gap "
                "cannot be read; whatever it is, selection favours the LRRT arm.")
    if surv_lrrt > surv_no:
        return ("On this cohort the LRRT arm survived longer, and part of that gap may be selection, "
                "not treatment effect.")
    if surv_lrrt < surv_no:
        return ("On this cohort the LRRT arm survived less long; selection favours the LRRT arm, so it cannot "
                "explain this gap.")
    return (f"On this cohort both arms have the same {horizon:g}-month survival, although selection favours the "
            "LRRT arm.")


def sample_size_sentence(n: int, required_n: int | None, parameters: int, epp: float | None, reason: str = "") -> str:
    """Whether the cohort reaches Riley et al.'s minimum sample size, from the two sizes."""
    if required_n is None or _missing(required_n):
        return f"The minimum sample size is {not_estimable(reason)}."
    share = f"{100 * n / required_n:.0f}%"
    epp_text = "" if epp is None or _missing(epp) else f", {epp:.2f} events per candidate parameter"
    if n >= required_n:
        return (f"With {n} patients the cohort meets the minimum of {required_n} for a model chosen from "
                f"{parameters} candidate parameters ({share} of it{epp_text}).")
    return (f"With {n} patients the cohort has {share} of the minimum of {required_n} for a model chosen from "
            f"{parameters} candidate parameters{epp_text}: too small to develop such a model without "
            "substantial overfitting.")


#: Riley et al.'s target: expected shrinkage of at least 0.9 (coefficients overfitted by at most 10%).
SHRINKAGE_TARGET = 0.9


def shrinkage_sentence(heuristic: float | None, bootstrap: float | None) -> str:
    """Whether the heuristic shrinkage factor and the bootstrap slope reach the 0.9 target."""
    vals = {name: v for name, v in (("the heuristic shrinkage factor", heuristic),
                                    ("the bootstrap calibration slope", bootstrap)) if not _missing(v)}
    if not vals:
        return "Neither estimate of the needed shrinkage is estimable on this cohort."
    below = [f"{name} ({v:.2f})" for name, v in vals.items() if v < SHRINKAGE_TARGET]
    above = [f"{name} ({v:.2f})" for name, v in vals.items() if v >= SHRINKAGE_TARGET]
    if below and not above:
        return (f"{' and '.join(below).capitalize()} {'is' if len(below) == 1 else 'are'} below "
                f"{SHRINKAGE_TARGET:g}: the model is overfitted, and its predictions are too extreme unless shrunk.")
    if above and not below:
        return (f"{' and '.join(above).capitalize()} {'reaches' if len(above) == 1 else 'reach'} "
                f"{SHRINKAGE_TARGET:g}: little shrinkage is needed.")
    return (f"{below[0].capitalize()} is below {SHRINKAGE_TARGET:g} but {above[0]} is not: the estimates "
            "disagree, and the more pessimistic one, which includes more of the modelling, should guide.")


def dichotomising_sentence(aic_continuous: float | None, aic_dichotomised: float | None,
                           synthetic: bool = False) -> str:
    """Which model the AIC prefers (lower is better), and what that says about the cut points."""
    if _missing(aic_continuous) or _missing(aic_dichotomised):
        return "The comparison of the continuous and the dichotomised model is not estimable on this cohort."
    d = abs(aic_continuous - aic_dichotomised)
    if aic_continuous < aic_dichotomised:
        text = (f"The continuous model has the lower AIC (by {d:.1f}): keeping the measurements whole explains "
                "the deaths better, so the cut points threw information away.")
    elif aic_continuous > aic_dichotomised:
        text = (f"The dichotomised model has the lower AIC (by {d:.1f}): on this cohort the cut points fit better "
                "than smooth effects, which is what cut points chosen on the same patients are expected to do; "
                "the advantage is optimistic and would shrink in new patients.")
    else:
        text = "The two models have the same AIC."
    if synthetic:
        text += (" These are synthetic data whose outcomes were generated to reproduce the paper's dichotomised "
                 "results, so this comparison describes the twin, not the patients.")
    return text


def net_benefit_sentence(thresholds, nb_model, nb_all, horizon: float) -> str:
    """Over which thresholds the model's net benefit beats both treating everybody and treating nobody."""
    import numpy as np

    th, m, a = (np.asarray(v, dtype=float) for v in (thresholds, nb_model, nb_all))
    ok = np.isfinite(m)
    if not ok.any():
        return f"At {horizon:g} months the net benefit of the model is not estimable on this cohort."
    better = ok & (m > np.maximum(a, 0.0))
    lo, hi = 100 * th.min(), 100 * th.max()
    if not better.any():
        return (f"At {horizon:g} months the model's net benefit does not exceed both treating everybody and treating "
                f"nobody at any threshold from {lo:.0f}% to {hi:.0f}%: on these data it would not improve decisions.")
    where = th[better]
    text = f"At {horizon:g} months the model's net benefit exceeds both treating everybody and treating nobody at "
    if better[ok].all():
        return text + f"every threshold from {lo:.0f}% to {hi:.0f}%."
    return text + (f"{better.sum()} of the {ok.sum()} thresholds from {lo:.0f}% to {hi:.0f}% (the lowest "
                   f"{100 * where.min():.0f}%, the highest {100 * where.max():.0f}%).")


def ipa_sentence(ipa: float | None, horizon: float) -> str:
    """Whether the model's Brier score beats the no-covariate Kaplan-Meier prediction (IPA > 0)."""
    if _missing(ipa):
        return f"The index of prediction accuracy at {horizon:g} months is not estimable on this cohort."
    if ipa > 0:
        return (f"At {horizon:g} months the model's Brier score is {100 * ipa:.0f}% lower than that of predicting "
                "the overall Kaplan-Meier survival for everybody (IPA > 0).")
    return (f"At {horizon:g} months the model's Brier score is no better than predicting the overall Kaplan-Meier "
            f"survival for everybody (IPA {ipa:.2f}).")


def pipeline_sentence(c_pipeline: float | None, c_fixed: float | None, slope_pipeline: float | None,
                      slope_fixed: float | None) -> str:
    """Whether validating the whole procedure finds more optimism than refitting the final model."""
    if any(_missing(v) for v in (c_pipeline, c_fixed, slope_pipeline, slope_fixed)):
        return "The comparison of the whole-pipeline and the fixed-model bootstrap is not estimable on this cohort."
    text = (f"Repeating the whole procedure in every resample gives a corrected C of {c_pipeline:.3f} and a corrected "
            f"calibration slope of {slope_pipeline:.2f}, against {c_fixed:.3f} and {slope_fixed:.2f} when only the "
            "final five-term model is refitted")
    lower_c, lower_s = c_pipeline < c_fixed, slope_pipeline < slope_fixed
    if lower_c and lower_s:
        return text + (": the fixed-model bootstrap of the Validation chapter understates the optimism of the way the "
                       "model was built.")
    if not lower_c and not lower_s:
        return text + ": on this cohort the choices made along the way add no measurable optimism."
    return text + (": the two bootstraps disagree on which is more optimistic, "
                   f"{'discrimination' if lower_c else 'calibration'} suffering more from the whole procedure.")


def screen_terms_sentence(terms: list[str] | None, paper_terms: list[str], labels: dict[str, str]) -> str:
    """Which terms the usual reading of the paper's selection rule keeps on this cohort, against the paper's five."""
    if terms is None:
        return "The screen's own model is not estimable on this cohort."
    kept = [t for t in paper_terms if t in terms]
    extra = [t for t in terms if t not in paper_terms]
    if set(terms) == set(paper_terms):
        return f"On this cohort the screen keeps exactly the paper's {len(paper_terms)} terms."
    text = (f"On this cohort the screen keeps {len(terms)} term{'s' if len(terms) != 1 else ''}, "
            f"{len(kept)} of the paper's {len(paper_terms)}")
    if extra:
        text += f", and adds {', '.join(labels.get(t, t) for t in extra)}"
    missing = [t for t in paper_terms if t not in terms]
    if missing:
        text += f"; it drops {', '.join(labels.get(t, t) for t in missing)}"
    return text + "."


def weighted_hr_sentence(records: dict) -> str:
    """What weighting for the measured confounders does to the HR without vs with LRRT.

    ``records`` maps a label ("unweighted", then one per weighting) -> HR record or None.
    """
    parts, crosses = [], []
    for label, rec in records.items():
        if rec is None or _missing(rec.get("hr")):
            parts.append(f"{label}: not estimable")
            continue
        parts.append(f"{label} {hr_text(rec)}")
        if label != "unweighted":
            crosses.append(rec["lower"] <= 1 <= rec["upper"])
    text = "The hazard ratio of death without vs with LRRT is " + "; ".join(parts) + "."
    if not crosses:
        return text
    if all(crosses):
        return text + (" After weighting, every confidence interval includes 1: balancing the measured "
                       "covariates leaves no clear difference between the arms.")
    if not any(crosses):
        return text + (" After weighting the intervals still exclude 1: the measured covariates do not explain "
                       "the difference, though unmeasured ones (fitness, response, guarantee time) still may.")
    return text + " After weighting, one interval includes 1 and the other does not: the conclusion hangs on the weighting."


def evalue_sentence(point: float | None, ci: float | None) -> str:
    """The E-value of a hazard ratio and of its confidence limit nearer 1, in words."""
    if _missing(point):
        return "The E-value is not estimable on this cohort."
    text = (f"An unmeasured confounder associated with both LRRT and death by a risk ratio of {point:.2f} each, "
            "above the measured covariates, could explain the weighted hazard ratio away")
    if _missing(ci) or ci <= 1.0:
        return text + "; its confidence interval already includes 1."
    return text + f"; one of {ci:.2f} each could move its confidence interval to include 1."


def pattern_sentence(rate: float | None, lower: float | None, upper: float | None, true_hr: float | None,
                     assignment: str | None, n: int | None) -> str:
    """How often the paper's subgroup pattern appears in simulated studies where LRRT's effect is the same for all."""
    if _missing(rate):
        return "The simulation is not estimable on this cohort."
    how = "as in the cohort (travelling with good prognostic factors)" if assignment == "observed" else "at random"
    same = ("has no effect at all" if true_hr == 1 else
            f"has the same hazard ratio ({true_hr:g}, with vs without) in every patient")
    return (f"In simulated studies of {n} patients where LRRT {same} and is given {how}, the paper's pattern "
            f"(LRRT significant in the high-risk cohort, not in the low-risk one) appears in {100 * rate:.0f}% "
            f"(95% CI {100 * lower:.0f}% to {100 * upper:.0f}%).")


def confounding_gap_sentence(observed: dict | None, random: dict | None) -> str:
    """Whether LRRT given as in the cohort makes the pattern more frequent than LRRT given at random.

    Each argument is a scenario record with ``pattern_rate``, ``pattern_rate_lower`` and
    ``pattern_rate_upper`` (same true effect); the rates differ when their intervals do not overlap.
    """
    if not observed or not random or _missing(observed.get("pattern_rate")) or _missing(random.get("pattern_rate")):
        return "The comparison of the two ways of giving LRRT is not estimable on this cohort."
    if observed["pattern_rate_lower"] > random["pattern_rate_upper"]:
        return ("The gap between these two is confounding: patients given LRRT in this cohort have better prognostic "
                "factors, and comparing them within a risk cohort without adjustment credits LRRT with their better "
                "prognosis.")
    if observed["pattern_rate_upper"] < random["pattern_rate_lower"]:
        return ("Here the pattern is rarer when LRRT is given as in the cohort than at random: the way LRRT was "
                "given works against the paper's pattern on this cohort.")
    return ("The two rates do not differ beyond Monte Carlo error: on this cohort the way LRRT was given adds no "
            "detectable bias to the within-cohort comparison.")


def landmark_sentence(before: dict | None, after: dict | None, months: float) -> str:
    """The LRRT hazard ratio from diagnosis and from the landmark, and whether it stays significant."""
    if before is None or after is None or _missing(before.get("hr")) or _missing(after.get("hr")):
        return f"The comparison of LRRT from diagnosis and from the {months:g}-month landmark is not estimable."
    text = (f"Without vs with LRRT, the hazard ratio is {hr_text(before)} from diagnosis and {hr_text(after)} "
            f"among patients alive at {months:g} months, counted from then.")
    b, a = rejects(before["p"]), rejects(after["p"])
    if b and not a:
        return text + " The difference is no longer significant once early deaths cannot count against LRRT."
    if b and a:
        return text + (" It stays significant after the landmark: guarantee time alone does not explain it "
                       "(confounding still may).")
    if not b and a:
        return text + " It becomes significant only after the landmark."
    return text + " Neither is significant."


def continuous_interaction_sentence(ci, unit: float, reason: str = "") -> str:
    """The LRRT x continuous score interaction (:class:`dmnpc.stats.subgroup.ContinuousInteraction`) in words."""
    if ci is None:
        return f"The interaction of LRRT with the continuous score is {not_estimable(reason)}."
    text = (f"Per {unit:g} points of the nomogram score, the hazard ratio without vs with LRRT changes by a factor of "
            f"{ci.ratio:.2f} (95% CI {ci.lower:.2f} to {ci.upper:.2f}; likelihood-ratio {p_text(ci.p)}).")
    if rejects(ci.p):
        return text + " The effect of LRRT changes with risk on this cohort."
    return text + " These data do not show that the effect of LRRT changes with risk."


def difference_sentence(diffs: dict, horizon: float = 24.0) -> str:
    """Survival with minus without LRRT in each risk cohort, with CIs, and whether each excludes 0."""
    parts = []
    for cohort, d in diffs.items():
        if d is None or _missing(d.get("est")):
            parts.append(f"not estimable in the {cohort}-risk cohort")
            continue
        sign = "excludes" if d["lower"] > 0 or d["upper"] < 0 else "includes"
        parts.append(f"{100 * d['est']:+.1f} percentage points in the {cohort}-risk cohort (95% CI "
                     f"{100 * d['lower']:+.1f} to {100 * d['upper']:+.1f}; the interval {sign} 0)")
    return f"{horizon:g}-month survival with minus without LRRT is " + "; ".join(parts) + "."
