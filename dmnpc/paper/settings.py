"""The analysis settings a reader may change, read from one documented file.

``settings.yml`` at the repository root (or the file named by ``DMNPC_SETTINGS``) holds the
horizons, bootstrap replicates, seed, cut-point rule, table test and risk split. The defaults
reproduce the paper; :mod:`dmnpc.paper.variables` takes its constants from here, so every
analysis, the results JSON and the book follow one setting. A missing file means the
defaults; a wrong value is one :class:`SettingsError` naming the file, the setting and what is
allowed.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Settings", "SettingsError", "DEFAULTS", "settings_path", "load", "current", "CUT_RULES",
           "TABLE_TESTS", "RISK_SPLITS"]

CUT_RULES = ("paper", "youden")
TABLE_TESTS = ("fisher", "chi2", "yates")
RISK_SPLITS = ("mean", "median")
#: The repository's settings file (next to ``settings.yml``'s documentation of every value).
DEFAULT_FILE = Path(__file__).resolve().parents[2] / "settings.yml"


class SettingsError(ValueError):
    """A settings file with a value that is not allowed."""


@dataclass(frozen=True)
class Settings:
    """The analysis settings (see ``settings.yml`` for what each does)."""

    horizons: tuple[float, ...] = (12.0, 24.0)
    bootstrap_replicates: int = 200
    seed: int = 20240217
    cut_rule: str = "paper"
    table_test: str = "fisher"
    risk_split: str = "mean"

    def as_dict(self) -> dict[str, Any]:
        """Plain values (for the results JSON)."""
        d = asdict(self)
        d["horizons"] = list(d["horizons"])
        return d


#: The settings that reproduce the paper.
DEFAULTS = Settings()


def settings_path() -> Path:
    """The settings file in use: ``DMNPC_SETTINGS`` if set, else the repository's ``settings.yml``."""
    env = os.environ.get("DMNPC_SETTINGS", "").strip()
    return Path(env) if env else DEFAULT_FILE


def _check(raw: dict[str, Any], where: str) -> Settings:
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SettingsError(f"{where}: unknown setting(s) {unknown}; the settings are {sorted(known)}")
    out = asdict(DEFAULTS) | raw

    def bad(name: str, expected: str) -> SettingsError:
        return SettingsError(f"{where}: {name} is {out[name]!r}; expected {expected}")

    h = out["horizons"]
    if not isinstance(h, (list, tuple)) or not h or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0 for x in h):
        raise bad("horizons", "a list of positive numbers of months, e.g. [12, 24]")
    out["horizons"] = tuple(sorted(float(x) for x in h))
    for name, low in (("bootstrap_replicates", 1), ("seed", 0)):
        v = out[name]
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise bad(name, f"a whole number >= {low}")
    for name, allowed in (("cut_rule", CUT_RULES), ("table_test", TABLE_TESTS), ("risk_split", RISK_SPLITS)):
        if out[name] not in allowed:
            raise bad(name, f"one of {list(allowed)}")
    return Settings(**out)


def load(path: str | Path | None = None) -> Settings:
    """Read and check a settings file; the defaults when it does not exist."""
    p = Path(path) if path is not None else settings_path()
    if not p.exists():
        if path is not None or os.environ.get("DMNPC_SETTINGS", "").strip():
            raise SettingsError(f"{p}: settings file not found")
        return DEFAULTS
    try:
        raw = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        raise SettingsError(f"{p}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"{p}: expected 'name: value' lines, got {type(raw).__name__}")
    return _check(raw, str(p))


_CURRENT: Settings | None = None


def current() -> Settings:
    """The settings of this process (read once)."""
    global _CURRENT
    if _CURRENT is None:
        _CURRENT = load()
    return _CURRENT
