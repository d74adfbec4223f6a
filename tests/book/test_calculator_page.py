"""The calculator on the built Nomogram page, driven in Debian's Chromium with Playwright.

On the book built on the twin (with marker ids) and on another cohort (the suite's ``built`` and
``built_other``: no extra build):

* every one of the 32 covariate patterns and 200 random patients is typed into the form; the
  numbers the page displays (each carries its full value in ``data-value``, its text is that value
  rounded) and ``window.dmnpcCalculator.predict`` must be equal, agree with ``dmnpc`` (Python) to
  1e-9 and with R's ``survfit.coxph`` (``tests/reference/calculator.json``) to 1e-6;
* bad inputs (empty, negative, text, decimal cycles, extreme values) get their message next to the
  field, and no stale result stays on screen;
* the page opened from ``file://`` with the network off makes no request beyond its own files and
  gives the same numbers;
* every input has a label, Tab reaches every control in order, axe-core reports no serious or
  critical violation, and at phone width nothing scrolls sideways.

Screenshots and the measured agreement are written to the session's temporary folder
(``.../calculator-page/``; the path is printed) for the record.

Chromium is Debian's (``executable_path``; Playwright downloads no browser); the tests skip
when it or Playwright is missing.
"""

from __future__ import annotations

import functools
import json
import math
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from calculator_cases import all_patterns, pattern_index, pattern_of, pattern_patient, random_patients
from dmnpc.paper import calculator, contract
from dmnpc.paper.variables import OS_TERMS

pytestmark = pytest.mark.book

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HERE = Path(__file__).resolve().parents[1]
REF = json.loads((HERE / "reference" / "calculator.json").read_text())
PAGE = "book/nomogram.html"
KEYS = ("surv_12", "surv_12_lower", "surv_12_upper", "surv_24", "surv_24_lower", "surv_24_upper")
PY_TOL, R_TOL = 1e-9, 1e-6

needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")


# --------------------------------------------------------------------------- browser plumbing
@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def record(tmp_path_factory) -> Path:
    out = tmp_path_factory.getbasetemp() / "calculator-page"
    out.mkdir(exist_ok=True)
    print(f"\ncalculator page: screenshots and agreement in {out}")
    return out


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(html: Path):
    handler = functools.partial(_Quiet, directory=str(html))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def open_page(browser, url: str, *, offline: bool = False, width: int = 1280):
    ctx = browser.new_context(viewport={"width": width, "height": 900}, offline=offline)
    page = ctx.new_page()
    errors: list[str] = []
    requests: list[str] = []
    # errors of this script only: the theme's own scripts log some on every page (sphinx-thebe's
    # THEBE_JS_URL declared twice, the theme-mode reset), which are not the calculator's to fix
    page.on("pageerror", lambda e: errors.append(f"{e.message} {e.stack}") if "dmnpc" in f"{e.message} {e.stack}"
            else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "dmnpc" in
            f"{m.text} {m.location.get('url', '')}" else None)
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url, wait_until="load")
    page.wait_for_selector("#dmnpc-calculator[data-ready]", timeout=15000)
    page.errors, page.requests = errors, requests
    return ctx, page


def cohort_of(html: Path) -> Path:
    """The cohort file a suite build ran on (conftest writes it beside the build)."""
    files = [p for p in html.parents[1].glob("*.csv")]
    assert len(files) == 1, files
    return files[0]


# --------------------------------------------------------------------------- typing and reading
def type_patient(page, patient: dict, keystrokes: bool = False) -> None:
    for name in ("age", "ebv_dna", "chemo_cycles", "immuno_cycles"):
        box = page.locator(f"#dmnpc-in-{name}")
        text = _text(patient[name])
        if keystrokes:
            box.fill("")
            box.press_sequentially(text)
        else:
            box.fill(text)
    page.check(f"#dmnpc-in-met_lesions-{patient['met_lesions']}")


def _text(v) -> str:
    """A value as a reader types it (no trailing .0 on whole numbers)."""
    return str(int(v)) if isinstance(v, float) and v.is_integer() and abs(v) < 1e15 else str(v)


_READ = """() => {
  const out = {points: {}, warnings: []};
  const num = id => { const e = document.getElementById(id); return e ? [Number(e.dataset.value), e.textContent] : null; };
  const tp = num("dmnpc-out-total_points");
  if (!tp) return null;
  out.total_points = tp[0]; out.texts = {total_points: tp[1]};
  for (const t of window.dmnpcCalculator.model.terms) {
    const v = num("dmnpc-out-points-" + t.name); out.points[t.name] = v[0]; out.texts["points_" + t.name] = v[1];
  }
  for (const k of %s) { const v = num("dmnpc-out-" + k); out[k] = v[0]; out.texts[k] = v[1]; }
  out.risk_group = document.getElementById("dmnpc-out-risk_group").dataset.value;
  document.querySelectorAll("#dmnpc-calc-warnings li").forEach(li => out.warnings.push(li.textContent));
  return out;
}""" % json.dumps(list(KEYS))


def read_display(page) -> dict | None:
    return page.evaluate(_READ)


def page_predict(page, patient: dict) -> dict:
    return page.evaluate("p => window.dmnpcCalculator.predict(p)", {k: _text(v) for k, v in patient.items()})


def check_texts(shown: dict) -> None:
    """Each displayed text is its data-value rounded as the page says (1 decimal; percent for survival)."""
    assert shown["texts"]["total_points"] == f"{shown['total_points']:.1f}"
    for t in OS_TERMS:
        assert shown["texts"][f"points_{t}"] == f"{shown['points'][t]:.1f}"
    for k in KEYS:
        assert shown["texts"][k] == f"{100 * shown[k]:.1f}%"


def agreement(page, calc: calculator.Calculator, r_cohort: str, patients: list[dict], keystrokes: int = 0) -> dict:
    """Type every patient; compare display, predict(), Python and R. Returns the largest differences."""
    worst = {"display_vs_predict": 0.0, "vs_python": 0.0, "vs_r": 0.0}
    for i, patient in enumerate(patients):
        type_patient(page, patient, keystrokes=i < keystrokes)
        shown = read_display(page)
        assert shown is not None, f"no result shown for {patient}"
        check_texts(shown)
        api = page_predict(page, patient)
        py = calc.predict(patient)
        assert shown["risk_group"] == api["risk_group"] == py["risk_group"], patient
        assert shown["warnings"] == api["warnings"] == py["warnings"], (patient, shown["warnings"], py["warnings"])
        pat = pattern_of(patient, {k: float(getattr(calc.cutoffs, k)) for k in
                                   ("age", "ebv_dna", "chemo_cycles", "immuno_cycles")})
        ref = REF["cohorts"][r_cohort]
        for key in ("total_points", *(f"points.{t}" for t in OS_TERMS), *KEYS):
            get = (lambda d: d["points"][key[7:]]) if key.startswith("points.") else (lambda d: d[key])
            worst["display_vs_predict"] = max(worst["display_vs_predict"], abs(get(shown) - get(api)))
            worst["vs_python"] = max(worst["vs_python"], abs(get(api) - get(py)))
            if key in KEYS:
                t, _, bound = key.removeprefix("surv_").partition("_")
                r = ref[f"t{t}"][{"": "surv", "lower": "lower", "upper": "upper"}[bound]][pattern_index(pat)]
                worst["vs_r"] = max(worst["vs_r"], abs(get(api) - r))
    assert worst["display_vs_predict"] == 0.0, worst
    assert worst["vs_python"] < PY_TOL, worst
    assert worst["vs_r"] < R_TOL, worst
    return worst


def cases() -> list[dict]:
    return [pattern_patient(p) for p in all_patterns()] + random_patients()


# --------------------------------------------------------------------------- the checks
def check_agreement(browser, html: Path, cohort: Path, r_cohort: str, record: Path, tag: str) -> dict:
    calc = calculator.Calculator(contract.load_cohort(cohort))
    httpd, base = serve(html)
    try:
        ctx, page = open_page(browser, f"{base}/{PAGE}")
        patients = cases()
        worst = agreement(page, calc, r_cohort, patients, keystrokes=10)
        page.locator("#dmnpc-calculator").screenshot(path=str(record / f"calculator-{tag}.png"))
        assert not page.errors, page.errors
        ctx.close()
    finally:
        httpd.shutdown()
    worst["patients"] = len(patients)
    (record / f"agreement-{tag}.json").write_text(json.dumps(worst, indent=1))
    print(f"{tag}: {len(patients)} patients; display = predict() exactly; |page - dmnpc| <= {worst['vs_python']:.1e}; "
          f"|page - survfit.coxph| <= {worst['vs_r']:.1e}")
    return worst


@needs_browser
def test_twin_page_matches_python_and_r(browser, built, record):
    html, _ = built
    check_agreement(browser, html, cohort_of(html), "twin", record, "twin")


@needs_browser
def test_other_cohort_page_matches_python_and_r(browser, built_other, record):
    check_agreement(browser, built_other, cohort_of(built_other), "other", record, "other")


GOOD = {"age": 56, "ebv_dna": 120000, "met_lesions": "multiple", "chemo_cycles": 4, "immuno_cycles": 10}
BAD = [  # field, typed text, message expected next to the field
    ("age", "", "Enter the age (years)."),
    ("age", "-3", "The age cannot be negative."),
    ("age", "sixty", "The age must be a number of years."),
    ("age", "150", "The age must be at most 120 years (the data contract's range)."),
    ("ebv_dna", "", "Enter the EBV DNA (copies/mL)."),
    ("ebv_dna", "-100", "The EBV DNA cannot be negative."),
    ("ebv_dna", "12 000", "The EBV DNA must be a number of copies/mL."),
    ("ebv_dna", "12,00", "The EBV DNA must be a number of copies/mL."),
    ("chemo_cycles", "4.5", "The cycles of chemotherapy must be a whole number of cycles."),
    ("chemo_cycles", "0", "The cycles of chemotherapy must be at least 1"),
    ("chemo_cycles", "abc", "The cycles of chemotherapy must be a number of cycles."),
    ("immuno_cycles", "250", "The cycles of immunotherapy must be at most 100 cycles"),
    ("immuno_cycles", "-1", "The cycles of immunotherapy cannot be negative."),
    ("immuno_cycles", "", "Enter the cycles of immunotherapy (cycles)."),
]


def check_bad_inputs(page) -> None:
    for field, text, message in BAD:
        type_patient(page, GOOD)
        assert read_display(page) is not None
        page.fill(f"#dmnpc-in-{field}", text)
        err = page.locator(f"#dmnpc-in-{field}-error").inner_text()
        assert message in err, (field, text, err)
        assert page.get_attribute(f"#dmnpc-in-{field}", "aria-invalid") == "true"
        assert read_display(page) is None, f"a stale result stays on screen after {field} = {text!r}"
        assert page.locator(".dmnpc-nomo-mark[visibility=visible]").count() == 0
        assert "No prediction" in page.locator("#dmnpc-calc-results").inner_text()
        # predict() refuses the same input with the same message
        msg = page.evaluate("p => { try { window.dmnpcCalculator.predict(p); return ''; } "
                            "catch (e) { return e.problems[Object.keys(e.problems)[0]]; } }", {**GOOD, field: text})
        assert msg == err
        with pytest.raises(calculator.PatientError) as py_err:
            calculator.check_patient({**GOOD, field: text})
        assert py_err.value.problems[field] == err
    # extreme values that are possible: accepted, with a warning per input outside the data
    type_patient(page, {**GOOD, "age": 101, "ebv_dna": 5e9, "immuno_cycles": 90})
    shown = read_display(page)
    assert shown is not None and len(shown["warnings"]) == 3
    assert all("outside the range of the development data" in w for w in shown["warnings"])
    # EBV DNA with thousands grouped as the hints print them reads as the plain number
    type_patient(page, GOOD)
    plain = read_display(page)
    page.fill("#dmnpc-in-ebv_dna", "120,000")
    assert read_display(page) == plain
    # no lesion level chosen yet: no result, the prompt, and no error shouted at an untouched field
    page.locator("button", has_text="Clear").click()
    for name in ("age", "ebv_dna", "chemo_cycles", "immuno_cycles"):
        page.fill(f"#dmnpc-in-{name}", _text(GOOD[name]))
    assert read_display(page) is None
    assert "Enter all five values" in page.locator("#dmnpc-calc-results").inner_text()
    assert page.locator("#dmnpc-in-met_lesions-error").inner_text() == ""


@needs_browser
def test_bad_inputs_get_their_message_and_no_stale_result(browser, built):
    html, _ = built
    httpd, base = serve(html)
    try:
        ctx, page = open_page(browser, f"{base}/{PAGE}")
        check_bad_inputs(page)
        assert not page.errors, page.errors
        ctx.close()
    finally:
        httpd.shutdown()


def check_offline(browser, html: Path, cohort: Path, r_cohort: str, record: Path) -> None:
    ctx, page = open_page(browser, (html / PAGE).resolve().as_uri(), offline=True)
    assert not [u for u in page.requests if not u.startswith(("file:", "data:", "blob:"))], page.requests
    calc = calculator.Calculator(contract.load_cohort(cohort))
    agreement(page, calc, r_cohort, [pattern_patient(p) for p in all_patterns()])
    href = page.get_attribute("#dmnpc-calc-download", "href")
    assert href.startswith("blob:")
    with page.expect_download() as dl:
        page.click("#dmnpc-calc-download")
    doc = json.loads(Path(dl.value.path()).read_text())
    assert doc == calc.document() or _close(doc, json.loads(json.dumps(calc.document())))
    assert not [u for u in page.requests if not u.startswith(("file:", "data:", "blob:"))], page.requests
    page.screenshot(path=str(record / "nomogram-page-offline.png"), full_page=False)
    assert not page.errors, page.errors
    ctx.close()


def _close(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-12)
    return a == b


@needs_browser
def test_works_from_file_with_the_network_off(browser, built, record):
    html, _ = built
    check_offline(browser, html, cohort_of(html), "twin", record)


def overlapping_texts(page) -> list[str]:
    """Pairs of texts of the calculator's nomogram drawing whose boxes overlap."""
    return page.evaluate("""() => {
      const texts = Array.from(document.querySelectorAll('svg.dmnpc-nomogram text')).filter(t => t.textContent);
      const out = [];
      for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i].getBBox(), b = texts[j].getBBox();
        if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height)
          out.push(texts[i].textContent + " / " + texts[j].textContent);
      }
      return out; }""")


def check_accessibility(browser, html: Path, record: Path) -> list:
    axe_mod = pytest.importorskip("axe_playwright_python.sync_playwright")
    httpd, base = serve(html)
    try:
        ctx, page = open_page(browser, f"{base}/{PAGE}")
        # every control has a label
        unlabeled = page.evaluate("""() => Array.from(document.querySelectorAll('#dmnpc-calculator input, '
            + '#dmnpc-calculator button')).filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
            && !(e.tagName === 'BUTTON' && e.textContent.trim())).map(e => e.id || e.name)""")
        assert not unlabeled, unlabeled
        # Tab reaches every control, in the form's order (a radio group is one stop)
        page.focus("#dmnpc-in-age")
        seen = []
        for _ in range(12):
            seen.append(page.evaluate("() => document.activeElement.id || document.activeElement.textContent.trim()"))
            page.keyboard.press("Tab")
        expected = ["dmnpc-in-age", "dmnpc-in-ebv_dna", "dmnpc-in-met_lesions-single", "dmnpc-in-chemo_cycles",
                    "dmnpc-in-immuno_cycles", "Clear", "dmnpc-calc-download"]
        assert seen[:len(expected)] == expected, seen
        # the radio group is operable from the keyboard
        page.focus("#dmnpc-in-met_lesions-single")
        page.keyboard.press("ArrowRight")
        assert page.is_checked("#dmnpc-in-met_lesions-multiple")
        # the live region reads the result
        type_patient(page, GOOD)
        status = page.locator("#dmnpc-calc-status")
        assert status.get_attribute("aria-live") == "polite"
        page.wait_for_function("() => document.getElementById('dmnpc-calc-status').textContent.includes('Total points')")
        assert not overlapping_texts(page)
        # axe-core on the whole chapter: with a result, and with an error on screen
        found = []
        for state in ("result", "error"):
            if state == "error":
                page.fill("#dmnpc-in-age", "-3")
            res = axe_mod.Axe().run(page)
            bad = [v for v in res.response["violations"] if v.get("impact") in ("serious", "critical")]
            found += [(state, v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in bad]
            (record / f"axe-{state}.json").write_text(json.dumps(
                {"violations": [(v["id"], v.get("impact"), len(v["nodes"])) for v in res.response["violations"]],
                 "passes": len(res.response["passes"])}, indent=1))
        assert not found, found
        ctx.close()
        # phone width: nothing scrolls sideways, the calculator fits, the result still shows
        ctx, page = open_page(browser, f"{base}/{PAGE}", width=375)
        type_patient(page, GOOD)
        assert read_display(page) is not None
        wide = page.evaluate("""() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,
            document.getElementById('dmnpc-calculator').getBoundingClientRect().right]""")
        assert wide[0] <= wide[1] + 1 and wide[2] <= wide[1] + 1, wide
        assert not overlapping_texts(page)
        page.locator("#dmnpc-calculator").screenshot(path=str(record / "calculator-phone.png"))
        ctx.close()
    finally:
        httpd.shutdown()
    return found


@needs_browser
def test_keyboard_screen_reader_and_phone(browser, built, record):
    html, _ = built
    check_accessibility(browser, html, record)


def test_no_calculator_without_a_model(built_no_model):
    """A cohort on which the model cannot be fitted: the page says so; the script stays quiet."""
    page_html = (built_no_model / PAGE).read_text()
    assert "The calculator cannot be estimated" in page_html and 'id="dmnpc-model"' not in page_html
