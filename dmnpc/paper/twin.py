"""The synthetic twin: an invented 90-patient cohort that reproduces the paper's published numbers.

The paper's data are "available on request", so the book runs by default on
this twin (``data/twin/dmnpc_twin.csv``). It is regenerated, byte for byte, by
``python -m dmnpc twin --seed 20240217 --out data/twin/dmnpc_twin.csv`` (about
30 s on one core; seeded :class:`numpy.random.Generator`, fixed CSV formatting).

What is matched, and how
------------------------
1. **Counts, exactly.** Every cell of Table 2 (risk cohort x LRRT arm x level of
   each baseline variable) equals the decided count of
   :func:`dmnpc.paper.published.table_counts` (printed high-risk LRRT "Multiple"
   lesions 31 read as 32), hence every cell of Table 1, including the five
   missing LDH values (2, 1, 2, 0 in the four cells) and the single ECOG 0
   patient (without LRRT). Within each cell the binary patterns are assigned
   by seeded swaps that keep the counts and make the pattern clinically
   coherent: a single metastatic lesion means one organ, multiple-organ
   metastasis means at least two of liver/bone/lung where possible, local
   treatment of metastases only where a liver, bone or lung metastasis exists,
   and - because the risk groups are the paper's mean split of the nomogram
   score - low-risk patients carry at most two and high-risk patients at least
   three of the five adverse factors.
2. **Survival.** OS and PFS times (0.1-month grid, all distinct) and event flags
   are found by a seeded threshold-accepting search that minimises the squared
   deviations from the published numbers in units of their declared
   tolerances (:mod:`dmnpc.paper.published`): follow-up 17.5 (4.6-52.7) months as the
   median and range of the OS times, median OS/PFS, 1- and 2-year rates overall,
   by LRRT and by risk group, the log-rank P values, the five-term OS Cox model
   (all five adverse levels HR > 1, P < 0.05), the PFS model (only lesions and
   chemotherapy cycles significant), the nomogram's Harrell C and 12/24-month
   IPCW AUC, the HR of no LRRT vs LRRT in the high-risk group (2.46, 1.01-6.00,
   P = 0.049) and P >= 0.05 in the low-risk group, and - circular by design -
   that splitting at the mean of the linear predictor of the OS Cox model
   fitted on the twin itself gives back the published membership (39 = 32 + 7
   low, 51 = 37 + 14 high) with a margin. Constraints: PFS <= OS, a death is
   a PFS event, and nobody receives more 3-weekly cycles than fit in the OS time.
   The search uses private fast surrogates (no tied times, so Breslow, Efron
   and exact likelihoods coincide); the acceptance test
   (``tests/paper/test_twin.py``) and the fidelity table use only the book's engine
   (:mod:`dmnpc.stats.km`, :mod:`dmnpc.stats.cox`, :mod:`dmnpc.stats.nomogram`,
   :mod:`dmnpc.stats.discrimination`, :mod:`dmnpc.stats.subgroup`, :mod:`dmnpc.stats.roc`).
3. **Cut points.** Youden's index on the ROC curve against OS event status
   (death during follow-up) - pROC/SPSS report the midpoint between adjacent
   observed values - rediscovers 66,600 copies/mL (adjacent values 65,900 and
   67,300) and 8 immunotherapy cycles (adjacent values 7 and 9; nobody has
   exactly 8), each as the unique optimum. The grouping rule ">= cut" gives the
   same groups.

What is invented
----------------
Everything at the level of the individual patient: the joint distribution of
the covariates within each Table 2 cell, T/N sub-stages, ages, EBV DNA, LDH and
cycle counts within their printed categories, and every survival time and
event. Only marginal counts within cells and summary statistics are the
paper's. Published numbers the contract cannot express (e.g. which metastatic
site received local treatment) are not represented.

Why no conclusion about real patients may be drawn from it
----------------------------------------------------------
The twin was constructed to reproduce the published results, so any analysis of
it returns those results by design - including the circular risk split and the
data-driven cut points, whose optimism it cannot reveal. Associations not
targeted (e.g. between liver metastases and survival) are artefacts of the
construction. It is a test bed for the code and a teaching device; it carries
no information about patients beyond what the paper printed.
"""

from __future__ import annotations

import argparse
from math import erfc, sqrt
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from dmnpc.paper.variables import SEED
from dmnpc.stats._validate import z_value

__all__ = ["DEFAULT_SEED", "CELLS", "cell_counts", "generate_twin", "twin_csv_text", "write_twin", "main"]

#: Seed of the committed twin (the paper's publication date).
DEFAULT_SEED = SEED  # dmnpc.paper.variables.SEED: one definition

#: The four cells of Table 2: (risk cohort, arm) in a fixed order.
CELLS: tuple[tuple[str, str], ...] = (("low", "lrrt"), ("low", "no_lrrt"), ("high", "lrrt"), ("high", "no_lrrt"))

# Binary indicators the twin assigns within cells, each tied to the Table 2 row
# (grouping name, level label) whose count it must equal.
_INDICATORS: tuple[tuple[str, str, str], ...] = (
    ("age_high", "age", "≥ 50"),
    ("female", "sex", "Female"),
    ("t34", "t_stage", "T3-4"),
    ("n23", "n_stage", "N2-3"),
    ("ebv_high", "ebv_dna", "≥ 66,600"),
    ("multi_organ", "multi_organ_mets", "Yes"),
    ("multiple", "met_lesions", "Multiple"),
    ("liver", "liver_mets", "Yes"),
    ("bone", "bone_mets", "Yes"),
    ("lung", "lung_mets", "Yes"),
    ("chemo_low", "chemo_cycles", "< 6"),
    ("immuno_low", "immuno_cycles", "< 8"),
    ("local_tx", "local_tx_mets", "Yes"),
)

# Invented: which of the no-LRRT patients has ECOG 0 (Table 1 only: 1 of 21).
_ECOG0_CELL = ("low", "no_lrrt")

#: Moves of the survival-time search (about 1 ms each).
_N_ITER = 30_000

_RISK_TERMS = ("age_high", "ebv_high", "multiple", "chemo_low", "immuno_low")


def cell_counts() -> dict[tuple[str, str], dict[str, int]]:
    """Counts the twin must reproduce in each Table 2 cell.

    Returns
    -------
    dict
        ``{(cohort, arm): {"n": ..., indicator: count, "ldh_low": ..., "ldh_high": ...}}``;
        the decided counts of :func:`dmnpc.paper.published.table_counts` (column ``n``).
    """
    from dmnpc.paper import published

    t = published.table_counts(2)
    out: dict[tuple[str, str], dict[str, int]] = {}
    for cohort, arm in CELLS:
        sub = t[(t["cohort"] == cohort) & (t["arm"] == arm)]
        def n_of(variable: str, level: str) -> int:
            row = sub[(sub["variable"] == variable) & (sub["level"] == level)]
            if len(row) != 1:
                raise ValueError(f"published Table 2 has no single row for {cohort}/{arm} {variable} {level}")
            return int(row["n"].iloc[0])
        d = {"n": n_of("sex", "Male") + n_of("sex", "Female")}
        for ind, var, lev in _INDICATORS:
            d[ind] = n_of(var, lev)
        d["ldh_low"] = n_of("ldh", "< 250")
        d["ldh_high"] = n_of("ldh", "≥ 250")
        out[(cohort, arm)] = d
    return out


# ---------------------------------------------------------------------------
# Step 1: binary covariate patterns within the four cells
# ---------------------------------------------------------------------------

def _patient_penalty(x: dict[str, int], cohort: str) -> float:
    """Implausibility of one patient's binary pattern (0 = fully plausible)."""
    p = 0.0
    s = sum(x[t] for t in _RISK_TERMS)
    # Risk separation by adverse-factor count: low cohort at most 2, high at least 3.
    if cohort == "low":
        p += 10.0 * max(0, s - 2)
    else:
        p += 10.0 * max(0, 3 - s)
    k = x["liver"] + x["bone"] + x["lung"]
    if x["multi_organ"]:
        p += 10.0 if k == 0 else 3.0 * max(0, 2 - k)
    else:
        p += 5.0 * max(0, k - 1)
    if not x["multiple"]:
        p += 10.0 * x["multi_organ"] + 3.0 * (k != 1)
    if x["local_tx"] and k == 0:
        p += 5.0
    if x["ldh"] == 1 and not (x["multi_organ"] or x["liver"]):
        p += 0.5
    if x["ebv_high"] and not x["multiple"]:
        p += 0.5
    return p


def _assign_binary(rng: np.random.Generator, counts: dict[tuple[str, str], dict[str, int]]) -> pd.DataFrame:
    """Exact-count binary patterns per cell, arranged by within-cell swaps to be plausible."""
    rows = []
    for cohort, arm in CELLS:
        c = counts[(cohort, arm)]
        n = c["n"]
        cols: dict[str, np.ndarray] = {}
        for ind, _, _ in _INDICATORS:
            v = np.zeros(n, dtype=np.int64)
            v[: c[ind]] = 1
            cols[ind] = rng.permutation(v)
        ldh = np.full(n, -1, dtype=np.int64)
        ldh[: c["ldh_low"]] = 0
        ldh[c["ldh_low"]: c["ldh_low"] + c["ldh_high"]] = 1
        cols["ldh"] = rng.permutation(ldh)
        names = [ind for ind, _, _ in _INDICATORS if ind not in ("female", "t34", "n23")] + ["ldh"]
        pats = [{k: int(cols[k][i]) for k in cols} for i in range(n)]
        pen = [_patient_penalty(p, cohort) for p in pats]
        for _ in range(400 * n):
            var = names[int(rng.integers(len(names)))]
            i, j = (int(a) for a in rng.integers(n, size=2))
            if i == j or pats[i][var] == pats[j][var]:
                continue
            pats[i][var], pats[j][var] = pats[j][var], pats[i][var]
            pi, pj = _patient_penalty(pats[i], cohort), _patient_penalty(pats[j], cohort)
            if pi + pj <= pen[i] + pen[j]:
                pen[i], pen[j] = pi, pj
            else:
                pats[i][var], pats[j][var] = pats[j][var], pats[i][var]
        for p in pats:
            rows.append({"cohort": cohort, "arm": arm, **p})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# Step 2a: starting values of the search, from a simple proportional-hazards simulation
# ---------------------------------------------------------------------------

def _draft_survival(rng: np.random.Generator, b: pd.DataFrame) -> pd.DataFrame:
    n = len(b)
    score = b[list(_RISK_TERMS)].sum(axis=1).to_numpy(float)
    lrrt = (b["arm"] == "lrrt").to_numpy(float)
    lin = 0.8 * (score - 2.7) - 0.7 * lrrt
    os_t = rng.exponential(1.0, n) / (0.025 * np.exp(lin))
    pfs_t = rng.exponential(1.0, n) / (0.04 * np.exp(0.6 * lin))
    cens = rng.uniform(4.6, 52.7, n)
    os_obs = np.minimum(os_t, cens)
    os_ev = (os_t <= cens).astype(int)
    pfs_obs = np.minimum(pfs_t, os_obs)
    pfs_ev = np.where(pfs_t <= os_obs, 1, os_ev)
    os10 = np.clip(np.round(os_obs * 10), 46, 527).astype(int)
    pfs10 = np.clip(np.round(pfs_obs * 10), 1, os10).astype(int)
    return pd.DataFrame({"os10": os10, "os_event": os_ev, "pfs10": pfs10, "pfs_event": pfs_ev})


# ---------------------------------------------------------------------------
# Step 2: survival times by a seeded stochastic search against the published numbers
# ---------------------------------------------------------------------------
#
# Times are integers in tenths of a month (the CSV's resolution). All OS times
# are distinct and all PFS times are distinct, so there are no tied times and
# the Breslow, Efron and exact partial likelihoods coincide: the private fast
# surrogates below (KM, log-rank, Cox by Newton steps, Harrell's C, Uno's IPCW
# AUC) then agree with the book's engine to rounding. Only the search uses them;
# the fidelity table is computed by the engine.

_T_MIN, _T_MAX = 46, 527          # follow-up range 4.6 - 52.7 months (tenths)
_CYCLE_TENTHS = 6.9               # one 3-week cycle = 0.69 month
_IMMUNO_HIGH_MIN = 9              # no patient has exactly 8 cycles: the ROC midpoint of 7 and 9 is 8
_MIN_OS_IMMUNO_HIGH = int(np.ceil(_IMMUNO_HIGH_MIN * _CYCLE_TENTHS))  # 63 tenths


def _q(x: float, digits: int = 7) -> float:
    """Round a metric so that last-bit platform differences cannot change the search path."""
    return float(round(float(x), digits))


class _Fast:
    """Private fast metrics of one candidate set of survival times (no tied times).

    This is the search's objective, not a second way to compute the book's statistics:
    nothing it returns is reported (the fidelity of the finished twin is measured with
    :func:`dmnpc.paper.report.compute_results`, i.e. with :mod:`dmnpc.stats`). It stays
    separate on purpose. With distinct times the closed forms below are exact, and they
    cost about 1 ms per candidate over 30,000 candidates. Swapping in the book's Efron
    engine (tried) doubles the generation time and, through different floating-point
    paths of the warm-started Newton steps, changes which candidates are accepted, so
    the committed twin would no longer regenerate byte for byte.
    """

    def __init__(self, X: np.ndarray, lrrt: np.ndarray, high: np.ndarray):
        self.X = X.astype(float)
        self.XX = self.X[:, :, None] * self.X[:, None, :]
        self.lrrt = lrrt.astype(bool)
        self.high = high.astype(bool)
        self.n = len(lrrt)
        self.beta_os = np.zeros(X.shape[1])
        self.beta_pfs = np.zeros(X.shape[1])

    # -- Kaplan-Meier -----------------------------------------------------
    @staticmethod
    def km(t: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        o = np.argsort(t, kind="stable")
        ts, es = t[o], e[o]
        at_risk = len(t) - np.arange(len(t))
        s = np.cumprod(1.0 - es / at_risk)
        return ts, s

    @staticmethod
    def s_at(ts: np.ndarray, s: np.ndarray, h: float) -> float:
        k = np.searchsorted(ts, h, side="right")
        return 1.0 if k == 0 else float(s[k - 1])

    @staticmethod
    def median(ts: np.ndarray, s: np.ndarray) -> float:
        k = np.flatnonzero(s <= 0.5)
        return float(ts[k[0]]) if len(k) else float(ts[-1]) * 1.5

    # -- log-rank (no ties) -------------------------------------------------
    @staticmethod
    def logrank_p(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> tuple[float, float]:
        o = np.argsort(t, kind="stable")
        es, gs = e[o], g[o].astype(float)
        n_all = len(t) - np.arange(len(t))
        n1 = np.cumsum(gs[::-1])[::-1]
        ev = es == 1
        o_minus_e = float(np.sum(gs[ev] - n1[ev] / n_all[ev]))
        v = float(np.sum(n1[ev] * (n_all[ev] - n1[ev]) / n_all[ev] ** 2))
        if v <= 0:
            return 1.0, 0.0
        z = o_minus_e / sqrt(v)
        return erfc(abs(z) / sqrt(2.0)), o_minus_e

    # -- Cox by Newton steps (no ties) -------------------------------------
    def cox(self, t: np.ndarray, e: np.ndarray, X: np.ndarray, XX: np.ndarray, beta: np.ndarray):
        o = np.argsort(-t, kind="stable")
        Xs, XXs, es = X[o], XX[o], e[o].astype(bool)
        b = beta.copy()
        ok = True
        for _ in range(30):
            eta = Xs @ b
            w = np.exp(eta - eta.max())
            s0 = np.cumsum(w)
            s1 = np.cumsum(w[:, None] * Xs, axis=0)
            s2 = np.cumsum(w[:, None, None] * XXs, axis=0)
            xb = s1[es] / s0[es, None]
            grad = (Xs[es] - xb).sum(axis=0)
            H = (s2[es] / s0[es, None, None]).sum(axis=0) - np.einsum("ij,ik->jk", xb, xb)
            try:
                step = np.linalg.solve(H, grad)
            except np.linalg.LinAlgError:
                ok = False
                break
            b = b + step
            if np.max(np.abs(b)) > 10:
                ok = False
                break
            if np.max(np.abs(step)) < 1e-9:
                break
        if not ok:
            return None
        try:
            cov = np.linalg.inv(H)
        except np.linalg.LinAlgError:
            return None
        se = np.sqrt(np.clip(np.diag(cov), 1e-12, None))
        return b, se

    # -- discrimination ------------------------------------------------------
    @staticmethod
    def harrell_c(t: np.ndarray, e: np.ndarray, lp: np.ndarray) -> float:
        ev = e == 1
        comp = (t[ev][:, None] < t[None, :])
        d = lp[ev][:, None] - lp[None, :]
        score = (d > 0) + 0.5 * (d == 0)
        return float((score * comp).sum() / comp.sum())

    @staticmethod
    def uno_auc(t: np.ndarray, e: np.ndarray, lp: np.ndarray, horizons: tuple[float, ...]) -> list[float]:
        # KM of the censoring distribution, G(t_i) at each death time (no ties with censorings)
        o = np.argsort(t, kind="stable")
        ts, cs = t[o], 1 - e[o]
        at_risk = len(t) - np.arange(len(t))
        g = np.cumprod(1.0 - cs / at_risk)
        g_at = np.empty(len(t))
        g_at[o] = g
        out = []
        for h in horizons:
            case = (t <= h) & (e == 1)
            ctrl = t > h
            w = 1.0 / g_at[case]
            d = lp[case][:, None] - lp[ctrl][None, :]
            score = (d > 0) + 0.5 * (d == 0)
            out.append(float((w[:, None] * score).sum() / (w.sum() * ctrl.sum())))
        return out

    def _cox_metrics(self, m, os_t, os_e, pfs_t, pfs_e):
        """Coefficients and P values of the OS and PFS models into ``m``; the OS coefficients, or None."""
        out = None
        for name, t, e, attr in (("cox_os", os_t, os_e, "beta_os"), ("cox_pfs", pfs_t, pfs_e, "beta_pfs")):
            fit = self.cox(t, e, self.X, self.XX, getattr(self, attr))
            if fit is None:
                return None
            b, se = fit
            setattr(self, f"_last_{attr}", b)
            for k, (bk, sk) in enumerate(zip(b, se)):
                m[f"{name}.{k}.coef"] = float(bk)
                m[f"{name}.{k}.p"] = erfc(abs(bk / sk) / sqrt(2.0))
            out = b if out is None else out
        return out

    # -- everything ----------------------------------------------------------
    def metrics(self, os_t, os_e, pfs_t, pfs_e) -> dict[str, float] | None:
        m: dict[str, float] = {}
        os_t = os_t.astype(float)
        pfs_t = pfs_t.astype(float)
        ts, s = self.km(os_t, os_e)
        m["os.median_months"] = self.median(ts, s) / 10
        m["os.surv_12"] = self.s_at(ts, s, 120)
        m["os.surv_24"] = self.s_at(ts, s, 240)
        ts, s = self.km(pfs_t, pfs_e)
        m["pfs.median_months"] = self.median(ts, s) / 10
        m["pfs.surv_12"] = self.s_at(ts, s, 120)
        m["pfs.surv_24"] = self.s_at(ts, s, 240)
        srt = np.sort(os_t)
        m["followup_median_months"] = float(np.median(srt)) / 10
        m["other.followup_min_months"] = srt[0] / 10
        m["other.followup_max_months"] = srt[-1] / 10
        for name, t, e in (("os", os_t, os_e), ("pfs", pfs_t, pfs_e)):
            for arm, mask in (("lrrt", self.lrrt), ("no_lrrt", ~self.lrrt)):
                ts, s = self.km(t[mask], e[mask])
                m[f"{name}_by_lrrt.surv_24_{arm}"] = self.s_at(ts, s, 240)
            m[f"{name}_by_lrrt.logrank_p"], _ = self.logrank_p(t, e, self.lrrt)
        for grp, mask in (("low", ~self.high), ("high", self.high)):
            ts, s = self.km(os_t[mask], os_e[mask])
            m[f"risk.os_surv_24_{grp}"] = self.s_at(ts, s, 240)
        m["risk.os_logrank_p"], _ = self.logrank_p(os_t, os_e, self.high)
        m["risk.pfs_logrank_p"], _ = self.logrank_p(pfs_t, pfs_e, self.high)
        # multivariable Cox models
        b = self._cox_metrics(m, os_t, os_e, pfs_t, pfs_e)
        if b is None:
            return None
        lp = self.X @ b
        mean = lp.mean()
        gap_low = float(np.max(lp[~self.high]) - mean)   # must be < 0
        gap_high = float(mean - np.min(lp[self.high]))   # must be < 0
        m["split.gap"] = max(gap_low, gap_high)
        m["nomogram.c_index"] = self.harrell_c(os_t, os_e, lp)
        m["nomogram.auc_12"], m["nomogram.auc_24"] = self.uno_auc(os_t, os_e, lp, (120.0, 240.0))
        # LRRT within risk groups: HR of without-LRRT vs LRRT
        for grp, mask in (("high", self.high), ("low", ~self.high)):
            x = (~self.lrrt[mask]).astype(float)[:, None]
            f1 = self.cox(os_t[mask], os_e[mask], x, x[:, :, None] * x[:, None, :], np.zeros(1))
            if f1 is None:
                return None
            b1, s1 = float(f1[0][0]), float(f1[1][0])
            m[f"lrrt_in_{grp}.hr"] = float(np.exp(b1))
            m[f"lrrt_in_{grp}.lower"] = float(np.exp(b1 - z_value(0.95) * s1))
            m[f"lrrt_in_{grp}.upper"] = float(np.exp(b1 + z_value(0.95) * s1))
            m[f"lrrt_in_{grp}.p"] = erfc(abs(b1 / s1) / sqrt(2.0))
        m["other.lrrt_in_low.pfs_p"], _ = self.logrank_p(pfs_t[~self.high], pfs_e[~self.high],
                                                          self.lrrt[~self.high])
        return {k: _q(v) for k, v in m.items()}


def _targets() -> list[tuple[str, float, str, float]]:
    """(key, target, rule, scale) for the search loss, from the published numbers.

    The scale is the published tolerance, except that the follow-up range and
    median (single patients' times) are aimed at exactly (scale 0.1 month) and
    a P value printed just below 0.05 is aimed at the middle of its allowed
    interval on the significant side.
    """
    from dmnpc.paper import published

    nums = published.numbers()
    out = []
    for rec in nums.itertuples(index=False):
        rule = rec.tolerance_rule
        key = rec.key
        if rule in (None, "none", "exact") and key not in ("other.followup_min_months",
                                                         "other.followup_max_months"):
            continue
        value = float(rec.value)
        scale = float(rec.tolerance) if rec.tolerance is not None and not pd.isna(rec.tolerance) else 0.0
        if key in ("followup_median_months", "other.followup_min_months", "other.followup_max_months"):
            rule, scale = "abs", 0.1
        if rule == "log10_ratio_same_side" and value < 0.05 < value * 10 ** scale:
            value = float(np.sqrt(value * 10 ** -scale * 0.05))
        out.append((key, value, rule, scale))
    return out


_ALPHA = 0.05


def _loss(m: dict[str, float], targets: list[tuple[str, float, str, float]]) -> float:
    from math import log10
    L = 0.0
    for key, value, rule, scale in targets:
        if key not in m:
            continue
        v = m[key]
        if rule == "abs":
            L += ((v - value) / scale) ** 2
        elif rule == "rel":
            L += ((v / value - 1.0) / scale) ** 2
        elif rule == "log10_ratio_same_side":
            lv = log10(max(v, 1e-12))
            L += ((lv - log10(value)) / scale) ** 2
            if (v < _ALPHA) != (value < _ALPHA):
                L += 25.0
        elif rule == "ge":
            if v < 2 * value:
                L += ((log10(2 * value) - log10(max(v, 1e-12))) / 0.2) ** 2
    # The five OS terms: adverse level harmful (HR > 1) and P < 0.05 (aim at <= 0.02)
    for k in range(5):
        p, b = m[f"cox_os.{k}.p"], m[f"cox_os.{k}.coef"]
        if p > 0.02:
            L += ((log10(p) - log10(0.02)) / 0.2) ** 2
        if b < 0.3:
            L += ((0.3 - b) / 0.1) ** 2
    # PFS: multiple lesions (2) and chemotherapy < 6 (3) significant; the others not
    for k in range(5):
        p, b = m[f"cox_pfs.{k}.p"], m[f"cox_pfs.{k}.coef"]
        if k in (2, 3):
            if p > 0.02:
                L += ((log10(p) - log10(0.02)) / 0.2) ** 2
            if b < 0.3:
                L += ((0.3 - b) / 0.1) ** 2
        elif p < 0.15:
            L += ((log10(0.15) - log10(max(p, 1e-12))) / 0.2) ** 2
    # Mean split reproduces the published membership, with a margin
    gap = m["split.gap"]
    if gap > -0.05:
        L += 100.0 + ((gap + 0.05) / 0.02) ** 2
    return _q(L, 6)


def _unique_times(t: np.ndarray, lo: np.ndarray, hi: int) -> np.ndarray:
    """Make integer times distinct by nudging later duplicates up (deterministic)."""
    t = t.copy()
    used: set[int] = set()
    for i in np.argsort(t, kind="stable"):
        v = int(max(t[i], lo[i]))
        while v in used:
            v += 1
        if v > hi:
            v = hi
            while v in used:
                v -= 1
        used.add(v)
        t[i] = v
    return t


def _search(rng: np.random.Generator, b: pd.DataFrame, s0: pd.DataFrame, n_iter: int) -> tuple[pd.DataFrame, float, dict]:
    X = b[list(_RISK_TERMS)].to_numpy(float)
    lrrt = (b["arm"] == "lrrt").to_numpy()
    high = (b["cohort"] == "high").to_numpy()
    min_os = np.where(b["immuno_low"].to_numpy() == 0, _MIN_OS_IMMUNO_HIGH, _T_MIN).astype(np.int64)
    fast = _Fast(X, lrrt, high)
    targets = _targets()
    n = len(b)
    os_t = _unique_times(np.maximum(s0["os10"].to_numpy(np.int64), min_os), min_os, _T_MAX)
    os_e = s0["os_event"].to_numpy(np.int64).copy()
    pfs_e = np.maximum(s0["pfs_event"].to_numpy(np.int64), os_e)
    pfs_t = np.where(pfs_e == 1, np.minimum(s0["pfs10"].to_numpy(np.int64), os_t), os_t)
    pfs_t = _pfs_unique(pfs_t, pfs_e, os_t)
    m = fast.metrics(os_t, os_e, pfs_t, pfs_e)
    L = _loss(m, targets)
    fast.beta_os, fast.beta_pfs = fast._last_beta_os, fast._last_beta_pfs
    best = (L, os_t.copy(), os_e.copy(), pfs_t.copy(), pfs_e.copy(), m)
    T0 = 5.0
    for it in range(n_iter):
        T = T0 * (1.0 - it / n_iter) ** 2
        cand = _propose(rng, os_t, os_e, pfs_t, pfs_e, min_os)
        if cand is None:
            continue
        c_os_t, c_os_e, c_pfs_t, c_pfs_e = cand
        m2 = fast.metrics(c_os_t, c_os_e, c_pfs_t, c_pfs_e)
        if m2 is None:
            continue
        L2 = _loss(m2, targets)
        if L2 <= L + T * float(rng.random()):
            os_t, os_e, pfs_t, pfs_e, L, m = c_os_t, c_os_e, c_pfs_t, c_pfs_e, L2, m2
            fast.beta_os, fast.beta_pfs = fast._last_beta_os, fast._last_beta_pfs
            if L < best[0]:
                best = (L, os_t.copy(), os_e.copy(), pfs_t.copy(), pfs_e.copy(), m)
    L, os_t, os_e, pfs_t, pfs_e, m = best
    out = pd.DataFrame({"os10": os_t, "os_event": os_e, "pfs10": pfs_t, "pfs_event": pfs_e})
    return out, L, m


def _pfs_unique(pfs_t: np.ndarray, pfs_e: np.ndarray, os_t: np.ndarray) -> np.ndarray:
    """Distinct PFS times: progression times nudged down (never above the OS time)."""
    pfs_t = pfs_t.copy()
    used = {int(v) for v, e in zip(pfs_t, pfs_e) if e == 0}
    for i in np.argsort(pfs_t, kind="stable"):
        if pfs_e[i] == 0:
            continue
        v = int(min(pfs_t[i], os_t[i]))
        while v in used and v > 1:
            v -= 1
        while v in used:
            v += 1
        used.add(v)
        pfs_t[i] = v
    return pfs_t


def _propose(rng, os_t, os_e, pfs_t, pfs_e, min_os):
    """One random move; returns new arrays or None if the move breaks a constraint."""
    n = len(os_t)
    os_t, os_e, pfs_t, pfs_e = os_t.copy(), os_e.copy(), pfs_t.copy(), pfs_e.copy()
    kind = float(rng.random())
    i = int(rng.integers(n))
    if kind < 0.35:  # move an OS time (PFS follows if censored at last follow-up)
        step = int(round(os_t[i] * 0.3 * (2.0 * float(rng.random()) - 1.0)))
        if step == 0:
            step = 1 if rng.random() < 0.5 else -1
        v = int(min(max(os_t[i] + step, min_os[i]), _T_MAX))
        if v == os_t[i] or np.any(os_t == v):
            return None
        if pfs_e[i] == 1 and pfs_t[i] > v:
            return None
        if pfs_e[i] == 0:
            if np.any(pfs_t == v):
                return None
            pfs_t[i] = v
        os_t[i] = v
    elif kind < 0.5:  # death <-> censored
        if os_e[i] == 1:
            os_e[i] = 0
        else:
            os_e[i] = 1
            if pfs_e[i] == 0:
                pfs_e[i] = 1
                v = int(round(os_t[i] * (0.45 + 0.5 * float(rng.random()))))
                if np.any(pfs_t == v):
                    return None
                pfs_t[i] = v
    elif kind < 0.75:  # move a progression time
        if pfs_e[i] == 0:
            return None
        step = int(round(pfs_t[i] * 0.3 * (2.0 * float(rng.random()) - 1.0)))
        if step == 0:
            step = 1 if rng.random() < 0.5 else -1
        v = int(min(max(pfs_t[i] + step, 10), os_t[i]))
        if v == pfs_t[i] or np.any(pfs_t == v):
            return None
        pfs_t[i] = v
    elif kind < 0.85:  # progression <-> no progression (alive patients only)
        if os_e[i] == 1:
            return None
        if pfs_e[i] == 1:
            if np.any(pfs_t == os_t[i]):
                return None
            pfs_e[i], pfs_t[i] = 0, os_t[i]
        else:
            v = int(round(os_t[i] * (0.2 + 0.75 * float(rng.random()))))
            if np.any(pfs_t == v):
                return None
            pfs_e[i], pfs_t[i] = 1, v
    else:  # exchange the whole outcomes of two patients
        j = int(rng.integers(n))
        if i == j or os_t[i] < min_os[j] or os_t[j] < min_os[i]:
            return None
        for a in (os_t, os_e, pfs_t, pfs_e):
            a[i], a[j] = a[j], a[i]
    return os_t, os_e, pfs_t, pfs_e


# ---------------------------------------------------------------------------
# Step 3: continuous values behind the cut points
# ---------------------------------------------------------------------------
#
# The ROC cut points are recomputed by pROC's rule (Youden index, threshold =
# midpoint between adjacent observed values) against OS event status (death
# during follow-up, 1 = died). The twin places the observed values adjacent to
# the cut at 65,900 and 67,300 copies/mL (midpoint 66,600) and at 7 and 9
# immunotherapy cycles (no patient has exactly 8; midpoint 8), and arranges the
# values within each group so that no other threshold reaches the same Youden
# index. The grouping rule ">= cut" gives the same groups for either form.

_EBV_BELOW, _EBV_ABOVE = 65_900.0, 67_300.0
_IMMUNO_BELOW, _IMMUNO_ABOVE = 7, _IMMUNO_HIGH_MIN


def _youden_gap(m: np.ndarray, y: np.ndarray, cut: float, cases_high: bool) -> float:
    """Youden index at ``cut`` minus the best Youden index at any other midpoint (> 0: unique best)."""
    u = np.unique(m)
    mids = (u[:-1] + u[1:]) / 2.0
    case, ctrl = m[y == 1], m[y == 0]
    if cases_high:
        j = (case[None, :] > mids[:, None]).mean(1) + (ctrl[None, :] < mids[:, None]).mean(1) - 1
    else:
        j = (case[None, :] < mids[:, None]).mean(1) + (ctrl[None, :] > mids[:, None]).mean(1) - 1
    at = np.isclose(mids, cut, rtol=0, atol=1e-9)
    if not at.any():
        return -1.0
    others = j[~at]
    return float(j[at][0] - (others.max() if others.size else -1.0))


def _arrange(rng: np.random.Generator, values: np.ndarray, draw, y: np.ndarray, fixed: np.ndarray,
             cut: float, cases_high: bool, max_tries: int = 5000) -> np.ndarray:
    """Redraw non-fixed values one at a time until ``cut`` is the unique Youden-optimal midpoint."""
    v = values.copy()
    gap = _youden_gap(v, y, cut, cases_high)
    free = np.flatnonzero(~fixed)
    for _ in range(max_tries):
        if gap > 1e-9:
            return v
        i = int(free[int(rng.integers(len(free)))])
        old = v[i]
        v[i] = draw(i)
        g = _youden_gap(v, y, cut, cases_high)
        if g >= gap:
            gap = g
        else:
            v[i] = old
    raise RuntimeError("could not arrange the values so that the published cut is the Youden optimum")


def _continuous(rng: np.random.Generator, b: pd.DataFrame, s: pd.DataFrame) -> pd.DataFrame:
    n = len(b)
    death = s["os_event"].to_numpy(np.int64)
    os10 = s["os10"].to_numpy(np.int64)
    cap = np.floor(os10 / _CYCLE_TENTHS).astype(np.int64)  # cycles that fit in the follow-up
    # age: integer years
    age_high = b["age_high"].to_numpy() == 1
    age = np.where(age_high, rng.integers(50, 73, n), rng.integers(27, 50, n)).astype(float)
    # LDH (U/L); missing where the cell says so
    ldh_state = b["ldh"].to_numpy()
    ldh = np.where(ldh_state == 1, np.round(np.clip(np.exp(rng.normal(np.log(340), 0.35, n)), 250, 1400)),
                   np.round(rng.uniform(125, 249.5, n)))
    ldh = np.where(ldh_state == -1, np.nan, ldh)
    # chemotherapy cycles
    chemo_low = b["chemo_low"].to_numpy() == 1
    chemo = np.where(chemo_low, rng.choice([1, 2, 3, 4, 5], n, p=[0.04, 0.1, 0.16, 0.4, 0.3]),
                     rng.choice([6, 7, 8], n, p=[0.75, 0.1, 0.15]))
    chemo = np.minimum(chemo, cap)
    # EBV DNA (copies/mL): log-normal, about 1 in 6 of the lower group undetectable (0)
    ebv_high = b["ebv_high"].to_numpy() == 1

    def draw_ebv(i: int) -> float:
        if ebv_high[i]:
            return float(np.round(np.clip(10 ** rng.normal(5.25, 0.4), 70_000, 2.4e6), -2))
        if rng.random() < 0.17:
            return 0.0
        return float(np.round(10 ** rng.uniform(2.6, 4.78), -1))

    ebv = np.array([draw_ebv(i) for i in range(n)])
    fixed = np.zeros(n, dtype=bool)
    i_lo = int(rng.choice(np.flatnonzero(~ebv_high & (death == 0))))
    i_hi = int(rng.choice(np.flatnonzero(ebv_high & (death == 1))))
    ebv[i_lo], ebv[i_hi] = _EBV_BELOW, _EBV_ABOVE
    fixed[[i_lo, i_hi]] = True
    ebv = _arrange(rng, ebv, draw_ebv, death, fixed, (_EBV_BELOW + _EBV_ABOVE) / 2, cases_high=True)
    # immunotherapy cycles: < 8 group 1-7, >= 8 group 9 up to what fits in min(OS, 24 months)
    imm_low = b["immuno_low"].to_numpy() == 1

    def draw_imm(i: int) -> int:
        if imm_low[i]:
            return int(min(cap[i], rng.choice([2, 3, 4, 5, 6, 7], p=[0.08, 0.12, 0.2, 0.22, 0.2, 0.18])))
        top = min(os10[i], 240) / _CYCLE_TENTHS
        return int(min(cap[i], max(_IMMUNO_ABOVE, round(top * rng.uniform(0.4, 0.95)))))

    imm = np.array([draw_imm(i) for i in range(n)], dtype=float)
    fixed = np.zeros(n, dtype=bool)
    i_lo = int(rng.choice(np.flatnonzero(imm_low & (death == 1) & (cap >= _IMMUNO_BELOW))))
    i_hi = int(rng.choice(np.flatnonzero(~imm_low & (death == 0))))
    imm[i_lo], imm[i_hi] = _IMMUNO_BELOW, _IMMUNO_ABOVE
    fixed[[i_lo, i_hi]] = True
    imm = _arrange(rng, imm, lambda i: float(draw_imm(i)), death, fixed,
                   (_IMMUNO_BELOW + _IMMUNO_ABOVE) / 2, cases_high=False)
    return pd.DataFrame({"age": age, "ebv_dna": ebv, "ldh": ldh, "chemo_cycles": chemo.astype(int),
                         "immuno_cycles": imm.astype(int)})


def _t_n_stage(rng: np.random.Generator, b: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    n = len(b)
    t = np.where(b["t34"] == 1, np.where(rng.uniform(size=n) < 0.45, "T3", "T4"),
                 np.where(rng.uniform(size=n) < 0.3, "T1", "T2"))
    nn = np.where(b["n23"] == 1, np.where(rng.uniform(size=n) < 0.55, "N2", "N3"),
                  np.where(rng.uniform(size=n) < 0.3, "N0", "N1"))
    return t, nn


def generate_twin(seed: int = DEFAULT_SEED, n_iter: int = _N_ITER) -> pd.DataFrame:
    """Generate the synthetic twin cohort.

    Parameters
    ----------
    seed : int
        Seed of the :class:`numpy.random.Generator` (PCG64); the same seed gives
        the same cohort.
    n_iter : int
        Number of moves of the survival-time search.

    Returns
    -------
    pandas.DataFrame
        One row per invented patient, columns of :data:`dmnpc.paper.contract.SCHEMA`.
    """
    rng = np.random.default_rng(seed)
    counts = cell_counts()
    b = _assign_binary(rng, counts)
    ecog = np.ones(len(b), dtype=int)
    cand = np.flatnonzero(((b["cohort"] == _ECOG0_CELL[0]) & (b["arm"] == _ECOG0_CELL[1])).to_numpy())
    ecog[cand[0]] = 0
    s0 = _draft_survival(rng, b)
    s, _, _ = _search(rng, b, s0, n_iter)
    cont = _continuous(rng, b, s)
    t, nn = _t_n_stage(rng, b)
    df = pd.DataFrame({
        "age": cont["age"].astype(float),
        "sex": np.where(b["female"] == 1, "female", "male"),
        "ecog": ecog,
        "t_stage": t,
        "n_stage": nn,
        "ebv_dna": cont["ebv_dna"].astype(float),
        "multi_organ_mets": b["multi_organ"].to_numpy(),
        "met_lesions": np.where(b["multiple"] == 1, "multiple", "single"),
        "liver_mets": b["liver"].to_numpy(),
        "bone_mets": b["bone"].to_numpy(),
        "lung_mets": b["lung"].to_numpy(),
        "ldh": cont["ldh"].astype(float),
        "chemo_cycles": cont["chemo_cycles"].astype(int),
        "immuno_cycles": cont["immuno_cycles"].astype(int),
        "local_tx_mets": b["local_tx"].to_numpy(),
        "lrrt": (b["arm"] == "lrrt").astype(int).to_numpy(),
        "os_months": s["os10"].to_numpy() / 10.0,
        "os_event": s["os_event"].to_numpy(),
        "pfs_months": s["pfs10"].to_numpy() / 10.0,
        "pfs_event": s["pfs_event"].to_numpy(),
    })
    order = rng.permutation(len(df))
    df = df.iloc[order].reset_index(drop=True)
    df.insert(0, "patient_id", [f"TW{i + 1:03d}" for i in range(len(df))])
    return df


_FORMATS = {
    "age": "{:.0f}", "ebv_dna": "{:.0f}", "ldh": "{:.0f}", "os_months": "{:.1f}", "pfs_months": "{:.1f}",
}


def twin_csv_text(df: pd.DataFrame) -> str:
    """The twin as CSV text with fixed formatting (so regeneration is byte-identical).

    Parameters
    ----------
    df : pandas.DataFrame
        A cohort with the contract's columns.

    Returns
    -------
    str
        Header plus one line per patient, ``\n`` line ends; ages, EBV DNA and
        LDH as integers, times to 0.1 month, missing LDH as an empty cell.
    """
    from dmnpc.paper.contract import COLUMNS

    lines = [",".join(COLUMNS)]
    for rec in df[list(COLUMNS)].itertuples(index=False):
        cells = []
        for col, v in zip(COLUMNS, rec):
            if col in _FORMATS:
                cells.append("" if pd.isna(v) else _FORMATS[col].format(float(v)))
            elif isinstance(v, (int, np.integer)):
                cells.append(str(int(v)))
            else:
                cells.append(str(v))
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def write_twin(path: str | Path, seed: int = DEFAULT_SEED) -> Path:
    """Generate the twin and write it as CSV.

    Parameters
    ----------
    path : path-like
        Output file (parent folders are created).
    seed : int
        Seed of :func:`generate_twin`.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    text = twin_csv_text(generate_twin(seed))
    with open(p, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return p


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """Options of the twin command (shared by ``python -m dmnpc twin`` and this module's :func:`main`)."""
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    ap.add_argument("--out", default="data/twin/dmnpc_twin.csv", help="output CSV path")


def run(args: argparse.Namespace) -> int:
    """Write the twin for parsed :func:`add_arguments` options."""
    p = write_twin(args.out, args.seed)
    print(f"wrote {p}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m dmnpc twin --seed N --out data/twin/dmnpc_twin.csv`` (also ``python -m dmnpc.paper.twin``)."""
    ap = argparse.ArgumentParser(prog="python -m dmnpc.paper.twin", description="Generate the synthetic twin cohort.")
    add_arguments(ap)
    return run(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
