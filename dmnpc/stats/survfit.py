"""Predicted survival of a new patient with its confidence interval, as ``survival::survfit.coxph``.

What this adds: :meth:`dmnpc.stats.cox.CoxFit.predict_survival` gives the point prediction
``S(t | x) = exp(-H0(t) exp(lp))``; no Python library gives its standard error the way R does
for a new covariate vector. ``survfit(coxph_fit, newdata = x)`` estimates the variance of the
cumulative hazard ``H(t | x) = H0(t) r``, ``r = exp(lp)``, ``lp = (x - x̄)' beta``, as the sum of
two terms (Tsiatis 1981; Therneau & Grambsch 2000, sec. 10.2; survival's ``agsurv`` and
``survfitcoxph.fit``):

.. math::

   \\operatorname{Var} H(t \\mid x) = r^2 \\Big[ \\underbrace{\\sum_{t_k \\le t} v_k}_{\\text{baseline hazard}}
   + d(t)' V d(t) \\Big], \\qquad d(t) = H_0(t) (x - \\bar x) - \\sum_{t_k \\le t} \\bar x_k h_k^{(2)},

``V`` the model's variance of ``beta``; over the event times ``t_k`` with ``d_k`` deaths, risk-set
sum ``R_k = sum exp(lp)``, death sum ``E_k``, and covariate sums ``S_k = sum exp(lp) (x - x̄)``
over the risk set and ``D_k`` over the deaths, the increments are, with Efron's correction for
tied deaths (``ctype = 2``, ``survfit.coxph``'s default after a ``ties = "efron"`` fit), summing
over ``j = 0 .. d_k - 1`` with ``c = j / d_k``:

* hazard ``h_k = sum_j 1 / (R_k - c E_k)``;
* variance ``v_k = sum_j 1 / (R_k - c E_k)^2``;
* covariate term ``sum_j (S_k - c D_k) / (R_k - c E_k)^2``;

and without the correction (``ctype = 1``, Breslow / Nelson-Aalen type) ``d_k / R_k``,
``d_k / R_k^2`` and ``d_k S_k / R_k^2``. Both equal ``survfit``'s when no deaths are tied.
The standard error of ``log S(t | x) = -H(t | x)`` is ``sqrt(Var H)`` and the default ("log")
interval is ``S exp(-/+ z se)``, its upper limit capped at 1 (``survfit``'s ``conf.type = "log"``).

:func:`survfit_basis` computes the step functions once (they do not depend on the new patient);
:func:`predict_survfit` evaluates them for new patients, and :meth:`SurvfitBasis.to_dict` writes
them as plain lists, so that a calculator elsewhere (the book's JavaScript one) reproduces the
intervals from them alone. Agreement with R is tested in ``tests/stats/test_survfit.py`` against
``tests/reference/ref_calculator.R``.

References
----------
Tsiatis AA. A large sample study of Cox's regression model. Ann Stat 1981;9:93-108.
Therneau TM, Grambsch PM. Modeling Survival Data: Extending the Cox Model. Springer 2000, sec. 10.2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dmnpc.stats._validate import check_conf_level, z_value
from dmnpc.stats.cox import CoxFit

__all__ = ["SurvfitBasis", "survfit_basis", "predict_survfit", "step_index", "TIME_TOL"]

#: A prediction time within this of an event time counts as at it (as ``rms``' ``survest`` and
#: :meth:`CoxFit.predict_survival`): the step functions are right-continuous.
TIME_TOL = 1e-6


@dataclass(frozen=True, eq=False)
class SurvfitBasis:
    """The step functions behind ``survfit.coxph``'s predictions, at each distinct event time.

    Attributes
    ----------
    terms : tuple of str
    coef, means : numpy.ndarray
        Coefficients and the covariate means of the fitting data (the centring).
    vcov : numpy.ndarray
        Variance of the coefficients (the model-based one of the fit).
    time : numpy.ndarray
        Distinct event times, increasing.
    cumhaz : numpy.ndarray
        Baseline cumulative hazard ``H0`` at the covariate means.
    varhaz : numpy.ndarray
        Cumulative baseline-hazard variance term ``sum v_k``.
    xbar : numpy.ndarray, shape (times, terms)
        Cumulative covariate term ``sum_k`` (see the module docstring), centred covariates.
    ctype : {'efron', 'breslow'}
    """

    terms: tuple[str, ...]
    coef: np.ndarray
    means: np.ndarray
    vcov: np.ndarray
    time: np.ndarray
    cumhaz: np.ndarray
    varhaz: np.ndarray
    xbar: np.ndarray
    ctype: str

    def at(self, t: float) -> tuple[float, float, np.ndarray]:
        """``(H0, sum v, xbar)`` at time ``t`` (right-continuous; zeros before the first event)."""
        k = step_index(self.time, t)
        if k < 0:
            return 0.0, 0.0, np.zeros(len(self.terms))
        return float(self.cumhaz[k]), float(self.varhaz[k]), self.xbar[k]

    def to_dict(self) -> dict:
        """Plain JSON-ready lists: ``time``, ``cumhaz``, ``varhaz``, ``xbar`` (one list per time), ``ctype``."""
        return {"ctype": self.ctype, "time": [float(v) for v in self.time],
                "cumhaz": [float(v) for v in self.cumhaz], "varhaz": [float(v) for v in self.varhaz],
                "xbar": [[float(v) for v in row] for row in self.xbar]}


def step_index(times: np.ndarray, t: float) -> int:
    """Index of the last of the increasing ``times`` at or before ``t`` (within :data:`TIME_TOL`); -1 if none."""
    return int(np.searchsorted(np.asarray(times, float), float(t) + TIME_TOL, side="right")) - 1


def survfit_basis(fit: CoxFit, ctype: str = "efron") -> SurvfitBasis:
    """The baseline step functions of ``survfit(fit)`` and of its variance (see the module docstring).

    Parameters
    ----------
    fit : CoxFit
        A converged, unstratified, unweighted fit from :func:`dmnpc.stats.cox.fit_cox` (Efron ties).
    ctype : {'efron', 'breslow'}
        ``'efron'``: ``survfit.coxph``'s default after an Efron fit (``ctype = 2``); ``'breslow'``:
        ``ctype = 1``.

    Raises
    ------
    ValueError
        For a fit that did not converge, a stratified or weighted fit, an unknown ``ctype``.
    """
    if not isinstance(fit, CoxFit):
        raise ValueError("survfit_basis takes a fitted model from dmnpc.stats.cox.fit_cox")
    fit._unstratified("A predicted survival curve")
    if not fit.converged or not np.all(np.isfinite(fit.coef)) or not np.all(np.isfinite(fit.vcov)):
        raise ValueError("the Cox model has non-finite coefficients or variance: no survival curve can be predicted")
    if ctype not in ("efron", "breslow"):
        raise ValueError(f"ctype must be 'efron' or 'breslow', got {ctype!r}")
    Xc = fit.X - fit.means
    risk = np.exp(Xc @ fit.coef)
    t, e = fit.time, fit.event.astype(bool)
    etimes = np.unique(t[e])
    p = Xc.shape[1]
    haz = np.empty(etimes.size)
    var = np.empty(etimes.size)
    xb = np.empty((etimes.size, p))
    for k, tk in enumerate(etimes):
        at_risk = t >= tk
        dead = e & (t == tk)
        d = int(dead.sum())
        R = risk[at_risk].sum()
        S = risk[at_risk] @ Xc[at_risk]
        if ctype == "breslow":
            haz[k], var[k], xb[k] = d / R, d / R ** 2, d * S / R ** 2
            continue
        E = risk[dead].sum()
        D = risk[dead] @ Xc[dead]
        c = np.arange(d) / d
        den = R - c * E
        haz[k] = np.sum(1.0 / den)
        var[k] = np.sum(1.0 / den ** 2)
        xb[k] = np.sum((S[None, :] - c[:, None] * D[None, :]) / den[:, None] ** 2, axis=0)
    return SurvfitBasis(terms=fit.terms, coef=np.asarray(fit.coef, float), means=fit.means, vcov=fit.vcov,
                        time=etimes, cumhaz=np.cumsum(haz), varhaz=np.cumsum(var), xbar=np.cumsum(xb, axis=0),
                        ctype=ctype)


def predict_survfit(basis: SurvfitBasis | CoxFit, X, times: Sequence[float] | float,
                    conf_level: float = 0.95) -> pd.DataFrame:
    """Predicted survival, its standard error and log-type confidence interval for new patients.

    Parameters
    ----------
    basis : SurvfitBasis or CoxFit
        From :func:`survfit_basis` (a fit is turned into its Efron basis).
    X : pandas.DataFrame or array-like, shape (patients, terms)
        Covariates of the new patients (raw, not centred), in the model's terms.
    times : float or sequence of float
        Prediction times; the step functions are read at the last event time at or before each.
    conf_level : float

    Returns
    -------
    pandas.DataFrame
        One row per patient and time: ``patient`` (row number), ``time``, ``lp`` (centred),
        ``cumhaz``, ``surv``, ``std_err`` (of ``log S``, ``survfit``'s ``std.err``), ``lower``,
        ``upper``.
    """
    if isinstance(basis, CoxFit):
        basis = survfit_basis(basis)
    conf_level = check_conf_level(conf_level)
    if isinstance(X, pd.DataFrame):
        missing = [t for t in basis.terms if t not in X.columns]
        if missing:
            raise ValueError(f"the new patients lack the model term(s) {missing}")
        X = X[list(basis.terms)]
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim == 1:
        Xa = Xa[None, :]
    if Xa.ndim != 2 or Xa.shape[1] != len(basis.terms) or not np.isfinite(Xa).all():
        raise ValueError(f"new patients need finite values for the {len(basis.terms)} model terms {list(basis.terms)}")
    ts = np.atleast_1d(np.asarray(times, dtype=float))
    z = z_value(conf_level)
    rows = []
    for i, x in enumerate(Xa):
        xc = x - basis.means
        lp = float(xc @ basis.coef)
        r = np.exp(lp)
        for t in ts:
            H0, v0, xbar = basis.at(t)
            dvec = H0 * xc - xbar
            var = r ** 2 * (v0 + float(dvec @ basis.vcov @ dvec))
            se = float(np.sqrt(max(var, 0.0)))
            H = H0 * r
            s = float(np.exp(-H))
            rows.append((i, float(t), lp, H, s, se, float(np.exp(-H - z * se)), float(min(1.0, np.exp(-H + z * se)))))
    return pd.DataFrame(rows, columns=["patient", "time", "lp", "cumhaz", "surv", "std_err", "lower", "upper"])
