"""The package's layers, enforced: ``stats`` < ``paper`` < ``book``, and ``stats`` < ``cases`` < ``book``.

``dmnpc.stats`` (generic survival statistics) imports none of the others; ``dmnpc.paper``
(Chen et al. specific) does not import ``dmnpc.book`` nor ``dmnpc.cases``; ``dmnpc.cases``
(worked cases on public data, not the paper) imports ``dmnpc.stats`` only. Every import
statement is read from the source (module level and inside functions, absolute and relative),
so a lazy import inside a function cannot slip through; every subpackage of ``dmnpc`` must be
one of the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "dmnpc"
LAYERS = ("stats", "paper", "cases", "book")
#: What each layer may not import.
FORBIDDEN = {"stats": {"paper", "cases", "book"}, "paper": {"cases", "book"}, "cases": {"paper", "book"},
             "book": set()}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Absolute dotted names of every module ``path`` imports, with line numbers."""
    rel = path.relative_to(PKG.parent).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            out += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
    return out


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "dmnpc" and parts[1] in LAYERS else None


def violations(layer: str) -> list[str]:
    bad = []
    for f in sorted((PKG / layer).rglob("*.py")):
        for line, mod in imported_modules(f):
            if layer_of(mod) in FORBIDDEN[layer]:
                bad.append(f"{f.relative_to(PKG.parent)}:{line} imports {mod}")
    return bad


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_only_lower_layers(layer):
    assert violations(layer) == []


def test_every_module_lives_in_a_layer():
    loose = sorted(p.name for p in PKG.glob("*.py") if p.name not in {"__init__.py", "__main__.py"})
    assert loose == [], f"modules outside the layers {LAYERS}: {loose}"
    packages = sorted(p.name for p in PKG.iterdir() if p.is_dir() and any(p.rglob("*.py")))
    assert packages == sorted(LAYERS), f"subpackages that are not layers: {sorted(set(packages) - set(LAYERS))}"


def test_forbidden_rules_cover_every_layer():
    """Each layer has its rule, and the rules only name layers."""
    assert set(FORBIDDEN) == set(LAYERS)
    assert all(rule <= set(LAYERS) - {layer} for layer, rule in FORBIDDEN.items())


def test_checker_catches_an_upward_import(tmp_path, monkeypatch):
    """The rule can fail: a stats module that imports the paper layer is reported."""
    fake = tmp_path / "dmnpc"
    (fake / "stats").mkdir(parents=True)
    (fake / "stats" / "bad.py").write_text("def f():\n    from ..paper import variables\n")
    (fake / "paper").mkdir()
    (fake / "paper" / "ok.py").write_text("from dmnpc.stats import km\n")
    monkeypatch.setattr(__import__(__name__), "PKG", fake)
    assert violations("stats") == ["dmnpc/stats/bad.py:2 imports dmnpc.paper",
                                   "dmnpc/stats/bad.py:2 imports dmnpc.paper.variables"]
    assert violations("paper") == []


def test_checker_catches_a_case_that_imports_the_paper(tmp_path, monkeypatch):
    """The case layer may use stats only: the paper (absolute or relative) and the book are reported."""
    fake = tmp_path / "dmnpc"
    (fake / "cases").mkdir(parents=True)
    (fake / "cases" / "bad.py").write_text("from dmnpc.stats import km\nfrom ..paper import variables\n"
                                           "def f():\n    import dmnpc.book.chapter\n")
    (fake / "paper").mkdir()
    (fake / "paper" / "bad.py").write_text("from dmnpc.cases import stratos\n")
    monkeypatch.setattr(__import__(__name__), "PKG", fake)
    assert violations("cases") == ["dmnpc/cases/bad.py:2 imports dmnpc.paper",
                                   "dmnpc/cases/bad.py:2 imports dmnpc.paper.variables",
                                   "dmnpc/cases/bad.py:4 imports dmnpc.book.chapter"]
    assert violations("paper") == ["dmnpc/paper/bad.py:1 imports dmnpc.cases",
                                   "dmnpc/paper/bad.py:1 imports dmnpc.cases.stratos"]
