"""Batched Cox fits of many independent data sets, each sorted by its own times.

Private engine of :mod:`dmnpc.stats.subgroup_sim`. :mod:`dmnpc.stats._engine` batches fits that
share one set of survival times (a bootstrap sample is frequency weights over the same rows); a
simulation draws new times in every replicate, so here every fit has its own rows, sorted by its
own times, and the risk-set sums are reverse cumulative sums along each row.

Restrictions (the callers check them):

* **no tied death times** within a data set (:attr:`RowLayout.tied` flags those that have some).
  Without tied deaths the Efron, Breslow and exact partial likelihoods are one and the same, so
  these fits equal ``coxph``'s (Efron) ones. A death tied with a censoring is fine: at equal
  times deaths are sorted first, so the censored patient is in the death's risk set, as in
  ``survival``;
* **weights 0 or 1** (a patient is in the fit or not): a weight of 2 on a death would be two tied
  deaths.

Newton-Raphson from 0 with step halving; each fit stops on its own (its Newton decrement below
1e-9, then one last full step), so its estimate does not depend on the other fits of the batch;
a fit is *moving* (no finite maximum, as :func:`dmnpc.stats.cox.fit_cox` flags it) when one more
Newton step would still change a coefficient by >= 1e-8 relative to 1 + |coefficient|. With
``theta > 0`` the ridge-penalised likelihood ``loglik - theta * sum(beta^2) / 2`` is maximised
(:func:`dmnpc.stats.validation.ridge_cox`), until the largest step is below 1e-10 relative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__: list[str] = []

#: Newton iterations (:data:`dmnpc.stats.cox.MAX_ITER`).
MAX_ITER = 50
#: Relative step below which a fit has converged (:data:`dmnpc.stats.cox._STEP_TOL`).
STEP_TOL = 1e-8
_DEC_TOL = 1e-9
_RIDGE_TOL = 1e-10
_HALVINGS = 30


@dataclass(frozen=True)
class RowLayout:
    """Each data set's sort order: by time, deaths before censorings at equal times."""

    order: np.ndarray  # (R, n) permutation of each row
    event: np.ndarray  # (R, n) sorted events, float
    tied: np.ndarray  # (R,) bool: two deaths at the same time


def layout_rows(time: np.ndarray, event: np.ndarray) -> RowLayout:
    t = np.asarray(time, float)
    e = np.asarray(event, float)
    order = np.lexsort((-e, t), axis=-1)
    ts = np.take_along_axis(t, order, 1)
    es = np.take_along_axis(e, order, 1)
    tied = ((es[:, 1:] > 0) & (es[:, :-1] > 0) & (ts[:, 1:] == ts[:, :-1])).any(axis=1)
    return RowLayout(order, es, tied)


def _revcumsum(a: np.ndarray) -> np.ndarray:
    """Sums from each row position to the end of the row (risk-set sums), axis 1."""
    return np.flip(np.cumsum(np.flip(a, 1), axis=1), 1)


def _terms(ev: np.ndarray, X: np.ndarray, w: np.ndarray, beta: np.ndarray, need_deriv: bool = True):
    """Log partial likelihood (M,), score (M, p), information (M, p, p) of M sorted data sets.

    ``ev`` (M, n) sorted events, ``X`` (M, n, p) sorted covariates, ``w`` (M, n) 0/1 weights.
    """
    eta = np.einsum("mnp,mp->mn", X, beta) if X.shape[2] > 1 else X[:, :, 0] * beta
    top = np.where(w > 0, eta, -np.inf).max(axis=1, keepdims=True)
    eta = eta - np.where(np.isfinite(top), top, 0.0)  # the likelihood is shift invariant
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        r = w * np.exp(eta)
        S0 = _revcumsum(r)
        d = w * ev
        dead = d > 0
        logS0 = np.log(np.where(dead, S0, 1.0))
        ll = (d * (np.where(dead, eta, 0.0) - logS0)).sum(axis=1)
        if not need_deriv:
            return ll, None, None
        inv = np.where(dead, 1.0 / np.where(dead, S0, 1.0), 0.0)
        rX = r[:, :, None] * X
        xbar = _revcumsum(rX) * inv[:, :, None]  # (M, n, p), 0 where no death
        score = np.einsum("mn,mnp->mp", d, X) - xbar.sum(axis=1)  # d is 0/1: sum_i d_i xbar_i = sum xbar
        A = np.cumsum(d * inv, axis=1)  # sum over deaths i <= j of 1 / S0_i: the risk sets row j is in
        info = np.matmul((rX * A[:, :, None]).transpose(0, 2, 1), X) - np.matmul(xbar.transpose(0, 2, 1), xbar)
    return ll, score, info


def _solve(info: np.ndarray, score: np.ndarray, free: np.ndarray | None) -> np.ndarray:
    """Newton step of each fit (M, p); only the free coefficients move; NaN where singular."""
    if free is not None:
        f = free.astype(float)
        info = info * f[:, :, None] * f[:, None, :] + np.eye(info.shape[1]) * (1.0 - f)[:, :, None]
        score = score * f
    if info.shape[1] == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = score / info[:, :, 0]
        return np.where(np.isfinite(out), out, np.nan)
    try:
        return np.linalg.solve(info, score[..., None])[..., 0]
    except np.linalg.LinAlgError:  # one singular system fails the batch: solve one by one
        out = np.full(score.shape, np.nan)
        for m in range(score.shape[0]):
            try:
                out[m] = np.linalg.solve(info[m], score[m])
            except np.linalg.LinAlgError:
                pass
        return out


@dataclass(frozen=True)
class RowFit:
    beta: np.ndarray  # (M, p)
    converged: np.ndarray  # (M,) the iteration stopped at a maximum (not singular, not stalled, not max_iter)
    moving: np.ndarray  # (M,) one more Newton step would still move a coefficient (no finite maximum)
    information: np.ndarray  # (M, p, p) at the estimate (unpenalised)


def fit_rows(ev: np.ndarray, X: np.ndarray, w: np.ndarray, free: np.ndarray | None = None,
             theta: float = 0.0, max_iter: int = MAX_ITER) -> RowFit:
    """Cox fits of M sorted data sets (see the module docstring); ``free`` (M, p) or None (all)."""
    ev = np.asarray(ev, float)
    X = np.asarray(X, float)
    w = np.asarray(w, float)
    M, n, p = X.shape
    fm = None if free is None else np.asarray(free, bool)
    beta = np.zeros((M, p))
    pen = theta > 0

    def objective(idx, b, need):
        ll, sc, inf = _terms(ev[idx], X[idx], w[idx], b, need)
        if pen:
            ll = ll - theta * (b * b).sum(axis=1) / 2
            if need:
                sc = sc - theta * b
                inf = inf + theta * np.eye(p)[None]
        return ll, sc, inf

    all_ = np.arange(M)
    ll, score, info = objective(all_, beta, True)
    converged = np.zeros(M, dtype=bool)
    act = np.ones(M, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(act)
        if idx.size == 0:
            break
        step = _solve(info[idx], score[idx], None if fm is None else fm[idx])
        sing = ~np.isfinite(step).all(axis=1)
        step[sing] = 0.0
        if pen:
            rel = np.abs(step) / (1.0 + np.abs(beta[idx] + step))
            stop = (rel.max(axis=1) < _RIDGE_TOL) | sing
        else:
            dec = np.einsum("mp,mp->m", step, score[idx])
            stop = (np.isfinite(dec) & (dec < _DEC_TOL)) | sing
        if stop.any():
            si = idx[stop]
            beta[si] = beta[si] + step[stop]
            converged[si] = ~sing[stop]
            act[si] = False
            go = ~stop
            idx, step = idx[go], step[go]
            if idx.size == 0:
                break
        old = ll[idx]
        new = beta[idx] + step
        ll_n, sc_n, in_n = objective(idx, new, True)
        bad = ~(np.isfinite(ll_n) & (ll_n >= old - 1e-12 * np.abs(old)))
        stalled = np.zeros(idx.size, dtype=bool)
        if bad.any():  # step halving, one halving at a time, as survival's coxph.fit
            bi = np.flatnonzero(bad)
            h = np.ones(bi.size, dtype=bool)  # still halving
            frac = 1.0
            for _k in range(_HALVINGS):
                frac /= 2
                cand = beta[idx[bi]] + step[bi] * frac
                lc = objective(idx[bi[h]], cand[h], False)[0]
                ok = np.isfinite(lc) & (lc >= old[bi[h]] - 1e-12 * np.abs(old[bi[h]]))
                hi = np.flatnonzero(h)
                new[bi[hi[ok]]] = cand[hi[ok]]
                h[hi[ok]] = False
                if not h.any():
                    break
            if h.any():  # no halving raised the likelihood: flat along the Newton direction
                new[bi[h]] = beta[idx[bi[h]]] + step[bi[h]] * frac
                stalled[bi[h]] = True
            ll_n[bi], sc_n[bi], in_n[bi] = objective(idx[bi], new[bi], True)
        beta[idx] = new
        ll[idx], score[idx], info[idx] = ll_n, sc_n, in_n
        act[idx[stalled]] = False
    # score and information at the estimate, and the moving check (unpenalised)
    ll_f, sc_f, in_f = _terms(ev, X, w, beta, True)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        st = _solve(in_f, sc_f, fm)
        mov = ~np.isfinite(st) | (np.abs(st) / (1.0 + np.abs(beta)) >= STEP_TOL)
    if fm is not None:
        mov = mov & fm
    moving = mov.any(axis=1) | ~np.isfinite(beta).all(axis=1)
    return RowFit(beta, converged, moving, in_f)
