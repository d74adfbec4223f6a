"""Tests of dmnpc.stats.discrimination: hand-worked cases, R goldens (tests/reference/metrics.json
from ref_metrics.R: survival 3.5.3 concordance, riskRegression 2022.11.28 Score) and errors."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest

from dmnpc.book import plots
from dmnpc.stats import discrimination as M
from dmnpc.stats._validate import z_value

HERE = Path(__file__).resolve().parents[1]  # tests/
REF = json.loads((HERE / "reference" / "metrics.json").read_text())
GBSG = pd.read_csv(HERE / "data" / "gbsg.csv")
T = GBSG["rfstime"].to_numpy(float)
E = GBSG["status"].to_numpy(int)
LP = np.array(REF["lp"])
REL = 1e-6


# ---------------------------------------------------------------- hand-worked
def test_harrell_all_concordant_has_zero_variance():
    r = M.harrell_c([1, 2, 3], [1, 1, 0], [3, 2, 1])
    # pairs (1,2), (1,3), (2,3): all concordant
    assert (r.c, r.concordant, r.discordant, r.tied_risk) == (1.0, 3.0, 0.0, 0.0)
    assert r.var == pytest.approx(0.0, abs=1e-15)


def test_harrell_tie_in_risk_counts_half():
    r = M.harrell_c([1, 2, 3], [1, 1, 0], [1, 1, 0])
    # (1,2) tied on risk = 1/2, (1,3) and (2,3) concordant: C = 2.5 / 3
    assert r.c == pytest.approx(2.5 / 3, rel=1e-12)
    assert r.tied_risk == 1.0


def test_harrell_tie_in_time_is_not_a_pair():
    r = M.harrell_c([2, 2, 3], [1, 1, 0], [1, 2, 0])
    assert r.tied_time == 1.0
    assert r.concordant == 2.0 and r.c == 1.0


def test_censored_at_event_time_is_comparable():
    r = M.harrell_c([2, 2], [1, 0], [1, 0])
    assert r.concordant == 1.0 and r.c == 1.0


def test_single_event_discordant():
    # only the death at t=2 is usable; it is compared with the patient followed to t=3
    r = M.harrell_c([1, 2, 3], [0, 1, 0], [0, 1, 2])
    assert (r.c, r.concordant, r.discordant) == (0.0, 0.0, 1.0)


def test_constant_predictor_gives_one_half():
    r = M.harrell_c(T, E, np.ones_like(T))
    assert r.c == 0.5 and r.concordant == 0 and r.discordant == 0


def test_interval_is_wald():
    r = M.harrell_c(T, E, LP)
    assert r.lower == pytest.approx(r.c - z_value(0.95) * r.se, rel=1e-12)
    assert r.upper == pytest.approx(r.c + z_value(0.95) * r.se, rel=1e-12)
    assert r.somers_d == pytest.approx(2 * r.c - 1)
    assert isinstance(r.c, float) and isinstance(r.se, float)


def test_uno_without_censoring_equals_harrell():
    t, e, r = [1, 2, 3, 4, 5], [1, 1, 1, 1, 1], [5, 3, 4, 1, 2]
    assert M.uno_c(t, e, r).c == pytest.approx(M.harrell_c(t, e, r).c, rel=1e-12)


def test_auc_no_censoring_with_tie():
    a = M.time_dependent_auc([1, 2, 3, 4], [1, 1, 1, 1], [2, 1, 1, 0], 2.5)
    # cases {1,2}, controls {3,4}: 1 + 1 + 1/2 + 1 over 4 pairs
    assert a["auc"].iloc[0] == pytest.approx(0.875, rel=1e-12)
    assert (a["n_cases"].iloc[0], a["n_controls"].iloc[0]) == (2, 2)


def test_auc_ipcw_hand():
    # censored at 2 -> G(2) = 3/4; case at 3 weighted 1/G(3-) = 4/3, case at 1 weighted 1.
    # case risk 5 beats both controls (2 pairs), case risk 1 beats one control:
    # AUC = (1*2 + 4/3*1) / ((1 + 4/3) * 2) = 10/14
    a = M.time_dependent_auc([1, 2, 3, 4, 5], [1, 0, 1, 0, 0], [5, 9, 1, 2, 0], [3.5])
    assert a["auc"].iloc[0] == pytest.approx(10 / 14, rel=1e-12)
    assert a["n_censored"].iloc[0] == 1


def test_auc_ties_at_horizon_hand_and_r():
    # horizon t = 2 with an event and a censoring exactly at 2.
    # Censoring KM: at 1.5, 5 at risk -> G = 4/5; the event at 2 is a case weighted
    # 1/G(2-) = 5/4 (G(2) = 4/5 * 1/2 would give 5/2); the patient censored at 2 is
    # neither case nor control. Controls: t = 3 (risk 2), t = 4 (risk 0.5).
    # Case t=1 (risk 1) beats 1 of 2 controls, case t=2 (risk 5) beats 2 of 2:
    # AUC = (1*1 + 5/4*2) / ((1 + 5/4) * 2) = 7/9
    d = REF["auc_tiny"]["data"]
    a = M.time_dependent_auc(d["time"], d["status"], d["risk"], 2)
    assert a["auc"].iloc[0] == pytest.approx(7 / 9, rel=1e-12)
    assert a["auc"].iloc[0] == pytest.approx(REF["auc_tiny"]["AUC"], rel=1e-9)
    assert (a["n_cases"].iloc[0], a["n_controls"].iloc[0], a["n_censored"].iloc[0]) == (2, 2, 2)


def test_roc_area_equals_auc():
    for marker in (LP, GBSG["grade"].to_numpy(float)):
        for h in (365.0, 1825.0):
            roc = M.td_roc_curve(T, E, marker, h)
            area = float(np.sum(np.diff(roc["fpr"]) * (roc["tpr"].to_numpy()[1:] + roc["tpr"].to_numpy()[:-1]) / 2))
            auc = M.time_dependent_auc(T, E, marker, h)["auc"].iloc[0]
            assert area == pytest.approx(auc, rel=1e-12)


def test_plot_td_roc_returns_axes():
    import matplotlib.pyplot as plt

    ax = plots.plot_td_roc(T, E, LP, [365, 730])
    assert len(ax.get_lines()) == 3
    plt.close("all")


# ---------------------------------------------------------------- R goldens
def _check_conc(res: M.ConcordanceResult, ref: dict):
    cnt = ref["count"]
    assert res.c == pytest.approx(ref["c"], rel=REL)
    assert res.var == pytest.approx(ref["var"], rel=REL)
    assert res.concordant == pytest.approx(cnt["concordant"], rel=REL)
    assert res.discordant == pytest.approx(cnt["discordant"], rel=REL)
    assert res.tied_risk == pytest.approx(cnt["tied.x"], rel=REL, abs=1e-12)
    assert res.tied_time == pytest.approx(cnt["tied.y"], rel=REL, abs=1e-12)
    assert res.tied_both == pytest.approx(cnt["tied.xy"], rel=REL, abs=1e-12)


def test_harrell_matches_survival_on_coxph():
    _check_conc(M.harrell_c(T, E, LP), REF["harrell_fit"])


def test_harrell_matches_survival_with_tied_marker():
    _check_conc(M.harrell_c(T, E, GBSG["grade"]), REF["harrell_grade"])


TINY = dict(time=[1, 2, 2, 3, 4, 4, 5, 6], status=[1, 1, 0, 1, 1, 1, 0, 0], risk=[3, 2, 2, 2, 1, 3, 0, 1])


def test_harrell_matches_survival_tiny_ties():
    _check_conc(M.harrell_c(TINY["time"], TINY["status"], TINY["risk"]), REF["harrell_tiny"])


def test_uno_matches_survival_n_over_G2():
    _check_conc(M.uno_c(TINY["time"], TINY["status"], TINY["risk"]), REF["uno_tiny"])
    _check_conc(M.uno_c(T, E, LP, tau=REF["tau"]), REF["uno_tau"])
    _check_conc(M.uno_c(T, E, LP), REF["uno_all"])


def test_auc_matches_riskregression():
    got = M.time_dependent_auc(T, E, LP, REF["times"])
    np.testing.assert_allclose(got["auc"], REF["auc"]["AUC"], rtol=0, atol=1e-3)
    np.testing.assert_allclose(got["auc"], REF["auc"]["AUC"], rtol=1e-9)  # in fact exact
    got = M.time_dependent_auc(T, E, GBSG["grade"], REF["times"])
    np.testing.assert_allclose(got["auc"], REF["auc_grade"]["AUC"], rtol=1e-9)


def test_roc_points_match_riskregression():
    roc = pd.DataFrame(REF["roc"])
    for h in REF["times"]:
        r = roc[roc["times"] == h].sort_values("risk", ascending=False)
        ours = M.td_roc_curve(T, E, LP, h).iloc[1:]  # drop the (0, 0) start
        assert len(ours) == len(r)  # all risks distinct: one point per patient
        np.testing.assert_allclose(ours["fpr"], r["FPR"], atol=1e-12)
        np.testing.assert_allclose(ours["tpr"], r["TPR"], atol=1e-12)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "args, match",
    [
        (([], [], []), "empty"),
        (([1, 2], [1], [1, 2]), "event has 1 values but there are 2 patients"),
        (([1, np.nan], [1, 0], [1, 2]), "time has missing values"),
        (([1, np.inf], [1, 0], [1, 2]), "time has infinite values"),
        (([-1, 2], [1, 0], [1, 2]), "time has negative values"),
        (([1, 2], [1, 2], [1, 2]), "event must be 0 .censored. or 1"),
        (([1, 2], [0, 0], [1, 2]), "no events"),
        (([1, 2], [1, 0], [1]), "risk score has 1 values but there are 2 patients"),
        (([1, 2], [1, 0], [1, np.nan]), "risk score has missing values"),
        (([1, 2], [1, 0], [1, np.inf]), "risk score has infinite values"),
        (([1, 2], [0, 1], [1, 2]), "No pair of patients is comparable"),
    ],
)
def test_harrell_errors(args, match):
    with pytest.raises(ValueError, match=match):
        M.harrell_c(*args)


def test_uno_errors():
    with pytest.raises(ValueError, match="tau must be a positive time"):
        M.uno_c(T, E, LP, tau=-1)
    with pytest.raises(ValueError, match="no events up to tau"):
        M.uno_c([5, 6, 7], [1, 1, 0], [1, 2, 3], tau=2)


def test_auc_errors():
    with pytest.raises(ValueError, match="positive time"):
        M.time_dependent_auc(T, E, LP, [0])
    with pytest.raises(ValueError, match="no patient had an event by the horizon 1"):
        M.time_dependent_auc([5, 6, 7], [1, 1, 0], [1, 2, 3], 1)
    with pytest.raises(ValueError, match="no patient is still under observation after the horizon 8"):
        M.time_dependent_auc([5, 6, 7], [1, 1, 0], [1, 2, 3], 8)
    with pytest.raises(ValueError, match="no patient had an event by the horizon 1"):
        M.td_roc_curve([5, 6, 7], [1, 1, 0], [1, 2, 3], 1)
    with pytest.raises(ValueError, match="no patient is still under observation after the horizon 8"):
        M.td_roc_curve([5, 6, 7], [1, 1, 0], [1, 2, 3], 8)


@pytest.mark.parametrize(
    "index",
    [M.harrell_c, M.uno_c, lambda t, e, r: M.time_dependent_auc(t, e, r, [2]),
     lambda t, e, r: M.td_roc_curve(t, e, r, 2)],
    ids=["harrell_c", "uno_c", "time_dependent_auc", "td_roc_curve"],
)
def test_infinite_time_refused(index):
    # an infinite follow-up time used to pass (harrell_c returned C = 0.25 here)
    with pytest.raises(ValueError, match="time has infinite values"):
        index([1, 2, np.inf, 4], [1, 0, 1, 0], [4, 3, 2, 1])


# ---------------------------------------------------------------- O(n log n) = pairwise reference
def _pairwise_reference(t, e, r, timewt="n", tau=None):
    """The former O(n^2) implementation: enumerate every comparable and tied-time pair."""
    from dmnpc.stats.km import censoring_km, censoring_survival

    t, e, r = np.asarray(t, float), np.asarray(e, int), np.asarray(r, float)
    n = t.size
    dead = np.flatnonzero(e == 1)
    if tau is not None:
        dead = dead[t[dead] <= tau]
    ti = t[dead][:, None]
    comp = (t[None, :] > ti) | ((t[None, :] == ti) & (e[None, :] == 0))
    tied = (t[None, :] == ti) & (e[None, :] == 1) & (np.arange(n)[None, :] > dead[:, None])
    a, J = np.nonzero(comp)
    I = dead[a]
    a, TJ = np.nonzero(tied)
    TI = dead[a]
    if timewt == "n/G2" and e.sum() >= 2:
        ct, G = censoring_km(t, e)
        wt_ev = 1.0 / censoring_survival(ct, G, t, left=True) ** 2
    else:
        wt_ev = np.ones(n)
    pw = wt_ev[I]
    diff = r[I] - r[J]
    conc_p, disc_p, tie_p = pw * (diff > 0), pw * (diff < 0), pw * (diff == 0)
    conc, disc, tie = conc_p.sum(), disc_p.sum(), tie_p.sum()
    tw, tr = wt_ev[TI], r[TI] == r[TJ]
    npair = conc + disc + tie
    somer = (conc - disc) / npair
    infl = lambda x: np.bincount(I, weights=x, minlength=n) + np.bincount(J, weights=x, minlength=n)  # noqa: E731
    ic, idd, it = infl(conc_p), infl(disc_p), infl(tie_p)
    dfbeta = (ic - idd) / npair - (somer / npair) * (ic + idd + it)
    return dict(c=(somer + 1) / 2, var=np.sum(dfbeta**2) / 4.0, concordant=conc, discordant=disc, tied_risk=tie,
                tied_time=np.sum(tw * ~tr), tied_both=np.sum(tw * tr))


def _random_cohort(seed, n):
    rng = np.random.default_rng(seed)
    t = np.round(rng.exponential(5.0, n), int(rng.integers(0, 2)))  # many ties in time
    t = np.maximum(t, 0.0)
    e = (rng.random(n) < rng.uniform(0.2, 0.9)).astype(int)
    e[0] = e[1] = 1
    t[1] = t[0] + 1.0  # at least one comparable pair
    r = rng.integers(0, int(rng.integers(2, 12)), n).astype(float)  # ties in risk
    if seed % 2:
        r = r + rng.normal(0, 1, n) * (rng.random(n) < 0.5)  # a mix of tied and distinct scores
    return t, e, r


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("n", [2, 7, 40, 300])
def test_fast_concordance_equals_pairwise(seed, n):
    t, e, r = _random_cohort(seed, n)
    keys = ("c", "var", "concordant", "discordant", "tied_risk", "tied_time", "tied_both")
    cases = [(M.harrell_c(t, e, r), _pairwise_reference(t, e, r))]
    for tau in (None, float(np.quantile(t[e == 1], 0.6))):
        cases.append((M.uno_c(t, e, r, tau=tau), _pairwise_reference(t, e, r, "n/G2", tau)))
    for fast, ref in cases:
        for k in keys:
            assert getattr(fast, k) == pytest.approx(ref[k], rel=1e-12, abs=1e-12), k


@pytest.mark.parametrize("seed", range(4))
def test_fast_harrell_counts_are_exact(seed):
    # with unit weights every count is an integer sum: the fast and pairwise results agree exactly
    t, e, r = _random_cohort(seed, 250)
    fast, ref = M.harrell_c(t, e, r), _pairwise_reference(t, e, r)
    assert (fast.concordant, fast.discordant, fast.tied_risk, fast.tied_time, fast.tied_both) == (
        ref["concordant"], ref["discordant"], ref["tied_risk"], ref["tied_time"], ref["tied_both"])
    assert fast.c == ref["c"]


def test_fast_concordance_on_gbsg_equals_pairwise():
    ref = _pairwise_reference(T, E, LP)
    fast = M.harrell_c(T, E, LP)
    assert (fast.c, fast.concordant, fast.discordant) == (ref["c"], ref["concordant"], ref["discordant"])
    assert fast.var == pytest.approx(ref["var"], rel=1e-12)
    tau = REF["tau"]
    ref = _pairwise_reference(T, E, LP, "n/G2", tau)
    fast = M.uno_c(T, E, LP, tau=tau)
    for k in ("c", "var", "concordant", "discordant", "tied_risk"):
        assert getattr(fast, k) == pytest.approx(ref[k], rel=1e-12, abs=1e-12), k


def test_concordance_memory_is_linear():
    # 20,000 patients: the pairwise version needed ~4 GB; this one stays far below 200 MB
    import tracemalloc

    rng = np.random.default_rng(1)
    n = 20_000
    t, e, r = np.round(rng.exponential(5, n), 1), (rng.random(n) < 0.6).astype(int), rng.normal(size=n)
    tracemalloc.start()
    M.harrell_c(t, e, r)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 200e6
