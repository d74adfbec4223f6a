"""Patients for the calculator's tests: one per covariate pattern, and random ones (shared by the
Python, CLI and browser tests so that all of them check the same inputs)."""

from __future__ import annotations

import numpy as np

from dmnpc.paper.variables import OS_TERMS

#: A raw value on each side of each term's cut point (the paper's cuts): (reference level, adverse level).
_SIDES = {"age_high": ("age", 41, 63), "ebv_dna_high": ("ebv_dna", 1500, 150000),
          "multiple_lesions": ("met_lesions", "single", "multiple"),
          "chemo_cycles_low": ("chemo_cycles", 6, 4), "immuno_cycles_low": ("immuno_cycles", 12, 5)}


def pattern_patient(pattern) -> dict:
    """Raw inputs whose design row is ``pattern`` (a 0/1 value per OS term, in model order)."""
    out = {}
    for term, bit in zip(OS_TERMS, pattern):
        name, lo, hi = _SIDES[term]
        out[name] = hi if int(bit) else lo
    return out


def pattern_of(patient: dict, cuts=None) -> tuple[int, ...]:
    """The 0/1 design row of raw inputs under the paper's cut points (for checks against R)."""
    c = {"age": 50, "ebv_dna": 66600, "chemo_cycles": 6, "immuno_cycles": 8} if cuts is None else cuts
    return (int(patient["age"] >= c["age"]), int(patient["ebv_dna"] >= c["ebv_dna"]),
            int(patient["met_lesions"] == "multiple"), int(patient["chemo_cycles"] < c["chemo_cycles"]),
            int(patient["immuno_cycles"] < c["immuno_cycles"]))


def pattern_index(pattern) -> int:
    """Row of ``pattern`` in R's expand.grid order (first term fastest), as tests/reference/calculator.json."""
    return sum(int(b) << j for j, b in enumerate(pattern))


def random_patients(n: int = 200, seed: int = 20240205) -> list[dict]:
    """``n`` random valid patients, some outside the development data's ranges (warnings), with decimals."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        out.append({
            "age": float(np.round(rng.uniform(18, 90), int(rng.integers(0, 2)))),
            "ebv_dna": float(np.round(10 ** rng.uniform(0, 6.3))) if rng.random() > 0.05 else 0.0,
            "met_lesions": "multiple" if rng.random() < 0.6 else "single",
            "chemo_cycles": int(rng.integers(1, 13)),
            "immuno_cycles": int(rng.integers(1, 40)),
        })
    return out


def all_patterns() -> list[tuple[int, ...]]:
    """The 2^5 patterns in R's expand.grid order."""
    k = len(OS_TERMS)
    return [tuple((i >> j) & 1 for j in range(k)) for i in range(2 ** k)]
