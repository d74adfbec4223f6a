"""Restricted cubic splines in a Cox model, as ``rms::rcs`` in ``rms::cph``.

* :func:`rcs_knots` -- the default knots of ``Hmisc::rcspline.eval`` (what ``rms::rcs(x, nk)``
  uses): quantiles ``.10 .50 .90`` for 3 knots (``.05 ... .95`` for 4 to 6, ``.025 ... .975``
  for 7 or more), with Hmisc's special rules, all reproduced: fewer than 100 values put the outer
  knots at the 5th smallest and 5th largest value; a variable with a heavy tie at its minimum or
  maximum (at least ``fractied`` = 5 % of the values, while no interior value reaches 5 %) gets
  the next distinct value as outer knot and quantiles of the rest; tied quantiles fall back to
  twice as many quantiles; too few distinct values use the interior distinct values.
* :func:`rcs_basis` -- the basis ``x, x', x'', ...`` of ``rcspline.eval(norm = 2, inclx = TRUE)``:
  each non-linear column divided by ``(t_k - t_1)^2``, so that its coefficient is on the scale
  of ``rms::cph``'s coefficients (they are the same numbers, not just the same fit).
* :func:`rcs_design` -- expand some columns of a data frame as splines and keep the others
  linear, returning the design matrix and an :class:`RcsDesign` that re-expands new data.
* :func:`fit_cox_rcs` -- that design fitted by :func:`dmnpc.stats.cox.fit_cox`, returned as an
  :class:`RcsCoxFit` with the likelihood-ratio chi-square and its df, AIC, Harrell's C and
  :meth:`RcsCoxFit.partial_effect` (``rms::Predict(fit, x = grid, ref.zero = TRUE)``).

Agreement with ``rms`` 6.5.0 / Hmisc 4.8.0 is tested in ``tests/stats/test_splines.py`` against
``tests/reference/ref_splines.R``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dmnpc.stats._validate import _check_finite, z_value
from dmnpc.stats.cox import CoxFit, fit_cox
from dmnpc.stats.discrimination import ConcordanceResult, harrell_c

__all__ = ["rcs_knots", "rcs_basis", "rcs_design", "RcsDesign", "adjust_to", "fit_cox_rcs", "RcsCoxFit"]

#: Hmisc's ``fractied``: a tie at the minimum or maximum holding this share of the values is a knot.
FRACTIED = 0.05


def _r_seq(start: float, stop: float, n: int) -> np.ndarray:
    """R's ``seq(start, stop, length.out = n)``: ``c(start, start + (1:(n-2)) * by, stop)``."""
    if n == 1:
        return np.array([start])
    by = (stop - start) / (n - 1)
    return np.r_[start, start + np.arange(1, n - 1) * by, stop]


def _r_quantile(xs: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """R's ``quantile(x, probs)`` (type 7) of sorted ``xs``, in R's arithmetic."""
    n = xs.size
    index = 1 + (n - 1) * np.asarray(probs, float)
    lo = np.floor(index).astype(int)
    hi = np.ceil(index).astype(int)
    qs = xs[lo - 1].copy()
    h = index - lo
    interp = (index > lo) & (xs[hi - 1] != qs)
    qs[interp] = (1 - h[interp]) * qs[interp] + h[interp] * xs[hi - 1][interp]
    return qs


def rcs_knots(x, nk: int = 5, fractied: float = FRACTIED) -> np.ndarray:
    """Default knots of a restricted cubic spline, as ``Hmisc::rcspline.eval(x, nk = nk)``.

    Parameters
    ----------
    x : array-like
        The variable (finite numbers; at least 6 values).
    nk : int, default 5
        Number of knots requested (``rms::rcs``'s default is 5; 3 is common for small data).
    fractied : float, default 0.05
        Hmisc's rule for a heavy tie at an end: when the most frequent *interior* value holds
        less than this share and the minimum (maximum) holds at least this share, the next
        distinct value above the minimum (below the maximum) becomes the outer knot and the other
        knots are quantiles of the values beyond it. ``0`` switches the rule off.

    Returns
    -------
    numpy.ndarray
        The distinct knots, sorted (possibly fewer than ``nk``, as Hmisc).

    Notes
    -----
    Hmisc's algorithm, step by step (``Hmisc`` 4.8.0): with ``u`` distinct values and
    ``u - 2 <= nk`` the knots are the interior distinct values (with a warning). Otherwise the
    outer quantile is ``.10`` for ``nk = 3``, ``.05`` for 4-6 and ``.025`` for 7 or more; after
    the ``fractied`` rule the knots are the quantiles ``seq(outer, 1 - outer, length = nk')`` of
    the remaining values (R's type-7 quantiles); if fewer than ``min(nk', 3)`` of them are
    distinct, ``2 nk'`` quantiles are used instead; then, when fewer than 100 values remain, the
    first knot is the 5th smallest and the ``nk'``-th the 5th largest of them (the outer knots not
    set by the ``fractied`` rule). Duplicates are dropped at the end.

    Raises
    ------
    ValueError
        Missing or infinite values, fewer than 6 values, ``nk < 3``, or fewer than 3 distinct knots.

    References
    ----------
    Harrell FE. Regression Modeling Strategies, 2nd ed. Springer, 2015, sec. 2.4.6 (knot
    placement, Table 2.3).
    Harrell FE. Hmisc: Harrell Miscellaneous, R package 4.8.0, ``rcspline.eval``.
    """
    xx = np.asarray(x, dtype=float).ravel()
    _check_finite(xx, "the spline variable")
    n = xx.size
    if n < 6:
        raise ValueError(f"a spline needs at least 6 values to place its knots, got {n}")
    if int(nk) != nk or nk < 3:
        raise ValueError(f"a restricted cubic spline needs at least 3 knots, got nk={nk!r}")
    nk = int(nk)
    xu, counts = np.unique(xx, return_counts=True)
    if xu.size - 2 <= nk:
        warnings.warn(f"{nk} knots requested with {xu.size} unique values of x; knots set to the "
                      f"{xu.size - 2} interior values", stacklevel=2)
        knots = xu[1:-1]
    else:
        outer = 0.1 if nk == 3 else (0.025 if nk > 6 else 0.05)
        nke = nk
        first = last = np.empty(0)
        override_first = override_last = False
        if 0 < fractied < 1:
            f = counts / n
            if f[1:-1].max() < fractied:
                if f[0] >= fractied:
                    first = np.array([xx[xx > xx.min()].min()])
                    xx = xx[xx > first[0]]
                    nke -= 1
                    override_first = True
                if f[-1] >= fractied:
                    last = np.array([xx[xx < xx.max()].max()])
                    xx = xx[xx < last[0]]
                    nke -= 1
                    override_last = True
        xs = np.sort(xx)
        if nke == 1:
            knots = np.array([np.median(xs)])
        else:
            probs = _r_seq(0.5, 1 - outer, nke) if nke == 2 else _r_seq(outer, 1 - outer, nke)
            knots = _r_quantile(xs, probs)
            if np.unique(knots).size < min(nke, 3):
                knots = _r_quantile(xs, _r_seq(outer, 1 - outer, 2 * nke))
                if first.size and np.unique(knots).size < 3:
                    mid = (first[0] + last[0]) / 2 if last.size else np.median(xs)
                    knots = np.sort(np.r_[first, mid, last if last.size else _r_quantile(xs, [1 - outer])])
                if np.unique(knots).size < 3:
                    raise ValueError("fewer than 3 distinct knots: the variable takes too few distinct values "
                                     "for a spline")
                warnings.warn(f"could not obtain {nke} interior knots with the default algorithm; used the "
                              f"alternate algorithm to obtain {np.unique(knots).size} knots", stacklevel=2)
            if xs.size < 100:
                knots = knots.copy()
                if not override_first:
                    knots[0] = xs[4]
                if not override_last:
                    knots[nke - 1] = xs[-5]
        knots = np.r_[first, knots, last]
    knots = np.unique(knots)
    if knots.size < 3:
        raise ValueError(f"fewer than 3 distinct knots ({knots.tolist()}): the variable takes too few distinct "
                         "values for a spline")
    return knots


def rcs_basis(x, knots) -> np.ndarray:
    """Restricted cubic spline basis with linear tails, as ``Hmisc::rcspline.eval(norm = 2, inclx = TRUE)``.

    Parameters
    ----------
    x : array-like
        Values at which to evaluate the basis.
    knots : array-like
        ``k >= 3`` increasing knots ``t_1 < ... < t_k``.

    Returns
    -------
    numpy.ndarray, shape (n, k - 1)
        Columns ``x, s_1, ..., s_{k-2}`` with
        ``s_j = [(x - t_j)_+^3 - (x - t_{k-1})_+^3 (t_k - t_j)/(t_k - t_{k-1})
        + (x - t_k)_+^3 (t_{k-1} - t_j)/(t_k - t_{k-1})] / (t_k - t_1)^2``, the columns of
        ``rms::rcs`` (so ``rms::cph``'s coefficients apply to them directly). Each ``s_j`` is 0
        below ``t_1`` and linear above ``t_k``.

    References
    ----------
    Devlin TF, Weeks BJ. Spline functions for logistic regression modeling. Proc 11th Annual
    SAS Users Group International 1986:646-651.
    Harrell FE. Regression Modeling Strategies, 2nd ed. Springer, 2015, sec. 2.4.5.
    """
    x = np.asarray(x, float)
    kn = np.asarray(knots, float)
    k = kn.size
    if k < 3 or not np.all(np.diff(kn) > 0):
        raise ValueError(f"a restricted cubic spline needs at least 3 increasing knots, got {kn.tolist()}")
    t1, tk, tk1 = kn[0], kn[-1], kn[-2]
    kd = (tk - t1) ** (2.0 / 3.0)  # rcspline.eval's norm = 2: (x - t)^3 / kd^3 = (x - t)^3 / (tk - t1)^2
    p3 = lambda z: np.maximum(z / kd, 0.0) ** 3  # noqa: E731
    cols = [x]
    for j in range(k - 2):
        tj = kn[j]
        cols.append(p3(x - tj) + ((tk1 - tj) * p3(x - tk) - (tk - tj) * p3(x - tk1)) / (tk - tk1))
    return np.column_stack(cols)


# ----------------------------------------------------------------------------- design
def adjust_to(x) -> float:
    """The reference ("Adjust to") value of a numeric variable, as ``rms::datadist``.

    The lower value of a variable with 2 distinct values (a 0/1 indicator: 0), the middle one of a
    variable with 3, the median otherwise (rms uses the mode for a factor, which this module does
    not take: code factors as numbers).

    References
    ----------
    Harrell FE. rms: Regression Modeling Strategies, R package 6.5.0, ``datadist``.
    """
    v = np.asarray(x, dtype=float).ravel()
    u = np.unique(v)
    if u.size < 3:
        return float(u[0])
    return float(u[1]) if u.size == 3 else float(np.median(v))


def _spline_names(name: str, k: int) -> tuple[str, ...]:
    return tuple(name + "'" * j for j in range(k - 1))  # rms: age, age', age''


@dataclass(frozen=True, eq=False)
class RcsDesign:
    """How a data frame is expanded into a Cox design: some variables as splines, the rest linear.

    Attributes
    ----------
    variables : tuple of str
        The input columns, in model order.
    knots : dict
        ``{variable: knots}`` for the spline variables (linear variables are absent).
    columns : tuple of str
        The expanded design's column names, rms style: ``age, age', age''`` for a 4-knot spline
        of age, the variable's own name for a linear one.
    reference : dict
        ``{variable: value}``: the value each variable is held at, and the reference of its partial
        effect, ``rms::datadist``'s "Adjust to" for a numeric variable (:func:`adjust_to`).
    """

    variables: tuple[str, ...]
    knots: dict = field(repr=False)
    columns: tuple[str, ...]
    reference: dict = field(repr=False)

    def columns_of(self, variable: str) -> list[int]:
        """Positions in the expanded design of the columns that belong to ``variable``."""
        if variable not in self.variables:
            raise ValueError(f"{variable!r} is not a model variable; the variables are {list(self.variables)}")
        start = 0
        for v in self.variables:
            width = len(self.knots[v]) - 1 if v in self.knots else 1
            if v == variable:
                return list(range(start, start + width))
            start += width
        raise AssertionError("unreachable")  # pragma: no cover

    def expand_variable(self, variable: str, values) -> np.ndarray:
        """The design columns of one variable at ``values``, shape (len(values), width)."""
        self.columns_of(variable)
        v = np.atleast_1d(np.asarray(values, dtype=float))
        _check_finite(v, variable)
        return rcs_basis(v, self.knots[variable]) if variable in self.knots else v[:, None]

    def expand(self, X: pd.DataFrame) -> pd.DataFrame:
        """The expanded design of ``X`` (which needs every model variable), with the fitted knots."""
        if not isinstance(X, pd.DataFrame):
            raise ValueError("expected a DataFrame with one column per model variable")
        missing = [v for v in self.variables if v not in X.columns]
        if missing:
            raise ValueError(f"the data lack the model variable(s) {missing}")
        bad = [v for v in self.variables
               if not pd.api.types.is_numeric_dtype(X[v]) or pd.api.types.is_bool_dtype(X[v])]
        if bad:
            raise ValueError(f"predictor(s) {bad} are not numeric: code them as numbers (e.g. 0/1 indicators)")
        blocks = [self.expand_variable(v, X[v].to_numpy(float)) for v in self.variables]
        return pd.DataFrame(np.column_stack(blocks), columns=list(self.columns), index=X.index)


def rcs_design(X: pd.DataFrame, splines: Mapping[str, int | Sequence[float]] | None = None,
               fractied: float = FRACTIED) -> tuple[pd.DataFrame, RcsDesign]:
    """Expand the columns named in ``splines`` as restricted cubic splines; keep the others linear.

    Parameters
    ----------
    X : pandas.DataFrame
        Numeric predictors, one column per variable (binary ones coded 0/1).
    splines : mapping, optional
        ``{column: nk}`` for a spline with ``nk`` default knots (:func:`rcs_knots`), or
        ``{column: [t1, ..., tk]}`` for given knots. Columns not named are linear.
    fractied : float, default 0.05
        Passed to :func:`rcs_knots`.

    Returns
    -------
    (pandas.DataFrame, RcsDesign)
        The expanded design (columns :attr:`RcsDesign.columns`) and its description.

    Raises
    ------
    ValueError
        ``X`` not a data frame, a spline column not in ``X``, non-numeric or non-finite values,
        or knots that cannot be placed.

    References
    ----------
    Harrell FE. Regression Modeling Strategies, 2nd ed. Springer, 2015, sec. 2.4.
    """
    if not isinstance(X, pd.DataFrame) or X.shape[1] == 0:
        raise ValueError("expected a DataFrame with at least one predictor column")
    splines = dict(splines or {})
    unknown = [v for v in splines if v not in X.columns]
    if unknown:
        raise ValueError(f"spline variable(s) {unknown} are not columns of the data")
    variables = tuple(str(c) for c in X.columns)
    if len(set(variables)) != len(variables):
        raise ValueError("the data have duplicated column names")
    bad = [v for v in variables if not pd.api.types.is_numeric_dtype(X[v]) or pd.api.types.is_bool_dtype(X[v])]
    if bad:
        raise ValueError(f"predictor(s) {bad} are not numeric: code them as numbers (e.g. 0/1 indicators)")
    knots, columns, reference = {}, [], {}
    for v in variables:
        x = X[v].to_numpy(float)
        _check_finite(x, v)
        reference[v] = adjust_to(x)
        if v in splines:
            spec = splines[v]
            if np.ndim(spec) == 0:
                kn = rcs_knots(x, spec, fractied=fractied)
            else:
                kn = np.asarray(spec, dtype=float)
                if kn.size < 3 or not np.all(np.diff(kn) > 0) or not np.isfinite(kn).all():
                    raise ValueError(f"the knots of {v!r} must be at least 3 increasing numbers, got {kn.tolist()}")
            knots[v] = kn
            columns += _spline_names(v, kn.size)
        else:
            columns.append(v)
    design = RcsDesign(variables=variables, knots=knots, columns=tuple(columns), reference=reference)
    return design.expand(X), design


# ----------------------------------------------------------------------------- the fit
@dataclass(frozen=True, eq=False)
class RcsCoxFit:
    """A Cox model with spline terms: the :class:`~dmnpc.stats.cox.CoxFit` of the expanded design plus its
    :class:`RcsDesign`.

    Attributes
    ----------
    fit : CoxFit
        The fit of the expanded design (terms = :attr:`RcsDesign.columns`); its coefficients are
        ``rms::cph``'s (same basis scaling).
    design : RcsDesign
    """

    fit: CoxFit
    design: RcsDesign

    @property
    def knots(self) -> dict:
        """``{variable: knots}`` of the spline terms."""
        return self.design.knots

    @property
    def lr_chisq(self) -> float:
        """Likelihood-ratio chi-square ``2 (l(b) - l(0))`` (``cph``'s "Model L.R.")."""
        return self.fit.lr_test["chisq"]

    @property
    def df(self) -> int:
        """Degrees of freedom of the LR test: the number of coefficients (``cph``'s "d.f.")."""
        return self.fit.lr_test["df"]

    @property
    def aic(self) -> float:
        """``-2 l(b) + 2 df``, as ``AIC()`` of a ``coxph`` or ``cph`` fit."""
        return -2.0 * self.fit.loglik + 2.0 * self.df

    @property
    def concordance(self) -> ConcordanceResult:
        """Harrell's C of the linear predictor (:func:`dmnpc.stats.discrimination.harrell_c`)."""
        return harrell_c(self.fit.time, self.fit.event, self.fit.linear_predictor())

    def linear_predictor(self, X: pd.DataFrame | None = None, centered: bool = True) -> np.ndarray:
        """Linear predictor of new patients (a data frame of the model variables), centred as ``predict(cph)``."""
        return self.fit.linear_predictor(None if X is None else self.design.expand(X), centered=centered)

    def partial_effect(self, variable: str, values, reference: float | None = None,
                       conf_level: float | None = None) -> pd.DataFrame:
        """Log relative hazard of ``variable`` at ``values`` against its reference value, with a Wald interval.

        The contrast ``[f(x) - f(x_ref)]' b`` of the variable's design columns ``f`` (its spline
        basis, or ``x`` for a linear term), with standard error ``sqrt(d' V d)``, ``V`` the
        model-based covariance of those columns' coefficients. This is
        ``rms::Predict(fit, variable = values, ref.zero = TRUE)``: the other variables held at
        their reference values cancel (the model has no interactions), the reference value itself
        gets 0 with an interval of width 0.

        Parameters
        ----------
        variable : str
            A model variable.
        values : array-like
            The grid of values.
        reference : float, optional
            The reference value; default :attr:`RcsDesign.reference` (``datadist``'s "Adjust to":
            the median, or the lower of two values, the middle of three).
        conf_level : float, optional
            Default the fit's ``conf_level``.

        Returns
        -------
        pandas.DataFrame
            ``value``, ``log_hr`` (Predict's ``yhat``), ``se``, ``lower``, ``upper`` (log scale),
            ``hr`` = ``exp(log_hr)``.

        References
        ----------
        Harrell FE. Regression Modeling Strategies, 2nd ed. Springer, 2015, sec. 20.9 (``Predict``).
        """
        cols = self.design.columns_of(variable)
        ref = self.design.reference[variable] if reference is None else float(reference)
        v = np.atleast_1d(np.asarray(values, dtype=float))
        D = self.design.expand_variable(variable, v) - self.design.expand_variable(variable, [ref])
        beta = self.fit.coef[cols]
        V = self.fit.vcov[np.ix_(cols, cols)]
        eff = D @ beta
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", D, V, D), 0.0))
        z = z_value(self.fit.conf_level if conf_level is None else conf_level)
        return pd.DataFrame({"value": v, "log_hr": eff, "se": se, "lower": eff - z * se, "upper": eff + z * se,
                             "hr": np.exp(eff)})


def fit_cox_rcs(time, event, X: pd.DataFrame, splines: Mapping[str, int | Sequence[float]] | None = None, *,
                conf_level: float = 0.95, eps: float | None = None, fractied: float = FRACTIED) -> RcsCoxFit:
    """Fit a Cox model with some predictors as restricted cubic splines (``rms::cph`` with ``rcs()`` terms).

    Parameters
    ----------
    time, event : array-like
        Follow-up times and 0/1 event indicators.
    X : pandas.DataFrame
        Numeric predictors, one column per variable.
    splines : mapping, optional
        ``{column: nk}`` or ``{column: knots}`` (see :func:`rcs_design`); other columns are linear.
        ``fit_cox_rcs(t, e, X, {"age": 3})`` is ``cph(Surv(t, e) ~ rcs(age, 3) + ...)``.
    conf_level : float, default 0.95
    eps : float, optional
        ``None`` converges fully; ``1e-4`` is ``cph``'s own stopping rule (see :func:`fit_cox`).
    fractied : float, default 0.05
        Passed to :func:`rcs_knots`.

    Returns
    -------
    RcsCoxFit
        With ``lr_chisq``, ``df``, ``aic``, ``concordance``, ``knots`` and ``partial_effect``.

    Raises
    ------
    ValueError
        As :func:`rcs_design` and :func:`dmnpc.stats.cox.fit_cox`.

    References
    ----------
    Harrell FE. Regression Modeling Strategies, 2nd ed. Springer, 2015, ch. 2 and 20.
    Durrleman S, Simon R. Flexible regression models with cubic splines. Stat Med 1989;8:551-561.
    """
    Z, design = rcs_design(X, splines, fractied=fractied)
    return RcsCoxFit(fit=fit_cox(time, event, Z, conf_level=conf_level, eps=eps), design=design)
