"""Subgroup roulette: the paper's LRRT-by-risk-group finding under a treatment effect that is the same for everyone.

The paper split its 90 patients at the mean nomogram score and compared OS without vs with
locoregional radiotherapy (LRRT) within each risk cohort: significant in the high-risk cohort
(HR 2.46, P = 0.049), not in the low-risk one, read as "LRRT helps high-risk patients". This
module simulates studies like the paper's in which LRRT has the **same** hazard ratio in every
patient, runs the paper's whole procedure on each, and counts how often that pattern appears
anyway.

Data-generating model (:func:`data_model`, built from the cohort the book runs on)
---------------------------------------------------------------------------------
* **Patients**: ``n`` covariate rows drawn with replacement from the cohort (every baseline
  variable of a patient travels together, so the covariate structure is the cohort's, LDH's
  missing values included).
* **Overall survival**: proportional hazards ``h(t | x) = h0(t) exp(eta(x) + log(true_hr) * LRRT)``.
  ``eta`` is the linear predictor of the paper's five-term OS model as fitted to the cohort
  (:func:`dmnpc.paper.analysis.fitted_model`: age >= 50, EBV DNA >= 66,600, multiple lesions,
  chemotherapy < 6 and immunotherapy < 8 cycles); ``h0`` is Weibull, ``h0(t) = rate * shape *
  t^(shape - 1)``, with ``shape`` and ``rate`` the maximum-likelihood fit to the cohort's OS with
  ``eta`` as offset. ``true_hr`` is LRRT's hazard ratio **with vs without** LRRT (0.6: LRRT lowers
  the hazard by 40% in everyone); the paper reports the inverse direction (without vs with), so
  the within-cohort HR estimates ``1 / true_hr`` (1.67 for 0.6).
* **LRRT**: ``"observed"`` -- as in the drawn cohort rows, so it travels with the prognostic factors
  it went with in the cohort (in the paper's Table 1, LRRT patients had more immunotherapy cycles,
  fewer liver and multi-organ metastases): the within-cohort comparison, unadjusted, is then
  confounded; ``"random"`` -- assigned to each patient independently of everything, with the
  cohort's LRRT share (69/90), so the comparison is randomised and only chance is left.
* **Censoring**: administrative, uniform between the cohort's shortest follow-up of a censored
  patient (the minimum potential follow-up) and an upper limit solved, per scenario, so that the
  expected share of deaths equals the cohort's (28/90 on the synthetic twin).
  Times are continuous: no ties.

The procedure run on every simulated study (:data:`SIM_VARIANT`)
---------------------------------------------------------------
The ``"screen_no_lrrt"`` reading of the paper's development
(:func:`dmnpc.paper.appraisal.pipeline_procedure`): Youden cuts of EBV DNA and immunotherapy cycles
against death (directions fixed as the paper's), a univariable Cox screen at P < 0.05 of every
baseline variable of Suppl. Table S1 *except* LRRT (the treatment under test is not a candidate
prognostic factor of the score it will be tested within), the multivariable Cox model of the terms
kept (ridge refit when it has no finite maximum, as the whole-pipeline chapter), the split at the
mean linear predictor (the mean nomogram score: points are an increasing linear function of it),
and within each risk cohort the Cox HR without vs with LRRT, Wald P, as
:func:`dmnpc.stats.subgroup.hr_by_stratum` and the paper. The batched implementation is
:func:`dmnpc.stats.subgroup_sim.develop_split_compare`; one replicate agrees with R
(``tests/reference/ref_simulation.R``).

The paper's pattern and how replicates are counted (:data:`PATTERN_RULE`)
-------------------------------------------------------------------------
A replicate shows the paper's pattern when the high-risk cohort's HR (without vs with LRRT) is
above 1 with P < 0.05 and the low-risk cohort's is not significant. Every replicate is in the
denominator. A within-cohort comparison that is not estimable (empty cohort, one arm only, an arm
without deaths, no finite maximum; :data:`dmnpc.stats.subgroup_sim.NOT_ESTIMABLE`) has no P value:
in the high-risk cohort it does not give the pattern (there is no significant benefit to report);
in the low-risk cohort it counts as "not significant" (the paper would have reported no
significant difference there). How many replicates each rule touched is reported
(``non_estimable_high``, ``non_estimable_low``), and the rate among replicates with both
comparisons estimable is given beside (``pattern_rate_estimable``).
The Monte Carlo interval is Clopper-Pearson's exact 95% interval (:func:`dmnpc.stats.simulate.binomial_ci`).

Seeds: replicate ``i`` of a run with seed ``S`` draws from ``SeedSequence(S).spawn(N)[i]``
(:func:`dmnpc.stats.simulate.run_replicates`), in the same order (rows, LRRT uniforms, event
times, censoring times) in every scenario, so scenarios run with one seed share their random
numbers (common random numbers: their differences are estimated with less noise).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from dmnpc.paper.appraisal import CUT_DIRECTIONS
from dmnpc.paper.variables import CUT_OUTCOME, PAPER_CUTOFFS, SCREEN_TERMS, SEED, design_matrix
from dmnpc.stats import simulate as _sim
from dmnpc.stats.pipeline import CutMarker
from dmnpc.stats.subgroup_sim import NOT_ESTIMABLE, develop_split_compare

__all__ = ["Scenario", "SCENARIOS", "HEADLINE_SCENARIO", "SAMPLE_SIZES", "SIM_VARIANT", "SIM_REPLICATES",
           "PATTERN_ALPHA", "PATTERN_RULE", "DataModel", "data_model", "get_scenario", "censoring_upper",
           "simulate_study", "SimulationResult", "simulate", "pattern_by_n", "simulation_summary",
           "REFERENCE_STUDIES", "reference_studies", "analyse_studies"]

#: The reading of the paper's development procedure the simulation runs (LRRT is not a candidate).
SIM_VARIANT = "screen_no_lrrt"
#: Candidates of :data:`SIM_VARIANT`, in the screen's order.
CANDIDATES: tuple[str, ...] = tuple(t for t in SCREEN_TERMS if t != "no_lrrt")
_FIXED: tuple[str, ...] = tuple(t for t in CANDIDATES if t not in CUT_DIRECTIONS)
#: Significance level of the screen and of the within-cohort comparisons.
PATTERN_ALPHA = 0.05
#: Replicates of the results JSON's simulation (``appraisal.simulation``).
SIM_REPLICATES = 1000
#: Study sizes of the sample-size figure.
SAMPLE_SIZES: tuple[int, ...] = (90, 180, 360, 720)
PATTERN_RULE = ("pattern = HR without vs with LRRT > 1 with Wald P < 0.05 in the high-risk cohort and no P < 0.05 "
                "in the low-risk cohort; all replicates are counted; a comparison that is not estimable (empty "
                "cohort, one arm only, an arm without deaths, no finite maximum) has no P value: in the high-risk "
                "cohort it gives no pattern, in the low-risk cohort it counts as not significant")
ASSIGNMENTS: tuple[str, ...] = ("observed", "random")


@dataclass(frozen=True)
class Scenario:
    """One simulated world: LRRT's hazard ratio (with vs without, the same in every patient), how LRRT is
    assigned (``"observed"`` as in the drawn cohort rows, ``"random"`` independently), and the study size."""

    name: str
    true_hr: float
    assignment: str
    n: int = 90

    def __post_init__(self):
        if self.assignment not in ASSIGNMENTS:
            raise ValueError(f"assignment must be one of {ASSIGNMENTS}, got {self.assignment!r}")
        if not (np.isfinite(self.true_hr) and self.true_hr > 0):
            raise ValueError(f"the true hazard ratio must be a positive number, got {self.true_hr!r}")
        if isinstance(self.n, bool) or not isinstance(self.n, (int, np.integer)) or self.n < 10:
            raise ValueError(f"the study size n must be an integer >= 10, got {self.n!r}")

    def with_n(self, n: int) -> "Scenario":
        return replace(self, n=n)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "true_hr": float(self.true_hr), "assignment": self.assignment, "n": int(self.n)}


#: The scenarios, by name (``python -m dmnpc simulate --scenario NAME``).
SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("observed-0.6", 0.6, "observed"),
    Scenario("observed-1.0", 1.0, "observed"),
    Scenario("random-0.6", 0.6, "random"),
    Scenario("random-1.0", 1.0, "random"),
)}
#: The scenario of the results JSON's headline numbers: LRRT helps everyone alike (HR 0.6), assigned as observed.
HEADLINE_SCENARIO = "observed-0.6"


# ----------------------------------------------------------------------------- the data-generating model
@dataclass(frozen=True)
class DataModel:
    """What the simulation draws from, built from a cohort by :func:`data_model`.

    Attributes
    ----------
    fixed : ndarray, (N, K)
        The cohort's candidate terms that are not cut on the data (:data:`_FIXED`; NaN = missing).
    markers : ndarray, (N, 2)
        EBV DNA and immunotherapy cycles (the markers whose cuts are searched), in
        :data:`dmnpc.paper.appraisal.CUT_DIRECTIONS` order.
    lrrt : ndarray, (N,)
        The cohort's LRRT (0/1).
    eta : ndarray, (N,)
        True prognostic linear predictor (the cohort's five-term OS model).
    coef : dict
        Its coefficients (log hazard ratios), by term.
    shape, rate : float
        Weibull baseline hazard ``rate * shape * t^(shape - 1)``.
    censor_min : float
        Lower end of the uniform censoring (the cohort's shortest follow-up of a censored patient).
    death_share : float
        Target expected share of deaths (the cohort's).
    lrrt_share : float
        Share of LRRT in the cohort (the ``"random"`` assignment's probability).
    """

    fixed: np.ndarray = field(repr=False)
    markers: np.ndarray = field(repr=False)
    lrrt: np.ndarray = field(repr=False)
    eta: np.ndarray = field(repr=False)
    coef: dict
    shape: float
    rate: float
    censor_min: float
    death_share: float
    lrrt_share: float

    @property
    def size(self) -> int:
        return int(self.lrrt.size)

    def as_dict(self) -> dict[str, Any]:
        return {"coef": {k: float(v) for k, v in self.coef.items()}, "weibull_shape": self.shape,
                "weibull_rate": self.rate, "censor_min": self.censor_min, "death_share": self.death_share,
                "lrrt_share": self.lrrt_share, "cohort_n": self.size}


def _weibull_fit(t: np.ndarray, e: np.ndarray, offset: np.ndarray) -> tuple[float, float]:
    """ML Weibull PH baseline with an offset: rate profiled out (rate = deaths / sum t^k e^offset)."""
    d = e.sum()
    lt = np.log(t)

    def negll(logk):
        k = math.exp(logk)
        s = np.sum(np.exp(k * lt + offset))
        rate = d / s
        return -(d * (math.log(k) + math.log(rate)) + np.sum(e * ((k - 1) * lt + offset)) - d)

    res = optimize.minimize_scalar(negll, bounds=(-3.0, 3.0), method="bounded", options={"xatol": 1e-10})
    k = math.exp(res.x)
    return k, float(d / np.sum(np.exp(k * lt + offset)))


def data_model(df: pd.DataFrame) -> DataModel:
    """The data-generating model of the simulation, from a validated cohort (see the module docstring)."""
    from dmnpc.paper import analysis

    fit = analysis.fitted_model(df, "os")
    if fit.n != len(df):
        raise ValueError("the five-term OS model was not fitted on every patient")
    eta = fit.X @ fit.coef
    t = df["os_months"].to_numpy(float)
    e = df["os_event"].to_numpy(float)
    if e.sum() == 0 or e.sum() == len(e):
        raise ValueError("the cohort needs deaths and survivors to calibrate the simulation")
    shape, rate = _weibull_fit(t, e, eta)
    fixed = design_matrix(df, _FIXED, PAPER_CUTOFFS).to_numpy(float)
    markers = np.column_stack([df[col].to_numpy(float) for col, _ in CUT_DIRECTIONS.values()])
    return DataModel(fixed=fixed, markers=markers, lrrt=df["lrrt"].to_numpy(float), eta=eta,
                     coef=dict(zip(fit.terms, map(float, fit.coef))), shape=shape, rate=rate,
                     censor_min=float(t[e == 0].min()), death_share=float(e.mean()),
                     lrrt_share=float(df["lrrt"].mean()))


def _expected_death_share(model: DataModel, scenario: Scenario, upper: float) -> float:
    """Expected share of deaths with censoring uniform on [censor_min, upper]."""
    lo = model.censor_min
    g = math.log(scenario.true_hr)
    if scenario.assignment == "observed":
        etas, wts = model.eta + g * model.lrrt, np.full(model.size, 1.0 / model.size)
    else:
        p = model.lrrt_share
        etas = np.concatenate([model.eta + g, model.eta])
        wts = np.concatenate([np.full(model.size, p), np.full(model.size, 1 - p)]) / model.size
    lam = model.rate * np.exp(etas)
    x, w = np.polynomial.legendre.leggauss(64)
    c = lo + (upper - lo) * (x + 1) / 2
    F = 1.0 - np.exp(-lam[:, None] * c[None, :] ** model.shape)
    return float(wts @ (F @ w) / 2)


def censoring_upper(model: DataModel, scenario: Scenario) -> float:
    """Upper end of the uniform censoring that gives the cohort's expected share of deaths."""
    lo = model.censor_min
    f = lambda u: _expected_death_share(model, scenario, u) - model.death_share  # noqa: E731
    if f(lo + 1e-9) > 0:
        raise ValueError("even the shortest follow-up gives more deaths than the cohort had: the censoring cannot "
                         "be calibrated")
    hi = lo + 1.0
    while f(hi) < 0:
        hi = lo + 2 * (hi - lo)
        if hi > 1e6:
            raise ValueError("no follow-up is long enough to give the cohort's share of deaths")
    return float(optimize.brentq(f, lo + 1e-9, hi, xtol=1e-10, rtol=1e-12))


def _draw(model: DataModel, scenario: Scenario, upper: float, seed: np.random.SeedSequence):
    """One simulated study: rows drawn, LRRT, time, event (in this order from the replicate's generator)."""
    rng = np.random.default_rng(seed)
    n = scenario.n
    rows = rng.integers(0, model.size, n)
    u = rng.random(n)
    E = rng.standard_exponential(n)
    C = rng.uniform(model.censor_min, upper, n)
    lrrt = model.lrrt[rows] if scenario.assignment == "observed" else (u < model.lrrt_share).astype(float)
    lam = model.rate * np.exp(model.eta[rows] + math.log(scenario.true_hr) * lrrt)
    T = (E / lam) ** (1.0 / model.shape)
    return rows, lrrt, np.minimum(T, C), (T <= C).astype(float)


def simulate_study(model: DataModel, scenario: Scenario, seed: np.random.SeedSequence | int,
                   upper: float | None = None) -> pd.DataFrame:
    """One simulated study as a table: the candidate terms, the two markers, ``lrrt``, ``os_months``, ``os_event``.

    ``seed`` is the replicate's :class:`numpy.random.SeedSequence` (or an int for one). The same
    draws as the replicate of that seed in :func:`simulate`.
    """
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    upper = censoring_upper(model, scenario) if upper is None else upper
    rows, lrrt, t, e = _draw(model, scenario, upper, ss)
    out = pd.DataFrame(model.fixed[rows], columns=list(_FIXED))
    for j, (col, _) in enumerate(CUT_DIRECTIONS.values()):
        out[col] = model.markers[rows, j]
    out["lrrt"] = lrrt.astype(int)
    out["os_months"] = t
    out[CUT_OUTCOME] = e.astype(int)
    out["cohort_row"] = rows
    return out


def _chunk(seeds, model: DataModel, scenario: Scenario, upper: float, method: str = "fast") -> pd.DataFrame:
    """The task of :func:`dmnpc.stats.simulate.run_replicates`: draw and analyse one chunk of studies."""
    draws = [_draw(model, scenario, upper, s) for s in seeds]
    rows = np.stack([d[0] for d in draws])
    lrrt = np.stack([d[1] for d in draws])
    t = np.stack([d[2] for d in draws])
    e = np.stack([d[3] for d in draws])
    markers = [CutMarker(term, model.markers[rows, j], d) for j, (term, (_, d)) in enumerate(CUT_DIRECTIONS.items())]
    res = develop_split_compare(t, e, lrrt, model.fixed[rows], _FIXED, markers, candidates=CANDIDATES,
                                alpha=PATTERN_ALPHA, remedy="ridge", method=method)
    return _with_pattern(res)


def _with_pattern(res: pd.DataFrame) -> pd.DataFrame:
    sig_high = (res["p_high"] < PATTERN_ALPHA).to_numpy()
    sig_low = (res["p_low"] < PATTERN_ALPHA).to_numpy()
    res["pattern"] = sig_high & (res["hr_high"] > 1).to_numpy() & ~sig_low
    res["pattern_any_direction"] = sig_high & ~sig_low
    return res


# ----------------------------------------------------------------------------- runs
@dataclass(frozen=True)
class SimulationResult:
    """Result of :func:`simulate`: the scenario, the run's settings and one row per replicate.

    ``replicates`` has the columns of :func:`dmnpc.stats.subgroup_sim.develop_split_compare`
    (``hr_high``, ``p_high``, ``why_high``, ... ``sel_<term>``, ``cut_<term>``), ``replicate``,
    ``pattern`` (the paper's pattern, :data:`PATTERN_RULE`) and ``pattern_any_direction``
    (significant in the high-risk cohort in either direction, not in the low-risk one).
    """

    scenario: Scenario
    seed: int
    censor_upper: float
    model: DataModel = field(repr=False)
    replicates: pd.DataFrame = field(repr=False)

    @property
    def n_replicates(self) -> int:
        return int(len(self.replicates))

    def rate(self, column: str = "pattern") -> tuple[float, float, float]:
        """Share of replicates with ``column`` true, and its Clopper-Pearson 95% interval."""
        k = int(self.replicates[column].sum())
        lo, hi = _sim.binomial_ci(k, self.n_replicates)
        return k / self.n_replicates, lo, hi

    def summary(self) -> dict[str, Any]:
        """Plain-Python numbers (the results JSON's ``appraisal.simulation`` keys first)."""
        r = self.replicates
        rate, lo, hi = self.rate()
        any_dir = self.rate("pattern_any_direction")
        est = (r["why_high"] == "") & (r["why_low"] == "")
        k_est = int((r["pattern"] & est).sum())
        n_est = int(est.sum())
        why = {g: {k: int((r[f"why_{g}"] == k).sum()) for k in NOT_ESTIMABLE if (r[f"why_{g}"] == k).any()}
               for g in ("high", "low")}
        with np.errstate(invalid="ignore"):
            return {
                "replicates": self.n_replicates, "seed": int(self.seed), "true_hr": float(self.scenario.true_hr),
                "pattern_rate": rate, "pattern_rate_lower": lo, "pattern_rate_upper": hi,
                "scenario": self.scenario.name, "assignment": self.scenario.assignment, "n": int(self.scenario.n),
                "true_hr_without_vs_with": 1.0 / float(self.scenario.true_hr),
                "ci_method": _sim.CI_METHOD, "rule": PATTERN_RULE, "variant": SIM_VARIANT,
                "pattern_rate_any_direction": any_dir[0],
                "pattern_rate_estimable": k_est / n_est if n_est else float("nan"),
                "n_estimable": n_est,
                "significant_high_rate": float((r["p_high"] < PATTERN_ALPHA).mean()),
                "significant_low_rate": float((r["p_low"] < PATTERN_ALPHA).mean()),
                "non_estimable_high": int((r["why_high"] != "").sum()),
                "non_estimable_low": int((r["why_low"] != "").sum()),
                "non_estimable_reasons": why,
                "mean_deaths": float(r["deaths"].mean()), "mean_lrrt": float(r["n_treated"].mean()),
                "mean_high": float(r["n_high"].mean()), "null_models": int(r["null_model"].sum()),
                "failed_fits": int(r["failed_fit"].sum()), "exact_path": int(r["exact_path"].sum()),
                "median_hr_high": float(np.nanmedian(r["hr_high"])) if r["hr_high"].notna().any() else float("nan"),
                "median_hr_low": float(np.nanmedian(r["hr_low"])) if r["hr_low"].notna().any() else float("nan"),
                "censor_upper": self.censor_upper, "model": self.model.as_dict(),
            }


def get_scenario(scenario: Scenario | str, n: int | None = None) -> Scenario:
    """A scenario by name (or as given), at study size ``n`` when given."""
    if isinstance(scenario, str):
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}: choose one of {', '.join(SCENARIOS)}")
        scenario = SCENARIOS[scenario]
    return scenario if n is None else scenario.with_n(n)


def simulate(cohort: pd.DataFrame | DataModel, scenario: Scenario | str = HEADLINE_SCENARIO,
             replicates: int = SIM_REPLICATES, seed: int = SEED, *, n: int | None = None, n_jobs: int = 1,
             scheduler: Any = None, chunk_size: int = _sim.DEFAULT_CHUNK, progress: bool = False,
             method: str = "fast") -> SimulationResult:
    """Simulate ``replicates`` studies of a scenario and run the paper's procedure on each.

    Parameters
    ----------
    cohort : DataFrame or DataModel
        A validated cohort (the data-generating model is built from it) or a model already built.
    scenario : str or Scenario
        A name of :data:`SCENARIOS` or a :class:`Scenario`.
    replicates, seed : int
        Replicate ``i`` draws from ``SeedSequence(seed).spawn(replicates)[i]``.
    n : int, optional
        Study size (default: the scenario's, 90).
    n_jobs, scheduler, chunk_size, progress
        How to run (:func:`dmnpc.stats.simulate.run_replicates`); the result does not depend on them.
    method : {"fast", "slow"}
        Batched procedure (default) or the single-data-set functions per replicate (reference).
    """
    sc = get_scenario(scenario, n)
    model = cohort if isinstance(cohort, DataModel) else data_model(cohort)
    upper = censoring_upper(model, sc)
    task = functools.partial(_chunk, model=model, scenario=sc, upper=upper, method=method)
    reps = _sim.run_replicates(task, replicates, seed, n_jobs=n_jobs, scheduler=scheduler, chunk_size=chunk_size,
                               progress=progress, desc=f"{sc.name}, n = {sc.n}")
    return SimulationResult(scenario=sc, seed=int(seed), censor_upper=upper, model=model, replicates=reps)


def pattern_by_n(cohort: pd.DataFrame | DataModel, scenarios=tuple(SCENARIOS), sizes=SAMPLE_SIZES,
                 replicates: int = SIM_REPLICATES, seed: int = SEED, **run) -> pd.DataFrame:
    """Pattern rate (with its 95% interval) of each scenario at each study size: the figure's data.

    One row per (scenario, n): ``scenario``, ``assignment``, ``true_hr``, ``n``, ``replicates``,
    ``pattern_rate``, ``lower``, ``upper``, ``significant_high_rate``, ``significant_low_rate``,
    ``non_estimable_high``, ``non_estimable_low``. Every cell uses the same root ``seed``.
    """
    model = cohort if isinstance(cohort, DataModel) else data_model(cohort)
    rows = []
    for name in scenarios:
        for n in sizes:
            s = simulate(model, name, replicates, seed, n=n, **run).summary()
            rows.append({"scenario": s["scenario"], "assignment": s["assignment"], "true_hr": s["true_hr"],
                         "n": n, "replicates": s["replicates"], "pattern_rate": s["pattern_rate"],
                         "lower": s["pattern_rate_lower"], "upper": s["pattern_rate_upper"],
                         "significant_high_rate": s["significant_high_rate"],
                         "significant_low_rate": s["significant_low_rate"],
                         "non_estimable_high": s["non_estimable_high"], "non_estimable_low": s["non_estimable_low"]})
    return pd.DataFrame(rows)


def simulation_summary(cohort: pd.DataFrame | DataModel, replicates: int = SIM_REPLICATES, seed: int = SEED,
                       scenario: str = HEADLINE_SCENARIO, **run) -> dict[str, Any]:
    """The results JSON's ``appraisal.simulation``: the headline scenario's keys (``replicates``, ``seed``,
    ``true_hr``, ``pattern_rate``, ``pattern_rate_lower``, ``pattern_rate_upper``, ...) and ``scenarios``:
    the four scenarios at n = 90, each with ``true_hr``, ``assignment``, ``pattern_rate`` and its interval."""
    model = cohort if isinstance(cohort, DataModel) else data_model(cohort)
    out: dict[str, Any] = {}
    per = {}
    for name in SCENARIOS:
        s = simulate(model, name, replicates, seed, **run).summary()
        per[name] = {k: s[k] for k in ("true_hr", "assignment", "n", "pattern_rate", "pattern_rate_lower",
                                        "pattern_rate_upper", "pattern_rate_any_direction", "significant_high_rate",
                                        "significant_low_rate", "non_estimable_high", "non_estimable_low")}
        if name == scenario:
            out = s
    if not out:
        out = simulate(model, scenario, replicates, seed, **run).summary()
    out["scenarios"] = per
    return out


#: The simulated studies of the R reference (``tests/reference/ref_simulation.R``): study -> (scenario,
#: root seed, replicate index). Study 1 keeps LDH (complete cases) and both cohorts are estimable;
#: study 2's multivariable fit has no finite maximum (ridge refit).
REFERENCE_STUDIES: dict[int, tuple[str, int, int]] = {1: ("observed-0.6", 7, 0), 2: ("observed-0.6", 7, 22)}


def reference_studies(cohort: pd.DataFrame | DataModel) -> pd.DataFrame:
    """The studies of :data:`REFERENCE_STUDIES` in one table (column ``study``), as written to
    ``tests/data/sim_studies.csv``: replicate ``i`` of a run with seed ``S`` is ``SeedSequence(S).spawn(N)[i]``
    for any ``N > i``, i.e. ``SeedSequence(S, spawn_key=(i,))``."""
    model = cohort if isinstance(cohort, DataModel) else data_model(cohort)
    parts = []
    for study, (name, seed, i) in REFERENCE_STUDIES.items():
        d = simulate_study(model, SCENARIOS[name], np.random.SeedSequence(seed, spawn_key=(i,)))
        d.insert(0, "study", study)
        parts.append(d)
    return pd.concat(parts, ignore_index=True)


def analyse_studies(studies: pd.DataFrame, method: str = "fast"):
    """The procedure on simulated studies given as a table (:func:`simulate_study`'s columns and ``study``).

    Returns ``(table, details)`` of :func:`dmnpc.stats.subgroup_sim.develop_split_compare` (one row per
    study, in the order of first appearance) with the ``pattern`` columns. The studies must have one size.
    """
    groups = [g for _, g in studies.groupby("study", sort=False)]
    if len({len(g) for g in groups}) != 1:
        raise ValueError("the studies must all have the same number of patients")
    st = lambda col: np.stack([g[col].to_numpy(float) for g in groups])  # noqa: E731
    fixed = np.stack([g[list(_FIXED)].to_numpy(float) for g in groups])
    markers = [CutMarker(term, st(col), d) for term, (col, d) in CUT_DIRECTIONS.items()]
    res, det = develop_split_compare(st("os_months"), st(CUT_OUTCOME), st("lrrt"), fixed, _FIXED, markers,
                                     candidates=CANDIDATES, alpha=PATTERN_ALPHA, remedy="ridge", method=method,
                                     details=True)
    return _with_pattern(res), det
