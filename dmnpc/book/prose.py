"""Sentences that draw a conclusion from a number, generated from that number.

A sentence such as "a large P value is weak reassurance" is true on one cohort and false on
the next. Every concluding sentence of the book comes from one small function here, which
reads the number and its threshold, so that the sentence stays true when the book runs on
the authors' data; ``tests/book/test_prose.py`` tests each on both sides of its threshold.
"""

from __future__ import annotations

import math

from dmnpc.book.chapter import not_estimable, p_text

__all__ = ["ALPHA", "rejects", "ph_sentence", "significant_count_sentence"]

#: The paper's significance level ("A two-sided P < 0.05 was considered to indicate statistical significance").
ALPHA = 0.05


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def rejects(p: float | None, alpha: float = ALPHA) -> bool | None:
    """True when ``p < alpha`` (the test rejects its null hypothesis), None when P is not estimable."""
    return None if _missing(p) else float(p) < alpha


def ph_sentence(global_p: float | None, events: int, reason: str = "") -> str:
    """The conclusion of the global proportional-hazards test (Grambsch & Therneau), from its P value.

    Parameters
    ----------
    global_p : float or None
        P value of the global test; None when the test could not be computed.
    events : int
        Events the model rests on (the test's power depends on them).
    reason : str
        Why the test is not estimable, when ``global_p`` is None.
    """
    verdict = rejects(global_p)
    if verdict is None:
        return f"The global test of proportional hazards is {not_estimable(reason)}."
    if verdict:
        return (f"The global test rejects proportional hazards ({p_text(global_p)}): at least one hazard "
                "ratio of the model changes over follow-up, so a single HR per term misdescribes it and "
                "the nomogram's predictions inherit that misfit.")
    return (f"The global test does not reject proportional hazards ({p_text(global_p)}). With {events} events "
            "this test has little power, so that is weak reassurance, not proof.")


def significant_count_sentence(n_significant: int, n_terms: int, n_flagged: int, what: str) -> str:
    """'k of n variables have P < 0.05 for OS on their own', saying how many were set aside as uninterpretable."""
    kept = n_terms - n_flagged
    text = f"Of the {kept} interpretable variables, {n_significant} {'has' if n_significant == 1 else 'have'} " \
           f"P < {ALPHA:g} for {what} on their own"
    if n_flagged:
        text += (f"; {n_flagged} more {'is' if n_flagged == 1 else 'are'} set aside as uninterpretable, "
                 "because the hazard ratio rests on a handful of patients (see the table's notes)")
    return text + "."
