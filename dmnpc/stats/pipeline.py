"""Bootstrap validation of a whole model-development procedure, not of one fitted model.

:func:`dmnpc.stats.validation.validate_cox` refits a *fixed* model in every bootstrap
sample. A model whose cut points were searched for and whose terms were screened on the
same data is optimistic for those steps too, and only repeating them in every replicate
measures it (Harrell 2015, sec. 5.3; Steyerberg 2019, ch. 17). :func:`validate_procedure`
repeats, in each bootstrap sample, a procedure described by data (:class:`Procedure`):

1. **cut points**: for each :class:`CutMarker`, the Youden-optimal cut against a binary
   outcome in the sample (pROC's midpoint threshold, :func:`dmnpc.stats.roc.youden_cut`),
   with the direction fixed beforehand; the marker becomes the 0/1 term
   ``marker > cut`` (direction ``"<"``: higher values go with the event) or
   ``marker < cut`` (``">"``);
2. **screen** (when ``alpha`` is given): a univariable Cox model per candidate term,
   kept when its Wald P < ``alpha`` (:func:`dmnpc.stats.cox.univariable_screen`);
3. **multivariable model**: one Cox model (Efron ties) of the terms kept;

and evaluates the replicate's model on the sample (*training*) and on the original data
(*test*): Harrell's C, the calibration slope, each patient's predicted survival at a
horizon, and the split at the mean linear predictor of the sample (the mean-score risk
groups of a nomogram: points are an increasing linear function of the linear predictor).

Rules, stated once
------------------
* **Missing values** (a candidate column may have NaN): the screen fits each term on the
  patients who have it (as :func:`~dmnpc.stats.cox.univariable_screen`); the multivariable
  model, its evaluation and the predictions use the patients complete for the terms
  kept (R's default ``na.omit``); a patient without a kept term has no prediction (NaN).
* **Not estimable in the screen** (the term is constant in the sample, no deaths among the
  patients who have it, or its likelihood has no finite maximum): it has no P value and
  is not kept, as :func:`~dmnpc.stats.cox.univariable_screen` reports it.
* **Aliased terms**: a kept term that is (within 1e-9 of its own variance) a linear
  combination of the kept terms before it in candidate order, on the sample's complete
  cases, is dropped, as ``coxph`` gives it an ``NA`` coefficient.
* **Empty screen**: when no term is kept, the model is the null model: every patient has
  the same linear predictor (0), so C = 0.5 in training and test (ties count 1/2), the
  predicted survival is the sample's Efron baseline for everyone, nobody is above the mean;
  the calibration slope is undefined and that replicate is left out of the slope's mean
  (counted in ``n_null``).
* **Failed replicates**: a multivariable fit whose likelihood has no finite maximum
  (flagged by :func:`dmnpc.stats.cox.fit_cox`'s rule, as in :mod:`dmnpc.stats.validation`)
  or that did not converge. ``remedy="ridge"`` (default) refits it with the ridge penalty
  ``theta`` (:func:`dmnpc.stats.validation.ridge_cox`; the procedure validated is then
  "maximum likelihood when it exists, else ridge", applied alike to the data and every
  sample); ``"exclude"`` drops it; ``None`` uses it as fitted. Whatever the remedy, the
  table for excluding them is given too (:attr:`PipelineResult.table_excluding_failed`),
  and the failed replicates are counted.

Speed: all replicates go through each step at once -- the weighted Youden search as
cumulative sums over the sorted marker, the screen as one batch of ``B x candidates``
univariable fits, the multivariable fits of differing term sets as one batch padded to a
common width (:func:`dmnpc.stats._engine.fit_batch` with ``free``), the concordance as in
:mod:`dmnpc.stats.validation`. ``method="slow"`` loops over the replicates with the public
single-fit functions on the resampled rows (the reference the fast path is tested against).

References
----------
Harrell FE. Regression Modeling Strategies, 2nd ed. Springer, 2015 (sec. 5.3).
Steyerberg EW. Clinical Prediction Models, 2nd ed. Springer, 2019 (ch. 17).
Riley RD, Collins GS. Stability of clinical prediction models developed using statistical
or machine learning methods. Biom J 2023;65:e2200302.
Altman DG, Lausen B, Sauerbrei W, Schumacher M. Dangers of using "optimal" cutpoints in the
evaluation of prognostic factors. J Natl Cancer Inst 1994;86:829-835.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from dmnpc.stats import _engine as cf
from dmnpc.stats import cox as _cox
from dmnpc.stats._validate import check_binary, check_horizon, check_marker, check_time_event
from dmnpc.stats.roc import youden_cut
from dmnpc.stats.validation import (RIDGE_THETA, REMEDIES, _bar, _one_blas_thread, _Pairs, _ridge_batch,
                                    bootstrap_frequencies, ridge_cox)

__all__ = ["CutMarker", "Procedure", "Development", "PipelineResult", "weighted_youden", "batched_screen",
           "develop", "validate_procedure", "ALIAS_TOL"]

#: A kept term whose residual variance, after the kept terms before it, is below this share of its
#: own variance is aliased and dropped (``coxph``'s NA coefficient).
ALIAS_TOL = 1e-9
#: Two linear predictors closer than this (relative to 1 + |mean|) to the mean count as at the mean
#: (low risk): floating-point noise must not decide a patient's risk group.
_TIE_TOL = 1e-9


# ----------------------------------------------------------------------------- the procedure
@dataclass(frozen=True)
class CutMarker:
    """A continuous marker turned into a 0/1 term at its Youden-optimal cut.

    Attributes
    ----------
    term : str
        Name of the term it makes (one of the procedure's candidates).
    values : ndarray
        The marker, one finite value per patient.
    direction : {"<", ">"}
        Fixed beforehand: ``"<"`` higher values go with the event (term = marker > cut),
        ``">"`` lower values do (term = marker < cut).
    """

    term: str
    values: np.ndarray = field(repr=False)
    direction: str


@dataclass(frozen=True)
class Procedure:
    """A model-development procedure described by data (build it with :meth:`make`).

    Attributes
    ----------
    time, event : ndarray
        Follow-up and 0/1 event of the Cox models.
    candidates : tuple of str
        The terms, in order (the screen's candidates, or the model's terms without a screen).
    fixed : DataFrame
        The candidates that are not made by a marker, 0/1 or numeric (NaN = missing).
    markers : tuple of CutMarker
        The candidates made by a cut searched in the data.
    cut_outcome : ndarray
        0/1 outcome the Youden cuts are searched against.
    alpha : float or None
        Screen level (keep a term when its univariable Wald P < alpha); None keeps every candidate.
    """

    time: np.ndarray = field(repr=False)
    event: np.ndarray = field(repr=False)
    candidates: tuple[str, ...]
    fixed: pd.DataFrame = field(repr=False)
    markers: tuple[CutMarker, ...]
    cut_outcome: np.ndarray = field(repr=False)
    alpha: float | None = 0.05

    @classmethod
    def make(cls, time, event, fixed: pd.DataFrame, markers=(), *, cut_outcome, candidates=None,
             alpha: float | None = 0.05) -> "Procedure":
        """Validate and assemble a procedure.

        ``candidates`` defaults to the columns of ``fixed`` then the markers' terms; every
        candidate must be a column of ``fixed`` or a marker's term, and no name both.
        """
        t, e = check_time_event(time, event, require_events=True)
        n = t.size
        if not isinstance(fixed, pd.DataFrame):
            raise ValueError("fixed must be a DataFrame of candidate columns (it may have no columns)")
        if len(fixed) != n:
            raise ValueError(f"fixed has {len(fixed)} rows but there are {n} patients")
        ms = []
        for m in markers:
            if m.direction not in ("<", ">"):
                raise ValueError(f"the direction of {m.term} must be '<' (higher = event) or '>', got "
                                 f"{m.direction!r}")
            ms.append(CutMarker(m.term, check_marker(m.values, n, f"marker {m.term}"), m.direction))
        mterms = [m.term for m in ms]
        both = sorted(set(mterms) & set(map(str, fixed.columns)))
        if both or len(set(mterms)) < len(mterms):
            raise ValueError(f"a term is defined twice (as a column and as a marker, or by two markers): "
                             f"{both or mterms}")
        cand = tuple(map(str, fixed.columns)) + tuple(mterms) if candidates is None else tuple(candidates)
        unknown = [c for c in cand if c not in set(map(str, fixed.columns)) | set(mterms)]
        if unknown or not cand or len(set(cand)) < len(cand):
            raise ValueError(f"candidates must be distinct columns of fixed or marker terms; not found: {unknown}")
        y = check_binary(cut_outcome, "cut outcome", "no event")
        if y.size != n:
            raise ValueError(f"the cut outcome has {y.size} values but there are {n} patients")
        if alpha is not None and not 0 < alpha < 1:
            raise ValueError(f"alpha must be between 0 and 1, or None for no screen; got {alpha!r}")
        fx = fixed[[c for c in cand if c in set(map(str, fixed.columns))]].astype(float)
        if np.isinf(fx.to_numpy()).any():
            raise ValueError("fixed has infinite values")
        return cls(t, e, cand, fx, tuple(m for m in ms if m.term in cand), y, alpha)

    @property
    def n(self) -> int:
        return int(self.time.size)

    def design(self, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidate columns of the original patients under given cuts.

        ``thresholds`` (R, markers). Returns ``X`` (R, n, K) with missing values set to 0 and
        ``observed`` (n, K) bool.
        """
        thr = np.atleast_2d(np.asarray(thresholds, float))
        R, n, K = thr.shape[0], self.n, len(self.candidates)
        X = np.zeros((R, n, K))
        obs = np.ones((n, K), dtype=bool)
        for k, c in enumerate(self.candidates):
            if c in self.fixed.columns:
                v = self.fixed[c].to_numpy(float)
                obs[:, k] = np.isfinite(v)
                X[:, :, k] = np.where(obs[:, k], v, 0.0)[None, :]
        for j, m in enumerate(self.markers):
            k = self.candidates.index(m.term)
            X[:, :, k] = _cut_term(m.values, thr[:, j], m.direction)
        return X, obs


def _cut_term(values: np.ndarray, thr: np.ndarray, direction: str) -> np.ndarray:
    """0/1 term of each replicate's cut, (R, n): marker > cut ("<") or marker < cut (">")."""
    return (values[None, :] > thr[:, None] if direction == "<" else values[None, :] < thr[:, None]).astype(float)


# ----------------------------------------------------------------------------- weighted Youden
def weighted_youden(marker, outcome, weights, direction: str) -> np.ndarray:
    """Youden-optimal cut (pROC's midpoint threshold) of each row of frequency ``weights``, (R,).

    Row ``r`` gives exactly ``youden_cut(marker[rows], outcome[rows], direction).threshold``
    with ``rows`` the patients repeated ``weights[r]`` times: the thresholds are the midpoints
    between consecutive values *present* in the sample, the criterion is the integer
    ``TP * controls + TN * cases`` (ties exact), and among tied cuts the one with the highest
    sensitivity wins (first in pROC's order), as :func:`dmnpc.stats.roc.youden_cut`.

    Parameters
    ----------
    marker : array-like, (n,)
    outcome : array-like of {0, 1}, (n,)
    weights : array-like, (R, n)
        Non-negative integer frequencies (a bootstrap sample: how often each patient is drawn).
    direction : {"<", ">"}
        ``"<"``: higher marker values go with the event; ``">"``: lower values do.

    Returns
    -------
    ndarray, (R,)
        -inf or +inf where no split beats calling everyone positive or negative.
    """
    m = np.asarray(marker, float)
    y = np.asarray(outcome, float)
    W = np.atleast_2d(np.asarray(weights, float))
    if direction not in ("<", ">"):
        raise ValueError(f"direction must be '<' or '>', got {direction!r}")
    u, inv = np.unique(m, return_inverse=True)
    K = u.size
    H = np.zeros((m.size, K))
    H[np.arange(m.size), inv] = 1.0
    case = (W * y) @ H  # (R, K) cases at each distinct value
    ctrl = (W * (1 - y)) @ H
    present = (case + ctrl) > 0
    z = np.zeros((W.shape[0], 1))
    Cc = np.concatenate([z, np.cumsum(case, 1)], 1)  # split s: values u_1..u_s below it (s = 0..K)
    Ct = np.concatenate([z, np.cumsum(ctrl, 1)], 1)
    ncase, nctrl = Cc[:, -1:], Ct[:, -1:]
    if ((ncase == 0) | (nctrl == 0)).any():
        raise ValueError("the outcome has only one class in a sample: a ROC curve needs patients with and "
                         "without the event")
    if direction == "<":  # positive = marker above the split
        tp, tn = ncase - Cc, Ct
    else:  # positive = marker below the split
        tp, tn = Cc, nctrl - Ct
    crit = tp * nctrl + tn * ncase  # integers: exact
    valid = np.concatenate([np.ones((W.shape[0], 1), bool), present], 1)
    crit = np.where(valid, crit, -np.inf)
    best = crit == crit.max(axis=1, keepdims=True)
    # pROC order: ascending thresholds for "<", descending for ">"; the first best wins
    s = best.argmax(axis=1) if direction == "<" else K - best[:, ::-1].argmax(axis=1)
    # the threshold of split s: midpoint of the last present value <= u_s and the next present value
    idx = np.where(present, np.arange(K)[None, :], K)
    nxt = np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1]  # first present index >= k
    nxt = np.concatenate([nxt, np.full((W.shape[0], 1), K)], 1)
    rows = np.arange(W.shape[0])
    nx = nxt[rows, s]  # first present value above the split (index), K if none
    up = np.r_[u, np.nan]
    lo = up[np.maximum(s - 1, 0)]
    thr = np.where(s == 0, -np.inf, np.where(nx >= K, np.inf, (lo + up[np.minimum(nx, K)]) / 2.0))
    return thr


# ----------------------------------------------------------------------------- batched screen
def batched_screen(time, event, X: np.ndarray, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Univariable Cox screen of K terms in R weighted samples at once.

    Equal, replicate by replicate, to :func:`dmnpc.stats.cox.univariable_screen` of the
    resampled rows (each term on the patients who have it; weight 0 = not in the sample or
    missing).

    Parameters
    ----------
    time, event : ndarray, (n,)
    X : ndarray, (R, n, K) or (n, K)
        Term values (any finite value where missing).
    weights : ndarray, (R, n, K) or (R, n)
        Frequency of each patient in each replicate, per term (0 where the term is missing).

    Returns
    -------
    dict
        ``coef``, ``se``, ``p`` (R, K): NaN where the term is not estimable (constant in the
        sample, no deaths, or no finite maximum, as ``univariable_screen``'s ``note``).
    """
    t, e = np.asarray(time, float), np.asarray(event, int)
    lay = cf.layout(t, e)
    W = np.asarray(weights, float)
    R = W.shape[0]
    X = np.asarray(X, float)
    if X.ndim == 2:
        X = np.broadcast_to(X[None], (R,) + X.shape)
    K = X.shape[2]
    if W.ndim == 2:
        W = np.broadcast_to(W[:, :, None], X.shape)
    n = t.size
    x = np.ascontiguousarray(X.transpose(0, 2, 1)).reshape(R * K, n)
    w = np.ascontiguousarray(W.transpose(0, 2, 1)).reshape(R * K, n)
    inn = w > 0
    hi = np.where(inn, x, -np.inf).max(axis=1)
    lo = np.where(inn, x, np.inf).min(axis=1)
    est = (hi > lo) & ((w * e).sum(axis=1) > 0)
    coef = np.full(R * K, np.nan)
    se = np.full(R * K, np.nan)
    if est.any():
        f = cf.fit_batch(lay, x[est][:, :, None], w[est], max_iter=_cox.MAX_ITER, final_terms=True)
        b = f.beta[:, 0]
        info = f.information_final[:, 0, 0]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = f.score_final[:, 0] / info
            moving = ~np.isfinite(b) | ~np.isfinite(step) | (np.abs(step) / (1 + np.abs(b)) >= _cox._STEP_TOL)
            s_ = np.sqrt(1.0 / info)
        coef[est] = np.where(moving, np.nan, b)
        se[est] = np.where(moving, np.nan, s_)
    with np.errstate(invalid="ignore"):
        p = 2.0 * stats.norm.sf(np.abs(coef / se))
    return {"coef": coef.reshape(R, K), "se": se.reshape(R, K), "p": p.reshape(R, K)}


# ----------------------------------------------------------------------------- aliasing
def _aliased(X: np.ndarray, w: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Free columns that are (nearly) linear combinations of the free columns before them, (R, p).

    Weighted, centred Gram-Schmidt in column order on the rows with weight > 0: column j is
    aliased when its residual variance is below :data:`ALIAS_TOL` times its variance (a
    constant column has variance 0 and is aliased too). ``X`` (R, n, p), ``w`` (R, n).
    """
    R, n, p = X.shape
    sw = w.sum(axis=1, keepdims=True)
    Z = X - (np.einsum("rn,rnp->rp", w, X) / sw)[:, None, :]
    out = np.zeros((R, p), dtype=bool)
    basis = []
    for j in range(p):
        z = Z[:, :, j].copy()
        v0 = np.einsum("rn,rn->r", w, z * z)
        for q in basis:
            z -= np.einsum("rn,rn->r", w, z * q)[:, None] * q
        v = np.einsum("rn,rn->r", w, z * z)
        al = free[:, j] & ~(v > ALIAS_TOL * v0)
        out[:, j] = al
        ok = free[:, j] & ~al
        q = np.where(ok[:, None], z / np.sqrt(np.where(ok, v, 1.0))[:, None], 0.0)
        basis.append(q)
    return out


# ----------------------------------------------------------------------------- development
@dataclass(frozen=True)
class Development:
    """The procedure applied to one data set (the original data, or one bootstrap sample).

    Attributes
    ----------
    cuts : dict
        Marker term -> :class:`dmnpc.stats.roc.CutResult` (on the data it was developed on).
    screen : DataFrame or None
        :func:`dmnpc.stats.cox.univariable_screen` of the candidates, with ``selected``.
    terms : tuple of str
        The model's terms (after the screen and the alias rule), in candidate order.
    coef : Series
        Their log hazard ratios (ridge fit when the maximum-likelihood fit failed and the
        remedy is ``"ridge"``).
    failed : bool
        The maximum-likelihood fit has no finite maximum (or did not converge).
    fit : CoxFit or None
        The maximum-likelihood fit (None for the null model).
    lp : ndarray, (n,)
        Linear predictor (uncentred) of the original patients; NaN without a model term.
    c : float
        Harrell's C on the data it was developed on (the apparent C for the original data).
    pred : ndarray, (n,)
        Predicted survival at the horizon of the original patients (NaN without a model term).
    threshold : float
        Mean linear predictor of the development data (the risk-group cut).
    high : ndarray, (n,)
        1 = above the mean (high risk), 0 = low, NaN without a model term.
    """

    cuts: dict
    screen: pd.DataFrame | None
    terms: tuple[str, ...]
    coef: pd.Series
    failed: bool
    fit: object | None
    lp: np.ndarray = field(repr=False)
    c: float = float("nan")
    pred: np.ndarray = field(default=None, repr=False)
    threshold: float = float("nan")
    high: np.ndarray = field(default=None, repr=False)


def _split(lp: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """1 where lp is above the threshold (beyond floating-point noise), else 0; NaN stays NaN."""
    thr = np.asarray(threshold, float)[..., None] if np.ndim(lp) == 2 else np.asarray(threshold, float)
    with np.errstate(invalid="ignore"):
        hi = (lp > thr + _TIE_TOL * (1 + np.abs(thr))).astype(float)
    return np.where(np.isnan(lp), np.nan, hi)


def _develop_rows(proc: Procedure, rows: np.ndarray, horizon: float, remedy: str | None,
                  theta: float) -> tuple[Development, dict]:
    """The procedure on the patients ``rows`` (with repeats), with the public single-fit functions.

    Returns the :class:`Development` and its test indexes on the original data (``c_test``,
    ``slope``, ``c_train``).
    """
    from dmnpc.stats.discrimination import harrell_c

    t, e, n = proc.time, proc.event, proc.n
    cuts = {m.term: youden_cut(m.values[rows], proc.cut_outcome[rows], m.direction) for m in proc.markers}
    thr = np.array([[cuts[m.term].threshold for m in proc.markers]])
    X, obs = proc.design(thr)
    X, Xn = X[0], np.where(obs, X[0], np.nan)
    cand = list(proc.candidates)
    screen = None
    if proc.alpha is None:
        sel = np.ones(len(cand), dtype=bool)
    else:
        screen = _cox.univariable_screen(t[rows], e[rows], pd.DataFrame(Xn[rows], columns=cand))
        sel = (screen["p"] < proc.alpha).to_numpy()
        screen = screen.assign(selected=sel)
    k = np.flatnonzero(sel)
    cc = obs[:, k].all(axis=1)  # original patients complete for the kept terms
    r_cc = rows[cc[rows]]
    if k.size:
        al = _aliased(X[None][:, r_cc][:, :, k], np.ones((1, r_cc.size)), np.ones((1, k.size), bool))[0]
        k = k[~al]
    terms = tuple(cand[j] for j in k)
    fit, failed = None, False
    coef = np.zeros(0)
    if k.size:
        fit = _cox.fit_cox(t[r_cc], e[r_cc], pd.DataFrame(X[r_cc][:, k], columns=terms))
        failed = not fit.converged or not np.isfinite(fit.coef).all()
        coef = fit.coef
        if failed and remedy == "ridge":
            coef = ridge_cox(t[r_cc], e[r_cc], X[r_cc][:, k], theta)
    lp = np.where(cc, X[:, k] @ coef, np.nan)
    lp_rows = lp[r_cc]
    c_train = harrell_c(t[r_cc], e[r_cc], lp_rows).c if k.size else 0.5
    c_test = harrell_c(t[cc], e[cc], lp[cc]).c if k.size else 0.5
    slope = np.nan
    if k.size and np.ptp(lp[cc]) > 0:
        sf = _cox.fit_cox(t[cc], e[cc], lp[cc][:, None])
        slope = float(sf.coef[0])
    if fit is not None and not (failed and remedy == "ridge"):
        pred = np.full(n, np.nan)
        pred[cc] = fit.predict_survival(horizon, X[cc][:, k])[:, 0]
    else:
        H0 = cf.efron_baseline_cumhaz(cf.layout(t[r_cc], e[r_cc]), lp_rows[None] if k.size else
                                      np.zeros((1, r_cc.size)), horizon)[0]
        pred = np.where(cc, np.exp(-H0 * np.exp(np.nan_to_num(lp))), np.nan) if k.size else np.full(n, np.exp(-H0))
    threshold = float(np.mean(lp_rows)) if k.size else 0.0
    high = _split(lp, threshold) if k.size else np.zeros(n)
    dev = Development(cuts=cuts, screen=screen, terms=terms, coef=pd.Series(coef, index=list(terms), dtype=float),
                      failed=failed, fit=fit, lp=lp if k.size else np.zeros(n), c=float(c_train), pred=pred,
                      threshold=threshold, high=high)
    return dev, {"c_train": float(c_train), "c_test": float(c_test), "slope": slope}


def develop(proc: Procedure, horizon: float = 24.0, remedy: str | None = "ridge",
            theta: float = RIDGE_THETA) -> Development:
    """The procedure applied to the original data: the model it develops and its apparent C.

    Uses the public single-fit functions (:func:`~dmnpc.stats.roc.youden_cut`,
    :func:`~dmnpc.stats.cox.univariable_screen`, :func:`~dmnpc.stats.cox.fit_cox`).
    """
    _check_remedy(remedy, theta)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _develop_rows(proc, np.arange(proc.n), check_horizon(horizon, proc.time), remedy, theta)[0]


# ----------------------------------------------------------------------------- result
@dataclass(frozen=True)
class PipelineResult:
    """Result of :func:`validate_procedure`.

    Attributes
    ----------
    apparent : Development
        The procedure on the original data (the model it develops, its apparent C).
    replicates : DataFrame
        One row per bootstrap replicate: ``c_train``, ``c_test`` (Harrell's C on the sample and
        on the original data), ``slope`` (calibration slope on the original data; NaN for the
        null model), ``n_terms``, ``null`` (empty model), ``failed`` (no finite maximum or not
        converged), ``used`` (counts in :attr:`table` under the remedy), ``reclassified``
        (share of the patients with a risk group in both models whose group differs from the
        apparent model's).
    selection : DataFrame
        (B, candidates) bool: the terms of each replicate's model.
    coef : DataFrame
        (B, candidates): the replicate's coefficients (NaN for terms not in its model).
    cuts : DataFrame
        (B, markers): the replicate's cut of each marker (pROC midpoint).
    pred : ndarray, (B, n)
        Each replicate model's predicted survival at ``horizon`` for every original patient
        (NaN where the patient lacks a model term): the instability matrix.
    high : ndarray, (B, n)
        1 = above the replicate's mean score (high risk), 0 = low, NaN without a model term.
    B, seed, horizon, remedy, theta, alpha : as passed.
    rule : str
        The rule applied to failed replicates and empty models, in words.
    method : {"fast", "slow"}
    """

    apparent: Development
    replicates: pd.DataFrame
    selection: pd.DataFrame
    coef: pd.DataFrame
    cuts: pd.DataFrame
    pred: np.ndarray = field(repr=False)
    high: np.ndarray = field(repr=False)
    B: int = 0
    seed: int | None = None
    horizon: float = 24.0
    remedy: str | None = "ridge"
    theta: float | None = None
    alpha: float | None = None
    rule: str = ""
    method: str = "fast"

    # --------------------------------------------------------------- counts
    @property
    def n_failed(self) -> int:
        """Replicates whose multivariable fit had no finite maximum or did not converge."""
        return int(self.replicates["failed"].sum())

    @property
    def n_null(self) -> int:
        """Replicates in which no term was kept (null model)."""
        return int(self.replicates["null"].sum())

    @property
    def selection_freq(self) -> pd.Series:
        """Share of the B replicates whose model has each candidate term."""
        return self.selection.mean().rename("selected")

    # --------------------------------------------------------------- indexes
    def _table(self, use: np.ndarray) -> pd.DataFrame:
        r = self.replicates[use]
        s = r["slope"].dropna()
        c_opt = float(r["c_train"].mean() - r["c_test"].mean())
        s_opt = float(1.0 - s.mean())
        return pd.DataFrame({
            "apparent": [self.apparent.c, 1.0],
            "training": [float(r["c_train"].mean()), 1.0],
            "test": [float(r["c_test"].mean()), float(s.mean())],
            "optimism": [c_opt, s_opt],
            "corrected": [self.apparent.c - c_opt, 1.0 - s_opt],
            "n": [int(len(r)), int(s.size)],
        }, index=["C", "Slope"])

    @property
    def table(self) -> pd.DataFrame:
        """Index ``C``, ``Slope``; columns ``apparent``, ``training``, ``test``, ``optimism``,
        ``corrected``, ``n`` (replicates averaged; the slope leaves out null models)."""
        return self._table(self.replicates["used"].to_numpy())

    @property
    def table_excluding_failed(self) -> pd.DataFrame:
        """:attr:`table` over the replicates whose fit did not fail (the ``"exclude"`` rule)."""
        return self._table(~self.replicates["failed"].to_numpy())

    @property
    def c_apparent(self) -> float:
        return float(self.apparent.c)

    @property
    def c_optimism(self) -> float:
        return float(self.table.loc["C", "optimism"])

    @property
    def c_corrected(self) -> float:
        return float(self.table.loc["C", "corrected"])

    @property
    def slope_apparent(self) -> float:
        return 1.0

    @property
    def slope_optimism(self) -> float:
        return float(self.table.loc["Slope", "optimism"])

    @property
    def slope_corrected(self) -> float:
        return float(self.table.loc["Slope", "corrected"])

    # --------------------------------------------------------------- instability
    def instability(self) -> pd.DataFrame:
        """Per original patient: the apparent model's predicted survival at the horizon and its
        spread over the bootstrap models (Riley & Collins 2023): ``original``, ``mean``,
        ``lower``/``upper`` (2.5% and 97.5% over replicates), ``mape`` (mean absolute
        difference from ``original``), ``n`` (replicates with a prediction), and
        ``reclassified`` (share of those replicates putting the patient in the other risk group)."""
        P, p0 = self.pred, self.apparent.pred
        with np.errstate(invalid="ignore"), _quiet():
            lo, hi = np.nanpercentile(P, [2.5, 97.5], axis=0)
            diff = np.abs(P - p0[None, :])
            ch = np.where(np.isnan(self.high) | np.isnan(self.apparent.high)[None, :], np.nan,
                          self.high != self.apparent.high[None, :])
            return pd.DataFrame({"original": p0, "mean": np.nanmean(P, axis=0), "lower": lo, "upper": hi,
                                 "mape": np.nanmean(diff, axis=0), "n": np.isfinite(P).sum(axis=0),
                                 "reclassified": np.nanmean(ch, axis=0)})

    @property
    def mape(self) -> float:
        """Mean over patients and replicates of |bootstrap prediction - apparent prediction|."""
        with np.errstate(invalid="ignore"):
            return float(np.nanmean(np.abs(self.pred - self.apparent.pred[None, :])))

    @property
    def reclassified(self) -> float:
        """Mean over replicates of the share of patients whose risk group differs from the apparent one."""
        return float(self.replicates["reclassified"].mean())


def _quiet():
    """No RuntimeWarning for the means of all-NaN columns (patients never predicted): NaN is the answer."""
    import warnings

    w = warnings.catch_warnings()
    w.__enter__()
    warnings.simplefilter("ignore", RuntimeWarning)
    return _Exit(w)


class _Exit:
    def __init__(self, w):
        self.w = w

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.w.__exit__(*a)


# ----------------------------------------------------------------------------- the bootstrap
def _check_remedy(remedy, theta):
    if remedy not in REMEDIES:
        raise ValueError(f"remedy must be one of {REMEDIES}, got {remedy!r}.")
    if remedy == "ridge" and not (np.isfinite(theta) and theta > 0):
        raise ValueError(f"The ridge penalty theta must be a positive number, got {theta!r}.")


def _rule(remedy, theta) -> str:
    fail = ("a replicate whose multivariable Cox fit has no finite maximum (monotone likelihood: one more "
            "Newton step would still move a coefficient by >= 1e-8 relative to 1 + |coefficient|) or did "
            "not converge is counted as failed and ")
    fail += {"ridge": f"refitted with the ridge penalty theta = {theta:.4g} (maximum likelihood when it "
                      "exists, else ridge, for the data and every sample alike)",
             "exclude": "left out of the averages",
             None: "used as fitted (as rms::validate)"}[remedy]
    return (fail + "; a replicate in which no term passes the screen has the null model (C = 0.5 on sample "
            "and original data, no calibration slope: left out of the slope's mean); a term not estimable "
            "in the screen (constant, no deaths, no finite maximum) is not kept; an aliased term is dropped "
            "as coxph does; the screen uses each term's available cases, the model and its evaluation the "
            "complete cases of its terms.")


def _fast_chunk(proc: Procedure, lay, pairs: _Pairs, W: np.ndarray, horizon: float, remedy, theta) -> dict:
    """The procedure and its evaluation for the R samples of ``W`` (R, n), all at once."""
    t, e = proc.time, proc.event
    R, n = W.shape
    cand = proc.candidates
    K = len(cand)
    # 1. cut points
    thr = np.empty((R, len(proc.markers)))
    for j, m in enumerate(proc.markers):
        thr[:, j] = weighted_youden(m.values, proc.cut_outcome, W, m.direction)
    X, obs = proc.design(thr)  # (R, n, K), (n, K)
    # 2. screen
    if proc.alpha is None:
        sel = np.ones((R, K), dtype=bool)
    else:
        p = batched_screen(t, e, X, W[:, :, None] * obs[None])["p"]
        with np.errstate(invalid="ignore"):
            sel = p < proc.alpha
    # 3. multivariable fits, padded to a common width
    cc = ~((~obs).astype(float) @ sel.T.astype(float) > 0).T  # (R, n) complete for the kept terms
    Wm = W * cc
    order = np.argsort(~sel, axis=1, kind="stable")  # kept terms first, in candidate order
    pmax = max(int(sel.sum(axis=1).max()), 1)
    order = order[:, :pmax]
    free = np.take_along_axis(sel, order, 1)
    Xp = np.take_along_axis(X, order[:, None, :], 2) * free[:, None, :]
    al = _aliased(Xp, Wm, free)
    if al.any():
        free = free & ~al
        Xp = Xp * free[:, None, :]
        sel = np.zeros_like(sel)
        np.put_along_axis(sel, order, free, 1)
    beta, failed = _fit_padded(lay, Xp, Wm, free)
    if remedy == "ridge" and failed.any():
        beta[failed] = _ridge_batch(lay, Xp[failed], Wm[failed], theta)
    beta = np.where(free, beta, 0.0)
    null = ~free.any(axis=1)
    # 4. evaluation
    lp = np.einsum("rnp,rp->rn", Xp, beta)
    ccf = cc.astype(float)
    dxy_tr, dxy_te = pairs.dxy_many(lp, [Wm, ccf])
    slope = np.full(R, np.nan)
    ok = ~null & (np.where(cc, lp, -np.inf).max(1) > np.where(cc, lp, np.inf).min(1))
    if ok.any():
        sf = cf.fit_batch(lay, lp[ok][:, :, None], ccf[ok], max_iter=_cox.MAX_ITER)
        slope[ok] = np.where(sf.converged & np.isfinite(sf.beta[:, 0]), sf.beta[:, 0], np.nan)
    H0 = cf.efron_baseline_cumhaz(lay, lp, horizon, Wm)
    with np.errstate(over="ignore"):
        pred = np.where(cc, np.exp(-H0[:, None] * np.exp(lp)), np.nan)
    mean_lp = (Wm * lp).sum(1) / Wm.sum(1)
    high = _split(np.where(cc, lp, np.nan), mean_lp)
    coef = np.full((R, K), np.nan)
    np.put_along_axis(coef, order, np.where(free, beta, np.nan), 1)
    return {"thr": thr, "sel": sel, "coef": coef, "failed": failed, "null": null, "c_train": dxy_tr / 2 + 0.5,
            "c_test": dxy_te / 2 + 0.5, "slope": slope, "pred": pred, "high": high,
            "n_terms": free.sum(axis=1)}


def _fit_padded(lay, Xp: np.ndarray, Wm: np.ndarray, free: np.ndarray,
                single: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Multivariable fits of differing term sets in one batch; (beta (R, p), failed (R,)).

    Failed = a coefficient still moving at the end (no finite maximum, :func:`fit_cox`'s rule) or
    not converged. A singular information matrix (a term constant among the deaths' risk sets)
    fails that replicate alone: the batch is then refitted replicate by replicate.
    """
    R, _, p = Xp.shape
    try:
        f = cf.fit_batch(lay, Xp, Wm, max_iter=_cox.MAX_ITER, final_terms=True, free=free)
    except np.linalg.LinAlgError:
        if single:
            return np.zeros((R, p)), np.ones(R, dtype=bool)
        parts = [_fit_padded(lay, Xp[r:r + 1], Wm[r:r + 1], free[r:r + 1], single=True) for r in range(R)]
        return np.concatenate([b for b, _ in parts]), np.concatenate([f_ for _, f_ in parts])
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        try:
            step = cf._newton_step(f.information_final, f.score_final, free)
        except np.linalg.LinAlgError:
            step = np.full((R, p), np.inf)
        moving = (~np.isfinite(step) | (np.abs(step) / (1 + np.abs(f.beta)) >= _cox._STEP_TOL)) & free
    failed = moving.any(axis=1) | ~f.converged | ~np.isfinite(f.beta).all(axis=1)
    return f.beta.copy(), failed


def _slow_chunk(proc: Procedure, W: np.ndarray, horizon: float, remedy, theta) -> dict:
    """:func:`_fast_chunk` by a loop over replicates with the public single-fit functions."""
    R, n = W.shape
    K = len(proc.candidates)
    out = {k: [] for k in ("thr", "sel", "coef", "failed", "null", "c_train", "c_test", "slope", "pred", "high",
                           "n_terms")}
    for r in range(R):
        rows = np.repeat(np.arange(n), W[r].astype(int))
        dev, ix = _develop_rows(proc, rows, horizon, remedy, theta)
        sel = np.array([c in dev.terms for c in proc.candidates])
        coef = np.full(K, np.nan)
        coef[sel] = dev.coef.to_numpy()
        out["thr"].append([dev.cuts[m.term].threshold for m in proc.markers])
        out["sel"].append(sel)
        out["coef"].append(coef)
        out["failed"].append(dev.failed)
        out["null"].append(not dev.terms)
        out["c_train"].append(ix["c_train"])
        out["c_test"].append(ix["c_test"])
        out["slope"].append(ix["slope"])
        out["pred"].append(dev.pred)
        out["high"].append(dev.high)
        out["n_terms"].append(len(dev.terms))
    width = {"thr": len(proc.markers), "sel": K, "coef": K, "pred": n, "high": n}
    return {k: np.array(v, dtype=bool if k in ("sel", "failed", "null") else float).reshape(
        (R, width[k]) if k in width else (R,)) for k, v in out.items()}


def validate_procedure(proc: Procedure, B: int = 200, seed: int | None = None, horizon: float = 24.0,
                       remedy: str | None = "ridge", theta: float = RIDGE_THETA, progress: bool = False,
                       method: str = "fast", chunk: int = 250) -> PipelineResult:
    """Optimism of a whole model-development procedure by the bootstrap.

    Each of ``B`` bootstrap samples (:func:`dmnpc.stats.validation.bootstrap_frequencies`, the
    samples :func:`~dmnpc.stats.validation.validate_cox` draws with the same seed) repeats the
    procedure (cuts, screen, model; see the module docstring); its model is evaluated on the
    sample and on the original data. optimism = mean(training) - mean(test);
    corrected = apparent - optimism, for Harrell's C and the calibration slope (apparent and
    training slope 1).

    Parameters
    ----------
    proc : Procedure
    B : int
        Bootstrap replicates.
    seed : int, optional
        Seed of ``numpy.random.default_rng``; the same seed gives the same result.
    horizon : float
        Time of the predicted survival (the instability matrix).
    remedy : {"ridge", "exclude", None}
        Rule for replicates whose multivariable fit fails (see the module docstring).
    theta : float
        Ridge penalty of ``remedy="ridge"``.
    progress : bool
        Show a tqdm progress bar (replicates).
    method : {"fast", "slow"}
        All replicates at once (default), or a loop with the single-fit functions (reference).
    chunk : int
        Replicates per batch of the fast path (memory; the bar advances per chunk).

    Returns
    -------
    PipelineResult
    """
    if not isinstance(proc, Procedure):
        raise ValueError("validate_procedure takes a Procedure (Procedure.make)")
    if int(B) != B or B < 1:
        raise ValueError(f"The number of bootstrap replicates B must be a positive integer, got {B!r}.")
    if method not in ("fast", "slow"):
        raise ValueError(f"method must be 'fast' or 'slow', got {method!r}.")
    _check_remedy(remedy, theta)
    horizon = check_horizon(horizon, proc.time)
    B = int(B)
    # monotone-likelihood fits overflow on the way out (step halving handles it): no warnings for those
    with _one_blas_thread(), np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        app = _develop_rows(proc, np.arange(proc.n), horizon, remedy, theta)[0]
        if app.failed and remedy == "exclude":
            raise ValueError("The procedure's model has no finite maximum on the original data: there is nothing "
                             "to validate with remedy='exclude'.")
        W = bootstrap_frequencies(proc.n, B, seed)
        lay = cf.layout(proc.time, proc.event)
        pairs = _Pairs(proc.time, proc.event)
        bar = _bar(B, progress)
        parts = []
        step = max(int(chunk), 1) if method == "fast" else 1
        for s in range(0, B, step):
            Wc = W[s:s + step]
            parts.append(_fast_chunk(proc, lay, pairs, Wc, horizon, remedy, theta) if method == "fast"
                         else _slow_chunk(proc, Wc, horizon, remedy, theta))
            bar.update(Wc.shape[0])
        bar.close()
    res = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    failed = res["failed"].astype(bool)
    used = ~failed if remedy == "exclude" else np.ones(B, dtype=bool)
    with np.errstate(invalid="ignore"), _quiet():
        ch = np.where(np.isnan(res["high"]) | np.isnan(app.high)[None, :], np.nan, res["high"] != app.high[None, :])
        recl = np.nanmean(ch, axis=1)
    reps = pd.DataFrame({"c_train": res["c_train"], "c_test": res["c_test"], "slope": res["slope"],
                         "n_terms": res["n_terms"].astype(int), "null": res["null"].astype(bool), "failed": failed,
                         "used": used, "reclassified": recl})
    cand = list(proc.candidates)
    return PipelineResult(
        apparent=app, replicates=reps, selection=pd.DataFrame(res["sel"].astype(bool), columns=cand),
        coef=pd.DataFrame(res["coef"], columns=cand),
        cuts=pd.DataFrame(res["thr"], columns=[m.term for m in proc.markers]), pred=res["pred"], high=res["high"],
        B=B, seed=seed, horizon=horizon, remedy=remedy, theta=theta if remedy == "ridge" else None, alpha=proc.alpha,
        rule=_rule(remedy, theta), method=method)
