"""Benchmark: Cox fit, Harrell's C and the whole report at registry size, against R.

Simulated cohorts with the data contract's columns (dmnpc.paper.contract.SCHEMA)
at n = 1,000, 10,000 and 100,000: binary and categorical predictors, times rounded
to 0.1 month (many ties). Each size runs in its own process so that the peak
resident memory (ru_maxrss) is that size's. Timed: ``fit_cox`` of OS on 5 binary
predictors, ``harrell_c`` of its linear predictor, and ``compute_results`` (the
whole report, after ``validate_cohort``). R (survival) times ``coxph`` (Efron) and
``concordance(..., reverse = TRUE)`` on the same data (written to a CSV); both
sides report the median of ``--repeat`` runs.

Run:  .venv/bin/python benchmarks/bench_scale.py [--sizes 1000 10000 100000] [--repeat 3] [--no-r]

Measured on the 2-core machine (survival 3.5.3, R 4.2; median of 5, machine otherwise idle;
memory = peak RSS of the Python process for that size, the report included; |dC|, rel dvar,
rel dcoef: our C, IJ variance and first Cox coefficient against R's):

          n |  cox py   cox R ratio |    C py     C R ratio |  report peak MB |     |dC| rel dvar rel dcoef
    -------------------------------------------------------------------------------------------------------
       1000 |   0.002   0.004  0.38 |   0.001   0.002  0.38 |    0.95     145 |  0.0e+00  8.9e-16   3.2e-09
      10000 |   0.004   0.018  0.25 |   0.005   0.009  0.54 |    1.93     164 |  1.1e-16  1.3e-15   3.5e-09
     100000 |   0.048   0.201  0.24 |   0.067   0.096  0.70 |   11.80     370 |  4.4e-16  1.1e-15   2.7e-09

fit_cox at n = 100,000 (4 Newton steps): 5 Efron evaluations of ~6.5 ms (B = 1 fast path on
(p, n) arrays; the information products ~2.4 ms and five bincounts ~1.1 ms of each), the layout
~6.5 ms (a stable argsort of one composite key ~5 ms). The previous table (cox py 0.275 s, ratio
1.33) was taken on a loaded machine: the code it measured took 0.080 s idle (ratio 0.39); then
7 Efron evaluations per fit (fit_cox re-evaluated at the estimate and at 0) in (B, n, p) arrays.

Before the O(n log n) concordance (pairwise C-index, enumerated Fisher test) the report at
n = 10,000 took 196 s and 2.5 GB. At 100,000 the report (16.8 s, 372 MB) is within the 30 s /
2 GB budget; cProfile puts ~90% of it in Table 1/2 (dmnpc/paper/tables.py:baseline_table,
tableone's TableOne: pandas isna over 18 million cells), not in dmnpc.stats.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmark the checkout this file is in, not an installed copy

PREDICTORS = ["liver_mets", "bone_mets", "lung_mets", "multi_organ_mets", "lrrt"]

R_CODE = r"""
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); rep <- as.integer(args[2])
med <- function(expr) median(replicate(rep, system.time(eval(expr))[["elapsed"]]))
f <- Surv(os_months, os_event) ~ liver_mets + bone_mets + lung_mets + multi_organ_mets + lrrt
t_cox <- med(quote(coxph(f, data = d, ties = "efron")))
t_c <- med(quote(concordance(Surv(os_months, os_event) ~ lp, data = d, reverse = TRUE)))
fit <- coxph(f, data = d, ties = "efron")
cc <- concordance(Surv(os_months, os_event) ~ lp, data = d, reverse = TRUE)
cat(sprintf('{"cox": %.6f, "cindex": %.6f, "c": %.15g, "var": %.15g, "coef1": %.15g}\n',
            t_cox, t_c, cc$concordance, cc$var, coef(fit)[1]))
"""


def simulate(n: int, seed: int = 2024) -> pd.DataFrame:
    """A raw cohort with the contract's columns (strings for categories, as read from a file)."""
    rng = np.random.default_rng(seed)
    b = lambda p: (rng.random(n) < p).astype(int)  # noqa: E731
    df = pd.DataFrame({
        "patient_id": [f"P{i:06d}" for i in range(n)],
        "age": np.round(rng.normal(48, 11, n).clip(18, 90), 0),
        "sex": rng.choice(["male", "female"], n, p=[0.77, 0.23]),
        "ecog": rng.choice([0, 1, 2], n, p=[0.45, 0.45, 0.10]),
        "t_stage": rng.choice(["T1", "T2", "T3", "T4"], n),
        "n_stage": rng.choice(["N0", "N1", "N2", "N3"], n),
        "ebv_dna": np.round(np.exp(rng.normal(9, 2.5, n)), 0),
        "multi_organ_mets": b(0.4), "met_lesions": rng.choice(["single", "multiple"], n, p=[0.3, 0.7]),
        "liver_mets": b(0.35), "bone_mets": b(0.55), "lung_mets": b(0.3),
        "ldh": np.where(rng.random(n) < 0.05, np.nan, np.round(np.exp(rng.normal(5.4, 0.4, n)), 0)),
        "chemo_cycles": rng.integers(2, 9, n), "immuno_cycles": rng.integers(2, 17, n),
        "local_tx_mets": b(0.3), "lrrt": b(0.5),
    })
    lp = (0.5 * df["liver_mets"] + 0.3 * df["bone_mets"] + 0.2 * df["lung_mets"]
          + 0.4 * df["multi_organ_mets"] - 0.6 * df["lrrt"] + 0.2 * (df["ecog"] >= 1))
    t_os = rng.exponential(40 * np.exp(-lp))
    t_pfs = t_os * rng.uniform(0.3, 1.0, n)
    cens = rng.uniform(6, 72, n)
    df["os_months"] = np.round(np.minimum(t_os, cens), 1).clip(0.1)
    df["os_event"] = (t_os <= cens).astype(int)
    df["pfs_months"] = np.round(np.minimum(t_pfs, cens), 1).clip(0.1)
    df["pfs_event"] = (t_pfs <= cens).astype(int)
    return df


def _median_time(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def run_one(n: int, repeat: int, csv: str | None) -> dict:
    """Time one size in this process; write the data for R to ``csv``."""
    import resource

    from dmnpc.paper.contract import validate_cohort
    from dmnpc.paper.report import compute_results
    from dmnpc.stats.cox import fit_cox
    from dmnpc.stats.discrimination import harrell_c

    raw = simulate(n)
    t, e = raw["os_months"].to_numpy(float), raw["os_event"].to_numpy(int)
    X = raw[PREDICTORS].astype(float)
    t_cox, fit = _median_time(lambda: fit_cox(t, e, X), repeat)
    lp = X.to_numpy() @ np.asarray(fit.coef)
    t_c, cc = _median_time(lambda: harrell_c(t, e, lp), repeat)
    t0 = time.perf_counter()
    compute_results(validate_cohort(raw))
    t_rep = time.perf_counter() - t0
    if csv:
        raw.assign(lp=lp)[["os_months", "os_event", *PREDICTORS, "lp"]].to_csv(csv, index=False, float_format="%.17g")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MB (Linux reports kB)
    return {"n": n, "cox": t_cox, "cindex": t_c, "report": t_rep, "rss_mb": rss, "c": cc.c, "var": cc.var,
            "coef1": float(np.asarray(fit.coef)[0])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--csv", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(run_one(a.one, a.repeat, a.csv)))
        return
    use_r = not a.no_r and shutil.which("Rscript") is not None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rfile = Path(tmp, "bench.R")
        rfile.write_text(R_CODE)
        for n in a.sizes:
            csv = str(Path(tmp, f"cohort_{n}.csv"))
            out = subprocess.run([sys.executable, __file__, "--one", str(n), "--repeat", str(a.repeat), "--csv", csv],
                                 check=True, capture_output=True, text=True)
            py = json.loads(out.stdout.strip().splitlines()[-1])
            r = {}
            if use_r:
                rout = subprocess.run(["Rscript", str(rfile), csv, str(a.repeat)], check=True, capture_output=True,
                                      text=True)
                r = json.loads(rout.stdout.strip().splitlines()[-1])
            rows.append((py, r))
    hdr = (f"{'n':>7} | {'cox py':>7} {'cox R':>7} {'ratio':>5} | {'C py':>7} {'C R':>7} {'ratio':>5} | "
           f"{'report':>7} {'peak MB':>7} | {'|dC|':>8} {'rel dvar':>8} {'rel dcoef':>9}")
    print(hdr)
    print("-" * len(hdr))
    for py, r in rows:
        ratio = lambda k: f"{py[k] / r[k]:5.2f}" if r.get(k) else "    -"  # noqa: E731
        fmt = lambda k: f"{r[k]:7.3f}" if r.get(k) is not None else "      -"  # noqa: E731
        diff = (f"{abs(py['c'] - r['c']):8.1e} {abs(py['var'] / r['var'] - 1):8.1e} "
                f"{abs(py['coef1'] / r['coef1'] - 1):9.1e}") if r else ""
        print(f"{py['n']:>7} | {py['cox']:7.3f} {fmt('cox')} {ratio('cox')} | {py['cindex']:7.3f} {fmt('cindex')} "
              f"{ratio('cindex')} | {py['report']:7.2f} {py['rss_mb']:7.0f} | {diff}")


if __name__ == "__main__":
    main()
