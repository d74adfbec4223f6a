"""Tests for dmnpc.stats.km: hand-worked cases, R golden values (survival 3.5.3), errors."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest

from dmnpc.book.plots import plot_km
from dmnpc.stats._validate import z_value
from dmnpc.stats.km import (KMResult, censoring_km, censoring_survival, kaplan_meier, km_at, km_left,
                            logrank_test, median_followup, median_survival, number_at_risk,
                            survival_at)

HERE = Path(__file__).resolve().parents[1]  # tests/
REF = json.loads((HERE / "reference" / "survival.json").read_text())
GBSG = pd.read_csv(HERE / "data" / "gbsg.csv")
RTOL = 1e-6


def _arr(records, key):
    return np.array([np.nan if r.get(key) is None else r[key] for r in records], dtype=float)


def _close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=0,
                               equal_nan=True)


# ----------------------------------------------------------------------------- hand-worked
def test_km_all_events_hand():
    km = kaplan_meier([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 1])
    tab = km.table
    assert tab["surv"].tolist() == pytest.approx([5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6, 0.0])
    assert tab["n_risk"].tolist() == [6, 5, 4, 3, 2, 1]
    # Greenwood on the log scale at t=1: d/(n(n-d)) = 1/30
    assert tab["std_err_log"].iloc[0] == pytest.approx(np.sqrt(1 / 30))
    # survival-scale SE = S * se_log
    assert tab["std_err"].iloc[0] == pytest.approx(5 / 6 * np.sqrt(1 / 30))
    z = z_value(0.95)
    assert z == 1.959963984540054  # the normal quantile every 95% interval uses
    assert tab["lower"].iloc[0] == pytest.approx(5 / 6 * np.exp(-z * np.sqrt(1 / 30)))
    assert tab["upper"].iloc[0] == pytest.approx(min(1.0, 5 / 6 * np.exp(z * np.sqrt(1 / 30))))
    # survival 0 -> no CI
    assert np.isnan(tab["lower"].iloc[-1]) and np.isnan(tab["upper"].iloc[-1])
    # S = 0.5 exactly on [3, 4): median is the midpoint 3.5
    assert median_survival(km)[0] == 3.5
    assert km.n == 6 and km.n_events == 6


def test_km_ties_and_midpoint_rule():
    # at t=1: 4 at risk, 2 deaths -> S=0.5; censoring at 2; death at 3 -> S=0
    km = kaplan_meier([1, 1, 2, 3], [1, 1, 0, 1])
    tab = km.table
    assert tab["time"].tolist() == [1, 2, 3]
    assert tab["n_event"].tolist() == [2, 0, 1]
    assert tab["n_censor"].tolist() == [0, 1, 0]
    assert tab["surv"].tolist() == pytest.approx([0.5, 0.5, 0.0])
    assert tab["std_err_log"].iloc[0] == pytest.approx(np.sqrt(2 / (4 * 2)))
    assert median_survival(km)[0] == 2.0  # (1 + 3) / 2


def test_single_event_no_later_drop():
    # S = 0.5 from t=2 on and never drops below: median is 2, not a midpoint
    km = kaplan_meier([1, 2, 3], [0, 1, 0])
    assert km.table["surv"].tolist() == pytest.approx([1.0, 0.5, 0.5])
    assert median_survival(km)[0] == 2.0


def test_all_censored_median_nan():
    km = kaplan_meier([2, 4, 4, 6], [0, 0, 0, 0])
    assert (km.table["surv"] == 1.0).all()
    assert all(np.isnan(v) for v in median_survival(km))
    assert km.n_events == 0


def test_survival_at_steps():
    km = kaplan_meier([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 1])
    s = survival_at(km, [0.5, 1, 2.5, 6, 7])
    assert s["surv"].iloc[:4].tolist() == pytest.approx([1.0, 5 / 6, 4 / 6, 0.0])
    assert s["std_err"].iloc[0] == 0.0 and s["lower"].iloc[0] == 1.0
    assert s["n_risk"].tolist() == [6, 6, 4, 1, 0]
    assert np.isnan(s["surv"].iloc[4])  # beyond follow-up
    s2 = survival_at(km, 7, extend=True)
    assert s2["surv"].iloc[0] == 0.0


def test_number_at_risk_hand():
    nr = number_at_risk([1, 2, 3, 4], [1, 0, 1, 0], [0, 2, 3.5], group=["a", "b", "a", "b"])
    assert nr.loc["a"].tolist() == [2, 1, 0]
    assert nr.loc["b"].tolist() == [2, 2, 1]  # b: times 2 and 4; at t=2 both still at risk
    assert number_at_risk([1, 2, 3, 4], [1, 0, 1, 0], [2]).loc["all"].tolist() == [3]


def test_logrank_hand_group_without_events():
    # A: deaths at 1, 2; B: censored at 3, 4 (no events).
    # t=1: n=4 (2/2), E_A=1/2, V=1*3/3*(1/2*1/2)=1/4; t=2: n=3 (1/2), E_A=1/3, V=2/9
    # chisq = (7/6)^2 / (17/36) = 49/17
    res = logrank_test([1, 2, 3, 4], [1, 1, 0, 0], ["A", "A", "B", "B"])
    assert res.chisq == pytest.approx(49 / 17)
    assert res.df == 1
    assert res.table["observed"].tolist() == [2, 0]
    assert res.table["expected"].tolist() == pytest.approx([5 / 6, 7 / 6])


def test_logrank_zero_expected_group_dropped():
    # group C is censored before the first death: expected 0, so df = 1 (as survdiff)
    res = logrank_test([1, 2, 3, 4, 0.5], [1, 1, 0, 0, 0], ["A", "A", "B", "B", "C"])
    assert res.df == 1
    assert res.chisq == pytest.approx(49 / 17)
    assert res.table.set_index("group").loc["C", "expected"] == 0.0


def test_median_followup_hand():
    fu = median_followup([1, 2, 3, 4, 5], [1, 0, 1, 0, 0])
    assert fu["median_observed"] == 3.0 and fu["min"] == 1.0 and fu["max"] == 5.0
    # reverse KM: "events" (censorings) at 2, 4, 5; deaths at 1, 3 censored.
    # at 2: 4 at risk -> 3/4; at 4: 2 at risk -> 3/8 <= 0.5 -> median 4
    assert fu["reverse_km_median"] == 4.0
    assert isinstance(fu["reverse_km_median"], float)
    assert fu["n_censored"] == 3


# ----------------------------------------------------------------------------- R golden values
def _check_km(km: KMResult, ref):
    tab = km.table
    _close(tab["time"], _arr(ref, "time"))
    for col, rc in [("n_risk", "n_risk"), ("n_event", "n_event"), ("n_censor", "n_censor")]:
        assert tab[col].tolist() == [int(v) for v in _arr(ref, rc)]
    _close(tab["surv"], _arr(ref, "surv"))
    finite = np.isfinite(tab["std_err_log"].to_numpy())
    _close(tab["std_err_log"][finite], _arr(ref, "std_err_log")[finite])
    _close(tab["lower"], _arr(ref, "lower"))
    _close(tab["upper"], _arr(ref, "upper"))


def test_km_matches_r_gbsg():
    _check_km(kaplan_meier(GBSG.rfstime, GBSG.status), REF["km_all"])
    for h in (0, 1):
        d = GBSG[GBSG.hormon == h]
        _check_km(kaplan_meier(d.rfstime, d.status), REF[f"km_h{h}"])


def test_km_matches_r_tiny():
    _check_km(kaplan_meier([1, 2, 3, 4, 5, 6], [1] * 6), REF["tiny1_km"])
    _check_km(kaplan_meier([1, 2, 2, 3, 5, 8, 9], [1, 1, 0, 1, 0, 1, 0]), REF["tiny2_km"])


def test_survival_at_matches_r():
    times = [365, 730, 1825]
    for ref, data in [([r for r in REF["at_all"]], GBSG)] + [
            ([r for r in REF["at_by"] if r["strata"] == f"hormon={h}"], GBSG[GBSG.hormon == h])
            for h in (0, 1)]:
        s = survival_at(kaplan_meier(data.rfstime, data.status), times)
        assert s["n_risk"].tolist() == [int(v) for v in _arr(ref, "n_risk")]
        for col in ("surv", "std_err", "lower", "upper"):
            _close(s[col], _arr(ref, col))


def _check_median(km, ref):
    got = median_survival(km)
    want = [np.nan if ref[k] is None else ref[k] for k in ("median", "lower", "upper")]
    _close(got, want)


def test_median_matches_r():
    _check_median(kaplan_meier(GBSG.rfstime, GBSG.status), REF["median_all"][0])
    for h in (0, 1):
        d = GBSG[GBSG.hormon == h]
        _check_median(kaplan_meier(d.rfstime, d.status), REF["median_by"][h])
    _check_median(kaplan_meier([1, 2, 3, 4, 5, 6], [1] * 6), REF["tiny1_median"][0])
    _check_median(kaplan_meier([1, 2, 2, 3, 5, 8, 9], [1, 1, 0, 1, 0, 1, 0]), REF["tiny2_median"][0])
    _check_median(kaplan_meier([2, 4, 4, 6], [0, 0, 0, 0]), REF["tiny3_median"][0])


@pytest.mark.parametrize("var", ["hormon", "grade"])
def test_logrank_matches_r(var):
    ref = REF[f"logrank_{var}"]
    res = logrank_test(GBSG.rfstime, GBSG.status, GBSG[var])
    _close(res.chisq, ref["chisq"])
    _close(res.p, ref["p"])
    assert res.df == ref["df"]
    _close(res.table["observed"], ref["observed"])
    _close(res.table["expected"], ref["expected"])
    assert res.table["n"].tolist() == ref["n"]


def test_followup_matches_r():
    fu = median_followup(GBSG.rfstime, GBSG.status)
    ref = REF["followup"]
    assert fu["median_observed"] == ref["median_observed"]
    assert (fu["min"], fu["max"]) == (ref["min"], ref["max"])
    rk = ref["reverse_km"][0]
    _close([fu["reverse_km_median"], fu["reverse_km_lower"], fu["reverse_km_upper"]],
           [rk["median"], rk["lower"], rk["upper"]])


# ----------------------------------------------------------------------------- plotting
def test_plot_km_returns_axes():
    d0, d1 = GBSG[GBSG.hormon == 0], GBSG[GBSG.hormon == 1]
    kms = {"No hormone": kaplan_meier(d0.rfstime, d0.status),
           "Hormone": kaplan_meier(d1.rfstime, d1.status)}
    ax = plot_km(kms, risk_times=[0, 500, 1000, 1500, 2000])
    assert len(ax.get_lines()) >= 2
    texts = [t.get_text() for t in ax.texts]
    assert "Number at risk" in texts
    # the at-risk numbers drawn are those of number_at_risk
    nr = number_at_risk(GBSG.rfstime, GBSG.status, [500], group=GBSG.hormon)
    assert str(nr.loc[0, 500.0]) in texts and str(nr.loc[1, 500.0]) in texts
    import matplotlib.pyplot as plt
    plt.close("all")


# ----------------------------------------------------------------------------- lifelines cross-check
def test_kaplan_meier_agrees_with_lifelines():
    # an independent implementation: lifelines' KaplanMeierFitter (survival and the Greenwood
    # sum d / (n (n - d)) behind its variance; lifelines has no public variance, it keeps the sum
    # in _cumulative_sq_) at every distinct time of gbsg
    from lifelines import KaplanMeierFitter

    tab = kaplan_meier(GBSG.rfstime, GBSG.status).table
    kmf = KaplanMeierFitter().fit(GBSG.rfstime, GBSG.status)
    surv = kmf.survival_function_["KM_estimate"].reindex(tab["time"]).to_numpy()
    greenwood = kmf._cumulative_sq_.reindex(tab["time"]).to_numpy()
    np.testing.assert_allclose(tab["surv"], surv, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tab["std_err_log"] ** 2, greenwood, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tab["std_err"] ** 2, surv ** 2 * greenwood, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- km_at, km_left, censoring
def test_censoring_km_hand():
    # censoring at 2 with a death at 2: risk set for censoring = {2c, 3, 4} -> G = 2/3
    times, G = censoring_km([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    np.testing.assert_allclose(times, [2, 4])
    np.testing.assert_allclose(G, [2 / 3, 0.0])
    # G(at) is right-continuous; the left limit G(at-) excludes a censoring at ``at``
    at = np.array([0.5, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(censoring_survival(times, G, at, left=False), [1, 2 / 3, 2 / 3, 0, 0])
    np.testing.assert_allclose(censoring_survival(times, G, at, left=True), [1, 1, 2 / 3, 2 / 3, 0])
    assert censoring_km([1, 2], [1, 1])[0].size == 0  # no censoring: G = 1 throughout


def test_censoring_km_is_the_reverse_km_with_deaths_first():
    # the same G as counting, at each censoring time u, the censorings at u over the patients
    # with follow-up > u plus those censored at u (deaths at u leave the risk set first)
    t, e = GBSG.rfstime.to_numpy(float), GBSG.status.to_numpy(int)
    times, G = censoring_km(t, e)
    n_cens = np.array([np.sum((t == u) & (e == 0)) for u in times], dtype=float)
    at_risk = np.array([np.sum(t > u) for u in times], dtype=float) + n_cens
    assert np.array_equal(times, np.unique(t[e == 0]))
    assert np.array_equal(G, np.cumprod(1.0 - n_cens / at_risk))  # exactly, not to a tolerance


def test_km_left_is_the_curve_just_before_each_time():
    t, e = [1, 2, 2, 3, 4], [1, 1, 0, 1, 0]
    np.testing.assert_allclose(km_left(t, e), [1.0, 0.8, 0.8, 0.6, 0.3], rtol=1e-12)


def test_km_at_reads_the_kaplan_meier_table():
    fit = kaplan_meier(GBSG.rfstime, GBSG.status).table
    for h in (0.0, 100.0, 730.0, 1825.0):
        s, se = km_at(GBSG.rfstime, GBSG.status, h)
        before = fit[fit["time"] <= h + 1e-6]
        if before.empty:
            assert (s, se) == (1.0, 0.0)
        else:
            assert (s, se) == (before["surv"].iloc[-1], before["std_err_log"].iloc[-1])


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("time, event, match", [
    ([], [], "empty"),
    ([1, 2], [1], "event has 1 values but there are 2 patients"),
    ([1, np.nan], [1, 0], "time has missing values"),
    ([1, 2], [1, np.nan], "event has missing values"),
    ([1, np.inf], [1, 0], "time has infinite values"),
    ([1, -2], [1, 0], "time has negative values"),
    ([1, 2], [1, 2], "must be 0 .censored. or 1"),
])
def test_time_event_errors(time, event, match):
    with pytest.raises(ValueError, match=match):
        kaplan_meier(time, event)


def test_other_errors():
    with pytest.raises(ValueError, match="conf_level"):
        kaplan_meier([1, 2], [1, 0], conf_level=1.5)
    km = kaplan_meier([1, 2], [1, 0])
    with pytest.raises(ValueError, match="no times given"):
        survival_at(km, [])
    with pytest.raises(ValueError, match="times must be non-missing"):
        survival_at(km, [-1])
    with pytest.raises(ValueError, match="no times given"):
        number_at_risk([1, 2], [1, 0], [])
    with pytest.raises(ValueError, match="group has 1 values but there are 2 patients"):
        number_at_risk([1, 2], [1, 0], [0], group=["a"])
    with pytest.raises(ValueError, match="group has missing values"):
        logrank_test([1, 2], [1, 0], ["a", None])
    with pytest.raises(ValueError, match="at least two groups"):
        logrank_test([1, 2], [1, 0], ["a", "a"])
    with pytest.raises(ValueError, match="no events"):
        logrank_test([1, 2], [0, 0], ["a", "b"])
    with pytest.raises(ValueError, match="nothing to draw"):
        plot_km({})


# ----------------------------------------------------------------------------- km_at (rms::groupkm reading)
def test_km_at_hand():
    # 4 patients: death at 1 (4 at risk), censored 2, death at 3 (2 at risk), censored 4
    s, se = km_at([1, 2, 3, 4], [1, 0, 1, 0], 2.5)
    assert s == pytest.approx(0.75) and se == pytest.approx(np.sqrt(1 / 12))
    s, se = km_at([1, 2, 3, 4], [1, 0, 1, 0], 3)
    assert s == pytest.approx(0.375) and se == pytest.approx(np.sqrt(1 / 12 + 1 / 2))
    assert np.isnan(km_at([1, 2, 3, 4], [1, 0, 1, 0], 5)[0])  # beyond follow-up, S > 0
    s, se = km_at([1, 2], [1, 1], 5)  # everyone died: S = 0 stays defined beyond follow-up
    assert s == 0.0 and np.isinf(se)


def test_km_at_agrees_with_kaplan_meier():
    # km_at is the calibration bootstrap's hot path; it reads the same core as kaplan_meier
    from dmnpc.stats import km
    g = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "gbsg.csv")
    fit = km.kaplan_meier(g["rfstime"], g["status"])
    for h in (100.0, 365.0, 730.0, 1825.0):
        s, se = km_at(g["rfstime"], g["status"], h)
        row = km.survival_at(fit, [h]).iloc[0]
        assert s == pytest.approx(float(row["surv"]), rel=1e-12)
        at = fit.table[fit.table["time"] <= h].iloc[-1]
        assert se == pytest.approx(float(at["std_err_log"]), rel=1e-12)
