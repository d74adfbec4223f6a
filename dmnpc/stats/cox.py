"""Cox proportional hazards models: fit, global tests, univariable screen, PH test, forest plot.

The fitted model is a lifelines :class:`~lifelines.CoxPHFitter` (Efron's
method for tied event times, as R's ``coxph`` default), wrapped in a frozen
:class:`CoxFit` with a tidy summary and the three global tests R prints
(likelihood ratio, Wald, score). The score test, the proportional-hazards
test (:func:`ph_test`, equal to ``survival::cox.zph`` of survival >= 3.0)
and the checks of the fit use an Efron partial-likelihood routine written
here from the formulas (Efron 1977; Therneau & Grambsch 2000, ch. 3 and 6).

Agreement with R (survival 3.5.3) is tested in ``tests/test_cox.py`` against
``tests/reference/ref_cox.R``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from lifelines.exceptions import ConvergenceError

from dmnpc.stats.km import km_left

__all__ = ["CoxFit", "MonotoneLikelihoodError", "fit_cox", "univariable_screen", "ph_test",
           "efron_score_information"]


class MonotoneLikelihoodError(ValueError):
    """The partial likelihood has no finite maximum (e.g. a predictor level with no events)."""


# ----------------------------------------------------------------------------- checkers
def _check_time_event_columns(data: pd.DataFrame, duration_col: str, event_col: str) -> None:
    for c in (duration_col, event_col):
        if c not in data.columns:
            raise ValueError(f"column {c!r} not found in the data: expected the follow-up time "
                             "and event columns to be present")


def _check_cox_data(data: pd.DataFrame, duration_col: str, event_col: str) -> list[str]:
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame with one row per patient")
    if len(data) == 0:
        raise ValueError("no patients: the data are empty")
    _check_time_event_columns(data, duration_col, event_col)
    covs = [c for c in data.columns if c not in (duration_col, event_col)]
    if not covs:
        raise ValueError("no predictors: the data hold only the time and event columns")
    for c in covs:
        if not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]):
            raise ValueError(f"predictor {c!r} is not numeric: use 0/1 design columns "
                             "(dmnpc.paper.variables.design_matrix)")
    miss = [c for c in data.columns if data[c].isna().any()]
    if miss:
        raise ValueError(f"missing values in {miss}: fit_cox does not drop patients silently; "
                         "select complete cases first (univariable_screen does and reports n)")
    t = data[duration_col].to_numpy(float)
    e = data[event_col].to_numpy(float)
    if (t < 0).any() or not np.isfinite(t).all():
        raise ValueError("follow-up times must be finite and >= 0")
    if not np.isin(e, (0.0, 1.0)).all():
        raise ValueError(f"event column {event_col!r} must be 0 (censored) or 1 (event)")
    if e.sum() == 0:
        raise ValueError("no events: a Cox model needs at least one observed event")
    const = [c for c in covs if data[c].nunique() < 2]
    if const:
        raise ValueError(f"predictor(s) {const} have the same value for every patient: "
                         "their hazard ratio cannot be estimated")
    return covs


def _check_conf_level(conf_level: float) -> float:
    if not (0.0 < float(conf_level) < 1.0):
        raise ValueError(f"conf_level must be between 0 and 1 (e.g. 0.95), got {conf_level}")
    return float(conf_level)


# ----------------------------------------------------------------------------- Efron engine
def _efron_terms(time: np.ndarray, event: np.ndarray, X: np.ndarray, beta: np.ndarray):
    """Per distinct event time: log-likelihood term, score (Schoenfeld sum) and information."""
    eta = X @ beta
    w = np.exp(eta - eta.max())  # scale-free: a common factor cancels in every ratio
    shift = eta.max()
    order = np.argsort(-time, kind="mergesort")
    t_s, e_s, X_s, w_s, eta_s = time[order], event[order], X[order], w[order], eta[order]
    p = X.shape[1]
    # cumulative sums over the risk set (times >= u) via descending order
    cw = np.cumsum(w_s)
    cwx = np.cumsum(w_s[:, None] * X_s, axis=0)
    cwxx = np.cumsum(w_s[:, None, None] * X_s[:, :, None] * X_s[:, None, :], axis=0)
    ut = np.unique(time[event == 1])
    # index of the last row (in descending order) with time >= u
    last = np.searchsorted(-t_s, -ut, side="right") - 1
    ll = np.zeros(ut.size)
    score = np.zeros((ut.size, p))
    info = np.zeros((ut.size, p, p))
    for j, (u, li) in enumerate(zip(ut, last)):
        S0, S1, S2 = cw[li], cwx[li], cwxx[li]
        dmask = (t_s == u) & (e_s == 1)
        d = int(dmask.sum())
        wd = w_s[dmask]
        D0, D1 = wd.sum(), wd @ X_s[dmask]
        D2 = np.einsum("i,ij,ik->jk", wd, X_s[dmask], X_s[dmask])
        ll[j] = eta_s[dmask].sum()
        sc = X_s[dmask].sum(axis=0)
        inf = np.zeros((p, p))
        for k in range(d):
            f = k / d
            s0 = S0 - f * D0
            s1 = S1 - f * D1
            s2 = S2 - f * D2
            xb = s1 / s0
            ll[j] -= np.log(s0) + shift
            sc = sc - xb
            inf += s2 / s0 - np.outer(xb, xb)
        score[j] = sc
        info[j] = inf
    return ut, ll, score, info


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
    _, ll, sc, inf = _efron_terms(t, e, Xa, np.asarray(beta, float).reshape(-1))
    return float(ll.sum()), sc.sum(axis=0), inf.sum(axis=0)


# ----------------------------------------------------------------------------- fit
def _polish(t, e, X, beta, max_iter: int = 25) -> np.ndarray | None:
    """Newton-Raphson on the Efron log-likelihood from ``beta``; None if it does not settle."""
    b = np.array(beta, dtype=float)
    ll_old = efron_score_information(t, e, X, b)[0]
    for _ in range(max_iter):
        ll, u, info = efron_score_information(t, e, X, b)
        try:
            step = np.linalg.solve(info, u)
        except np.linalg.LinAlgError:
            return None
        # step halving, as coxph: a full Newton step can overshoot far from the maximum
        for _halving in range(30):
            b_new = b + step
            ll_new = (efron_score_information(t, e, X, b_new)[0] if np.all(np.isfinite(b_new))
                      else -np.inf)
            if np.isfinite(ll_new) and ll_new >= ll_old - 1e-9 * abs(ll_old):
                break
            step = step / 2.0
        else:
            return None
        b, ll_old = b_new, ll_new
        if np.max(np.abs(step) / (1.0 + np.abs(b))) < 1e-13:
            return b
    return b if np.max(np.abs(step) / (1.0 + np.abs(b))) < 1e-8 else None


@dataclass(frozen=True)
class CoxFit:
    """A fitted Cox model (Efron ties).

    Attributes
    ----------
    model : lifelines.CoxPHFitter
        The fitted lifelines model (the project's common currency).
    summary : pandas.DataFrame
        One row per term: ``term``, ``coef``, ``se``, ``hr``, ``lower``, ``upper``
        (Wald interval for the HR at ``conf_level``), ``z``, ``p``.
    lr_test, wald_test, score_test : dict
        Global tests ``{"chisq", "df", "p"}`` as printed by ``summary(coxph)``.
    loglik, loglik_null : float
        Partial log-likelihood at the estimate and at beta = 0.
    n, n_events : int
        Patients and events used.
    conf_level : float
    duration_col, event_col : str
    data : pandas.DataFrame
        The data the model was fitted on (needed by :func:`ph_test`).
    converged : bool
        False when Newton-Raphson did not settle at a finite maximum, typically
        monotone likelihood (a level with no events): its HR is then meaningless.
    """

    model: object
    summary: pd.DataFrame
    lr_test: dict
    wald_test: dict
    score_test: dict
    loglik: float
    loglik_null: float
    n: int
    n_events: int
    conf_level: float
    duration_col: str
    event_col: str
    data: pd.DataFrame = field(repr=False)
    converged: bool = True

    @property
    def terms(self) -> list[str]:
        """Names of the model terms, in order."""
        return self.summary["term"].tolist()


def _test(chisq: float, df: int) -> dict:
    return {"chisq": float(chisq), "df": int(df), "p": float(stats.chi2.sf(chisq, df))}


def fit_cox(data: pd.DataFrame, duration_col: str, event_col: str,
            conf_level: float = 0.95) -> CoxFit:
    """Fit a Cox proportional hazards model with Efron's handling of ties.

    Parameters
    ----------
    data : pandas.DataFrame
        Numeric predictors (e.g. 0/1 columns from
        :func:`dmnpc.paper.variables.design_matrix`) plus the duration and event
        columns; every other column is a predictor. No missing values.
    duration_col, event_col : str
        Names of the follow-up time and the 0/1 event columns.
    conf_level : float, default 0.95
        Level of the Wald confidence intervals of the hazard ratios.

    Returns
    -------
    CoxFit
        See :class:`CoxFit`. The Wald test is ``b' I(b) b``; the score test
        is ``U(0)' I(0)^-1 U(0)``; the LR test is ``2 (l(b) - l(0))``, each on
        ``p`` degrees of freedom, as ``coxph``.

    Raises
    ------
    ValueError
        For empty data, missing columns or values, non-numeric or constant
        predictors, invalid times or events, or no events.

    References
    ----------
    Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
    Efron B. The efficiency of Cox's likelihood function for censored data.
    J Am Stat Assoc 1977;72:557-565.
    """
    from lifelines import CoxPHFitter

    conf_level = _check_conf_level(conf_level)
    covs = _check_cox_data(data, duration_col, event_col)
    d = data[covs + [duration_col, event_col]].astype(float).reset_index(drop=True)
    t = d[duration_col].to_numpy(float)
    e = d[event_col].to_numpy(float)
    X = d[covs].to_numpy(float)
    cph = CoxPHFitter(alpha=1.0 - conf_level)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cph.fit(d, duration_col=duration_col, event_col=event_col)
        except ConvergenceError as err:
            # lifelines' Newton steps can overshoot on a rare binary level (e.g. one patient);
            # restart it at the maximum found by step-halving Newton-Raphson, as coxph does.
            start = _polish(t, e, X, np.zeros(len(covs)), max_iter=100)
            if start is None:
                raise MonotoneLikelihoodError(
                    f"the Cox model with {covs} has no finite maximum (monotone likelihood): a "
                    "predictor level without events, or predictors that separate the events "
                    "perfectly; its hazard ratios are not estimable") from err
            cph = CoxPHFitter(alpha=1.0 - conf_level)
            cph.fit(d, duration_col=duration_col, event_col=event_col,
                    initial_point=start * d[covs].std(0).to_numpy(float), fit_options={"precision": 1e-9})
    # lifelines stops when the Newton decrement is < 1e-7, which leaves the coefficients up to
    # ~1e-5 (relative) from the maximum. Finish with full Newton steps on the Efron likelihood
    # and hand the result back to lifelines as its starting point, so that `.model` and the
    # summary hold the same, fully converged estimate (R's coxph agrees to ~1e-10).
    beta_hat = _polish(t, e, X, cph.params_.loc[covs].to_numpy(float))
    if beta_hat is not None:
        std = d[covs].std(0).to_numpy(float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cph = CoxPHFitter(alpha=1.0 - conf_level)
            cph.fit(d, duration_col=duration_col, event_col=event_col,
                    initial_point=beta_hat * std, fit_options={"precision": 1e-9})
    beta = cph.params_.loc[covs].to_numpy(float)
    se = cph.standard_errors_.loc[covs].to_numpy(float)
    z = beta / se
    zq = float(stats.norm.ppf(1.0 - (1.0 - conf_level) / 2.0))
    with np.errstate(over="ignore"):
        summary = pd.DataFrame({
            "term": covs, "coef": beta, "se": se, "hr": np.exp(beta),
            "lower": np.exp(beta - zq * se), "upper": np.exp(beta + zq * se),
            "z": z, "p": 2.0 * stats.norm.sf(np.abs(z)),
        })
    ll, _, info = efron_score_information(t, e, X, beta)
    ll0, u0, info0 = efron_score_information(t, e, X, np.zeros(len(covs)))
    p = len(covs)
    return CoxFit(
        model=cph, summary=summary,
        lr_test=_test(2.0 * (ll - ll0), p),
        wald_test=_test(float(beta @ info @ beta), p),
        score_test=_test(float(u0 @ np.linalg.solve(info0, u0)), p),
        loglik=float(ll), loglik_null=float(ll0), n=int(len(d)), n_events=int(e.sum()),
        conf_level=conf_level, duration_col=duration_col, event_col=event_col, data=d,
        converged=beta_hat is not None,
    )


# ----------------------------------------------------------------------------- screen
def univariable_screen(df: pd.DataFrame, duration_col: str, event_col: str,
                       terms: Sequence[str], conf_level: float = 0.95) -> pd.DataFrame:
    """One Cox model per term (univariable analysis), each on its complete cases.

    Parameters
    ----------
    df : pandas.DataFrame
        Either a frame holding the term columns (numeric) and the duration and
        event columns, or a validated cohort: terms that are not columns are
        built with :func:`dmnpc.paper.variables.design_matrix`.
    duration_col, event_col : str
        Follow-up time and 0/1 event columns.
    terms : sequence of str
        Terms to screen.
    conf_level : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        One row per term: ``term``, ``n`` (patients used), ``n_missing``
        (patients dropped because the term is missing, e.g. LDH), ``n_events``,
        ``coef``, ``se``, ``hr``, ``lower``, ``upper``, ``z``, ``p``, ``note``
        (why a term could not be estimated; "" otherwise). Nothing is dropped
        silently: ``n`` and ``n_missing`` say who was used.

    Raises
    ------
    ValueError
        If a term is neither a column nor a known design term, or for invalid
        time/event data.

    References
    ----------
    Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
    """
    if not isinstance(df, pd.DataFrame) or len(df) == 0:
        raise ValueError("no patients: the data are empty")
    if len(terms) == 0:
        raise ValueError("no terms given: expected at least one predictor to screen")
    _check_time_event_columns(df, duration_col, event_col)
    missing_cols = [t for t in terms if t not in df.columns]
    if missing_cols:
        from dmnpc.paper.variables import TERMS, design_matrix

        unknown = [t for t in missing_cols if t not in TERMS]
        if unknown:
            raise ValueError(f"term(s) {unknown} are neither columns of the data nor known design "
                             f"terms: expected some of {list(TERMS)}")
        built = design_matrix(df, missing_cols)
        df = pd.concat([df.drop(columns=[], errors="ignore"), built], axis=1)
    rows = []
    for term in terms:
        sub = df[[term, duration_col, event_col]]
        ok = sub.notna().all(axis=1)
        d = sub[ok]
        row = {"term": term, "n": int(ok.sum()), "n_missing": int((~ok).sum()),
               "n_events": int(d[event_col].sum()), "note": ""}
        if d[term].nunique() < 2:
            row["note"] = "same value for every patient: not estimable"
        elif row["n_events"] == 0:
            row["note"] = "no events among the patients with this variable: not estimable"
        else:
            try:
                fit = fit_cox(d, duration_col, event_col, conf_level=conf_level)
            except MonotoneLikelihoodError:
                row["note"] = ("no finite maximum (monotone likelihood, e.g. a group without "
                               "events): not estimable")
                rows.append(row)
                continue
            row.update(fit.summary.iloc[0].drop("term").to_dict())
            if not fit.converged:
                row["note"] = ("no finite maximum (monotone likelihood, e.g. a group without "
                               "events): hazard ratio not interpretable")
        rows.append(row)
    cols = ["term", "n", "n_missing", "n_events", "coef", "se", "hr", "lower", "upper", "z", "p",
            "note"]
    out = pd.DataFrame(rows).reindex(columns=cols)
    for c in ["coef", "se", "hr", "lower", "upper", "z", "p"]:
        out[c] = out[c].astype(float)
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
    d = fit.data
    t = d[fit.duration_col].to_numpy(float)
    e = d[fit.event_col].to_numpy(float)
    terms = fit.terms
    X = d[terms].to_numpy(float)
    beta = fit.summary["coef"].to_numpy(float)
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
    ut, _, score, info = _efron_terms(t, e, X, beta)
    # every death at a given time has the same g
    g_by_time = pd.Series(g_subject[e == 1], index=t[e == 1]).groupby(level=0).first()
    g = g_by_time.loc[ut].to_numpy(float)
    p = len(terms)
    I11 = info.sum(axis=0)
    I12 = np.einsum("j,jkl->kl", g, info)
    I22 = np.einsum("j,jkl->kl", g ** 2, info)
    imat = np.block([[I11, I12], [I12, I22]])
    u2 = g @ score
    rows = []
    for k, term in enumerate(terms):
        kk = list(range(p)) + [p + k]
        u = np.r_[np.zeros(p), u2[k]]
        chisq = float(u @ np.linalg.solve(imat[np.ix_(kk, kk)], u))
        rows.append((term, chisq, 1))
    u = np.r_[np.zeros(p), u2]
    rows.append(("GLOBAL", float(u @ np.linalg.solve(imat, u)), p))
    out = pd.DataFrame(rows, columns=["term", "chisq", "df"])
    out["p"] = stats.chi2.sf(out["chisq"], out["df"])
    return out
