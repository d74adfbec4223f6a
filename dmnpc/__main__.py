"""Command line: ``python -m dmnpc report | fidelity | predict | twin | prepare | simulate | external``.

``report`` runs the whole analysis without building the book and writes its
numbers as JSON (a public interface: keys are added, never renamed).
``fidelity`` lists every published number beside the cohort's value.
``predict`` prints one patient's prediction from the cohort's OS nomogram model as JSON, the numbers
the book's calculator shows (:mod:`dmnpc.paper.calculator`); ``--model-out`` also writes the model
document the calculator reads.
``twin`` regenerates the synthetic twin cohort (as ``python -m dmnpc.paper.twin``).
``prepare`` drops jupyter-book's execution cache when its inputs changed (as
``python -m dmnpc.book.buildtools prepare``; the Makefile runs it before every build).
``simulate`` runs the subgroup-roulette simulation (:mod:`dmnpc.paper.simulation`): how often
the paper's LRRT-by-risk-cohort pattern appears when LRRT has one hazard ratio for everyone;
it writes the summary and one record per replicate as JSON (serially, ``--jobs`` local
processes, or a Dask cluster with ``--scheduler``; the same numbers either way).
``external`` redoes the STRATOS TG6 external-validation case on the public breast-cancer data
(:mod:`dmnpc.cases.stratos`; not the cohort, not the settings) and writes its measures as JSON.

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
    pre = sub.add_parser("predict", help="one patient's predicted OS from the nomogram model "
                                         "(the book's calculator)")
    pre.add_argument("--patient", required=True, metavar="JSON",
                     help='the patient as a JSON object, e.g. \'{"age": 56, "ebv_dna": 120000, "met_lesions": '
                          '"multiple", "chemo_cycles": 4, "immuno_cycles": 10}\', or a file holding one')
    pre.add_argument("--model-out", default=None, metavar="PATH",
                     help="also write the calculator's model document (JSON) to PATH")
    pre.add_argument("--data", default=None, help=_DATA_HELP)
    pre.add_argument("--sheet", default=None, metavar="NAME", help=_SHEET_HELP)
    twin.add_arguments(sub.add_parser("twin", help="generate the synthetic twin cohort"))
    buildtools.add_arguments(sub.add_parser("prepare", help=buildtools.PREPARE_HELP))
    _simulate_arguments(sub.add_parser("simulate", help="how often the paper's LRRT pattern appears by chance "
                                                        "(subgroup-roulette simulation)"))
    ext = sub.add_parser("external", help="the external-validation case on public data (Rotterdam -> GBSG) as JSON")
    ext.add_argument("--out", default="external_validation.json",
                     help="output JSON path ('-' for standard output; default external_validation.json)")
    return parser


def _simulate_arguments(p: argparse.ArgumentParser) -> None:
    from dmnpc.paper.simulation import SCENARIOS, SIM_REPLICATES
    from dmnpc.paper.variables import SEED
    from dmnpc.stats.simulate import DEFAULT_CHUNK

    p.add_argument("--scenario", required=True, choices=list(SCENARIOS),
                   help="LRRT assignment and true HR (with vs without LRRT): " + ", ".join(SCENARIOS))
    p.add_argument("--replicates", type=int, default=SIM_REPLICATES,
                   help=f"simulated studies (default {SIM_REPLICATES})")
    p.add_argument("--seed", type=int, default=SEED, help=f"root seed (default {SEED})")
    p.add_argument("--out", required=True, help="output JSON path ('-' for standard output)")
    p.add_argument("--n", type=int, default=None, help="patients per simulated study (default 90)")
    p.add_argument("--jobs", type=int, default=1, help="local worker processes (default 1; -1 every core)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler address (e.g. tcp://host:8786): run the replicates on that cluster")
    p.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK,
                   help=f"replicates per task (default {DEFAULT_CHUNK})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--data", default=None, help=_DATA_HELP + "; the simulation is built from it")
    p.add_argument("--sheet", default=None, metavar="NAME", help=_SHEET_HELP)


def main(argv: list[str] | None = None) -> int:
    from dmnpc.paper.settings import SettingsError, current

    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["external"]:  # public data only: neither the settings nor the cohort are read
        return _external(_parser().parse_args(argv))
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
    if args.cmd == "simulate":
        return _simulate(args)
    if args.cmd == "predict":
        return _predict(args)

    loaded = _output_and_cohort(args, args.out if args.cmd == "report" else None)
    if isinstance(loaded, int):
        return loaded
    out, df = loaded

    from dmnpc.paper import report

    results = report.compute_results(df)
    if args.cmd == "report":
        return _emit(json.dumps(results, indent=2, sort_keys=False, allow_nan=False), out, args.out)
    from dmnpc.paper import fidelity

    table = fidelity.fidelity(results)
    with __import__("pandas").option_context("display.width", 200, "display.max_rows", None):
        print(table.to_string(index=False))
    return 0


def _simulate_problem(args: argparse.Namespace) -> str | None:
    """Why the simulation's options cannot be run (before anything runs), or ``None``."""
    if args.replicates < 1:
        return f"--replicates must be at least 1, got {args.replicates}"
    if args.seed < 0:
        return f"--seed must be a non-negative integer, got {args.seed}"
    if args.n is not None and args.n < 10:
        return f"--n must be at least 10 patients per study, got {args.n}"
    if args.jobs < 1 and args.jobs != -1:
        return f"--jobs must be a positive number of processes or -1 (every core), got {args.jobs}"
    if args.chunk_size < 1:
        return f"--chunk-size must be at least 1, got {args.chunk_size}"
    return None


def _json_records(df) -> dict:
    """Columns of a table as JSON lists (NaN -> null, NumPy scalars -> Python)."""
    import numpy as np

    out = {}
    for c in df.columns:
        v = df[c].to_numpy()
        if v.dtype.kind == "f":
            out[c] = [None if not np.isfinite(x) else float(x) for x in v]
        elif v.dtype.kind == "b":
            out[c] = [bool(x) for x in v]
        elif v.dtype.kind in "iu":
            out[c] = [int(x) for x in v]
        else:
            out[c] = [str(x) for x in v]
    return out


def _plain(x):
    """A summary as JSON-ready Python (NaN -> null)."""
    import math

    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _simulate(args: argparse.Namespace) -> int:
    from dmnpc.paper.contract import write_atomic

    problem = _simulate_problem(args)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    loaded = _output_and_cohort(args, args.out, warn=False)
    if isinstance(loaded, int):
        return loaded
    out, df = loaded
    from dmnpc.paper import simulation

    try:
        model = simulation.data_model(df)
        simulation.censoring_upper(model, simulation.get_scenario(args.scenario, args.n))
    except ValueError as err:
        print(f"{df.attrs.get('source', args.data)}: cannot build the simulation from this cohort: {err}",
              file=sys.stderr)
        return 2
    try:
        res = simulation.simulate(model, args.scenario, args.replicates, args.seed, n=args.n, n_jobs=args.jobs,
                                  scheduler=args.scheduler, chunk_size=args.chunk_size, progress=not args.no_progress)
    except (OSError, TimeoutError) as err:  # a scheduler that cannot be reached
        where = f"the Dask scheduler {args.scheduler}" if args.scheduler else "the worker processes"
        print(f"cannot run on {where}: {err}", file=sys.stderr)
        return 2
    summary = res.summary()
    doc = {"summary": _plain(summary), "scenario": res.scenario.as_dict(), "replicates": _json_records(res.replicates)}
    text = json.dumps(doc, indent=1, allow_nan=False)
    line = (f"{res.scenario.name}, n = {res.scenario.n}: pattern in {summary['pattern_rate']:.1%} of "
            f"{summary['replicates']} replicates (95% CI {summary['pattern_rate_lower']:.1%} to "
            f"{summary['pattern_rate_upper']:.1%})")
    if out is None:
        print(text)
        print(line, file=sys.stderr)
        return 0
    try:
        write_atomic(out, text + "\n")
    except OSError as err:
        print(f"{args.out}: cannot write the results: {err.strerror or err}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: {line}", file=sys.stderr)
    return 0


def _emit(text: str, out: Path | None, shown: str) -> int:
    """Print ``text`` (no ``--out``) or write it atomically to ``out``; one message and status 2 if it cannot be."""
    from dmnpc.stats._io import write_atomic

    if out is None:
        print(text)
        return 0
    try:
        write_atomic(out, text + "\n")
    except OSError as err:
        print(f"{shown}: cannot write the results: {err.strerror or err}", file=sys.stderr)
        return 2
    print(f"wrote {shown}", file=sys.stderr)
    return 0


def _output_and_cohort(args: argparse.Namespace, out_arg: str | None, warn: bool = True):
    """``(out, cohort)`` for a command that reads a cohort and may write a file; or an exit status 2.

    ``out_arg`` is the output path as given (``None`` or ``-``: nothing written). It is checked
    before the cohort is read (a bad path costs nothing), and every problem is one message on
    standard error.
    """
    from dmnpc.paper.contract import CohortError, cohort_path, load_cohort

    out = None
    if out_arg and out_arg != "-":
        out = Path(out_arg).expanduser()
        problem = output_problem(out, cohort_path(args.data))
        if problem:
            print(f"{out_arg}: {problem}", file=sys.stderr)
            return 2
    try:
        df = load_cohort(args.data, sheet=args.sheet)
    except CohortError as err:
        print(err, file=sys.stderr)
        return 2
    if warn:
        for warning in df.attrs.get("warnings", []):
            print(f"warning: {df.attrs['source']}: {warning}", file=sys.stderr)
    return out, df


def _patient_arg(text: str) -> dict:
    """The ``--patient`` object: JSON text, or the path of a file holding it (ValueError says why not)."""
    src = text
    if not text.lstrip().startswith("{") and Path(text).expanduser().is_file():
        try:
            src = Path(text).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f"cannot read the patient file {text}: {err}") from None
    try:
        obj = json.loads(src)
    except json.JSONDecodeError as err:
        raise ValueError(f"not valid JSON ({err.msg} at character {err.pos}); expected an object such as "
                         '{"age": 56, "ebv_dna": 120000, "met_lesions": "multiple", "chemo_cycles": 4, '
                         '"immuno_cycles": 10}') from None
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object with the fields age, ebv_dna, met_lesions, chemo_cycles, "
                         "immuno_cycles")
    return obj


def _predict(args: argparse.Namespace) -> int:
    from dmnpc.paper.contract import write_atomic

    try:
        patient = _patient_arg(args.patient)
    except ValueError as err:
        print(f"--patient: {err}", file=sys.stderr)
        return 2
    loaded = _output_and_cohort(args, args.model_out)
    if isinstance(loaded, int):
        return loaded
    out, df = loaded
    from dmnpc.paper import calculator

    try:
        calc = calculator.calculator(df)
    except ValueError as err:
        print(f"{df.attrs.get('source', args.data)}: the OS nomogram model cannot be fitted on this cohort: {err}",
              file=sys.stderr)
        return 2
    try:
        pred = calc.predict(patient)
    except calculator.PatientError as err:
        print("--patient: " + " ".join(f"{k}: {v}" for k, v in err.problems.items()), file=sys.stderr)
        return 2
    if out is not None:
        try:
            write_atomic(out, json.dumps(calc.document(), indent=1, allow_nan=False) + "\n")
        except OSError as err:
            print(f"{args.model_out}: cannot write the model: {err.strerror or err}", file=sys.stderr)
            return 2
        print(f"wrote {args.model_out}", file=sys.stderr)
    for w in pred["warnings"]:
        print(f"warning: {w}", file=sys.stderr)
    print(json.dumps(pred, indent=2, allow_nan=False))
    return 0


def output_problem(out: Path, *inputs: Path, example: str = "results.json") -> str | None:
    """Why the results cannot be written to ``out`` (checked before the analysis), or ``None``.

    Refused: a folder, a missing or unwritable folder, a read-only file, and an
    input file (the cohort, or a public data file) itself (its path resolved, so
    ``./x.csv``, a symbolic link or a hard link to it are caught too).
    """
    folder = out.parent.resolve()
    if out.is_dir():
        return "is a folder: give a file name for the results, e.g. " + str(out / example)
    if not folder.is_dir():
        return f"the folder {folder} does not exist: create it first or choose another --out"
    for data in inputs:
        data = Path(data).resolve()
        if out.resolve() == data or (out.exists() and data.exists() and os.path.samefile(out, data)):
            what = "the input cohort file" if len(inputs) == 1 else f"the input data file {data.name}"
            return f"is {what}: refusing to overwrite it; choose another --out"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write in the folder {folder}: permission denied"
    if out.exists() and not os.access(out, os.W_OK):
        return "the file is read-only: choose another --out"
    return None


def _external(args: argparse.Namespace) -> int:
    """``external``: the STRATOS TG6 case (Rotterdam -> GBSG), its measures as JSON."""
    from dmnpc.cases import stratos

    out = None
    if args.out != "-":
        out = Path(args.out).expanduser()
        problem = output_problem(out, stratos.ROTTERDAM, stratos.GBSG, example="external_validation.json")
        if problem:
            print(f"{args.out}: {problem}", file=sys.stderr)
            return 2
    try:
        res = stratos.analyse()
    except stratos.CaseDataError as err:
        print(err, file=sys.stderr)
        return 2
    return _emit(json.dumps(stratos.to_json(res), indent=2, allow_nan=False), out, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
