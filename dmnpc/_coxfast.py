"""Batched Cox proportional-hazards fits (Efron ties) in NumPy.

Private engine behind :mod:`dmnpc.validation` and :mod:`dmnpc.calibration`.
Many Cox fits that share one set of survival times are done at once: replicate
``b`` is described by integer frequency weights ``w[b]`` (a bootstrap sample is
the original rows with frequencies 0, 1, 2, ...) and optionally its own
covariates ``X[b]``. With frequency weights the Efron partial likelihood is that
of the data set with the rows duplicated, exactly what ``rms::cph`` and
lifelines fit on a resampled data frame: a tie set with ``d`` deaths (counting
duplicates) contributes ``sum_k log(R - k/d * D)``, ``k = 0..d-1``.

The information matrix is assembled without per-subject ``p x p`` arrays by
exchanging the order of summation (sum over tie sets of risk-set sums = sum over
subjects of a cumulative weight), so one Newton step costs a few batched
matrix products.

References
----------
Efron B. The efficiency of Cox's likelihood function for censored data.
J Am Stat Assoc 1977;72:557-565.
Therneau TM, Grambsch PM. Modeling Survival Data. Springer, 2000 (ch. 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__: list[str] = []


@dataclass(frozen=True)
class _Layout:
    """Sorting and tie-set structure of one set of (time, event) data."""

    order: np.ndarray  # permutation sorting rows by (time, event)
    time: np.ndarray  # sorted times
    event: np.ndarray  # sorted events (0/1)
    start: np.ndarray  # (G,) first sorted index of each event tie set's risk set
    death_idx: np.ndarray  # sorted indices of deaths, grouped by tie set
    death_group: np.ndarray  # tie-set number of each death in death_idx
    group_first: np.ndarray  # start of each tie set inside death_idx (for reduceat)
    cum_map: np.ndarray  # (n,) number of tie sets whose risk set contains row i, minus 1


def layout(time: np.ndarray, event: np.ndarray) -> _Layout:
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=int)
    order = np.lexsort((event, time))
    t = time[order]
    e = event[order]
    death_idx = np.flatnonzero(e == 1)
    etimes, group_first, death_group = np.unique(t[death_idx], return_index=True, return_inverse=True)
    start = np.searchsorted(t, etimes, side="left")
    cum_map = np.searchsorted(start, np.arange(t.size), side="right") - 1
    return _Layout(order, t, e, start, death_idx, death_group, group_first, cum_map)


def _risk_sums(a: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Sums of ``a`` over sorted rows ``start[g]..n-1`` (risk sets), along axis 1."""
    cs = np.cumsum(a, axis=1)
    total = cs[:, -1:]
    prev = np.where((start > 0).reshape((1, -1) + (1,) * (a.ndim - 2)), cs[:, np.maximum(start - 1, 0)], 0.0)
    return total - prev


def _efron_terms(lay: _Layout, Xs: np.ndarray, w: np.ndarray, beta: np.ndarray, need_deriv: bool = True):
    """Log-likelihood, score and information for B replicates.

    Xs: (n, p) or (B, n, p) covariates in sorted order; w: (B, n) frequencies in
    sorted order; beta: (B, p).
    """
    shared = Xs.ndim == 2
    eta = (Xs @ beta.T).T if shared else np.einsum("bnp,bp->bn", Xs, beta)
    eta = eta - eta.max(axis=1, keepdims=True)  # stabilise: likelihood is shift invariant
    r = w * np.exp(eta)
    di = lay.death_idx
    gf = lay.group_first
    wd = w[:, di]  # death frequencies
    R = _risk_sums(r, lay.start)  # (B, G)
    rd = r[:, di]
    D = np.add.reduceat(rd, gf, axis=1)  # (B, G)
    d = np.add.reduceat(wd, gf, axis=1)  # (B, G) deaths per tie set incl. duplicates
    K = int(d.max()) if d.size else 0
    k = np.arange(K, dtype=float)
    mask = k < d[..., None]
    c = k / np.maximum(d, 1.0)[..., None]
    den = np.where(mask, R[..., None] - c * D[..., None], 1.0)
    ll = np.einsum("bi,bi->b", wd, eta[:, di]) - np.log(den).sum(axis=(1, 2))
    if not need_deriv:
        return ll, None, None
    inv = np.where(mask, 1.0 / den, 0.0)
    ci = c * inv
    s0 = inv.sum(-1)
    s1 = ci.sum(-1)
    t0 = (inv * inv).sum(-1)
    t1 = (ci * inv).sum(-1)
    t2 = (ci * ci).sum(-1)
    # cumulative weight of each row over the tie sets whose risk set contains it
    A = np.cumsum(s0, axis=1)
    A = np.concatenate([np.zeros((A.shape[0], 1)), A], axis=1)[:, lay.cum_map + 1]
    rA = r * A  # (B, n)
    s1d = s1[:, lay.death_group] * rd  # (B, nd)
    if shared:
        Xd = Xs[di]
        rX = r[:, :, None] * Xs[None, :, :]
        score = (wd + s1d) @ Xd - rA @ Xs
        info = np.matmul((rA[:, :, None] * Xs[None]).transpose(0, 2, 1), Xs) - np.matmul(
            (s1d[:, :, None] * Xd[None]).transpose(0, 2, 1), Xd
        )
    else:
        Xd = Xs[:, di]
        rX = r[:, :, None] * Xs
        score = np.einsum("bi,bij->bj", wd + s1d, Xd) - np.einsum("bi,bij->bj", rA, Xs)
        info = np.matmul((rA[:, :, None] * Xs).transpose(0, 2, 1), Xs) - np.matmul(
            (s1d[:, :, None] * Xd).transpose(0, 2, 1), Xd
        )
    RX = _risk_sums(rX, lay.start)  # (B, G, p)
    DX = np.add.reduceat(rX[:, di], gf, axis=1)  # (B, G, p)
    P = RX * t0[..., None] - DX * t1[..., None]
    Q = DX * t2[..., None] - RX * t1[..., None]
    info = info - np.matmul(RX.transpose(0, 2, 1), P) - np.matmul(DX.transpose(0, 2, 1), Q)
    return ll, score, info


@dataclass(frozen=True)
class BatchFit:
    beta: np.ndarray  # (B, p)
    loglik0: np.ndarray  # (B,) at beta = init
    loglik: np.ndarray  # (B,) at the estimate
    information: np.ndarray  # (B, p, p)
    converged: np.ndarray  # (B,) bool
    iterations: int


def fit_batch(
    lay: _Layout,
    X: np.ndarray,
    w: np.ndarray | None = None,
    init: np.ndarray | None = None,
    max_iter: int = 30,
    tol: float = 1e-12,
) -> BatchFit:
    """Newton-Raphson with step halving for B Efron Cox fits at once.

    X is in the *original* row order, (n, p) shared or (B, n, p); w is (B, n)
    frequencies in original row order (default: one replicate of ones).
    Convergence: relative change in log-likelihood below ``tol`` and
    maximal Newton step below 1e-9 for every replicate.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 2:
        Xs = X[lay.order]
        p = X.shape[1]
    else:
        Xs = X[:, lay.order]
        p = X.shape[2]
    if w is None:
        B = 1 if X.ndim == 2 else X.shape[0]
        ws = np.ones((B, lay.order.size))
    else:
        ws = np.asarray(w, dtype=float)[:, lay.order]
    B = ws.shape[0]
    beta = np.zeros((B, p)) if init is None else np.broadcast_to(np.asarray(init, float), (B, p)).copy()
    ll, score, info = _efron_terms(lay, Xs, ws, beta)
    ll0 = ll.copy()
    converged = np.zeros(B, dtype=bool)
    it = 0
    for it in range(1, max_iter + 1):
        step = np.linalg.solve(info, score[..., None])[..., 0]
        new = beta + step
        ll_new, sc_new, in_new = _efron_terms(lay, Xs, ws, new)
        # step halving where the likelihood went down (as survival's coxph.fit)
        bad = ~(ll_new >= ll - 1e-12 * np.abs(ll))
        halvings = 0
        while bad.any() and halvings < 20:
            step[bad] /= 2
            new[bad] = beta[bad] + step[bad]
            l2, s2, i2 = _efron_terms(lay, Xs[bad] if Xs.ndim == 3 else Xs, ws[bad], new[bad])
            ll_new[bad], sc_new[bad], in_new[bad] = l2, s2, i2
            bad_sub = ~(l2 >= ll[bad] - 1e-12 * np.abs(ll[bad]))
            idx = np.flatnonzero(bad)
            bad = np.zeros(B, dtype=bool)
            bad[idx[bad_sub]] = True
            halvings += 1
        rel = np.abs(1 - ll / ll_new)
        converged = (rel < tol) & (np.abs(step).max(axis=1) < 1e-9)
        beta, ll, score, info = new, ll_new, sc_new, in_new
        if converged.all():
            break
    return BatchFit(beta, ll0, ll, info, converged, it)


def loglik_at(lay: _Layout, X: np.ndarray, beta: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Efron log partial likelihood at given coefficients, (B,)."""
    X = np.asarray(X, dtype=float)
    Xs = X[lay.order] if X.ndim == 2 else X[:, lay.order]
    beta = np.atleast_2d(np.asarray(beta, float))
    B = beta.shape[0]
    ws = np.ones((B, lay.order.size)) if w is None else np.asarray(w, float)[:, lay.order]
    return _efron_terms(lay, Xs, ws, beta, need_deriv=False)[0]


def efron_baseline_cumhaz(lay: _Layout, lp: np.ndarray, horizon: float, w: np.ndarray | None = None) -> np.ndarray:
    """Efron-type baseline cumulative hazard at ``horizon`` for B replicates.

    ``lp`` (B, n) linear predictors in original row order (the baseline refers to
    lp = 0); ``w`` (B, n) frequencies. Increment at a tie set with d deaths:
    ``sum_k 1/(R - k/d * D)`` (survival's ``survfit.coxph`` for Efron fits,
    as used by ``rms::cph(surv=TRUE)``).
    """
    lp = np.atleast_2d(np.asarray(lp, float))[:, lay.order]
    B = lp.shape[0]
    ws = np.ones((B, lay.order.size)) if w is None else np.asarray(w, float)[:, lay.order]
    r = ws * np.exp(lp)
    di = lay.death_idx
    gf = lay.group_first
    R = _risk_sums(r, lay.start)
    D = np.add.reduceat(r[:, di], gf, axis=1)
    d = np.add.reduceat(ws[:, di], gf, axis=1)
    etimes = lay.time[di][gf]
    keep = etimes <= horizon + 1e-6 * 0
    K = int(d.max()) if d.size else 0
    k = np.arange(K)
    mask = k[None, None, :] < d[..., None]
    c = k[None, None, :] / np.where(d > 0, d, 1)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        inc = np.where(mask, 1.0 / np.where(mask, R[..., None] - c * D[..., None], 1.0), 0.0).sum(-1)
    return (inc * keep[None, :]).sum(axis=1)
