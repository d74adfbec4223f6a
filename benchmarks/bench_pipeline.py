"""Benchmark: whole-pipeline bootstrap (cuts, screen, model, evaluation) on the twin, ours vs two R loops.

Ours: dmnpc.stats.pipeline.validate_procedure on the paper's procedure
(dmnpc.paper.appraisal.pipeline_procedure), all replicates at once through the batched Cox engine, with its
progress bar. R: the same procedure and the same data and B, looped over replicates, from
tests/reference/ref_pipeline.R (which checks that both R loops give the same per-replicate results):

* plain -- pROC::coords for the cuts, coxph per candidate on the resampled rows, concordance, basehaz;
* tuned -- a vectorised Youden search, survival's coxph.fit on the resampled model matrix,
  concordancefit with frequency weights, the baseline hazard by hand.

Goals: ours <= 0.25 x plain and <= 1 x tuned; B = 500 under 5 s.

Run:  PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_pipeline.py [--B 500] [--variant screen] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np

from dmnpc.paper import appraisal, contract
from dmnpc.paper.variables import SEED
from dmnpc.stats.pipeline import validate_procedure

ROOT = Path(__file__).resolve().parents[1]

R_CODE = """
Sys.setenv(PIPELINE_REF_NO_MAIN = "1")
source(file.path("tests", "reference", "ref_pipeline.R"))
d <- load_twin()
invisible(run_pipeline(d, 5, "{variant}", "{engine}"))  # warm-up
tt <- sapply(seq_len({rep}), function(s) system.time(run_pipeline(d, {B}, "{variant}", "{engine}", seed = s))[["elapsed"]])
cat(median(tt), "\\n")
"""


def r_seconds(engine: str, B: int, variant: str, rep: int) -> float:
    code = R_CODE.format(engine=engine, B=B, variant=variant, rep=rep)
    res = subprocess.run(["Rscript", "-e", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(res.stdout.split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--B", type=int, default=500)
    ap.add_argument("--variant", default="screen", choices=appraisal.PIPELINE_VARIANTS)
    ap.add_argument("--repeat", type=int, default=3, help="runs of ours and of the tuned R loop (median)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    df = contract.load_cohort(contract.DEFAULT_COHORT)
    proc = appraisal.pipeline_procedure(df, args.variant)
    validate_procedure(proc, B=20, seed=0)  # warm-up (imports, caches)
    secs = []
    for r in range(args.repeat):
        t0 = time.perf_counter()
        validate_procedure(proc, B=args.B, seed=SEED + r, progress=True)
        secs.append(time.perf_counter() - t0)
    ours = float(np.median(secs))
    tuned = r_seconds("tuned", args.B, args.variant, args.repeat)
    plain = r_seconds("plain", args.B, args.variant, 1)
    print(f"whole-pipeline bootstrap, variant {args.variant!r}, B = {args.B}, twin (n = {len(df)}), "
          f"{os.cpu_count()} cores:")
    print(f"  ours (batched NumPy, progress bar): {ours:7.2f} s (median of {args.repeat})")
    print(f"  R plain loop (pROC, coxph, concordance): {plain:7.2f} s")
    print(f"  R tuned loop (coxph.fit on model matrices): {tuned:7.2f} s (median of {args.repeat})")
    print(f"  ours / plain = {ours / plain:5.3f}   (goal <= 0.25)")
    print(f"  ours / tuned = {ours / tuned:5.3f}   (goal <= 1)")


if __name__ == "__main__":
    main()
