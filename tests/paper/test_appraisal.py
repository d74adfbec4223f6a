"""Tests of dmnpc.paper.appraisal's whole-pipeline validation: the paper's development procedure bootstrapped
as a whole, on the synthetic twin, against the same procedure in R (tests/reference/ref_pipeline.R -> pipeline.json).

The procedure on the original data is deterministic and must equal R's (cuts, screen P values,
terms, coefficients, C, 2-year predictions, risk groups). The bootstrap uses other random numbers
than R's, so its summaries are compared within Monte Carlo error, derived from the per-replicate
spread of both runs (see :func:`_z`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from dmnpc.paper import analysis, appraisal, contract
from dmnpc.paper.variables import OS_TERMS, SCREEN_TERMS
from dmnpc.stats.pipeline import PipelineResult
from dmnpc.stats.validation import ValidationResult

REF = json.loads((Path(__file__).resolve().parents[1] / "reference" / "pipeline.json").read_text())
DF = contract.load_cohort(contract.DEFAULT_COHORT)
B = 500
#: Comparisons with R made below, per variant: 16 selection shares (at most), the share of samples
#: keeping the full-data cut of each marker (2), the means of 5 per-replicate quantities
#: (C optimism, slope, 2-year prediction error, reclassified share, failed share).
N_COMPARISONS = len(appraisal.PIPELINE_VARIANTS) * (len(SCREEN_TERMS) + 2 + 5)


def _z() -> float:
    """Normal quantile of a Bonferroni-corrected two-sided test at family-wise level 0.01: a correct
    implementation fails one of the comparisons with probability below 1%."""
    return float(stats.norm.ppf(1 - 0.01 / (2 * N_COMPARISONS)))


@pytest.fixture(scope="module")
def runs():
    return {v: appraisal.pipeline_validation(DF, B=B, variant=v) for v in appraisal.PIPELINE_VARIANTS}


def _arr(x):
    return np.array([np.nan if v is None else v for v in x], dtype=float)


# ---------------------------------------------------------------- the procedure
def test_procedure_specification():
    p = appraisal.pipeline_procedure(DF, "screen")
    assert p.candidates == SCREEN_TERMS and p.alpha == 0.05
    assert {m.term: m.direction for m in p.markers} == {"ebv_dna_high": "<", "immuno_cycles_low": ">"}
    assert "no_lrrt" not in appraisal.pipeline_procedure(DF, "screen_no_lrrt").candidates
    f = appraisal.pipeline_procedure(DF, "fixed_terms")
    assert f.candidates == OS_TERMS and f.alpha is None
    with pytest.raises(ValueError, match="variant"):
        appraisal.pipeline_procedure(DF, "stepwise")


def test_fixed_terms_apparent_model_is_the_nomogram(runs):
    """On the twin the Youden cuts are the published ones, so the five-term variant's own model is the
    paper's nomogram."""
    a = runs["fixed_terms"]
    fit = analysis.fitted_model(DF, "os")
    assert a.cuts_apparent == {"ebv_dna": 66600.0, "immuno_cycles": 8.0}
    assert a.terms_apparent == OS_TERMS
    np.testing.assert_allclose(a.result.apparent.coef.to_numpy(), fit.coef, rtol=1e-10)
    assert a.c_apparent == pytest.approx(a.c_nomogram, abs=1e-12)
    assert a.c_nomogram == pytest.approx(float(a.fixed.table.loc["C", "index_orig"]), abs=1e-12)


# ---------------------------------------------------------------- deterministic: equal to R
@pytest.mark.parametrize("variant", appraisal.PIPELINE_VARIANTS)
def test_apparent_procedure_equals_r(runs, variant):
    ref = REF["variants"][variant]["apparent"]
    dev = runs[variant].result.apparent
    assert runs[variant].cuts_apparent == ref["cuts"]
    assert list(dev.terms) == ref["terms"]
    np.testing.assert_allclose(dev.coef.to_numpy(), ref["coef"], rtol=1e-6, atol=1e-8)
    assert dev.failed == ref["failed"]
    assert dev.c == pytest.approx(ref["c"], abs=1e-6)
    np.testing.assert_allclose(dev.pred, _arr(ref["pred24"]), rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(dev.high, _arr(ref["high"]))
    if dev.screen is not None:
        assert list(dev.screen["term"]) == ref["screen_candidates"]
        np.testing.assert_allclose(dev.screen["p"].to_numpy(), _arr(ref["screen_p"]), rtol=1e-6)


# ---------------------------------------------------------------- bootstrap: within Monte Carlo error
def _close_means(ours: np.ndarray, theirs: np.ndarray, what: str):
    """Means of two independent bootstrap runs: |difference| < z * sqrt(s1^2/n1 + s2^2/n2)."""
    a, b = ours[np.isfinite(ours)], theirs[np.isfinite(theirs)]
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    assert abs(a.mean() - b.mean()) <= _z() * se, f"{what}: {a.mean():.4f} vs R {b.mean():.4f} (se {se:.4f})"


def _close_shares(k1: float, n1: int, k2: float, n2: int, what: str):
    """Two binomial shares: |p1 - p2| < z * sqrt(p (1 - p) (1/n1 + 1/n2)), p pooled."""
    p = (k1 + k2) / (n1 + n2)
    se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    assert abs(k1 / n1 - k2 / n2) <= _z() * se + 1e-12, f"{what}: {k1 / n1:.3f} vs R {k2 / n2:.3f} (se {se:.3f})"


@pytest.mark.parametrize("variant", appraisal.PIPELINE_VARIANTS)
def test_bootstrap_agrees_with_r_within_monte_carlo_error(runs, variant):
    a = runs[variant]
    r = REF["variants"][variant]["replicates"]
    nr = len(r["c_train"])
    rep = a.result.replicates
    # optimism of C (the apparent C is equal, see above): per-replicate training - test
    _close_means((rep["c_train"] - rep["c_test"]).to_numpy(), _arr(r["c_train"]) - _arr(r["c_test"]), "C optimism")
    _close_means(rep["slope"].to_numpy(), _arr(r["slope"]), "calibration slope")
    mape_b = np.nanmean(np.abs(a.pred_2y - a.pred_2y_original[None, :]), axis=1)
    _close_means(mape_b, _arr(r["mape"]), "2-year prediction error")
    _close_means(rep["reclassified"].to_numpy(), _arr(r["reclassified"]), "reclassified share")
    _close_shares(a.n_failed, B, float(np.sum(r["failed"])), nr, "failed replicates")
    for term, sel in r["selected"].items():
        _close_shares(float(a.result.selection[term].sum()), B,
                      float(np.sum(sel)), nr, f"selection of {term}")
    app = a.cuts_apparent
    for col, key in (("ebv_dna", "cut_ebv_dna"), ("immuno_cycles", "cut_immuno_cycles")):
        _close_shares(float((a.cuts[col] == app[col]).sum()), B, float(np.sum(np.array(r[key]) == app[col])), nr,
                      f"samples keeping the {col} cut")


# ---------------------------------------------------------------- the result object
def test_result_fields(runs):
    a = runs["screen"]
    assert isinstance(a.result, PipelineResult) and isinstance(a.fixed, ValidationResult)
    assert a.b == B == a.fixed.B and a.pred_2y.shape == (B, len(DF)) and a.pred_2y_original.shape == (len(DF),)
    assert a.c_corrected == pytest.approx(a.c_apparent - a.c_optimism)
    assert a.slope_corrected == pytest.approx(1 - a.slope_optimism) and a.slope_apparent == 1.0
    assert list(a.selection_freq.index) == list(SCREEN_TERMS)
    assert list(a.paper_terms_freq.index) == list(OS_TERMS)
    q25, q75 = a.cut_ebv_dna_iqr
    assert q25 <= np.median(a.cuts["ebv_dna"]) <= q75
    s = a.summary()
    json.dumps(s)  # plain Python all through
    assert s["c_corrected"] == a.c_corrected and s["fixed"]["c_corrected"] == a.fixed.corrected("C")
    assert "ridge" in s["rule"] and s["n_failed"] == a.n_failed
    ins = a.instability
    assert len(ins) == len(DF) and (ins["mape"] >= 0).all()


def test_ldh_missing_no_prediction_when_kept(runs):
    a = runs["screen"]
    gone = DF["ldh"].isna().to_numpy()
    kept = a.result.selection["ldh_high"].to_numpy()
    assert 0 < kept.sum() < B  # LDH passes the screen in some samples
    assert np.isnan(a.pred_2y[np.ix_(kept, gone)]).all()
    assert np.isfinite(a.pred_2y[np.ix_(~kept, gone)]).all()
    assert np.isfinite(a.pred_2y[:, ~gone]).all()


def test_whole_pipeline_is_more_optimistic_than_the_fixed_model(runs):
    """The point of the chapter: searching cuts and screening terms adds optimism to refitting fixed terms
    (same bootstrap samples: the comparison is paired)."""
    fx = runs["screen"].fixed
    for v in ("screen", "screen_no_lrrt"):
        assert runs[v].c_optimism > float(fx.table.loc["C", "optimism"])


def test_same_seed_same_result():
    a = appraisal.pipeline_validation(DF, B=20, variant="screen_no_lrrt")
    b = appraisal.pipeline_validation(DF, B=20, variant="screen_no_lrrt", progress=True)
    assert a.summary() == b.summary()
