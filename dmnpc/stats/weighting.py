"""Propensity scores, balancing weights, covariate balance, and the weighted hazard ratio.

For a non-randomised treatment (e.g. locoregional radiotherapy chosen by the physician), the
propensity score ``e(x) = P(treated | x)`` is estimated by a logistic regression (statsmodels'
``GLM`` with a binomial family, fitted to full convergence). Two weightings of the patients
then balance the measured covariates between the arms:

* stabilised inverse-probability (ATE) weights (Robins, Hernan & Brumback 2000): ``P(T=1) / e(x)``
  for treated and ``P(T=0) / (1 - e(x))`` for untreated patients, ``P(T=1)`` the share treated;
  their mean is 1 in each arm in expectation, so the weighted sample keeps roughly its size;
* overlap weights (Li, Morgan & Zaslavsky 2018): ``1 - e(x)`` for treated, ``e(x)`` for
  untreated patients; bounded by 1, they weight towards patients who could have had either
  treatment (the ATO), and balance every covariate of the logistic model exactly.

Balance is judged by standardised mean differences (SMD) before and after weighting, and the
cost of weighting by Kish's effective sample size per arm. The weighted Cox model of the outcome
on the treatment is :func:`dmnpc.stats.cox.fit_cox` with ``weights`` and the robust variance,
as ``coxph(Surv(t, e) ~ untreated, weights = w, robust = TRUE)``; the variance ignores that
the weights were estimated (conservative for IPW, Austin 2016).

Conventions
-----------
* ``treatment`` is 0/1 with 1 = received the treatment; arguments follow the package's one
  order: ``time, event`` first, then the treatment, then covariates or weights.
* Hazard ratios are **without vs with** treatment (as :mod:`dmnpc.stats.subgroup`): HR > 1
  means worse survival without it.
* SMD = (weighted mean of the treated - weighted mean of the untreated) / pooled SD, the
  pooled SD ``sqrt((s1^2 + s0^2) / 2)`` always from the **unweighted** arms (Austin 2009; the
  ``s.d.denom = "pooled"`` of ``cobalt``), so that before and after differ only by the means.
  ``s^2`` is the sample variance (n - 1) for a continuous covariate and ``p (1 - p)`` for a 0/1
  one (Austin 2009, eq. for dichotomous variables).
* Separation: when a covariate, or a combination of covariates, predicts the treatment exactly
  (complete or quasi-complete separation, Albert & Anderson 1984) the logistic regression has
  no finite maximum, some propensity scores are 0 or 1 and the inverse weights infinite: the
  positivity assumption fails. This is detected by Konis's (2007) linear program, not by a
  threshold on fitted values, and raised as :class:`SeparationError` (a ``ValueError``) that
  names the covariates involved.

Agreement with R (``glm``, weights and SMDs computed plainly, ``coxph`` with weights and
``robust = TRUE``) is tested in ``tests/stats/test_weighting.py`` against
``tests/reference/ref_weighting.R``.

References
----------
Rosenbaum PR, Rubin DB. The central role of the propensity score in observational studies for
causal effects. Biometrika 1983;70:41-55.
Robins JM, Hernan MA, Brumback B. Marginal structural models and causal inference in
epidemiology. Epidemiology 2000;11:550-560.
Li F, Morgan KL, Zaslavsky AM. Balancing covariates via propensity score weighting. J Am Stat
Assoc 2018;113:390-400.
Austin PC. Balance diagnostics for comparing the distribution of baseline covariates between
treatment groups in propensity-score matched samples. Stat Med 2009;28:3083-3107.
Austin PC, Stuart EA. Moving towards best practice when using inverse probability of treatment
weighting (IPTW) using the propensity score to estimate causal treatment effects in
observational studies. Stat Med 2015;34:3661-3679.
Austin PC. Variance estimation when using inverse probability of treatment weighting (IPTW)
with survival analysis. Stat Med 2016;35:5642-5655.
Kish L. Survey Sampling. Wiley, 1965.
Albert A, Anderson JA. On the existence of maximum likelihood estimates in logistic regression
models. Biometrika 1984;71:1-10.
Konis K. Linear programming algorithms for detecting separated data in binary logistic
regression models. DPhil thesis, University of Oxford, 2007.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize

from dmnpc.stats._validate import check_binary, check_not_empty, check_time_event, check_weights
from dmnpc.stats.cox import design_array, fit_cox

__all__ = ["SeparationError", "PropensityFit", "propensity_score", "balancing_weights", "balance_table",
           "effective_sample_size", "weighted_hr", "WEIGHT_METHODS"]

#: The weightings of :func:`balancing_weights`.
WEIGHT_METHODS = ("ipw_stabilised", "overlap")
#: IRLS stops when the deviance changes by less than this (absolute): converged to rounding.
_GLM_TOL = 1e-12
_GLM_MAX_ITER = 100


class SeparationError(ValueError):
    """The covariates predict the treatment exactly: no finite propensity model, no finite weights."""


# ----------------------------------------------------------------------------- checks
def _check_treatment(treatment, n: int | None = None) -> np.ndarray:
    tr = check_binary(treatment, "treatment", "untreated", "treated")
    check_not_empty(tr.size)
    if n is not None and tr.size != n:
        raise ValueError(f"treatment has {tr.size} values but there are {n} patients: "
                         "expected one value per patient")
    if tr.min() == tr.max():
        arm = "treated" if tr[0] == 1 else "untreated"
        raise ValueError(f"every patient is {arm}: there is no comparison group")
    return tr


def _separating_terms(Z: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> list[str] | None:
    """Covariates of a (quasi-)completely separating direction, or None if the data overlap.

    Konis (2007): the data are separated iff some ``b`` has ``s_i z_i'b >= 0`` for every row
    (``s_i = 2 y_i - 1``) and ``Zb != 0``, i.e. ``sum_i s_i z_i'b > 0``. Normalising that sum to
    at least 1 (columns scaled to unit maximum), the linear program ``min sum_j |b_j|`` under these
    constraints is feasible exactly when the data are separated; its solution is sparse and names
    the covariates (not the intercept) that separate. Infeasible: the maximum likelihood exists.
    """
    n, p = Z.shape
    A = (2.0 * y - 1.0)[:, None] * (Z / np.abs(Z).max(axis=0))
    # b = bp - bm, bp, bm >= 0;  -A b <= 0 row by row;  -sum_i A_i b <= -1
    A_ub = np.vstack([np.hstack([-A, A]), np.hstack([-A.sum(axis=0), A.sum(axis=0)])[None]])
    b_ub = np.r_[np.zeros(n), -1.0]
    res = optimize.linprog(np.ones(2 * p), A_ub=A_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    if res.status != 0:  # 2 = infeasible: no separating direction
        return None
    b = res.x[:p] - res.x[p:]
    return [names[j - 1] for j in range(1, p) if abs(b[j]) > 1e-9 * np.abs(b).max()] or list(names)


# ----------------------------------------------------------------------------- propensity
@dataclass(frozen=True, eq=False)
class PropensityFit:
    """A fitted propensity-score model (logistic regression of the treatment on covariates).

    Attributes
    ----------
    terms : tuple of str
        Covariate names, in model order.
    coef, se : pandas.Series
        Log odds ratios of being treated, ``Intercept`` first, and their model-based SEs.
    score : numpy.ndarray
        Fitted propensity score ``P(treated | x)`` of each patient (``glm``'s fitted values).
    treatment : numpy.ndarray
        The 0/1 treatment the model was fitted to.
    X : numpy.ndarray
        The covariates (without intercept), original row order.
    deviance : float
    iterations : int
        IRLS iterations used.
    """

    terms: tuple[str, ...]
    coef: pd.Series
    se: pd.Series
    score: np.ndarray = field(repr=False)
    treatment: np.ndarray = field(repr=False)
    X: np.ndarray = field(repr=False)
    deviance: float
    iterations: int

    @property
    def n(self) -> int:
        return int(self.treatment.size)

    @property
    def n_treated(self) -> int:
        return int(self.treatment.sum())


def propensity_score(treatment, covariates: pd.DataFrame) -> PropensityFit:
    """Propensity scores from a logistic regression of the treatment on covariates.

    ``glm(treatment ~ covariates, family = binomial)``, fitted by statsmodels' IRLS
    (``statsmodels.api.GLM``, binomial family, logit link) until the deviance changes by less
    than 1e-12.

    Parameters
    ----------
    treatment : array-like
        0/1, 1 = received the treatment; both arms present.
    covariates : pandas.DataFrame or array-like, shape (n, p)
        Numeric covariates (0/1 indicators for categories), no missing values, none constant;
        an intercept is added.

    Returns
    -------
    PropensityFit

    Raises
    ------
    SeparationError
        The covariates predict the treatment exactly (complete or quasi-complete separation):
        the message names the covariates involved. Remove or merge them, or restrict the
        patients to those who could have had either treatment.
    ValueError
        Invalid treatment (not 0/1, one arm only), invalid covariates (see
        :func:`dmnpc.stats.cox.design_array`), or collinear covariates.

    See Also
    --------
    balancing_weights, balance_table

    References
    ----------
    Rosenbaum PR, Rubin DB. Biometrika 1983;70:41-55.
    Albert A, Anderson JA. Biometrika 1984;71:1-10.
    Konis K. DPhil thesis, University of Oxford, 2007.
    """
    import statsmodels.api as sm

    tr = _check_treatment(treatment)
    X, terms = design_array(covariates, tr.size)
    Z = np.column_stack([np.ones(tr.size), X])
    if np.linalg.matrix_rank(Z) < Z.shape[1]:
        raise ValueError(f"the covariates {list(terms)} are collinear (one is a combination of the others, "
                         "with the intercept): drop one")
    sep = _separating_terms(Z, tr.astype(float), terms)
    if sep is not None:
        raise SeparationError(
            f"the treatment is predicted exactly by {sep} (complete or quasi-complete separation): some "
            "propensity scores are 0 or 1, so the positivity assumption fails and inverse-probability "
            "weights are infinite. Remove or merge these covariates, or restrict the patients to those "
            "who could have had either treatment")
    res = sm.GLM(tr.astype(float), Z, family=sm.families.Binomial()).fit(tol=_GLM_TOL, maxiter=_GLM_MAX_ITER)
    if not res.converged:  # not reached without separation; kept so that a failure cannot pass silently
        raise ValueError("the propensity model did not converge")
    names = ("Intercept", *terms)
    return PropensityFit(terms=terms, coef=pd.Series(res.params, index=names), se=pd.Series(res.bse, index=names),
                         score=np.asarray(res.fittedvalues, float), treatment=tr, X=X,
                         deviance=float(res.deviance), iterations=int(res.fit_history["iteration"]))


# ----------------------------------------------------------------------------- weights
def balancing_weights(ps: PropensityFit, method: str = "ipw_stabilised") -> np.ndarray:
    """Balancing weights of each patient from a fitted propensity score.

    Parameters
    ----------
    ps : PropensityFit
        From :func:`propensity_score`.
    method : {"ipw_stabilised", "overlap"}
        ``"ipw_stabilised"``: ``P(T=1) / e`` for treated and ``(1 - P(T=1)) / (1 - e)`` for untreated
        patients, ``P(T=1)`` the share treated (the average treatment effect, ATE).
        ``"overlap"``: ``1 - e`` for treated and ``e`` for untreated patients (the average
        treatment effect in the overlap population, ATO).

    Returns
    -------
    numpy.ndarray
        One weight > 0 per patient, original row order.

    References
    ----------
    Robins JM, Hernan MA, Brumback B. Epidemiology 2000;11:550-560.
    Li F, Morgan KL, Zaslavsky AM. J Am Stat Assoc 2018;113:390-400.
    """
    if not isinstance(ps, PropensityFit):
        raise ValueError("expected a PropensityFit from propensity_score()")
    tr, e = ps.treatment, ps.score
    if method == "ipw_stabilised":
        p1 = tr.mean()
        return np.where(tr == 1, p1 / e, (1.0 - p1) / (1.0 - e))
    if method == "overlap":
        return np.where(tr == 1, 1.0 - e, e)
    raise ValueError(f"unknown weighting {method!r}: expected one of {list(WEIGHT_METHODS)}")


def effective_sample_size(treatment, weights) -> dict[str, float]:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` of each arm.

    Parameters
    ----------
    treatment : array-like
        0/1, 1 = treated.
    weights : array-like
        One weight > 0 per patient.

    Returns
    -------
    dict
        ``{"treated": ..., "untreated": ...}``; equal to the arm sizes with equal weights.

    References
    ----------
    Kish L. Survey Sampling. Wiley, 1965.
    """
    tr = _check_treatment(treatment)
    w = check_weights(weights, tr.size)
    out = {}
    for key, arm in (("treated", 1), ("untreated", 0)):
        wa = w[tr == arm]
        out[key] = float(wa.sum() ** 2 / (wa ** 2).sum())
    return out


def balance_table(treatment, covariates: pd.DataFrame, weights=None) -> pd.DataFrame:
    """Standardised mean differences of covariates between the arms, before and after weighting.

    Parameters
    ----------
    treatment : array-like
        0/1, 1 = treated.
    covariates : pandas.DataFrame or array-like, shape (n, p)
        Numeric covariates; a column holding only 0 and 1 is binary.
    weights : array-like, optional
        One weight > 0 per patient (e.g. :func:`balancing_weights`); without it only the
        unweighted columns are given.

    Returns
    -------
    pandas.DataFrame
        One row per covariate: ``term``, ``binary``, ``mean_treated``, ``mean_untreated`` and
        ``smd`` (unweighted), ``sd_pooled`` (the denominator, from the unweighted arms:
        ``sqrt((s1^2 + s0^2) / 2)``, ``s^2`` the sample variance, or ``p (1 - p)`` for a binary
        covariate), and with weights ``mean_treated_w``, ``mean_untreated_w`` (weighted means
        ``sum w x / sum w`` within each arm) and ``smd_w``. SMD = (treated - untreated) / sd_pooled.

    Raises
    ------
    ValueError
        Invalid treatment, covariates or weights; a covariate constant within both arms (its SMD
        has no denominator) is reported by :func:`dmnpc.stats.cox.design_array` as constant, or here.

    References
    ----------
    Austin PC. Stat Med 2009;28:3083-3107.
    Austin PC, Stuart EA. Stat Med 2015;34:3661-3679.
    """
    tr = _check_treatment(treatment)
    X, terms = design_array(covariates, tr.size)
    w = None if weights is None else check_weights(weights, tr.size)
    t1, t0 = tr == 1, tr == 0
    rows = []
    for j, term in enumerate(terms):
        x = X[:, j]
        binary = bool(np.isin(x, (0.0, 1.0)).all())
        m1, m0 = x[t1].mean(), x[t0].mean()
        if binary:
            v1, v0 = m1 * (1 - m1), m0 * (1 - m0)
        else:
            v1 = x[t1].var(ddof=1) if t1.sum() > 1 else 0.0
            v0 = x[t0].var(ddof=1) if t0.sum() > 1 else 0.0
        sd = float(np.sqrt((v1 + v0) / 2.0))
        if sd == 0.0:
            raise ValueError(f"covariate {term!r} does not vary within either arm: its SMD is not defined")
        row = {"term": term, "binary": binary, "mean_treated": float(m1), "mean_untreated": float(m0),
               "sd_pooled": sd, "smd": float((m1 - m0) / sd)}
        if w is not None:
            mw1 = float(np.sum(w[t1] * x[t1]) / w[t1].sum())
            mw0 = float(np.sum(w[t0] * x[t0]) / w[t0].sum())
            row.update(mean_treated_w=mw1, mean_untreated_w=mw0, smd_w=(mw1 - mw0) / sd)
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- outcome
def weighted_hr(time, event, treatment, weights, conf_level: float = 0.95) -> dict[str, float]:
    """Weighted hazard ratio of no treatment vs treatment, with the robust (sandwich) variance.

    ``coxph(Surv(time, event) ~ untreated, weights = w, robust = TRUE)`` (Efron ties), through
    :func:`dmnpc.stats.cox.fit_cox`.

    Parameters
    ----------
    time, event : array-like
        Follow-up times and 0/1 event indicators.
    treatment : array-like
        0/1, 1 = treated.
    weights : array-like
        One weight > 0 per patient (e.g. :func:`balancing_weights`).
    conf_level : float, default 0.95

    Returns
    -------
    dict
        ``coef``, ``se`` (robust), ``naive_se`` (model-based), ``hr``, ``lower``, ``upper``
        (robust Wald interval), ``z``, ``p`` (robust Wald), ``n``, ``n_events``,
        ``ess_treated``, ``ess_untreated`` (Kish), as Python floats.

    Raises
    ------
    ValueError
        Invalid inputs; no events in one arm (the hazard ratio is infinite).

    References
    ----------
    Lin DY, Wei LJ. J Am Stat Assoc 1989;84:1074-1078.
    Austin PC. Stat Med 2016;35:5642-5655.
    """
    t, e = check_time_event(time, event, require_events=True)
    tr = _check_treatment(treatment, t.size)
    for arm, name in ((1, "treated"), (0, "untreated")):
        if e[tr == arm].sum() == 0:
            raise ValueError(f"no events among the {name} patients: the hazard ratio is not estimable (infinite)")
    fit = fit_cox(t, e, pd.DataFrame({"untreated": (1 - tr).astype(float)}), weights=weights, robust=True,
                  conf_level=conf_level)
    row = fit.summary.iloc[0]
    out = {k: float(row[k]) for k in ("coef", "se", "naive_se", "hr", "lower", "upper", "z", "p")}
    ess = effective_sample_size(tr, weights)
    out.update(n=float(fit.n), n_events=float(fit.n_events), ess_treated=ess["treated"],
               ess_untreated=ess["untreated"])
    return out
