"""Writing output files safely: shared by every command that writes a JSON (one implementation).

Not statistics, but the lowest layer, so that :mod:`dmnpc.paper`, :mod:`dmnpc.cases` and the
command line can all use it (``tests/test_layers.py``).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` so that a failed or interrupted write leaves ``path`` as it was.

    The text goes to a temporary file in the same folder, which then replaces
    ``path`` in one step (:func:`os.replace`); on any failure the temporary file
    is removed and the error raised. A new file gets the usual permissions
    (``0o666`` less the umask), a replaced one keeps its own. A symbolic link is
    followed (the link stays); a path that is not a regular file (a device or a
    pipe, such as ``/dev/stdout``) is written to directly.

    Raises
    ------
    OSError
        When the folder cannot be written or the replacement fails.
    """
    p = Path(path)
    try:
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):   # a device or a pipe (/dev/null, /dev/stdout): never replace it
            with open(p, "w", encoding="utf-8") as f:
                f.write(text)
            return
        mode = st.st_mode & 0o7777
        p = p.resolve()                    # through a symbolic link: the link stays, its target is replaced
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
