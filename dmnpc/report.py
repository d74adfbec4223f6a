"""The whole analysis as one dictionary: the results JSON of ``python -m dmnpc report``.

The keys are a public interface (see the book's reproduction chapter): they
are added to, never renamed. Months are the time unit, survival rates are
proportions, P values are two-sided, and hazard ratios are records
``{hr, lower, upper, p}`` with Wald 95% confidence intervals.
"""

from __future__ import annotations

import math
from importlib import metadata
from typing import Any

import pandas as pd

from . import analysis, survival

__all__ = ["compute_results", "package_versions", "CORE_PACKAGES"]

#: Packages whose versions the status page reports.
CORE_PACKAGES = ("jupyter-book", "myst-nb", "sphinx", "lifelines", "scikit-survival", "pandas", "numpy",
                 "scipy", "statsmodels", "tableone", "seaborn", "matplotlib", "pyreadstat")


def package_versions() -> pd.DataFrame:
    """Installed versions of the core packages (for the status page)."""
    import platform

    rows = [{"Package": "python", "Version": platform.python_version()}]
    for p in CORE_PACKAGES:
        try:
            rows.append({"Package": p, "Version": metadata.version(p)})
        except metadata.PackageNotFoundError:
            rows.append({"Package": p, "Version": "not installed"})
    return pd.DataFrame(rows)


def _num(x: Any) -> float | None:
    """A JSON-safe float: NaN (not reached, not estimable) becomes null."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def _survival_section(df: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    fu = survival.median_followup(df["os_months"], df["os_event"])
    out["followup_median_months"] = _num(fu["median_observed"])
    for key in ("os", "pfs"):
        s = analysis.km_summary(df, key)
        out[key] = {"median_months": _num(s["median"]), "surv_12": _num(s["surv_12"]),
                    "surv_24": _num(s["surv_24"])}
    for key in ("os", "pfs"):
        by = analysis.km_by(df, key, df["lrrt"], analysis.lrrt_labels())
        g = by["groups"]
        out[f"{key}_by_lrrt"] = {"surv_24_lrrt": _num(g["LRRT"]["surv_24"]),
                                 "surv_24_no_lrrt": _num(g["Without LRRT"]["surv_24"]),
                                 "logrank_p": _num(by["logrank"].p)}
    return out


def compute_results(df: pd.DataFrame) -> dict[str, Any]:
    """Run the paper's analysis on a validated cohort and return the results dictionary.

    Parameters
    ----------
    df : pandas.DataFrame
        A cohort from :func:`dmnpc.data.load_cohort`.

    Returns
    -------
    dict
        JSON-serialisable; keys as documented in the module docstring and the
        reproduction chapter. Values that cannot be estimated (a median not
        reached) are ``None``.
    """
    n_lrrt = int(df["lrrt"].sum())
    out: dict[str, Any] = {
        "n": int(len(df)),
        "n_lrrt": n_lrrt,
        "n_no_lrrt": int(len(df) - n_lrrt),
    }
    out.update(_survival_section(df))
    return out
