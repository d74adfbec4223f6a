"""The paper rated with PROBAST and walked through the TRIPOD+AI checklist.

PROBAST (Wolff et al. 2019; Moons et al. 2019) judges the risk of bias of a prediction-model
study in four domains (participants, predictors, outcome, analysis) through 20 signalling
questions answered yes (Y), probably yes (PY), probably no (PN), no (N) or no information
(NI). A domain is at low risk of bias when every answer is Y or PY, at high risk when any is
N or PN, and unclear otherwise; the study is at high risk when any domain is. Applicability
(concern that the study does not match the review question: here, selecting patients for
locoregional radiotherapy) is rated for the first three domains.

TRIPOD+AI (Collins et al. 2024) is the reporting checklist for prediction-model studies
(27 items, 52 with their parts). For each item this module records whether Chen et al.
report it, where, and where the book supplies what is missing.

Answers that depend on the data are computed from the cohort and its results dictionary
(:func:`dmnpc.paper.report.compute_results`), so that on another cohort they follow its
numbers: PROBAST 2.2 (deaths before eight cycles could be given), 3.6 (follow-up against
the 2-year horizon), 4.1 (events against the minimum sample size), 4.4 (missing data),
4.5 (how often the screen picks the paper's terms), 4.8 (apparent against corrected C).
The others rest on what the paper says it did, quoted in the evidence.

References
----------
Wolff RF, Moons KGM, Riley RD, et al. PROBAST: a tool to assess the risk of bias and
applicability of prediction model studies. Ann Intern Med 2019;170:51-58.
Moons KGM, Wolff RF, Riley RD, et al. PROBAST: a tool to assess risk of bias and applicability
of prediction model studies: explanation and elaboration. Ann Intern Med 2019;170:W1-W33.
Collins GS, Moons KGM, Dhiman P, et al. TRIPOD+AI statement: updated guidance for reporting
clinical prediction models that use regression or machine learning methods. BMJ
2024;385:e078378.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd

from dmnpc.paper.variables import OS_TERMS, TERM_LABELS

__all__ = ["Answer", "PROBAST_QUESTIONS", "probast", "domain_ratings", "overall_risk", "APPLICABILITY",
           "TRIPOD_AI", "tripod", "CYCLE_WEEKS", "IMMUNO_CYCLES_CUT"]

#: PROBAST's answers, from best to worst for the risk of bias.
ANSWERS = ("Y", "PY", "NI", "PN", "N")
#: Weeks per cycle of chemotherapy and immunotherapy (Methods: "every 3 weeks per cycle").
CYCLE_WEEKS = 3.0
#: The immunotherapy cut point of the model (8 cycles).
IMMUNO_CYCLES_CUT = 8


@dataclass(frozen=True)
class Answer:
    """One signalling question answered: ``answer`` (Y/PY/PN/N/NI), the evidence, the chapter that shows it."""

    answer: str
    evidence: str
    chapter: str


def _fixed(answer: str, evidence: str, chapter: str) -> Callable[[pd.DataFrame, dict], Answer]:
    return lambda df, r: Answer(answer, evidence, chapter)


def _q22(df: pd.DataFrame, r: dict) -> Answer:
    """Cycle counts are recorded over follow-up, so they are not blind to the outcome."""
    weeks = IMMUNO_CYCLES_CUT * CYCLE_WEEKS
    months = weeks * 12 / 52
    early = int(((df["os_event"] == 1) & (df["os_months"] < months)).sum())
    deaths = int(df["os_event"].sum())
    return Answer("N", f"Two of the five predictors are the numbers of chemotherapy and immunotherapy cycles "
                       f"received over the first-line course, which ends at progression, toxicity or death. They "
                       f"are counted after the outcome has begun to unfold: {early} of the {deaths} deaths in this "
                       f"cohort came before {months:.1f} months, the earliest time {IMMUNO_CYCLES_CUT} three-weekly "
                       "cycles could be completed.", "nomogram")


def _q36(df: pd.DataFrame, r: dict) -> Answer:
    rkm = r.get("other", {}).get("followup_reverse_km_months")
    if rkm is None:
        return Answer("NI", "The reverse Kaplan-Meier median follow-up is not estimable on this cohort.", "survival")
    if rkm < 24:
        return Answer("PN", f"The model predicts 2-year survival, but the median potential follow-up (reverse "
                            f"Kaplan-Meier) is {rkm:.1f} months: most of the 2-year predictions rest on patients "
                            "not followed that long.", "survival")
    return Answer("PY", f"The median potential follow-up (reverse Kaplan-Meier) is {rkm:.1f} months, beyond the "
                        "2-year horizon of the predictions.", "survival")


def _q41(df: pd.DataFrame, r: dict) -> Answer:
    ss = r.get("appraisal", {}).get("sample_size", {})
    req, epp = ss.get("required_n"), ss.get("events_per_parameter")
    n, events = len(df), int(df["os_event"].sum())
    if req is None or epp is None:
        return Answer("NI", "The minimum sample size is not estimable on this cohort.", "samplesize")
    if n >= req:
        return Answer("Y", f"{n} patients meet Riley et al.'s minimum of {req} for the candidate predictors "
                           f"({epp:.1f} events per candidate parameter).", "samplesize")
    return Answer("N" if epp < 10 else "PN", f"{events} deaths for {ss.get('candidate_parameters')} candidate "
                  f"parameters ({epp:.2f} events per parameter); Riley et al.'s criteria ask for at least {req} "
                  f"patients, this cohort has {n}.", "samplesize")


def _q44(df: pd.DataFrame, r: dict) -> Answer:
    missing = df.isna().sum()
    missing = missing[missing > 0]
    if missing.empty:
        return Answer("Y", "No value is missing in this cohort.", "cohort")
    cols = ", ".join(f"{c} ({int(k)})" for c, k in missing.items())
    return Answer("PN", f"Values are missing ({cols}); the paper does not say how they were handled, and a "
                        "variable with missing values can only have been analysed on complete cases.", "cohort")


def _q45(df: pd.DataFrame, r: dict) -> Answer:
    freq = r.get("appraisal", {}).get("pipeline", {}).get("selection_freq") or {}
    shares = [f"{TERM_LABELS[t]} {100 * freq[t]:.0f}%" for t in OS_TERMS if freq.get(t) is not None]
    tail = ("; repeating the screen in bootstrap resamples selects the paper's terms in " + ", ".join(shares) +
            " of them") if shares else ""
    return Answer("N", "The paper screened every baseline variable by univariable Cox regression (Suppl. Table S1) "
                       "and carried the significant ones into the multivariable model" + tail + ".", "pipeline")


def _q48(df: pd.DataFrame, r: dict) -> Answer:
    p = r.get("appraisal", {}).get("pipeline", {})
    c = r.get("nomogram", {}).get("c_index")
    cc = p.get("c_corrected")
    tail = ""
    if c is not None and cc is not None:
        tail = (f" On this cohort the apparent C is {c:.3f}; repeating the whole procedure in bootstrap "
                f"resamples corrects the C of the procedure's own model to {cc:.3f}.")
    return Answer("N", "The C-index (0.894), the time-dependent AUCs and the calibration plots are computed on the "
                       "patients the model was built on; no internal validation of the whole procedure (cut-point "
                       "searches, screen) and no shrinkage are reported." + tail, "pipeline")


#: PROBAST's 20 signalling questions: (domain, id, question, how it is answered).
PROBAST_QUESTIONS: tuple[tuple[str, str, str, Callable[[pd.DataFrame, dict], Answer]], ...] = (
    ("Participants", "1.1", "Were appropriate data sources used, e.g. cohort, RCT or nested case-control study data?",
     _fixed("PY", "A retrospective cohort of consecutive eligible patients of one hospital (2019-2022, Fig. 1).",
            "cohort")),
    ("Participants", "1.2", "Were all inclusions and exclusions of participants appropriate?",
     _fixed("PN", "Patients lost to follow-up were excluded (Methods, Study population), which removes follow-up "
                  "information selectively; inclusion required at least one cycle of chemotherapy and "
                  "immunotherapy.", "cohort")),
    ("Predictors", "2.1", "Were predictors defined and assessed in a similar way for all participants?",
     _fixed("PY", "Routine baseline variables and treatment counts from one hospital's records; EBV DNA assay "
                  "not described.", "cohort")),
    ("Predictors", "2.2", "Were predictor assessments made without knowledge of outcome data?", _q22),
    ("Predictors", "2.3", "Are all predictors available at the time the model is intended to be used?",
     _fixed("N", "The model is proposed to decide on locoregional radiotherapy, which is given during or after "
                 "first-line therapy; the total numbers of chemotherapy and immunotherapy cycles are known only "
                 "when that therapy has ended.", "nomogram")),
    ("Outcome", "3.1", "Was the outcome determined appropriately?",
     _fixed("Y", "Overall survival: death from any cause, from the date of diagnosis.", "survival")),
    ("Outcome", "3.2", "Was a pre-specified or standard outcome definition used?",
     _fixed("Y", "The standard definition of overall survival (Methods).", "survival")),
    ("Outcome", "3.3", "Were predictors excluded from the outcome definition?",
     _fixed("Y", "Death does not include any predictor.", "survival")),
    ("Outcome", "3.4", "Was the outcome defined and determined in a similar way for all participants?",
     _fixed("PY", "Same definition for all patients of one centre.", "survival")),
    ("Outcome", "3.5", "Was the outcome determined without knowledge of predictor information?",
     _fixed("Y", "All-cause death is not open to interpretation.", "survival")),
    ("Outcome", "3.6", "Was the time interval between predictor assessment and outcome determination appropriate?",
     _q36),
    ("Analysis", "4.1", "Were there a reasonable number of participants with the outcome?", _q41),
    ("Analysis", "4.2", "Were continuous and categorical predictors handled appropriately?",
     _fixed("N", "Age, EBV DNA and both cycle counts were dichotomised, EBV DNA and immunotherapy cycles at cut "
                 "points searched for in the same data (Suppl. Fig. S1).", "continuous")),
    ("Analysis", "4.3", "Were all enrolled participants included in the analysis?",
     _fixed("PY", "All 90 included patients enter the models; patients lost to follow-up had been excluded "
                  "before (question 1.2).", "cohort")),
    ("Analysis", "4.4", "Were participants with missing data handled appropriately?", _q44),
    ("Analysis", "4.5", "Was selection of predictors based on univariable analysis avoided?", _q45),
    ("Analysis", "4.6", "Were complexities in the data (e.g. censoring, competing risks, sampling of control "
                        "participants) accounted for appropriately?",
     _fixed("PN", "Kaplan-Meier and Cox models handle censoring, but the cut points come from ROC curves of death "
                  "during follow-up, a binary outcome that ignores how long each patient was followed.",
            "cutpoints")),
    ("Analysis", "4.7", "Were relevant model performance measures evaluated appropriately?",
     _fixed("PY", "Harrell's C, time-dependent AUC at 1 and 2 years and calibration plots were reported; no "
                  "calibration slope, calibration-in-the-large or measure of clinical utility.", "validation")),
    ("Analysis", "4.8", "Were model overfitting and optimism in model performance accounted for?", _q48),
    ("Analysis", "4.9", "Do predictors and their assigned weights in the final model correspond to the results "
                        "from the reported multivariable analysis?",
     _fixed("PY", "The nomogram's five factors are those of the multivariable OS model (Fig. 2C, Fig. 3A); the "
                  "book rebuilds its points from the model's coefficients.", "nomogram")),
)

#: PROBAST's applicability concerns for the question "which patients with dmNPC should receive LRRT?".
APPLICABILITY: dict[str, tuple[str, str]] = {
    "Participants": ("Low", "Patients with de novo metastatic NPC on first-line chemoimmunotherapy: the population "
                            "the model is meant for."),
    "Predictors": ("High", "Two predictors are totals of treatment cycles, not known when LRRT is decided."),
    "Outcome": ("Low", "Overall survival is the outcome that matters for the decision."),
}


def probast(df: pd.DataFrame, results: dict[str, Any]) -> pd.DataFrame:
    """Every PROBAST signalling question answered for this cohort: domain, id, question, answer, evidence, chapter."""
    rows = []
    for domain, qid, question, fn in PROBAST_QUESTIONS:
        a = fn(df, results)
        if a.answer not in ANSWERS:
            raise ValueError(f"PROBAST {qid}: answer {a.answer!r} is not one of {ANSWERS}")
        rows.append({"domain": domain, "id": qid, "question": question, "answer": a.answer, "evidence": a.evidence,
                     "chapter": a.chapter})
    return pd.DataFrame(rows)


def domain_ratings(answers: pd.DataFrame) -> pd.Series:
    """Risk of bias per domain by PROBAST's rule: high if any answer is N or PN, unclear if any is NI, else low."""
    def rate(a: pd.Series) -> str:
        if a.isin(["N", "PN"]).any():
            return "High"
        return "Unclear" if (a == "NI").any() else "Low"

    return answers.groupby("domain", sort=False)["answer"].apply(rate)


def overall_risk(ratings: pd.Series) -> str:
    """Overall risk of bias: high if any domain is, unclear if any is unclear, else low."""
    if (ratings == "High").any():
        return "High"
    return "Unclear" if (ratings == "Unclear").any() else "Low"


# --------------------------------------------------------------------------- TRIPOD+AI
# (item, section, topic, reported in the paper: yes / partly / no / n.a., where, where the book supplies it)
TRIPOD_AI: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("1", "Title", "Identifies the study as developing a prediction model, its population and outcome", "partly",
     "Title names the population and a nomogram; not the outcome (OS)", ""),
    ("2", "Abstract", "Structured summary (TRIPOD+AI for Abstracts)", "partly",
     "Abstract: no validation method, no calibration, no sample size", ""),
    ("3a", "Introduction", "Healthcare context and rationale, existing models", "yes", "Introduction", ""),
    ("3b", "Introduction", "Target population, place in the care pathway, intended users", "partly",
     "Introduction: identify patients who benefit from LRRT; timing of use not stated", "nomogram"),
    ("3c", "Introduction", "Known health inequalities between groups", "no", "", ""),
    ("4", "Introduction", "Objectives, including development or evaluation", "yes", "Introduction, last paragraph", ""),
    ("5a", "Methods", "Sources of data and their representativeness", "partly", "Study population (one hospital)",
     "cohort"),
    ("5b", "Methods", "Dates of accrual and end of follow-up", "partly", "2019-2022; end of follow-up not given",
     "survival"),
    ("6a", "Methods", "Study setting and number and location of centres", "yes", "Fujian Cancer Hospital", ""),
    ("6b", "Methods", "Eligibility criteria", "yes", "Study population", "cohort"),
    ("6c", "Methods", "Treatments received", "yes", "Treatment", "survival"),
    ("7", "Methods", "Data preparation and quality checks", "no", "", "own-data"),
    ("8a", "Methods", "Outcome definition and time horizon", "partly", "PFS and OS defined; horizons not stated",
     "survival"),
    ("8b", "Methods", "Qualifications of outcome assessors, if subjective", "n.a.", "all-cause death", ""),
    ("8c", "Methods", "Blinding of outcome assessment", "no", "", ""),
    ("9a", "Methods", "Choice of initial predictors and any pre-selection", "partly",
     "Suppl. Table S1 lists the candidates; how they were chosen is not stated", "pipeline"),
    ("9b", "Methods", "Definition of predictors, how and when measured", "partly",
     "Cut points given; timing of the cycle counts not stated", "cutpoints"),
    ("9c", "Methods", "Qualifications of predictor assessors, if subjective", "n.a.", "", ""),
    ("10", "Methods", "How the sample size was decided", "no", "", "samplesize"),
    ("11", "Methods", "Handling of missing data", "no", "", "cohort"),
    ("12a", "Methods", "How the data were used (development, evaluation, resampling)", "no",
     "Performance computed on the development data; no resampling stated", "validation"),
    ("12b", "Methods", "Handling of predictors (functional form, cut points)", "partly",
     "ROC cut points (Suppl. Fig. S1)", "continuous"),
    ("12c", "Methods", "Model type, building and selection, internal validation", "partly",
     "Cox regression after a univariable screen; selection rule and internal validation not stated", "pipeline"),
    ("12d", "Methods", "Heterogeneity across clusters or centres", "n.a.", "single centre", ""),
    ("12e", "Methods", "Performance measures and their rationale", "partly", "C-index, time-dependent AUC, calibration map",
     "validation"),
    ("12f", "Methods", "Model updating", "n.a.", "", ""),
    ("12g", "Methods", "For evaluation: how predictions were calculated", "n.a.", "", "external"),
    ("13", "Methods", "Class imbalance methods", "n.a.", "", ""),
    ("14", "Methods", "Fairness: approaches to assess it", "no", "", ""),
    ("15", "Methods", "Model output and how risk groups were created", "partly", "Mean of nomogram scores",
     "risk"),
    ("16", "Methods", "Differences between development and evaluation data", "n.a.", "no evaluation data", "external"),
    ("17", "Methods", "Ethical approval", "yes", "Ethical approval and consent", ""),
    ("18a", "Open science", "Funding", "yes", "Funding", ""),
    ("18b", "Open science", "Conflicts of interest", "yes", "Competing interests", ""),
    ("18c", "Open science", "Protocol", "no", "", ""),
    ("18d", "Open science", "Registration", "no", "", ""),
    ("18e", "Open science", "Data sharing", "partly", "On request to the corresponding author", "own-data"),
    ("18f", "Open science", "Code sharing", "no", "", "reproduction"),
    ("19", "Patient and public involvement", "Patient and public involvement", "no", "", ""),
    ("20a", "Results", "Flow of participants, with and without the outcome, follow-up", "partly",
     "Fig. 1; follow-up median and range", "cohort"),
    ("20b", "Results", "Characteristics of participants, including missing data", "partly",
     "Table 1 by LRRT arm; missing values not reported", "baseline"),
    ("20c", "Results", "Comparison of development and evaluation data", "n.a.", "", "external"),
    ("21", "Results", "Number of participants and outcome events in each analysis", "partly",
     "90 patients; number of deaths not reported", "prognostic"),
    ("22", "Results", "Full model (coefficients, baseline survival) to allow predictions", "partly",
     "Hazard ratios and nomogram; baseline survival not given", "nomogram"),
    ("23a", "Results", "Performance estimates with confidence intervals", "partly",
     "C-index with CI; AUCs without; calibration as plots", "validation"),
    ("23b", "Results", "Heterogeneity of performance across subgroups", "no", "", ""),
    ("24", "Results", "Model updating results", "n.a.", "", ""),
    ("25", "Discussion", "Interpretation, including fairness", "partly", "Discussion", "risk"),
    ("26", "Discussion", "Limitations (bias, sample, generalisability)", "partly",
     "Retrospective design, histology, small low-risk group", "verdict"),
    ("27a", "Discussion", "Handling of poor-quality or unavailable input data when used", "no", "", "nomogram"),
    ("27b", "Discussion", "User interaction and expertise needed", "no", "", ""),
    ("27c", "Discussion", "Next steps, applicability and generalisability", "partly",
     "A larger population and longer follow-up are needed", "external"),
)


def tripod() -> pd.DataFrame:
    """The TRIPOD+AI checklist with the paper's reporting: item, section, topic, reported, where, book chapter."""
    return pd.DataFrame(TRIPOD_AI, columns=["item", "section", "topic", "reported", "where", "chapter"])
