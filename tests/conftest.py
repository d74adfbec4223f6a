"""Shared fixtures: one build of the whole book per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# the suite checks the defaults (the paper's settings) whatever a reader has put in settings.yml;
# set before dmnpc is imported, since dmnpc.paper.variables reads the settings once
os.environ["DMNPC_SETTINGS"] = str(ROOT / "tests" / "data" / "settings_defaults.yml")

from dmnpc.paper import contract, variables  # noqa: E402
BIN = Path(sys.executable).parent


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(toc.get("parts", []))
    return files


def marker_cohort(path: Path) -> tuple[Path, list[str]]:
    """Default cohort with marker ids and marker decimals that keep every paper category."""
    df = contract.load_cohort(contract.DEFAULT_COHORT)
    raw = pd.read_csv(contract.DEFAULT_COHORT, dtype=str, keep_default_na=False)
    markers = []
    ids = [f"QZMARK{7000 + i}" for i in range(len(raw))]
    raw["patient_id"] = ids
    markers += ids
    # distinctive fractional parts on continuous values, small enough to keep every category
    for i in range(len(raw)):
        age = float(raw.loc[i, "age"]) + 0.0137 + 0.0001 * (i % 7)
        raw.loc[i, "age"] = f"{age:.4f}"
        markers.append(f"{age:.4f}")
    out = path / "marker_cohort.csv"
    raw.to_csv(out, index=False)
    marked = contract.load_cohort(out)
    pd.testing.assert_frame_equal(variables.grouped(marked), variables.grouped(df))
    return out, markers


def other_cohort(path: Path) -> Path:
    """A valid cohort that is not the twin: the twin's outcomes reassigned among its patients.

    (OS, PFS) pairs move together, so every row stays valid; the baseline table is the
    twin's, but every survival result differs, so chapters cannot lean on the twin's numbers.
    """
    raw = pd.read_csv(contract.DEFAULT_COHORT, dtype=str, keep_default_na=False)
    rng = np.random.default_rng(7)
    order = rng.permutation(len(raw))
    for c in ("os_months", "os_event", "pfs_months", "pfs_event"):
        raw[c] = raw[c].to_numpy()[order]
    out = path / "other_cohort.csv"
    raw.to_csv(out, index=False)
    contract.load_cohort(out)  # must satisfy the contract
    return out


#: Seed and size (copies of the twin's baseline rows) of :func:`flipped_cohort`.
FLIP_SEED = 5
FLIP_COPIES = 6


def flipped_cohort(path: Path, seed: int = FLIP_SEED, hr_high: float = 0.15, hr_low: float = 3.0,
                   copies: int = FLIP_COPIES) -> Path:
    """A valid cohort on which the paper's key conclusions flip.

    The twin's baseline data with outcomes simulated from a proportional-hazards model
    (exponential times, hazard 0.004/month x exp(lp), uniform censoring from 18 to 54 months),
    where lp has the paper's five terms (HRs 3, 2.5, 3.5, 3.5, 2.5) and a LRRT effect that
    reverses with risk: without LRRT the hazard is x``hr_high`` above the mean of lp and
    x``hr_low`` below it. So proportional hazards hold, LRRT does *not* help the high-risk
    cohort, its effect differs between the cohorts, and the patients without LRRT (mostly
    high-risk) survive longer overall. The baseline rows are the twin's repeated ``copies``
    times (new patient ids), so that the cohort is large enough for the sample-size and
    shrinkage conclusions to flip as well. ``test_conclusions.py`` checks that the book's
    conclusions follow (and first that the cohort really has these properties).
    """
    one = pd.read_csv(contract.DEFAULT_COHORT, dtype=str, keep_default_na=False)
    raw = pd.concat([one] * copies, ignore_index=True)
    raw["patient_id"] = [f"FL{i + 1:04d}" for i in range(len(raw))]
    base = pd.concat([contract.load_cohort(contract.DEFAULT_COHORT)] * copies, ignore_index=True)
    df = base
    lp = variables.design_matrix(df, variables.OS_TERMS).to_numpy() @ np.log([3.0, 2.5, 3.5, 3.5, 2.5])
    no_lrrt = 1 - df["lrrt"].to_numpy()
    eta = lp + no_lrrt * np.where(lp > lp.mean(), np.log(hr_high), np.log(hr_low))
    rng = np.random.default_rng(seed)
    death = rng.exponential(1.0, len(df)) / (0.004 * np.exp(eta))
    censor = rng.uniform(18, 54, len(df))
    os_months = np.maximum(np.round(np.minimum(death, censor), 1), 0.5)
    os_event = (death <= censor).astype(int)
    pfs_months = np.maximum(np.round(os_months * rng.uniform(0.4, 1.0, len(df)), 1), 0.3)
    pfs_event = np.where(pfs_months < os_months, 1, os_event)
    raw["os_months"] = [f"{v:.1f}" for v in os_months]
    raw["os_event"] = os_event.astype(str)
    raw["pfs_months"] = [f"{v:.1f}" for v in pfs_months]
    raw["pfs_event"] = pfs_event.astype(str)
    out = path / "flipped_cohort.csv"
    raw.to_csv(out, index=False)
    contract.load_cohort(out)  # must satisfy the contract
    return out


def degenerate_cohort(path: Path, name: str, **columns: str) -> Path:
    """The twin with some columns set to one value for everybody: valid, analysable, but with
    comparisons that cannot be estimated (e.g. ``lrrt="1"``: no untreated arm)."""
    raw = pd.read_csv(contract.DEFAULT_COHORT, dtype=str, keep_default_na=False).assign(**columns)
    out = path / f"{name}.csv"
    raw.to_csv(out, index=False)
    contract.load_cohort(out)  # must satisfy the contract
    return out


def build_book(cohort: Path, tmp: Path) -> Path:
    """Build the whole book on ``cohort`` into ``tmp`` exactly as `make book` does; return the HTML folder."""
    env = dict(os.environ, DMNPC_DATA=str(cohort))
    cmd = [str(BIN / "jupyter-book"), "build", str(ROOT), "--path-output", str(tmp), "-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    reports = tmp / "_build" / "html" / "reports"
    detail = ""
    if reports.exists():
        detail = "\n".join(p.read_text()[-3000:] for p in reports.glob("*.err.log"))
    assert proc.returncode == 0, f"book build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}\n{detail}"
    html = tmp / "_build" / "html"
    # as `make book`: the results JSON the reproduction chapter links for download
    rep = subprocess.run([sys.executable, "-m", "dmnpc", "report", "--out", str(html / "results.json")],
                         env=env, capture_output=True, text=True, cwd=ROOT)
    assert rep.returncode == 0, rep.stderr
    # as `make book`: the external-validation chapter's JSON, which that chapter links for download
    ext = subprocess.run([sys.executable, "-m", "dmnpc", "external", "--out", str(html / "external_validation.json")],
                         env=env, capture_output=True, text=True, cwd=ROOT)
    assert ext.returncode == 0, ext.stderr
    # as `make book`: every chapter as a notebook, linked under each chapter's title
    nbs = subprocess.run([sys.executable, "-m", "dmnpc.book.buildtools", "notebooks", str(html / "notebooks"),
                          "--root", str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert nbs.returncode == 0, nbs.stderr
    return html


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> tuple[Path, list[str]]:
    """The book built on the twin with marker ids and ages (for the leak and browser tests)."""
    tmp = tmp_path_factory.mktemp("book")
    cohort, markers = marker_cohort(tmp)
    return build_book(cohort, tmp), markers


@pytest.fixture(scope="session")
def built_other(tmp_path_factory) -> Path:
    """The book built on a valid cohort that is not the twin (a reviewer's own data)."""
    tmp = tmp_path_factory.mktemp("book_other")
    return build_book(other_cohort(tmp), tmp)


@pytest.fixture(scope="session")
def built_flipped(tmp_path_factory) -> Path:
    """The book on a cohort where PH holds, LRRT does not help the high-risk cohort and the effect differs."""
    tmp = tmp_path_factory.mktemp("book_flipped")
    return build_book(flipped_cohort(tmp), tmp)


@pytest.fixture(scope="session")
def built_all_lrrt(tmp_path_factory) -> Path:
    """The book on a cohort where everybody had LRRT: every with/without-LRRT comparison is not estimable."""
    tmp = tmp_path_factory.mktemp("book_all_lrrt")
    return build_book(degenerate_cohort(tmp, "all_lrrt", lrrt="1"), tmp)


@pytest.fixture(scope="session")
def built_no_model(tmp_path_factory) -> Path:
    """The book on a cohort where every patient has multiple lesions: the five-term model, the nomogram,
    its validation and the risk split are not estimable."""
    tmp = tmp_path_factory.mktemp("book_no_model")
    return build_book(degenerate_cohort(tmp, "all_multiple", met_lesions="multiple"), tmp)
