"""Benchmark: the subgroup-roulette simulation, our runner against an R loop of the same pipeline.

Ours: ``dmnpc.paper.simulation.simulate`` (dmnpc.stats.simulate.run_replicates over
dmnpc.stats.subgroup_sim.develop_split_compare: every step batched over a chunk of replicates), on
one scenario of the synthetic twin, serially (1 worker) and in 2 local processes (joblib/loky; timed
warm, after a first run has started the workers, and the cold first run given beside), optionally
on a Dask LocalCluster of 2 worker processes (``--dask``).

R: the same data-generating model (the cohort rows, the five-term linear predictor, the Weibull
baseline and the censoring limits, exported by the Python to a temporary CSV) and the same pipeline,
from tests/reference/ref_simulation.R (which checks both R engines give the reference results):

* tuned -- own Youden search, survival's coxph.fit on model matrices (the fast way to write it in R);
* plain -- pROC::coords for the cuts and coxph formulas (the obvious way; fewer replicates, it is slow).

Each R loop simulates a study (sim_study) and runs the pipeline (sim_pipeline) per replicate, timed
inside R (no start-up). Both sides also print the pattern rate with its 95% interval: the R loop draws
other random numbers, so the two rates agree within Monte Carlo error, not digit for digit.

Goal: ours (1 worker) / R tuned <= 1.0.

Run:  PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_simulation.py [--replicates 2000]
      [--scenario observed-0.6] [--n 90] [--r-plain-replicates 200] [--repeat 3] [--dask]

Measured on the 2-core machine (R 4.2.2, survival 3.5.3; load average ~0.3 before the run):

    subgroup-roulette simulation, observed-0.6, n = 90, 2000 replicates, twin cohort, 2 cores (median of 3):
      ours, 1 worker:      1.46 s     0.73 ms per replicate
      ours, 2 workers:     0.77 s     0.38 ms per replicate (warm; first run 1.67 s with worker start-up)
      speed-up 1 -> 2 workers: 1.90 x
      ours, Dask LocalCluster (2 processes):    1.16 s     0.58 ms per replicate
      R tuned loop (own Youden, coxph.fit):    5.14 s     2.57 ms per replicate
      R plain loop (pROC, coxph formulas):   25.82 ms per replicate (200 replicates)
      ours (1 worker) / R tuned = 0.284   (goal <= 1.0)
      ours (1 worker) / R plain = 0.028
      pattern rate, ours:     48.3% (95% CI 46.1% to 50.5%)
      pattern rate, R tuned:  45.9% (95% CI 44.6% to 47.1%)   R plain:  47.0% (95% CI 39.9% to 54.2%)

(The R rates come from R's own random numbers and 3 x 2000 replicates; run on the *same* 400
Python-simulated studies, the R tuned pipeline gave the same pattern in 400 of 400 and the
within-cohort P values within 3e-8 relative.)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmark the checkout this file is in, not an installed copy

from dmnpc.paper import contract  # noqa: E402
from dmnpc.paper import simulation as S  # noqa: E402
from dmnpc.paper.variables import SEED  # noqa: E402
from dmnpc.stats.simulate import binomial_ci  # noqa: E402

R_CODE = r"""
Sys.setenv(SIMULATION_REF_NO_MAIN = "1")
source(file.path("tests", "reference", "ref_simulation.R"))
a <- commandArgs(trailingOnly = TRUE)
m <- read.csv(a[1])
par <- list(shape = as.numeric(a[2]), rate = as.numeric(a[3]), censor_min = as.numeric(a[4]),
            censor_upper = as.numeric(a[5]), true_hr = as.numeric(a[6]), lrrt_share = as.numeric(a[7]),
            random = a[8] == "random", n = as.integer(a[9]))
N <- as.integer(a[10]); engine <- a[11]; rep <- as.integer(a[12])
invisible(sim_pipeline(sim_study(m, par), engine))  # warm-up
tt <- numeric(rep); k <- 0
for (r in seq_len(rep)) {
  set.seed(r)
  pat <- logical(N)
  tt[r] <- system.time(for (i in seq_len(N)) pat[i] <- sim_pipeline(sim_study(m, par), engine)$pattern)[["elapsed"]]
  k <- k + sum(pat)
}
cat(median(tt), k, N * rep, "\n")
"""


def r_loop(model: S.DataModel, sc: S.Scenario, upper: float, replicates: int, engine: str, rep: int):
    """Seconds (median of ``rep`` runs) of the R loop, and (pattern count, replicates) over the runs."""
    table = pd.DataFrame(model.fixed, columns=list(S._FIXED))
    table["ebv_dna"], table["immuno_cycles"] = model.markers[:, 0], model.markers[:, 1]
    table["lrrt"], table["eta"] = model.lrrt, model.eta
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.csv"
        table.to_csv(path, index=False)
        args = [str(path), repr(model.shape), repr(model.rate), repr(model.censor_min), repr(upper),
                repr(sc.true_hr), repr(model.lrrt_share), sc.assignment, str(sc.n), str(replicates), engine, str(rep)]
        res = subprocess.run(["Rscript", "-e", R_CODE, *args], cwd=ROOT, capture_output=True, text=True, check=True)
    secs, k, total = res.stdout.split()[-3:]
    return float(secs), int(float(k)), int(float(total))


def ours(model, scenario, replicates, n, rep, **run) -> tuple[float, pd.DataFrame]:
    secs, last = [], None
    for r in range(rep):
        t0 = time.perf_counter()
        last = S.simulate(model, scenario, replicates, SEED + r, n=n, **run).replicates
        secs.append(time.perf_counter() - t0)
    return float(np.median(secs)), last


def rate_text(k: int, total: int) -> str:
    lo, hi = binomial_ci(k, total)
    return f"{k / total:6.1%} (95% CI {lo:.1%} to {hi:.1%})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=2000)
    ap.add_argument("--scenario", default="observed-0.6", choices=list(S.SCENARIOS))
    ap.add_argument("--n", type=int, default=90)
    ap.add_argument("--repeat", type=int, default=3, help="runs of ours and of the R tuned loop (median)")
    ap.add_argument("--r-plain-replicates", type=int, default=200, help="replicates of the slow R plain loop")
    ap.add_argument("--dask", action="store_true", help="also time a Dask LocalCluster of 2 worker processes")
    args = ap.parse_args()
    df = contract.load_cohort(contract.DEFAULT_COHORT)
    model = S.data_model(df)
    sc = S.SCENARIOS[args.scenario].with_n(args.n)
    upper = S.censoring_upper(model, sc)
    N = args.replicates
    S.simulate(model, sc, 50, 0)  # warm-up (imports, caches)
    one, res1 = ours(model, sc, N, args.n, args.repeat)
    t0 = time.perf_counter()
    S.simulate(model, sc, N, SEED, n_jobs=2)  # starts the loky workers
    cold = time.perf_counter() - t0
    two, res2 = ours(model, sc, N, args.n, args.repeat, n_jobs=2)
    assert res1.equals(res2), "1 and 2 workers differ"
    dask_secs = None
    if args.dask:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
                Client(cl) as client:
            S.simulate(model, sc, 200, 0, scheduler=client)
            dask_secs, res3 = ours(model, sc, N, args.n, args.repeat, scheduler=client)
            assert res1.equals(res3), "Dask and serial differ"
    r_tuned, kt, nt = r_loop(model, sc, upper, N, "tuned", args.repeat)
    r_plain, kp, np_ = r_loop(model, sc, upper, args.r_plain_replicates, "plain", 1)
    per = lambda s, k=N: 1000 * s / k  # noqa: E731
    print(f"subgroup-roulette simulation, {sc.name}, n = {sc.n}, {N} replicates, twin cohort, "
          f"{os.cpu_count()} cores (median of {args.repeat}):")
    print(f"  ours, 1 worker:   {one:7.2f} s   {per(one):6.2f} ms per replicate")
    print(f"  ours, 2 workers:  {two:7.2f} s   {per(two):6.2f} ms per replicate (warm; first run {cold:.2f} s "
          f"with worker start-up)")
    print(f"  speed-up 1 -> 2 workers: {one / two:4.2f} x")
    if dask_secs is not None:
        print(f"  ours, Dask LocalCluster (2 processes): {dask_secs:7.2f} s   {per(dask_secs):6.2f} ms per replicate")
    print(f"  R tuned loop (own Youden, coxph.fit): {r_tuned:7.2f} s   {per(r_tuned):6.2f} ms per replicate")
    print(f"  R plain loop (pROC, coxph formulas):  {per(r_plain, args.r_plain_replicates):6.2f} ms per replicate "
          f"({args.r_plain_replicates} replicates)")
    print(f"  ours (1 worker) / R tuned = {one / r_tuned:5.3f}   (goal <= 1.0)")
    print(f"  ours (1 worker) / R plain = {per(one) / per(r_plain, args.r_plain_replicates):5.3f}")
    print(f"  pattern rate, ours:    {rate_text(int(res1['pattern'].sum()), N)}")
    print(f"  pattern rate, R tuned: {rate_text(kt, nt)}   R plain: {rate_text(kp, np_)}")


if __name__ == "__main__":
    main()
