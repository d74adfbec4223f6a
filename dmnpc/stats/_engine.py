"""Batched Cox proportional-hazards fits (Efron ties) in NumPy.

Private engine behind :mod:`dmnpc.stats.validation` and :mod:`dmnpc.stats.calibration`.
Many Cox fits that share one set of survival times are done at once: replicate
``b`` is described by integer frequency weights ``w[b]`` (a bootstrap sample is
the original rows with frequencies 0, 1, 2, ...) and optionally its own
covariates ``X[b]``. With frequency weights the Efron partial likelihood is that
of the data set with the rows duplicated, exactly what ``rms::cph`` and
lifelines fit on a resampled data frame: a tie set with ``d`` deaths (counting
duplicates) contributes ``sum_k log(R - k/d * D)``, ``k = 0..d-1``.

A layout made with ``case_weights=True`` reads ``w`` as case (sampling) weights instead, as
survival's ``coxph(weights = w)`` does (coxfit6.c): a tie set of ``d`` deaths *rows* (whatever
their weights) contributes ``m * sum_k log(R - k/d * D)``, ``k = 0..d-1``, with ``m`` the mean
weight of its deaths. With all weights 1 both readings are the same likelihood; with integer
weights and tied deaths they differ (a death of weight 2 is not two tied deaths). Without ties
they agree for any weights.

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
    case_weights: bool = False  # w read as case weights (coxph) rather than frequencies (see the module doc)


def _sort_order(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """``np.lexsort((event, time))``, as one stable argsort of a composite key where possible.

    For finite times >= 0 (sign bit clear) the IEEE bit patterns order as the times do, so
    ``bits * 2 + event`` (event 0/1) orders as (time, event); the stable sort then gives the
    very same permutation as lexsort, in one pass instead of two.
    """
    if (time.size and np.isfinite(time).all() and not np.signbit(time).any()
            and ((event == 0) | (event == 1)).all()):
        key = (time.view(np.uint64) << np.uint64(1)) | event.astype(np.uint64)
        return np.argsort(key, kind="stable")
    return np.lexsort((event, time))


def layout(time: np.ndarray, event: np.ndarray, case_weights: bool = False) -> _Layout:
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=int)
    order = _sort_order(time, event)
    t = time[order]
    e = event[order]
    death_idx = np.flatnonzero(e == 1)
    # tie sets of the (already sorted) death times: what np.unique would return, without its sort
    td = t[death_idx]
    new = np.empty(td.size, dtype=bool)
    new[:1] = True
    np.not_equal(td[1:], td[:-1], out=new[1:])
    group_first = np.flatnonzero(new)
    death_group = np.cumsum(new) - 1
    start = np.searchsorted(t, td[group_first], side="left")
    # rows before the first risk-set start get -1, rows from start[g] on get g
    cum_map = np.repeat(np.arange(-1, start.size), np.diff(np.r_[0, start, t.size]))
    return _Layout(order, t, e, start, death_idx, death_group, group_first, cum_map, bool(case_weights))


def _risk_sums(a: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Sums of ``a`` over sorted rows ``start[g]..n-1`` (risk sets), along axis 1.

    ``start`` is strictly increasing: sum the segments between consecutive
    starts, then cumulate the segments from the last.
    """
    seg = np.add.reduceat(a, start, axis=1)
    return np.flip(np.cumsum(np.flip(seg, 1), axis=1), 1)


@dataclass(frozen=True)
class _Expansion:
    """Efron terms k = 0..d-1 of every (replicate, tie set), flattened (fixed while w is)."""

    wd: np.ndarray  # (B, nd) death frequencies
    bg: np.ndarray  # flat (b * G + g) index of each term
    c: np.ndarray  # k / d of each term
    size: int  # B * G
    m: np.ndarray | None = None  # weight of each term (case weights: mean weight of its deaths); None = 1


def _expand(lay: _Layout, w: np.ndarray) -> _Expansion:
    wd = w[:, lay.death_idx]
    if lay.case_weights:
        cnt = np.diff(np.r_[lay.group_first, lay.death_idx.size])  # death rows of each tie set
        d = np.tile(cnt, w.shape[0])
    else:
        d = np.add.reduceat(wd, lay.group_first, axis=1).ravel().astype(np.int64)
    bg = np.repeat(np.arange(d.size), d)
    first = np.repeat(np.cumsum(d) - d, d)
    k = np.arange(bg.size) - first
    c = k / np.repeat(np.maximum(d, 1), d)
    m = None
    if lay.case_weights:
        m = (np.add.reduceat(wd, lay.group_first, axis=1).ravel() / d)[bg]
    return _Expansion(wd, bg, c, d.size, m)


def _efron_terms(lay: _Layout, Xs: np.ndarray, w: np.ndarray, beta: np.ndarray, need_deriv: bool = True,
                 ex: _Expansion | None = None, one: tuple[np.ndarray, np.ndarray] | None = None):
    """Log-likelihood, score and information for B replicates.

    Xs: (n, p) or (B, n, p) covariates in sorted order; w: (B, n) frequencies in
    sorted order; beta: (B, p). one: optionally ``_one_prep(lay, Xs)`` (shared Xs and
    B = 1, see :func:`_efron_terms_one`), to prepare it once per fit rather than per evaluation.
    """
    if ex is None:
        ex = _expand(lay, w)
    shared = Xs.ndim == 2
    if shared and w.shape[0] == 1:
        return _efron_terms_one(lay, *(_one_prep(lay, Xs) if one is None else one), w[0], beta[0], need_deriv, ex)
    B = w.shape[0]
    eta = (Xs @ beta.T).T if shared else np.einsum("bnp,bp->bn", Xs, beta)
    eta = eta - eta.max(axis=1, keepdims=True)  # stabilise: likelihood is shift invariant
    r = w * np.exp(eta)
    di = lay.death_idx
    gf = lay.group_first
    wd = ex.wd
    R = _risk_sums(r, lay.start)  # (B, G)
    rd = r[:, di]
    D = np.add.reduceat(rd, gf, axis=1)  # (B, G)
    G = R.shape[1]
    den = R.ravel()[ex.bg] - ex.c * D.ravel()[ex.bg]
    logden = np.log(den) if ex.m is None else ex.m * np.log(den)
    ll = np.einsum("bi,bi->b", wd, eta[:, di]) - np.bincount(ex.bg // G, logden, minlength=B)
    if not need_deriv:
        return ll, None, None
    inv = 1.0 / den
    ci = ex.c * inv
    a0, a1 = (inv, ci) if ex.m is None else (ex.m * inv, ex.m * ci)  # each term's weight (case weights)
    sz = ex.size
    s0 = np.bincount(ex.bg, a0, minlength=sz).reshape(B, G)
    s1 = np.bincount(ex.bg, a1, minlength=sz).reshape(B, G)
    t0 = np.bincount(ex.bg, a0 * inv, minlength=sz).reshape(B, G)
    t1 = np.bincount(ex.bg, a1 * inv, minlength=sz).reshape(B, G)
    t2 = np.bincount(ex.bg, a1 * ci, minlength=sz).reshape(B, G)
    # cumulative weight of each row over the tie sets whose risk set contains it
    A = np.cumsum(s0, axis=1)
    A = np.concatenate([np.zeros((B, 1)), A], axis=1)[:, lay.cum_map + 1]
    rA = r * A  # (B, n)
    s1d = s1[:, lay.death_group] * rd  # (B, nd)
    if shared:
        Xd = Xs[di]
        score = (wd + s1d) @ Xd - rA @ Xs
        info = np.matmul((rA[:, :, None] * Xs[None]).transpose(0, 2, 1), Xs) - np.matmul(
            (s1d[:, :, None] * Xd[None]).transpose(0, 2, 1), Xd
        )
        # risk-set sums of r x in (n, B, p) layout: cumulative sums run along contiguous rows
        rXt = r.T[:, :, None] * Xs[:, None, :]
    else:
        Xd = Xs[:, di]
        score = np.einsum("bi,bij->bj", wd + s1d, Xd) - np.einsum("bi,bij->bj", rA, Xs)
        info = np.matmul((rA[:, :, None] * Xs).transpose(0, 2, 1), Xs) - np.matmul(
            (s1d[:, :, None] * Xd).transpose(0, 2, 1), Xd
        )
        rXt = (r[:, :, None] * Xs).transpose(1, 0, 2)
    seg = np.add.reduceat(rXt, lay.start, axis=0)  # sums between consecutive risk-set starts
    RX = np.flip(np.cumsum(np.flip(seg, 0), axis=0), 0).transpose(1, 0, 2)  # (B, G, p)
    DX = np.add.reduceat(rXt[di], gf, axis=0).transpose(1, 0, 2)  # (B, G, p)
    P = RX * t0[..., None] - DX * t1[..., None]
    Q = DX * t2[..., None] - RX * t1[..., None]
    info = info - np.matmul(RX.transpose(0, 2, 1), P) - np.matmul(DX.transpose(0, 2, 1), Q)
    return ll, score, info


def _one_prep(lay: _Layout, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p, n) contiguous copies of sorted covariates and of the deaths' rows, for :func:`_efron_terms_one`."""
    XT = np.ascontiguousarray(Xs.T)
    return XT, XT[:, lay.death_idx]


def _efron_terms_one(lay: _Layout, XT: np.ndarray, XdT: np.ndarray, w: np.ndarray, beta: np.ndarray,
                     need_deriv: bool, ex: _Expansion):
    """:func:`_efron_terms` for one replicate with shared covariates (the single fit).

    The same sums on 1-D arrays and (p, n) arrays (long contiguous rows rather than
    n rows of p), the information products as (p, n) @ (n, p) matrix products; equal to
    the batched form up to floating-point reassociation. XT (p, n) sorted covariates,
    XdT = XT[:, death_idx], w (n,), beta (p,); returns (1,), (1, p), (1, p, p).
    """
    di, gf, bg, start = lay.death_idx, lay.group_first, ex.bg, lay.start
    wd = ex.wd[0]
    eta = beta @ XT
    eta = eta - eta.max()  # stabilise: likelihood is shift invariant
    r = w * np.exp(eta)
    R = np.cumsum(np.add.reduceat(r, start)[::-1])[::-1]  # risk-set sums
    rd = r[di]
    D = np.add.reduceat(rd, gf)
    den = R[bg] - ex.c * D[bg]
    ll = np.array([wd @ eta[di] - (np.log(den).sum() if ex.m is None else ex.m @ np.log(den))])
    if not need_deriv:
        return ll, None, None
    G = R.size
    inv = 1.0 / den
    ci = ex.c * inv
    a0, a1 = (inv, ci) if ex.m is None else (ex.m * inv, ex.m * ci)  # each term's weight (case weights)
    s0 = np.bincount(bg, a0, minlength=G)
    s1 = np.bincount(bg, a1, minlength=G)
    t0 = np.bincount(bg, a0 * inv, minlength=G)
    t1 = np.bincount(bg, a1 * inv, minlength=G)
    t2 = np.bincount(bg, a1 * ci, minlength=G)
    # cumulative weight of each row over the tie sets whose risk set contains it
    A = np.concatenate([[0.0], np.cumsum(s0)])[lay.cum_map + 1]
    rA = r * A
    s1d = s1[lay.death_group] * rd
    score = XdT @ (wd + s1d) - XT @ rA
    info = (XT * rA) @ XT.T - (XdT * s1d) @ XdT.T
    RX = np.cumsum(np.add.reduceat(XT * r, start, axis=1)[:, ::-1], axis=1)[:, ::-1]  # (p, G) risk-set sums
    DX = np.add.reduceat(XdT * rd, gf, axis=1)  # (p, G)
    P = RX * t0 - DX * t1
    Q = DX * t2 - RX * t1
    info = info - RX @ P.T - DX @ Q.T
    return ll, score[None], info[None]


@dataclass(frozen=True)
class BatchFit:
    beta: np.ndarray  # (B, p)
    loglik0: np.ndarray  # (B,) at beta = init
    loglik: np.ndarray  # (B,) at the estimate
    information: np.ndarray  # (B, p, p)
    converged: np.ndarray  # (B,) bool
    iterations: int
    score0: np.ndarray | None = None  # (B, p) score at beta = init
    information0: np.ndarray | None = None  # (B, p, p) information at beta = init
    # score and information at the estimate itself (eps = None: only with ``final_terms=True``, as
    # ``information`` is that of the last Newton iterate before the final step when the Newton
    # decrement stopped; eps given: always, and ``information`` is that at the estimate too)
    score_final: np.ndarray | None = None
    information_final: np.ndarray | None = None


def fit_batch(
    lay: _Layout,
    X: np.ndarray,
    w: np.ndarray | None = None,
    init: np.ndarray | None = None,
    max_iter: int = 30,
    tol: float = 1e-12,
    eps: float | None = None,
    final_terms: bool = False,
    free: np.ndarray | None = None,
) -> BatchFit:
    """Newton-Raphson with step halving for B Efron Cox fits at once.

    X is in the *original* row order, (n, p) shared or (B, n, p); w is (B, n)
    frequencies in original row order (default: ones).

    ``eps=None``: iterate each replicate to full convergence (its Newton
    decrement below 1e-9, then one last full step), as a single fit would: a
    replicate that has converged is left alone while the others go on, so its
    estimate does not depend on the rest of the batch. ``eps`` given: reproduce
    survival's ``coxph.fit`` iteration exactly (stop when
    ``|1 - loglik_old / loglik_new| <= eps`` after a non-halving step, at most
    ``max_iter`` iterations), which is what ``rms::cph`` (eps = 1e-4) and
    ``rms::validate`` (eps = 1e-4, iter.max = 10) use.

    ``free`` (B, p) bool, ``eps=None`` only: the coefficients that are estimated; the others stay
    at ``init`` (0 by default). Replicates with different sets of terms can so share one batch: pad
    each replicate's design to p columns with zero columns and leave those not free. The Newton
    step of the free coefficients is that of the model of the free columns alone.
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
    sub = lambda a, m: a[m] if a.ndim == 3 else a  # noqa: E731
    ex = _expand(lay, ws)
    one = _one_prep(lay, Xs) if Xs.ndim == 2 and B == 1 else None
    ll, score, info = _efron_terms(lay, Xs, ws, beta, ex=ex, one=one)
    ll0 = ll.copy()
    at0 = {"score0": score, "information0": info}
    if eps is not None:
        if free is not None:
            raise ValueError("free coefficients need full convergence (eps=None)")
        return _fit_survival_rule(lay, Xs, ws, beta, ll, ll0, score, info, max_iter, eps, sub, at0, ex, one)
    fm = None if free is None else np.broadcast_to(np.asarray(free, dtype=bool), (B, p))
    converged = np.zeros(B, dtype=bool)
    score, info = score.copy(), info.copy()  # updated in place below; at0 keeps the values at init
    fscore, finfo = score.copy(), info.copy()
    act = np.ones(B, dtype=bool)  # replicates still iterating
    it = 0
    for it in range(1, max_iter + 1):
        idx = np.flatnonzero(act)
        # expansion (and single-fit preparation) of the active replicates; reused while none stops
        if idx.size < B and (it == 1 or idx.size != ex_n):
            ex = _expand(lay, ws[idx])
        ex_n = idx.size
        oa = one if idx.size == B else None
        Xa, wa, sc, inf = sub(Xs, act), ws[idx], score[idx], info[idx]
        step = _newton_step(inf, sc, None if fm is None else fm[idx])
        # singular information (it underflows to 0 as a coefficient runs to infinity): no Newton step;
        # that replicate stops where it is, not converged
        sing = ~np.isfinite(step).all(axis=1)
        step[sing] = 0.0
        # Newton decrement (scale free): below 1e-9 the full step lands within
        # rounding error of the maximum, so take it and stop that replicate
        dec = np.einsum("bp,bp->b", step, sc)
        stop = (np.isfinite(dec) & (dec < 1e-9)) | sing
        if stop.any():
            si = idx[stop]
            beta[si] = beta[si] + step[stop]
            l_s, s_s, i_s = _efron_terms(lay, sub(Xa, stop), wa[stop], beta[si], need_deriv=final_terms,
                                         ex=ex if stop.all() else None, one=oa)
            ll[si] = l_s
            if final_terms:
                fscore[si], finfo[si] = s_s, i_s
            info[si] = inf[stop]  # the information of the last iterate before the final step
            converged[si] = ~sing[stop]
            act[si] = False
            if not act.any():
                break
            go = ~stop
            idx, step = idx[go], step[go]
            Xa, wa = sub(Xa, go), wa[go]
            ex = _expand(lay, wa)
            ex_n = idx.size
            oa = None
        new = beta[idx] + step
        ll_new, sc_new, in_new = _efron_terms(lay, Xa, wa, new, ex=ex, one=oa)
        # step halving where the likelihood went down (as survival's coxph.fit), or cannot be evaluated:
        # far out, every risk in a late risk set can underflow to 0, and log(0) would read as +inf
        ll_old = ll[idx]
        bad = ~(np.isfinite(ll_new) & (ll_new >= ll_old - 1e-12 * np.abs(ll_old)))
        stalled = np.zeros(idx.size, dtype=bool)
        if bad.any():
            new[bad], ll_new[bad], sc_new[bad], in_new[bad], stalled[bad] = _halve(
                lay, sub(Xa, bad), wa[bad], beta[idx[bad]], step[bad], ll_old[bad])
        beta[idx], ll[idx], score[idx], info[idx] = new, ll_new, sc_new, in_new
        fscore[idx], finfo[idx] = sc_new, in_new  # score and information at beta, if it stops here
        # no halving raised the likelihood: it is flat to rounding along the Newton direction, which at a
        # finite maximum the decrement rule would have caught first (monotone likelihood): stop there,
        # not converged, rather than repeat the same failed search until max_iter
        act[idx[stalled]] = False
        if not act.any():
            break
    if not final_terms:
        fscore = finfo = None
    return BatchFit(beta, ll0, ll, info, converged, it, **at0, score_final=fscore, information_final=finfo)


def _halve(lay: _Layout, Xs: np.ndarray, ws: np.ndarray, beta: np.ndarray, step: np.ndarray, ll_old: np.ndarray,
           max_halvings: int = 30):
    """Step halving of the replicates whose full Newton step lowered the likelihood.

    The point is ``beta + step / 2**k`` with the smallest ``k`` in 1..``max_halvings`` at which the
    likelihood is not below ``ll_old`` (relative 1e-12), else ``k = max_halvings``: what halving one
    step at a time gives, with all the ``k`` evaluated in one batch. Returns the new point, the
    log-likelihood, score and information there, and whether no ``k`` raised the likelihood (stalled).
    """
    m, p = beta.shape
    ks = 0.5 ** np.arange(1, max_halvings + 1)
    cand = (beta[:, None, :] + step[:, None, :] * ks[None, :, None]).reshape(m * max_halvings, p)
    rep = np.repeat(np.arange(m), max_halvings)
    l_all = _efron_terms(lay, Xs[rep] if Xs.ndim == 3 else Xs, ws[rep], cand, need_deriv=False)[0]
    ok = (np.isfinite(l_all) & (l_all >= np.repeat(ll_old - 1e-12 * np.abs(ll_old), max_halvings))).reshape(
        m, max_halvings)
    k = np.where(ok.any(axis=1), ok.argmax(axis=1), max_halvings - 1)
    new = beta + step * ks[k][:, None]
    ll, sc, inf = _efron_terms(lay, Xs, ws, new)
    return new, ll, sc, inf, ~ok.any(axis=1)


def _newton_step(info: np.ndarray, score: np.ndarray, free: np.ndarray | None) -> np.ndarray:
    """Newton step ``info^-1 score`` of each replicate, (B, p); with ``free`` (B, p) only the free
    coefficients move (the system of the free rows and columns, the others held by a unit diagonal).
    NaN for a replicate whose information is singular."""
    if free is not None:
        f = free.astype(float)
        info = info * f[:, :, None] * f[:, None, :] + np.eye(info.shape[1]) * (1.0 - f)[:, :, None]
        score = score * f
    try:
        return np.linalg.solve(info, score[..., None])[..., 0]
    except np.linalg.LinAlgError:  # one singular system fails the batch: solve one by one, NaN where singular
        out = np.full(score.shape, np.nan)
        for b in range(score.shape[0]):
            try:
                out[b] = np.linalg.solve(info[b], score[b])
            except np.linalg.LinAlgError:
                pass
        return out


def _fit_survival_rule(lay, Xs, ws, beta, ll, ll0, score, info, max_iter, eps, sub, at0, ex, one) -> BatchFit:
    """survival's coxfit6 iteration, vectorised (see :func:`fit_batch`)."""
    B = beta.shape[0]
    newbeta = beta + np.linalg.solve(info, score[..., None])[..., 0]
    halving = np.zeros(B, dtype=bool)
    done = np.zeros(B, dtype=bool)
    out_beta = beta.copy()
    out_ll = ll.copy()
    out_info = info.copy()
    out_score = score.copy()
    it = 0
    for it in range(1, max_iter + 1):
        act = ~done
        every = act.all()  # then the expansion (and one) of all replicates still applies
        nl, sc, inf = _efron_terms(lay, sub(Xs, act), ws[act], newbeta[act], ex=ex if every else None,
                                   one=one if every else None)
        idx = np.flatnonzero(act)
        conv = (np.abs(1 - ll[act] / nl) <= eps) & ~halving[act]
        if it == max_iter:
            conv = np.ones_like(conv)  # survival returns the last evaluated point
        ci = idx[conv]
        out_beta[ci], out_ll[ci], out_info[ci], out_score[ci] = newbeta[ci], nl[conv], inf[conv], sc[conv]
        done[ci] = True
        if done.all():
            break
        rest = ~conv
        ri = idx[rest]
        worse = ~(nl[rest] >= ll[ri]) | ~np.isfinite(nl[rest])
        hi = ri[worse]
        halving[hi] = True
        newbeta[hi] = (newbeta[hi] + beta[hi]) / 2
        gi = ri[~worse]
        halving[gi] = False
        ll[gi] = nl[rest][~worse]
        step = np.linalg.solve(inf[rest][~worse], sc[rest][~worse][..., None])[..., 0]
        beta[gi] = newbeta[gi]
        newbeta[gi] = newbeta[gi] + step
    # here the information is that at the returned estimate already
    return BatchFit(out_beta, ll0, out_ll, out_info, done, it, **at0, score_final=out_score, information_final=out_info)


def loglik_at(lay: _Layout, X: np.ndarray, beta: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Efron log partial likelihood at given coefficients, (B,)."""
    X = np.asarray(X, dtype=float)
    Xs = X[lay.order] if X.ndim == 2 else X[:, lay.order]
    beta = np.atleast_2d(np.asarray(beta, float))
    B = beta.shape[0]
    ws = np.ones((B, lay.order.size)) if w is None else np.asarray(w, float)[:, lay.order]
    return _efron_terms(lay, Xs, ws, beta, need_deriv=False)[0]


def efron_terms(lay: _Layout, X: np.ndarray, beta: np.ndarray, w: np.ndarray | None = None):
    """Log-likelihood (B,), score (B, p) and information (B, p, p) at ``beta`` (B, p).

    ``X`` (n, p) shared or (B, n, p) per replicate, in original row order; ``w`` (B, n) frequencies
    (default ones).
    """
    X = np.asarray(X, dtype=float)
    beta = np.atleast_2d(np.asarray(beta, float))
    ws = np.ones((beta.shape[0], lay.order.size)) if w is None else np.asarray(w, float)[:, lay.order]
    return _efron_terms(lay, X[lay.order] if X.ndim == 2 else X[:, lay.order], ws, beta)


def baseline_increments(lay: _Layout, lp: np.ndarray, w: np.ndarray | None = None, efron: bool = True) -> np.ndarray:
    """Baseline cumulative-hazard increments at each distinct event time, (B, G).

    ``lp`` (B, n) linear predictors in original row order (the baseline refers to
    lp = 0); ``w`` (B, n) frequencies. Efron-type increment at a tie set with d deaths:
    ``sum_k 1/(R - k/d * D)`` (survival's ``survfit.coxph`` after an Efron fit, as
    ``rms::cph(surv=TRUE)``); Breslow: ``d / R``.
    """
    lp = np.atleast_2d(np.asarray(lp, float))[:, lay.order]
    B = lp.shape[0]
    ws = np.ones((B, lay.order.size)) if w is None else np.asarray(w, float)[:, lay.order]
    r = ws * np.exp(lp)
    di = lay.death_idx
    gf = lay.group_first
    R = _risk_sums(r, lay.start)
    d = np.add.reduceat(ws[:, di], gf, axis=1)
    if not efron:
        return d / R
    D = np.add.reduceat(r[:, di], gf, axis=1)
    K = int(d.max()) if d.size else 0
    k = np.arange(K)
    mask = k[None, None, :] < d[..., None]
    c = k[None, None, :] / np.where(d > 0, d, 1)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mask, 1.0 / np.where(mask, R[..., None] - c * D[..., None], 1.0), 0.0).sum(-1)


def efron_baseline_cumhaz(lay: _Layout, lp: np.ndarray, horizon: float, w: np.ndarray | None = None) -> np.ndarray:
    """Efron-type baseline cumulative hazard at ``horizon`` for B replicates (see :func:`baseline_increments`).

    Event times up to ``horizon + 1e-6`` count, as rms (``cph`` ``surv.summary``, ``groupkm``).
    """
    inc = baseline_increments(lay, lp, w)
    etimes = lay.time[lay.death_idx][lay.group_first]
    return (inc * (etimes <= horizon + 1e-6)[None, :]).sum(axis=1)


def score_residuals(lay: _Layout, X: np.ndarray, beta: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Score residuals of one Efron fit under case weights, (n, p) in original row order.

    survival's ``residuals(coxph, type = "score", weighted = FALSE)`` (coxscore2.c, Efron): row
    ``i`` gets ``delta_i (x_i - mean_k xbar_k) - exp(eta_i) sum_k h_k (x_i - xbar_k) (1 - c_k [i died
    in that tie set])`` over the Efron terms ``k`` (``c_k = k/d``) of the tie sets whose risk set holds
    ``i``, with ``xbar_k = (RX - c_k DX) / (R - c_k D)`` and hazard ``h_k = m / (R - c_k D)`` (``m``
    the mean weight of the tie set's deaths, sums over ``w exp(eta)``). ``w`` (n,) case weights in
    original row order (default ones); the residuals are not multiplied by them (``sum_i w_i
    resid_i`` is the score). The terms are those of a ``case_weights`` layout whatever ``lay`` says.

    References
    ----------
    Therneau TM, Grambsch PM. Modeling Survival Data. Springer, 2000 (sections 4.6, 7.2).
    """
    Xs = np.asarray(X, dtype=float)[lay.order]
    Xs = Xs - Xs.mean(axis=0)  # residuals are shift invariant; centring limits cancellation
    ws = np.ones(Xs.shape[0]) if w is None else np.asarray(w, dtype=float)[lay.order]
    eta = Xs @ np.asarray(beta, dtype=float)
    e = np.exp(eta - eta.max())  # a common factor of exp(eta) and of the sums: h * e is unchanged
    r = ws * e
    di, gf, start, dg = lay.death_idx, lay.group_first, lay.start, lay.death_group
    cnt = np.diff(np.r_[gf, di.size])  # death rows of each tie set = its number of Efron terms
    g = np.repeat(np.arange(cnt.size), cnt)  # tie set of each term; terms of a set are consecutive from gf
    c = (np.arange(di.size) - gf[g]) / cnt[g]
    m = np.add.reduceat(ws[di], gf) / cnt
    rx = r[:, None] * Xs
    R = np.cumsum(np.add.reduceat(r, start)[::-1])[::-1]
    RX = np.cumsum(np.add.reduceat(rx, start, axis=0)[::-1], axis=0)[::-1]
    D = np.add.reduceat(r[di], gf)
    DX = np.add.reduceat(rx[di], gf, axis=0)
    den = R[g] - c * D[g]
    xbar = (RX[g] - c[:, None] * DX[g]) / den[:, None]  # (terms, p)
    h = m[g] / den
    H0 = np.add.reduceat(h, gf)
    H1 = np.add.reduceat(h[:, None] * xbar, gf, axis=0)
    C0 = np.add.reduceat(c * h, gf)
    C1 = np.add.reduceat((c * h)[:, None] * xbar, gf, axis=0)
    M = np.add.reduceat(xbar, gf, axis=0) / cnt[:, None]
    # cumulated over the tie sets whose risk set holds each row (0 before the first)
    cm = lay.cum_map + 1
    cH0 = np.r_[0.0, np.cumsum(H0)][cm]
    cH1 = np.vstack([np.zeros((1, Xs.shape[1])), np.cumsum(H1, axis=0)])[cm]
    L = -e[:, None] * (Xs * cH0[:, None] - cH1)
    L[di] += (Xs[di] - M[dg]) + e[di, None] * (Xs[di] * C0[dg, None] - C1[dg])
    out = np.empty_like(L)
    out[lay.order] = L
    return out


def per_event_time(lay: _Layout, X: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Efron log-likelihood, score and information of one fit, one entry per distinct event time.

    The same Efron terms as :func:`_efron_terms`, kept apart by tie set instead of summed (the
    proportional-hazards test weights each event time's contribution by a function of time).
    ``X`` (n, p) in original row order; returns ``ll`` (G,), ``score`` (G, p), ``info`` (G, p, p).
    Vectorised over risk sets by reverse cumulative sums; memory is O(n p^2).
    """
    Xs = np.asarray(X, dtype=float)[lay.order]
    eta = Xs @ np.asarray(beta, dtype=float)
    eta = eta - eta.max()
    r = np.exp(eta)
    di, gf, start = lay.death_idx, lay.group_first, lay.start
    rx = r[:, None] * Xs
    rxx = rx[:, :, None] * Xs[:, None, :]
    rev = lambda a: np.flip(np.cumsum(np.flip(a, 0), axis=0), 0)[start]  # noqa: E731 - risk-set sums
    R0, R1, R2 = rev(r), rev(rx), rev(rxx)
    D0 = np.add.reduceat(r[di], gf)
    D1 = np.add.reduceat(rx[di], gf, axis=0)
    D2 = np.add.reduceat(rxx[di], gf, axis=0)
    d = np.diff(np.r_[gf, di.size])
    g = np.repeat(np.arange(d.size), d)  # tie set of each Efron term k = 0..d-1
    c = (np.arange(di.size) - np.repeat(gf, d)) / d[g]
    s0 = R0[g] - c * D0[g]
    m1 = (R1[g] - c[:, None] * D1[g]) / s0[:, None]
    m2 = (R2[g] - c[:, None, None] * D2[g]) / s0[:, None, None]
    G = d.size
    ll = np.bincount(g, eta[di] - np.log(s0), minlength=G)
    score = np.add.reduceat(Xs[di] - m1, gf, axis=0)
    info = np.add.reduceat(m2 - m1[:, :, None] * m1[:, None, :], gf, axis=0)
    return ll, score, info
