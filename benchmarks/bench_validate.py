"""Benchmark: bootstrap validation of a Cox model, fast (batched NumPy) vs slow (lifelines loop).

Data: survival::gbsg (n = 686, 299 events), Cox model of recurrence-free survival
on age, meno, size, grade, nodes, pgr, er, hormon; B = 200 (as rms::validate(B=200)).
R's time is measured by tests/reference/ref_validation.R (median over 20 seeds,
stored in tests/reference/validation.json) or, with --r, here with Rscript.

Run:  .venv/bin/python benchmarks/bench_validate.py [--B 200] [--repeat 3] [--r]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dmnpc.stats.cox import fit_cox
from dmnpc.stats.validation import validate_cox

ROOT = Path(__file__).resolve().parents[1]
COLS = ["age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon"]

R_CODE = """
suppressPackageStartupMessages(library(rms))
g <- read.csv("tests/data/gbsg.csv")
f <- cph(Surv(rfstime, status) ~ age + meno + size + grade + nodes + pgr + er + hormon, data = g, x = TRUE, y = TRUE)
set.seed(1); invisible(rms::validate(f, B = 20))
tt <- sapply(1:{rep}, function(s) {{ set.seed(s); system.time(rms::validate(f, B = {B}))[["elapsed"]] }})
cat(median(tt), "\\n")
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--B", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--r", action="store_true", help="also time rms::validate with Rscript")
    args = ap.parse_args()
    g = pd.read_csv(ROOT / "tests" / "data" / "gbsg.csv")
    fit = fit_cox(g["rfstime"], g["status"], g[COLS])  # fit once, pass the fit
    validate_cox(fit, B=10, seed=0)  # warm-up (imports, caches)

    def timed(method: str) -> float:
        out = []
        for r in range(args.repeat if method == "fast" else 1):
            t0 = time.perf_counter()
            validate_cox(fit, B=args.B, seed=r, method=method)
            out.append(time.perf_counter() - t0)
        return float(np.median(out))

    fast = timed("fast")
    slow = timed("slow")
    print(f"validate_cox B={args.B} on gbsg (n={len(g)}):")
    print(f"  fast (batched NumPy): {fast:8.3f} s (median of {args.repeat})")
    print(f"  slow (lifelines loop): {slow:8.3f} s")
    print(f"  slow / fast = {slow / fast:6.1f}")
    ref = ROOT / "tests" / "reference" / "validation.json"
    r_sec = None
    if args.r:
        code = R_CODE.format(B=args.B, rep=args.repeat)
        res = subprocess.run(["Rscript", "-e", code], cwd=ROOT, capture_output=True, text=True, check=True)
        r_sec = float(res.stdout.split()[-1])
        print(f"  R rms::validate (measured now): {r_sec:8.3f} s")
    elif ref.exists():
        r_sec = float(json.loads(ref.read_text())["median_seconds"])
        print(f"  R rms::validate (ref_validation.R, median of 20): {r_sec:8.3f} s")
    if r_sec:
        print(f"  fast / R = {fast / r_sec:6.2f}")


if __name__ == "__main__":
    main()
