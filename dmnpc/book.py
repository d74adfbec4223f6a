"""Small helpers shared by the chapters: cohort set-up, the cohort banner, figure style.

Chapters call :func:`setup` in their hidden first cell. Nothing here computes
statistics; it only loads the chosen cohort, fixes the plotting style and
says, on every page, which cohort the numbers come from.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import pandas as pd

from .data import load_cohort

__all__ = ["PALETTE", "SEED", "setup", "cohort_banner", "cohort_label", "md_table", "fmt_p"]

#: Seed used by every chapter that draws random numbers (bootstrap).
SEED = 20240217
#: Colour-blind-safe palette (Okabe & Ito 2008), in the order the book uses it.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def _style() -> None:
    mpl.rcParams.update({
        "figure.dpi": 110,
        "savefig.dpi": 200,
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
        "legend.frameon": False,
    })


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
    return (":::{admonition} Cohort\n:class: note\n"
            f"Every number on this page is computed on the {cohort_label(df)} (n = {n}), "
            "chosen with `DMNPC_DATA`.\n:::")


def setup() -> pd.DataFrame:
    """Load the cohort chosen by ``DMNPC_DATA`` (default: the twin) and set the figure style."""
    _style()
    return load_cohort()


def md_table(df: pd.DataFrame, index: bool = False, floatfmt: str = "g") -> str:
    """A DataFrame as a Markdown table (for ``{glue:md}`` inside a numbered ``{table}``)."""
    return df.to_markdown(index=index, floatfmt=floatfmt)


def fmt_p(p: float) -> str:
    """Format a P value as clinical papers do: three decimals, '< 0.001' below that."""
    p = float(p)
    if p != p:
        return "NA"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
