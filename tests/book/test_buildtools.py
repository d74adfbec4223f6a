"""The execution cache is dropped exactly when what the chapters depend on changes."""

from __future__ import annotations

from dmnpc.book import buildtools
from dmnpc.paper import contract


def test_cache_dropped_when_cohort_changes_and_kept_otherwise(tmp_path, monkeypatch):
    root = tmp_path
    (root / "requirements.lock").write_text("a==1\n")
    build = root / "_build"
    cohort = tmp_path / "c.csv"
    contract.example_rows().to_csv(cohort, index=False)
    monkeypatch.setenv("DMNPC_DATA", str(cohort))
    assert buildtools.prepare(root, build) is True          # first build: nothing to keep
    (build / ".jupyter_cache").mkdir()
    assert buildtools.prepare(root, build) is False         # nothing changed: cache kept
    assert (build / ".jupyter_cache").exists()
    cohort.write_text(cohort.read_text().replace("45.0", "46.0"))
    assert buildtools.prepare(root, build) is True          # the cohort's bytes changed
    assert not (build / ".jupyter_cache").exists()
    (build / ".jupyter_cache").mkdir()
    (root / "requirements.lock").write_text("a==2\n")
    assert buildtools.prepare(root, build) is True          # the pinned versions changed
    assert not (build / ".jupyter_cache").exists()


def test_fingerprint_depends_on_the_chosen_cohort(tmp_path, monkeypatch):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    contract.example_rows().to_csv(a, index=False)
    contract.example_rows().to_csv(b, index=False)
    monkeypatch.setenv("DMNPC_DATA", str(a))
    fa = buildtools.fingerprint(tmp_path)
    monkeypatch.setenv("DMNPC_DATA", str(b))
    assert buildtools.fingerprint(tmp_path) != fa            # same bytes, another file: still re-run


def test_fingerprint_depends_on_the_public_case_data(tmp_path, monkeypatch):
    public = tmp_path / "public"
    public.mkdir()
    (public / "gbsg.csv").write_text("pid,size\n1,18\n")
    monkeypatch.setattr(buildtools, "PUBLIC_DIR", public)
    before = buildtools.fingerprint(tmp_path)
    assert buildtools.fingerprint(tmp_path) == before
    (public / "gbsg.csv").write_text("pid,size\n1,19\n")
    assert buildtools.fingerprint(tmp_path) != before         # the external-validation chapter re-runs
