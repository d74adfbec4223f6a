"""The patient flow (the paper's Fig. 1), counted from the cohort and drawn as a diagram."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

__all__ = ["flow_counts", "plot_flow"]


def flow_counts(df: pd.DataFrame, risk: pd.Series | None = None) -> pd.DataFrame:
    """Count the boxes of the flow diagram from the cohort.

    Parameters
    ----------
    df : pandas.DataFrame
        A validated cohort.
    risk : pandas.Series, optional
        'low'/'high' risk cohort per patient (from the nomogram); adds the
        risk x LRRT boxes when given.

    Returns
    -------
    pandas.DataFrame
        Columns ``box``, ``parent``, ``label``, ``n`` (one row per box).
    """
    rows = [{"box": "all", "parent": "", "label": "Included: dmNPC, first-line\nchemoimmunotherapy",
             "n": int(len(df))}]
    for arm, lab in ((1, "LRRT"), (0, "Without LRRT")):
        rows.append({"box": f"lrrt{arm}", "parent": "all", "label": lab, "n": int((df["lrrt"] == arm).sum())})
    if risk is not None:
        for arm, lab in ((1, "LRRT"), (0, "Without LRRT")):
            for r in ("low", "high"):
                rows.append({"box": f"lrrt{arm}_{r}", "parent": f"lrrt{arm}",
                             "label": f"{r.capitalize()} risk", "n": int(((df["lrrt"] == arm) & (risk == r)).sum())})
    return pd.DataFrame(rows)


def plot_flow(counts: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Draw the flow diagram of :func:`flow_counts` as boxes and arrows; returns ``ax``."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    levels: dict[str, int] = {}
    for _, r in counts.iterrows():
        levels[r.box] = 0 if not r.parent else levels[r.parent] + 1
    depth = max(levels.values())
    pos: dict[str, tuple[float, float]] = {}
    for lev in range(depth + 1):
        boxes = [b for b in counts.box if levels[b] == lev]
        for i, b in enumerate(boxes):
            pos[b] = ((i + 0.5) / len(boxes), 1 - (lev + 0.5) / (depth + 1))
    for _, r in counts.iterrows():
        x, y = pos[r.box]
        if r.parent:
            px, py = pos[r.parent]
            ax.annotate("", xy=(x, y + 0.09), xytext=(px, py - 0.09),
                        arrowprops={"arrowstyle": "->", "color": "0.3"})
        ax.text(x, y, f"{r.label}\nn = {r.n}", ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round,pad=0.4", "fc": "#EAF2FA", "ec": "#0072B2"})
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    return ax
