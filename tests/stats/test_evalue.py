"""E-values (dmnpc.stats.evalue): published worked examples and the formulas written plainly in R.

The formulas are closed form, so Python and R agree to rounding (measured: bit for bit);
``RTOL = 1e-12`` leaves room for a different libm. The published examples are printed to one or
a few decimals and are compared at that precision.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from dmnpc.stats.evalue import EValue, evalue_hr, evalue_rr, hr_to_rr

REF = json.loads((Path(__file__).resolve().parents[1] / "reference" / "evalue.json").read_text())
RTOL = 1e-12


# ----------------------------------------------------------------------------- published examples
def test_vanderweele_ding_2017_worked_example():
    """RR 3.9 (95% CI 1.8 to 8.7): the paper prints E-values 7.2 and 3.0.

    The formula gives 3.9 + sqrt(3.9 x 2.9) = 7.263..., which the paper prints as 7.2 (cut, not
    rounded, to one decimal); the lower limit gives 1.8 + sqrt(1.8 x 0.8) = 1.8 + 1.2 = 3.0 exactly.
    """
    e = evalue_rr(3.9, 1.8, 8.7)
    assert math.floor(e.evalue * 10) / 10 == 7.2
    assert e.evalue == pytest.approx(3.9 + math.sqrt(3.9 * 2.9), rel=1e-15)
    assert e.evalue_ci == pytest.approx(3.0, rel=1e-15)


def test_evalue_package_vignette_example():
    """Smoking and lung cancer, RR 10.73 (8.02, 14.36): EValue prints 20.94777 and 15.52336."""
    e = evalue_rr(10.73, 8.02, 14.36)
    assert round(e.evalue, 5) == 20.94777 and round(e.evalue_ci, 5) == 15.52336


# ----------------------------------------------------------------------------- R
@pytest.mark.parametrize("case", REF["cases"], ids=lambda c: f"{c['measure']}{c['est']}-{c['rare']}")
def test_matches_the_r_formulas(case):
    if case["measure"] == "RR":
        e = evalue_rr(case["est"], case["lo"], case["hi"])
    else:
        e = evalue_hr(case["est"], case["lo"], case["hi"], rare=case["rare"])
    np.testing.assert_allclose([e.rr, e.rr_lower, e.rr_upper], case["rr"], rtol=RTOL)
    np.testing.assert_allclose([e.evalue, e.evalue_ci], [case["evalue"], case["evalue_ci"]], rtol=RTOL)
    assert isinstance(e, EValue) and e.measure == case["measure"]


# ----------------------------------------------------------------------------- properties
def test_protective_estimate_is_inverted():
    a, b = evalue_rr(0.5, 0.25, 0.8), evalue_rr(2.0, 1.25, 4.0)
    assert a.evalue == pytest.approx(b.evalue, rel=1e-15) and a.evalue_ci == pytest.approx(b.evalue_ci, rel=1e-15)
    assert evalue_hr(0.5, rare=False).evalue == pytest.approx(evalue_hr(2.0, rare=False).evalue, rel=1e-14)


def test_null_and_interval_through_null():
    e = evalue_rr(1.0, 0.8, 1.25)
    assert e.evalue == 1.0 and e.evalue_ci == 1.0
    assert evalue_rr(1.4, 0.95, 2.1).evalue_ci == 1.0
    assert evalue_rr(1.4, 1.0, 2.1).evalue_ci == 1.0  # a limit at 1 counts as including it
    assert evalue_rr(1.4).evalue_ci is None
    assert evalue_rr(1.4, upper=2.1).evalue_ci is None  # only the limit further from 1 given


def test_common_outcome_conversion_shrinks_towards_1():
    assert hr_to_rr(1.0, rare=False) == 1.0 and hr_to_rr(2.46, rare=True) == 2.46
    for hr in (0.2, 0.7, 1.5, 4.0):
        rr = hr_to_rr(hr, rare=False)
        assert abs(math.log(rr)) < abs(math.log(hr))
        assert hr_to_rr(1 / hr, rare=False) == pytest.approx(1 / rr, rel=1e-14)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call, match", [
    (lambda: evalue_rr(0.0), "risk ratio must be positive"),
    (lambda: evalue_rr(float("nan")), "risk ratio must be a finite number"),
    (lambda: evalue_rr(2.0, 2.5, 3.0), "does not contain the risk ratio"),
    (lambda: evalue_rr(2.0, 1.5, 1.8), "does not contain the risk ratio"),
    (lambda: evalue_rr(2.0, -1.0, 3.0), "lower confidence limit of the risk ratio must be positive"),
    (lambda: evalue_hr(2.0, 1.2, 3.0, rare=None), "say whether the outcome is rare"),
    (lambda: evalue_hr(-2.0, rare=False), "hazard ratio must be positive"),
])
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_rare_is_required():
    with pytest.raises(TypeError):
        evalue_hr(2.0, 1.2, 3.0)  # noqa: the keyword has no default, as in EValue
