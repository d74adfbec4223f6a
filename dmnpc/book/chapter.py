"""Small helpers shared by the chapters: cohort set-up, the cohort banner, figure style.

Chapters call :func:`setup` in their hidden first cell. Nothing here computes
statistics; it only loads the chosen cohort, fixes the plotting style and
says, on every page, which cohort the numbers come from.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dmnpc.book import plots
from dmnpc.paper.contract import load_cohort
from dmnpc.paper.variables import LABELS, SEED, TERM_LABELS

# SEED is dmnpc.paper.variables.SEED, re-exported for the chapters (not a second definition).
__all__ = ["SEED", "setup", "results", "cohort_banner", "cohort_label", "md_table", "fmt_p", "p_text", "pct",
           "months", "hr_text", "hr_table", "km_curves", "compare_table", "pretty_arms", "tolerance_text",
           "not_estimable", "unavailable", "text", "result_text", "reason_table", "table_text", "verdict", "chapter_labels",
           "score_table"]


def cohort_label(df: pd.DataFrame) -> str:
    """Short name of the cohort for captions: 'synthetic twin' or the file's name."""
    if df.attrs.get("synthetic", False):
        return "synthetic twin"
    return f"cohort file {Path(str(df.attrs.get('source', 'unknown'))).name}"


def cohort_banner(df: pd.DataFrame) -> str:
    """A MyST admonition saying which cohort every number on the page comes from."""
    n = len(df)
    if df.attrs.get("synthetic", False):
        return (":::{admonition} Synthetic cohort\n:class: warning\n"
                f"Every number on this page is computed on the **synthetic twin**: {n} invented "
                "patients generated to match the aggregates Chen et al. (2024) published. It shows "
                "what the paper's analysis does, not what is true of real patients. Re-run the book "
                "on real data with `DMNPC_DATA=file make book`.\n:::")
    warnings = df.attrs.get("warnings", [])
    checks = ("\n\nPlausibility checks of the file: " + "; ".join(warnings) + ".") if warnings else ""
    return (":::{admonition} Cohort\n:class: note\n"
            f"Every number on this page is computed on the {cohort_label(df)} (n = {n}), "
            f"chosen with `DMNPC_DATA`.{checks}\n:::")


def setup() -> pd.DataFrame:
    """Load the cohort chosen by ``DMNPC_DATA`` (default: the twin) and set the figure style."""
    plots.set_style()
    return load_cohort()


_RESULTS: dict[str, dict[str, Any]] = {}


def results(df: pd.DataFrame) -> dict[str, Any]:
    """The results dictionary of this cohort (:func:`dmnpc.paper.report.compute_results`).

    Computed once per cohort and build, so every chapter's comparisons read the very numbers
    of the results JSON instead of recomputing them. Each chapter runs in its own kernel, so
    the dictionary is also kept on disk (the system's temporary folder, ``dmnpc-results/``),
    under a key that covers the cohort's every value, the ``dmnpc`` sources, the settings file,
    the lock file and the Python environment: any change to them computes it afresh. It holds
    aggregate numbers only.
    """
    import hashlib
    import json
    import os
    import sys
    import tempfile

    from dmnpc.book import buildtools
    from dmnpc.paper import report

    h = hashlib.sha256()
    h.update(buildtools.fingerprint(buildtools.PACKAGE_DIR.parent).encode())
    h.update(f"{df.attrs.get('source', '')}|{len(df)}|{list(df.columns)}".encode())
    h.update(sys.prefix.encode())  # one environment's results are never served to another (a fresh clone's venv)
    h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    key = h.hexdigest()
    if key in _RESULTS:
        return _RESULTS[key]
    folder = Path(tempfile.gettempdir()) / "dmnpc-results"
    path = folder / f"{key}.json"
    try:
        _RESULTS[key] = json.loads(path.read_text())
        return _RESULTS[key]
    except (OSError, ValueError):
        pass
    out = report.compute_results(df)
    _RESULTS[key] = json.loads(json.dumps(out, allow_nan=False))  # exactly what the disk copy will give
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(out, allow_nan=False))
        os.replace(tmp, path)
    except OSError:  # a read-only temporary folder only costs the recomputation
        pass
    return _RESULTS[key]


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, (float, np.floating)) and math.isnan(x))


def _plain(reason: str) -> str:
    """A reason in the reader's words: a Python list of codes (``['multiple_lesions']``) becomes their labels."""
    import re

    def labels(m) -> str:
        codes = re.findall(r"'([^']*)'", m.group(0))
        return ", ".join(LABELS.get(c) or TERM_LABELS.get(c, c) for c in codes)

    return re.sub(r"\[\s*'[^'\]]*'(?:\s*,\s*'[^'\]]*')*\s*\]", labels, str(reason))


def not_estimable(reason: str) -> str:
    """The words a page prints in place of a number, table or figure a cohort does not allow."""
    return f"not estimable: {_plain(reason)}" if reason else "not estimable"


def unavailable(what: str, reason: str) -> str:
    """A MyST note saying that ``what`` cannot be estimated on this cohort, and why."""
    return (":::{admonition} Not estimable on this cohort\n:class: note\n"
            f"{what} cannot be estimated: {_plain(reason)}.\n:::")


def result_text(results: dict[str, Any], key: str, fmt=str) -> str:
    """``fmt`` of the results-JSON value at dotted ``key``, or "not estimable: reason" from its ``notes``."""
    from dmnpc.paper.fidelity import lookup

    v = lookup(results, key)
    return not_estimable(results.get("notes", {}).get(key, "")) if v is None else fmt(v)


def reason_table(reason: str) -> str:
    """A one-cell Markdown table saying why a table is not estimable (keeps the numbered table and its label)."""
    return pd.DataFrame({"Not estimable on this cohort": [_plain(reason)]}).to_markdown(index=False)


def table_text(est: Any, fmt) -> str:
    """``fmt(est.value)`` (a Markdown table) for an estimated value, else :func:`reason_table`."""
    return fmt(est.value) if est.ok else reason_table(est.reason)


def text(est: Any, fmt=str) -> str:
    """``fmt(est.value)`` for an estimated :class:`dmnpc.paper.analysis.Estimate`, else "not estimable: reason"."""
    return fmt(est.value) if est.ok else not_estimable(est.reason)


def pct(x: float | None, digits: int = 1) -> str:
    """A proportion as a percentage for prose ('65.4%'); 'not estimable' when NaN/None."""
    return "not estimable" if _missing(x) else f"{100 * float(x):.{digits}f}%"


def months(x: float | None) -> str:
    """A time in months for prose ('29.4 months'); 'not reached' when NaN/None (a median)."""
    return "not reached" if _missing(x) else f"{float(x):.1f} months"


def _hr_ok(r: Any) -> bool:
    return all(np.isfinite(float(r[k])) for k in ("hr", "lower", "upper"))


def hr_text(r: Any, p: bool = True) -> str:
    """'2.47 (95% CI 1.01 to 6.00, P = 0.047)' from a record with hr, lower, upper, p."""
    if _missing(r["hr"]):
        return "not estimable"
    tail = f", {p_text(r['p'])}" if p else ""
    return f"{float(r['hr']):.2f} (95% CI {float(r['lower']):.2f} to {float(r['upper']):.2f}{tail})"


def hr_table(summary: pd.DataFrame) -> pd.DataFrame:
    """HR (95% CI) and P per term of a Cox summary, for display; a term that cannot be estimated says why."""
    rows = []
    for r in summary.to_dict("records"):
        note = r.get("note") if isinstance(r.get("note"), str) else ""
        ok = _hr_ok(r) and not note
        flag = r.get("flag") if isinstance(r.get("flag"), str) else ""
        note = note or flag
        row = {"Term": TERM_LABELS.get(r["term"], r["term"]),
               "HR (95% CI)": f"{r['hr']:.2f} ({r['lower']:.2f} to {r['upper']:.2f})" if ok else "not estimable",
               "P": fmt_p(r["p"]) if ok else ""}
        if "n" in r:
            row.update({"n": int(r["n"]), "Events": int(r["n_events"])})
        row["Note"] = note
        rows.append(row)
    out = pd.DataFrame(rows)
    return out if (out["Note"] != "").any() else out.drop(columns="Note")


def km_curves(by: dict[str, Any]) -> dict[str, Any]:
    """Display label -> Kaplan-Meier fit of a :func:`dmnpc.paper.analysis.km_by` result (for plots.plot_km).

    A group without patients (not estimable) has no curve.
    """
    return {LABELS.get(code, code): g.value["km"] for code, g in by["groups"].items() if g.ok}


def md_table(df: pd.DataFrame, index: bool = False, floatfmt: str = "g", numparse: bool = True) -> str:
    """A DataFrame as a Markdown table (for ``{glue:md}`` inside a numbered ``{table}``).

    ``numparse=False`` keeps already formatted text as written ('0.70' stays '0.70').
    """
    return df.to_markdown(index=index, floatfmt=floatfmt, disable_numparse=not numparse)


def p_text(p: float | None) -> str:
    """'P = 0.003' or 'P < 0.001', for prose; 'P not estimable' when missing."""
    if _missing(p):
        return "P not estimable"
    f = fmt_p(p)
    return f"P {f}" if f.startswith("<") else f"P = {f}"


def fmt_p(p: float) -> str:
    """Format a P value as clinical papers do: three decimals, '< 0.001' below that."""
    if _missing(p):
        return "not estimable"
    p = float(p)
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def tolerance_text(rule: str, tol: float, kind: str) -> str:
    """A declared tolerance in words (for tables)."""
    if rule == "exact":
        return "exact"
    if rule == "abs":
        if kind == "proportion":
            return f"± {100 * tol:.1f} points"
        return f"± {tol:g} months" if kind in ("median", "followup") else f"± {tol:g}"
    if rule == "rel":
        return f"± {100 * tol:.0f}%"
    if rule == "log10_ratio_same_side":
        return f"same side of 0.05, within ×{10 ** tol:.2f}"
    if rule == "ge":
        return "≥ published"
    if rule == "lt":
        return "< published"
    if rule == "gt":
        return "> published"
    return rule


def compare_table(results: dict[str, Any], keys: list[str]) -> pd.DataFrame:
    """Published numbers beside this cohort's, with the verdict under the declared tolerance.

    Parameters
    ----------
    results : dict
        The cohort's results dictionary (:func:`results`).
    keys : list of str
        Keys of :func:`dmnpc.paper.published.numbers`; each row's label is the number's
        ``label`` in ``published.yaml`` and its value is read from ``results`` at the key
        (:func:`dmnpc.paper.fidelity.lookup`), None when not estimable (a median not reached).

    Returns
    -------
    pandas.DataFrame
        Columns ``Quantity``, ``Published``, ``This cohort``, ``Tolerance``,
        ``Reproduced`` ("yes", "**no**", or "not estimable").
    """
    from dmnpc.paper import fidelity, published

    pub = published.numbers().set_index("key")
    rows = []
    for key in keys:
        rec = pub.loc[key]
        label = str(rec["label"])
        value = fidelity.lookup(results, key)
        kind = str(rec["kind"])
        rule = str(rec["tolerance_rule"])
        if _missing(value):
            ok, shown = "**no**: not estimable", not_estimable(results.get("notes", {}).get(key, ""))
        else:
            ok = "yes" if published.within_tolerance(key, float(value)) else "**no**"
            shown = fidelity.format_value(kind, value)
        rows.append({"Quantity": label, "Published": fidelity.format_published(kind, rule, rec["value"]),
                     "This cohort": shown, "Tolerance": tolerance_text(rule, float(rec["tolerance"]), kind),
                     "Reproduced": ok})
    return pd.DataFrame(rows)


#: Display names of the arm columns of :func:`dmnpc.paper.tables.wide_table`.
ARM_NAMES = {code: f"{LABELS[code]}, n (%)" for code in ("lrrt", "no_lrrt")}


def pretty_arms(wide: pd.DataFrame) -> pd.DataFrame:
    """Rename the arm columns of a wide baseline table for display ('low lrrt' -> 'Low risk: LRRT, n (%)')."""
    ren = {}
    for c in wide.columns:
        parts = str(c).split(" ")
        if parts[-1] in ARM_NAMES:
            prefix = " ".join(parts[:-1])
            ren[c] = (f"{LABELS.get(prefix, prefix)}: " if prefix else "") + ARM_NAMES[parts[-1]]
        elif len(parts) == 2 and parts[1] == "P":
            ren[c] = f"{LABELS.get(parts[0], parts[0])}: P"
    return wide.rename(columns=ren).fillna("")


def _note(notes: dict[str, str], *prefixes: str) -> str:
    """The first reason noted for a key equal to, or under, one of ``prefixes``."""
    for pre in prefixes:
        for k, v in notes.items():
            if k == pre or k.startswith(pre + "."):
                return v
    return ""


def _are(n: int) -> str:
    return "is" if n == 1 else "are"


def _claim(results: dict[str, Any], key: str) -> dict[str, Any] | None:
    """An HR record of the results, or None when it is not estimable."""
    from dmnpc.paper.fidelity import lookup

    rec = lookup(results, key)
    if not isinstance(rec, dict) or any(_missing(rec.get(k)) for k in ("hr", "lower", "upper", "p")):
        return None
    return rec


def verdict(results: dict[str, Any]) -> list[str]:
    """The book's verdict in brief, one Markdown sentence per finding, each generated from its number.

    Reads the cohort's results dictionary (:func:`results`), the fidelity table of every published
    number (:mod:`dmnpc.paper.fidelity`) and the audit of the published tables
    (:mod:`dmnpc.paper.audit`, the same on every cohort). Each sentence links to the chapter that
    shows the evidence; a number the cohort does not allow says "not estimable" and why.
    """
    from dmnpc.paper import audit, fidelity, published
    from dmnpc.paper.variables import OS_TERMS

    notes = results.get("notes", {})
    out = []
    fs = fidelity.summary(fidelity.fidelity(results))
    out.append(f"**Reproduction.** Of the {fs['compared']} published numbers a cohort can be compared on, "
               f"{fs['within']} are within the tolerance declared before any cohort was analysed and "
               f"{fs['missed']} {_are(fs['missed'])} not ({{ref}}`reproduction`).")
    checks = audit.audit_counts()
    mc = audit.p_value_match_counts()
    out.append(f"**Audit of the published tables.** {int((~checks['ok']).sum())} of {len(checks)} arithmetic and "
               f"wording checks fail; of the {mc['n']} printed P values of Tables 1 and 2, {mc['fisher']} are "
               f"Fisher's exact test and {mc['chi2']} the chi-square test the Methods name ({{ref}}`audit`).")
    # claim 1: five independent prognostic factors for OS
    ps = [results.get("cox_os", {}).get(t, {}).get("p") for t in OS_TERMS]
    known = [p for p in ps if not _missing(p)]
    if known:
        k = sum(p < 0.05 for p in known)
        word = "stands" if k == len(OS_TERMS) else "does not stand"
        out.append(f"**Claim: five independent prognostic factors for OS** - {word} on this cohort: {k} of "
                   f"{len(OS_TERMS)} factors have P < 0.05 in the multivariable Cox model ({{ref}}`prognostic`).")
    else:
        out.append("**Claim: five independent prognostic factors for OS** - "
                   f"{not_estimable(_note(notes, 'cox_os'))} ({{ref}}`prognostic`).")
    # claim 2: the nomogram's C-index
    c = results.get("nomogram", {}).get("c_index")
    pub = published.numbers().set_index("key")["value"]
    if _missing(c):
        out.append(f"**Claim: the nomogram discriminates well (C-index {pub['nomogram.c_index']:.3f})** - "
                   f"{not_estimable(_note(notes, 'nomogram.c_index', 'nomogram'))} ({{ref}}`validation`).")
    else:
        same = published.within_tolerance("nomogram.c_index", float(c))
        out.append(f"**Claim: the nomogram discriminates well (C-index {pub['nomogram.c_index']:.3f})** - "
                   f"{'reproduced' if same else 'not reproduced'}: the C-index on this cohort is {float(c):.3f}, "
                   "measured on the very patients the model was fitted to, so it is optimistic "
                   "({ref}`validation` corrects it by the bootstrap).")
    # claim 3: LRRT helps high-risk patients, not low-risk ones
    hi, lo = _claim(results, "lrrt_in_high"), _claim(results, "lrrt_in_low")
    if hi is None:
        out.append("**Claim: high-risk patients benefit from LRRT** - "
                   f"{not_estimable(_note(notes, 'lrrt_in_high'))} ({{ref}}`risk`).")
    else:
        word = "stands" if hi["hr"] > 1 and hi["p"] < 0.05 else "does not stand"
        out.append(f"**Claim: high-risk patients benefit from LRRT** - {word} as a comparison: the hazard ratio of death "
                   f"without against with LRRT in the high-risk cohort is {hr_text(hi)} ({{ref}}`risk`). It compares patients "
                   "chosen for radiotherapy with those who were not, so it is not a treatment effect "
                   "({ref}`survival`).")
    ip = results.get("risk", {}).get("interaction_p")
    if lo is None or _missing(ip):
        out.append("**Claim: LRRT matters in high-risk but not in low-risk patients** - "
                   f"{not_estimable(_note(notes, 'risk.interaction_p', 'lrrt_in_low'))} ({{ref}}`risk`).")
    else:
        word = "not supported" if ip >= 0.05 else "supported"
        out.append(f"**Claim: LRRT matters in high-risk but not in low-risk patients** - {word}: in the low-risk "
                   f"cohort the hazard ratio is {hr_text(lo)}, and the test of whether the effect differs "
                   f"between the risk groups (interaction) gives {p_text(ip)} ({{ref}}`risk`).")
    out += _appraisal_verdict(results)
    return out


def _appraisal_verdict(results: dict[str, Any]) -> list[str]:
    """The appraisal parts in brief: optimism of the whole procedure, sample size, confounding, the simulation."""
    ap = results.get("appraisal", {})
    notes = results.get("notes", {})
    out = []
    pp, ss = ap.get("pipeline", {}), ap.get("sample_size", {})
    c, cc = results.get("nomogram", {}).get("c_index"), pp.get("c_corrected")
    if _missing(c) or _missing(cc):
        out.append(f"**Appraisal of the model** - {not_estimable(_note(notes, 'appraisal.pipeline', 'nomogram'))} "
                   "({ref}`pipeline`).")
    else:
        size = ""
        if not _missing(ss.get("required_n")):
            n, req = results.get("n"), ss["required_n"]
            size = (f"; the cohort has {n} patients, {'more than' if n >= req else 'fewer than'} the {req} "
                    "Riley et al.'s criteria ask for ({ref}`samplesize`)")
        out.append(f"**Appraisal of the model** - repeating the whole development procedure in bootstrap samples "
                   f"corrects the C-index of the procedure's own model to {float(cc):.3f} (the nomogram's apparent "
                   f"C is {float(c):.3f}; {{ref}}`pipeline`){size}.")
    w = ap.get("iptw", {})
    sim = ap.get("simulation", {}).get("scenarios", {}).get("observed-1.0")
    parts = []
    if not _missing(w.get("hr")):
        parts.append(f"weighted for the measured confounders, the HR of death without vs with LRRT is "
                     f"{hr_text(w)} ({{ref}}`confounding`)")
    if sim and not _missing(sim.get("pattern_rate")):
        parts.append(f"in simulated studies of this size where LRRT has no effect, the paper's subgroup pattern "
                     f"appears in {100 * float(sim['pattern_rate']):.0f}% ({{ref}}`roulette`)")
    if parts:
        out.append("**Appraisal of the LRRT claim** - " + "; ".join(parts) + ".")
    out.append("**Overall** - the PROBAST rating and the TRIPOD+AI checklist are in {ref}`verdict`.")
    return out


def score_table(scored: pd.DataFrame, terms: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """One scored patient (a row of :func:`dmnpc.stats.nomogram.score`) as a labelled table for display.

    A row per factor (its label, whether the patient has the adverse level, the points), then the
    total points, the linear predictor and the predicted survival at each horizon in the scores.
    """
    r = scored.iloc[0]
    rows = [{"Factor": TERM_LABELS.get(t, t), "Adverse level": "yes" if r[f"points_{t}"] > 0 else "no",
             "Points": f"{r[f'points_{t}']:.1f}"} for t in terms]
    rows.append({"Factor": "Total points", "Adverse level": "", "Points": f"{r['total_points']:.1f}"})
    rows.append({"Factor": "Linear predictor", "Adverse level": "", "Points": f"{r['lp']:.3f}"})
    for c in scored.columns:
        if c.startswith("surv_"):
            rows.append({"Factor": f"Predicted {c[5:]}-month overall survival", "Adverse level": "",
                         "Points": pct(r[c])})
    return pd.DataFrame(rows)


def chapter_labels(book_dir: str | Path | None = None) -> set[str]:
    """The ``(label)=`` targets of the chapters in ``book/`` (to link only to pages that exist)."""
    import re

    folder = Path(book_dir) if book_dir is not None else Path(__file__).resolve().parents[2] / "book"
    out: set[str] = set()
    for f in folder.glob("*.md"):
        out |= set(re.findall(r"^\(([A-Za-z0-9_-]+)\)=\s*$", f.read_text(), flags=re.M))
    return out
