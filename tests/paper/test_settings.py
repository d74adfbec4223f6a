"""settings.yml: one documented place for what a reader may change; defaults reproduce the paper."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dmnpc.paper import contract, settings

ROOT = Path(__file__).resolve().parents[2]


def test_repository_file_holds_the_defaults():
    assert settings.load(ROOT / "settings.yml") == settings.DEFAULTS
    assert settings.DEFAULTS.horizons == (12.0, 24.0) and settings.DEFAULTS.cut_rule == "paper"


@pytest.mark.parametrize("text, message", [
    ("cut_rule: Youden\n", "cut_rule is 'Youden'; expected one of ['paper', 'youden']"),
    ("horizons: [12, -1]\n", "horizons is [12, -1]; expected a list of positive numbers"),
    ("bootstrap_replicates: 0\n", "bootstrap_replicates is 0; expected a whole number >= 1"),
    ("seed: 1.5\n", "seed is 1.5; expected a whole number >= 0"),
    ("risk_split: tertiles\n", "risk_split is 'tertiles'; expected one of ['mean', 'median']"),
    ("table_tests: chi2\n", "unknown setting(s) ['table_tests']"),
    ("- a list\n", "expected 'name: value' lines"),
    ("cut_rule: [\n", "not valid YAML"),
])
def test_a_wrong_setting_is_one_clear_error_naming_the_file(tmp_path, text, message):
    f = tmp_path / "s.yml"
    f.write_text(text)
    with pytest.raises(settings.SettingsError) as err:
        settings.load(f)
    assert str(err.value).startswith(str(f)) and message in str(err.value)


def test_partial_file_keeps_the_other_defaults(tmp_path):
    f = tmp_path / "s.yml"
    f.write_text("horizons: [24, 6]\ntable_test: chi2\n")
    s = settings.load(f)
    assert s.horizons == (6.0, 24.0) and s.table_test == "chi2" and s.seed == settings.DEFAULTS.seed


def _report(env_settings: Path | None, data: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("DMNPC_SETTINGS", None)
    if env_settings is not None:
        env["DMNPC_SETTINGS"] = str(env_settings)
    return subprocess.run([sys.executable, "-m", "dmnpc", "report", "--data", str(data), "--out", "-"],
                          env=env, capture_output=True, text=True, cwd=ROOT)


def test_youden_rule_makes_the_models_use_this_cohorts_cuts(tmp_path):
    """On a cohort whose Youden cuts differ from the paper's, model_cutoffs follow the setting."""
    raw = pd.read_csv(contract.DEFAULT_COHORT, dtype=str, keep_default_na=False)
    order = np.random.default_rng(3).permutation(len(raw))  # outcomes move together: every row stays valid
    for c in ("os_months", "os_event", "pfs_months", "pfs_event"):
        raw[c] = raw[c].to_numpy()[order]
    data = tmp_path / "cohort.csv"
    raw.to_csv(data, index=False)
    conf = tmp_path / "s.yml"
    conf.write_text("cut_rule: youden\nrisk_split: median\n")
    paper = json.loads(_report(None, data).stdout)
    youden = json.loads(_report(conf, data).stdout)
    assert paper["model_cutoffs"]["ebv_dna"] == 66_600 and paper["settings"]["cut_rule"] == "paper"
    assert youden["settings"] == {**paper["settings"], "cut_rule": "youden", "risk_split": "median"}
    for m in ("ebv_dna", "immuno_cycles"):
        assert youden["model_cutoffs"][m] == youden["cutoffs"][m] == paper["cutoffs"][m]
    assert youden["model_cutoffs"]["ebv_dna"] != paper["model_cutoffs"]["ebv_dna"]  # this cohort's cut differs
    assert youden["cox_os"] != paper["cox_os"]                                     # and the model with it


def test_cli_reports_a_bad_settings_file_in_one_line(tmp_path):
    conf = tmp_path / "s.yml"
    conf.write_text("cut_rule: Youden\n")
    proc = _report(conf, contract.DEFAULT_COHORT)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"{conf}: cut_rule is 'Youden'; expected one of ['paper', 'youden']"


def test_changing_the_settings_drops_the_execution_cache(tmp_path, monkeypatch):
    from dmnpc.book import buildtools

    conf = tmp_path / "s.yml"
    conf.write_text("seed: 1\n")
    monkeypatch.setenv("DMNPC_SETTINGS", str(conf))
    before = buildtools.fingerprint(ROOT)
    conf.write_text("seed: 2\n")
    assert buildtools.fingerprint(ROOT) != before
