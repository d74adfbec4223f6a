"""Ridge-penalised Cox regression with the penalty chosen by cross-validated partial likelihood.

:func:`ridge_cv` chooses the ridge penalty ``theta`` of
:func:`dmnpc.stats.validation.ridge_cox` (survival's ``ridge()``: maximise
``l(beta) - theta * sum(beta^2) / 2``, ``l`` the Efron log partial likelihood) by maximising the
leave-one-out cross-validated partial log-likelihood of Verweij & van Houwelingen (1993),

.. math:: \\mathrm{cvl}(\\theta) = \\sum_{i=1}^n \\left[ l\\bigl(\\hat\\beta_{(-i)}(\\theta)\\bigr)
          - l_{(-i)}\\bigl(\\hat\\beta_{(-i)}(\\theta)\\bigr) \\right],

where :math:`\\hat\\beta_{(-i)}(\\theta)` is the ridge fit without patient ``i``, ``l`` the
partial log-likelihood of all patients and :math:`l_{(-i)}` that without patient ``i``: the
difference is patient ``i``'s contribution to the likelihood, given the fit it took no part in
(unlike the naive ``l_i``, it is well defined for the Cox model, whose terms share risk sets).
Leaving one out is deterministic (no fold seed) and, with the engine's batched fits, cheap: the
``n`` fits of one ``theta`` are one batched Newton-Raphson (:mod:`dmnpc.stats._engine`, with
frequency weight 0 for the patient left out, which is exactly removing that row, tied deaths
included), a fraction of a second for 90 patients and 10 terms over the default grid.

Which penalty. ``scale=True`` (the default) divides every column by its standard deviation (full
data, ``n - 1`` denominator) before penalising and returns the coefficients on the original
scale: the penalty is ``theta / 2 * sum_j var(x_j) beta_j^2``, survival's
``ridge(..., scale = TRUE)`` (its default). Without scaling (``scale=False``, survival's
``ridge(..., scale = FALSE)``, :func:`~dmnpc.stats.validation.ridge_cox` as is) the shrinkage of a
coefficient depends on the unit of its variable (age in years is barely shrunk, a 0/1 indicator
is), so a choice of units would be a hidden choice of prior; standardising makes the penalty
unit-free and treats the spline columns and the indicators alike. The standard deviations are
those of all patients and stay fixed across the left-out fits, so every ``beta_(-i)(theta)``
maximises its likelihood minus one and the same penalty function, as in Verweij & van
Houwelingen's definition (survival's ``scale = TRUE`` would recompute them in each fit; the
difference is of order 1/n).

Compared with ``glmnet::cv.glmnet(family = "cox", alpha = 0)``: glmnet minimises
``-l(beta) / N + lambda * sum(beta^2) / 2`` (so ``theta = N * lambda``), standardises with the
``1/N`` variance and, in glmnet 4.1, handles ties by Breslow's approximation (Efron here and in
``coxph``); ``cv.glmnet`` uses random K-fold splits (default 10, so ``lambda.min`` changes with
the seed) and its "deviance" with ``grouped = TRUE`` is ``-2`` times the K-fold version of the same
cvl, divided by the patients' weights, over its own lambda path. The criterion is the same idea;
the numbers are not comparable without converting all four.

Agreement with an R loop of ``coxph(ridge(..., theta, scale = FALSE))`` over the same grid is
tested in ``tests/stats/test_penalised.py`` against ``tests/reference/ref_penalised.R``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dmnpc.stats import _engine as cf
from dmnpc.stats._validate import check_time_event
from dmnpc.stats.cox import design_array
from dmnpc.stats.validation import ridge_cox

__all__ = ["DEFAULT_GRID", "RidgeCV", "cv_loglik", "ridge_cv"]

#: 0.01 to 1000, four values a decade: from almost no shrinkage to almost all, on standardised columns
#: (the information about one standardised coefficient is of the order of the number of events / 4).
DEFAULT_GRID = 10.0 ** (np.arange(-8, 13) / 4)
#: Left-out fits done in one batch (bounds the memory of the batched engine to O(chunk * n * p)).
_CHUNK = 256


@dataclass(frozen=True, eq=False)
class RidgeCV:
    """The cross-validated ridge penalty and the ridge fit at it.

    Attributes
    ----------
    theta : float
        The grid value with the largest cvl (the smallest such value if several tie).
    grid, cvl : numpy.ndarray
        The penalties tried (increasing) and their cross-validated partial log-likelihoods.
    coef : numpy.ndarray
        Ridge coefficients at ``theta`` on all patients, on the scale of the original columns.
    loglik : float
        Unpenalised partial log-likelihood of ``coef``.
    terms : tuple of str
    scale : numpy.ndarray
        What each column was divided by before penalising (its SD; ones when ``scale=False``).
    at_boundary : bool
        The maximum is at the first or last grid value: widen the grid before trusting ``theta``.
    n, n_events : int
    """

    theta: float
    grid: np.ndarray
    cvl: np.ndarray
    coef: np.ndarray
    loglik: float
    terms: tuple[str, ...]
    scale: np.ndarray
    at_boundary: bool
    n: int
    n_events: int
    X: np.ndarray = field(repr=False)

    @property
    def table(self) -> pd.DataFrame:
        """The cvl curve: ``theta``, ``cvl``."""
        return pd.DataFrame({"theta": self.grid, "cvl": self.cvl})

    @property
    def summary(self) -> pd.DataFrame:
        """One row per term: ``term``, ``coef``, ``hr``."""
        return pd.DataFrame({"term": list(self.terms), "coef": self.coef, "hr": np.exp(self.coef)})

    def linear_predictor(self, X=None) -> np.ndarray:
        """``(x - mean) @ coef`` (centred at the fitting data's column means, as ``predict(coxph)``)."""
        Xa = self.X if X is None else np.asarray(X, dtype=float)
        return (Xa - self.X.mean(axis=0)) @ self.coef


def _prepare(time, event, X, scale: bool):
    t, e = check_time_event(time, event, require_events=True)
    if e.sum() < 2:
        raise ValueError("cross-validation needs at least 2 events: leaving the only event out leaves "
                         "nothing to fit")
    Xa, terms = design_array(X, t.size)
    s = Xa.std(axis=0, ddof=1) if scale else np.ones(Xa.shape[1])
    return t, e, Xa, terms, s


def _check_grid(thetas) -> np.ndarray:
    g = np.atleast_1d(np.asarray(thetas, dtype=float)).ravel()
    if g.size == 0 or not np.isfinite(g).all() or (g <= 0).any():
        raise ValueError("the penalty grid must hold positive finite numbers")
    return g


def _cvl(t, e, Z, thetas) -> np.ndarray:
    """cvl of each theta for the (already scaled) design Z: leave-one-out, batched."""
    n = t.size
    lay = cf.layout(t, e)
    out = np.zeros(thetas.size)
    for s in range(0, n, _CHUNK):
        rows = np.arange(s, min(n, s + _CHUNK))
        W = np.ones((rows.size, n))
        W[np.arange(rows.size), rows] = 0.0  # replicate k leaves patient rows[k] out
        for j, th in enumerate(thetas):
            B = ridge_cox(t, e, Z, th, weights=W)
            out[j] += np.sum(cf.loglik_at(lay, Z, B) - cf.loglik_at(lay, Z, B, W))
    return out


def cv_loglik(time, event, X, thetas, *, scale: bool = True) -> np.ndarray:
    """Leave-one-out cross-validated partial log-likelihood of ridge Cox fits (Verweij & van Houwelingen).

    Parameters
    ----------
    time, event : array-like
        Follow-up times and 0/1 event indicators (at least 2 events).
    X : pandas.DataFrame or array-like, shape (n, p)
        Numeric predictors (e.g. the expanded design of :func:`dmnpc.stats.splines.rcs_design`).
    thetas : array-like
        Positive penalties.
    scale : bool, default True
        Penalise standardised columns (see the module docstring).

    Returns
    -------
    numpy.ndarray
        ``cvl(theta)`` for each value of ``thetas``, in their order.

    References
    ----------
    Verweij PJM, van Houwelingen HC. Cross-validation in survival analysis. Stat Med
    1993;12:2305-2314.
    """
    t, e, Xa, _, s = _prepare(time, event, X, scale)
    return _cvl(t, e, Xa / s, _check_grid(thetas))


def ridge_cv(time, event, X, thetas=None, *, scale: bool = True) -> RidgeCV:
    """Choose the ridge penalty by leave-one-out cross-validated partial likelihood; refit at it.

    Parameters
    ----------
    time, event : array-like
        Follow-up times and 0/1 event indicators (at least 2 events).
    X : pandas.DataFrame or array-like, shape (n, p)
        Numeric predictors.
    thetas : array-like, optional
        Penalties to try (sorted and de-duplicated); default :data:`DEFAULT_GRID`
        (``10 ** (k / 4)``, ``k = -8..12``: 0.01 to 1000).
    scale : bool, default True
        ``True``: penalty ``theta/2 * sum_j var(x_j) beta_j^2`` (columns standardised by their SD
        over all patients, fixed across the left-out fits; the final fit equals
        ``coxph(ridge(..., theta, scale = TRUE))``); ``False``: ``theta/2 * sum_j beta_j^2`` on the
        columns as given (``ridge(..., scale = FALSE)``). See the module docstring for why scaling.

    Returns
    -------
    RidgeCV
        ``theta`` maximises cvl over the grid (first maximum); ``at_boundary`` says if it is an end.

    Raises
    ------
    ValueError
        Invalid survival data, fewer than 2 events, an invalid design (see
        :func:`dmnpc.stats.cox.design_array`) or an invalid grid.

    References
    ----------
    Verweij PJM, van Houwelingen HC. Cross-validation in survival analysis. Stat Med
    1993;12:2305-2314.
    Verweij PJM, van Houwelingen HC. Penalized likelihood in Cox regression. Stat Med
    1994;13:2427-2436.
    """
    t, e, Xa, terms, s = _prepare(time, event, X, scale)
    grid = np.unique(_check_grid(DEFAULT_GRID if thetas is None else thetas))
    Z = Xa / s
    cvl = _cvl(t, e, Z, grid)
    k = int(np.argmax(cvl))
    theta = float(grid[k])
    coef = ridge_cox(t, e, Z, theta) / s
    loglik = float(cf.loglik_at(cf.layout(t, e), Xa, coef[None])[0])
    return RidgeCV(theta=theta, grid=grid, cvl=cvl, coef=coef, loglik=loglik, terms=terms, scale=s,
                   at_boundary=grid.size > 1 and k in (0, grid.size - 1), n=int(t.size), n_events=int(e.sum()),
                   X=Xa)
