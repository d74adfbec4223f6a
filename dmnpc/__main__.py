"""Command line: ``python -m dmnpc report | fidelity | twin | prepare``.

``report`` runs the whole analysis without building the book and writes its
numbers as JSON (a public interface: keys are added, never renamed).
``fidelity`` lists every published number beside the cohort's value.
``twin`` regenerates the synthetic twin cohort (as ``python -m dmnpc.paper.twin``).
``prepare`` drops jupyter-book's execution cache when its inputs changed (as
``python -m dmnpc.book.buildtools prepare``; the Makefile runs it before every build).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    from dmnpc.book import buildtools
    from dmnpc.paper import twin

    parser = argparse.ArgumentParser(prog="python -m dmnpc", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    rep = sub.add_parser("report", help="run the analysis and write the results JSON")
    rep.add_argument("--data", default=None, help="cohort file (default: DMNPC_DATA or the synthetic twin)")
    rep.add_argument("--out", default="results.json", help="output JSON path ('-' for standard output)")
    fid = sub.add_parser("fidelity", help="published numbers beside the cohort's values")
    fid.add_argument("--data", default=None, help="cohort file (default: DMNPC_DATA or the synthetic twin)")
    twin.add_arguments(sub.add_parser("twin", help="generate the synthetic twin cohort"))
    buildtools.add_arguments(sub.add_parser("prepare", help=buildtools.PREPARE_HELP))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.cmd == "twin":
        from dmnpc.paper import twin

        return twin.run(args)
    if args.cmd == "prepare":
        from dmnpc.book import buildtools

        return buildtools.run(args)

    from dmnpc.paper.contract import CohortError, load_cohort

    try:
        df = load_cohort(args.data)
    except CohortError as err:
        print(err, file=sys.stderr)
        return 2

    from dmnpc.paper import report

    results = report.compute_results(df)
    if args.cmd == "report":
        text = json.dumps(results, indent=2, sort_keys=False)
        if args.out == "-":
            print(text)
        else:
            Path(args.out).write_text(text + "\n")
            print(f"wrote {args.out}", file=sys.stderr)
        return 0
    from dmnpc.paper import fidelity

    table = fidelity.fidelity(results)
    with __import__("pandas").option_context("display.width", 200, "display.max_rows", None):
        print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
