"""The whole analysis as one dictionary: the results JSON of ``python -m dmnpc report``.

The keys are a public interface (see the book's reproduction chapter): they
are added to, never renamed. Months are the time unit, survival rates are
proportions, P values are two-sided, and hazard ratios are records
``{hr, lower, upper, p}`` with Wald 95% confidence intervals.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import pandas as pd

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


def compute_results(df: pd.DataFrame) -> dict[str, Any]:
    """Run the paper's analysis on a validated cohort and return the results dictionary."""
    n_lrrt = int(df["lrrt"].sum())
    return {
        "n": int(len(df)),
        "n_lrrt": n_lrrt,
        "n_no_lrrt": int(len(df) - n_lrrt),
    }
