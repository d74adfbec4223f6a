"""A score developed on the data, a split at its mean, a treatment compared within each group, on many data sets.

The pattern this module reproduces is a prognostic-model paper's subgroup analysis: develop a
risk score by a procedure (cut points searched on the data, a univariable screen, a
multivariable Cox model; :mod:`dmnpc.stats.pipeline`), split the patients at the mean score,
then compare treated with untreated patients within each risk group
(:func:`dmnpc.stats.subgroup.hr_by_stratum`). :func:`develop_split_compare` does all of it on
``R`` data sets of the same shape (simulated replicates), each with its own survival times.

Per data set, exactly what the single-data-set functions do (the ``"slow"`` method runs them, and
the default ``"fast"`` one is tested equal to it):

1. **cut points** (:func:`youden_rows`): each marker's Youden-optimal cut against death
   (the data set's event indicator), pROC's midpoint threshold, ties to the highest
   sensitivity, direction fixed beforehand (:class:`dmnpc.stats.pipeline.CutMarker`);
2. **screen**: one univariable Cox model per candidate on the patients who have it, kept when its
   Wald P < ``alpha``; a term that is constant, has no deaths, or has no finite maximum is not kept;
3. **model**: one Cox model of the kept terms on the complete cases; an aliased term is dropped
   (as ``coxph`` gives it ``NA``); a fit with no finite maximum is *failed* and, with
   ``remedy="ridge"``, refitted with the ridge penalty ``theta``
   (:func:`dmnpc.stats.pipeline.develop`'s rule); no term kept = the null model (everybody low risk);
4. **split**: high risk = linear predictor above the mean over the model's complete cases
   (a patient missing a model term has no risk group);
5. **comparison**: within each risk group, the Cox hazard ratio of *no treatment vs treatment*
   (Efron ties, Wald P; :func:`dmnpc.stats.subgroup.hr_by_stratum`'s model and test).

A within-group comparison is **not estimable** (HR and P are NaN, and ``why_high``/``why_low``
says why) when the group is empty (``"empty"``), has one arm only (``"one_arm"``), has an arm
without deaths (``"arm_no_deaths"``: the HR's maximum-likelihood estimate is infinite; this
includes a group without deaths), or its likelihood has no finite maximum although both arms have
deaths (``"monotone"``, every death of one arm after the other arm left the risk set). A data
set without deaths or without survivors cannot be analysed at all (``"not_analysable"``).

Speed: the ``"fast"`` method runs every step on all data sets at once: the cut searches as sorted
cumulative sums per row, the ``R x candidates`` univariable fits and the ``R`` multivariable fits
(padded to a common width) and the ``2 R`` within-group fits in batches of the private engine
:mod:`dmnpc.stats._rowcox`, each fit stopping on its own so that a data set's results do not
depend on the others in its batch. That engine needs data without tied death times (simulated
continuous times have none); a data set with tied deaths goes through the ``"slow"`` path
(Efron's ties), and ``exact_path`` says which did.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from dmnpc.stats import _rowcox as rc
from dmnpc.stats.pipeline import CutMarker, Procedure, _aliased, _split, develop
from dmnpc.stats.validation import RIDGE_THETA

__all__ = ["youden_rows", "develop_split_compare", "NOT_ESTIMABLE", "GROUPS"]

#: Reasons a within-group comparison is not estimable (the values of ``why_high``/``why_low``; "" if it is).
NOT_ESTIMABLE: dict[str, str] = {
    "empty": "no patient in this risk group",
    "one_arm": "one arm only in this risk group",
    "arm_no_deaths": "an arm without deaths (infinite hazard ratio)",
    "monotone": "no finite maximum of the likelihood although both arms have deaths",
    "not_analysable": "the data set has no deaths or no survivors: no cut point, no model",
}
#: The two risk groups, code -> value of the split (1 = above the mean score).
GROUPS: dict[str, int] = {"high": 1, "low": 0}
_REMEDIES = (None, "ridge")


# ----------------------------------------------------------------------------- cut points
def youden_rows(marker, outcome, direction: str) -> np.ndarray:
    """Youden-optimal cut (pROC's midpoint threshold) of each row, (R,).

    Row ``r`` gives ``dmnpc.stats.roc.youden_cut(marker[r], outcome[r], direction).threshold``:
    thresholds are the midpoints between consecutive distinct values (and -inf, +inf), the
    criterion is the integer ``TP * controls + TN * cases`` (ties exact), and among tied cuts the
    one with the highest sensitivity wins. NaN for a row whose outcome has one class only.

    Parameters
    ----------
    marker : array-like, (R, n)
    outcome : array-like of {0, 1}, (R, n)
    direction : {"<", ">"}
        ``"<"``: higher values go with the event (positive = above the cut); ``">"``: lower values do.
    """
    if direction not in ("<", ">"):
        raise ValueError(f"direction must be '<' or '>', got {direction!r}")
    m = np.atleast_2d(np.asarray(marker, float))
    y = np.atleast_2d(np.asarray(outcome, float))
    if m.shape != y.shape:
        raise ValueError(f"marker {m.shape} and outcome {y.shape} differ in shape")
    R, n = m.shape
    o = np.argsort(m, axis=1, kind="stable")
    v = np.take_along_axis(m, o, 1)
    ys = np.take_along_axis(y, o, 1)
    z = np.zeros((R, 1))
    Cc = np.concatenate([z, np.cumsum(ys, 1)], 1)  # split s: the s smallest values below it
    Ct = np.concatenate([z, np.cumsum(1.0 - ys, 1)], 1)
    ncase, nctrl = Cc[:, -1:], Ct[:, -1:]
    tp, tn = (ncase - Cc, Ct) if direction == "<" else (Cc, nctrl - Ct)
    crit = tp * nctrl + tn * ncase
    valid = np.ones((R, n + 1), dtype=bool)
    valid[:, 1:n] = v[:, :-1] < v[:, 1:]
    crit = np.where(valid, crit, -np.inf)
    best = crit == crit.max(axis=1, keepdims=True)
    s = best.argmax(axis=1) if direction == "<" else n - best[:, ::-1].argmax(axis=1)
    rows = np.arange(R)
    lo = v[rows, np.maximum(s - 1, 0)]
    hi = v[rows, np.minimum(s, n - 1)]
    thr = np.where(s == 0, -np.inf, np.where(s == n, np.inf, (lo + hi) / 2.0))
    return np.where((ncase[:, 0] > 0) & (nctrl[:, 0] > 0), thr, np.nan)


def _cut(values: np.ndarray, thr: np.ndarray, direction: str) -> np.ndarray:
    return (values > thr[:, None] if direction == "<" else values < thr[:, None]).astype(float)


# ----------------------------------------------------------------------------- the batch
def _check(time, event, treatment, fixed, fixed_names, markers, candidates, alpha, remedy, theta, method):
    t = np.atleast_2d(np.asarray(time, float))
    e = np.atleast_2d(np.asarray(event, float))
    tr = np.atleast_2d(np.asarray(treatment, float))
    R, n = t.shape
    if e.shape != (R, n) or tr.shape != (R, n):
        raise ValueError(f"time {t.shape}, event {e.shape} and treatment {tr.shape} must have one shape (R, n)")
    if not (np.isfinite(t).all() and (t >= 0).all()):
        raise ValueError("times must be finite and >= 0")
    if not np.isin(e, (0.0, 1.0)).all() or not np.isin(tr, (0.0, 1.0)).all():
        raise ValueError("event and treatment must be 0/1")
    F = np.asarray(fixed, float)
    if F.ndim == 2 and len(fixed_names) == 0:
        F = F.reshape(R, n, 0)
    if F.shape[:2] != (R, n) or F.ndim != 3 or F.shape[2] != len(fixed_names):
        raise ValueError(f"fixed must be (R, n, {len(fixed_names)}), got {F.shape}")
    if np.isinf(F).any():
        raise ValueError("fixed has infinite values (NaN marks a missing value)")
    for mk in markers:
        if mk.direction not in ("<", ">"):
            raise ValueError(f"the direction of {mk.term} must be '<' or '>', got {mk.direction!r}")
        if np.shape(mk.values) != (R, n) or not np.isfinite(mk.values).all():
            raise ValueError(f"marker {mk.term} must be finite values of shape (R, n)")
    names = list(fixed_names) + [mk.term for mk in markers]
    cand = tuple(candidates)
    if len(set(names)) < len(names) or not cand or len(set(cand)) < len(cand) or not set(cand) <= set(names):
        raise ValueError(f"candidates must be distinct fixed columns or marker terms; got {cand}, have {names}")
    if alpha is not None and not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, or None for no screen; got {alpha!r}")
    if remedy not in _REMEDIES:
        raise ValueError(f"remedy must be one of {_REMEDIES}, got {remedy!r}")
    if remedy == "ridge" and not (np.isfinite(theta) and theta > 0):
        raise ValueError(f"the ridge penalty theta must be a positive number, got {theta!r}")
    if method not in ("fast", "slow"):
        raise ValueError(f"method must be 'fast' or 'slow', got {method!r}")
    return t, e, tr, F


def develop_split_compare(time, event, treatment, fixed, fixed_names: Sequence[str] = (),
                          markers: Sequence[CutMarker] = (), *, candidates: Sequence[str],
                          alpha: float | None = 0.05, remedy: str | None = "ridge", theta: float = RIDGE_THETA,
                          method: str = "fast", details: bool = False):
    """The development procedure, the mean split and the within-group comparison on R data sets.

    Parameters
    ----------
    time, event : array-like, (R, n)
        Follow-up and 0/1 death of each data set (the cut points are searched against ``event``).
    treatment : array-like, (R, n)
        0/1, 1 = treated. Hazard ratios are *without vs with* treatment (HR > 1: worse without it).
    fixed : array-like, (R, n, K)
        Candidate terms that are not cut on the data (0/1 or numeric; NaN = missing).
    fixed_names : sequence of str
        Their names (K).
    markers : sequence of :class:`dmnpc.stats.pipeline.CutMarker`
        Candidate terms made by a cut searched in each data set; ``values`` is (R, n).
    candidates : sequence of str
        The screen's candidates, in order (fixed names and marker terms).
    alpha : float or None
        Screen level; None keeps every candidate.
    remedy : {"ridge", None}
        A multivariable fit with no finite maximum is refitted with the ridge penalty ``theta``
        (default, :func:`dmnpc.stats.pipeline.develop`'s rule), or used as fitted (None).
    method : {"fast", "slow"}
        All data sets at once (default), or one by one with the single-data-set functions
        (:func:`dmnpc.stats.pipeline.develop`, :func:`dmnpc.stats.subgroup.hr_by_stratum`).

    Returns
    -------
    pandas.DataFrame
        One row per data set: ``deaths``, ``n_treated``, ``n_terms``, ``null_model`` (no term
        kept), ``failed_fit`` (the multivariable fit had no finite maximum), ``cut_<term>`` per
        marker, ``sel_<term>`` per candidate, then for each group ``g`` in (high, low): ``n_g``,
        ``treated_g``, ``deaths_g``, ``hr_g``, ``lower_g``, ``upper_g``, ``p_g`` (NaN when not
        estimable), ``why_g`` ("" or a key of :data:`NOT_ESTIMABLE`), and ``exact_path``
        (computed by the single-data-set functions: ``method="slow"`` or tied death times).
    dict
        Only with ``details=True``, returned second: ``screen_p`` (R, candidates; NaN when not
        estimable or without a screen), ``coef`` (R, candidates; NaN for terms not in the model),
        ``threshold`` (R,; the mean linear predictor, 0 for the null model) and ``high``
        (R, n; 1 high risk, 0 low, NaN without a risk group).
    """
    t, e, tr, F = _check(time, event, treatment, fixed, fixed_names, markers, candidates, alpha, remedy, theta,
                         method)
    R, n = t.shape
    cand = tuple(candidates)
    deaths = e.sum(axis=1)
    analysable = (deaths > 0) & (deaths < n)
    lay = rc.layout_rows(t, e)
    exact = analysable & (lay.tied | (method == "slow"))
    out = _empty(R, cand, markers)
    det = {"screen_p": np.full((R, len(cand)), np.nan), "coef": np.full((R, len(cand)), np.nan),
           "threshold": np.full(R, np.nan), "high": np.full((R, n), np.nan)}
    out["deaths"] = deaths.astype(int)
    out["n_treated"] = tr.sum(axis=1).astype(int)
    out["exact_path"] = exact
    for g in GROUPS:
        out[f"why_{g}"] = np.where(analysable, "", "not_analysable").astype(object)
    fast = np.flatnonzero(analysable & ~exact)
    if fast.size:
        _fast(out, fast, t[fast], e[fast], tr[fast], F[fast], list(fixed_names),
              [CutMarker(mk.term, np.asarray(mk.values, float)[fast], mk.direction) for mk in markers],
              cand, alpha, remedy, theta, rc.RowLayout(lay.order[fast], lay.event[fast], lay.tied[fast]), det)
    for r in np.flatnonzero(exact):
        _slow_one(out, r, t[r], e[r], tr[r], F[r], list(fixed_names),
                  [CutMarker(mk.term, np.asarray(mk.values, float)[r], mk.direction) for mk in markers],
                  cand, alpha, remedy, theta, det)
    return (pd.DataFrame(out), det) if details else pd.DataFrame(out)


def _empty(R: int, cand, markers) -> dict:
    nan = np.full(R, np.nan)
    out = {"deaths": np.zeros(R, int), "n_treated": np.zeros(R, int), "n_terms": np.zeros(R, int),
           "null_model": np.zeros(R, bool), "failed_fit": np.zeros(R, bool)}
    for mk in markers:
        out[f"cut_{mk.term}"] = nan.copy()
    for c in cand:
        out[f"sel_{c}"] = np.zeros(R, bool)
    for g in GROUPS:
        out.update({f"n_{g}": np.zeros(R, int), f"treated_{g}": np.zeros(R, int), f"deaths_{g}": np.zeros(R, int),
                    f"hr_{g}": nan.copy(), f"lower_{g}": nan.copy(), f"upper_{g}": nan.copy(), f"p_{g}": nan.copy()})
    out["exact_path"] = np.zeros(R, bool)
    return out


_Z = float(stats.norm.ppf(0.975))


def _wald(b, info):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        se = np.sqrt(1.0 / info)
        return np.exp(b), np.exp(b - _Z * se), np.exp(b + _Z * se), 2.0 * stats.norm.sf(np.abs(b / se))


def _fast(out, rows, t, e, tr, F, fnames, markers, cand, alpha, remedy, theta, lay, det) -> None:
    R, n = t.shape
    K = len(cand)
    # 1. cut points
    X = np.zeros((R, n, K))
    obs = np.ones((R, n, K), dtype=bool)
    for k, c in enumerate(cand):
        if c in fnames:
            v = F[:, :, fnames.index(c)]
            obs[:, :, k] = ~np.isnan(v)
            X[:, :, k] = np.where(obs[:, :, k], v, 0.0)
    for mk in markers:
        thr = youden_rows(mk.values, e, mk.direction)
        out[f"cut_{mk.term}"][rows] = thr
        if mk.term in cand:
            X[:, :, cand.index(mk.term)] = _cut(mk.values, thr, mk.direction)
    o = lay.order
    ev = lay.event
    Xs = np.take_along_axis(X, o[:, :, None], 1)
    obs_s = np.take_along_axis(obs, o[:, :, None], 1)
    # 2. screen: R x K univariable fits, each on the patients who have the term
    if alpha is None:
        sel = np.ones((R, K), dtype=bool)
    else:
        wk = obs_s.astype(float)
        hi = np.where(obs_s, Xs, -np.inf).max(axis=1)
        lo = np.where(obs_s, Xs, np.inf).min(axis=1)
        est = (hi > lo) & ((wk * ev[:, :, None]).sum(axis=1) > 0)
        ri, ki = np.nonzero(est)
        p = np.full((R, K), np.nan)
        if ri.size:
            f = rc.fit_rows(ev[ri], Xs[ri, :, ki][:, :, None], wk[ri, :, ki])
            pv = _wald(f.beta[:, 0], f.information[:, 0, 0])[3]
            p[ri, ki] = np.where(f.moving, np.nan, pv)
        det["screen_p"][rows] = p
        with np.errstate(invalid="ignore"):
            sel = p < alpha
    # 3. the multivariable model of the kept terms, padded to a common width, on the complete cases
    cc = ~((~obs).astype(float) @ sel[:, :, None].astype(float) > 0)[:, :, 0]  # (R, n)
    korder = np.argsort(~sel, axis=1, kind="stable")
    pmax = max(int(sel.sum(axis=1).max()), 1)
    korder = korder[:, :pmax]
    free = np.take_along_axis(sel, korder, 1)
    Xp = np.take_along_axis(X, korder[:, None, :], 2) * free[:, None, :]
    al = _aliased(Xp, cc.astype(float), free)
    if al.any():
        free = free & ~al
        Xp = Xp * free[:, None, :]
        sel = np.zeros_like(sel)
        np.put_along_axis(sel, korder, free, 1)
    has = free.any(axis=1)
    beta = np.zeros((R, pmax))
    failed = np.zeros(R, dtype=bool)
    hi_ = np.flatnonzero(has)
    if hi_.size:
        Xps = np.take_along_axis(Xp[hi_], o[hi_][:, :, None], 1)
        ccs = np.take_along_axis(cc[hi_], o[hi_], 1).astype(float)
        f = rc.fit_rows(ev[hi_], Xps, ccs, free[hi_])
        b = np.where(free[hi_], f.beta, 0.0)
        failed[hi_] = f.moving
        if remedy == "ridge" and f.moving.any():
            m = f.moving
            fr = rc.fit_rows(ev[hi_][m], Xps[m], ccs[m], free[hi_][m], theta=theta)
            b[m] = np.where(free[hi_][m], fr.beta, 0.0)
        beta[hi_] = b
    # 4. the split at the mean linear predictor of the complete cases (the null model: everybody low)
    lp = np.einsum("rnp,rp->rn", Xp, beta)
    mean_lp = np.where(has, (cc * lp).sum(axis=1) / np.maximum(cc.sum(axis=1), 1), 0.0)
    high = np.where(has[:, None], _split(np.where(cc, lp, np.nan), mean_lp), 0.0)
    coef = np.full((R, K), np.nan)
    np.put_along_axis(coef, korder, np.where(free, beta, np.nan), 1)
    det["coef"][rows], det["threshold"][rows], det["high"][rows] = coef, mean_lp, high
    out["n_terms"][rows] = free.sum(axis=1)
    out["null_model"][rows] = ~has
    out["failed_fit"][rows] = failed
    for k, c in enumerate(cand):
        out[f"sel_{c}"][rows] = sel[:, k]
    # 5. no treatment vs treatment within each risk group
    hs = np.take_along_axis(high, o, 1)
    untreated = 1.0 - np.take_along_axis(tr, o, 1)
    groups = list(GROUPS.items())
    W = np.concatenate([(hs == v).astype(float) for _, v in groups])  # (2R, n)
    E2 = np.concatenate([ev, ev])
    U2 = np.concatenate([untreated, untreated])
    n_g = W.sum(axis=1)
    n_u = (W * U2).sum(axis=1)
    d_u = (W * U2 * E2).sum(axis=1)
    d_t = (W * (1 - U2) * E2).sum(axis=1)
    why = np.where(n_g == 0, "empty", np.where((n_u == 0) | (n_u == n_g), "one_arm",
                                                 np.where((d_u == 0) | (d_t == 0), "arm_no_deaths", "")))
    hr, lower, upper, pval = (np.full(2 * R, np.nan) for _ in range(4))
    go = np.flatnonzero(why == "")
    if go.size:
        f = rc.fit_rows(E2[go], U2[go][:, :, None], W[go])
        h_, l_, u_, p_ = _wald(f.beta[:, 0], f.information[:, 0, 0])
        ok = ~f.moving
        hr[go[ok]], lower[go[ok]], upper[go[ok]], pval[go[ok]] = h_[ok], l_[ok], u_[ok], p_[ok]
        why[go[~ok]] = "monotone"
    for j, (g, _) in enumerate(groups):
        s = slice(j * R, (j + 1) * R)
        out[f"n_{g}"][rows] = n_g[s]
        out[f"treated_{g}"][rows] = (n_g - n_u)[s]
        out[f"deaths_{g}"][rows] = (d_u + d_t)[s]
        out[f"hr_{g}"][rows], out[f"lower_{g}"][rows], out[f"upper_{g}"][rows] = hr[s], lower[s], upper[s]
        out[f"p_{g}"][rows] = pval[s]
        out[f"why_{g}"][rows] = why[s]


def _slow_one(out, r, t, e, tr, F, fnames, markers, cand, alpha, remedy, theta, det) -> None:
    """One data set with the single-data-set functions (the reference of :func:`_fast`)."""
    from dmnpc.stats.cox import fit_cox
    from dmnpc.stats.subgroup import hr_by_stratum

    fixed = pd.DataFrame(F, columns=fnames)[[c for c in cand if c in fnames]]
    proc = Procedure.make(t, e, fixed, [m for m in markers if m.term in cand], cut_outcome=e, candidates=cand,
                          alpha=alpha)
    dev = develop(proc, horizon=float(t.max()), remedy=remedy, theta=theta)
    for mk in markers:
        out[f"cut_{mk.term}"][r] = dev.cuts[mk.term].threshold if mk.term in dev.cuts else \
            youden_rows(mk.values[None], e[None], mk.direction)[0]
    if dev.screen is not None:
        det["screen_p"][r] = dev.screen["p"].to_numpy(float)
    det["coef"][r] = [dev.coef[c] if c in dev.terms else np.nan for c in cand]
    det["threshold"][r], det["high"][r] = dev.threshold, dev.high
    out["n_terms"][r] = len(dev.terms)
    out["null_model"][r] = not dev.terms
    out["failed_fit"][r] = dev.failed
    for c in cand:
        out[f"sel_{c}"][r] = c in dev.terms
    m = ~np.isnan(dev.high)
    for g, v in GROUPS.items():
        inside = m & (dev.high == v)
        ti, ei, ri = t[inside], e[inside], tr[inside]
        out[f"n_{g}"][r] = int(inside.sum())
        out[f"treated_{g}"][r] = int(ri.sum())
        out[f"deaths_{g}"][r] = int(ei.sum())
        if not inside.any():
            out[f"why_{g}"][r] = "empty"
        elif ri.min() == ri.max():
            out[f"why_{g}"][r] = "one_arm"
        elif ei[ri == 1].sum() == 0 or ei[ri == 0].sum() == 0:
            out[f"why_{g}"][r] = "arm_no_deaths"
        elif not fit_cox(ti, ei, (1.0 - ri)[:, None]).converged:
            out[f"why_{g}"][r] = "monotone"
        else:
            rec = hr_by_stratum(ti, ei, ri, np.full(ti.size, g)).iloc[0]
            out[f"hr_{g}"][r], out[f"lower_{g}"][r], out[f"upper_{g}"][r] = rec["hr"], rec["lower"], rec["upper"]
            out[f"p_{g}"][r] = rec["p"]
