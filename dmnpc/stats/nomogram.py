"""Points nomogram of a Cox model, computed as ``rms::nomogram`` does.

What this adds over the libraries: no Python library draws or scores an ``rms``-style
nomogram. The nomogram takes the fitted :class:`~dmnpc.stats.cox.CoxFit` (fit once, pass
the fit) and its baseline hazard (Breslow, or the Efron-type one of ``survfit.coxph``).

A Cox model predicts survival at time ``t`` for a patient with covariates ``x`` as

.. math::  S(t \\mid x) = S_0(t)^{\\exp(\\mathrm{lp})}, \\qquad
           \\mathrm{lp} = \\sum_j \\beta_j (x_j - \\bar x_j),

where ``S_0`` is the baseline survival *at the covariate means* ``x̄`` (the centring
used by both ``rms::cph`` - its ``center = sum(means * coef)`` - and lifelines, which
centres the design at ``_norm_mean``; for the same data the two centrings coincide).

The nomogram turns the linear predictor into points (Harrell 2015, sec. 5.4; the
algorithm of ``rms::nomogram``):

* each predictor ``j`` is evaluated at its *settings* (the levels of a discrete
  predictor; for a continuous one ``pretty(range(x), 10)`` as ``rms`` draws ticks);
  its effect ``β_j x`` ranges over ``[m_j, M_j]``;
* the scale is ``sc = max_points / max_j (M_j - m_j)``: the predictor with the
  widest effect range spans 0..max_points;
* a value ``x`` earns ``(β_j x - m_j) * sc`` points, so the lowest-risk value gets 0;
* total points ``P`` map back to the centred linear predictor by the affine map
  ``lp = intercept + P / sc`` with ``intercept = -Σ β_j x̄_j + Σ m_j``;
* and to survival at ``t`` through ``S_0(t)^{exp(lp)}``.

Baseline hazard. The default ``baseline="breslow"`` is the estimator lifelines
stores in ``baseline_survival_`` (increments ``d_k / Σ_{risk set} exp(lp)``).
``rms::cph`` (``method="efron"``, ``surv=TRUE``) stores instead ``exp(-H)`` with the
Efron-adjusted increments ``Σ_{l=0}^{d_k-1} 1 / (R_k - l/d_k · D_k)`` (``survival``'s
``survfitcoxph.fit`` survtype 3); ``baseline="efron"`` reproduces ``Survival(fit)``
and ``survest`` exactly. Without tied event times the two are identical.

Convergence. ``rms::cph``'s default ``eps = 1e-4`` stops Newton-Raphson early: on gbsg its
coefficients are up to 1.5e-3 (relative) away from the maximum partial likelihood estimate,
so an rms nomogram drawn with default settings differs from a fully converged fit at that
level. The references in ``tests/reference/ref_nomogram.R`` use ``cph(..., eps = 1e-10)``;
a lifelines fit must likewise be converged (``fit_options=dict(precision=1e-20)``, or
:func:`dmnpc.stats.cox.fit_cox`) for 1e-6 agreement, since lifelines stops *before* applying its last
Newton step.

Continuous predictors: numeric columns with more than 10 distinct values (the
``n.unique`` of ``rms::datadist``) are treated as continuous; their axis ticks are
R's ``pretty()`` over the observed range, and points are linear in the value. Numeric
columns with at most 10 distinct values (0/1 indicators, a 1/2/3 grade) are discrete
and get one tick per observed value, as in ``rms``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from dmnpc.stats.cox import CoxFit

__all__ = ["NomogramTerm", "Nomogram", "build_nomogram", "score", "total_points", "points_to_lp",
           "points_to_survival", "survival_to_points", "nomogram_table", "adverse_points", "to_json",
           "r_pretty", "JSON_FORMAT"]

#: Identifier and version of the :func:`to_json` document (bump the version on any change of keys).
JSON_FORMAT = ("dmnpc-nomogram", 1)

#: Maximum number of distinct values for a numeric predictor to count as discrete (rms ``datadist``).
_N_UNIQUE = 10


# --------------------------------------------------------------------------- R's pretty()
def r_pretty(lo: float, hi: float, n: int = 5) -> np.ndarray:
    """Equally spaced "round" values covering ``[lo, hi]``, as R's ``pretty(c(lo, hi), n)``.

    Re-implements the algorithm of R's ``pretty.default`` (defaults ``min.n = n %/% 3``,
    ``shrink.sml = 0.75``, ``high.u.bias = 1.5``, ``u5.bias = 0.5 + 1.5 * high.u.bias``)
    so that axis ticks match those ``rms::nomogram`` draws.

    Parameters
    ----------
    lo, hi : float
        Range to cover.
    n : int
        Desired number of intervals.

    Returns
    -------
    numpy.ndarray
        The tick values.

    References
    ----------
    R Core Team, ``?pretty`` (R 4.2).
    """
    lo, hi = float(min(lo, hi)), float(max(lo, hi))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError("pretty(): the range must be finite")
    min_n = n // 3
    h = 1.5
    h5 = 0.5 + 1.5 * h
    dx = hi - lo
    eps = np.finfo(float).eps
    if dx == 0 and hi == 0:
        cell, i_small = 1.0, True
    else:
        cell = max(abs(lo), abs(hi))
        u = 1 + (1 / (1 + h) if h5 >= 1.5 * h + 0.5 else 1.5 / (1 + h5))
        u *= max(1, n) * eps
        i_small = dx < cell * u * 3
    if i_small:
        if cell > 10:
            cell = 9 + cell / 10
        cell *= 0.75
        if min_n > 1:
            cell /= min_n
    else:
        cell = dx
        if n > 1:
            cell /= n
    base = 10.0 ** math.floor(math.log10(cell))
    unit = base
    if 2 * base - cell < h * (cell - unit):
        unit = 2 * base
        if 5 * base - cell < h5 * (cell - unit):
            unit = 5 * base
            if 10 * base - cell < h * (cell - unit):
                unit = 10 * base
    ns = math.floor(lo / unit + 1e-10)
    nu = math.ceil(hi / unit - 1e-10)
    while ns * unit > lo + 1e-10 * unit:
        ns -= 1
    while nu * unit < hi - 1e-10 * unit:
        nu += 1
    k = int(0.5 + nu - ns)
    if k < min_n:
        k = min_n - k
        if ns >= 0:
            nu += k // 2
            ns -= k // 2 + k % 2
        else:
            ns -= k // 2
            nu += k // 2 + k % 2
        ndiv = min_n
    else:
        ndiv = k
    out = np.linspace(ns * unit, nu * unit, ndiv + 1)
    if ndiv:
        out[np.abs(out) < 1e-14 * (nu - ns) * unit / ndiv] = 0.0
    return out


# --------------------------------------------------------------------------- data classes
@dataclass(frozen=True)
class NomogramTerm:
    """One predictor axis of a :class:`Nomogram`.

    Attributes
    ----------
    name : str
        Column / coefficient name.
    label : str
        Axis title.
    kind : {'discrete', 'continuous'}
        Discrete: one tick per observed value; continuous: ``pretty`` ticks, points linear in value.
    coef : float
        Cox coefficient (log hazard ratio per unit).
    mean : float
        Mean of the column in the fitting data (the centring).
    values : tuple of float
        Axis settings: the levels (discrete) or tick values (continuous).
    level_labels : tuple of str
        Tick labels, one per value.
    points : tuple of float
        Points at each value.
    xbeta_min : float
        Smallest ``coef * value`` over the settings (the value that gets 0 points).
    observed_range : tuple of float
        Smallest and largest value in the fitting data.
    """

    name: str
    label: str
    kind: str
    coef: float
    mean: float
    values: tuple[float, ...]
    level_labels: tuple[str, ...]
    points: tuple[float, ...]
    xbeta_min: float
    observed_range: tuple[float, float]


@dataclass(frozen=True, eq=False)
class Nomogram:
    """A points nomogram for survival at fixed times (see the module docstring for formulas).

    Attributes
    ----------
    terms : tuple of NomogramTerm
        Predictor axes in model order.
    max_points : float
        Points of the widest predictor axis.
    scale : float
        Points per unit of linear predictor (``sc`` of ``rms``).
    intercept : float
        Centred linear predictor at 0 total points (``Intercept`` of ``rms``).
    center : float
        ``Σ coef_j * mean_j`` (cph's ``center``).
    times : tuple of float
        Prediction horizons.
    time_labels : tuple of str
        Axis titles of the survival axes.
    baseline_method : {'breslow', 'efron'}
        Estimator of the baseline cumulative hazard.
    baseline_survival : tuple of float
        ``S_0(t)`` at the covariate means, one per time.
    baseline : pandas.DataFrame
        Full baseline step function: columns ``time`` (distinct event times), ``cumhaz``, ``survival``.
    total_points_axis : tuple of float
        Ticks of the Total points axis (``pretty``, as rms).
    lp_axis : tuple of float
        Ticks of the linear-predictor axis (``pretty`` over the fitted lp, as rms).
    survival_ticks : pandas.DataFrame
        Columns ``time``, ``survival``, ``total_points``: round survival values and their exact
        positions on the Total points scale, restricted to the Total points axis.
    n, events : int
        Patients and events in the fitting data.
    max_followup : float
        Longest observed time; predictions beyond it are refused.
    """

    terms: tuple[NomogramTerm, ...]
    max_points: float
    scale: float
    intercept: float
    center: float
    times: tuple[float, ...]
    time_labels: tuple[str, ...]
    baseline_method: str
    baseline_survival: tuple[float, ...]
    baseline: pd.DataFrame
    total_points_axis: tuple[float, ...]
    lp_axis: tuple[float, ...]
    survival_ticks: pd.DataFrame
    n: int
    events: int
    max_followup: float

    @property
    def term_names(self) -> tuple[str, ...]:
        """Names of the predictors."""
        return tuple(t.name for t in self.terms)


# --------------------------------------------------------------------------- checks
def _check_columns(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{what} must be a pandas DataFrame")
    if len(df) == 0:
        raise ValueError(f"{what} has no rows")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks the model term(s) {missing}")
    bad = [c for c in cols if df[c].isna().any()]
    if bad:
        raise ValueError(f"{what} has missing values in {bad}: fill them in or drop those rows")
    nonnum = [c for c in cols if not pd.api.types.is_numeric_dtype(df[c])]
    if nonnum:
        raise ValueError(f"{what} has non-numeric column(s) {nonnum}: code them as numbers (e.g. 0/1)")


def _check_times(times: Sequence[float], max_followup: float) -> tuple[float, ...]:
    try:
        ts = tuple(float(t) for t in np.atleast_1d(np.asarray(times, dtype=float)))
    except (TypeError, ValueError):
        raise ValueError(f"times must be numbers, got {times!r}") from None
    if not ts:
        raise ValueError("give at least one prediction time")
    if any(not math.isfinite(t) or t <= 0 for t in ts):
        raise ValueError(f"prediction times must be positive, got {list(ts)}")
    beyond = [t for t in ts if t > max_followup]
    if beyond:
        raise ValueError(f"prediction time(s) {beyond} lie beyond the longest follow-up "
                         f"({max_followup:g}): survival there cannot be estimated")
    if len(set(ts)) != len(ts):
        raise ValueError(f"prediction times must be distinct, got {list(ts)}")
    return ts


# --------------------------------------------------------------------------- baseline
def _s0_at(baseline: pd.DataFrame, t: float) -> float:
    """Right-continuous step function: S0 at the last event time <= t (1 before the first)."""
    k = np.searchsorted(baseline["time"].to_numpy(), t + 1e-9 * max(1.0, abs(t)), side="right")
    return 1.0 if k == 0 else float(baseline["survival"].iloc[k - 1])


# --------------------------------------------------------------------------- build
def _default_time_label(t: float, unit: str) -> str:
    if unit == "months" and t % 12 == 0:
        return f"{int(t // 12)}-year survival"
    return f"{t:g}-{unit.rstrip('s')} survival"


def _settings(X: pd.DataFrame) -> tuple[list[np.ndarray], list[str]]:
    """Axis settings of each predictor: its levels (at most 10 distinct values) or ``pretty`` ticks."""
    settings: list[np.ndarray] = []
    kinds: list[str] = []
    for term in X.columns:
        x = X[term].to_numpy()
        uniq = np.unique(x)
        if len(uniq) <= _N_UNIQUE:
            settings.append(uniq)
            kinds.append("discrete")
        else:
            settings.append(r_pretty(x.min(), x.max(), 10))
            kinds.append("continuous")
    return settings, kinds


def _survival_ticks(ts, s0, intercept: float, sc: float, tp_max: float) -> pd.DataFrame:
    """Round survival values of each time and their exact positions on the Total points axis."""
    rows = []
    lp_lo, lp_hi = intercept, intercept + tp_max / sc
    for t, s0t in zip(ts, s0):
        if not 0 < s0t < 1:
            continue
        s_hi, s_lo = s0t ** math.exp(lp_lo), s0t ** math.exp(lp_hi)
        for sv in r_pretty(s_lo, s_hi, 10):
            if 0 < sv < 1:
                pts = (math.log(math.log(sv) / math.log(s0t)) - intercept) * sc
                if -1e-9 <= pts <= tp_max + 1e-9:
                    rows.append((t, float(sv), float(pts)))
    return pd.DataFrame(rows, columns=["time", "survival", "total_points"])


def _terms(X, beta, settings, kinds, xb, lows, sc, labels, lev_lab) -> list[NomogramTerm]:
    """One :class:`NomogramTerm` per predictor: its ticks, their labels and their points."""
    out = []
    for j, term in enumerate(X.columns):
        vals = settings[j]
        if kinds[j] == "discrete":
            ll = lev_lab.get(term, {})
            tick_labels = tuple(ll.get(float(v), f"{v:g}") for v in vals)
        else:
            tick_labels = tuple(f"{v:g}" for v in vals)
        out.append(NomogramTerm(
            name=term, label=labels.get(term, term), kind=kinds[j], coef=float(beta[j]),
            mean=float(X[term].mean()), values=tuple(float(v) for v in vals), level_labels=tick_labels,
            points=tuple(float(p) for p in (xb[j] - lows[j]) * sc), xbeta_min=float(lows[j]),
            observed_range=(float(X[term].min()), float(X[term].max()))))
    return out


def build_nomogram(fit: CoxFit, times: Sequence[float] = (12, 24),
                   max_points: float = 100, *, baseline: str = "breslow",
                   labels: Mapping[str, str] | None = None,
                   level_labels: Mapping[str, Mapping[float, str]] | None = None,
                   time_labels: Mapping[float, str] | None = None,
                   time_unit: str = "months") -> Nomogram:
    """Build the points nomogram of a fitted Cox model, scaled as ``rms::nomogram``.

    Parameters
    ----------
    fit : CoxFit
        A converged fit from :func:`dmnpc.stats.cox.fit_cox`; it carries the data used for the
        covariate means, the baseline hazard and the axis ranges.
    times : sequence of float
        Horizons for the survival axes, in the time unit of the data (months for the cohort).
    max_points : float
        Points of the predictor with the widest effect range (rms ``maxscale``).
    baseline : {'breslow', 'efron'}
        Baseline cumulative hazard (:meth:`dmnpc.stats.cox.CoxFit.baseline`): Breslow (lifelines'
        ``baseline_survival_``) or the Efron-adjusted one that ``rms::cph(method="efron",
        surv=TRUE)`` stores. Equal when event times are untied.
    labels : mapping, optional
        Axis title per term (default: the term name).
    level_labels : mapping, optional
        ``{term: {value: text}}`` tick labels for discrete terms (default: the value).
    time_labels : mapping, optional
        ``{time: title}`` of the survival axes (default e.g. "1-year survival").
    time_unit : str
        Unit of the times, used in default axis titles.

    Returns
    -------
    Nomogram

    Raises
    ------
    ValueError
        A fit that did not converge, a time beyond the longest follow-up, an unknown ``baseline``,
        a non-positive ``max_points``.

    References
    ----------
    Harrell FE. Regression Modeling Strategies, 2nd ed. Springer 2015 (``rms::nomogram``).
    Breslow NE. Discussion of Cox (1972). J R Stat Soc B 1972;34:216-217.
    Efron B. The efficiency of Cox's likelihood function for censored data. JASA 1977;72:557-565.
    """
    if not isinstance(fit, CoxFit):
        raise ValueError("build_nomogram takes a fitted model from dmnpc.stats.cox.fit_cox")
    fit._unstratified("A nomogram")
    if not fit.converged or not np.all(np.isfinite(fit.coef)):
        raise ValueError("the Cox model has non-finite coefficients (monotone likelihood: a predictor "
                         "separates the events?); no nomogram can be drawn")
    if baseline not in ("breslow", "efron"):
        raise ValueError(f"baseline must be 'breslow' or 'efron', got {baseline!r}")
    if not (isinstance(max_points, (int, float)) and math.isfinite(max_points) and max_points > 0):
        raise ValueError(f"max_points must be a positive number, got {max_points!r}")
    terms = list(fit.terms)
    X = pd.DataFrame(fit.X, columns=terms)
    event = fit.event
    means = X.mean(0)
    max_followup = float(fit.time.max())
    ts = _check_times(times, max_followup)

    beta = np.asarray(fit.coef, dtype=float)
    labels = dict(labels or {})
    lev_lab = {k: dict(v) for k, v in (level_labels or {}).items()}

    settings, kinds = _settings(X)
    xb = [beta[j] * s for j, s in enumerate(settings)]
    lows = np.array([v.min() for v in xb])
    ranges = np.array([v.max() - v.min() for v in xb])
    if ranges.max() <= 0:
        raise ValueError("every coefficient is zero or every predictor is constant: nothing to draw")
    sc = float(max_points / ranges.max())
    center = float(np.dot(beta, means.to_numpy()))
    intercept = float(-center + lows.sum())

    nterms = _terms(X, beta, settings, kinds, xb, lows, sc, labels, lev_lab)

    base = fit.baseline(baseline)
    s0 = tuple(_s0_at(base, t) for t in ts)

    # axes as rms draws them
    lp_fit = (X.to_numpy() - means.to_numpy()) @ beta
    lp_at = r_pretty(lp_fit.min(), lp_fit.max(), 10)
    sum_max = max(max_points, sc * float(np.max(lp_at - intercept))) if len(terms) > 1 else max_points
    tp_axis = r_pretty(0.0, sum_max, 10)
    tp_max = float(tp_axis.max())

    ticks = _survival_ticks(ts, s0, intercept, sc, tp_max)

    tl = dict(time_labels or {})
    return Nomogram(
        terms=tuple(nterms), max_points=float(max_points), scale=sc, intercept=intercept, center=center,
        times=ts, time_labels=tuple(tl.get(t, _default_time_label(t, time_unit)) for t in ts),
        baseline_method=baseline, baseline_survival=s0, baseline=base,
        total_points_axis=tuple(float(v) for v in tp_axis), lp_axis=tuple(float(v) for v in lp_at),
        survival_ticks=ticks, n=int(len(X)), events=int(event.sum()), max_followup=max_followup)


# --------------------------------------------------------------------------- scoring
def _term_points(term: NomogramTerm, x: np.ndarray, scale: float) -> np.ndarray:
    if term.kind == "discrete":
        known = np.isin(x, term.values)
        if not known.all():
            bad = sorted(set(np.asarray(x)[~known].tolist()))
            raise ValueError(f"{term.name!r} takes the values {list(term.values)} in the model data; "
                             f"got {bad}")
    return (term.coef * x - term.xbeta_min) * scale


def total_points(nom: Nomogram, X: pd.DataFrame) -> pd.Series:
    """Total nomogram points of each row of ``X`` (columns named by the model terms).

    Parameters
    ----------
    nom : Nomogram
    X : pandas.DataFrame
        One row per patient with the model's term columns.

    Returns
    -------
    pandas.Series
        Named ``total_points``, indexed like ``X``.
    """
    return score(nom, X)["total_points"]


def points_to_lp(nom: Nomogram, points: Any) -> np.ndarray:
    """Centred linear predictor for total points: ``lp = intercept + points / scale``."""
    return nom.intercept + np.asarray(points, dtype=float) / nom.scale


def _time_index(nom: Nomogram, time: float) -> int:
    for k, t in enumerate(nom.times):
        if math.isclose(t, float(time)):
            return k
    raise ValueError(f"time {time!r} is not one of the nomogram's times {list(nom.times)}")


def points_to_survival(nom: Nomogram, points: Any, time: float) -> np.ndarray:
    """Predicted survival at ``time`` (one of ``nom.times``) for total points."""
    s0 = nom.baseline_survival[_time_index(nom, time)]
    return s0 ** np.exp(points_to_lp(nom, points))


def survival_to_points(nom: Nomogram, survival: Any, time: float) -> np.ndarray:
    """Total points giving survival ``survival`` at ``time`` (inverse of :func:`points_to_survival`)."""
    s = np.asarray(survival, dtype=float)
    if np.any((s <= 0) | (s >= 1)):
        raise ValueError("survival probabilities must lie strictly between 0 and 1")
    s0 = nom.baseline_survival[_time_index(nom, time)]
    if not 0 < s0 < 1:
        raise ValueError(f"baseline survival at {time:g} is {s0}: no points can be mapped")
    return (np.log(np.log(s) / np.log(s0)) - nom.intercept) * nom.scale


def score(nom: Nomogram, new_patients: pd.DataFrame) -> pd.DataFrame:
    """Points per term, total points, linear predictor and predicted survival for new patients.

    Parameters
    ----------
    nom : Nomogram
    new_patients : pandas.DataFrame
        One row per patient, with a numeric column per model term (discrete terms must take one of
        their levels; continuous terms any value, points extrapolate linearly).

    Returns
    -------
    pandas.DataFrame
        Columns ``points_<term>`` for every term, ``total_points``, ``lp`` (centred at the covariate
        means, as ``predict(cph, type="lp")`` and lifelines' log partial hazard) and ``surv_<t>`` for
        every time (``t`` formatted with ``:g``), indexed like ``new_patients``.

    References
    ----------
    Harrell FE. Regression Modeling Strategies, 2nd ed. Springer 2015.
    """
    names = list(nom.term_names)
    _check_columns(new_patients, names, "the new patients")
    out = {}
    for term in nom.terms:
        out[f"points_{term.name}"] = _term_points(term, new_patients[term.name].to_numpy(float), nom.scale)
    res = pd.DataFrame(out, index=new_patients.index)
    res["total_points"] = res.sum(axis=1)
    # lp computed directly (not via points) keeps full precision for very different scales
    res["lp"] = sum(t.coef * (new_patients[t.name].to_numpy(float) - t.mean) for t in nom.terms)
    for t, s0 in zip(nom.times, nom.baseline_survival):
        res[f"surv_{t:g}"] = s0 ** np.exp(res["lp"].to_numpy())
    return res


# --------------------------------------------------------------------------- tables / json
def nomogram_table(nom: Nomogram) -> pd.DataFrame:
    """Points of every level (tick) of every predictor.

    Returns
    -------
    pandas.DataFrame
        Columns ``term``, ``label`` (axis title), ``level`` (tick label), ``value`` and ``points``
        (Python floats).
    """
    rows = [(t.name, t.label, lab, v, p) for t in nom.terms
            for v, lab, p in zip(t.values, t.level_labels, t.points)]
    return pd.DataFrame(rows, columns=["term", "label", "level", "value", "points"])


def adverse_points(nom: Nomogram) -> dict[str, float]:
    """Points of the level coded 1 of each 0/1 term (results JSON ``nomogram.points``).

    Raises
    ------
    ValueError
        If a term is not a 0/1 indicator.
    """
    out = {}
    for t in nom.terms:
        if t.kind != "discrete" or t.values != (0.0, 1.0):
            raise ValueError(f"term {t.name!r} is not a 0/1 indicator")
        out[t.name] = float(t.points[1])
    return out


def to_json(nom: Nomogram) -> dict:
    """Everything a client-side calculator needs, as plain JSON-serialisable types.

    The document (format ``"dmnpc-nomogram"``, version 1) is meant to stay stable. A calculator:

    1. for each term, takes the points of the chosen level (``levels[*].points``) or, for a
       continuous term, ``(coef * value - xbeta_min) * scale``;
    2. sums them into total points ``P``;
    3. computes ``lp = points_to_lp.intercept + points_to_lp.slope * P``;
    4. predicts ``S(t) = baseline_survival ** exp(lp)`` for each entry of ``times``.

    ``examples`` holds patients scored by Python (lowest- and highest-risk profiles and the
    profile with every term at its first level) for the calculator's own tests.

    Returns
    -------
    dict
    """
    terms = []
    for t in nom.terms:
        terms.append({
            "name": t.name, "label": t.label, "kind": t.kind, "coef": t.coef, "mean": t.mean,
            "xbeta_min": t.xbeta_min, "observed_range": list(t.observed_range),
            "levels": [{"value": v, "label": lab, "points": p}
                       for v, lab, p in zip(t.values, t.level_labels, t.points)],
        })
    times = []
    for t, lab, s0 in zip(nom.times, nom.time_labels, nom.baseline_survival):
        tk = nom.survival_ticks[nom.survival_ticks["time"] == t]
        times.append({"time": t, "label": lab, "baseline_survival": s0,
                      "ticks": [{"survival": float(s), "total_points": float(p)}
                                for s, p in zip(tk["survival"], tk["total_points"])]})
    profiles = {
        "lowest_risk": {t.name: t.values[int(np.argmin(t.points))] for t in nom.terms},
        "highest_risk": {t.name: t.values[int(np.argmax(t.points))] for t in nom.terms},
        "first_levels": {t.name: t.values[0] for t in nom.terms},
    }
    examples = []
    for name, prof in profiles.items():
        sc = score(nom, pd.DataFrame([prof])).iloc[0]
        examples.append({"name": name, "values": {k: float(v) for k, v in prof.items()},
                         "total_points": float(sc["total_points"]), "lp": float(sc["lp"]),
                         "survival": {f"{t:g}": float(sc[f"surv_{t:g}"]) for t in nom.times}})
    return {
        "format": JSON_FORMAT[0], "version": JSON_FORMAT[1],
        "model": {"n": nom.n, "events": nom.events, "ties": "efron",
                  "baseline_method": nom.baseline_method, "max_followup": nom.max_followup,
                  "centering": "lp = sum_j coef_j * (x_j - mean_j); S(t|x) = S0(t) ** exp(lp), "
                               "S0 = baseline survival at the covariate means"},
        "max_points": nom.max_points, "scale": nom.scale,
        "points_to_lp": {"intercept": nom.intercept, "slope": 1.0 / nom.scale},
        "terms": terms, "times": times,
        "axes": {"total_points": list(nom.total_points_axis), "lp": list(nom.lp_axis)},
        "examples": examples,
    }
