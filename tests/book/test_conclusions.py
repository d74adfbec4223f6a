"""Every concluding sentence of the built book says what its number says, on three cohorts.

The book is built on the twin, on a reviewer-like cohort (the twin's outcomes reshuffled) and on
a cohort where the paper's key results flip (proportional hazards hold, LRRT does not help the
high-risk cohort, and its effect differs between the risk cohorts; see ``flipped_cohort``).
For each, the expected sentence of every conclusion is derived here from the build's own
results JSON, and the page must contain it and not its opposite. A sentence written as fixed
text is right on at most one side of its threshold, so at least one cohort catches it.
"""

from __future__ import annotations

import html as _html
import json
import re
from pathlib import Path

import pytest

from dmnpc.paper.variables import OS_TERMS

pytestmark = pytest.mark.book

ALPHA = 0.05


def page_text(html: Path, chapter: str) -> str:
    """The visible text of one chapter, tags stripped and white space collapsed."""
    raw = (html / "book" / f"{chapter}.html").read_text()
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    return re.sub(r"\s+", " ", _html.unescape(re.sub(r"<[^>]+>", " ", raw)))


def _squash(s: str) -> str:
    """Text with the spaces that tags leave around punctuation removed ('P = 0.03 )' -> 'P = 0.03)')."""
    return re.sub(r"\s+([,.;:)])", r"\1", re.sub(r"([(])\s+", r"\1", s))


def expectations(r: dict) -> list[tuple[str, str, str, str | tuple[str, ...]]]:
    """(chapter, what, expected text, opposite text(s)) for every conclusion, from the results ``r``.

    ``what`` names the conclusion, then its number in brackets.
    """
    out = []
    p = r["ph_os"]["global_p"]
    if p is not None:
        yes, no = "The global test rejects proportional hazards", "The global test does not reject proportional hazards"
        out.append(("prognostic", f"PH test (P = {p:.3f})", *((yes, no) if p < ALPHA else (no, yes))))
    for c in ("high", "low"):
        hr = r[f"lrrt_in_{c}"]["hr"]
        if hr is not None and hr != 1:
            up, down = f"higher by a factor of {hr:.2f}", f"lower (hazard ratio {hr:.2f}"
            out.append(("risk", f"LRRT HR ({c}-risk cohort: {hr:.2f})", *((up, down) if hr > 1 else (down, up))))
    ps = (r["risk"]["interaction_p"], r["risk"]["interaction_p_stratified"])
    if None not in ps:
        none_, some = "Neither test rejects equal effects", "equal effects: on this cohort the hazard ratio of LRRT differs"
        out.append(("risk", f"interaction (P = {ps[0]:.3f}, {ps[1]:.3f})",
                    *((none_, some) if min(ps) >= ALPHA else (some, none_))))
    hi = r["lrrt_in_high"]
    if hi["hr"] is not None:
        yes, no = "benefit from LRRT - stands", "benefit from LRRT - does not stand"
        out.append(("intro", f"verdict: high-risk benefit (HR {hi['hr']:.2f}, P = {hi['p']:.3f})", *((yes, no) if hi["hr"] > 1 and hi["p"] < ALPHA else (no, yes))))
    ip = r["risk"]["interaction_p"]
    if ip is not None and r["lrrt_in_low"]["hr"] is not None:
        yes, no = "low-risk patients - supported", "low-risk patients - not supported"
        out.append(("intro", f"verdict: interaction (P = {ip:.3f})", *((yes, no) if ip < ALPHA else (no, yes))))
    cox_p = [r["cox_os"][t]["p"] for t in OS_TERMS]
    if None not in cox_p:
        k = sum(q < ALPHA for q in cox_p)
        yes, no = "prognostic factors for OS - stands", "prognostic factors for OS - does not stand"
        out.append(("intro", f"verdict: five factors ({k} of {len(OS_TERMS)} with P < 0.05)", *((yes, no) if k == len(OS_TERMS) else (no, yes))))
    a = r["appraisal"]
    ss = a["sample_size"]
    if ss["required_n"] is not None:
        meets, short = f"meets the minimum of {ss['required_n']}", f"of the minimum of {ss['required_n']}"
        out.append(("samplesize", f"sample size ({r['n']} vs {ss['required_n']})",
                    *((meets, short) if r["n"] >= ss["required_n"] else (short, meets))))
    if ss["required_n"] is not None:
        more, fewer = f"more than the {ss['required_n']} Riley", f"fewer than the {ss['required_n']} Riley"
        out.append(("intro", f"verdict: sample size ({r['n']} vs {ss['required_n']})",
                    *((more, fewer) if r["n"] >= ss["required_n"] else (fewer, more))))
    h, bs = a["shrinkage"]["heuristic"], a["shrinkage"]["bootstrap_slope"]
    if None not in (h, bs):
        phrases = {"below": "below 0.9: the model is overfitted", "reach": "reach 0.9: little shrinkage is needed",
                   "mixed": "the estimates disagree"}
        got = "below" if max(h, bs) < 0.9 else "reach" if min(h, bs) >= 0.9 else "mixed"
        out.append(("shrinkage", f"shrinkage ({h:.2f}, {bs:.2f})", phrases[got],
                    tuple(v for k, v in phrases.items() if k != got)))
    ac, ad = a["continuous"]["aic"], a["dichotomised"]["aic"]
    if None not in (ac, ad) and ac != ad:
        cont, dich = "The continuous model has the lower AIC", "The dichotomised model has the lower AIC"
        out.append(("continuous", f"AIC ({ac:.1f} vs {ad:.1f})", *((cont, dich) if ac < ad else (dich, cont))))
    pp, fx = a["pipeline"], a["pipeline_fixed_terms"]
    vals = (pp["c_corrected"], fx["fixed_model_c_corrected"], pp["slope_corrected"], fx["fixed_model_slope_corrected"])
    if None not in vals:
        phrases = {"both": "understates the optimism", "none": "add no measurable optimism",
                   "mixed": "the two bootstraps disagree"}
        lc, ls = vals[0] < vals[1], vals[2] < vals[3]
        got = "both" if lc and ls else "none" if not lc and not ls else "mixed"
        out.append(("pipeline", f"whole-pipeline optimism ({vals[0]:.3f}/{vals[1]:.3f}, {vals[2]:.2f}/{vals[3]:.2f})",
                    phrases[got], tuple(v for k, v in phrases.items() if k != got)))
    s_l, s_n = r["os_by_lrrt"]["surv_24_lrrt"], r["os_by_lrrt"]["surv_24_no_lrrt"]
    if None not in (s_l, s_n) and s_l != s_n:
        longer, shorter = "the LRRT arm survived longer", "the LRRT arm survived less long"
        out.append(("survival", f"selection vs gap ({s_l:.3f} vs {s_n:.3f})", *((longer, shorter) if s_l > s_n else (shorter, longer))))
    return out


def _check(html: Path) -> tuple[list[str], int]:
    r = json.loads((html / "results.json").read_text())
    failures, pages = [], {}
    exp = expectations(r)
    for chapter, what, want, opposite in exp:
        text = pages.setdefault(chapter, _squash(page_text(html, chapter)))
        if want not in text:
            failures.append(f"{chapter}: {what}: expected '{want}'")
        for o in (opposite,) if isinstance(opposite, str) else opposite:
            if o in text:
                failures.append(f"{chapter}: {what}: says the opposite, '{o}'")
    return failures, len(exp)


def test_flipped_cohort_flips(built_flipped):
    """The cohort built to flip the conclusions does flip them (else the test below proves less)."""
    r = json.loads((built_flipped / "results.json").read_text())
    assert r["ph_os"]["global_p"] >= ALPHA
    assert r["lrrt_in_high"]["hr"] < 1
    assert r["risk"]["interaction_p"] < ALPHA and r["risk"]["interaction_p_stratified"] < ALPHA
    assert r["os_by_lrrt"]["surv_24_no_lrrt"] > r["os_by_lrrt"]["surv_24_lrrt"]


@pytest.mark.parametrize("fixture", ["built", "built_other", "built_flipped"])
def test_each_conclusion_matches_its_number(fixture, request):
    built = request.getfixturevalue(fixture)
    html = built[0] if isinstance(built, tuple) else built
    failures, n = _check(html)
    assert n >= 6, f"only {n} conclusions could be checked on {fixture}"
    assert not failures, "\n".join(failures)


def test_the_cohorts_cover_both_sides_of_every_threshold(built, built_other, built_flipped):
    """Across the three cohorts, every conclusion is seen on both sides of its threshold."""
    seen: dict[str, set[str]] = {}
    for html in (built[0], built_other, built_flipped):
        for chapter, what, want, _ in expectations(json.loads((html / "results.json").read_text())):
            seen.setdefault(f"{chapter}: {what.split(' (')[0]}", set()).add(want)
    one_sided = {k: v for k, v in seen.items() if len(v) < 2}
    assert not one_sided, one_sided
