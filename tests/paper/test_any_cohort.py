"""Any contract-valid cohort gives a complete, strict-JSON report: nulls with reasons, never an exception.

Hypothesis draws cohorts of 5 to 300 patients from the data contract (dmnpc.paper.contract.SCHEMA),
including the extreme ones a reviewer's data can hold: nobody or everybody with LRRT, no deaths in
one arm, a model term without variation, follow-up shorter than the 24-month horizon, ties. Each
must satisfy the report's contract:

* the report returns, never raises;
* ``json.dumps(..., allow_nan=False)`` succeeds (no NaN or Infinity tokens);
* every key of the twin's report is present (keys are never dropped on a hard cohort);
* every null value has a reason in ``notes`` under its dotted key, and only nulls do.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmnpc.paper import contract, report

pytestmark = pytest.mark.filterwarnings("ignore")


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and k != "notes":
            out.update(_flat(v, f"{prefix}{k}."))
        elif k != "notes":
            out[prefix + k] = v
    return out


@pytest.fixture(scope="module")
def twin_keys() -> set[str]:
    res = report.compute_results(contract.load_cohort(contract.DEFAULT_COHORT))
    # Table 2 P values exist only for variables observed in each cohort: not a fixed key set
    return {k for k in _flat(res) if not k.startswith("other.table2_p.")}


@st.composite
def cohorts(draw) -> pd.DataFrame:
    n = draw(st.integers(5, 300))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    p_lrrt = draw(st.sampled_from([0.0, 1.0, 0.05, 0.5, 0.77]))
    p_death = draw(st.sampled_from([0.05, 0.3, 0.6, 1.0]))
    const_lesions = draw(st.sampled_from([None, "single", "multiple"]))
    max_fu = draw(st.sampled_from([10.0, 30.0, 60.0]))
    tied = draw(st.booleans())
    os_m = np.round(rng.uniform(0.5, max_fu, n), 0 if tied else 1)
    os_m = np.maximum(os_m, 0.5)
    os_e = (rng.random(n) < p_death).astype(int)
    if os_e.sum() == 0:            # the contract's analysable minimum (no death at all is refused up front)
        os_e[0] = 1
    prog = rng.random(n) < 0.5
    pfs_m = np.where(os_e == 1, np.minimum(os_m, np.round(os_m * rng.uniform(0.3, 1.0, n), 1)),
                     np.where(prog, np.round(os_m * rng.uniform(0.3, 1.0, n), 1), os_m))
    pfs_m = np.maximum(pfs_m, 0.1)
    pfs_e = np.where(os_e == 1, 1, prog.astype(int))
    return pd.DataFrame({
        "patient_id": [f"p{i}" for i in range(n)],
        "age": np.round(rng.uniform(20, 80, n), 0),
        "sex": rng.choice(["male", "female"], n),
        "ecog": rng.choice([0, 1, 1, 1, 2], n),
        "t_stage": rng.choice(["T1", "T2", "T3", "T4"], n),
        "n_stage": rng.choice(["N0", "N1", "N2", "N3"], n),
        "ebv_dna": np.round(10 ** rng.uniform(1, 6, n), 0),
        "multi_organ_mets": rng.integers(0, 2, n),
        "met_lesions": [const_lesions] * n if const_lesions else rng.choice(["single", "multiple"], n),
        "liver_mets": rng.integers(0, 2, n),
        "bone_mets": rng.integers(0, 2, n),
        "lung_mets": rng.integers(0, 2, n),
        "ldh": np.where(rng.random(n) < 0.1, np.nan, np.round(rng.uniform(100, 500, n), 0)),
        "chemo_cycles": rng.integers(1, 10, n),
        "immuno_cycles": rng.integers(1, 16, n),
        "local_tx_mets": rng.integers(0, 2, n),
        "lrrt": (rng.random(n) < p_lrrt).astype(int),
        "os_months": os_m,
        "os_event": os_e,
        "pfs_months": pfs_m,
        "pfs_event": pfs_e,
    }).astype({c: object for c in ("sex", "t_stage", "n_stage", "met_lesions")})


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(raw=cohorts())
def test_report_is_complete_strict_json_with_reasons(raw, twin_keys):
    df = contract.validate_cohort(raw.astype(str).replace("nan", ""), "generated")
    res = report.compute_results(df)
    text = json.dumps(res, allow_nan=False)          # strict JSON: raises on NaN or Infinity
    assert json.loads(text) == res
    flat = _flat(res)
    assert twin_keys <= set(flat), sorted(twin_keys - set(flat))[:5]
    nulls = {k for k, v in flat.items() if v is None}
    assert set(res["notes"]) == nulls
    assert all(isinstance(r, str) and r for r in res["notes"].values())


def test_a_degenerate_cohort_says_why():
    """Everybody had LRRT: the arm comparisons are null, each with the reason in words."""
    raw = pd.read_csv(contract.DEFAULT_COHORT, dtype=str, keep_default_na=False).assign(lrrt="1")
    res = report.compute_results(contract.validate_cohort(raw, "all LRRT"))
    assert res["os_by_lrrt"]["surv_24_no_lrrt"] is None
    assert res["notes"]["os_by_lrrt.surv_24_no_lrrt"] == "no patient is in the Without LRRT group"
    assert res["notes"]["os_by_lrrt.logrank_p"].startswith("the log-rank test needs at least two groups")
    assert res["lrrt_in_high"] == {"hr": None, "lower": None, "upper": None, "p": None}
    assert res["notes"]["lrrt_in_high.hr"] == "only one arm in this stratum: no comparison possible"
    assert res["os"]["surv_24"] is not None and "os.surv_24" not in res["notes"]


def test_a_constant_model_term_nulls_the_model_and_everything_built_on_it():
    raw = pd.read_csv(contract.DEFAULT_COHORT, dtype=str, keep_default_na=False).assign(met_lesions="multiple")
    res = report.compute_results(contract.validate_cohort(raw, "all multiple"))
    assert all(v is None for rec in res["cox_os"].values() for v in rec.values())
    assert "multiple_lesions" in res["notes"]["cox_os.multiple_lesions.hr"]
    assert res["nomogram"]["c_index"] is None and res["risk"]["n_low"] is None
    assert res["notes"]["risk.n_low"].startswith("no nomogram score to split at")
    assert res["cutoffs"]["ebv_dna"] is not None  # unaffected sections are still reported
