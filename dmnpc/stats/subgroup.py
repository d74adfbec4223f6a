"""Risk groups from a score, treatment effects within them, and the treatment x stratum interaction.

A common pattern in prognostic-model papers: split patients at the mean (or median) of
a risk score, then compare treated with untreated patients within each risk group. A
significant effect in one group and a non-significant one in the other is not evidence
that the effect differs between groups; the proper test is the treatment x stratum
interaction in one Cox model (Altman & Bland 2003; Wang et al. 2007), provided by
:func:`interaction_test`.

What this adds over the libraries: lifelines and statsmodels fit the Cox models and
log-rank tests themselves; this module only arranges them per stratum (counts, notes
on what is not estimable instead of an exception) and builds the interaction model.

Conventions
-----------
* ``treatment`` is 0/1 with 1 = received the treatment. Hazard ratios are **without vs
  with** treatment: HR > 1 means worse survival without it.
* Cox models are :func:`dmnpc.stats.cox.fit_cox` (Efron ties, R's default, converged to
  ``coxph`` precision); confidence intervals and P values are Wald; the log-rank test is
  :func:`dmnpc.stats.km.logrank_test` (``survdiff``).
* Arguments follow the package's one convention: ``time, event`` first, then the
  treatment indicator and the stratum of each patient.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from dmnpc.stats._validate import check_binary, check_group, check_horizon, check_marker, check_time_event, z_value
from dmnpc.stats.cox import fit_cox
from dmnpc.stats.km import kaplan_meier, logrank_test, survival_at

__all__ = ["risk_groups", "hr_by_stratum", "hr_record", "InteractionTest", "interaction_test",
           "ContinuousInteraction", "interaction_continuous", "survival_difference", "landmark"]

_Z = z_value(0.95)


# --------------------------------------------------------------------------- risk groups
def risk_groups(total_points: Any, threshold: str | float = "mean", *,
                at_threshold: str = "low") -> pd.Series:
    """Split patients into low- and high-risk groups at a threshold of their score.

    Parameters
    ----------
    total_points : array-like or pandas.Series
        Nomogram total points (or any risk score: higher = higher risk).
    threshold : {'mean', 'median'} or float
        Where to cut: the mean score (the paper's choice), the median, or a fixed value (e.g. the
        development cohort's mean applied to new patients).
    at_threshold : {'low', 'high'}
        Group of a score exactly equal to the threshold. Default 'low': "high" means strictly above
        the threshold (the paper's "score above average"), i.e. R's ``ifelse(score > cut, "high",
        "low")``. Ties matter with the median and with few binary predictors (few distinct scores).

    Returns
    -------
    pandas.Series
        Ordered categorical ``['low', 'high']`` named ``risk_group``, indexed like the input (a
        RangeIndex for arrays). The threshold used is in ``.attrs['threshold']``.

    Raises
    ------
    ValueError
        Empty or missing scores, or a threshold that is not 'mean', 'median' or a finite number.
    """
    s = total_points if isinstance(total_points, pd.Series) else pd.Series(np.asarray(total_points))
    if len(s) == 0:
        raise ValueError("no scores to split")
    try:
        x = s.astype(float)
    except (TypeError, ValueError):
        raise ValueError("scores must be numbers") from None
    if x.isna().any():
        raise ValueError(f"{int(x.isna().sum())} score(s) are missing: compute every patient's points first")
    if isinstance(threshold, str):
        if threshold == "mean":
            cut = float(x.mean())
        elif threshold == "median":
            cut = float(x.median())
        else:
            raise ValueError(f"threshold {threshold!r} not understood: use 'mean', 'median' or a number")
    elif isinstance(threshold, (int, float, np.integer, np.floating)) and not isinstance(threshold, bool) \
            and math.isfinite(float(threshold)):
        cut = float(threshold)
    else:
        raise ValueError(f"threshold {threshold!r} not understood: use 'mean', 'median' or a number")
    if at_threshold not in ("low", "high"):
        raise ValueError(f"at_threshold must be 'low' or 'high', got {at_threshold!r}")
    high = (x > cut) if at_threshold == "low" else (x >= cut)
    out = pd.Series(pd.Categorical(np.where(high, "high", "low"), categories=["low", "high"], ordered=True),
                    index=s.index, name="risk_group")
    out.attrs["threshold"] = cut
    return out


# --------------------------------------------------------------------------- checks
def _check_inputs(time, event, treatment, strata) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Series]:
    t, e = check_time_event(time, event, require_events=False)
    tr = pd.to_numeric(pd.Series(np.asarray(treatment, dtype=object).ravel()), errors="coerce").to_numpy(float)
    if tr.size != t.size:
        raise ValueError(f"the treatment indicator has {tr.size} values but there are {t.size} patients")
    tr = check_binary(np.where(np.isnan(tr), -1.0, tr), "the treatment indicator", "untreated", "treated")
    check_group(strata, t.size)
    # keep a categorical's level order (it decides the reference stratum)
    g = strata.reset_index(drop=True) if isinstance(strata, pd.Series) else pd.Series(np.asarray(strata, dtype=object))
    return t, e, tr, g


def _levels(g: pd.Series) -> list:
    if isinstance(g.dtype, pd.CategoricalDtype):
        return [c for c in g.cat.categories if (g == c).any()]
    lev = sorted(pd.unique(g), key=lambda v: (str(type(v)), v))
    if set(map(str, lev)) == {"low", "high"}:
        lev = sorted(lev, key=lambda v: str(v) != "low")
    return lev


def _wald(b: float, se: float) -> dict[str, float]:
    return dict(coef=b, se=se, hr=math.exp(b), lower=math.exp(b - _Z * se), upper=math.exp(b + _Z * se),
                p=float(2 * stats.norm.sf(abs(b / se))))


# --------------------------------------------------------------------------- HR by stratum
def _one_stratum(t, e, tr, label: Any) -> dict:
    row = {"stratum": label, "n": int(t.size), "n_treated": int(tr.sum()), "n_untreated": int((1 - tr).sum()),
           "events_treated": int(e[tr == 1].sum()), "events_untreated": int(e[tr == 0].sum())}
    nan = float("nan")
    row.update(coef=nan, se=nan, hr=nan, lower=nan, upper=nan, p=nan, logrank_chisq=nan, logrank_p=nan, note="")
    if row["n_treated"] == 0 or row["n_untreated"] == 0:
        row["note"] = "only one arm in this stratum: no comparison possible"
        return row
    if e.sum() == 0:
        row["note"] = "no events in this stratum: no comparison possible"
        return row
    lr = logrank_test(t, e, tr)
    row.update(logrank_chisq=lr.chisq, logrank_p=lr.p)
    if row["events_treated"] == 0 or row["events_untreated"] == 0:
        row["note"] = "no events in one arm: the hazard ratio is not estimable (infinite)"
        return row
    fit = fit_cox(t, e, pd.DataFrame({"untreated": (1 - tr).astype(float)}))
    if not fit.converged:  # monotone likelihood although both arms have events (e.g. every death ranked first)
        row["note"] = "the hazard ratio has no finite estimate (monotone likelihood): not estimable"
        return row
    row.update(_wald(float(fit.coef[0]), float(np.sqrt(fit.vcov[0, 0]))))
    return row


def hr_by_stratum(time, event, treatment, strata, *, overall: bool = False) -> pd.DataFrame:
    """Hazard ratio of no treatment vs treatment within each stratum, with the log-rank test.

    Parameters
    ----------
    time, event : array-like
        Follow-up time and 0/1 event indicator.
    treatment : array-like
        0/1, 1 = received the treatment (e.g. LRRT).
    strata : array-like
        Stratum of each patient (e.g. :func:`risk_groups`). Strata are reported in category
        order (categoricals), else sorted ('low' before 'high').
    overall : bool
        Add a first row ``'all'`` for all patients.

    Returns
    -------
    pandas.DataFrame
        One row per stratum: ``stratum, n, n_treated, n_untreated, events_treated,
        events_untreated, coef, se, hr, lower, upper, p`` (Cox, Efron ties, Wald 95% CI and P),
        ``logrank_chisq, logrank_p`` and ``note`` (why a value is missing, else '').
        When one arm has no events the HR is NaN (its MLE is infinite) but the log-rank test is given.

    References
    ----------
    Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
    Mantel N. Evaluation of survival data and two new rank order statistics. Cancer Chemother Rep
    1966;50:163-170.
    """
    t, e, tr, g = _check_inputs(time, event, treatment, strata)
    if e.sum() == 0:
        raise ValueError("there are no events in the data")
    rows = []
    if overall:
        rows.append(_one_stratum(t, e, tr, "all"))
    for lev in _levels(g):
        m = (g == lev).to_numpy()
        rows.append(_one_stratum(t[m], e[m], tr[m], lev))
    return pd.DataFrame(rows)


def hr_record(table: pd.DataFrame, stratum: Any) -> dict[str, float]:
    """``{hr, lower, upper, p}`` of one stratum of :func:`hr_by_stratum`, as Python floats.

    Raises
    ------
    ValueError
        If the stratum is not in the table.
    """
    sel = table[table["stratum"] == stratum]
    if len(sel) != 1:
        raise ValueError(f"stratum {stratum!r} not in the table (have {table['stratum'].tolist()})")
    r = sel.iloc[0]
    return {k: float(r[k]) for k in ("hr", "lower", "upper", "p")}


# --------------------------------------------------------------------------- interaction
@dataclass(frozen=True)
class InteractionTest:
    """Treatment x stratum interaction in a Cox model.

    Attributes
    ----------
    reference, other : str
        The two strata; the ratio is HR(other) / HR(reference).
    ratio, lower, upper : float
        Ratio of the without-vs-with treatment hazard ratios (exp of the interaction coefficient)
        with its Wald 95% CI.
    wald_p : float
        Wald P of the interaction coefficient.
    lr_chisq : float
        Likelihood-ratio chi-square, model with vs without the interaction.
    df : int
        Its degrees of freedom (1).
    p : float
        Likelihood-ratio P value: the test to report.
    hr_reference, hr_other : float
        Without-vs-with HRs in each stratum implied by the interaction model. The model shares one
        baseline hazard across strata (stratum main effect), so these are close to, but not equal
        to, the separate within-stratum fits of :func:`hr_by_stratum`.
    n, events : int
        Patients and events.
    """

    reference: str
    other: str
    ratio: float
    lower: float
    upper: float
    wald_p: float
    lr_chisq: float
    df: int
    p: float
    hr_reference: float
    hr_other: float
    n: int
    events: int

    def as_dict(self) -> dict:
        """Plain-Python dict (for JSON and glue)."""
        return asdict(self)


def interaction_test(time, event, treatment, strata, *, stratified: bool = False) -> InteractionTest:
    """Likelihood-ratio test of treatment x stratum interaction (does the treatment effect differ?).

    Fits ``h(t) = h0(t) exp(b1 untreated + b2 other + b3 untreated x other)`` and the same model
    without ``b3`` (Efron ties); the LR statistic ``2 (l_full - l_reduced)`` is chi-square with
    1 df. ``exp(b3)`` is the ratio of the without-vs-with HRs (other stratum / reference stratum).

    The two models answer different questions. ``stratified=False`` (one baseline hazard shared
    by the strata, which differ by ``exp(b2)``): does the treatment HR differ, *assuming* the
    strata's hazards are proportional to each other? ``stratified=True`` (``strata(other)``: one
    baseline per stratum, no ``b2``): the same question without that assumption; its per-stratum
    HRs are closer to separate fits within each stratum (:func:`hr_by_stratum`).

    Parameters
    ----------
    time, event : array-like
        Follow-up time and 0/1 event indicator.
    treatment : array-like
        0/1, 1 = received the treatment.
    strata : array-like
        Exactly two strata (the first category, or 'low', or the smallest value is the reference).

    Returns
    -------
    InteractionTest

    Raises
    ------
    ValueError
        Not exactly two strata, or a stratum x arm cell without events (interaction not estimable).

    References
    ----------
    Altman DG, Bland JM. Interaction revisited: the difference between two estimates. BMJ
    2003;326:219. Wang R, Lagakos SW, Ware JH, Hunter DJ, Drazen JM. Statistics in medicine -
    reporting of subgroup analyses in clinical trials. N Engl J Med 2007;357:2189-2194.
    """
    t, e, tr, g = _check_inputs(time, event, treatment, strata)
    lev = _levels(g)
    if len(lev) != 2:
        raise ValueError(f"the interaction test needs exactly two strata, got {len(lev)}: {lev}")
    ref, oth = lev
    untreated = 1.0 - tr
    other = (g == oth).to_numpy(float)
    for s in (0.0, 1.0):
        for u in (0.0, 1.0):
            if e[(other == s) & (untreated == u)].sum() == 0:
                arm = "without treatment" if u else "with treatment"
                raise ValueError(f"no events among patients {arm} in stratum {(oth if s else ref)!r}: "
                                 "the interaction is not estimable")
    X = pd.DataFrame({"untreated": untreated, "other": other, "interaction": untreated * other})
    if stratified:
        full = fit_cox(t, e, X[["untreated", "interaction"]], strata=other)
        red = fit_cox(t, e, X[["untreated"]], strata=other)
    else:
        full = fit_cox(t, e, X)
        red = fit_cox(t, e, X[["untreated", "other"]])
    k = full.terms.index("interaction")
    b, se = float(full.coef[k]), float(np.sqrt(full.vcov[k, k]))
    w = _wald(b, se)
    lr = float(2 * (full.loglik - red.loglik))
    b1 = float(full.coef[0])
    return InteractionTest(
        reference=str(ref), other=str(oth), ratio=w["hr"], lower=w["lower"], upper=w["upper"], wald_p=w["p"],
        lr_chisq=lr, df=1, p=float(stats.chi2.sf(max(lr, 0.0), 1)), hr_reference=math.exp(b1),
        hr_other=math.exp(b1 + b), n=int(t.size), events=int(e.sum()))


@dataclass(frozen=True)
class ContinuousInteraction:
    """Treatment x continuous-modifier interaction in a Cox model (see :func:`interaction_continuous`).

    Attributes
    ----------
    coef, se : float
        Interaction coefficient (change in the log HR without vs with treatment per unit of the
        modifier) and its model-based SE.
    ratio, lower, upper : float
        ``exp(coef)`` with its Wald 95% CI: the factor by which the without-vs-with HR changes per unit.
    lr_chisq, p : float
        Likelihood-ratio test of the interaction (1 df), the P to report.
    n, events : int
    """

    coef: float
    se: float
    ratio: float
    lower: float
    upper: float
    lr_chisq: float
    p: float
    n: int
    events: int


def interaction_continuous(time, event, treatment, modifier) -> ContinuousInteraction:
    """Does the treatment HR change with a continuous modifier (e.g. a risk score), without a split?

    Fits ``h0(t) exp(b1 untreated + b2 m + b3 untreated x m)`` and the model without ``b3`` (Efron
    ties) and tests ``b3 = 0`` by the likelihood ratio, as ``anova(coxph(...))`` does. A risk-based
    treatment claim rests on this test, not on significance within subgroups (Kent et al. 2020).

    Parameters
    ----------
    time, event : array-like
    treatment : array-like
        0/1, 1 = treated.
    modifier : array-like
        The continuous modifier, one finite value per patient (centre or scale it beforehand if
        the main effects are to be read; the test does not depend on it).

    Raises
    ------
    ValueError
        Invalid inputs, an arm without events, or a model without a finite maximum.

    References
    ----------
    Kent DM, Paulus JK, van Klaveren D, et al. The Predictive Approaches to Treatment effect
    Heterogeneity (PATH) statement. Ann Intern Med 2020;172:35-45.
    """
    t, e = check_time_event(time, event, require_events=True)
    tr = check_binary(treatment, "treatment", "untreated", "treated")
    m = check_marker(modifier, t.size, "modifier")
    for arm, name in ((1.0, "with treatment"), (0.0, "without treatment")):
        if e[tr == arm].sum() == 0:
            raise ValueError(f"no events among patients {name}: the interaction is not estimable")
    u = 1.0 - tr
    X = pd.DataFrame({"untreated": u, "modifier": m, "interaction": u * m})
    full = fit_cox(t, e, X)
    red = fit_cox(t, e, X[["untreated", "modifier"]])
    if not (full.converged and red.converged):
        raise ValueError("the interaction model has no finite maximum (monotone likelihood): not estimable")
    b, se = float(full.coef[2]), float(np.sqrt(full.vcov[2, 2]))
    lr = float(2 * (full.loglik - red.loglik))
    return ContinuousInteraction(coef=b, se=se, ratio=float(np.exp(b)), lower=float(np.exp(b - _Z * se)),
                                 upper=float(np.exp(b + _Z * se)), lr_chisq=lr, p=float(stats.chi2.sf(lr, 1)),
                                 n=int(t.size), events=int(e.sum()))


def survival_difference(time, event, group, horizon: float, conf_level: float = 0.95) -> dict[str, float]:
    """Kaplan-Meier survival at ``horizon`` in group 1 minus group 0, with a Wald CI.

    The groups are independent, so the variance of the difference is the sum of the two
    Greenwood variances (survival scale, ``summary(survfit)``'s ``std.err``).

    Returns
    -------
    dict
        ``est``, ``lower``, ``upper``, ``se``, ``surv_1``, ``surv_0``.

    Raises
    ------
    ValueError
        Invalid inputs, an empty group, or a group whose follow-up ends before ``horizon``.
    """
    t, e = check_time_event(time, event, require_events=False)
    g = check_binary(group, "group", "group 0", "group 1")
    h = check_horizon(horizon)
    z = z_value(conf_level)
    out = {}
    for k in (1, 0):
        sel = g == k
        if not sel.any():
            raise ValueError(f"no patient is in group {k}: the difference is not estimable")
        row = survival_at(kaplan_meier(t[sel], e[sel]), [h]).iloc[0]
        if not np.isfinite(row["surv"]):
            raise ValueError(f"follow-up in group {k} ends before {h:g}: its survival is not estimable")
        out[k] = (float(row["surv"]), float(row["std_err"]))
    d = out[1][0] - out[0][0]
    se = float(np.hypot(out[1][1], out[0][1]))
    return {"est": d, "lower": d - z * se, "upper": d + z * se, "se": se, "surv_1": out[1][0], "surv_0": out[0][0]}


def landmark(time, event, at: float) -> tuple[np.ndarray, np.ndarray]:
    """Patients still alive and under observation after ``at``, and their time measured from it.

    A landmark analysis starts the clock at ``at`` for everybody still at risk then, so that
    anything that can only happen to patients who live long enough (a number of treatment cycles,
    a treatment given later) is no longer rewarded for the survival it needed. Patients whose
    follow-up ends at or before ``at`` (``time <= at``: death or censoring) are left out, as R's
    ``subset(time > at)``.

    Returns
    -------
    mask : numpy.ndarray of bool
        Patients kept.
    time : numpy.ndarray
        Their follow-up from the landmark, ``time - at``.

    References
    ----------
    Anderson JR, Cain KC, Gelber RD. Analysis of survival by tumor response. J Clin Oncol
    1983;1:710-719. Dafni U. Landmark analysis at the 25-year landmark point. Circ Cardiovasc
    Qual Outcomes 2011;4:363-371.
    """
    t, _ = check_time_event(time, event, require_events=False)
    a = check_horizon(at, name="landmark")
    mask = t > a
    return mask, t[mask] - a
