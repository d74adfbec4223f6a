"""Build helpers: keep jupyter-book's execution cache honest.

jupyter-cache keys a notebook on its code cells only. It does not notice an
edit to the ``dmnpc`` package, a change of the cohort file, or a different
``DMNPC_DATA``: a rebuild would show stale numbers. :func:`prepare` computes a
fingerprint of everything the chapters' results depend on besides their code
(the package sources, the public case data, the cohort file's bytes and path, the pinned lock) and
drops the cache when it changed since the last build.

Run as ``python -m dmnpc prepare BOOK_ROOT [--build-dir DIR]`` (or ``python -m dmnpc.book.buildtools prepare``)
(the Makefile does this before every ``jupyter-book build``).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

from dmnpc.paper.contract import cohort_path

__all__ = ["fingerprint", "prepare"]

PACKAGE_DIR = Path(__file__).resolve().parents[1]
#: The public data of the external-validation case (:mod:`dmnpc.cases.stratos`), part of the fingerprint.
PUBLIC_DIR = PACKAGE_DIR.parent / "data" / "public"
#: One-line help of the prepare command.
PREPARE_HELP = "drop the execution cache if dmnpc/, the cohort, the settings or the lock changed"


def fingerprint(root: str | Path = ".") -> str:
    """SHA-256 over the dmnpc sources, the public case data, the chosen cohort file, the settings and the lock.

    Parameters
    ----------
    root : path-like
        Repository root (holds ``requirements.lock``).

    Returns
    -------
    str
        Hex digest; equal digests mean cached chapter outputs are still valid.
    """
    h = hashlib.sha256()
    for f in sorted(PACKAGE_DIR.rglob("*")):
        if f.is_file() and f.suffix in {".py", ".yaml", ".json", ".csv"}:
            h.update(str(f.relative_to(PACKAGE_DIR)).encode())
            h.update(f.read_bytes())
    for f in sorted(PUBLIC_DIR.glob("*.csv")) if PUBLIC_DIR.is_dir() else []:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    cohort = cohort_path()
    h.update(str(cohort).encode())
    if cohort.exists():
        h.update(cohort.read_bytes())
    lock = Path(root) / "requirements.lock"
    if lock.exists():
        h.update(lock.read_bytes())
    from dmnpc.paper.settings import settings_path

    conf = settings_path()
    h.update(str(conf).encode())
    if conf.exists():
        h.update(conf.read_bytes())
    return h.hexdigest()


def prepare(root: str | Path = ".", build_dir: str | Path | None = None) -> bool:
    """Drop the execution cache if the fingerprint changed; record the new one.

    Returns
    -------
    bool
        True if the cache was dropped (or there was none to keep).
    """
    root = Path(root)
    build = Path(build_dir) if build_dir is not None else root / "_build"
    cache = build / ".jupyter_cache"
    stamp = build / ".dmnpc-fingerprint"
    new = fingerprint(root)
    old = stamp.read_text().strip() if stamp.exists() else ""
    dropped = new != old
    if dropped and cache.exists():
        shutil.rmtree(cache)
    build.mkdir(parents=True, exist_ok=True)
    stamp.write_text(new + "\n")
    return dropped


def write_notebooks(root: str | Path, out: str | Path) -> list[Path]:
    """Write every chapter of ``book/`` as a Jupyter notebook (``.ipynb``, without outputs) into ``out``.

    The chapters are MyST Markdown notebooks; readers who want to run one on their own machine
    download it from the page (the banner links ``../notebooks/<chapter>.ipynb``). The notebooks
    carry only the chapter's text and code: no output, so no number of any cohort. Each file is
    written atomically.

    Returns
    -------
    list of pathlib.Path
        The notebooks written.
    """
    import nbformat
    from myst_nb.core.read import read_myst_markdown_notebook

    from dmnpc.stats._io import write_atomic

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for md in sorted((Path(root) / "book").glob("*.md")):
        text = md.read_text()
        if not text.startswith("---") or "kernelspec" not in text.split("---", 2)[1]:
            continue  # a plain page (references), not a notebook
        nb = read_myst_markdown_notebook(text)
        nb.metadata["dmnpc"] = {"source": f"book/{md.name}",
                                "run": "pip install the dmnpc package (see README), then run the cells; "
                                       "DMNPC_DATA=file selects the cohort"}
        nbformat.validate(nb)
        target = out / f"{md.stem}.ipynb"
        write_atomic(target, nbformat.writes(nb) + "\n")
        written.append(target)
    return written


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of the prepare command (shared by ``python -m dmnpc prepare`` and :func:`main`)."""
    p.add_argument("root", nargs="?", default=".", help="repository root (default: .)")
    p.add_argument("--build-dir", default=None, help="jupyter-book build directory (default: ROOT/_build)")


def run(args: argparse.Namespace) -> int:
    """Run :func:`prepare` for parsed :func:`add_arguments` options and say what it did."""
    dropped = prepare(args.root, args.build_dir)
    print("execution cache dropped: inputs changed" if dropped else "execution cache kept: inputs unchanged",
          file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dmnpc.book.buildtools")
    sub = parser.add_subparsers(dest="cmd", required=True)
    add_arguments(sub.add_parser("prepare", help=PREPARE_HELP))
    nb = sub.add_parser("notebooks", help="write every chapter as a .ipynb notebook (no outputs)")
    nb.add_argument("out", help="output folder, e.g. _build/html/notebooks")
    nb.add_argument("--root", default=".", help="repository root (default: .)")
    args = parser.parse_args(argv)
    if args.cmd == "notebooks":
        n = len(write_notebooks(args.root, args.out))
        print(f"wrote {n} notebooks to {args.out}", file=sys.stderr)
        return 0
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
