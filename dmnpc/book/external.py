"""Tables and sentences of the external-validation chapter (the STRATOS TG6 case on public data).

Nothing here computes statistics: every number comes from :func:`dmnpc.cases.stratos.analyse`;
this module only lays them out for a page (reader-grade headers, no index, no ``nan``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from dmnpc.cases import stratos as S
from dmnpc.stats.km import kaplan_meier

__all__ = ["banner", "SET_LABELS", "fmt", "preparation_table", "casemix_table", "model_table",
           "performance_table", "comparison_table", "interval_table", "difference_text", "why_text",
           "nb_sentence", "slope_sentence", "km_by_set", "dca_frame", "ici_interval_sentence", "spread_sentence"]

SET_LABELS = {"development": "Development (Rotterdam)", "validation": "Validation (GBSG)"}

#: Decimals shown for each measure in the book's own tables.
_DIGITS = {"harrell_c": 3, "uno_c": 3, "auc_5y": 3, "oe_5y": 2, "slope": 2, "ici_5y": 4, "e50_5y": 4,
           "e90_5y": 4, "brier_5y": 3, "ipa_5y": 3, "nb_model": 3, "nb_all": 3}

#: How each 95% interval is obtained: (the case study's, the book's).
_INTERVALS = {
    "harrell_c": ("concordance variance", "the same"),
    "uno_c": ("concordance variance", "the same"),
    "auc_5y": ("timeROC standard error", "bootstrap"),
    "oe_5y": ("Poisson", "the same"),
    "slope": ("Wald", "the same"),
    "brier_5y": ("Score standard error", "bootstrap"),
    "ipa_5y": ("bootstrap, 10 resamples", "bootstrap"),
}


def banner(res: S.ExternalValidation) -> str:
    """A MyST admonition: this page's data are public breast-cancer data, not the book's cohort."""
    return (":::{admonition} Public data, not the cohort of the other chapters\n:class: note\n"
            "Every number on this page is computed on two public breast-cancer data sets shipped with the R "
            f"package survival: the Rotterdam tumour bank (n = {res.development.time.size:,}) and the German Breast "
            f"Cancer Study Group trial (n = {res.validation.time.size:,}), in `data/public/`. They are real patients' "
            "data, published for teaching and research; they are not the nasopharyngeal-carcinoma cohort the rest "
            "of the book runs on, and `DMNPC_DATA` does not change this page.\n:::")


def fmt(x: Any, digits: int) -> str:
    """A number with ``digits`` decimals (an integer when ``digits`` is 0), or 'not estimable'."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "not estimable"
    return f"{int(round(float(x))):,}" if digits == 0 else f"{float(x):.{digits}f}"


def _with_ci(v: float, ci: tuple[float, float] | None, d: int) -> str:
    if ci is None:
        return fmt(v, d)
    return f"{fmt(v, d)} ({fmt(ci[0], d)} to {fmt(ci[1], d)})"


def preparation_table(res: S.ExternalValidation) -> pd.DataFrame:
    """How each data set is prepared, step by step, as the case study's code does it."""
    cap = fmt(res.node_cap, 0)
    rows = [
        ("Patients", f"all {res.development.time.size:,}", f"all {res.validation.time.size:,}"),
        ("Outcome", f"first of relapse or death; the {res.development.n_death_time} deaths after the relapse "
                    "follow-up ended count at their date", "recurrence-free survival as recorded"),
        ("Time", "days / 365.25", "days / 365.25"),
        ("Follow-up", "censored at 5 years", "censored at 5 years"),
        ("Tumour size", "the data set's categories: 20 mm or less, 20-50 mm, over 50 mm",
         "millimetres cut at 20 and 50 into the same categories"),
        ("Positive nodes", f"capped at {cap} (99th percentile, development), spline with knots at "
                           f"{', '.join(f'{k:g}' for k in S.NODE_KNOTS)}",
         f"capped at the development's {cap}, the same spline"),
        ("Grade", "3 against 2 (no grade 1)", "3 against 1-2"),
    ]
    return pd.DataFrame(rows, columns=["Step", SET_LABELS["development"], SET_LABELS["validation"]])


def km_by_set(res: S.ExternalValidation) -> dict[str, Any]:
    """Kaplan-Meier of recurrence-free survival (5-year censored) per data set, for plots.plot_km."""
    return {SET_LABELS[p.name]: kaplan_meier(p.time, p.event) for p in (res.development, res.validation)}


def casemix_table(res: S.ExternalValidation) -> pd.DataFrame:
    """Who is in each data set: size, nodes, grade, observed and predicted 5-year risk."""
    cols = {}
    for p in (res.development, res.validation):
        perf = res.perf[p.name]
        X = p.X
        small = 1 - X["size_20_50"] - X["size_over_50"]
        cols[SET_LABELS[p.name]] = [
            f"{p.time.size:,}", f"{int(p.event.sum()):,}",
            f"{100 * perf.oe.observed:.1f}%", f"{100 * perf.oe.expected:.1f}%",
            f"{100 * small.mean():.0f}% / {100 * X['size_20_50'].mean():.0f}% / {100 * X['size_over_50'].mean():.0f}%",
            f"{100 * (X['nodes'] == 0).mean():.0f}%", f"{np.median(X['nodes']):.0f}",
            f"{100 * X['grade_3'].mean():.0f}%",
            f"{100 * perf.risk.min():.0f}% to {100 * perf.risk.max():.0f}%",
        ]
    rows = ["Patients", "Events (recurrence or death) by 5 years", "Observed 5-year risk (Kaplan-Meier)",
            "Mean predicted 5-year risk", "Tumour size 20 mm or less / 20-50 / over 50",
            "Node-negative", "Median positive nodes (capped)", "Grade 3", "Predicted 5-year risk, range"]
    return pd.DataFrame({"Characteristic": rows, **cols})


def model_table(res: S.ExternalValidation) -> pd.DataFrame:
    """The basic model's coefficients beside the case study's printed ones."""
    sm = res.fit.summary
    rows = []
    for i, t in enumerate(res.fit.terms):
        r = sm.iloc[i]
        rows.append({"Term": S.TERM_LABELS[t], "Coefficient": f"{r['coef']:.5f}",
                     "Published": f"{S.PUBLISHED_MODEL['coef'][i]:.5f}",
                     "Hazard ratio (95% CI)": f"{r['hr']:.2f} ({r['lower']:.2f} to {r['upper']:.2f})"})
    rows.append({"Term": "Baseline 5-year survival (all terms 0)", "Coefficient": f"{res.s0:.3f}",
                 "Published": f"{S.PUBLISHED_MODEL['s0_5y']:.3f}", "Hazard ratio (95% CI)": ""})
    return pd.DataFrame(rows)


def performance_table(res: S.ExternalValidation, measures: tuple[str, ...]) -> pd.DataFrame:
    """``measures`` in both data sets, each with its 95% interval, and how the interval was obtained."""
    rows = []
    for m in measures:
        row = {"Measure": S.MEASURE_LABELS[m]}
        for name, perf in res.perf.items():
            row[SET_LABELS[name]] = _with_ci(perf.values[m], perf.ci.get(m), _DIGITS[m])
        how = res.perf["validation"].ci_method.get(m, "")
        row["95% interval"] = ("bootstrap percentile" if how.startswith("percentile") else
                               "infinitesimal jackknife" if how.startswith("infinitesimal") else
                               "Poisson, from the events" if how.startswith("Poisson") else
                               "Wald" if how.startswith("Wald") else "none")
        rows.append(row)
    return pd.DataFrame(rows)


def difference_text(d: float, digits: int) -> str:
    """A measured difference for a table: '0' when exactly zero, fixed decimals or scientific when tiny."""
    if not math.isfinite(d):
        return "not comparable"
    if digits == 0 or d == 0:
        return f"{d:+.0f}" if d else "0"
    return f"{d:+.5f}" if abs(d) >= 1e-4 else f"{d:+.1e}"


def why_text(row: pd.Series) -> str:
    """Why a published and a book value differ, in two or three words (the chapter's bullets explain each)."""
    if row["kind"] == "not published":
        return "not published"
    if row["kind"] == "internal":
        return "apparent against corrected"
    if row["same_as_printed"]:
        return "same count" if int(row["digits"]) == 0 else "rounding"
    return "differs beyond rounding"


def comparison_table(res: S.ExternalValidation, name: str) -> pd.DataFrame:
    """The closing note for one data set: each measure's published value, the book's, the difference and why."""
    cmp = S.comparison(res)
    rows = []
    for _, r in cmp[cmp["data"] == name].iterrows():
        d = int(r["digits"])
        if r["kind"] == "not published":
            pub, diff, shown = "not published", "not comparable", _DIGITS.get(r["measure"], 3) + 1
        else:
            pub, diff = fmt(r["published"], d), difference_text(float(r["difference"]), d)
            shown = 0 if d == 0 else min(max(d, 3) + 2, 10)
        rows.append({"Measure": S.MEASURE_LABELS[r["measure"]], "Published": pub, "This book": fmt(r["book"], shown),
                     "Difference": diff, "Why": why_text(r)})
    return pd.DataFrame(rows)


def interval_table(res: S.ExternalValidation, name: str) -> pd.DataFrame:
    """Published 95% intervals beside the book's for one data set, with how each was obtained."""
    cmp = S.comparison(res)
    rows = []
    for _, r in cmp[cmp["data"] == name].iterrows():
        if not math.isfinite(r["lower"]):
            continue
        d = int(r["digits"])
        pub_how, book_how = _INTERVALS[r["measure"]]
        if S.PUBLISHED[r["data"]][r["measure"]].get("interval_from"):
            pub_how = "Harrell's C's variance (a slip)"
        rows.append({"Measure": S.MEASURE_LABELS[r["measure"]],
                     "Published": f"{fmt(r['lower'], d)} to {fmt(r['upper'], d)}",
                     "This book": f"{fmt(r['book_lower'], d)} to {fmt(r['book_upper'], d)}",
                     "Published from": pub_how, "Book from": book_how})
    return pd.DataFrame(rows)


def dca_frame(res: S.ExternalValidation, name: str) -> pd.DataFrame:
    """The decision curve of one data set in long format for :func:`dmnpc.book.plots.plot_decision_curve`."""
    d = res.perf[name].dca
    return pd.concat([pd.DataFrame({"threshold": d["threshold"], "strategy": label, "net_benefit": d[col]})
                      for col, label in (("nb_model", "Model"), ("nb_all", "Treat all"), ("nb_none", "Treat none"))],
                     ignore_index=True)


def nb_sentence(res: S.ExternalValidation, name: str) -> str:
    """Net benefit at the threshold in one data set, and whether the model changes any decision."""
    perf = res.perf[name]
    v = perf.values
    treated = int(np.sum(perf.risk >= S.THRESHOLD))
    n = perf.risk.size
    head = (f"In the {SET_LABELS[name].split(' (')[0].lower()} data, at a threshold of "
            f"{100 * S.THRESHOLD:.0f}% the model's net benefit is {v['nb_model']:.3f} and treat-all's "
            f"{v['nb_all']:.3f}")
    if treated == n:
        return (head + f": every one of the {n:,} patients has a predicted 5-year risk above "
                f"{100 * S.THRESHOLD:.0f}%, so the model recommends treating everybody and its net benefit is "
                "treat-all's exactly. At this threshold it changes no decision.")
    diff = v["nb_model"] - v["nb_all"]
    word = "more" if diff > 0 else "less"
    return (head + f": the model spares treatment to the {n - treated:,} of {n:,} patients whose predicted risk "
            f"is below {100 * S.THRESHOLD:.0f}%, a net benefit {abs(diff):.3f} {word} than treating all, or "
            f"{100 * abs(diff) / (S.THRESHOLD / (1 - S.THRESHOLD)):.1f} {'fewer' if diff > 0 else 'more'} "
            "unnecessary treatments per 100 patients at equal benefit.")


def slope_sentence(res: S.ExternalValidation) -> str:
    """The validation slope and what it says about the spread of the predictions."""
    v = res.perf["validation"]
    s = v.values["slope"]
    lo, hi = v.ci["slope"]
    inside = lo <= 1 <= hi
    spread = ("too extreme (overfitted)" if s < 1 else "too moderate (the validation patients' risks "
              "differ more than predicted)")
    return (f"In the validation data the calibration slope is {s:.2f} (95% CI {lo:.2f} to {hi:.2f}): "
            f"{'above' if s > 1 else 'below'} 1, which would mean predictions {spread}, but the interval "
            f"{'includes' if inside else 'excludes'} 1.")


def ici_interval_sentence(res: S.ExternalValidation) -> str:
    """Where the bootstrap intervals of the ICI lie relative to the estimates, in both data sets."""
    out = []
    for name, perf in res.perf.items():
        v = perf.values["ici_5y"]
        lo, hi = perf.ci.get("ici_5y", (float("nan"), float("nan")))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            continue
        where = ("lies entirely above it" if lo > v else
                 "lies entirely below it" if hi < v else
                 f"contains it but reaches {'further above than below' if hi - v > v - lo else 'further below than above'}")
        out.append(f"in the {name} data the ICI is {v:.4f} and its interval ({lo:.4f} to {hi:.4f}) {where}")
    text = "; ".join(out) + "."
    return text[0].upper() + text[1:] if out else ""


def spread_sentence(res: S.ExternalValidation) -> str:
    """The spread of the linear predictor in the two data sets (the case mix's effect on discrimination)."""
    sd = {p.name: float(np.std(res.fit.linear_predictor(p.X))) for p in (res.development, res.validation)}
    word = "narrower" if sd["validation"] < sd["development"] else "wider"
    return (f"The spread of the model's linear predictor is {word} in the validation data (standard deviation "
            f"{sd['validation']:.2f} against {sd['development']:.2f})")
