"""Cox proportional hazards: one Efron engine, one fitted-model object that travels.

:func:`fit_cox` fits the model (Efron's handling of tied event times, R's
``coxph`` default) with the batched Newton-Raphson engine of
:mod:`dmnpc.stats._engine`, the same engine the bootstrap of
:mod:`dmnpc.stats.validation` and :mod:`dmnpc.stats.calibration` uses for
hundreds of fits at once. It returns a frozen :class:`CoxFit` that carries
the data it was fitted on, so that, as in ``rms`` (``cph`` then ``validate``,
``calibrate``, ``nomogram``, ``predict``), everything downstream takes the fit
instead of refitting from arrays: :meth:`CoxFit.predict_survival`,
:func:`dmnpc.stats.validation.validate`,
:func:`dmnpc.stats.calibration.calibration_km_boot`,
:func:`dmnpc.stats.nomogram.build_nomogram` and :func:`ph_test`.

What this adds over lifelines' ``CoxPHFitter`` (which fits the same model):
full convergence (lifelines stops *before* its last Newton step, leaving
coefficients ~1e-5 from the maximum; ``coxph`` agrees with this module to
~1e-10), step-halving that survives a rare binary level on which lifelines'
Newton steps overshoot and fail (``tests/reference/ref_cox_rare_level.R``),
detection of monotone likelihood (an infinite coefficient) instead of a huge
finite one, the score test and ``cox.zph`` that lifelines does not give, the
Efron-type baseline hazard of ``survfit.coxph``, and batched fits for the
bootstrap. lifelines stays in the test suite as an independent cross-check.

Case weights (``fit_cox(weights=...)``, e.g. inverse-probability weights) with the robust sandwich
variance are those of ``coxph(weights = w, robust = TRUE)``: the same engine with the weights read
as case weights (a tie set's Efron terms weighted by the mean weight of its deaths), the variance
``D'D`` from the weighted dfbeta residuals ``D`` (Lin & Wei 1989).

Agreement with R (survival 3.5.3) is tested in ``tests/stats/test_cox.py``
against ``tests/reference/ref_cox.R``, the weighted fits in ``tests/stats/test_cox_weighted.py``
against ``tests/reference/ref_cox_weighted.R``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from dmnpc.stats import _engine as engine
from dmnpc.stats._validate import check_conf_level, check_group, check_time_event, check_weights, z_value
from dmnpc.stats.km import km_left

from dmnpc.stats.km import km_left

__all__ = ["CoxFit", "MonotoneLikelihoodError", "fit_cox", "univariable_screen", "ph_test",
           "efron_score_information", "design_array"]

#: Newton iterations for a full-convergence fit; rms's rule (``eps = 1e-4``) uses ``iter.max = 10``.
MAX_ITER = 50
_RMS_MAX_ITER = 10
#: A fit has converged when the last Newton step is below this, relative to 1 + |coefficient|.
_STEP_TOL = 1e-8


class MonotoneLikelihoodError(ValueError):
    """The partial likelihood has no finite maximum (e.g. a predictor level with no events)."""


# ----------------------------------------------------------------------------- checks
def design_array(X, n: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Validate a design matrix; return it as a float array with its column names.

    Parameters
    ----------
    X : pandas.DataFrame or array-like, shape (n, p)
        Numeric predictors (e.g. 0/1 indicators). Arrays get names ``x0, x1, ...``.
    n : int
        Number of patients (rows expected).

    Raises
    ------
    ValueError
        Wrong shape, no columns, non-numeric, missing or infinite values, or a
        constant column (its hazard ratio cannot be estimated).
    """
    if isinstance(X, pd.DataFrame):
        names = tuple(str(c) for c in X.columns)
        bad = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c])]
        if bad:
            raise ValueError(f"predictor(s) {bad} are not numeric: code them as numbers (e.g. 0/1 indicators)")
        Xa = X.to_numpy(dtype=float)
    else:
        Xa = np.asarray(X, dtype=float)
        if Xa.ndim == 1:
            Xa = Xa[:, None]
        names = tuple(f"x{j}" for j in range(Xa.shape[1])) if Xa.ndim == 2 else ()
    if Xa.ndim != 2 or Xa.shape[0] != n:
        raise ValueError(f"The predictor matrix must have one row per patient ({n}); got shape {Xa.shape}.")
    if Xa.shape[1] == 0:
        raise ValueError("The predictor matrix has no columns: there is no model to fit.")
    if not np.isfinite(Xa).all():
        bad = [names[j] for j in range(Xa.shape[1]) if not np.isfinite(Xa[:, j]).all()]
        raise ValueError(f"The predictor matrix has missing or infinite values (in {bad}); this module does not "
                         "drop patients silently: select complete cases first (univariable_screen does and "
                         "reports n).")
    const = [names[j] for j in range(Xa.shape[1]) if np.all(Xa[:, j] == Xa[0, j])]
    if const:
        raise ValueError(f"predictor(s) {const} have the same value for every patient: their hazard ratio "
                         "cannot be estimated")
    return Xa, names


# ----------------------------------------------------------------------------- the fit
@dataclass(frozen=True, eq=False)
class CoxFit:
    """A fitted Cox model (Efron ties) with the data it was fitted on.

    Attributes
    ----------
    terms : tuple of str
        Predictor names, in model order.
    coef : numpy.ndarray
        Log hazard ratios.
    vcov : numpy.ndarray
        Covariance of ``coef``: the model-based one (inverse information at ``coef``), or with
        ``robust`` the sandwich ``D'D`` of the weighted dfbeta residuals (``coxph``'s ``var``).
    summary : pandas.DataFrame
        One row per term: ``term``, ``coef``, ``se``, ``hr``, ``lower``, ``upper``
        (Wald interval for the HR at ``conf_level``), ``z``, ``p``, all from ``vcov``; with
        ``robust`` also ``naive_se`` (``coxph``'s ``se(coef)``; ``se`` is its ``robust se``).
    lr_test, wald_test, score_test : dict
        Global tests ``{"chisq", "df", "p"}`` as printed by ``summary(coxph)``; the Wald test uses
        ``vcov`` (robust when ``robust``); the LR and score tests are the model-based ones.
    loglik, loglik_null : float
        Partial log-likelihood at the estimate and at beta = 0.
    n, n_events : int
    conf_level : float
    converged : bool
        False when Newton-Raphson did not settle at a finite maximum: monotone
        likelihood (a level with no events, or predictors that separate the
        events), so at least one coefficient is infinite and the summary is
        meaningless. Check it before using the fit.
    infinite : tuple of str
        The terms whose coefficient was still moving when the likelihood had
        flattened (``coxph``'s "coefficient may be infinite" warning); empty when
        the fit converged.
    eps : float or None
        ``None``: full convergence; ``1e-4``: rms's ``cph`` stopping rule
        (kept so that bootstrap refits use the same rule).
    X, time, event : numpy.ndarray
        The design matrix and outcome the model was fitted on (original row order).
    strata : numpy.ndarray or None
        Stratum of each patient when the model was fitted with separate baseline hazards
        (``coxph(... + strata(s))``); predictions, baselines and the PH test need ``None``.
    weights : numpy.ndarray or None
        Case weights of the fit (``None``: unweighted). Baselines, predictions, the PH test and
        the bootstrap of a weighted fit are not implemented and refuse it.
    robust : bool
        Whether ``vcov`` is the robust (sandwich) variance.
    naive_vcov : numpy.ndarray or None
        With ``robust``, the model-based covariance (``coxph``'s ``naive.var``).
    robust_score_test : dict or None
        With ``robust``, ``coxph``'s robust score test ``U(0)' (T'T)^-1 U(0)``, ``T`` the weighted
        score residuals at beta = 0 (Lin & Wei 1989).
    """

    terms: tuple[str, ...]
    coef: np.ndarray
    vcov: np.ndarray
    summary: pd.DataFrame
    lr_test: dict
    wald_test: dict
    score_test: dict
    loglik: float
    loglik_null: float
    n: int
    n_events: int
    conf_level: float
    converged: bool
    infinite: tuple[str, ...]
    eps: float | None
    X: np.ndarray = field(repr=False)
    time: np.ndarray = field(repr=False)
    event: np.ndarray = field(repr=False)
    strata: np.ndarray | None = field(default=None, repr=False)
    weights: np.ndarray | None = field(default=None, repr=False)
    robust: bool = False
    naive_vcov: np.ndarray | None = field(default=None, repr=False)
    robust_score_test: dict | None = None

    def _unstratified(self, what: str) -> None:
        """Refuse a stratified fit, and a weighted one (what needs one baseline hazard of unweighted data)."""
        if self.strata is not None:
            raise ValueError(f"{what} needs an unstratified model: a stratified Cox model has one baseline per "
                             "stratum")
        self._unweighted(what)

    def _unweighted(self, what: str) -> None:
        if self.weights is not None:
            raise ValueError(f"{what} is not implemented for a weighted Cox model: refit without weights")

    @property
    def means(self) -> np.ndarray:
        """Column means of the design matrix (the centring of lp and of the baseline)."""
        return self.X.mean(axis=0)

    def design(self, X=None) -> np.ndarray:
        """``X`` as a float array in the model's column order (the fitting data when ``None``)."""
        if X is None:
            return self.X
        if isinstance(X, pd.DataFrame):
            missing = [t for t in self.terms if t not in X.columns]
            if missing:
                raise ValueError(f"the new patients lack the model term(s) {missing}")
            X = X[list(self.terms)]
        Xa = np.asarray(X, dtype=float)
        if Xa.ndim == 1:
            Xa = Xa[None, :] if Xa.size == len(self.terms) else Xa[:, None]
        if Xa.shape[1] != len(self.terms) or not np.isfinite(Xa).all():
            raise ValueError(f"new patients need finite values for the {len(self.terms)} model terms "
                             f"{list(self.terms)}")
        return Xa

    def linear_predictor(self, X=None, centered: bool = True) -> np.ndarray:
        """``sum_j coef_j x_j``, centred at the fitting data's means by default (as ``predict(cph)``).

        Summed term by term, element-wise, so that patients with identical predictors get
        bit-identical values: a BLAS matrix-vector product may round rows differently by their
        position in memory, which splits ties of the score (measured on survival::gbsg with a
        5-term model: 2 covariate patterns got 2 values each, moving Harrell's C by 3e-5 from
        ``survival::concordance``; ``tests/stats/test_cox.py``).
        """
        Xa = self.design(X)
        if centered:
            Xa = Xa - self.means
        lp = np.zeros(Xa.shape[0])
        for j in range(Xa.shape[1]):
            lp += Xa[:, j] * self.coef[j]
        return lp

    def baseline(self, method: str = "efron") -> pd.DataFrame:
        """Baseline cumulative hazard and survival at the covariate means, at each event time.

        ``method="efron"``: increments ``sum_k 1/(R - k/d D)`` at a time with ``d``
        deaths, as ``survfit.coxph`` after an Efron fit (``rms::cph(surv = TRUE)``);
        ``"breslow"``: ``d / R`` (lifelines' ``baseline_survival_``). Equal without ties.

        Returns
        -------
        pandas.DataFrame
            Columns ``time`` (distinct event times), ``cumhaz``, ``survival``.
        """
        self._unstratified("A baseline hazard")
        if method not in ("efron", "breslow"):
            raise ValueError(f"baseline method must be 'efron' or 'breslow', got {method!r}")
        lay = engine.layout(self.time, self.event)
        inc = engine.baseline_increments(lay, self.linear_predictor()[None, :], efron=method == "efron")[0]
        cum = np.cumsum(inc)
        return pd.DataFrame({"time": lay.time[lay.death_idx][lay.group_first], "cumhaz": cum,
                             "survival": np.exp(-cum)})

    def predict_survival(self, times: Sequence[float] | float, X=None, method: str = "efron") -> np.ndarray:
        """Predicted survival ``S(t | x) = S0(t) ** exp(lp)``, shape (patients, times).

        ``S0`` is read as a right-continuous step function (1 before the first event; times
        within 1e-6 after an event time count as at it, as ``rms``' ``survest``).
        """
        base = self.baseline(method)
        ts = np.atleast_1d(np.asarray(times, dtype=float))
        k = np.searchsorted(base["time"].to_numpy(), ts + 1e-6, side="right")
        H0 = np.r_[0.0, base["cumhaz"].to_numpy()][k]
        return np.exp(-np.outer(np.exp(self.linear_predictor(X)), H0))


def _test(chisq: float, df: int) -> dict:
    return {"chisq": float(chisq), "df": int(df), "p": float(stats.chi2.sf(chisq, df))}


def _moving(score: np.ndarray, info: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Which coefficients one more Newton step from ``beta`` would still move by _STEP_TOL or more (relative)."""
    try:
        step = np.linalg.solve(info, score)
    except np.linalg.LinAlgError:
        return np.ones(beta.size, dtype=bool)
    return ~np.isfinite(step) | (np.abs(step) / (1.0 + np.abs(beta)) >= _STEP_TOL)


def _fit_stratified(t, e, Xa, strata) -> tuple[np.ndarray, tuple, tuple]:
    """Newton-Raphson with step halving on the sum of the per-stratum Efron likelihoods.

    Returns the estimate and ``(loglik, score, information)`` at it and at beta = 0.
    Strata without events contribute nothing (their risk sets hold no event).
    """
    parts = []
    for lev in pd.unique(pd.Series(strata)):
        idx = np.flatnonzero(strata == lev)
        if e[idx].sum() > 0:
            parts.append((engine.layout(t[idx], e[idx]), Xa[idx]))

    def terms(beta: np.ndarray):
        got = [engine.efron_terms(lay, X, beta[None, :]) for lay, X in parts]
        return (sum(float(g[0][0]) for g in got), sum(g[1][0] for g in got), sum(g[2][0] for g in got))

    beta = np.zeros(Xa.shape[1])
    at0 = cur = terms(beta)
    for _ in range(MAX_ITER):
        try:
            step = np.linalg.solve(cur[2], cur[1])
        except np.linalg.LinAlgError:
            break
        for _halving in range(30):
            new = terms(beta + step)
            if np.isfinite(new[0]) and new[0] >= cur[0] - 1e-12 * abs(cur[0]):
                break
            step = step / 2
        beta, cur = beta + step, new
        if np.max(np.abs(step) / (1.0 + np.abs(beta))) < 1e-12:
            break
    return beta, cur, at0


def fit_cox(time, event, X, *, strata=None, weights=None, robust: bool | None = None, conf_level: float = 0.95,
            eps: float | None = None) -> CoxFit:
    """Fit a Cox proportional hazards model with Efron's handling of ties.

    Parameters
    ----------
    time, event : array-like
        Follow-up times and 0/1 event indicators (at least one event).
    X : pandas.DataFrame or array-like, shape (n, p)
        Numeric predictors, no missing values (column names become the terms).
    conf_level : float, default 0.95
        Level of the Wald confidence intervals of the hazard ratios.
    strata : array-like, optional
        Stratum of each patient: one baseline hazard per stratum, coefficients shared, as
        ``coxph(Surv ~ x + strata(s))``. Full convergence only (``eps`` must be None).
    weights : array-like, optional
        Case weights > 0, one per patient (e.g. inverse-probability or overlap weights), as
        ``coxph(weights = w)``: each patient's terms of the partial likelihood are multiplied by
        its weight, and a tie set of ``d`` deaths has its ``d`` Efron terms weighted by the mean
        weight of those deaths (survival's coxfit6.c). Integer weights are therefore *not* the
        same as duplicated rows when deaths are tied (they are without ties). Not with ``strata``.
    robust : bool, optional
        Robust (sandwich) variance ``D'D``, ``D`` the dfbeta residuals (score residuals times
        the model-based variance), each multiplied by its patient's weight: ``coxph(robust =
        TRUE)`` without ``cluster``, one cluster per patient (Lin & Wei 1989). ``None`` (default)
        follows ``coxph``: robust exactly when some weight is not a whole number. Set it to True
        for inverse-probability weights: the model-based variance treats them as counts of patients.
        Not with ``strata``.
    eps : float, optional
        ``None`` (default) converges fully; ``1e-4`` reproduces ``rms::cph``'s
        stopping rule digit for digit (``coxph.fit(eps = 1e-4, iter.max = 10)``).

    Returns
    -------
    CoxFit
        The Wald test is ``b' V^-1 b`` (``b' I(b) b`` without ``robust``); the score test
        ``U(0)' I(0)^-1 U(0)``; the LR test ``2 (l(b) - l(0))``, each on ``p`` degrees of
        freedom, as ``coxph`` (with weights, of the weighted likelihood).
        ``converged`` is False (and the summary meaningless) under monotone likelihood.
        ``n`` and ``n_events`` count patients, not weights (as ``coxph``'s ``n`` and ``nevent``).

    Raises
    ------
    ValueError
        Invalid times or events, no events, an invalid design matrix (see
        :func:`design_array`), weights not positive, or weights or ``robust`` with ``strata``.

    References
    ----------
    Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
    Efron B. The efficiency of Cox's likelihood function for censored data.
    J Am Stat Assoc 1977;72:557-565.
    Lin DY, Wei LJ. The robust inference for the Cox proportional hazards model.
    J Am Stat Assoc 1989;84:1074-1078.
    Binder DA. Fitting Cox's proportional hazards models from survey data. Biometrika
    1992;79:139-147.
    Therneau TM, Grambsch PM. Modeling Survival Data. Springer, 2000 (sections 7.2-7.3).

    Examples
    --------
    Inverse-probability weighted hazard ratio with its robust interval, as
    ``coxph(Surv(t, e) ~ x, weights = w, robust = TRUE)``:

    >>> fit = fit_cox(t, e, X, weights=w, robust=True)  # doctest: +SKIP
    >>> fit.summary[["term", "hr", "lower", "upper", "p"]]  # doctest: +SKIP
    """
    conf_level = check_conf_level(conf_level)
    t, e = check_time_event(time, event, require_events=True)
    Xa, terms = design_array(X, t.size)
    w = None if weights is None else check_weights(weights, t.size)
    if robust is None:
        robust = w is not None and bool(np.any(w != np.floor(w)))  # coxph's default
    robust = bool(robust)
    if strata is not None:
        s_ = np.asarray(check_group(strata, t.size))
        if eps is not None:
            raise ValueError("a stratified fit converges fully: eps must be None")
        if w is not None or robust:
            raise ValueError("weights and the robust variance are not implemented with strata: fit without "
                             "strata, or without weights")
        beta, (ll, score, info), (ll0, u0, info0) = _fit_stratified(t, e, Xa, s_)
    else:
        s_ = None
        lay = engine.layout(t, e, case_weights=w is not None)
        f = engine.fit_batch(lay, Xa, None if w is None else w[None, :], eps=eps,
                             max_iter=_RMS_MAX_ITER if eps is not None else MAX_ITER, final_terms=True)
        beta = f.beta[0]
        # score and information at the estimate itself (final_terms: not those of the last Newton iterate
        # before the final step); coxph reports the variance at the estimate too
        ll, score, info = f.loglik[0], f.score_final[0], f.information_final[0]
        ll0, u0, info0 = f.loglik0[0], f.score0[0], f.information0[0]  # the engine starts from beta = 0
    moving = ~np.isfinite(beta) | (_moving(score, info, beta) if eps is None else False)
    converged = not bool(np.any(moving))
    p = len(terms)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            vcov = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            vcov = np.full((p, p), np.nan)
        naive_vcov = rscore = None
        if robust:
            naive_vcov = vcov
            vcov, rscore = _robust(lay, Xa, beta, w, naive_vcov)
        se = np.sqrt(np.diag(vcov))
        z = beta / se
        zq = z_value(conf_level)
        summary = pd.DataFrame({
            "term": list(terms), "coef": beta, "se": se, "hr": np.exp(beta),
            "lower": np.exp(beta - zq * se), "upper": np.exp(beta + zq * se),
            "z": z, "p": 2.0 * stats.norm.sf(np.abs(z)),
        })
        if robust:
            summary.insert(3, "naive_se", np.sqrt(np.diag(naive_vcov)))
    if robust:
        try:
            wald = float(beta @ np.linalg.solve(vcov, beta))
        except np.linalg.LinAlgError:
            wald = float("nan")
    else:
        wald = float(beta @ info @ beta)
    ll = float(ll)
    try:
        score_chisq = float(u0 @ np.linalg.solve(info0, u0))
    except np.linalg.LinAlgError:
        score_chisq = float("nan")
    return CoxFit(
        terms=terms, coef=beta, vcov=vcov, summary=summary,
        lr_test=_test(2.0 * (ll - ll0), p), wald_test=_test(wald, p),
        score_test=_test(score_chisq, p), loglik=ll, loglik_null=float(ll0), n=int(t.size),
        n_events=int(e.sum()), conf_level=conf_level, converged=converged,
        infinite=tuple(t_ for t_, m in zip(terms, np.broadcast_to(moving, beta.shape)) if m), eps=eps, X=Xa, time=t,
        event=e, strata=s_, weights=w, robust=robust, naive_vcov=naive_vcov,
        robust_score_test=None if rscore is None else _test(rscore, p),
    )


def _robust(lay, Xa: np.ndarray, beta: np.ndarray, w: np.ndarray | None,
            naive_vcov: np.ndarray) -> tuple[np.ndarray, float]:
    """Robust variance ``D'D`` and robust score statistic of ``coxph(robust = TRUE)``, no cluster.

    ``D = diag(w) L V``: score residuals ``L`` at the estimate (:func:`engine.score_residuals`, Efron,
    case weights) times the model-based variance ``V``, each row times its weight (``residuals(fit,
    "dfbeta", weighted = TRUE)``). The robust score test is ``u' (T'T)^-1 u`` with ``T = diag(w) L(0)``
    and ``u`` its column sums (the score at 0). NaN where the model-based variance is not finite.
    """
    p = beta.size
    if not (np.isfinite(beta).all() and np.isfinite(naive_vcov).all()):
        return np.full((p, p), np.nan), float("nan")
    wv = np.ones(Xa.shape[0]) if w is None else w
    D = (wv[:, None] * engine.score_residuals(lay, Xa, beta, w)) @ naive_vcov
    T = wv[:, None] * engine.score_residuals(lay, Xa, np.zeros(p), w)
    u = T.sum(axis=0)
    try:
        rscore = float(u @ np.linalg.solve(T.T @ T, u))
    except np.linalg.LinAlgError:
        rscore = float("nan")
    return D.T @ D, rscore


def efron_score_information(time, event, X, beta) -> tuple[float, np.ndarray, np.ndarray]:
    """Efron partial log-likelihood, score vector and information matrix at ``beta``.

    Parameters
    ----------
    time, event : array-like
        Follow-up times and 0/1 event indicators.
    X : array-like, shape (n, p)
        Covariates.
    beta : array-like, shape (p,)
        Coefficients at which to evaluate.

    Returns
    -------
    tuple
        ``(loglik, score, information)``.

    References
    ----------
    Efron B. The efficiency of Cox's likelihood function for censored data.
    J Am Stat Assoc 1977;72:557-565.
    """
    t = np.asarray(time, float)
    e = np.asarray(event, float)
    Xa = np.asarray(X, float)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    ll, sc, inf = engine.efron_terms(engine.layout(t, e), Xa, np.asarray(beta, float).reshape(1, -1))
    return float(ll[0]), sc[0], inf[0]


# ----------------------------------------------------------------------------- screen
_NOT_ESTIMABLE_MONOTONE = ("no finite maximum (monotone likelihood, e.g. a group without events): "
                           "not estimable")


def univariable_screen(time, event, X: pd.DataFrame, conf_level: float = 0.95) -> pd.DataFrame:
    """One Cox model per column of ``X`` (univariable analysis), each on its complete cases.

    Parameters
    ----------
    time, event : array-like
        Follow-up times and 0/1 event indicators.
    X : pandas.DataFrame
        One numeric column per term to screen; a missing value (e.g. LDH not
        measured) drops that patient from that term's model only.
    conf_level : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        One row per term: ``term``, ``n`` (patients used), ``n_missing``
        (patients dropped because the term is missing), ``n_events``,
        ``coef``, ``se``, ``hr``, ``lower``, ``upper``, ``z``, ``p``, ``note``
        (why a term could not be estimated; "" otherwise; its numbers are then
        missing), and for a two-valued term ``n_smaller`` and ``events_smaller``: patients
        and events in its less frequent level (missing for other terms), the numbers an
        estimate rests on. Nothing is dropped silently: ``n`` and ``n_missing`` say who was used.

    Raises
    ------
    ValueError
        No patients, no columns, or invalid time/event data.

    References
    ----------
    Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
    """
    if not isinstance(X, pd.DataFrame) or X.shape[1] == 0:
        raise ValueError("no terms given: expected a DataFrame with at least one predictor column to screen")
    t, e = check_time_event(time, event, require_events=True)
    if len(X) != t.size:
        raise ValueError(f"the predictors have {len(X)} rows but there are {t.size} patients")
    cols = ["coef", "se", "hr", "lower", "upper", "z", "p"]
    rows = []
    for term in X.columns:
        x = X[term].to_numpy(float)
        ok = ~np.isnan(x)
        row = {"term": str(term), "n": int(ok.sum()), "n_missing": int((~ok).sum()),
               "n_events": int(e[ok].sum()), "note": "", "n_smaller": np.nan, "events_smaller": np.nan}
        levels, counts = np.unique(x[ok], return_counts=True)
        if levels.size == 2:
            small = x[ok] == levels[int(np.argmin(counts))]
            row.update(n_smaller=int(small.sum()), events_smaller=int(e[ok][small].sum()))
        if np.unique(x[ok]).size < 2:
            row["note"] = "same value for every patient: not estimable"
        elif row["n_events"] == 0:
            row["note"] = "no events among the patients with this variable: not estimable"
        else:
            fit = fit_cox(t[ok], e[ok], x[ok, None], conf_level=conf_level)
            if fit.converged:
                row.update(fit.summary.iloc[0][cols].to_dict())
            else:
                row["note"] = _NOT_ESTIMABLE_MONOTONE
        rows.append(row)
    out = pd.DataFrame(rows).reindex(columns=["term", "n", "n_missing", "n_events", *cols, "note", "n_smaller",
                                              "events_smaller"])
    out[cols] = out[cols].astype(float)
    return out


# ----------------------------------------------------------------------------- PH test
def ph_test(fit: CoxFit, transform: str = "km") -> pd.DataFrame:
    """Test of proportional hazards from scaled Schoenfeld residuals, equal to ``cox.zph``.

    As in survival >= 3.0, each coefficient is allowed to change linearly in
    g(t) = transform(t) - mean over events, and the test is the score test of
    the extra coefficients in the model with covariates ``(X, X * g(t))``,
    evaluated at the fitted ``beta`` (and zero for the extra terms), with
    Efron's handling of ties; each term is tested alone and all terms
    together (``GLOBAL``). This is the full score test of Therneau & Grambsch,
    not the per-term approximation of survival 2.x.

    Parameters
    ----------
    fit : CoxFit
        From :func:`fit_cox`.
    transform : {"km", "identity", "rank", "log"}, default "km"
        Time scale g: ``"km"`` is 1 minus the left-continuous Kaplan-Meier of
        all patients (R's default).

    Returns
    -------
    pandas.DataFrame
        Rows = terms then ``GLOBAL``; columns ``term``, ``chisq``, ``df``, ``p``.

    Raises
    ------
    ValueError
        For an unknown transform.

    References
    ----------
    Grambsch PM, Therneau TM. Proportional hazards tests and diagnostics based
    on weighted residuals. Biometrika 1994;81:515-526.
    Therneau TM, Grambsch PM. Modeling Survival Data: Extending the Cox Model.
    Springer 2000, ch. 6.
    """
    fit._unstratified("The proportional-hazards test")
    t, e, X = fit.time, fit.event, fit.X
    if transform == "km":
        tt = 1.0 - km_left(t, e)
    elif transform == "identity":
        tt = t.copy()
    elif transform == "rank":
        tt = stats.rankdata(t)
    elif transform == "log":
        tt = np.log(t)
    else:
        raise ValueError(f"unknown transform {transform!r}: expected 'km', 'identity', 'rank' or 'log'")
    g_subject = tt - tt[e == 1].mean()
    lay = engine.layout(t, e)
    _, score, info = engine.per_event_time(lay, X, fit.coef)
    # every death at a given time has the same g: take it from the first death of each tie set
    g = g_subject[lay.order][lay.death_idx][lay.group_first]
    p = len(fit.terms)
    I11 = info.sum(axis=0)
    I12 = np.einsum("j,jkl->kl", g, info)
    I22 = np.einsum("j,jkl->kl", g ** 2, info)
    imat = np.block([[I11, I12], [I12, I22]])
    u2 = g @ score
    rows = []
    for k, term in enumerate(fit.terms):
        kk = list(range(p)) + [p + k]
        u = np.r_[np.zeros(p), u2[k]]
        rows.append((term, float(u @ np.linalg.solve(imat[np.ix_(kk, kk)], u)), 1))
    u = np.r_[np.zeros(p), u2]
    rows.append(("GLOBAL", float(u @ np.linalg.solve(imat, u)), p))
    out = pd.DataFrame(rows, columns=["term", "chisq", "df"])
    out["p"] = stats.chi2.sf(out["chisq"], out["df"])
    return out
