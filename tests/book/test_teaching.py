"""The teaching layer: learning objectives, numbered equations, glossary links, exercises with solutions.

The book-marked tests read the book built once per session on the twin (``built``, from
``conftest.py``); the others check the sentence helpers of :mod:`dmnpc.book.teaching` and that
the browser test of ``test_pages.py`` fails a page with untypeset TeX (the typesetting itself
happens in the browser: MathJax ships with the book).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from conftest import ROOT, toc_files
from dmnpc.book import teaching

#: Exercises the whole book must have (other chapters add theirs to the count).
MIN_EXERCISES_BOOK = 30
#: Exercises each of these chapters must have; extend it as chapters gain exercises.
MIN_EXERCISES = {"book/cutpoints": 3, "book/survival": 3, "book/prognostic": 3, "book/validation": 3,
                 "book/risk": 3}
#: Numbered equations each chapter must state (the mathematics it computes).
MIN_EQUATIONS = {"book/baseline": 4, "book/cutpoints": 3, "book/survival": 6, "book/prognostic": 8,
                 "book/validation": 9, "book/risk": 4}
#: Learning objectives per chapter: a few, each checkable.
OBJECTIVES = (3, 5)
#: TeX that must never reach a reader outside a math element (dollarmath or amsmath not parsed).
RAW_TEX = re.compile(r"\$\$|\\begin\{|\\frac|\\mathrm|\\hat|\\sum|\\beta")


def numbered_chapters() -> list[str]:
    """The chapters of ``_toc.yml``'s numbered parts."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [c["file"] for part in toc.get("parts", []) if part.get("numbered") for c in part.get("chapters", [])]


def page(html: Path, doc: str) -> BeautifulSoup:
    return BeautifulSoup((html / f"{doc}.html").read_text(), "html.parser")


def article(html: Path, doc: str):
    soup = page(html, doc)
    return soup.select_one("main article") or soup


def exercises(html: Path) -> dict[str, list]:
    """Exercise admonitions of every page of the book, by page."""
    return {doc: article(html, doc).select("div.exercise.admonition") for doc in toc_files()}


def solutions(html: Path) -> dict[str, list]:
    return {doc: article(html, doc).select("div.solution.admonition") for doc in toc_files()}


# ----------------------------------------------------------------------------- book
@pytest.mark.book
def test_every_numbered_chapter_opens_with_learning_objectives(built):
    html, _ = built
    missing, wrong = [], []
    for doc in numbered_chapters():
        boxes = [a for a in article(html, doc).select("div.admonition")
                 if (t := a.select_one(".admonition-title")) and t.get_text(strip=True) == "Learning objectives"]
        if not boxes:
            missing.append(doc)
            continue
        n = len(boxes[0].select("li"))
        if not OBJECTIVES[0] <= n <= OBJECTIVES[1]:
            wrong.append(f"{doc}: {n} objectives")
    assert not missing, f"chapters without a 'Learning objectives' box: {missing}"
    assert not wrong, f"learning objectives should number {OBJECTIVES[0]} to {OBJECTIVES[1]}: {wrong}"


@pytest.mark.book
def test_exercises_each_have_a_solution(built):
    html, _ = built
    ex = exercises(html)
    sol = solutions(html)
    total = sum(len(v) for v in ex.values())
    assert total >= MIN_EXERCISES_BOOK, f"the book has {total} exercises, fewer than {MIN_EXERCISES_BOOK}"
    few = {doc: len(ex[doc]) for doc, k in MIN_EXERCISES.items() if len(ex[doc]) < k}
    assert not few, f"chapters with too few exercises: {few}"
    # every exercise is the target of a solution's title link (same page or another)
    solved = set()
    for doc, divs in sol.items():
        for d in divs:
            link = d.select_one(".admonition-title a[href]")
            assert link is not None, f"{doc}: a solution does not link to its exercise"
            target = link["href"]
            target_doc = doc if target.startswith("#") else str(Path(doc).parent / target.split("#")[0])[:-5]
            solved.add((target_doc, target.split("#")[-1]))
    unsolved = [f"{doc}#{d.get('id')}" for doc, divs in ex.items() for d in divs if (doc, d.get("id")) not in solved]
    assert not unsolved, f"exercises without a solution: {unsolved}"


@pytest.mark.book
def test_solutions_ran_without_error_and_are_hidden(built):
    html, _ = built
    bad, shown = [], []
    for doc, divs in solutions(html).items():
        for d in divs:
            text = d.get_text(" ")
            if ("Traceback (most recent call last)" in text
                    or d.select('[class*="traceback"], [class*="stderr"], .output.error')):
                bad.append(f"{doc}#{d.get('id')}")
            if "dropdown" not in d.get("class", []):
                shown.append(f"{doc}#{d.get('id')}")
    assert not bad, f"solutions with error output: {bad}"
    assert not shown, f"solutions not behind a toggle (class dropdown): {shown}"


@pytest.mark.book
def test_equations_are_numbered_math_elements_and_references_resolve(built):
    html, _ = built
    few, raw, dangling = {}, [], []
    ids = {doc: {t["id"] for t in page(html, doc).select("[id]")} for doc in toc_files()}
    for doc in toc_files():
        art = article(html, doc)
        numbered = art.select('div.math[id^="equation-"]')
        if len(numbered) < MIN_EQUATIONS.get(doc, 0):
            few[doc] = len(numbered)
        # the equations are math elements whose TeX MathJax typesets in the browser (test_pages checks that);
        # outside them no TeX may remain
        for m in art.select("div.math, span.math, pre, code, script, style"):
            m.decompose()
        hit = RAW_TEX.search(art.get_text(" "))
        if hit:
            raw.append(f"{doc}: {hit.group(0)!r}")
        for a in page(html, doc).select('main a[href*="#equation-"]'):
            target, anchor = a["href"].split("#")
            target_doc = doc if not target else str(Path(doc).parent / target)[:-5]
            if anchor not in ids.get(target_doc, set()):
                dangling.append(f"{doc} -> {a['href']}")
    assert not few, f"chapters with fewer numbered equations than they compute: {few} (need {MIN_EQUATIONS})"
    assert not raw, f"raw TeX outside math elements: {raw}"
    assert not dangling, f"equation references without a target: {dangling}"


@pytest.mark.book
def test_glossary_terms_resolve(built):
    html, _ = built
    gloss = page(html, "book/glossary")
    terms = {dt["id"] for dt in gloss.select("dl.glossary dt[id]")}
    assert len(terms) >= 40, f"the glossary defines only {len(terms)} terms"
    linked, dangling = set(), []
    for doc in toc_files():
        for a in article(html, doc).select("a.reference.internal[href*='#term-']"):
            anchor = a["href"].split("#")[-1]
            linked.add(anchor)
            if anchor not in terms:
                dangling.append(f"{doc} -> {a['href']}")
    assert not dangling, f"glossary links without a term: {dangling}"
    assert len(linked) >= 30, f"the chapters link only {len(linked)} glossary terms"


# ----------------------------------------------------------------------------- no build needed
def test_page_test_fails_pages_with_raw_tex():
    """MathJax typesets in the browser, so untypeset TeX is caught by the browser test of every page."""
    from test_pages import _QA_JS

    assert "raw TeX on the page" in _QA_JS and "MathJax.startup" in _QA_JS


def test_and_join():
    assert teaching.and_join([]) == ""
    assert teaching.and_join(["A"]) == "A"
    assert teaching.and_join(["A", "B"]) == "A and B"
    assert teaching.and_join(["A", "B", "C"]) == "A, B and C"


def test_compare_word_judges_at_the_shown_precision():
    assert teaching.compare_word(8.77, 8.97, "{:.2f}".format) == "smaller"
    assert teaching.compare_word(0.9, 0.1) == "larger"
    assert teaching.compare_word(0.7412, 0.7409, "{:.2f}".format) == "the same"
    assert teaching.compare_word(1.0, 2.0, smaller="lower", larger="higher") == "lower"
    assert teaching.compare_word(None, 1.0) is None
    assert teaching.compare_word(float("nan"), 1.0) is None


def test_change_text():
    assert teaching.change_text(0.003, 0.012, "P value") == "P value rises from 0.003 to 0.012"
    assert teaching.change_text(3.10, 2.41, "HR", "{:.2f}".format) == "HR falls from 3.10 to 2.41"
    assert teaching.change_text(0.1231, 0.1229, "P", "{:.2f}".format) == "P is unchanged at 0.12"
    assert teaching.change_text(None, 0.5, "P value") == "P value is not estimable on this cohort"
    assert teaching.change_text(0.5, float("nan"), "P value") == "P value is not estimable on this cohort"
