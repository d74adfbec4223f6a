"""The synthetic twin: an invented 90-patient cohort that reproduces the paper's published numbers.

(Stage (a) draft: exact covariate cells, rough survival. The docstring is completed with the optimiser.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_SEED", "CELLS", "cell_counts", "generate_twin", "twin_csv_text", "write_twin", "main"]

#: Seed of the committed twin (the paper's publication date).
DEFAULT_SEED = 20240217

#: The four cells of Table 2: (risk cohort, arm) in a fixed order.
CELLS: tuple[tuple[str, str], ...] = (("low", "lrrt"), ("low", "no_lrrt"), ("high", "lrrt"), ("high", "no_lrrt"))

# Binary indicators the twin assigns within cells, each tied to the Table 2 row
# (grouping name, level label) whose count it must equal.
_INDICATORS: tuple[tuple[str, str, str], ...] = (
    ("age_high", "age", "≥ 50"),
    ("female", "sex", "Female"),
    ("t34", "t_stage", "T3-4"),
    ("n23", "n_stage", "N2-3"),
    ("ebv_high", "ebv_dna", "≥ 66,600"),
    ("multi_organ", "multi_organ_mets", "Yes"),
    ("multiple", "met_lesions", "Multiple"),
    ("liver", "liver_mets", "Yes"),
    ("bone", "bone_mets", "Yes"),
    ("lung", "lung_mets", "Yes"),
    ("chemo_low", "chemo_cycles", "< 6"),
    ("immuno_low", "immuno_cycles", "< 8"),
    ("local_tx", "local_tx_mets", "Yes"),
)

# Fallback reading of Table 2 (used only if dmnpc.published is not available).
# Per cell: n, then the count of the indicator level above, then LDH (< 250, >= 250).
# High-risk LRRT "Multiple" lesions is printed 31 but 37 - 5 = 32 (and Table 1: 55 - 23 = 32).
_TABLE2_FALLBACK: dict[tuple[str, str], dict[str, int]] = {
    ("low", "lrrt"): dict(n=32, age_high=5, female=7, t34=25, n23=26, ebv_high=6, multi_organ=12, multiple=23,
                          liver=8, bone=24, lung=9, chemo_low=5, immuno_low=7, local_tx=12, ldh_low=24, ldh_high=6),
    ("low", "no_lrrt"): dict(n=7, age_high=2, female=1, t34=6, n23=6, ebv_high=1, multi_organ=5, multiple=6,
                             liver=3, bone=6, lung=3, chemo_low=1, immuno_low=3, local_tx=1, ldh_low=4, ldh_high=2),
    ("high", "lrrt"): dict(n=37, age_high=29, female=6, t34=27, n23=31, ebv_high=16, multi_organ=15, multiple=32,
                           liver=14, bone=21, lung=13, chemo_low=19, immuno_low=30, local_tx=13, ldh_low=20,
                           ldh_high=15),
    ("high", "no_lrrt"): dict(n=14, age_high=8, female=3, t34=11, n23=13, ebv_high=10, multi_organ=10, multiple=14,
                              liver=11, bone=10, lung=5, chemo_low=10, immuno_low=14, local_tx=0, ldh_low=4,
                              ldh_high=10),
}

# Invented: which of the no-LRRT patients has ECOG 0 (Table 1 only: 1 of 21).
_ECOG0_CELL = ("low", "no_lrrt")

_RISK_TERMS = ("age_high", "ebv_high", "multiple", "chemo_low", "immuno_low")


def cell_counts() -> dict[tuple[str, str], dict[str, int]]:
    """Counts the twin must reproduce in each Table 2 cell.

    Returns
    -------
    dict
        ``{(cohort, arm): {"n": ..., indicator: count, "ldh_low": ..., "ldh_high": ...}}``;
        the decided counts of :func:`dmnpc.published.table_counts` (column ``n``)
        when that module is available, else the twin's own reading of Table 2.
    """
    try:
        from . import published
    except ImportError:  # pragma: no cover - only before published.py exists
        return {k: dict(v) for k, v in _TABLE2_FALLBACK.items()}
    t = published.table_counts(2)
    out: dict[tuple[str, str], dict[str, int]] = {}
    for cohort, arm in CELLS:
        sub = t[(t["cohort"] == cohort) & (t["arm"] == arm)]
        def n_of(variable: str, level: str) -> int:
            row = sub[(sub["variable"] == variable) & (sub["level"] == level)]
            if len(row) != 1:
                raise ValueError(f"published Table 2 has no single row for {cohort}/{arm} {variable} {level}")
            return int(row["n"].iloc[0])
        d = {"n": n_of("sex", "Male") + n_of("sex", "Female")}
        for ind, var, lev in _INDICATORS:
            d[ind] = n_of(var, lev)
        d["ldh_low"] = n_of("ldh", "< 250")
        d["ldh_high"] = n_of("ldh", "≥ 250")
        out[(cohort, arm)] = d
    return out


# ---------------------------------------------------------------------------
# Step 1: binary covariate patterns within the four cells
# ---------------------------------------------------------------------------

def _patient_penalty(x: dict[str, int], cohort: str) -> float:
    """Implausibility of one patient's binary pattern (0 = fully plausible)."""
    p = 0.0
    s = sum(x[t] for t in _RISK_TERMS)
    # Risk separation by adverse-factor count: low cohort at most 2, high at least 3.
    if cohort == "low":
        p += 10.0 * max(0, s - 2)
    else:
        p += 10.0 * max(0, 3 - s)
    k = x["liver"] + x["bone"] + x["lung"]
    if x["multi_organ"]:
        p += 10.0 if k == 0 else 3.0 * max(0, 2 - k)
    else:
        p += 5.0 * max(0, k - 1)
    if not x["multiple"]:
        p += 10.0 * x["multi_organ"] + 3.0 * (k != 1)
    if x["local_tx"] and k == 0:
        p += 5.0
    if x["ldh"] == 1 and not (x["multi_organ"] or x["liver"]):
        p += 0.5
    if x["ebv_high"] and not x["multiple"]:
        p += 0.5
    return p


def _assign_binary(rng: np.random.Generator, counts: dict[tuple[str, str], dict[str, int]]) -> pd.DataFrame:
    """Exact-count binary patterns per cell, arranged by within-cell swaps to be plausible."""
    rows = []
    for cohort, arm in CELLS:
        c = counts[(cohort, arm)]
        n = c["n"]
        cols: dict[str, np.ndarray] = {}
        for ind, _, _ in _INDICATORS:
            v = np.zeros(n, dtype=np.int64)
            v[: c[ind]] = 1
            cols[ind] = rng.permutation(v)
        ldh = np.full(n, -1, dtype=np.int64)
        ldh[: c["ldh_low"]] = 0
        ldh[c["ldh_low"]: c["ldh_low"] + c["ldh_high"]] = 1
        cols["ldh"] = rng.permutation(ldh)
        names = [ind for ind, _, _ in _INDICATORS if ind not in ("female", "t34", "n23")] + ["ldh"]
        pats = [{k: int(cols[k][i]) for k in cols} for i in range(n)]
        pen = [_patient_penalty(p, cohort) for p in pats]
        for _ in range(400 * n):
            var = names[int(rng.integers(len(names)))]
            i, j = (int(a) for a in rng.integers(n, size=2))
            if i == j or pats[i][var] == pats[j][var]:
                continue
            pats[i][var], pats[j][var] = pats[j][var], pats[i][var]
            pi, pj = _patient_penalty(pats[i], cohort), _patient_penalty(pats[j], cohort)
            if pi + pj <= pen[i] + pen[j]:
                pen[i], pen[j] = pi, pj
            else:
                pats[i][var], pats[j][var] = pats[j][var], pats[i][var]
        for p in pats:
            rows.append({"cohort": cohort, "arm": arm, **p})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# Step 2 (draft): survival from a simple proportional-hazards simulation
# ---------------------------------------------------------------------------

def _draft_survival(rng: np.random.Generator, b: pd.DataFrame) -> pd.DataFrame:
    n = len(b)
    score = b[list(_RISK_TERMS)].sum(axis=1).to_numpy(float)
    lrrt = (b["arm"] == "lrrt").to_numpy(float)
    lin = 0.8 * (score - 2.7) - 0.7 * lrrt
    os_t = rng.exponential(1.0, n) / (0.025 * np.exp(lin))
    pfs_t = rng.exponential(1.0, n) / (0.04 * np.exp(0.6 * lin))
    cens = rng.uniform(4.6, 52.7, n)
    os_obs = np.minimum(os_t, cens)
    os_ev = (os_t <= cens).astype(int)
    pfs_obs = np.minimum(pfs_t, os_obs)
    pfs_ev = np.where(pfs_t <= os_obs, 1, os_ev)
    os10 = np.clip(np.round(os_obs * 10), 46, 527).astype(int)
    pfs10 = np.clip(np.round(pfs_obs * 10), 1, os10).astype(int)
    return pd.DataFrame({"os10": os10, "os_event": os_ev, "pfs10": pfs10, "pfs_event": pfs_ev})


# ---------------------------------------------------------------------------
# Step 3: continuous values behind the cut points
# ---------------------------------------------------------------------------

def _continuous(rng: np.random.Generator, b: pd.DataFrame, s: pd.DataFrame) -> pd.DataFrame:
    n = len(b)
    age = np.where(b["age_high"] == 1, rng.integers(50, 72, n), rng.integers(28, 50, n))
    ebv = np.where(b["ebv_high"] == 1,
                   np.round(np.exp(rng.uniform(np.log(67_000), np.log(1.2e6), n)), -2),
                   np.where(rng.uniform(size=n) < 0.2, 0.0,
                            np.round(np.exp(rng.uniform(np.log(400), np.log(66_000), n)), -1)))
    ldh = np.where(b["ldh"] == 1, np.round(np.exp(rng.uniform(np.log(250), np.log(800), n))),
                   np.round(rng.uniform(130, 249, n)))
    ldh = np.where(b["ldh"] == -1, np.nan, np.clip(ldh, 130, None))
    chemo = np.where(b["chemo_low"] == 1, rng.integers(2, 6, n), rng.integers(6, 8, n))
    max_cyc = np.floor(s["os10"].to_numpy() / 10.0 / 0.69).astype(int)
    immuno = np.where(b["immuno_low"] == 1, np.minimum(rng.integers(2, 8, n), max_cyc),
                      np.maximum(8, np.minimum(rng.integers(8, 30, n), max_cyc)))
    return pd.DataFrame({"age": age, "ebv_dna": ebv, "ldh": ldh, "chemo_cycles": chemo, "immuno_cycles": immuno})


def _t_n_stage(rng: np.random.Generator, b: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    n = len(b)
    t = np.where(b["t34"] == 1, np.where(rng.uniform(size=n) < 0.45, "T3", "T4"),
                 np.where(rng.uniform(size=n) < 0.3, "T1", "T2"))
    nn = np.where(b["n23"] == 1, np.where(rng.uniform(size=n) < 0.55, "N2", "N3"),
                  np.where(rng.uniform(size=n) < 0.3, "N0", "N1"))
    return t, nn


def generate_twin(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Generate the synthetic twin cohort.

    Parameters
    ----------
    seed : int
        Seed of the :class:`numpy.random.Generator` (PCG64); the same seed gives
        the same cohort.

    Returns
    -------
    pandas.DataFrame
        One row per invented patient, columns of :data:`dmnpc.data.SCHEMA`.
    """
    rng = np.random.default_rng(seed)
    counts = cell_counts()
    b = _assign_binary(rng, counts)
    ecog = np.ones(len(b), dtype=int)
    cand = np.flatnonzero(((b["cohort"] == _ECOG0_CELL[0]) & (b["arm"] == _ECOG0_CELL[1])).to_numpy())
    ecog[cand[0]] = 0
    s = _draft_survival(rng, b)
    cont = _continuous(rng, b, s)
    t, nn = _t_n_stage(rng, b)
    df = pd.DataFrame({
        "age": cont["age"].astype(float),
        "sex": np.where(b["female"] == 1, "female", "male"),
        "ecog": ecog,
        "t_stage": t,
        "n_stage": nn,
        "ebv_dna": cont["ebv_dna"].astype(float),
        "multi_organ_mets": b["multi_organ"].to_numpy(),
        "met_lesions": np.where(b["multiple"] == 1, "multiple", "single"),
        "liver_mets": b["liver"].to_numpy(),
        "bone_mets": b["bone"].to_numpy(),
        "lung_mets": b["lung"].to_numpy(),
        "ldh": cont["ldh"].astype(float),
        "chemo_cycles": cont["chemo_cycles"].astype(int),
        "immuno_cycles": cont["immuno_cycles"].astype(int),
        "local_tx_mets": b["local_tx"].to_numpy(),
        "lrrt": (b["arm"] == "lrrt").astype(int).to_numpy(),
        "os_months": s["os10"].to_numpy() / 10.0,
        "os_event": s["os_event"].to_numpy(),
        "pfs_months": s["pfs10"].to_numpy() / 10.0,
        "pfs_event": s["pfs_event"].to_numpy(),
    })
    order = rng.permutation(len(df))
    df = df.iloc[order].reset_index(drop=True)
    df.insert(0, "patient_id", [f"TW{i + 1:03d}" for i in range(len(df))])
    return df


_FORMATS = {
    "age": "{:.0f}", "ebv_dna": "{:.0f}", "ldh": "{:.0f}", "os_months": "{:.1f}", "pfs_months": "{:.1f}",
}


def twin_csv_text(df: pd.DataFrame) -> str:
    """The twin as CSV text with fixed formatting (so regeneration is byte-identical)."""
    from .data import COLUMNS

    lines = [",".join(COLUMNS)]
    for rec in df[list(COLUMNS)].itertuples(index=False):
        cells = []
        for col, v in zip(COLUMNS, rec):
            if col in _FORMATS:
                cells.append("" if pd.isna(v) else _FORMATS[col].format(float(v)))
            elif isinstance(v, (int, np.integer)):
                cells.append(str(int(v)))
            else:
                cells.append(str(v))
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def write_twin(path: str | Path, seed: int = DEFAULT_SEED) -> Path:
    """Generate the twin and write it as CSV; returns the path written."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    text = twin_csv_text(generate_twin(seed))
    with open(p, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return p


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m dmnpc.twin --seed N --out data/twin/dmnpc_twin.csv``."""
    ap = argparse.ArgumentParser(prog="python -m dmnpc.twin", description="Generate the synthetic twin cohort.")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", default="data/twin/dmnpc_twin.csv")
    args = ap.parse_args(argv)
    p = write_twin(args.out, args.seed)
    print(f"wrote {p}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
