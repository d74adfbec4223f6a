"""The one progress bar of the package (bootstrap, calibration, simulations).

Plain text on standard error (``tqdm``'s standard bar, not its notebook widget, which needs
ipywidgets and warns without it); when ``progress`` is false nothing is imported or drawn.
"""

from __future__ import annotations

import sys

__all__ = ["bar"]


class _NoBar:
    def update(self, k: int = 1) -> None:  # noqa: D401
        pass

    def close(self) -> None:
        pass


def bar(total: int, progress: bool, desc: str, unit: str = "it"):
    """A progress bar with ``update(k)`` and ``close()``: tqdm's when ``progress``, else one that does nothing."""
    if not progress:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=int(total), desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True)
