"""Command line: ``python -m dmnpc report | fidelity | twin | prepare``.

``report`` runs the whole analysis without building the book and writes its
numbers as JSON (a public interface: keys are added, never renamed).
``fidelity`` lists every published number beside the cohort's value.
``twin`` regenerates the synthetic twin cohort (as ``python -m dmnpc.paper.twin``).
``prepare`` drops jupyter-book's execution cache when its inputs changed (as
``python -m dmnpc.book.buildtools prepare``; the Makefile runs it before every build).

A problem with the input or the output is one message on standard error and
exit status 2, never a traceback: the output path is checked before the
analysis runs, and the JSON is written to a temporary file that replaces
``--out`` only once complete. Plausibility warnings go to standard error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

_DATA_HELP = "cohort file (default: DMNPC_DATA or the synthetic twin)"
_SHEET_HELP = "Excel only: the sheet to read (default: the first)"


def _parser() -> argparse.ArgumentParser:
    from dmnpc.book import buildtools
    from dmnpc.paper import twin

    parser = argparse.ArgumentParser(prog="python -m dmnpc", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    rep = sub.add_parser("report", help="run the analysis and write the results JSON")
    rep.add_argument("--out", default="results.json", help="output JSON path ('-' for standard output)")
    fid = sub.add_parser("fidelity", help="published numbers beside the cohort's values")
    for p in (rep, fid):
        p.add_argument("--data", default=None, help=_DATA_HELP)
        p.add_argument("--sheet", default=None, metavar="NAME", help=_SHEET_HELP)
    twin.add_arguments(sub.add_parser("twin", help="generate the synthetic twin cohort"))
    buildtools.add_arguments(sub.add_parser("prepare", help=buildtools.PREPARE_HELP))
    return parser


def main(argv: list[str] | None = None) -> int:
    from dmnpc.paper.settings import SettingsError, current

    try:  # before anything reads them: a wrong setting is one message, not a traceback
        current()
    except SettingsError as err:
        print(err, file=sys.stderr)
        return 2
    args = _parser().parse_args(argv)
    if args.cmd == "twin":
        from dmnpc.paper import twin

        return twin.run(args)
    if args.cmd == "prepare":
        from dmnpc.book import buildtools

        return buildtools.run(args)

    from dmnpc.paper.contract import CohortError, cohort_path, load_cohort, write_atomic

    out = None
    if args.cmd == "report" and args.out != "-":
        out = Path(args.out).expanduser()
        problem = output_problem(out, cohort_path(args.data))
        if problem:
            print(f"{args.out}: {problem}", file=sys.stderr)
            return 2
    try:
        df = load_cohort(args.data, sheet=args.sheet)
    except CohortError as err:
        print(err, file=sys.stderr)
        return 2
    for warning in df.attrs.get("warnings", []):
        print(f"warning: {df.attrs['source']}: {warning}", file=sys.stderr)

    from dmnpc.paper import report

    results = report.compute_results(df)
    if args.cmd == "report":
        text = json.dumps(results, indent=2, sort_keys=False, allow_nan=False)
        if out is None:
            print(text)
            return 0
        try:
            write_atomic(out, text + "\n")
        except OSError as err:
            print(f"{args.out}: cannot write the results: {err.strerror or err}", file=sys.stderr)
            return 2
        print(f"wrote {args.out}", file=sys.stderr)
        return 0
    from dmnpc.paper import fidelity

    table = fidelity.fidelity(results)
    with __import__("pandas").option_context("display.width", 200, "display.max_rows", None):
        print(table.to_string(index=False))
    return 0


def output_problem(out: Path, data: Path) -> str | None:
    """Why the results cannot be written to ``out`` (checked before the analysis), or ``None``.

    Refused: a folder, a missing or unwritable folder, a read-only file, and the
    input cohort file ``data`` itself (its path resolved, so ``./x.csv``, a
    symbolic link or a hard link to it are caught too).
    """
    folder = out.parent.resolve()
    if out.is_dir():
        return "is a folder: give a file name for the results, e.g. " + str(out / "results.json")
    if not folder.is_dir():
        return f"the folder {folder} does not exist: create it first or choose another --out"
    if out.resolve() == data or (out.exists() and data.exists() and os.path.samefile(out, data)):
        return "is the input cohort file: refusing to overwrite it; choose another --out"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write in the folder {folder}: permission denied"
    if out.exists() and not os.access(out, os.W_OK):
        return "the file is read-only: choose another --out"
    return None


if __name__ == "__main__":
    raise SystemExit(main())
