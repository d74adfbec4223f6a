"""Tests for dmnpc.stats.roc: hand-worked ROC/Youden cases, pROC and riskRegression golden values,
an exact bootstrap distribution, and every error message."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest

from dmnpc.book.plots import plot_roc
from dmnpc.stats.roc import (bootstrap_cut_distribution, roc_curve, time_dependent_youden_cut,
                           youden_cut)

HERE = Path(__file__).resolve().parents[1]  # tests/
REF = json.loads((HERE / "reference" / "cutoffs.json").read_text())
GBSG = pd.read_csv(HERE / "data" / "gbsg.csv")
RTOL = 1e-6


# ----------------------------------------------------------------------------- hand-worked
def test_tiny_roc_by_hand():
    m = [1, 2, 2, 3, 4, 4, 5, 6]
    y = [0, 0, 1, 0, 1, 1, 0, 1]
    # cases {2,4,4,6}, controls {1,2,3,5}: concordant pairs 1.5 + 3 + 3 + 4 = 11.5 of 16
    cut = youden_cut(m, y)
    assert cut.direction == "<"
    assert cut.auc == pytest.approx(11.5 / 16)
    # at 3.5: cases above {4,4,6} = 3/4, controls at or below {1,2,3} = 3/4
    assert (cut.threshold, cut.sensitivity, cut.specificity) == (3.5, 0.75, 0.75)
    assert cut.youden == pytest.approx(0.5)
    assert cut.threshold_observed == 4.0  # the paper's rule: high group = marker >= 4
    roc = roc_curve(m, y)
    assert roc["threshold"].tolist() == [-np.inf, 1.5, 2.5, 3.5, 4.5, 5.5, np.inf]
    assert roc["sensitivity"].tolist() == [1, 1, 0.75, 0.75, 0.25, 0.25, 0]


def test_tie_for_best_reports_all():
    # youden 0.5 at both 1.5 and 3.5; the first (highest sensitivity) is returned
    cut = youden_cut([1, 2, 3, 4], [0, 1, 0, 1])
    assert cut.threshold == 1.5 and cut.tied_thresholds == (1.5, 3.5)
    assert (cut.sensitivity, cut.specificity) == (1.0, 0.5)


def test_lower_marker_means_event():
    cut = youden_cut([1, 2, 3, 4], [1, 1, 0, 0])
    assert cut.direction == ">"
    assert (cut.threshold, cut.threshold_observed) == (2.5, 2.0)
    assert (cut.sensitivity, cut.specificity, cut.auc) == (1.0, 1.0, 1.0)
    # forcing the wrong direction gives the mirrored AUC
    assert youden_cut([1, 2, 3, 4], [1, 1, 0, 0], direction="<").auc == 0.0


def test_constant_marker():
    cut = youden_cut([5, 5, 5, 5], [0, 1, 0, 1])
    assert cut.auc == 0.5 and cut.youden == 0.0


def test_time_dependent_without_censoring_is_plain_roc():
    t = [1, 2, 3, 4, 5, 6]
    m = [6, 5, 4, 1, 2, 3]
    cut = time_dependent_youden_cut(m, t, [1] * 6, horizon=3)
    plain = youden_cut(m, [1, 1, 1, 0, 0, 0])
    assert (cut.threshold, cut.sensitivity, cut.specificity, cut.auc) == \
        (plain.threshold, plain.sensitivity, plain.specificity, plain.auc) == (3.5, 1.0, 1.0, 1.0)


def test_time_dependent_ipcw_by_hand():
    # censoring KM: censored at 2 (4 at risk) -> 3/4; at 4 -> 3/8; at 5 -> 0.
    # horizon 3.5: cases t=1 (w = 1/G(1-) = 1) and t=3 (w = 1/G(3-) = 4/3); controls t=4, 5.
    # cases' markers 5 and 2.5, controls' 2 and 3; the patient censored at 2 is left out.
    cut = time_dependent_youden_cut([5, 1, 2.5, 2, 3], [1, 2, 3, 4, 5], [1, 0, 1, 0, 0], horizon=3.5)
    assert cut.auc == pytest.approx((1 * 2 + 4 / 3 * 1) / ((1 + 4 / 3) * 2))  # 5/7
    assert (cut.threshold, cut.sensitivity, cut.specificity) == (2.25, 1.0, 0.5)
    # the next cut (4) has sensitivity 1 / (1 + 4/3) = 3/7
    hi = time_dependent_youden_cut([5, 1, 2.5, 2, 3], [1, 2, 3, 4, 5], [1, 0, 1, 0, 0], horizon=3.5,
                                   direction=">")
    assert hi.direction == ">"


# ----------------------------------------------------------------------------- pROC golden values
@pytest.mark.parametrize("var", ["nodes", "pgr", "size"])
def test_youden_matches_proc(var):
    ref = REF[var]
    cut = youden_cut(GBSG[var], GBSG.status)
    assert cut.direction == ref["direction"]
    best = ref["best"]
    assert len(best) == len(cut.tied_thresholds)
    np.testing.assert_allclose(cut.tied_thresholds, [b["threshold"] for b in best], rtol=RTOL)
    np.testing.assert_allclose([cut.sensitivity, cut.specificity, cut.youden, cut.auc],
                               [best[0]["sensitivity"], best[0]["specificity"], best[0]["youden"],
                                ref["auc"]], rtol=RTOL)


@pytest.mark.parametrize("var", ["nodes", "pgr", "size"])
def test_roc_curve_matches_proc(var):
    ref = pd.DataFrame(REF[var]["curve"])
    roc = roc_curve(GBSG[var], GBSG.status)
    assert len(roc) == len(ref)
    # jsonlite writes the infinite end thresholds as null
    np.testing.assert_allclose(roc["threshold"].iloc[1:-1], ref["threshold"].iloc[1:-1].astype(float),
                               rtol=RTOL)
    assert np.isinf(roc["threshold"].iloc[0]) and np.isinf(roc["threshold"].iloc[-1])
    np.testing.assert_allclose(roc["sensitivity"], ref["sensitivity"], rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(roc["specificity"], ref["specificity"], rtol=RTOL, atol=1e-15)
    assert roc.attrs["auc"] == pytest.approx(REF[var]["auc"], rel=RTOL)


def test_tiny_matches_proc():
    d = pd.DataFrame(REF["tiny_data"])
    cut = youden_cut(d.marker, d.outcome)
    b = REF["tiny"]["best"][0]
    assert (cut.threshold, cut.sensitivity, cut.specificity) == (b["threshold"], b["sensitivity"],
                                                                 b["specificity"])
    assert cut.auc == pytest.approx(REF["tiny"]["auc"], rel=RTOL)


def test_time_dependent_auc_matches_riskregression():
    # The censoring distribution is dmnpc.stats.discrimination' (deaths before censorings at tied times, as
    # riskRegression/prodlim), so the IPCW AUC agrees with R to rounding, not just the 1e-3 project rule.
    for row in REF["td_auc_nodes"]:
        cut = time_dependent_youden_cut(GBSG.nodes, GBSG.rfstime, GBSG.status, horizon=row["time"])
        assert cut.auc == pytest.approx(row["auc"], rel=1e-9)


# ----------------------------------------------------------------------------- bootstrap
def test_bootstrap_matches_exact_distribution():
    # 3 cases and 3 controls: the stratified bootstrap has 27 x 27 equally likely samples, so the
    # distribution of the optimal cut can be enumerated exactly. With B samples the frequency of a
    # cut value with probability p has Monte Carlo SD sqrt(p (1 - p) / B); we allow 4 SD
    # (two-sided failure probability ~6e-5 per value, < 1e-3 over all values).
    m = np.array([2.0, 4.0, 5.0, 1.0, 3.0, 6.0])
    y = np.array([1, 1, 1, 0, 0, 0])
    cases, ctrls = [0, 1, 2], [3, 4, 5]
    exact: dict[float, float] = {}
    for ci in itertools.product(cases, repeat=3):
        for co in itertools.product(ctrls, repeat=3):
            idx = list(ci) + list(co)
            t = youden_cut(m[idx], y[idx], direction="<").threshold
            exact[t] = exact.get(t, 0.0) + 1.0 / 729
    B = 4000
    boot = bootstrap_cut_distribution(m, y, B=B, seed=1, direction="<")
    assert len(boot) == B
    freq = boot["threshold"].value_counts(normalize=True)
    assert set(freq.index) <= set(exact)
    for t, p in exact.items():
        f = float(freq.get(t, 0.0))
        assert abs(f - p) <= 4 * np.sqrt(p * (1 - p) / B), (t, f, p)


def test_bootstrap_reproducible_and_original():
    a = bootstrap_cut_distribution(GBSG.nodes, GBSG.status, B=50, seed=7)
    b = bootstrap_cut_distribution(GBSG.nodes, GBSG.status, B=50, seed=7)
    c = bootstrap_cut_distribution(GBSG.nodes, GBSG.status, B=50, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a["auc"].equals(c["auc"])
    assert a.attrs["original"].threshold == 3.5


# ----------------------------------------------------------------------------- plotting
def test_plot_roc():
    roc = roc_curve(GBSG.nodes, GBSG.status)
    ax = plot_roc(roc, youden_cut(GBSG.nodes, GBSG.status))
    assert "AUC 0.653" in ax.get_legend().get_texts()[0].get_text()
    import matplotlib.pyplot as plt
    plt.close("all")


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("m, y, match", [
    ([], [], "empty"),
    ([1, 2], [1], "marker has 2 values but there are 1 patients"),
    ([1, np.nan], [0, 1], "marker has missing values"),
    ([1, np.inf], [0, 1], "marker has infinite values"),
    ([1, 2], [0, np.nan], "outcome has missing values"),
    ([1, 2], [0, 2], "must be 0 .no event. or 1"),
    ([1, 2], [1, 1], "only one class"),
])
def test_marker_outcome_errors(m, y, match):
    with pytest.raises(ValueError, match=match):
        youden_cut(m, y)


def test_other_errors():
    with pytest.raises(ValueError, match="direction must be 'auto'"):
        roc_curve([1, 2], [0, 1], direction="up")
    t, e, m = [1, 2, 3, 4], [1, 0, 1, 0], [1, 2, 3, 4]
    with pytest.raises(ValueError, match="marker has 3 values"):
        time_dependent_youden_cut([1, 2, 3], t, e, 2)
    with pytest.raises(ValueError, match="marker has missing values"):
        time_dependent_youden_cut([1, 2, np.nan, 4], t, e, 2)
    with pytest.raises(ValueError, match="direction must be '<'"):
        time_dependent_youden_cut(m, t, e, 2, direction="auto")
    with pytest.raises(ValueError, match="horizon must be a positive time"):
        time_dependent_youden_cut(m, t, e, 0)
    with pytest.raises(ValueError, match="no patient is still under observation after the horizon 5"):
        time_dependent_youden_cut(m, t, e, 5)
    with pytest.raises(ValueError, match="no patient is still under observation after the horizon"):
        time_dependent_youden_cut(m, t, e, 4)
    with pytest.raises(ValueError, match="no patient had an event by the horizon"):
        time_dependent_youden_cut(m, [2, 3, 4, 5], [0, 1, 1, 0], 1.5)
    with pytest.raises(ValueError, match="must be 0 .censored. or 1"):
        time_dependent_youden_cut(m, t, [1, 2, 0, 0], 2)
    with pytest.raises(ValueError, match="B must be a positive whole number"):
        bootstrap_cut_distribution(m, [0, 1, 0, 1], B=0)
    with pytest.raises(ValueError, match="needs columns"):
        plot_roc(pd.DataFrame({"x": [1]}))
