"""dmnpc.stats.subgroup's treatment-appraisal pieces: landmark, interaction_continuous, survival_difference.

Hand-worked cases and R golden values on survival::gbsg (tests/reference/ref_treatment_stats.R ->
treatment_stats.json).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dmnpc.stats.cox import fit_cox
from dmnpc.stats.subgroup import interaction_continuous, landmark, survival_difference

HERE = Path(__file__).resolve().parents[1]  # tests/
REF = json.loads((HERE / "reference" / "treatment_stats.json").read_text())
#: both sides converge Newton-Raphson to ~1e-12 (coxph eps = 1e-12); KM and Greenwood are closed
#: forms: 1e-6 relative leaves room for the stopping rules and nothing for a wrong formula
RTOL = 1e-6


@pytest.fixture(scope="module")
def gbsg() -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / "gbsg.csv")


# --------------------------------------------------------------------------- landmark
def test_landmark_convention_by_hand():
    # a death and a censoring exactly at the landmark are left out (time > at), times shift by `at`
    mask, t = landmark([2.0, 3.0, 3.0, 3.5, 7.0], [1, 1, 0, 0, 1], 3.0)
    assert mask.tolist() == [False, False, False, True, True]
    assert t.tolist() == [0.5, 4.0]
    mask, t = landmark([1.0, 2.0], [1, 1], 5.0)          # nobody left: an empty cohort, not an error
    assert not mask.any() and t.size == 0
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="the landmark must be a positive time"):
            landmark([1.0, 2.0], [1, 0], bad)


def test_landmark_equals_r(gbsg):
    """subset(rfstime > 529), rfstime - 529, coxph(~ nohormon + nodes): 529 has a death and a censoring."""
    R = REF["landmark"]
    at = R["at"]
    assert ((gbsg["rfstime"] == at) & (gbsg["status"] == 1)).any() and ((gbsg["rfstime"] == at) & (gbsg["status"] == 0)).any()
    mask, t = landmark(gbsg["rfstime"], gbsg["status"], at)
    e = gbsg["status"].to_numpy()[mask]
    assert (int(mask.sum()), int(e.sum())) == (R["n"], R["events"])
    assert float(t.sum()) == R["time_sum"]  # integers: exact
    X = pd.DataFrame({"nohormon": 1.0 - gbsg["hormon"], "nodes": gbsg["nodes"].astype(float)})[mask]
    fit = fit_cox(t, e, X)
    np.testing.assert_allclose(fit.coef, R["coef"], rtol=RTOL)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.vcov)), R["se"], rtol=RTOL)
    np.testing.assert_allclose([fit.loglik_null, fit.loglik], R["loglik"], rtol=RTOL)


# --------------------------------------------------------------------------- interaction_continuous
@pytest.mark.parametrize("name", ["nodes", "age10"])
def test_interaction_continuous_equals_r(gbsg, name):
    """coxph(~ nohormon + m + nohormon:m) vs coxph(~ nohormon + m), anova() LR test."""
    R = REF["continuous"][name]
    m = gbsg["nodes"] if name == "nodes" else gbsg["age"] / 10
    ci = interaction_continuous(gbsg["rfstime"], gbsg["status"], gbsg["hormon"], m)
    for k in ("coef", "se", "ratio", "lower", "upper", "lr_chisq", "p"):
        assert getattr(ci, k) == pytest.approx(R[k], rel=RTOL), k
    assert (ci.n, ci.events) == (len(gbsg), int(gbsg["status"].sum()))


def test_interaction_continuous_invariances(gbsg):
    """Shifting the modifier changes nothing tested; scaling it by c divides the coefficient by c."""
    T, E, TR, m = gbsg["rfstime"], gbsg["status"], gbsg["hormon"], gbsg["nodes"].astype(float)
    base = interaction_continuous(T, E, TR, m)
    shifted = interaction_continuous(T, E, TR, m - 7.5)
    scaled = interaction_continuous(T, E, TR, m / 10)
    for other in (shifted, scaled):
        assert other.lr_chisq == pytest.approx(base.lr_chisq, rel=RTOL)
        assert other.p == pytest.approx(base.p, rel=RTOL)
    assert shifted.coef == pytest.approx(base.coef, rel=RTOL)
    assert scaled.coef == pytest.approx(10 * base.coef, rel=RTOL)
    assert base.p == pytest.approx(stats.chi2.sf(base.lr_chisq, 1), rel=1e-12)


def test_interaction_continuous_errors():
    t, e = [1.0, 2.0, 3.0, 4.0], [1, 1, 0, 0]
    with pytest.raises(ValueError, match="no events among patients without treatment"):
        interaction_continuous(t, e, [1, 1, 0, 0], [0.1, 0.5, 0.2, 0.9])
    with pytest.raises(ValueError, match="treatment must be 0"):
        interaction_continuous(t, e, [1, 2, 0, 0], [0.1, 0.5, 0.2, 0.9])
    with pytest.raises(ValueError):
        interaction_continuous(t, e, [1, 0, 1, 0], [0.1, np.nan, 0.2, 0.9])


# --------------------------------------------------------------------------- survival_difference
def test_survival_difference_by_hand():
    # group 1: deaths at 1 and 3, censored at 2 -> S(2) = 2/3, Greenwood var = (2/3)^2 * 1/(3*2) = 2/27
    # group 0: censored at 1, death at 4 -> S(2) = 1, var 0
    t, e, g = [1, 2, 3, 1, 4], [1, 0, 1, 0, 1], [1, 1, 1, 0, 0]
    d = survival_difference(t, e, g, 2.0)
    se = math.sqrt(2 / 27)
    z = stats.norm.ppf(0.975)
    assert d["surv_1"] == pytest.approx(2 / 3, rel=1e-12) and d["surv_0"] == 1.0
    assert d["est"] == pytest.approx(-1 / 3, rel=1e-12) and d["se"] == pytest.approx(se, rel=1e-12)
    assert (d["lower"], d["upper"]) == pytest.approx((-1 / 3 - z * se, -1 / 3 + z * se), rel=1e-12)
    d90 = survival_difference(t, e, g, 2.0, conf_level=0.90)
    assert d90["upper"] - d90["est"] == pytest.approx(stats.norm.ppf(0.95) * se, rel=1e-12)
    # a death exactly at the horizon counts (right-continuous KM): group 1 at 3 -> 2/3 * 0 = 0
    assert survival_difference(t, e, g, 3.0)["surv_1"] == 0.0


@pytest.mark.parametrize("horizon", ["859", "1825"])
def test_survival_difference_equals_r(gbsg, horizon):
    """summary(survfit(...), times = h): surv and std.err per arm; variances of independent arms added."""
    R = REF["difference"][horizon]
    d = survival_difference(gbsg["rfstime"], gbsg["status"], gbsg["hormon"], float(horizon))
    for k in ("est", "lower", "upper", "se", "surv_1", "surv_0"):
        assert d[k] == pytest.approx(R[k], rel=RTOL), k


def test_survival_difference_errors():
    with pytest.raises(ValueError, match="no patient is in group 0"):
        survival_difference([1, 2, 3], [1, 0, 1], [1, 1, 1], 2.0)
    with pytest.raises(ValueError, match="ends before 24"):
        survival_difference([1, 2, 3, 4], [1, 0, 1, 0], [1, 1, 0, 0], 24.0)
    with pytest.raises(ValueError, match="horizon must be a positive time"):
        survival_difference([1, 2, 3, 4], [1, 0, 1, 0], [1, 1, 0, 0], -1.0)
