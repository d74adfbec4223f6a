"""Small input checkers shared by metrics, calibration and validation.

Each raises :class:`ValueError` with a message a clinician can act on.
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []


def check_survival(time, event, *, name: str = "data") -> tuple[np.ndarray, np.ndarray]:
    """Validate follow-up times and event indicators; return float/int arrays."""
    t = np.asarray(time, dtype=float).ravel()
    e_raw = np.asarray(event).ravel()
    if t.size == 0:
        raise ValueError(f"The {name} are empty: there are no patients to evaluate.")
    if e_raw.size != t.size:
        raise ValueError(
            f"Follow-up times and event indicators have different lengths ({t.size} vs {e_raw.size})."
        )
    if np.isnan(t).any():
        raise ValueError("Some follow-up times are missing; remove or complete those patients first.")
    if (t < 0).any():
        raise ValueError("Follow-up times must not be negative.")
    e_float = np.asarray(e_raw, dtype=float)
    if np.isnan(e_float).any() or not np.isin(e_float, (0.0, 1.0)).all():
        raise ValueError("The event indicator must be binary: 1 = event (e.g. death), 0 = censored.")
    e = e_float.astype(int)
    if e.sum() == 0:
        raise ValueError("There are no events (all patients are censored), so this cannot be estimated.")
    return t, e


def check_marker(risk, n: int, *, what: str = "risk score") -> np.ndarray:
    r = np.asarray(risk, dtype=float).ravel()
    if r.size != n:
        raise ValueError(f"The {what} has {r.size} values but there are {n} patients.")
    if not np.isfinite(r).all():
        raise ValueError(f"The {what} has missing or infinite values.")
    return r


def check_horizon(horizon: float, time: np.ndarray, *, name: str = "horizon") -> float:
    h = float(horizon)
    if not np.isfinite(h) or h <= 0:
        raise ValueError(f"The {name} must be a positive time, got {horizon!r}.")
    if h > time.max():
        raise ValueError(
            f"The {name} ({h:g}) lies beyond the longest follow-up ({time.max():g}); "
            "nothing can be estimated there."
        )
    return h
