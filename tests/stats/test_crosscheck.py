"""Independent cross-check: Harrell's C of dmnpc.stats.discrimination against scikit-survival.

``sksurv.metrics.concordance_index_censored`` is a separate implementation of Harrell's C
(the R reference values in tests/reference check the same function against
``survival::concordance``). On the GBSG data (686 patients, 112 repeated times) the two
agree exactly, pair for pair, with two documented differences in how ties are counted:

* sksurv counts two risk scores as tied when they differ by at most ``tied_tol``
  (1e-8 by default), so a score computed in floating point (e.g. a weighted sum) has
  pairs that differ only by rounding noise counted as ties; ``harrell_c`` compares
  exactly, as R does. With ``tied_tol`` effectively zero, or with scores without
  rounding noise (integers, rounded values), the C and the concordant, discordant
  and tied-risk counts are identical.
* sksurv's fifth return value ("tied_time") is not R's ``tied.y`` (``harrell_c``'s
  ``tied_time``): the two count different sets of pairs with equal times. Neither
  enters the C index, so only the counts that do are compared.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sksurv_metrics = pytest.importorskip("sksurv.metrics")

from dmnpc.stats.discrimination import harrell_c  # noqa: E402

GBSG = Path(__file__).resolve().parents[1] / "data" / "gbsg.csv"


@pytest.fixture(scope="module")
def gbsg() -> pd.DataFrame:
    return pd.read_csv(GBSG)


def _both(d: pd.DataFrame, risk: np.ndarray, **kw):
    ours = harrell_c(d["rfstime"], d["status"], risk)
    theirs = sksurv_metrics.concordance_index_censored(d["status"].astype(bool).to_numpy(),
                                                       d["rfstime"].to_numpy(float), risk, **kw)
    return ours, theirs


def _assert_same(ours, theirs) -> None:
    c, concordant, discordant, tied_risk, _ = theirs
    assert ours.c == pytest.approx(float(c), abs=1e-12)
    assert (ours.concordant, ours.discordant, ours.tied_risk) == (concordant, discordant, tied_risk)


def _weighted(d: pd.DataFrame) -> np.ndarray:
    return (0.1 * d["nodes"] + 0.01 * d["size"] + 0.3 * d["grade"] - 0.001 * d["pgr"]).to_numpy(float)


def test_integer_score_with_many_ties_agrees_exactly(gbsg):
    _assert_same(*_both(gbsg, gbsg["nodes"].to_numpy(float)))


def test_continuous_score_agrees_when_ties_are_exact(gbsg):
    _assert_same(*_both(gbsg, np.round(_weighted(gbsg), 6)))            # no rounding noise
    _assert_same(*_both(gbsg, _weighted(gbsg), tied_tol=1e-300))        # sksurv's tolerance off


def test_sksurv_default_tolerance_counts_rounding_noise_as_ties(gbsg):
    ours, theirs = _both(gbsg, _weighted(gbsg))
    assert theirs[3] > ours.tied_risk                  # near-equal scores become ties in sksurv
    assert abs(ours.c - float(theirs[0])) < 1e-3       # ... which moves C only in the 5th decimal
