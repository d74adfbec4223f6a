"""The external-validation chapter's tables, sentences and figures (dmnpc.book.external, plots): reader-grade
and true to their numbers. Quick: no book build."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from dmnpc.book import external as X
from dmnpc.book import plots
from dmnpc.cases import stratos as S

SNAKE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)+$")


@pytest.fixture(scope="module")
def res():
    return S.analyse(n_boot=20)


def _reader_grade(df):
    assert list(df.columns) and not any(SNAKE.match(str(c)) for c in df.columns), list(df.columns)
    cells = df.astype(str).to_numpy().ravel()
    assert not any(c.strip() in {"nan", "NaN", "None", "<NA>", "inf"} for c in cells)
    assert not any("nan" in c.split() for c in cells)


def test_tables_are_reader_grade(res):
    tables = [X.preparation_table(res), X.casemix_table(res), X.model_table(res), X.comparison_table(res, "development"),
              X.comparison_table(res, "validation"), X.interval_table(res, "development"),
              X.interval_table(res, "validation"), X.performance_table(res, ("harrell_c", "uno_c", "auc_5y")),
              X.performance_table(res, ("oe_5y", "slope", "ici_5y", "e50_5y", "e90_5y")),
              X.performance_table(res, ("brier_5y", "ipa_5y"))]
    for t in tables:
        _reader_grade(t)


@pytest.mark.parametrize("name", ["development", "validation"])
def test_comparison_table_lists_every_measure_with_its_reason(res, name):
    t = X.comparison_table(res, name)
    assert len(t) == len(S.MEASURES) - 1
    assert list(t.columns) == ["Measure", "Published", "This book", "Difference", "Why"]
    pub = t[t["Published"] != "not published"]
    allowed = {"rounding", "same count"} | ({"apparent against corrected"} if name == "development" else set())
    assert set(pub["Why"]) <= allowed
    assert (t.loc[t["Published"] == "not published", "Difference"] == "not comparable").all()
    assert not (t["This book"] == "0").any()   # a small value is never shown as a bare 0


def test_interval_table_names_the_slip_in_the_uno_row(res):
    t = X.interval_table(res, "development")
    assert "Harrell" in t.loc[t["Measure"] == "Uno's C", "Published from"].iloc[0]
    assert "Harrell" not in " ".join(X.interval_table(res, "validation")["Published from"])


def test_banner_says_public_data_not_the_cohort(res):
    b = X.banner(res)
    assert "public" in b.lower() and "DMNPC_DATA" in b and "synthetic" not in b.lower()


def test_sentences_follow_their_numbers(res):
    val = X.nb_sentence(res, "validation")
    assert np.all(res.perf["validation"].risk >= S.THRESHOLD) and "changes no decision" in val
    dev = X.nb_sentence(res, "development")
    spared = int(np.sum(res.perf["development"].risk < S.THRESHOLD))
    assert f"{spared:,} of 2,982" in dev and "more than treating all" in dev
    assert "includes 1" in X.slope_sentence(res)
    assert "narrower" in X.spread_sentence(res)
    text = X.ici_interval_sentence(res)
    assert text.startswith("In the development data") and "ICI" in text


@pytest.mark.parametrize("d,digits,expected", [(0.0, 3, "0"), (1.5e-4, 3, "+0.00015"), (-4.3e-9, 8, "-4.3e-09"),
                                                (0, 0, "0"), (float("nan"), 3, "not comparable")])
def test_difference_text(d, digits, expected):
    assert X.difference_text(d, digits) == expected


def test_figures_draw_with_readable_text(res):
    fig, axes = plt.subplots(1, 2, figsize=(6.8, 3.9))
    for ax, name in zip(axes, ("development", "validation")):
        plots.plot_smooth_calibration(res.perf[name].smooth, ax=ax, title=name, what="5-year risk")
    plots.keep_text_readable(fig)
    assert all(ax.get_xlim() == (0.0, 1.0) for ax in axes)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    plots.plot_decision_curve(X.dca_frame(res, "validation"), ax=ax, mark=S.THRESHOLD,
                              xlabel="Threshold probability of recurrence or death (%)")
    assert ax.get_xlabel().startswith("Threshold probability of recurrence")
    assert any(np.allclose(line.get_xdata(), 23.0) for line in ax.lines)
    plt.close(fig)
