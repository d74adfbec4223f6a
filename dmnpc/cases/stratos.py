"""The STRATOS TG6 case study redone: development on Rotterdam, external validation on GBSG.

McLernon et al. (2023) show, on two public breast-cancer data sets, how to assess a Cox
prediction model at a fixed horizon. Their *basic model* is developed on ``survival::rotterdam``
and validated on ``survival::gbsg``; their public R code (repository
``danielegiardiello/Prediction_performance_survival``, files ``01_predsurv_minimal.R``,
``01_predsurv_minimal_RMD.md`` and ``03_predsurv_extended.md``) prints every measure. This
module redoes that analysis with :mod:`dmnpc.stats` (nothing of that code is reused) and keeps
the published values beside it (:data:`PUBLISHED`).

Preparation, as the case study's code does it
---------------------------------------------
Development (Rotterdam, all 2,982 patients, none excluded):

* outcome: recurrence-free survival, the first of relapse or death: ``rfs = max(recur, death)``;
  follow-up ``rtime``, except for the 43 patients who died without a recorded relapse after
  their relapse follow-up ended (``recur = 0``, ``death = 1``, ``rtime < dtime``), who take their
  death time ``dtime``; days / 365.25 = years;
* tumour size: the data set's three categories (<= 20, 20-50, > 50 mm), <= 20 the reference;
* nodes: the number of positive nodes capped at its 99th percentile in the development data
  (``quantile(type = 1)``: 19 nodes), entered as a restricted cubic spline with knots at 0, 1
  and 9 nodes (the capped count and one non-linear term, Hmisc's ``rcspline.eval``, ``norm = 2``);
* grade: 3 against 1-2 (Rotterdam has grades 2 and 3 only);
* administrative censoring at 5 years: a patient followed beyond 5 years is censored at 5
  (``survSplit(cut = 5)``, first epoch).

Validation (GBSG, all 686 patients): ``rfstime`` / 365.25 and ``status``; size in mm cut into the
same categories ((-1, 20], (20, 50], (50, 500]); nodes capped at the *development* cap and the
same knots; grade 3 against 1-2; censored at 5 years. Progesterone receptor (PgR) is not in the
basic model (only in the case study's extended model, not redone here).

Model: Cox (Efron ties) on 5 terms (two size indicators, nodes, its spline term, grade 3); the
predicted 5-year risk is ``1 - S0(5) ** exp(lp)``, ``S0`` the Efron-type baseline of
``survfit.coxph`` (what ``riskRegression::predictRisk`` returns), ``lp`` centred at the
development means.

Measures (each data set, model fixed)
-------------------------------------
Harrell's and Uno's C on the linear predictor (``survival::concordance(reverse = TRUE)``, with
``timewt = "n/G2"`` and no truncation for Uno's), time-dependent AUC, Brier score and IPA at
**4.99** years (as the case study: at 5 years exactly nobody is followed beyond the horizon,
so there would be no controls; no event falls between 4.99 and 5 years in either data set),
O/E at 5 years (Kaplan-Meier over mean predicted risk), calibration slope (Cox model of the
outcome on the linear predictor), smooth calibration at 5 years (Cox model on a 3-knot spline of
cloglog predicted risk, ``rms::cph`` with its default convergence rule, as the case study) with
ICI, E50 and E90, and net benefit at the case study's threshold of 23% (treated: predicted risk
above the threshold).

Confidence intervals: analytic where the case study's are (C: infinitesimal jackknife; O/E:
Poisson, ``exp(+/-1.96 sqrt(1/O))``; slope: Wald), percentile bootstrap (:data:`B` resamples of
the patients, the model fixed) for the AUC, Brier score, IPA, ICI, E50 and E90.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dmnpc.stats import calibration as _cal
from dmnpc.stats import discrimination as _disc
from dmnpc.stats import utility as _util
from dmnpc.stats._validate import z_value
from dmnpc.stats.cox import CoxFit, fit_cox
from dmnpc.stats.splines import rcs_basis

__all__ = [
    "DATA_DIR", "ROTTERDAM", "GBSG", "HORIZON", "SCORE_TIME", "THRESHOLD", "NODE_KNOTS", "SIZE_LEVELS",
    "TERMS", "TERM_LABELS", "B", "SEED", "MEASURES", "MEASURE_LABELS", "PUBLISHED", "PUBLISHED_MODEL", "SOURCES",
    "CaseDataError", "load",
    "prepare", "Prepared", "fit_model", "Performance", "performance", "ExternalValidation", "analyse",
    "to_json", "comparison", "decision_curve",
]

#: Where the two public data sets are shipped (``data/public/README.md`` states source and licence).
DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "public"
ROTTERDAM = DATA_DIR / "rotterdam.csv"
GBSG = DATA_DIR / "gbsg.csv"

HORIZON = 5.0          #: years: administrative censoring, predictions, O/E, calibration, net benefit
SCORE_TIME = 4.99      #: years: AUC, Brier score and IPA (the case study's ``times = 4.99``)
THRESHOLD = 0.23       #: the case study's risk threshold for the net benefit
NODE_KNOTS = (0.0, 1.0, 9.0)
NODE_QUANTILE = 0.99
SIZE_LEVELS = ("<=20", "20-50", ">50")
TERMS = ("size_20_50", "size_over_50", "nodes", "nodes_spline", "grade_3")
TERM_LABELS = {"size_20_50": "Size 20-50 mm (vs <= 20)", "size_over_50": "Size > 50 mm (vs <= 20)",
               "nodes": "Positive nodes (capped)", "nodes_spline": "Positive nodes, spline term",
               "grade_3": "Grade 3 (vs 1-2)"}
B = 200                #: bootstrap resamples for the intervals that have no analytic form here
SEED = 20230117        #: the case study's publication date (Ann Intern Med, 17 January 2023)
RMS_EPS = 1e-4         #: ``rms::cph``'s convergence rule for the calibration curve (as the case study)

#: The JSON's measures per data set, in order.
MEASURES = ("n", "events", "harrell_c", "uno_c", "auc_5y", "oe_5y", "slope", "ici_5y", "e50_5y", "e90_5y",
            "brier_5y", "ipa_5y", "nb_model", "nb_all", "threshold")

_REPO = "danielegiardiello/Prediction_performance_survival"
#: The case study's output files the published values come from (GitHub repository ``_REPO``, commit b718e2c).
SOURCES = {
    "minimal": f"{_REPO}, 01_predsurv_minimal_RMD.md",
    "minimal_py": f"{_REPO}, 01_predsurv_minimal_RMD_py.md",
    "extended": f"{_REPO}, 03_predsurv_extended.md",
}


def _p(value, digits, source, note, lower=None, upper=None, kind="same", interval_from=None):
    out = {"value": value, "digits": digits, "source": source, "note": note, "kind": kind}
    if lower is not None:
        out.update(lower=lower, upper=upper)
    if interval_from is not None:
        out["interval_from"] = interval_from
    return out


#: Published values: ``{data set: {measure: {value, digits, lower, upper, source, kind, note}}}``, as
#: printed (``digits`` decimals; the printed tables drop trailing zeros, 0.74 is 0.740). ``kind`` is
#: "same" (the estimand the book computes) or "internal" (a bootstrap optimism-corrected value: the
#: case study prints no apparent one); a measure absent here was not published. The case study's
#: prose sometimes disagrees with its own printed tables (01_predsurv_minimal_RMD.md says O/E 1.04
#: beside a printed 1.0173902; 02_predsurv.md says O/E 1.07 and slope 1.07 beside printed 1.02 and
#: 1.06): the printed outputs are taken.
PUBLISHED: dict[str, dict[str, dict[str, Any]]] = {
    "development": {
        "n": _p(2982, 0, "minimal", "coxph output: n = 2982"),
        "events": _p(1275, 0, "minimal", "coxph output: number of events = 1275"),
        "harrell_c": _p(0.682, 3, "extended", "Apparent", 0.667, 0.697),
        "uno_c": _p(0.682, 3, "extended", "Apparent", 0.667, 0.697,
                    interval_from="Harrell's C's variance: the table code (03_predsurv_extended.Rmd, chunk "
                                  "res_UnoC) reuses harrell_C_rott5 for this row"),
        "auc_5y": _p(0.721, 3, "extended", "Apparent; interval from timeROC's iid standard error", 0.703, 0.740),
        "oe_5y": _p(0.999, 3, "extended", "Internal (bootstrap optimism-corrected, B = 10)", kind="internal"),
        "slope": _p(0.977, 3, "extended", "Internal (bootstrap optimism-corrected, B = 10)", kind="internal"),
        "brier_5y": _p(0.207, 3, "extended", "Apparent", 0.201, 0.214),
        "ipa_5y": _p(0.155, 3, "extended", "Apparent; interval from 10 bootstrap resamples", 0.133, 0.181),
        "nb_model": _p(0.267, 3, "extended", "Development data, threshold 0.23"),
        "nb_all": _p(0.263, 3, "extended", "Development data, threshold 0.23"),
    },
    "validation": {
        "n": _p(686, 0, "extended", "Table 1: Validation dataset, N = 686"),
        "events": _p(285, 0, "minimal_py", "Kaplan-Meier of gbsg5: 686 observations, 401 right-censored"),
        "harrell_c": _p(0.652, 3, "extended", "External", 0.620, 0.685),
        "uno_c": _p(0.635, 3, "extended", "External", 0.603, 0.668),
        "auc_5y": _p(0.677, 3, "extended", "External; interval from timeROC's iid standard error", 0.623, 0.732),
        "oe_5y": _p(1.0173902, 7, "minimal", "OE_summary", 0.9058717, 1.1426372),
        "slope": _p(1.0562040, 7, "minimal", "calslope_summary", 0.8158872, 1.2965207),
        "ici_5y": _p(0.03017958, 8, "minimal", "numsum_cph"),
        "e50_5y": _p(0.02627822, 8, "minimal", "numsum_cph"),
        "e90_5y": _p(0.07466548, 8, "minimal", "numsum_cph"),
        "brier_5y": _p(0.225, 3, "extended", "External; interval from riskRegression::Score", 0.209, 0.240),
        "ipa_5y": _p(0.101, 3, "extended", "External; interval from 10 bootstrap resamples", 0.033, 0.118),
        "nb_model": _p(0.3615002, 7, "minimal", "net benefit table at threshold 0.23"),
        "nb_all": _p(0.3615002, 7, "minimal", "net benefit table at threshold 0.23"),
    },
}


#: The basic model as the case study printed it (``coxph`` output in 01_predsurv_minimal_RMD.md, in
#: :data:`TERMS` order) and its baseline 5-year survival (``S0.5yr <- 0.804`` in 02_predsurv.md).
PUBLISHED_MODEL = {"coef": (0.34184, 0.57355, 0.30397, -0.81117, 0.36171), "se": (0.06542, 0.09248, 0.02810,
                                                                                  0.10461, 0.07133),
                   "coef_source": "minimal", "s0_5y": 0.804, "s0_source": f"{_REPO}, 02_predsurv.md"}

#: Display names of the measures.
MEASURE_LABELS = {
    "n": "Patients", "events": "Events by 5 years", "harrell_c": "Harrell's C", "uno_c": "Uno's C",
    "auc_5y": "Time-dependent AUC, 5 years", "oe_5y": "Observed/expected, 5 years", "slope": "Calibration slope",
    "ici_5y": "ICI, 5 years", "e50_5y": "E50, 5 years", "e90_5y": "E90, 5 years", "brier_5y": "Brier score, 5 years",
    "ipa_5y": "IPA, 5 years", "nb_model": "Net benefit of the model at 23%", "nb_all": "Net benefit of treat-all at 23%",
    "threshold": "Threshold",
}


class CaseDataError(ValueError):
    """A public data file is missing or not the expected data set (one message naming the file)."""


_COLUMNS = {"rotterdam": ("pid", "size", "grade", "nodes", "rtime", "recur", "dtime", "death"),
            "gbsg": ("pid", "size", "grade", "nodes", "rfstime", "status")}
_ROWS = {"rotterdam": 2982, "gbsg": 686}


def load(which: str, path: str | Path | None = None) -> pd.DataFrame:
    """One of the two public data sets as shipped (``"rotterdam"`` or ``"gbsg"``), checked.

    Raises
    ------
    CaseDataError
        The file is missing or unreadable, lacks a column, has missing values in one, or has not
        the data set's number of rows: the case study's numbers would not be reproduced.
    """
    if which not in _COLUMNS:
        raise ValueError(f"unknown data set {which!r}: 'rotterdam' or 'gbsg'")
    p = Path(path) if path is not None else (ROTTERDAM if which == "rotterdam" else GBSG)
    try:
        df = pd.read_csv(p)
    except FileNotFoundError:
        raise CaseDataError(f"{p}: the public {which} data file is missing (see data/public/README.md)") from None
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise CaseDataError(f"{p}: cannot read the {which} data as CSV: {err}") from None
    missing = [c for c in _COLUMNS[which] if c not in df.columns]
    if missing:
        raise CaseDataError(f"{p}: not the survival::{which} data set: no column(s) {', '.join(missing)}")
    gaps = [c for c in _COLUMNS[which] if df[c].isna().any()]
    if gaps:
        raise CaseDataError(f"{p}: missing values in {', '.join(gaps)}")
    if len(df) != _ROWS[which]:
        raise CaseDataError(f"{p}: {len(df)} rows, survival::{which} has {_ROWS[which]}")
    return df


@dataclass(frozen=True, eq=False)
class Prepared:
    """One data set ready for the model: 5-year-censored outcome and the model's design.

    ``time`` in years, ``event`` 0/1, ``X`` the 5 model terms (:data:`TERMS`), ``raw_time`` and
    ``raw_event`` before the 5-year censoring, ``name`` ``"development"`` or ``"validation"``,
    ``n_death_time`` the patients whose follow-up was moved to their death time (Rotterdam only).
    """

    name: str
    time: np.ndarray
    event: np.ndarray
    X: pd.DataFrame
    raw_time: np.ndarray = field(repr=False)
    raw_event: np.ndarray = field(repr=False)
    n_death_time: int = 0


def _design(size: pd.Series, nodes: pd.Series, grade: pd.Series, cap: float) -> pd.DataFrame:
    bad = sorted(set(size.astype(str)) - set(SIZE_LEVELS))
    if bad:
        raise CaseDataError(f"tumour size categories {bad} are none of {list(SIZE_LEVELS)}")
    capped = np.minimum(nodes.to_numpy(float), cap)
    spline = rcs_basis(capped, NODE_KNOTS)
    return pd.DataFrame({"size_20_50": (size == "20-50").to_numpy(float),
                         "size_over_50": (size == ">50").to_numpy(float),
                         "nodes": spline[:, 0], "nodes_spline": spline[:, 1],
                         "grade_3": (grade.to_numpy() == 3).astype(float)}, columns=list(TERMS))


def _censor(t: np.ndarray, e: np.ndarray, at: float = HORIZON) -> tuple[np.ndarray, np.ndarray]:
    late = t > at
    return np.where(late, at, t), np.where(late, 0, e).astype(int)


def node_cap(rotterdam: pd.DataFrame) -> float:
    """The 99th percentile of the development data's node counts, R's ``quantile(type = 1)``."""
    return float(np.quantile(rotterdam["nodes"].to_numpy(float), NODE_QUANTILE, method="inverted_cdf"))


def prepare(rotterdam: pd.DataFrame, gbsg: pd.DataFrame) -> tuple[Prepared, Prepared, float]:
    """The development and validation data as the case study prepares them, and the node cap.

    See the module docstring for every step.
    """
    r = rotterdam
    rfs = np.maximum(r["recur"].to_numpy(int), r["death"].to_numpy(int))
    fix = (r["recur"] == 0) & (r["death"] == 1) & (r["rtime"] < r["dtime"])
    days = np.where(fix, r["dtime"], r["rtime"]).astype(float)
    cap = node_cap(r)
    dev_t, dev_e = _censor(days / 365.25, rfs)
    dev = Prepared("development", dev_t, dev_e, _design(r["size"].astype(str), r["nodes"], r["grade"], cap),
                   days / 365.25, rfs, int(fix.sum()))
    g = gbsg
    size = pd.cut(g["size"].astype(float), [-1, 20, 50, 500], labels=list(SIZE_LEVELS)).astype(str)
    gt = g["rfstime"].to_numpy(float) / 365.25
    ge = g["status"].to_numpy(int)
    val_t, val_e = _censor(gt, ge)
    val = Prepared("validation", val_t, val_e, _design(size, g["nodes"], g["grade"], cap), gt, ge)
    return dev, val, cap


def fit_model(dev: Prepared) -> CoxFit:
    """The basic model: Cox (Efron) of 5-year recurrence-free survival on :data:`TERMS`."""
    return fit_cox(dev.time, dev.event, dev.X)


@dataclass(frozen=True, eq=False)
class Performance:
    """Every measure of the model on one data set (see :data:`MEASURES`), with intervals.

    ``values`` maps each measure to a number; ``ci`` maps a measure to ``(lower, upper)`` and
    ``ci_method`` to how that interval was obtained; ``smooth`` is the smooth calibration
    (:class:`dmnpc.stats.calibration.SmoothCalibration`, rms convergence rule) and ``smooth_full``
    the same curve fully converged; ``dca`` the decision curve; ``oe`` the O/E details;
    ``brier_null`` the Brier score without predictors; ``risk`` the predicted 5-year risks;
    ``boot_ok`` how many bootstrap resamples gave every measure.
    """

    name: str
    values: dict[str, float]
    ci: dict[str, tuple[float, float]]
    ci_method: dict[str, str]
    smooth: _cal.SmoothCalibration
    smooth_full: _cal.SmoothCalibration
    dca: pd.DataFrame
    oe: _util.ObservedExpected
    brier_null: float
    risk: np.ndarray = field(repr=False)
    boot_ok: int = 0


def _point(t, e, lp, risk, risk_score, *, eps=RMS_EPS):
    """Bootstrapped measures on one (re)sample: AUC, Brier, IPA, ICI, E50, E90."""
    auc = float(_disc.time_dependent_auc(t, e, lp, SCORE_TIME)["auc"].iloc[0])
    br = _util.brier_score(t, e, 1.0 - risk_score, SCORE_TIME)
    sm = _cal.calibration_smooth(1.0 - risk, t, e, HORIZON, nk=3, eps=eps)
    return {"auc_5y": auc, "brier_5y": br.brier, "ipa_5y": br.ipa, "ici_5y": sm.ici, "e50_5y": sm.e50,
            "e90_5y": sm.e90}


def decision_curve(prep: Prepared, risk: np.ndarray, thresholds) -> pd.DataFrame:
    """Net benefit of the model, treat-all and treat-none at 5 years (:func:`dmnpc.stats.utility.net_benefit`).

    As the case study: the Kaplan-Meier is carried forward when the treated patients' follow-up
    ends before 5 years (``extend = TRUE``).
    """
    return _util.net_benefit(prep.time, prep.event, risk, HORIZON, thresholds, extend=True)


def performance(fit: CoxFit, prep: Prepared, *, n_boot: int = B, seed: int = SEED) -> Performance:
    """The case study's measures of ``fit`` on ``prep``, with their intervals (module docstring)."""
    t, e = prep.time, prep.event
    lp = fit.linear_predictor(prep.X)
    risk = 1.0 - fit.predict_survival(HORIZON, prep.X)[:, 0]
    risk_score = 1.0 - fit.predict_survival(SCORE_TIME, prep.X)[:, 0]
    z = z_value(0.95)
    hc = _disc.harrell_c(t, e, lp)
    uc = _disc.uno_c(t, e, lp)
    oe = _util.observed_expected(t, e, 1.0 - risk, HORIZON)
    auc = float(_disc.time_dependent_auc(t, e, lp, SCORE_TIME)["auc"].iloc[0])
    smooth = _cal.calibration_smooth(1.0 - risk, t, e, HORIZON, nk=3, eps=RMS_EPS)
    smooth_full = _cal.calibration_smooth(1.0 - risk, t, e, HORIZON, nk=3, eps=None)
    br = _util.brier_score(t, e, 1.0 - risk_score, SCORE_TIME)
    nb = decision_curve(prep, risk, [THRESHOLD]).iloc[0]
    values = {"n": int(t.size), "events": int(e.sum()), "harrell_c": hc.c, "uno_c": uc.c,
              "auc_5y": auc, "oe_5y": oe.ratio, "slope": smooth.slope, "ici_5y": smooth.ici,
              "e50_5y": smooth.e50, "e90_5y": smooth.e90, "brier_5y": br.brier, "ipa_5y": br.ipa,
              "nb_model": float(nb["nb_model"]), "nb_all": float(nb["nb_all"]), "threshold": THRESHOLD}
    ci = {"harrell_c": (hc.lower, hc.upper), "uno_c": (uc.lower, uc.upper), "oe_5y": (oe.lower, oe.upper),
          "slope": (smooth.slope - z * smooth.slope_se, smooth.slope + z * smooth.slope_se)}
    method = {"harrell_c": "infinitesimal jackknife (survival::concordance)",
              "uno_c": "infinitesimal jackknife (survival::concordance)",
              "oe_5y": "Poisson: O/E exp(-/+1.96 sqrt(1/O))", "slope": "Wald (Cox model on the linear predictor)"}
    boots, ok = _bootstrap(t, e, lp, risk, risk_score, n_boot, seed)
    for k, v in boots.items():
        if ok >= 2:
            ci[k] = (float(np.quantile(v, 0.025)), float(np.quantile(v, 0.975)))
            method[k] = f"percentile bootstrap, {ok} resamples, model fixed"
    thresholds = np.round(np.arange(0.01, 0.81, 0.01), 2)
    return Performance(name=prep.name, values=values, ci=ci, ci_method=method, smooth=smooth,
                       smooth_full=smooth_full, dca=decision_curve(prep, risk, thresholds), oe=oe,
                       brier_null=br.brier_null, risk=risk, boot_ok=ok)


def _bootstrap(t, e, lp, risk, risk_score, n_boot: int, seed: int) -> tuple[dict[str, np.ndarray], int]:
    """The bootstrapped measures over ``n_boot`` resamples of the patients (model fixed)."""
    keys = ("auc_5y", "brier_5y", "ipa_5y", "ici_5y", "e50_5y", "e90_5y")
    rows = []
    idx = np.random.default_rng(seed).integers(0, t.size, size=(n_boot, t.size))
    for ix in idx:
        try:
            rows.append(_point(t[ix], e[ix], lp[ix], risk[ix], risk_score[ix]))
        except ValueError:  # a resample without cases or controls at the horizon: skipped, counted
            continue
    return {k: np.array([r[k] for r in rows]) for k in keys}, len(rows)


@dataclass(frozen=True, eq=False)
class ExternalValidation:
    """The whole case: the fitted model, both data sets prepared and their performance."""

    fit: CoxFit
    node_cap: float
    s0: float
    development: Prepared
    validation: Prepared
    perf: dict[str, Performance]
    n_boot: int
    seed: int


def analyse(rotterdam: pd.DataFrame | None = None, gbsg: pd.DataFrame | None = None, *, n_boot: int = B,
            seed: int = SEED) -> ExternalValidation:
    """Load (unless given), prepare, fit and assess: the whole case study, basic model."""
    rotterdam = load("rotterdam") if rotterdam is None else rotterdam
    gbsg = load("gbsg") if gbsg is None else gbsg
    dev, val, cap = prepare(rotterdam, gbsg)
    fit = fit_model(dev)
    base = fit.baseline()
    k = np.searchsorted(base["time"].to_numpy(), HORIZON + 1e-6, side="right")
    h0 = float(base["cumhaz"].iloc[k - 1]) if k else 0.0
    s0 = math.exp(-h0 * math.exp(-float(fit.means @ fit.coef)))  # uncentred S0(5): all terms 0
    perf = {p.name: performance(fit, p, n_boot=n_boot, seed=seed + i) for i, p in enumerate((dev, val))}
    return ExternalValidation(fit=fit, node_cap=cap, s0=s0, development=dev, validation=val, perf=perf,
                              n_boot=n_boot, seed=seed)


def _num(x: Any) -> Any:
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    x = float(x)
    return x if math.isfinite(x) else None


def to_json(res: ExternalValidation) -> dict[str, Any]:
    """The case as JSON-ready Python: ``development`` and ``validation`` hold :data:`MEASURES`
    (and their intervals under ``ci``); the model, settings and published values beside them."""
    out: dict[str, Any] = {
        "case_study": ("McLernon DJ, Giardiello D, Van Calster B, et al. Ann Intern Med 2023;176:105-114 "
                       "(STRATOS TG6), basic model"),
        "data": {"development": "survival::rotterdam (data/public/rotterdam.csv)",
                 "validation": "survival::gbsg (data/public/gbsg.csv)"},
        "horizon_years": HORIZON, "score_time_years": SCORE_TIME, "threshold": THRESHOLD,
        "model": {"terms": list(res.fit.terms), "coef": [_num(c) for c in res.fit.coef],
                  "se": [_num(s) for s in res.fit.summary["se"]], "baseline_survival_5y": _num(res.s0),
                  "node_cap": _num(res.node_cap), "node_knots": list(NODE_KNOTS)},
        "bootstrap": {"resamples": res.n_boot, "seed": res.seed},
    }
    for name, perf in res.perf.items():
        rec = {k: _num(perf.values[k]) for k in MEASURES}
        rec["ci"] = {k: [_num(lo), _num(hi)] for k, (lo, hi) in perf.ci.items()}
        rec["ci_method"] = dict(perf.ci_method)
        rec["ici_5y_full_convergence"] = _num(perf.smooth_full.ici)
        out[name] = rec
    out["published"] = {name: {k: {kk: _num(vv) if kk in ("value", "lower", "upper") else vv
                                   for kk, vv in rec.items()} for k, rec in recs.items()}
                        for name, recs in PUBLISHED.items()}
    out["published_sources"] = dict(SOURCES)
    return out


def _rounds_to(x: float, printed: float, digits: int) -> bool:
    """Whether ``x`` printed with ``digits`` decimals reads ``printed`` (half away from zero, as R)."""
    from decimal import ROUND_HALF_UP, Decimal

    q = Decimal(1).scaleb(-digits)
    return Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP) == Decimal(repr(printed)).quantize(q)


def comparison(res: ExternalValidation) -> pd.DataFrame:
    """Published value beside the book's for every measure and data set, with the difference.

    Columns ``data``, ``measure``, ``published``, ``lower``, ``upper`` (published interval),
    ``digits`` (decimals printed; -1 when nothing was), ``book``, ``book_lower``, ``book_upper``,
    ``difference`` (book - published; NaN when nothing was published), ``same_as_printed`` (the
    book's value rounded to the printed decimals is the printed value; None when nothing was
    published), ``kind`` ("same", "internal" or "not published"), ``source``, ``note``.
    """
    rows = []
    for name, perf in res.perf.items():
        for m in MEASURES:
            if m == "threshold":
                continue
            pub = PUBLISHED[name].get(m)
            lo, hi = perf.ci.get(m, (np.nan, np.nan))
            row = {"data": name, "measure": m, "book": float(perf.values[m]), "book_lower": lo, "book_upper": hi}
            if pub is None:
                row.update(published=np.nan, lower=np.nan, upper=np.nan, digits=-1, difference=np.nan,
                           same_as_printed=None, kind="not published", source="", note="")
            else:
                book = float(perf.values[m])
                row.update(published=float(pub["value"]), lower=float(pub.get("lower", np.nan)),
                           upper=float(pub.get("upper", np.nan)), digits=int(pub["digits"]),
                           difference=book - float(pub["value"]),
                           same_as_printed=_rounds_to(book, float(pub["value"]), int(pub["digits"])),
                           kind=pub["kind"], source=SOURCES[pub["source"]], note=pub["note"])
            rows.append(row)
    cols = ["data", "measure", "published", "lower", "upper", "digits", "book", "book_lower", "book_upper",
            "difference", "same_as_printed", "kind", "source", "note"]
    return pd.DataFrame(rows, columns=cols)
