"""The one input checker of the statistics layer: one function per problem, one wording.

Each checker raises :class:`ValueError` with a message a clinician can act on;
the same problem (an empty data set, a length mismatch, a missing, infinite or
negative time, an event indicator other than 0/1, ...) gets the same message
whichever function found it. Design matrices are checked in
:mod:`dmnpc.stats.validation` (``_check_design``), not here.
"""

from __future__ import annotations


import math
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import stats

__all__: list[str] = []


# ----------------------------------------------------------------------------- one problem, one message
def _check_length(x: np.ndarray, n: int, what: str) -> None:
    if x.size != n:
        raise ValueError(f"{what} has {x.size} values but there are {n} patients: "
                         "expected one value per patient")


def _check_finite(x: np.ndarray, what: str) -> None:
    if np.isfinite(x).all():  # one pass in the usual case (km_at is on the bootstrap's hot path)
        return
    if np.isnan(x).any():
        raise ValueError(f"{what} has missing values: remove or complete those patients first")
    raise ValueError(f"{what} has infinite values: expected finite numbers")


def check_binary(x, what: str, zero: str, one: str = "event") -> np.ndarray:
    """Validate a 0/1 indicator (e.g. the event, or a binary outcome); return an int array."""
    v = np.asarray(x, dtype=float).ravel()
    _check_finite(v, what)
    if not ((v == 0.0) | (v == 1.0)).all():
        raise ValueError(f"{what} must be 0 ({zero}) or 1 ({one}); other values were found")
    return v.astype(int)


def check_not_empty(n: int) -> None:
    if n == 0:
        raise ValueError("no patients: the data are empty")


# ----------------------------------------------------------------------------- survival data
def check_time_event(time, event, *, require_events: bool) -> tuple[np.ndarray, np.ndarray]:
    """Validate follow-up times and event indicators; return ``(float times, int events)``.

    Rejects empty data, unequal lengths, missing, infinite or negative times,
    and events other than 0 (censored) / 1 (event); with ``require_events``
    also data in which every patient is censored.
    """
    t = np.asarray(time, dtype=float).ravel()
    check_not_empty(t.size)
    _check_length(np.asarray(event).ravel(), t.size, "event")
    _check_finite(t, "time")
    if (t < 0).any():
        raise ValueError("time has negative values: follow-up times must be >= 0")
    e = check_binary(event, "event", "censored")
    if require_events and e.sum() == 0:
        raise ValueError("no events: every patient is censored, so this cannot be estimated")
    return t, e


def check_marker(values, n: int, what: str = "risk score") -> np.ndarray:
    """Validate one finite number per patient (a risk score, a marker); return a float array."""
    r = np.asarray(values, dtype=float).ravel()
    _check_length(r, n, what)
    _check_finite(r, what)
    return r


def check_probability(values, n: int, what: str) -> np.ndarray:
    """One probability in [0, 1] per patient (length and finiteness as :func:`check_marker`)."""
    p = check_marker(values, n, what)
    if ((p < 0.0) | (p > 1.0)).any():
        raise ValueError(f"{what} must be probabilities between 0 and 1; other values were found")
    return p


def check_weights(weights, n: int, what: str = "weights") -> np.ndarray:
    """One finite weight > 0 per patient (case weights, as ``coxph(weights = )``); return a float array."""
    w = check_marker(weights, n, what)
    if (w <= 0).any():
        raise ValueError(f"{what} must be positive (> 0); zero or negative values were found: "
                         "drop those patients instead")
    return w


def check_group(group, n: int) -> np.ndarray:
    """Validate one (non-missing) group label per patient; return an object array."""
    g = np.asarray(group, dtype=object).ravel()
    _check_length(g, n, "group")
    if pd.isna(pd.Series(g)).any():
        raise ValueError("group has missing values: remove or complete those patients first")
    return g


def check_number(x, name: str) -> float:
    """A finite real number (not a bool); return it as float."""
    if isinstance(x, bool) or not isinstance(x, Real):
        raise ValueError(f"the {name} must be a number, got {x!r}")
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"the {name} must be a finite number, got {x!r}")
    return v


def check_positive(x, name: str) -> float:
    """A finite number > 0."""
    v = check_number(x, name)
    if v <= 0:
        raise ValueError(f"the {name} must be positive, got {x!r}")
    return v


def check_fraction(x, name: str, example: str) -> float:
    """A number strictly between 0 and 1 (``example`` is shown in the message)."""
    v = check_number(x, name)
    if not 0.0 < v < 1.0:
        raise ValueError(f"the {name} must lie strictly between 0 and 1 (e.g. {example}), got {x!r}")
    return v


def check_count(x, name: str) -> int:
    """A whole number >= 1 (an int, or a float without a fractional part)."""
    if isinstance(x, bool) or not isinstance(x, (Integral, Real)):
        raise ValueError(f"the {name} must be a whole number >= 1, got {x!r}")
    if not (math.isfinite(float(x)) and float(x).is_integer() and x >= 1):
        raise ValueError(f"the {name} must be a whole number >= 1, got {x!r}")
    return int(x)


def check_horizon(horizon: float, time: np.ndarray | None = None, *, name: str = "horizon") -> float:
    """Validate a positive finite time; with ``time``, also one not beyond the longest follow-up."""
    h = float(horizon)
    if not np.isfinite(h) or h <= 0:
        raise ValueError(f"the {name} must be a positive time, got {horizon!r}")
    if time is not None and h > time.max():
        raise ValueError(f"the {name} ({h:g}) lies beyond the longest follow-up ({time.max():g}): "
                         "nothing can be estimated there")
    return h


def check_times(times) -> np.ndarray:
    """Validate a non-empty list of non-missing times >= 0 (e.g. where to read a curve)."""
    ts = np.atleast_1d(np.asarray(times, dtype=float)).ravel()
    if ts.size == 0:
        raise ValueError("no times given: expected at least one time")
    if np.isnan(ts).any() or (ts < 0).any():
        raise ValueError("times must be non-missing and >= 0")
    return ts


# ----------------------------------------------------------------------------- confidence level
def check_conf_level(conf_level: float) -> float:
    if not (0.0 < float(conf_level) < 1.0):
        raise ValueError(f"conf_level must be between 0 and 1 (e.g. 0.95), got {conf_level}")
    return float(conf_level)


def z_value(conf_level: float = 0.95) -> float:
    """Two-sided standard-normal quantile of ``conf_level`` (1.959963984540054 for 0.95)."""
    return float(stats.norm.ppf(1.0 - (1.0 - check_conf_level(conf_level)) / 2.0))
