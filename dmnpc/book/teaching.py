"""Small sentence helpers for the exercises' solutions.

A solution that concludes from a number ("the P value rises", "smaller than the log-rank
statistic") gets its words from the number through these helpers, so the conclusion stays
true when the book runs on another cohort. They compute nothing statistical.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["and_join", "change_text", "compare_word"]


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def and_join(items: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'; '' for no items."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def compare_word(a: float | None, b: float | None, fmt: Callable[[float], str] = "{:.3f}".format,
                 smaller: str = "smaller", larger: str = "larger", same: str = "the same") -> str | None:
    """Whether ``a`` is smaller than, larger than or, at the precision ``fmt`` shows, the same as ``b``.

    Returns None when either value is missing (not estimable).

    Examples
    --------
    >>> compare_word(8.77, 8.97, "{:.2f}".format)
    'smaller'
    >>> compare_word(0.7412, 0.7409, "{:.2f}".format)
    'the same'
    """
    if _missing(a) or _missing(b):
        return None
    if fmt(float(a)) == fmt(float(b)):
        return same
    return smaller if float(a) < float(b) else larger


def change_text(before: float | None, after: float | None, what: str,
                fmt: Callable[[float], str] = "{:.3f}".format) -> str:
    """'P value rises from 0.003 to 0.012', 'falls from ...', 'is unchanged at ...' or 'is not estimable ...'.

    The direction is judged on the values as ``fmt`` shows them, so the sentence never says
    "rises" between two numbers printed alike.
    """
    if _missing(before) or _missing(after):
        return f"{what} is not estimable on this cohort"
    a, b = fmt(float(before)), fmt(float(after))
    if a == b:
        return f"{what} is unchanged at {a}"
    return f"{what} {'rises' if float(after) > float(before) else 'falls'} from {a} to {b}"
