"""Independent cross-check: Kaplan-Meier net benefit of dmnpc.stats.utility against dcurves.

``dcurves.dca`` (Memorial Sloan Kettering's Python port of Vickers' decision-curve code, version
1.1.7) computes the survival net benefit from a lifelines Kaplan-Meier fit among the patients
whose risk is at or above the threshold, as :func:`dmnpc.stats.utility.net_benefit` does (the R
reference values in tests/reference/utility.json check the same function against the formula
written in R). The book keeps its own implementation, which takes arrays, shares the book's
Kaplan-Meier core and checker, and reports a treated group not followed to the horizon as not
estimable; this test shows that the two give the same curves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

dcurves = pytest.importorskip("dcurves")

from dmnpc.stats.cox import fit_cox  # noqa: E402
from dmnpc.stats.utility import net_benefit  # noqa: E402

GBSG = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "gbsg.csv")
THRESHOLDS = [round(0.01 * k, 2) for k in range(1, 61)]


@pytest.mark.parametrize("horizon", [365.25 * 2, 365.25 * 5])
def test_net_benefit_equals_dcurves(horizon):
    X = GBSG[["age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon"]].astype(float)
    fit = fit_cox(GBSG["rfstime"], GBSG["status"], X)
    risk = 1.0 - fit.predict_survival([horizon])[:, 0]
    ours = net_benefit(GBSG["rfstime"], GBSG["status"], risk, horizon, THRESHOLDS)
    d = pd.DataFrame({"t": GBSG["rfstime"].astype(float), "e": GBSG["status"].astype(int), "risk": risk})
    theirs = dcurves.dca(data=d, outcome="e", modelnames=["risk"], thresholds=THRESHOLDS, time=horizon,
                         time_to_outcome_col="t")
    model = theirs[theirs["model"] == "risk"]["net_benefit"].to_numpy(float)
    everyone = theirs[theirs["model"] == "all"]["net_benefit"].to_numpy(float)
    # same sums of the same Kaplan-Meier products: agreement to rounding (1e-12 absolute on values < 1)
    np.testing.assert_allclose(ours["nb_model"].to_numpy(), model, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["nb_all"].to_numpy(), everyone, rtol=0, atol=1e-12)
    assert (ours["nb_model"].to_numpy() != ours["nb_all"].to_numpy()).any()  # the model is not treat-all
