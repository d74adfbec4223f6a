"""The results JSON (`python -m dmnpc report`) is a public interface: its keys only grow."""

from __future__ import annotations

import json
from pathlib import Path
import math
import subprocess
import sys

import pytest

from dmnpc.paper import contract, report

#: The keys the book's issue fixed for the results JSON. Never remove or rename one.
PUBLIC_KEYS = {
    "n", "n_lrrt", "n_no_lrrt", "followup_median_months",
    "os.median_months", "os.surv_12", "os.surv_24", "pfs.median_months", "pfs.surv_12", "pfs.surv_24",
    "os_by_lrrt.surv_24_lrrt", "os_by_lrrt.surv_24_no_lrrt", "os_by_lrrt.logrank_p",
    "pfs_by_lrrt.surv_24_lrrt", "pfs_by_lrrt.surv_24_no_lrrt", "pfs_by_lrrt.logrank_p",
    "cutoffs.ebv_dna", "cutoffs.immuno_cycles",
    *(f"table1_p.{v}" for v in ("age", "sex", "ecog", "t_stage", "n_stage", "ebv_dna", "multi_organ_mets",
                                "met_lesions", "liver_mets", "bone_mets", "lung_mets", "ldh", "chemo_cycles",
                                "immuno_cycles", "local_tx_mets")),
    *(f"cox_os.{t}.{k}" for t in ("age_high", "ebv_dna_high", "multiple_lesions", "chemo_cycles_low",
                                  "immuno_cycles_low") for k in ("hr", "lower", "upper", "p")),
    "nomogram.c_index", "nomogram.c_index_lower", "nomogram.c_index_upper", "nomogram.auc_12",
    "nomogram.auc_24",
    *(f"nomogram.points.{t}" for t in ("age_high", "ebv_dna_high", "multiple_lesions", "chemo_cycles_low",
                                       "immuno_cycles_low")),
    "risk.n_low", "risk.n_high", "risk.n_low_lrrt", "risk.n_low_no_lrrt", "risk.n_high_lrrt",
    "risk.n_high_no_lrrt", "risk.os_surv_24_low", "risk.os_surv_24_high", "risk.os_logrank_p",
    "risk.pfs_logrank_p", "risk.threshold_points", "risk.interaction_p", "risk.interaction_ratio_shared",
    "risk.interaction_ratio_stratified", "risk.interaction_p_stratified",
    "ph_os.global_chi2", "ph_os.global_df", "ph_os.global_p",
    *(f"appraisal.sample_size.{k}" for k in ("candidate_parameters", "r2_cs", "events", "rate_per_month",
                                             "mean_followup_months", "criterion1_n", "criterion2_n", "criterion3_n",
                                             "required_n", "events_per_parameter")),
    *(f"appraisal.{m}.{k}" for m in ("continuous", "dichotomised") for k in ("lr_chi2", "df", "aic", "c_index")),
    *(f"appraisal.shrinkage.{k}" for k in ("heuristic", "bootstrap_slope", "penalised_method", "penalty")),
    *(f"appraisal.dca.{h}.{k}" for h in ("12", "24") for k in ("thresholds", "nb_model", "nb_all")),
    *(f"appraisal.brier.{k}_{h}" for k in ("brier", "ipa") for h in ("12", "24")), "appraisal.oe_24",
    *(f"appraisal.{p}.{k}" for p in ("pipeline", "pipeline_no_lrrt", "pipeline_fixed_terms")
      for k in ("b", "c_apparent", "c_optimism", "c_corrected", "slope_corrected", "fixed_model_c_optimism",
                "n_failed", "cut_ebv_dna_iqr")),
    *(f"appraisal.pipeline.selection_freq.{t}" for t in ("age_high", "ebv_dna_high", "multiple_lesions",
                                                          "chemo_cycles_low", "immuno_cycles_low")),
    *(f"lrrt_in_{s}.{k}" for s in ("high", "low") for k in ("hr", "lower", "upper", "p")),
}


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


@pytest.fixture(scope="module")
def results() -> dict:
    return report.compute_results(contract.load_cohort(contract.DEFAULT_COHORT))


def test_public_keys_present(results):
    flat = _flat(results)
    assert PUBLIC_KEYS <= set(flat), sorted(PUBLIC_KEYS - set(flat))
    assert set(results["cox_pfs"]) == {"age_high", "ebv_dna_high", "multiple_lesions", "chemo_cycles_low",
                                       "immuno_cycles_low"}


def test_values_are_plain_json_numbers(results):
    for key, v in _flat(results).items():
        # lists only where the interface has curves (appraisal.dca.<h>.thresholds / nb_model / nb_all)
        items = v if isinstance(v, list) and (key.startswith("appraisal.dca.") or key.endswith("_iqr")
                                              or key == "settings.horizons") else [v]
        for x in items:
            assert x is None or type(x) in (int, float, str), (key, type(x))
            if isinstance(x, float):
                assert math.isfinite(x), key
    assert 0 < results["os"]["surv_24"] < 1  # proportions, not percent
    assert results["n"] == results["n_lrrt"] + results["n_no_lrrt"]


def test_deterministic(results):
    again = report.compute_results(contract.load_cohort(contract.DEFAULT_COHORT))
    assert json.dumps(again, sort_keys=True) == json.dumps(results, sort_keys=True)


def test_cli_writes_the_json(tmp_path, results):
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "dmnpc", "report", "--data", str(contract.DEFAULT_COHORT),
                           "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}")) == \
        json.loads(json.dumps(results))


def test_cli_bad_file_gets_one_clear_error(tmp_path):
    bad = contract.example_rows().rename(columns={"lrrt": "lrt"})
    p = tmp_path / "bad.csv"
    bad.to_csv(p, index=False)
    proc = subprocess.run([sys.executable, "-m", "dmnpc", "report", "--data", str(p), "--out", "-"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert str(p.resolve()) in proc.stderr and "unexpected column 'lrt' (did you mean 'lrrt'?)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_fidelity_lists_published_numbers():
    proc = subprocess.run([sys.executable, "-m", "dmnpc", "fidelity", "--data", str(contract.DEFAULT_COHORT)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "lrrt_in_high.hr" in proc.stdout and "within" in proc.stdout


def test_twin_results_unchanged_by_the_layered_architecture(results):
    """Every value of the twin's results JSON from before the stats/paper/book reorganisation.

    ``tests/reference/twin_results_before_layers.json`` is ``python -m dmnpc report`` on the twin
    at the commit before the reorganisation (d4f4f55). Counts, strings and P-value keys that do
    not involve a Cox fit are compared exactly; every float to 1e-8 relative. Why that tolerance:
    the old Cox path handed a Newton-polished estimate back to lifelines, which stopped at its own
    criterion (precision 1e-9); the new single engine stops on a Newton decrement below 1e-9 and
    then takes that last step. Both land on the same maximum to about 1e-10 relative (measured:
    at most 5e-11 over the 53 Cox-derived values); 1e-8 leaves two orders of margin and would
    still catch any real change (the smallest reported precision, 3 decimals of a P value, is 1e-3).
    """
    before = _flat(json.loads((Path(__file__).resolve().parents[1] / "reference"
                               / "twin_results_before_layers.json").read_text()))
    now = _flat(results)
    assert set(before) <= set(now), sorted(set(before) - set(now))
    for key, old in before.items():
        new = now[key]
        if isinstance(old, float) and isinstance(new, float):
            assert math.isclose(new, old, rel_tol=1e-8, abs_tol=0.0), (key, new, old)
        else:
            assert new == old, (key, new, old)


@pytest.mark.parametrize("cmd", ["report", "fidelity", "predict", "twin", "prepare", "external"])
def test_cli_every_subcommand_has_help(cmd):
    proc = subprocess.run([sys.executable, "-m", "dmnpc", cmd, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"python -m dmnpc {cmd}" in proc.stdout


def test_cli_prepare_drops_then_keeps_the_cache(tmp_path):
    (tmp_path / "requirements.lock").write_text("a==1\n")
    build = tmp_path / "_build"
    run = [sys.executable, "-m", "dmnpc", "prepare", str(tmp_path), "--build-dir", str(build)]
    first = subprocess.run(run, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "dropped" in first.stderr and (build / ".dmnpc-fingerprint").exists()
    (build / ".jupyter_cache").mkdir()
    again = subprocess.run(run, capture_output=True, text=True)
    assert again.returncode == 0 and "kept" in again.stderr
    assert (build / ".jupyter_cache").exists()


def test_old_entry_points_still_work():
    for mod in ("dmnpc.paper.twin", "dmnpc.book.buildtools"):
        proc = subprocess.run([sys.executable, "-m", mod, "--help"], capture_output=True, text=True)
        assert proc.returncode == 0, (mod, proc.stderr)
