"""Calibration of predicted survival at a horizon.

* :func:`calibration_km` -- grouped calibration as ``rms::calibrate(cph,
  cmethod = "KM", u, m)``: patients grouped by predicted survival at ``u``
  (about ``m`` per group, cut points at quantiles of the predictions), mean
  predicted survival against the Kaplan-Meier estimate in each group, with an
  optional optimism correction by the bootstrap (:func:`calibration_km_boot`).
* :func:`calibration_smooth` --
  smooth calibration curve of Austin, Harrell & van Klaveren (2020): a Cox model
  of the outcome on a restricted cubic spline of cloglog(predicted risk),
  giving the calibration curve and the ICI, E50 and E90; plus the calibration
  slope (Cox regression of the outcome on cloglog(predicted risk)).

Predictions come from a fitted model (:meth:`dmnpc.stats.cox.CoxFit.predict_survival`,
Efron ties and the Efron-type baseline hazard that ``rms::cph(surv = TRUE)`` uses);
the bootstrap refits that model with the batched engine of :mod:`dmnpc.stats._engine`.

What this adds over the libraries: lifelines has no grouped or smooth calibration of a
Cox model at a horizon; scikit-survival neither. rms's ``calibrate`` and the published
R code of Austin et al. are reproduced (tests against both), with the bootstrap refits
done by the batched engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dmnpc.stats import _engine as cf
from dmnpc.stats import _progress
from dmnpc.stats._validate import check_horizon, check_probability, check_time_event, z_value
from dmnpc.stats.cox import CoxFit
from dmnpc.stats.km import km_at
from dmnpc.stats.splines import rcs_basis, rcs_knots
from dmnpc.stats.validation import _one_blas_thread, bootstrap_frequencies

__all__ = [
    "calibration_groups",
    "calibration_km",
    "calibration_km_boot",
    "SmoothCalibration",
    "calibration_smooth",
    "rcs_basis",
]

_Z975 = z_value(0.95)


def _survival_from_fit(lay, X, beta, horizon, w=None):
    """S(horizon | x) for B fits: Efron baseline of each fit, applied to X (original rows)."""
    lp = np.atleast_2d(beta) @ X.T  # (B, n)
    H0 = cf.efron_baseline_cumhaz(lay, lp, horizon, w)
    return np.exp(-H0[:, None] * np.exp(lp))


def _rms_cuts(pred: np.ndarray, m: int) -> np.ndarray:
    g = max(1, int(np.floor(pred.size / m)))
    return np.unique(np.quantile(np.concatenate([[0.0, 1.0], pred]), np.linspace(0, 1, g + 1)))


def _cut2(x: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Group numbers 0..len(cuts)-2 as Hmisc::cut2(x, cuts): [c0, c1), ..., [c_{l-1}, c_l]."""
    cuts = np.asarray(cuts, float)
    lo, hi = x.min(), x.max()
    if lo < cuts[0]:
        cuts = np.concatenate([[lo], cuts])
    if hi > cuts[-1]:
        cuts = np.concatenate([cuts, [hi]])
    xu = np.unique(np.concatenate([x, cuts]))
    md = np.min(np.diff(xu)) / 2 if xu.size > 1 else 0.0
    k2 = cuts - md
    k2[-1] = cuts[-1]
    return np.searchsorted(k2, x, side="left") - 1


def _km_minus_pred(pred, t, e, horizon, cuts) -> np.ndarray:
    """KM - mean predicted per group (nan for groups with < 2 patients or no KM), arrays only."""
    grp = _cut2(pred, cuts)
    out = np.full(len(cuts) - 1, np.nan)
    for k in range(len(cuts) - 1):
        s = grp == k
        if s.sum() >= 2:
            out[k] = km_at(t[s], e[s], horizon)[0] - pred[s].mean()
    return out


def calibration_groups(pred, time, event, horizon: float, cuts: np.ndarray) -> pd.DataFrame:
    """Mean predicted survival and Kaplan-Meier survival per group of ``cuts`` (``rms::groupkm``)."""
    t = np.asarray(time, float)
    e = np.asarray(event, int)
    grp = _cut2(pred, cuts)
    rows = []
    for k in range(len(cuts) - 1):
        s = grp == k
        nk = int(s.sum())
        if nk < 2:
            km, se = float("nan"), float("nan")
        else:
            km, se = km_at(t[s], e[s], horizon)
        rows.append(
            {
                "group": k + 1,
                "lower_cut": float(cuts[k]),
                "upper_cut": float(cuts[k + 1]),
                "n": nk if nk >= 2 else 0,
                "events": int(e[s].sum()) if nk >= 2 else 0,
                "mean_predicted": float(pred[s].mean()) if nk else float("nan"),
                "km": km,
                "std_err": se,
            }
        )
    df = pd.DataFrame(rows)
    df["km_lower"] = np.where(df["km"] == 0, 0.0, df["km"] * np.exp(-_Z975 * df["std_err"]))
    df["km_upper"] = np.where(df["km"] == 0, 0.0, np.minimum(1.0, df["km"] * np.exp(_Z975 * df["std_err"])))
    return df


def calibration_km(
    pred,
    time,
    event,
    horizon: float,
    m: int = 150,
    cuts=None,
) -> pd.DataFrame:
    """Grouped (Kaplan-Meier) calibration at a horizon, as ``rms::calibrate(cmethod = "KM")``.

    Parameters
    ----------
    pred : array-like
        Predicted survival probabilities at ``horizon``, one per patient (from any
        model; for a Cox fit ``fit.predict_survival(horizon)[:, 0]``, which matches rms).
    time, event : array-like
        Follow-up and event indicator.
    horizon : float
        The time ``u`` at which survival is predicted and observed.
    m : int
        Target patients per group: ``floor(n/m)`` groups cut at quantiles of
        ``c(0, 1, predicted)``, as rms.
    cuts : array-like, optional
        Explicit cut points on the predicted-survival scale (overrides ``m``).

    Returns
    -------
    DataFrame
        One row per group: ``group, lower_cut, upper_cut, n, events,
        mean_predicted, km, std_err`` (Greenwood SE of log KM), ``km_lower,
        km_upper`` (95% log-scale interval, as rms's ``groupkm`` plot).

    References
    ----------
    Harrell FE. Regression Modeling Strategies, 2nd ed. Springer, 2015 (sec. 20.11).
    """
    t, e = check_time_event(time, event, require_events=True)
    h = check_horizon(horizon, t)
    pred = check_probability(pred, t.size, "predicted survival")
    if int(m) != m or m < 2:
        raise ValueError(f"m (patients per group) must be an integer of at least 2, got {m!r}.")
    cuts = _rms_cuts(pred, int(m)) if cuts is None else np.asarray(cuts, float)
    return calibration_groups(pred, t, e, h, cuts)


def calibration_km_boot(
    fit: CoxFit,
    horizon: float,
    m: int = 150,
    B: int = 200,
    seed: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Bootstrap optimism-corrected grouped calibration (``rms::calibrate(cph, cmethod="KM", B=)``).

    The Cox model is refitted in each bootstrap sample; in the sample
    (training) and in the original data (test) patients are grouped with the
    apparent cut points and ``KM - mean predicted`` is computed per group.
    ``optimism = mean(training) - mean(test)``; ``km_corrected = km - optimism``.

    Parameters
    ----------
    fit : CoxFit
        The model (from :func:`dmnpc.stats.cox.fit_cox`); it is refitted in every
        bootstrap sample with its own convergence rule (``eps=1e-4`` mimics rms).
    horizon, m : as :func:`calibration_km`.
    B : int
        Bootstrap replicates.
    seed : int, optional
        Seed of ``numpy.random.default_rng`` (same samples as
        :func:`dmnpc.stats.validation.validate_cox` with that seed).
    progress : bool
        tqdm progress bar.

    Returns
    -------
    DataFrame
        The apparent table of :func:`calibration_km` plus ``index_orig`` (KM -
        mean predicted), ``training``, ``test``, ``optimism``, ``km_corrected``,
        ``n_boot`` (replicates in which the group had a KM estimate).

    References
    ----------
    Harrell FE, Lee KL, Mark DB. Stat Med 1996;15:361-387.
    """
    if not isinstance(fit, CoxFit) or not fit.converged:
        raise ValueError("calibration_km_boot takes a converged fit from dmnpc.stats.cox.fit_cox")
    fit._unstratified("The bootstrap calibration")
    t, e, Xa, eps = fit.time, fit.event, fit.X, fit.eps
    h = check_horizon(horizon, t)
    if int(B) != B or B < 1:
        raise ValueError(f"The number of bootstrap replicates B must be a positive integer, got {B!r}.")
    with _one_blas_thread():
        lay = cf.layout(t, e)
        maxit = 10 if eps is not None else 30
        pred = _survival_from_fit(lay, Xa, fit.coef, h)[0]
        cuts = _rms_cuts(pred, int(m))
        app = calibration_groups(pred, t, e, h, cuts)
        W = bootstrap_frequencies(t.size, int(B), seed)
        boot = cf.fit_batch(lay, Xa, W, init=None if eps is not None else fit.coef, eps=eps, max_iter=maxit)
        S_train = _survival_from_fit(lay, Xa, boot.beta, h, W)  # predictions of each bootstrap fit, original rows
    G = len(cuts) - 1
    tr = np.full((int(B), G), np.nan)
    te = np.full((int(B), G), np.nan)
    bar = _progress.bar(int(B), progress, "bootstrap", unit="fit") if progress else None
    for b in range(int(B)):
        if not np.all(np.isfinite(boot.beta[b])) or e[W[b] > 0].astype(float) @ W[b][W[b] > 0] < 5:
            continue  # rms drops samples with fewer than 5 events
        rows = np.repeat(np.arange(t.size), W[b].astype(int))
        tr[b] = _km_minus_pred(S_train[b][rows], t[rows], e[rows], h, cuts)
        te[b] = _km_minus_pred(S_train[b], t, e, h, cuts)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    ok = np.isfinite(tr) & np.isfinite(te)
    cnt = ok.sum(axis=0)
    with np.errstate(invalid="ignore"):
        trm = np.where(ok, tr, 0).sum(axis=0) / cnt
        tem = np.where(ok, te, 0).sum(axis=0) / cnt
    out = app.copy()
    out["index_orig"] = app["km"] - app["mean_predicted"]
    out["training"] = trm
    out["test"] = tem
    out["optimism"] = trm - tem
    out["km_corrected"] = app["km"] - out["optimism"]
    out["n_boot"] = cnt
    return out


@dataclass(frozen=True)
class SmoothCalibration:
    """Smooth calibration at a horizon (Austin, Harrell & van Klaveren 2020).

    Attributes
    ----------
    curve : DataFrame
        Per patient, sorted by prediction: ``predicted_risk``,
        ``observed_risk`` (calibrated risk from the spline Cox model),
        ``predicted_survival``, ``observed_survival``.
    ici, e50, e90, emax : float
        Mean, median, 90th percentile and maximum of |observed - predicted| risk.
    slope, slope_se : float
        Calibration slope: Cox regression of the outcome on cloglog(predicted
        risk) (1 = ideal; < 1 = predictions too extreme) and its SE.
    knots : ndarray
        Spline knots on the cloglog scale.
    horizon : float
    """

    curve: pd.DataFrame
    ici: float
    e50: float
    e90: float
    emax: float
    slope: float
    slope_se: float
    knots: np.ndarray
    horizon: float


def calibration_smooth(pred, time, event, horizon: float, nk: int = 3, eps: float | None = None) -> SmoothCalibration:
    """Smooth calibration curve, ICI/E50/E90 and calibration slope at a horizon.

    Parameters
    ----------
    pred : array-like
        Predicted survival probabilities at ``horizon``.
    time, event : array-like
        Follow-up and event indicator.
    horizon : float
        Horizon ``t0``.
    nk : int
        Knots of the restricted cubic spline of ``cloglog(1 - pred)`` (3, 4 or 5).
    eps : float, optional
        ``1e-4`` mimics ``rms::cph``'s convergence rule (to reproduce R);
        ``None`` converges fully.

    Returns
    -------
    SmoothCalibration

    Notes
    -----
    Agrees with the R code of Austin et al. (``cph(Surv(t, e) ~ rcs(cll, 3))``,
    ``survest(..., times = t0)``): see tests/reference/ref_calibration.R.

    References
    ----------
    Austin PC, Harrell FE Jr, van Klaveren D. Graphical calibration curves and
    the integrated calibration index (ICI) for survival models. Stat Med
    2020;39:2714-2742.
    """
    t, e = check_time_event(time, event, require_events=True)
    h = check_horizon(horizon, t)
    p = check_probability(pred, t.size, "predicted survival")
    if np.any((p <= 0) | (p >= 1)):
        raise ValueError("Predicted survival must lie strictly between 0 and 1 for a smooth calibration curve.")
    cll = np.log(-np.log(p))  # = log(-log(1 - predicted risk))
    if nk not in (3, 4, 5):
        raise ValueError("The spline may have 3, 4 or 5 knots.")
    if np.unique(cll).size < nk + 1:
        raise ValueError("The predictions take too few distinct values for a spline calibration curve.")
    knots = rcs_knots(cll, nk)
    Z = rcs_basis(cll, knots)
    lay = cf.layout(t, e)
    maxit = 10 if eps is not None else 30
    fit = cf.fit_batch(lay, Z, eps=eps, max_iter=maxit)
    obs_surv = _survival_from_fit(lay, Z, fit.beta, h)[0]
    sfit = cf.fit_batch(lay, cll[:, None])
    slope = float(sfit.beta[0, 0])
    slope_se = float(np.sqrt(1.0 / sfit.information[0, 0, 0]))
    risk, obs = 1 - p, 1 - obs_surv
    diff = np.abs(obs - risk)
    o = np.argsort(risk, kind="stable")
    curve = pd.DataFrame(
        {
            "predicted_risk": risk[o],
            "observed_risk": obs[o],
            "predicted_survival": p[o],
            "observed_survival": obs_surv[o],
        }
    )
    return SmoothCalibration(
        curve=curve,
        ici=float(diff.mean()),
        e50=float(np.median(diff)),
        e90=float(np.quantile(diff, 0.9)),
        emax=float(diff.max()),
        slope=slope,
        slope_se=slope_se,
        knots=knots,
        horizon=h,
    )

