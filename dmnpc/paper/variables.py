"""The paper's codings of the baseline variables (the rows of Tables 1 and 2).

Every binary grouping the paper uses is defined once here, from the data
contract's columns, and used by the tables, the Cox models, the nomogram, the
twin and the report. Cut points default to the published values (EBV DNA
66,600 copies/mL, 8 immunotherapy cycles, age 50, LDH 250 U/L, 6 chemotherapy
cycles); the cut-points chapter shows what the cohort itself would choose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from dmnpc.paper.settings import current as _current_settings

_SETTINGS = _current_settings()

__all__ = ["Cutoffs", "PAPER_CUTOFFS", "Grouping", "GROUPINGS", "TABLE_ROWS", "grouped",
           "design_matrix", "OS_TERMS", "PFS_TERMS", "TERMS", "TERM_LABELS",
           "SCREEN_TERMS", "HORIZONS", "RISK_TIMES", "SEED", "BOOT_B", "CALIBRATION_M",
           "CUT_OUTCOME", "TABLE_TEST", "LRRT_ARMS", "RISK_COHORTS", "LABELS", "label",
           "PAPER_TERM_LABELS", "PAPER_LEVEL_LABELS"]

# --------------------------------------------------------------------------- the paper's constants
# One definition each; analysis, report, twin and the chapters import them from here.

#: Time points (months) of the paper's survival rates, time-dependent AUC and calibration
#: (``settings.yml``: ``horizons``; the paper's 12 and 24 by default).
HORIZONS: tuple[float, ...] = _SETTINGS.horizons
#: Times (months) of the numbers-at-risk table under every Kaplan-Meier figure.
RISK_TIMES: tuple[float, ...] = (0, 12, 24, 36, 48)
#: Seed of every random draw of the analysis and the book (bootstrap validation, the bootstrap of
#: the cut points, the synthetic twin). Passed explicitly, so no library default is relied on.
SEED = _SETTINGS.seed
#: Bootstrap replicates used by the book for internal validation (rms recommends >= 200;
#: ``settings.yml``: ``bootstrap_replicates``).
BOOT_B = _SETTINGS.bootstrap_replicates
#: Patients per group in grouped calibration: three groups of about 30 in n = 90
#: (rms's default m = 150 would give no groups at all in this cohort).
CALIBRATION_M = 30
#: Outcome the paper's ROC cut points are taken against: death during follow-up (OS event).
#: The paper does not say; with it, the Youden cut on the synthetic twin is the published one.
CUT_OUTCOME = "os_event"
#: Test used for the baseline tables: the audit shows the paper's P values are Fisher's exact
#: test, although its Methods say chi-square (see the audit chapter).
TABLE_TEST = _SETTINGS.table_test

# --------------------------------------------------------------------------- codes and labels
# Groups are keyed by codes everywhere (results, analysis, tables); labels are applied only
# when a figure is drawn or a table printed, from the one table :data:`LABELS`.

#: LRRT arm code -> value of the data contract's ``lrrt`` column, LRRT first as in the figures.
LRRT_ARMS: dict[str, int] = {"lrrt": 1, "no_lrrt": 0}
#: Risk cohorts (codes of :func:`dmnpc.paper.analysis.stratify`), low first.
RISK_COHORTS: tuple[str, ...] = ("low", "high")
#: Display label of every group code.
LABELS: dict[str, str] = {
    "lrrt": "LRRT",
    "no_lrrt": "Without LRRT",
    "low": "Low risk",
    "high": "High risk",
    "os": "Overall survival",
    "pfs": "Progression-free survival",
}


def label(code: str) -> str:
    """Display label of a group code or model term (the code itself when it has none)."""
    return LABELS.get(code) or TERM_LABELS.get(code, code)


@dataclass(frozen=True)
class Cutoffs:
    """Cut points that turn continuous or count variables into the paper's groups.

    A value at or above the cut point falls in the upper group (``>= cut``), as
    in Tables 1 and 2 ("< 66,600" vs "≥ 66,600").
    """

    age: float = 50.0
    ebv_dna: float = 66_600.0
    ldh: float = 250.0
    chemo_cycles: float = 6.0
    immuno_cycles: float = 8.0


#: The cut points printed in the paper.
PAPER_CUTOFFS = Cutoffs()


@dataclass(frozen=True)
class Grouping:
    """One row block of Tables 1/2: a variable split into labelled levels.

    Attributes
    ----------
    name : str
        Key, equal to the data-contract column it is derived from.
    label : str
        Row label as printed in Table 1.
    levels : tuple of str
        Level labels in the paper's order; the first is the reference level.
    assign : callable
        ``assign(df, cutoffs) -> pandas.Series`` of level labels (NaN if missing).
    """

    name: str
    label: str
    levels: tuple[str, ...]
    assign: Callable[[pd.DataFrame, Cutoffs], pd.Series]


def _cut(col: str, attr: str, low: str, high: str) -> Callable[[pd.DataFrame, Cutoffs], pd.Series]:
    def f(df: pd.DataFrame, cut: Cutoffs) -> pd.Series:
        x = df[col].astype(float)
        out = pd.Series(np.where(x >= getattr(cut, attr), high, low), index=df.index, dtype=object)
        out[x.isna()] = np.nan
        return out
    return f


def _yesno(col: str) -> Callable[[pd.DataFrame, Cutoffs], pd.Series]:
    return lambda df, cut: df[col].map({0: "No", 1: "Yes"}).astype(object)


def _stage(col: str, low: tuple[str, ...], lo_lab: str, hi_lab: str) -> Callable[[pd.DataFrame, Cutoffs], pd.Series]:
    return lambda df, cut: pd.Series(np.where(df[col].astype(str).isin(low), lo_lab, hi_lab),
                                     index=df.index, dtype=object)


def _ecog(df: pd.DataFrame, cut: Cutoffs) -> pd.Series:
    return df["ecog"].map(lambda v: str(int(v)) if v <= 1 else "≥2").astype(object)


GROUPINGS: tuple[Grouping, ...] = (
    Grouping("age", "Age (year)", ("< 50", "≥ 50"), _cut("age", "age", "< 50", "≥ 50")),
    Grouping("sex", "Gender", ("Male", "Female"),
             lambda df, cut: df["sex"].astype(str).map({"male": "Male", "female": "Female"}).astype(object)),
    Grouping("ecog", "ECOG score", ("0", "1", "≥2"), _ecog),
    Grouping("t_stage", "T stage", ("T1-2", "T3-4"), _stage("t_stage", ("T1", "T2"), "T1-2", "T3-4")),
    Grouping("n_stage", "N stage", ("N0-1", "N2-3"), _stage("n_stage", ("N0", "N1"), "N0-1", "N2-3")),
    Grouping("ebv_dna", "Pre-treatment EBV DNA", ("< 66,600", "≥ 66,600"),
             _cut("ebv_dna", "ebv_dna", "< 66,600", "≥ 66,600")),
    Grouping("multi_organ_mets", "Multiple organ metastasis", ("No", "Yes"), _yesno("multi_organ_mets")),
    Grouping("met_lesions", "No. of metastatic lesions", ("Single", "Multiple"),
             lambda df, cut: df["met_lesions"].astype(str).map({"single": "Single", "multiple": "Multiple"})
             .astype(object)),
    Grouping("liver_mets", "Liver metastases", ("No", "Yes"), _yesno("liver_mets")),
    Grouping("bone_mets", "Bone metastases", ("No", "Yes"), _yesno("bone_mets")),
    Grouping("lung_mets", "Lung metastases", ("No", "Yes"), _yesno("lung_mets")),
    Grouping("ldh", "Lactate dehydrogenase (U/L)", ("< 250", "≥ 250"), _cut("ldh", "ldh", "< 250", "≥ 250")),
    Grouping("chemo_cycles", "Cycle of first-line chemotherapy", ("< 6", "≥ 6"),
             _cut("chemo_cycles", "chemo_cycles", "< 6", "≥ 6")),
    Grouping("immuno_cycles", "Cycle of first-line immunotherapy", ("< 8", "≥ 8"),
             _cut("immuno_cycles", "immuno_cycles", "< 8", "≥ 8")),
    Grouping("local_tx_mets", "Local treatment to metastasis", ("No", "Yes"), _yesno("local_tx_mets")),
)

#: Names of the Table 1 row blocks, in the paper's order.
TABLE_ROWS: tuple[str, ...] = tuple(g.name for g in GROUPINGS)
_BY_NAME = {g.name: g for g in GROUPINGS}


def grouped(df: pd.DataFrame, cutoffs: Cutoffs = PAPER_CUTOFFS) -> pd.DataFrame:
    """Return the cohort's variables in the paper's groups (one column per Table 1 block).

    Each column is an ordered :class:`pandas.Categorical` with the levels of
    its :class:`Grouping`; missing LDH stays missing. An ECOG level that does
    not occur (e.g. "≥2") is kept as an empty category.
    """
    out = {}
    for g in GROUPINGS:
        out[g.name] = pd.Categorical(g.assign(df, cutoffs), categories=list(g.levels), ordered=True)
    return pd.DataFrame(out, index=df.index)


#: Multivariable OS model terms (results-JSON names): each the adverse level vs its reference.
OS_TERMS: tuple[str, ...] = ("age_high", "ebv_dna_high", "multiple_lesions", "chemo_cycles_low",
                             "immuno_cycles_low")
#: Multivariable PFS model terms as reported (Fig. 2D): single lesion and chemotherapy cycles significant.
PFS_TERMS: tuple[str, ...] = OS_TERMS

_TERM_DEFS: dict[str, Callable[[pd.DataFrame, Cutoffs], pd.Series]] = {
    "age_high": lambda df, c: (df["age"] >= c.age).astype(float),
    "ebv_dna_high": lambda df, c: (df["ebv_dna"] >= c.ebv_dna).astype(float),
    "multiple_lesions": lambda df, c: (df["met_lesions"].astype(str) == "multiple").astype(float),
    "chemo_cycles_low": lambda df, c: (df["chemo_cycles"] < c.chemo_cycles).astype(float),
    "immuno_cycles_low": lambda df, c: (df["immuno_cycles"] < c.immuno_cycles).astype(float),
    "multi_organ_mets": lambda df, c: df["multi_organ_mets"].astype(float),
    "liver_mets": lambda df, c: df["liver_mets"].astype(float),
    "bone_mets": lambda df, c: df["bone_mets"].astype(float),
    "lung_mets": lambda df, c: df["lung_mets"].astype(float),
    "ldh_high": lambda df, c: (df["ldh"] >= c.ldh).astype(float).where(df["ldh"].notna()),
    "female": lambda df, c: (df["sex"].astype(str) == "female").astype(float),
    "ecog_ge1": lambda df, c: (df["ecog"] >= 1).astype(float),
    "t3_4": lambda df, c: df["t_stage"].astype(str).isin(["T3", "T4"]).astype(float),
    "n2_3": lambda df, c: df["n_stage"].astype(str).isin(["N2", "N3"]).astype(float),
    "local_tx_mets": lambda df, c: df["local_tx_mets"].astype(float),
    "no_lrrt": lambda df, c: (1 - df["lrrt"]).astype(float),
}
TERMS: tuple[str, ...] = tuple(_TERM_DEFS)


def design_matrix(df: pd.DataFrame, terms: tuple[str, ...] | list[str] = OS_TERMS,
                  cutoffs: Cutoffs = PAPER_CUTOFFS) -> pd.DataFrame:
    """0/1 indicator columns for Cox models, one per term (adverse level = 1).

    Parameters
    ----------
    df : pandas.DataFrame
        A validated cohort.
    terms : sequence of str
        Term names from :data:`TERMS` (e.g. :data:`OS_TERMS`).
    cutoffs : Cutoffs
        Cut points; the paper's by default.

    Returns
    -------
    pandas.DataFrame
        Float columns named by the terms; ``ldh_high`` is NaN where LDH is missing.
    """
    unknown = [t for t in terms if t not in _TERM_DEFS]
    if unknown:
        raise ValueError(f"unknown model term(s) {unknown}: expected some of {list(_TERM_DEFS)}")
    return pd.DataFrame({t: _TERM_DEFS[t](df, cutoffs) for t in terms}, index=df.index)

#: Display labels of the model terms (adverse level vs reference).
TERM_LABELS: dict[str, str] = {
    "age_high": "Age ≥ 50 vs < 50",
    "female": "Female vs male",
    "ecog_ge1": "ECOG 1+ vs 0",
    "t3_4": "T3-4 vs T1-2",
    "n2_3": "N2-3 vs N0-1",
    "ebv_dna_high": "EBV DNA ≥ 66,600 vs < 66,600",
    "multi_organ_mets": "Multiple vs single organ metastasis",
    "multiple_lesions": "Multiple vs single metastatic lesion",
    "liver_mets": "Liver metastases",
    "bone_mets": "Bone metastases",
    "lung_mets": "Lung metastases",
    "ldh_high": "LDH ≥ 250 vs < 250 U/L",
    "chemo_cycles_low": "Chemotherapy < 6 vs ≥ 6 cycles",
    "immuno_cycles_low": "Immunotherapy < 8 vs ≥ 8 cycles",
    "local_tx_mets": "Local treatment to metastasis",
    "no_lrrt": "Without vs with LRRT",
}
#: Terms of the univariable screen (Suppl. Table S1): every baseline variable.
SCREEN_TERMS: tuple[str, ...] = ("age_high", "female", "ecog_ge1", "t3_4", "n2_3", "ebv_dna_high",
                                 "multi_organ_mets", "multiple_lesions", "liver_mets", "bone_mets",
                                 "lung_mets", "ldh_high", "chemo_cycles_low", "immuno_cycles_low",
                                 "local_tx_mets", "no_lrrt")


def _fmt_count(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,g}"


_C = PAPER_CUTOFFS
#: Axis titles of the paper's OS nomogram terms (Fig. 3A).
PAPER_TERM_LABELS: dict[str, str] = {
    "age_high": "Age (year)",
    "ebv_dna_high": "Pre-treatment EBV DNA (copies/mL)",
    "multiple_lesions": "No. of metastatic lesions",
    "chemo_cycles_low": "Cycles of chemotherapy",
    "immuno_cycles_low": "Cycles of immunotherapy",
}
#: Level labels (value -> text) of the paper's OS nomogram terms, from :data:`PAPER_CUTOFFS`.
PAPER_LEVEL_LABELS: dict[str, dict[float, str]] = {
    "age_high": {0.0: f"< {_fmt_count(_C.age)}", 1.0: f"≥ {_fmt_count(_C.age)}"},
    "ebv_dna_high": {0.0: f"< {_fmt_count(_C.ebv_dna)}", 1.0: f"≥ {_fmt_count(_C.ebv_dna)}"},
    "multiple_lesions": {0.0: "Single", 1.0: "Multiple"},
    "chemo_cycles_low": {0.0: f"≥ {_fmt_count(_C.chemo_cycles)}", 1.0: f"< {_fmt_count(_C.chemo_cycles)}"},
    "immuno_cycles_low": {0.0: f"≥ {_fmt_count(_C.immuno_cycles)}", 1.0: f"< {_fmt_count(_C.immuno_cycles)}"},
}
