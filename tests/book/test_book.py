"""Build the whole book, as `make book` does, and check what a reader gets.

One build, on a copy of the default cohort whose patient ids and measured
values carry marker strings, into a temporary folder: every chapter of
`_toc.yml` must have a page with no error output, and no marker (row-level
patient data) may appear anywhere in the HTML.
"""

from __future__ import annotations

import re

import pytest

from conftest import ROOT, toc_files

pytestmark = pytest.mark.book


def _pages_clean(html):
    for f in toc_files():
        page = html / f"{f}.html"
        assert page.exists(), f"no page for {f}"
        text = page.read_text()
        assert "Traceback (most recent call last)" not in text, f"traceback on {f}"
        assert not re.search(r'class="[^"]*output[^"]*(traceback|stderr)', text), f"error output on {f}"
    reports = html / "reports"
    assert not reports.exists() or not any(reports.iterdir()), "execution reports (failed cells) were written"


def test_every_chapter_has_a_page_without_errors(built):
    html, _ = built
    _pages_clean(html)


def test_book_runs_unchanged_on_another_cohort(built_other):
    """A reviewer's cohort (here: valid data that is not the twin) builds every chapter, labelled as such."""
    _pages_clean(built_other)
    intro = (built_other / "book" / "survival.html").read_text()
    assert "other_cohort.csv" in intro and "Synthetic cohort" not in intro
    twin_page = (built_other / "book" / "twin.html").read_text()
    assert "Synthetic cohort" in twin_page  # the twin chapter always describes the twin


def test_no_row_level_data_in_html(built):
    html, markers = built
    pages = [p for p in html.rglob("*") if p.is_file() and p.suffix in {".html", ".txt", ".js", ".json", ".ipynb"}]
    assert pages
    for p in pages:
        text = p.read_text(errors="replace")
        leaked = [m for m in markers if m in text]
        assert not leaked, f"row-level marker(s) {leaked[:3]} found in {p.relative_to(html)}"


def _text(html, chapter: str) -> str:
    return (html / "book" / f"{chapter}.html").read_text()


def test_every_chapter_builds_when_the_arms_cannot_be_compared(built_all_lrrt):
    """Everybody had LRRT: each page is built, and says "not estimable" and why where a comparison was."""
    _pages_clean(built_all_lrrt)
    assert "comparison needs two arms" in _text(built_all_lrrt, "baseline")
    assert "not estimable: no patient is in the Without LRRT group" in _text(built_all_lrrt, "survival")
    risk = _text(built_all_lrrt, "risk")
    assert "only one arm in this stratum: no comparison possible" in risk
    assert "The treatment x cohort interaction is not estimable" in risk
    # what does not depend on the arms is still computed
    assert "Not estimable on this cohort" not in _text(built_all_lrrt, "nomogram")


def test_every_chapter_builds_when_the_model_cannot_be_fitted(built_no_model):
    """Every patient has multiple lesions: the model and all that rests on it are not estimable, with the reason."""
    _pages_clean(built_no_model)
    reason = "have the same value for every patient"
    for chapter in ("prognostic", "nomogram", "validation", "risk"):
        page = _text(built_no_model, chapter)
        assert "not estimable" in page.lower() and reason in page, chapter
    assert "The nomogram cannot be estimated" in _text(built_no_model, "nomogram")
    assert "The risk stratification cannot be estimated" in _text(built_no_model, "risk")


def test_every_chapter_downloads_as_a_notebook_that_runs(built):
    """Each chapter links its .ipynb; the notebooks have no outputs (no data) and one runs on its own."""
    import nbformat
    from nbclient import NotebookClient

    html, markers = built
    for f in toc_files():
        src = (ROOT / f"{f}.md").read_text()
        if not src.startswith("---") or "kernelspec" not in src.split("---", 2)[1]:
            continue  # a plain page (references, notation, glossary), not a notebook
        name = f.split("/")[-1]
        page = (html / f"{f}.html").read_text()
        assert f'href="../notebooks/{name}.ipynb"' in page, f"{f} does not link its notebook"
        nb = nbformat.read(html / "notebooks" / f"{name}.ipynb", as_version=4)
        nbformat.validate(nb)
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), name
    nb = nbformat.read(html / "notebooks" / "cohort.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(html)}}).execute()
    out = "".join(str(o) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "Traceback" not in out and "Error" not in out
