"""dmnpc.stats.survfit against R's survfit.coxph (tests/reference/ref_calculator.R -> calculator.json).

Every one of the 32 covariate patterns of the paper's five binary OS terms, at 12 and 24 months, on
the twin, on another cohort (the twin's outcomes reassigned), and on the twin with tied deaths (Efron's
correction, survfit.coxph's default after an Efron fit, and ctype = 1).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dmnpc.paper import variables
from dmnpc.stats.cox import fit_cox
from dmnpc.stats.survfit import predict_survfit, step_index, survfit_basis

HERE = Path(__file__).resolve().parents[1]
ROOT = HERE.parent
REF = json.loads((HERE / "reference" / "calculator.json").read_text())
TERMS = tuple(REF["terms"])
PATTERNS = pd.DataFrame(REF["patterns"], columns=list(TERMS))
TOL = 1e-9


def cohort(name: str) -> pd.DataFrame:
    src = HERE / "data" / "other_cohort.csv" if name == "other" else ROOT / "data" / "twin" / "dmnpc_twin.csv"
    d = pd.read_csv(src)
    if name.startswith("tied"):
        d["os_months"] = np.ceil(d["os_months"] / 3) * 3
    return d


def fitted(name: str):
    d = cohort(name)
    return fit_cox(d["os_months"], d["os_event"], variables.design_matrix(d, TERMS))


@pytest.mark.parametrize("name", ["twin", "other", "tied", "tied_breslow"])
def test_matches_survfit_coxph_for_every_pattern(name):
    ref = REF["cohorts"][name]
    fit = fitted(name)
    np.testing.assert_allclose(fit.coef, ref["coef"], atol=1e-9)
    basis = survfit_basis(fit, "breslow" if name == "tied_breslow" else "efron")
    pred = predict_survfit(basis, PATTERNS, [12, 24])
    # R's predict(type = "lp") for these new data is x'beta, not centred; the predictions use the centred one
    np.testing.assert_allclose(pred.loc[pred["time"] == 12, "lp"] + fit.means @ fit.coef, ref["lp"], atol=TOL)
    for t in (12, 24):
        got = pred[pred["time"] == t].reset_index(drop=True)
        r = ref[f"t{t}"]
        np.testing.assert_allclose(got["surv"], r["surv"], atol=TOL, rtol=0)
        # summary.survfit's std.err is that of the survival itself: S times the se of log S
        np.testing.assert_allclose(got["surv"] * got["std_err"], r["std_err"], atol=TOL, rtol=0)
        np.testing.assert_allclose(got["lower"], r["lower"], atol=TOL, rtol=0)
        np.testing.assert_allclose(got["upper"], r["upper"], atol=TOL, rtol=0)


def test_tied_cohort_really_has_ties_and_efron_differs_from_breslow():
    assert REF["cohorts"]["tied"]["tied_deaths"] > 5
    fit = fitted("tied")
    e = predict_survfit(survfit_basis(fit, "efron"), PATTERNS, [24])
    b = predict_survfit(survfit_basis(fit, "breslow"), PATTERNS, [24])
    assert np.max(np.abs(e["std_err"] - b["std_err"])) > 1e-4


def test_point_prediction_is_the_fits_own():
    fit = fitted("twin")
    pred = predict_survfit(fit, PATTERNS, [12, 24])
    own = fit.predict_survival([12, 24], PATTERNS)
    np.testing.assert_allclose(pred["surv"].to_numpy().reshape(-1, 2), own, atol=1e-12)


def test_before_the_first_event_survival_is_one_with_no_uncertainty():
    fit = fitted("twin")
    first = float(np.min(fit.time[fit.event == 1]))
    pred = predict_survfit(fit, PATTERNS.iloc[:3], [first / 2])
    assert (pred["surv"] == 1).all() and (pred["std_err"] == 0).all() and (pred["upper"] == 1).all()


def test_step_index_is_right_continuous():
    times = np.array([1.0, 2.0, 3.0])
    assert step_index(times, 0.5) == -1
    assert step_index(times, 2.0) == 1
    assert step_index(times, 2.0 - 1e-9) == 1   # within the tolerance counts as at the event time
    assert step_index(times, 2.5) == 1
    assert step_index(times, 10) == 2


def test_basis_round_trips_through_json():
    basis = survfit_basis(fitted("twin"))
    doc = json.loads(json.dumps(basis.to_dict()))
    assert doc["ctype"] == "efron"
    np.testing.assert_array_equal(doc["cumhaz"], basis.cumhaz)
    np.testing.assert_array_equal(np.array(doc["xbar"]), basis.xbar)


def test_refuses_what_it_cannot_predict():
    fit = fitted("twin")
    with pytest.raises(ValueError, match="ctype"):
        survfit_basis(fit, "kalbfleisch")
    with pytest.raises(ValueError, match="lack the model term"):
        predict_survfit(fit, PATTERNS.drop(columns=["age_high"]), [12])
    with pytest.raises(ValueError, match="finite values"):
        predict_survfit(fit, [[np.nan, 0, 0, 0, 0]], [12])
    with pytest.raises(ValueError, match="fitted model"):
        survfit_basis("not a fit")
