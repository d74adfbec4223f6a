"""Bootstrap internal validation of a Cox model, as ``rms::validate(cph, B)``.

Harrell's optimism bootstrap (Efron-Gong): for each of ``B`` bootstrap samples
the Cox model is refitted; its indexes are computed on the bootstrap sample
(*training*) and, with the bootstrap coefficients, on the original data
(*test*). optimism = mean(training) - mean(test); corrected = apparent -
optimism. The indexes are those of ``rms::validate.cph``:

* ``Dxy``  Somers' rank correlation between the linear predictor and survival
  (2 (C - 1/2), C = Harrell's C, ties in the predictor count 1/2);
  ``C`` = Dxy / 2 + 1/2 is added for convenience;
* ``R2``   Nagelkerke's R2 = (1 - exp(-LR/n)) / (1 - exp(-L0/n)), with LR the
  likelihood-ratio chi-square and L0 = -2 log L(0);
* ``Slope`` calibration slope (coefficient of a Cox refit on the linear predictor);
* ``D`` = (LR - 1) / L0 (discrimination), ``U`` = (unreliability), ``Q`` = D - U;
* ``g``    Gini's mean difference of the linear predictor (g-index).

Two implementations share the bootstrap samples (drawn with NumPy's
``default_rng(seed)``): ``method="fast"`` fits all replicates at once with the
batched Efron Newton-Raphson of :mod:`dmnpc.stats._engine` (bootstrap samples as
frequency weights) and counts concordant pairs over all replicates at once;
``method="slow"`` loops over replicates, refits lifelines' ``CoxPHFitter`` on
the resampled rows and uses :func:`dmnpc.stats.discrimination.harrell_c` (the reference).
R's random numbers differ from NumPy's, so results equal R's only within Monte
Carlo error; the apparent indexes are deterministic and equal R's.

What this adds over the libraries: no Python library has ``rms::validate``'s optimism
bootstrap for Cox models. The batched engine exists for speed (B refits at once:
``benchmarks/bench_validate.py`` measured 0.36 s for B = 200 on gbsg, 54 times faster
than the lifelines loop and below rms's 0.51 s); the lifelines loop stays as an
independent reference.

Replicates without a finite maximum
-----------------------------------
A bootstrap sample can leave a binary term with (almost) no deaths on one side, so its
partial likelihood keeps rising as the coefficient grows: *monotone likelihood*, the
maximum lies at infinity. Newton-Raphson then walks the coefficient out (to 20-30 on
the paper's twin) until the likelihood is flat to rounding, and every stopping rule
based on the change in log-likelihood -- ``coxph``'s, and the engine's -- reports
convergence. Such a replicate is not a failed fit in the ``rms`` sense and is kept, yet
its coefficient is an artefact of the iteration count, not an estimate; it inflates the
training g and R2 and pulls the test calibration slope towards 0.

:func:`validate_cox` flags these replicates (``ValidationResult.flagged``) with the rule
:func:`dmnpc.stats.cox.fit_cox` uses for the original fit (``cox._moving``): the
replicate is refitted to full convergence from its own estimate and flagged when one
more Newton step would still move a coefficient by at least ``cox._STEP_TOL`` (1e-8)
relative to ``1 + |coefficient|``. At a finite maximum Newton converges quadratically
and the next step is at rounding level (below 1e-14 relative on the twin); on a monotone
likelihood score and information shrink together (both ~ exp(-beta)), so the step stays
of order 1 however far the coefficient has walked. The rule therefore separates the two
cases by many orders of magnitude and, unlike a bound on ``|beta|``, needs no threshold
chosen by eye: a large but finite coefficient (the maximum exists, e.g. one death
among the unexposed) is not flagged, a diverging one is whatever its current size.

Remedies (``remedy=``): ``"ridge"`` refits each flagged replicate with the ridge penalty
``theta * sum(beta^2) / 2`` subtracted from the log partial likelihood (survival's
``ridge(..., theta, scale = FALSE)``; :func:`ridge_cox`), which has a finite maximum for
any ``theta > 0``; the unflagged replicates and the original fit keep their
unpenalised maxima, so the procedure validated is "the maximum-likelihood fit when it
exists, else the ridge fit", applied alike to the data and to every bootstrap sample.
``"exclude"`` drops the flagged replicates (``n`` in the table counts those used); it
needs no tuning constant but conditions on the samples in which the model could be
fitted, which are the less overfitted ones, so it understates the optimism.
Without a remedy (the default, as ``rms::validate``) the replicates are used as
fitted, which overstates it; the two bracket the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dmnpc.stats import _engine as cf
from dmnpc.stats import _progress
from dmnpc.stats import cox as _cox
from dmnpc.stats.cox import CoxFit
from dmnpc.stats.discrimination import harrell_c

__all__ = ["ValidationResult", "validate_cox", "bootstrap_frequencies", "ridge_cox", "diverging",
           "RIDGE_THETA", "REMEDIES"]

INDEXES = ["Dxy", "C", "R2", "Slope", "D", "U", "Q", "g"]

#: Largest hazard ratio (and smallest, its inverse) the default ridge penalty treats as plausible
#: for one binary term at the 95% level.
RIDGE_HR_BOUND = 100.0
#: Default ridge penalty: theta = 1 / sd^2 of the normal prior on each log hazard ratio that the
#: penalty equals, with sd chosen so that 95% of the prior lies between 1/100 and 100
#: (sd = log(100) / 1.96, theta = 0.181). Weak: it leaves the full-data coefficients of the
#: paper's model (log HR 1.3-1.9) nearly where they are and only stops a diverging one.
RIDGE_THETA = float((1.959963984540054 / np.log(RIDGE_HR_BOUND)) ** 2)
#: Treatments of replicates whose likelihood has no finite maximum.
REMEDIES = (None, "ridge", "exclude")


@dataclass(frozen=True)
class ValidationResult:
    """Result of :func:`validate_cox`.

    Attributes
    ----------
    table : DataFrame
        Index ``Dxy, C, R2, Slope, D, U, Q, g``; columns ``index_orig``
        (apparent), ``training``, ``test``, ``optimism``, ``index_corrected``,
        ``n`` (replicates used) -- the layout of ``rms::validate``.
    training, test : DataFrame
        Per-replicate indexes (B rows), for Monte Carlo error and plots.
    coef : ndarray
        Bootstrap coefficients, shape (B, p).
    B, seed, method, eps : as passed.
    n_failed : int
        Replicates dropped because the refit failed (non-finite coefficients).
    flagged : ndarray of bool, shape (B,)
        Replicates whose partial likelihood has no finite maximum (a coefficient diverges;
        see the module docstring for the rule). Detected on the unpenalised refits, whatever
        the remedy.
    diverged : Series
        For each model term, the number of flagged replicates in which its coefficient
        diverges (a replicate can count for several terms).
    remedy : {None, "ridge", "exclude"}
        What was done with the flagged replicates (None: used as fitted, as rms).
    theta : float or None
        Ridge penalty of the ``"ridge"`` remedy.
    """

    table: pd.DataFrame
    training: pd.DataFrame
    test: pd.DataFrame
    coef: np.ndarray
    B: int
    seed: int | None
    method: str
    eps: float | None
    n_failed: int
    flagged: np.ndarray | None = None
    diverged: pd.Series | None = None
    remedy: str | None = None
    theta: float | None = None

    @property
    def n_flagged(self) -> int:
        """Number of replicates whose likelihood has no finite maximum."""
        return 0 if self.flagged is None else int(self.flagged.sum())

    @property
    def diverged_terms(self) -> tuple[str, ...]:
        """The terms that diverge in at least one replicate, most often first."""
        if self.diverged is None:
            return ()
        d = self.diverged[self.diverged > 0].sort_values(ascending=False, kind="stable")
        return tuple(str(k) for k in d.index)

    def corrected(self, index: str = "C") -> float:
        """Optimism-corrected value of one index, as a Python float."""
        return float(self.table.loc[index, "index_corrected"])

    def apparent(self, index: str = "C") -> float:
        """Apparent (original-sample) value of one index, as a Python float."""
        return float(self.table.loc[index, "index_orig"])


def bootstrap_frequencies(n: int, B: int, seed: int | None) -> np.ndarray:
    """How often each patient appears in each of ``B`` bootstrap samples, (B, n).

    Sample ``b`` is ``numpy.random.default_rng(seed).integers(0, n, (B, n))[b]``.
    """
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(B, n))
    flat = (idx + n * np.arange(B)[:, None]).ravel()
    return np.bincount(flat, minlength=B * n).reshape(B, n).astype(float)


def _gini_md(x: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Gini's mean difference per row of ``x`` (B, n), with frequency weights.

    Equal to ``Hmisc::GiniMd`` of the vector with each value repeated ``w`` times:
    sum_{i<j} |x_i - x_j| / choose(N, 2).
    """
    x = np.atleast_2d(x)
    w = np.ones_like(x) if w is None else np.atleast_2d(w)
    o = np.argsort(x, axis=1, kind="stable")
    xs = np.take_along_axis(x, o, 1)
    ws = np.take_along_axis(w, o, 1)
    N = ws.sum(axis=1)
    before = np.cumsum(ws, axis=1) - ws
    # sum over the ranks k occupied by value i of (2k - N - 1) = w_i (2 before_i + w_i - N)
    s = np.sum(ws * xs * (2 * before + ws - N[:, None]), axis=1)
    return 2.0 * s / (N * (N - 1))


class _Pairs:
    """Somers' Dxy of many risk scores on one set of survival data, vectorised.

    Death ``i`` is compared with the patients followed longer and those censored
    at its time (survival's convention; deaths tied on time are not compared).
    Give every patient an entry key ``a`` (patients in decreasing order of
    follow-up; at a tied time the censored enter before the deaths are compared,
    the deaths after) and every death a query key ``b``; then ``j`` is compared
    with ``i`` iff ``a_j < b_i``: a fixed prefix ``K_i`` of the entry order. The
    count of that prefix with a lower risk rank is read from cumulative rank
    histograms of whole blocks of ``S ~ sqrt(n)`` entries plus a direct
    comparison with the (< S) remaining entries -- O(B n sqrt(n)) work in a few
    array operations instead of O(B n^2) or a Python loop.
    """

    def __init__(self, t: np.ndarray, e: np.ndarray):
        n = t.size
        ut = np.unique(t)[::-1]  # decreasing distinct times
        blk = np.searchsorted(-ut, -t)  # block number of each patient (0 = longest)
        a = 2 * blk + np.where(e == 1, 2, 0)  # censored enter before, deaths after the query
        self.entry = np.argsort(a, kind="stable")  # patients in entry order
        a_sorted = a[self.entry]
        self.dead = np.flatnonzero(e == 1)
        b = 2 * blk[self.dead] + 1
        self.K = np.searchsorted(a_sorted, b, side="left")  # size of each death's comparison set
        self.n = n
        # block size balancing the histogram (n^2/S) and direct (deaths x S) work
        self.S = max(1, int(n / np.sqrt(max(self.dead.size, 1))))
        self.C = -(-n // self.S)
        self.full = self.K // self.S
        start = self.full * self.S
        off = np.arange(self.S)
        pos = start[:, None] + off[None, :]
        self.pmask = pos < self.K[:, None]
        self.ppos = np.where(self.pmask, pos, 0)

    def dxy(self, lp: np.ndarray, w: np.ndarray | None = None, chunk: int = 64) -> np.ndarray:
        """Somers' Dxy (hazard orientation) of each row of ``lp`` (B, n); pairs weighted by w_i w_j."""
        lp = np.atleast_2d(np.asarray(lp, float))
        ws = [None] if w is None else [np.atleast_2d(w)]
        return self.dxy_many(lp, ws, chunk)[0]

    def dxy_many(self, lp: np.ndarray, weights: list, chunk: int = 64) -> list[np.ndarray]:
        """Dxy of each row of ``lp`` under several weightings (None = unweighted), sharing the ranking."""
        lp = np.atleast_2d(np.asarray(lp, float))
        outs = [np.empty(lp.shape[0]) for _ in weights]
        for s in range(0, lp.shape[0], chunk):
            sl = slice(s, s + chunk)
            res = self._dxy(lp[sl], [None if w is None else w[sl] for w in weights])
            for o, r in zip(outs, res):
                o[sl] = r
        return outs

    def _dxy(self, lp, weights):
        B, n = lp.shape
        o = np.argsort(lp, axis=1, kind="stable")
        srt = np.take_along_axis(lp, o, 1)
        dense = np.concatenate([np.zeros((B, 1)), (np.diff(srt, axis=1) != 0)], axis=1).cumsum(axis=1)
        rank = np.empty((B, n), dtype=np.int64)
        np.put_along_axis(rank, o, dense.astype(np.int64), 1)  # 0-based dense ranks
        m = int(rank.max()) + 1
        rk_e = rank[:, self.entry]
        chunk_of = np.arange(n) // self.S
        flat = ((np.arange(B)[:, None] * (self.C + 1) + chunk_of[None, :] + 1) * m + rk_e).ravel()
        rd = rank[:, self.dead]
        bi = np.arange(B)[:, None]
        fc = self.full[None, :]
        rdm1 = np.maximum(rd - 1, 0)
        has_below = rd > 0
        # remaining entries of each death's comparison set, compared directly
        rp = rk_e[:, self.ppos]  # (B, nd, S)
        rdi = rd[:, :, None]
        lt = (rp < rdi) & self.pmask[None]
        gt = (rp > rdi) & self.pmask[None]
        out = []
        for w in weights:
            if w is None:
                w = np.ones((B, n))
            w_e = w[:, self.entry]
            # histogram of entry blocks x rank, cumulated over blocks (exclusive) and ranks
            H = np.bincount(flat, weights=w_e.ravel(), minlength=B * (self.C + 1) * m)
            H = H.reshape(B, self.C + 1, m).cumsum(axis=2).cumsum(axis=1)
            tot_full = H[bi, fc, m - 1]
            below = H[bi, fc, rdm1] * has_below
            upto = H[bi, fc, rd]
            wp = w_e[:, self.ppos]
            below = below + np.einsum("bds,bds->bd", wp, lt)
            above = (tot_full - upto) + np.einsum("bds,bds->bd", wp, gt)
            npair = tot_full + np.einsum("bds,ds->bd", wp, self.pmask.astype(float))
            wd = w[:, self.dead]
            with np.errstate(invalid="ignore", divide="ignore"):
                out.append((np.sum(wd * (below - above), axis=1)) / np.sum(wd * npair, axis=1))
        return out


def _indexes(dxy, lr, ll0m2, n, slope, U, g) -> dict[str, np.ndarray]:
    R2 = (1 - np.exp(-lr / n)) / (1 - np.exp(-ll0m2 / n))
    D = (lr - 1) / ll0m2
    return {"Dxy": dxy, "C": dxy / 2 + 0.5, "R2": R2, "Slope": slope, "D": D, "U": U, "Q": D - U, "g": g}


def validate_cox(fit: CoxFit, B: int = 200, seed: int | None = None, progress: bool = False,
                 method: str = "fast", remedy: str | None = None, theta: float = RIDGE_THETA) -> ValidationResult:
    """Optimism-corrected indexes of a fitted Cox model by the bootstrap (``rms::validate``).

    Parameters
    ----------
    fit : CoxFit
        The model, from :func:`dmnpc.stats.cox.fit_cox` (it carries its data). Every
        bootstrap refit uses the fit's convergence rule: ``fit_cox(..., eps=1e-4)``
        reproduces ``rms``'s (cph and validate use ``coxph.fit(eps = 1e-4, iter.max = 10)``),
        so the apparent indexes equal R's digit for digit; the default converges fully.
    B : int
        Number of bootstrap replicates (rms default 40; 200 or more recommended).
    seed : int, optional
        Seed of ``numpy.random.default_rng``; the same seed gives the same result,
        for either method.
    progress : bool
        Show a tqdm progress bar.
    method : {"fast", "slow"}
        Batched NumPy fits (default) or a loop refitting lifelines' ``CoxPHFitter`` on the
        resampled rows (an independent reference for tests and the benchmark; same samples).
    remedy : {None, "ridge", "exclude"}
        Treatment of the replicates whose likelihood has no finite maximum (always detected
        and reported in ``flagged``/``diverged``): None uses them as fitted (``rms``),
        ``"ridge"`` refits them with the ridge penalty ``theta`` (:func:`ridge_cox`),
        ``"exclude"`` drops them. See the module docstring for the trade-off.
    theta : float
        Ridge penalty of ``remedy="ridge"`` (default :data:`RIDGE_THETA`).

    Returns
    -------
    ValidationResult

    Raises
    ------
    ValueError
        A fit that did not converge, fewer than two events, an invalid ``B`` or ``method``.

    References
    ----------
    Harrell FE, Lee KL, Mark DB. Multivariable prognostic models: issues in
    developing models, evaluating assumptions and adequacy, and measuring and
    reducing errors. Stat Med 1996;15:361-387.
    Efron B, Gong G. A leisurely look at the bootstrap, the jackknife, and
    cross-validation. Am Stat 1983;37:36-48.
    Harrell FE. Regression Modeling Strategies, 2nd ed. Springer, 2015 (sec. 5.3).
    """
    if not isinstance(fit, CoxFit):
        raise ValueError("validate_cox takes a fitted model from dmnpc.stats.cox.fit_cox")
    fit._unstratified("The bootstrap validation")
    if not fit.converged:
        raise ValueError("The Cox model has no finite maximum (monotone likelihood): there is nothing to validate.")
    if int(B) != B or B < 1:
        raise ValueError(f"The number of bootstrap replicates B must be a positive integer, got {B!r}.")
    if method not in ("fast", "slow"):
        raise ValueError(f"method must be 'fast' or 'slow', got {method!r}.")
    if fit.n_events < 2:
        raise ValueError("At least two events are needed to fit and validate a Cox model.")
    if remedy not in REMEDIES:
        raise ValueError(f"remedy must be one of {REMEDIES}, got {remedy!r}.")
    if remedy == "ridge" and not (np.isfinite(theta) and theta > 0):
        raise ValueError(f"The ridge penalty theta must be a positive number, got {theta!r}.")
    with _one_blas_thread():
        return _validate_cox(fit, int(B), seed, progress, method, remedy, float(theta))


def _validate_cox(fit: CoxFit, B: int, seed: int | None, progress: bool, method: str,
                  remedy: str | None = None, theta: float = RIDGE_THETA) -> ValidationResult:
    """Body of :func:`validate_cox` (which runs it with single-threaded BLAS)."""
    t, e, Xa, eps = fit.time, fit.event, fit.X, fit.eps
    n = t.size
    W = bootstrap_frequencies(n, B, seed)
    lay = cf.layout(t, e)
    pairs = _Pairs(t, e)
    # apparent: the fit on its own data
    lp0 = (Xa @ fit.coef)[None, :]
    ll0m2 = -2 * np.atleast_1d(fit.loglik_null)
    app = _indexes(pairs.dxy(lp0), -2 * (fit.loglik_null - np.atleast_1d(fit.loglik)), ll0m2, n, np.ones(1),
                   -2 / ll0m2, _gini_md(lp0))
    if method == "fast":
        beta, tr_ll0, tr_ll = _fast_fits(lay, Xa, W, fit.coef, eps, 10 if eps is not None else 30, progress)
    else:
        beta, tr_ll0, tr_ll = _slow_fits(Xa, t, e, W, lay, progress)
    ok = np.isfinite(beta).all(axis=1) & np.isfinite(tr_ll)
    if not ok.any():
        raise ValueError("The Cox model could not be refitted in any bootstrap sample.")
    moving = np.zeros(beta.shape, dtype=bool)
    moving[ok] = _diverging(lay, Xa, W[ok], beta[ok])
    flagged = moving.any(axis=1)
    diverged = pd.Series(moving.sum(axis=0).astype(int), index=list(fit.terms), name="diverged")
    use = ok & ~flagged if remedy == "exclude" else ok.copy()
    if remedy == "ridge" and flagged.any():
        beta = beta.copy()
        tr_ll = tr_ll.copy()
        beta[flagged] = _ridge_batch(lay, Xa, W[flagged], theta)
        tr_ll[flagged] = cf.loglik_at(lay, Xa, beta[flagged], W[flagged])  # unpenalised, as the indexes need
    if not use.any():
        raise ValueError("No bootstrap sample left a Cox model with a finite maximum to validate.")
    lp = beta[use] @ Xa.T  # (B, n): bootstrap coefficients applied to the original rows
    train, test = _train_test(lay, pairs, lp, W[use], tr_ll0[use], tr_ll[use], t, e, eps, method)
    tr_df = pd.DataFrame(train)[INDEXES]
    te_df = pd.DataFrame(test)[INDEXES]
    index_orig = pd.Series({k: float(v[0]) for k, v in app.items()})[INDEXES]
    optimism = tr_df.mean() - te_df.mean()
    table = pd.DataFrame({"index_orig": index_orig, "training": tr_df.mean(), "test": te_df.mean(),
                          "optimism": optimism, "index_corrected": index_orig - optimism, "n": int(use.sum())})
    return ValidationResult(table=table, training=tr_df, test=te_df, coef=beta, B=B, seed=seed, method=method,
                            eps=eps, n_failed=int((~ok).sum()), flagged=flagged, diverged=diverged,
                            remedy=remedy, theta=theta if remedy == "ridge" else None)


def _diverging(lay, Xa: np.ndarray, W: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Which coefficients of each weighted fit diverge (monotone likelihood), (B, p) bool.

    Each fit is continued to full convergence from ``beta`` (a no-op for the engine's own
    full-convergence fits; rms's ``eps = 1e-4`` rule and lifelines stop earlier), then a
    coefficient is flagged when one more Newton step would move it by ``cox._STEP_TOL`` or
    more relative to ``1 + |coefficient|`` -- :func:`dmnpc.stats.cox.fit_cox`'s rule.
    """
    f = cf.fit_batch(lay, Xa, W, init=beta, max_iter=_cox.MAX_ITER)
    b = np.where(np.isfinite(f.beta), f.beta, beta)
    _, score, info = cf.efron_terms(lay, Xa, b, W)
    out = np.ones(b.shape, dtype=bool)
    for k in range(b.shape[0]):  # only a few hundred small systems; cox._moving is the one rule
        if np.isfinite(b[k]).all():
            out[k] = _cox._moving(score[k], info[k], b[k])
    return out


def diverging(fit: CoxFit, weights) -> np.ndarray:
    """Which coefficients diverge when ``fit``'s model is refitted with frequency ``weights``.

    Parameters
    ----------
    fit : CoxFit
        The model and data.
    weights : array-like, shape (B, n) or (n,)
        Frequency weights (a bootstrap sample: how often each patient is drawn).

    Returns
    -------
    ndarray of bool, shape (B, p)
        True where the weighted partial likelihood has no finite maximum in that
        coefficient (the rule of the module docstring).
    """
    fit._unweighted("The divergence check of bootstrap samples")
    W = np.atleast_2d(np.asarray(weights, dtype=float))
    lay = cf.layout(fit.time, fit.event)
    f = cf.fit_batch(lay, fit.X, W, init=fit.coef, max_iter=_cox.MAX_ITER)
    return _diverging(lay, fit.X, W, f.beta)


def _ridge_batch(lay, Xa: np.ndarray, W: np.ndarray, theta: float, max_iter: int = 100) -> np.ndarray:
    """Maximisers of ``loglik(beta) - theta * sum(beta^2) / 2`` for each row of ``W``, (B, p).

    ``Xa`` (n, p) shared or (B, n, p) per replicate (a zero column gets a zero coefficient).

    Newton-Raphson from 0 with step halving on the penalised likelihood (strictly concave,
    so the maximum is unique and finite), until the largest step is below 1e-10 relative
    to ``1 + |beta|``.
    """
    B, p = W.shape[0], Xa.shape[-1]
    beta = np.zeros((B, p))
    pen = lambda b: theta * np.sum(b * b, axis=1) / 2  # noqa: E731
    ll, score, info = cf.efron_terms(lay, Xa, beta, W)
    pl = ll - pen(beta)
    eye = theta * np.eye(p)
    for _ in range(max_iter):
        step = np.linalg.solve(info + eye, (score - theta * beta)[..., None])[..., 0]
        new = beta + step
        ll_n, sc_n, in_n = cf.efron_terms(lay, Xa, new, W)
        pl_n = ll_n - pen(new)
        for _h in range(30):
            bad = ~(np.isfinite(pl_n) & (pl_n >= pl - 1e-12 * np.abs(pl)))
            if not bad.any():
                break
            step[bad] /= 2
            new[bad] = beta[bad] + step[bad]
            ll_b, sc_b, in_b = cf.efron_terms(lay, Xa[bad] if Xa.ndim == 3 else Xa, new[bad], W[bad])
            ll_n[bad], sc_n[bad], in_n[bad], pl_n[bad] = ll_b, sc_b, in_b, ll_b - pen(new[bad])
        beta, score, info, pl = new, sc_n, in_n, pl_n
        if np.all(np.abs(step) / (1 + np.abs(beta)) < 1e-10):
            break
    return beta


def ridge_cox(time, event, X, theta: float, weights=None) -> np.ndarray:
    """Ridge-penalised Cox coefficients (Efron ties), as survival's ``ridge(..., scale = FALSE)``.

    Maximises ``log L(beta) - theta * sum(beta^2) / 2``, ``log L`` the Efron partial
    likelihood: ``coxph(Surv(time, event) ~ ridge(x1, ..., xp, theta = theta, scale = FALSE))``.
    The maximum is finite for any ``theta > 0``, also under monotone likelihood.

    Parameters
    ----------
    time, event : array-like
        Follow-up times and 0/1 event indicators.
    X : array-like or DataFrame, shape (n, p)
        Numeric predictors (not standardised: ``scale = FALSE``).
    theta : float
        Penalty, > 0.
    weights : array-like, shape (n,) or (B, n), optional
        Frequency weights (one fit per row).

    Returns
    -------
    ndarray
        Coefficients, shape (p,) (or (B, p) for 2-D ``weights``).

    References
    ----------
    Verweij PJM, van Houwelingen HC. Penalized likelihood in Cox regression.
    Stat Med 1994;13:2427-2436.
    """
    from dmnpc.stats._validate import check_time_event

    if not (np.isfinite(theta) and theta > 0):
        raise ValueError(f"The ridge penalty theta must be a positive number, got {theta!r}.")
    t, e = check_time_event(time, event, require_events=True)
    Xa, _ = _cox.design_array(X, t.size)
    W = np.ones(t.size) if weights is None else np.asarray(weights, dtype=float)
    if W.shape[-1] != t.size or W.ndim > 2 or not (np.isfinite(W).all() and (W >= 0).all()):
        raise ValueError(f"weights must be non-negative frequencies, one per patient ({t.size}), "
                         f"got shape {W.shape}")
    beta = _ridge_batch(cf.layout(t, e), Xa, np.atleast_2d(W), float(theta))
    return beta if W.ndim == 2 else beta[0]


def _train_test(lay, pairs, lp, Wk, tr_ll0, tr_ll, t, e, eps, method) -> tuple[dict, dict]:
    """Indexes of each bootstrap fit on its own sample (training) and on the original data (test)."""
    n = t.size
    # training: the bootstrap fit on its own sample (rms: evalfit = TRUE)
    tll0m2 = -2 * tr_ll0
    if method == "fast":
        dxy_tr, dxy_te = pairs.dxy_many(lp, [Wk, None])
    else:
        dxy_tr = np.array([_slow_dxy(t, e, lp[b], Wk[b]) for b in range(lp.shape[0])])
        dxy_te = np.array([harrell_c(t, e, r).somers_d for r in lp])
    train = _indexes(dxy_tr, -2 * (tr_ll0 - tr_ll), tll0m2, n, np.ones(lp.shape[0]), -2 / tll0m2,
                     _gini_md(lp, Wk))
    # test: original data, slope refit of the outcome on the bootstrap linear predictor
    slope, s_ll0, s_ll = _slope_fits(lay, lp, t, e, eps, method)
    s_ll_frozen = cf.loglik_at(lay, lp[:, :, None], np.ones((lp.shape[0], 1)))
    sll0m2 = -2 * s_ll0
    test = _indexes(dxy_te, -2 * (s_ll0 - s_ll), sll0m2, n, slope, -2 * (s_ll_frozen - s_ll) / sll0m2,
                    _gini_md(slope[:, None] * lp))
    return train, test


def _fast_fits(lay, Xa, W, beta_full, eps, maxit, progress, chunk: int = 100):
    B = W.shape[0]
    p = Xa.shape[1]
    beta = np.empty((B, p))
    ll0 = np.empty(B)
    ll = np.empty(B)
    bar = _bar(B, progress)
    for s in range(0, B, chunk):
        sl = slice(s, min(B, s + chunk))
        # rms starts every fit at 0; full convergence may start at the full-data estimate
        init = None if eps is not None else beta_full
        f = cf.fit_batch(lay, Xa, W[sl], init=init, eps=eps, max_iter=maxit)
        beta[sl] = np.where(f.converged[:, None] | (eps is not None), f.beta, np.nan)
        ll[sl] = f.loglik
        ll0[sl] = f.loglik0 if init is None else cf.loglik_at(lay, Xa, np.zeros((sl.stop - sl.start, p)), W[sl])
        bar.update(sl.stop - sl.start)
    bar.close()
    return beta, ll0, ll


def _slow_fits(Xa, t, e, W, lay, progress):
    from lifelines import CoxPHFitter

    B, n = W.shape
    p = Xa.shape[1]
    cols = [f"x{j}" for j in range(p)]
    df = pd.DataFrame(Xa, columns=cols)
    df["time"] = t
    df["event"] = e
    beta = np.full((B, p), np.nan)
    bar = _bar(B, progress)
    for b in range(B):
        rows = np.repeat(np.arange(n), W[b].astype(int))
        try:
            m = CoxPHFitter().fit(df.iloc[rows], "time", "event", fit_options={"precision": 1e-12})
            beta[b] = m.params_[cols].to_numpy()
        except Exception:  # noqa: BLE001 - a failed refit is dropped, as rms does
            pass
        bar.update(1)
    bar.close()
    # log-likelihoods of the duplicated data at 0 and at the estimate
    good = np.isfinite(beta).all(axis=1)
    ll = np.full(B, np.nan)
    ll0 = cf.loglik_at(lay, Xa, np.zeros((B, p)), W)
    if good.any():
        ll[good] = cf.loglik_at(lay, Xa, beta[good], W[good])
    return beta, ll0, ll


def _slow_dxy(t, e, lp, w) -> float:
    rows = np.repeat(np.arange(t.size), w.astype(int))
    return harrell_c(t[rows], e[rows], lp[rows]).somers_d


def _slope_fits(lay, lp, t, e, eps, method):
    """Cox refit of the original outcome on each bootstrap linear predictor."""
    Bk = lp.shape[0]
    if method == "fast":
        f = cf.fit_batch(lay, lp[:, :, None], eps=eps, max_iter=10 if eps is not None else 30)
        return f.beta[:, 0], f.loglik0, f.loglik
    from lifelines import CoxPHFitter

    slope = np.empty(Bk)
    for b in range(Bk):
        d = pd.DataFrame({"lp": lp[b], "time": t, "event": e})
        slope[b] = CoxPHFitter().fit(d, "time", "event", fit_options={"precision": 1e-12}).params_["lp"]
    ll0 = cf.loglik_at(lay, lp[:, :, None], np.zeros((Bk, 1)))
    ll = cf.loglik_at(lay, lp[:, :, None], slope[:, None])
    return slope, ll0, ll


def _one_blas_thread():
    """Single-threaded BLAS: the batched fits are many small products, where
    thread start-up costs more than it saves (measured 2x slower on 2 cores)."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=1)
    except ImportError:  # pragma: no cover - threadpoolctl is optional
        import contextlib

        return contextlib.nullcontext()


def _bar(total: int, progress: bool):
    return _progress.bar(total, progress, "bootstrap", unit="fit")
