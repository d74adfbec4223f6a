"""The nomogram calculator: one patient in clinical units in, the OS model's prediction out.

The fitted OS model of :func:`dmnpc.paper.analysis.os_nomogram` is written as data, a JSON
*model document* (:func:`model_document`, format ``dmnpc-calculator`` version 1), which the
book's chapter embeds in its page for the JavaScript calculator (``_static/dmnpc-calculator.js``)
and offers for download. It holds model parameters and aggregates only: the cut points, the
coefficients and their variance, the points of each level, the mean-split threshold, the
``survfit.coxph`` step functions on the event-time grid (:mod:`dmnpc.stats.survfit`) and the
ranges of the inputs in the development data, rounded outward (whole years; two significant
digits of EBV DNA) so that no patient's own value is published. Never a row of the cohort.

:func:`predict` computes the same prediction in Python from the fitted model itself (not from
the document), so the two implementations check each other; ``python -m dmnpc predict`` prints
it. A prediction has ``points`` (per term), ``total_points``, ``surv_<t>`` with
``surv_<t>_lower``/``surv_<t>_upper`` (95% CI, ``survfit.coxph``'s log interval) for each
horizon, ``risk_group`` ('low' or 'high': total points above the development cohort's
mean (or median, as ``settings.yml``'s ``risk_split``) are high) and ``warnings``.

Inputs are checked as the page checks them (:func:`check_patient`): impossible values (not a
number, negative, beyond the data contract's range, a fraction of a cycle) are refused with one
message per field; values outside the development data's range are accepted with a warning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dmnpc.paper import analysis, contract
from dmnpc.stats import survfit as _survfit
from dmnpc.stats._validate import z_value
from dmnpc.paper.variables import HORIZONS, OS_TERMS, PAPER_LEVEL_LABELS, PAPER_TERM_LABELS, design_matrix

__all__ = ["FORMAT", "INPUTS", "PatientError", "check_patient", "model_document", "predict", "Calculator",
           "calculator", "published_points"]

#: Identifier and version of the model document (bump the version on any change of keys).
FORMAT = ("dmnpc-calculator", 1)
#: The patient's inputs, in the form's order (data-contract column names).
INPUTS: tuple[str, ...] = ("age", "ebv_dna", "met_lesions", "chemo_cycles", "immuno_cycles")
#: The input each model term is computed from.
TERM_INPUT: dict[str, str] = {"age_high": "age", "ebv_dna_high": "ebv_dna", "multiple_lesions": "met_lesions",
                              "chemo_cycles_low": "chemo_cycles", "immuno_cycles_low": "immuno_cycles"}
#: Labels and units of the inputs on the form.
INPUT_LABELS: dict[str, tuple[str, str]] = {
    "age": ("Age", "years"), "ebv_dna": ("Pre-treatment EBV DNA", "copies/mL"),
    "met_lesions": ("Metastatic lesions", ""), "chemo_cycles": ("Cycles of chemotherapy", "cycles"),
    "immuno_cycles": ("Cycles of immunotherapy", "cycles")}
#: Confidence level of the predicted survival's interval.
CONF_LEVEL = 0.95
_SCHEMA = {c.name: c for c in contract.SCHEMA}


class PatientError(ValueError):
    """Impossible inputs: ``problems`` maps each refused field to its message."""

    def __init__(self, problems: dict[str, str]):
        self.problems = dict(problems)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.problems.items()))


# --------------------------------------------------------------------------- input ranges
def _contract_bounds(name: str) -> dict[str, Any]:
    """Range the data contract allows for an input (what any valid cohort may hold)."""
    col = _SCHEMA[name]
    if name in ("chemo_cycles", "immuno_cycles"):
        return {"min": col.minimum, "max": float(contract.MAX_PLAUSIBLE_CYCLES), "integer": True}
    return {"min": col.minimum, "max": col.maximum, "integer": col.kind == "int"}


def _round_out(lo: float, hi: float, name: str) -> tuple[float, float]:
    """The observed range rounded outward, so that neither end is one patient's exact value."""
    if name == "age":
        return float(math.floor(lo)), float(math.ceil(hi))
    if name == "ebv_dna":
        def sig2(x: float, up: bool) -> float:
            if x <= 0:
                return 0.0
            step = 10.0 ** (math.floor(math.log10(x)) - 1)
            return float((math.ceil if up else math.floor)(x / step) * step)
        return sig2(lo, False), sig2(hi, True)
    return float(lo), float(hi)   # cycles: whole numbers


def input_ranges(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per numeric input: the contract's bounds and the development data's range, rounded outward."""
    out = {}
    for name in ("age", "ebv_dna", "chemo_cycles", "immuno_cycles"):
        lo, hi = _round_out(float(df[name].min()), float(df[name].max()), name)
        out[name] = {"contract": _contract_bounds(name), "observed": {"min": lo, "max": hi}}
    return out


# --------------------------------------------------------------------------- checking a patient
def _fmt(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,g}"


def _number(v: Any) -> float | None:
    """A finite number from a JSON value or text (decimal notation, thousands may be grouped by commas), else None."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, str):
        import re
        t = v.strip()
        if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?", t):   # 120,000 as the page's hints print it
            t = t.replace(",", "")
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", t):
            return None
        x = float(t)
        return x if math.isfinite(x) else None
    return None


def check_patient(patient: Mapping[str, Any], ranges: Mapping[str, Mapping[str, Any]] | None = None
                  ) -> tuple[dict[str, Any], list[str]]:
    """Validate one patient's inputs; return ``(values, warnings)``.

    Parameters
    ----------
    patient : mapping
        ``age`` (years), ``ebv_dna`` (copies/mL), ``met_lesions`` ('single' or 'multiple'),
        ``chemo_cycles`` and ``immuno_cycles`` (whole numbers).
    ranges : mapping, optional
        :func:`input_ranges` of the development data; without it no range warning is given.

    Raises
    ------
    PatientError
        With one message per impossible field (missing, not a number, negative, beyond the data
        contract, a fraction of a cycle, an unknown lesion level or an unknown field).
    """
    if not isinstance(patient, Mapping):
        raise PatientError({"patient": "expected an object with the fields " + ", ".join(INPUTS)})
    problems: dict[str, str] = {}
    unknown = [k for k in patient if k not in INPUTS]
    if unknown:
        problems["patient"] = f"unknown field(s) {unknown}: expected " + ", ".join(INPUTS)
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for name in INPUTS:
        label, unit = INPUT_LABELS[name]
        v = patient.get(name)
        if name == "met_lesions":
            if v in (None, ""):
                problems[name] = "Choose single or multiple metastatic lesions."
            elif v not in ("single", "multiple"):
                problems[name] = f"Metastatic lesions must be 'single' or 'multiple', got {str(v)[:40]!r}."
            else:
                values[name] = v
            continue
        what = label[0].lower() + label[1:] if name != "ebv_dna" else "EBV DNA"
        if v is None or (isinstance(v, str) and not v.strip()):
            problems[name] = f"Enter the {what}" + (f" ({unit})." if unit else ".")
            continue
        x = _number(v)
        bounds = _contract_bounds(name)
        if x is None:
            problems[name] = f"The {what} must be a number" + (f" of {unit}." if unit else ".")
        elif x < 0:
            problems[name] = f"The {what} cannot be negative."
        elif bounds["integer"] and not float(x).is_integer():
            problems[name] = f"The {what} must be a whole number of cycles."
        elif bounds["min"] is not None and x < bounds["min"]:
            problems[name] = (f"The {what} must be at least {_fmt(bounds['min'])} (the data contract's range: "
                              "every patient received treatment).")
        elif bounds["max"] is not None and x > bounds["max"]:
            problems[name] = f"The {what} must be at most {_fmt(bounds['max'])} {unit} (the data contract's range)."
        else:
            values[name] = x
            obs = (ranges or {}).get(name, {}).get("observed")
            if obs and not (obs["min"] <= x <= obs["max"]):
                u = f" {unit}" if unit else ""
                vu = "" if unit == "cycles" else u   # "1 is outside ... (2 to 32 cycles)", not "1 cycles"
                warnings.append(f"{label}: {_fmt(x)}{vu} is outside the range of the development data "
                                f"({_fmt(obs['min'])} to {_fmt(obs['max'])}{u}); the prediction is an extrapolation.")
    if problems:
        raise PatientError(problems)
    return values, warnings


# --------------------------------------------------------------------------- the model
def published_points() -> dict[str, dict[str, float]] | None:
    """The paper's own Fig. 3A points per term and level, if ``published.yaml`` records them.

    ``published.yaml`` has them under ``nomogram_points`` (``{term: {"0": points, "1": points}}``)
    only once they are transcribed; the text available to this project does not print them.
    """
    from dmnpc.paper.published import load_published

    pts = load_published().get("nomogram_points")
    if not pts:
        return None
    return {t: {str(k): float(v) for k, v in lev.items()} for t, lev in pts.items()}


class Calculator:
    """The fitted OS model of one cohort, ready to predict for new patients.

    Attributes
    ----------
    fit, nom : the :class:`~dmnpc.stats.cox.CoxFit` and :class:`~dmnpc.stats.nomogram.Nomogram`
    basis : :class:`~dmnpc.stats.survfit.SurvfitBasis` (Efron, ``survfit.coxph``'s default)
    cutoffs : :class:`~dmnpc.paper.variables.Cutoffs` the model's terms use
    threshold : float, split : str
        The risk split of the development cohort's total points ('mean' or 'median').
    ranges : dict
        :func:`input_ranges`.
    times : tuple of float
        Prediction horizons (months).
    cohort : dict
        ``name``, ``synthetic``, ``n``, ``events``.
    """

    def __init__(self, df: pd.DataFrame, times: tuple[float, ...] = HORIZONS):
        from dmnpc.paper.settings import current
        from dmnpc.stats import subgroup

        self.fit, self.nom, scores = analysis.os_nomogram(df, times)
        self.basis = _survfit.survfit_basis(self.fit, "efron")
        self.cutoffs = analysis.cutoffs_used(df)
        self.split = current().risk_split
        groups = subgroup.risk_groups(scores["total_points"], self.split)
        self.threshold = float(groups.attrs["threshold"])
        self.ranges = input_ranges(df)
        self.times = tuple(float(t) for t in times)
        synthetic = bool(df.attrs.get("synthetic", False))
        self.cohort = {"name": "synthetic twin" if synthetic else Path(str(df.attrs.get("source", "cohort"))).name,
                       "synthetic": synthetic, "n": int(self.fit.n), "events": int(self.fit.n_events)}

    def design(self, values: Mapping[str, Any]) -> pd.DataFrame:
        """The model's 0/1 terms of one checked patient."""
        raw = pd.DataFrame({k: [values[k]] for k in INPUTS})
        return design_matrix(raw, OS_TERMS, self.cutoffs)

    def predict(self, patient: Mapping[str, Any]) -> dict[str, Any]:
        """Prediction for one patient (see the module docstring); :class:`PatientError` for impossible inputs."""
        from dmnpc.stats import nomogram

        values, warnings = check_patient(patient, self.ranges)
        X = self.design(values)
        sc = nomogram.score(self.nom, X).iloc[0]
        pred = _survfit.predict_survfit(self.basis, X, self.times, CONF_LEVEL)
        out: dict[str, Any] = {"points": {t: float(sc[f"points_{t}"]) for t in OS_TERMS},
                               "total_points": float(sc["total_points"])}
        for _, row in pred.iterrows():
            key = f"surv_{row['time']:g}"
            out[key], out[key + "_lower"], out[key + "_upper"] = (float(row["surv"]), float(row["lower"]),
                                                                  float(row["upper"]))
        out["risk_group"] = "high" if out["total_points"] > self.threshold else "low"
        out["warnings"] = warnings
        return out

    def document(self) -> dict[str, Any]:
        """The model document the page and other calculators read (see the module docstring)."""
        terms = []
        for t, coef, mean, nt in zip(self.fit.terms, self.fit.coef, self.fit.means, self.nom.terms):
            inp = TERM_INPUT[t]
            if inp == "met_lesions":
                rule = {"input": inp, "op": "==", "value": "multiple"}
            else:
                op = "<" if t.endswith("_low") else ">="
                rule = {"input": inp, "op": op, "value": float(getattr(self.cutoffs, inp))}
            if inp == "met_lesions":
                levels = dict(PAPER_LEVEL_LABELS[t])
            else:   # the labels show the cut points the model used (the paper's, or the cohort's Youden cuts)
                c = _fmt(float(rule["value"]))
                levels = {0.0: f"< {c}", 1.0: f"≥ {c}"} if op == ">=" else {0.0: f"≥ {c}", 1.0: f"< {c}"}
            terms.append({"name": t, "label": PAPER_TERM_LABELS.get(t, t), "rule": rule, "coef": float(coef),
                          "mean": float(mean),
                          "levels": [{"value": float(v), "label": levels.get(float(v), f"{v:g}"), "points": float(p)}
                                     for v, p in zip(nt.values, nt.points)]})
        ticks = self.nom.survival_ticks
        return {
            "format": FORMAT[0], "version": FORMAT[1],
            "cohort": self.cohort,
            "inputs": [{"name": k, "label": INPUT_LABELS[k][0], "unit": INPUT_LABELS[k][1],
                        **({"levels": ["single", "multiple"]} if k == "met_lesions" else self.ranges[k])}
                       for k in INPUTS],
            "terms": terms,
            "points": {"max_points": self.nom.max_points, "scale": self.nom.scale, "intercept": self.nom.intercept,
                       "total_points_axis": list(self.nom.total_points_axis)},
            "risk": {"split": self.split, "threshold": self.threshold,
                     "rule": "high when total points > threshold, else low"},
            "times": [{"time": t, "label": lab,
                       "ticks": [{"survival": float(s), "total_points": float(p)}
                                 for s, p in zip(ticks.loc[ticks["time"] == t, "survival"],
                                                 ticks.loc[ticks["time"] == t, "total_points"])]}
                      for t, lab in zip(self.nom.times, self.nom.time_labels)],
            "survfit": {"conf_level": CONF_LEVEL, "z": z_value(CONF_LEVEL), "conf_type": "log",
                        "coef": [float(v) for v in self.basis.coef], "means": [float(v) for v in self.basis.means],
                        "vcov": [[float(v) for v in row] for row in self.basis.vcov],
                        "time_tolerance": _survfit.TIME_TOL,
                        **self.basis.to_dict()},
            "published_points": published_points() if self.cohort["synthetic"] else None,
            "formula": ("points: each term's level points, summed; lp = sum_j coef_j (x_j - mean_j); at time t "
                        "take the last event time <= t (+1e-6): H0, varhaz, xbar (zeros before the first); "
                        "H = H0 exp(lp); d = H0 (x - mean) - xbar; se = exp(lp) sqrt(varhaz + d' vcov d); "
                        "S = exp(-H), CI = S exp(-/+ z se), upper capped at 1 (survival::survfit.coxph, "
                        "conf.type = 'log', Efron ctype = 2)"),
        }


def calculator(df: pd.DataFrame) -> Calculator:
    """The :class:`Calculator` of a cohort; :class:`ValueError` when its OS model cannot be fitted."""
    return Calculator(df)


def model_document(df: pd.DataFrame) -> dict[str, Any]:
    """The JSON model document of a cohort's fitted OS model (see the module docstring)."""
    return Calculator(df).document()


def predict(df: pd.DataFrame, patient: Mapping[str, Any]) -> dict[str, Any]:
    """One patient's prediction from the OS model fitted on ``df`` (see :meth:`Calculator.predict`)."""
    return Calculator(df).predict(patient)


def patterns() -> pd.DataFrame:
    """All 2^k combinations of the model's binary terms (the first term varying fastest, as R's expand.grid)."""
    k = len(OS_TERMS)
    rows = [[(i >> j) & 1 for j in range(k)] for i in range(2 ** k)]
    return pd.DataFrame(np.array(rows, float), columns=list(OS_TERMS))
