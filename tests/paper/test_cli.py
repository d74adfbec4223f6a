"""The command line on bad input and bad output: one line, exit 2, never a traceback, never a lost file."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from dmnpc import __main__ as cli
from dmnpc.paper import contract, report

TWIN = contract.DEFAULT_COHORT
TEXT = TWIN.read_text(encoding="utf-8")
LINES = TEXT.splitlines()


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dmnpc", *args], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])


def assert_one_clear_line(proc: subprocess.CompletedProcess, path: Path, match: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(path) in lines[0]
    assert re.search(match, lines[0]), lines[0]


def _xlsx(path: Path, **sheets: pd.DataFrame) -> None:
    with pd.ExcelWriter(path) as w:
        for name, df in sheets.items():
            df.to_excel(w, sheet_name=name, index=False)


def _decimal_comma_semicolon() -> str:
    rows = [line.split(",") for line in LINES]
    return "\n".join(";".join(c.replace(".", ",") if i else c for i, c in enumerate(r)) for r in rows) + "\n"


MALFORMED = {
    # name: (file name, bytes, expected message)
    "utf16": ("c.csv", TEXT.encode("utf-16"), r"the file is UTF-16 text: save it as comma-separated values in UTF-8"),
    "utf16_no_bom": ("c.csv", TEXT.encode("utf-16-le"), r"the file is UTF-16 text"),
    "latin1": ("c.csv", TEXT.replace("TW002", "TWé02").encode("latin-1"),
               r"the file is not UTF-8 text \(byte 0xe9 on line 3: Latin-1 or Windows-1252\?\)"),
    "empty": ("c.csv", b"", r"the file is empty \(0 bytes\)"),
    "blank": ("c.csv", b"\n \n\n", r"the file holds no data: every row is blank"),
    "binary": ("c.csv", bytes(range(256)) * 8, r"the file is binary, not comma-separated text"),
    "csv_as_xlsx": ("c.xlsx", TEXT.encode(), r"the file is text, not an Excel workbook \(\.xlsx\): if it is "
                                             r"comma-separated, rename it to end in \.csv"),
    "garbage_xlsx": ("c.xlsx", b"PK\x03\x04" + bytes(range(256)) * 4,
                     r"the file cannot be read as an Excel workbook \("),
    "text_as_sav": ("c.sav", TEXT.encode(), r"the file is text, not an SPSS data file \(\.sav\)"),
    "semicolon": ("c.csv", _decimal_comma_semicolon().encode(),
                  r"the file uses ';' as separator and decimal commas \(e\.g\. '\d+,\d+'\), not commas: save it "
                  r"as comma-separated values in UTF-8 .* with '\.' as decimal mark"),
    "tab": ("c.csv", TEXT.replace(",", "\t").encode(), r"the file uses tabs as separator, not commas"),
    "title_row": ("c.csv", ("Cohort of 2024,,\n" + TEXT).encode(),
                  r"the column names are on line 2, not on the first line: delete the lines above them"),
    "stray_cell": ("c.csv", (TEXT + "n = 90\n").encode(),
                   r"line 92 holds no patient \(only 1 of 21 cells filled: 'n = 90'\): delete it"),
    "duplicate_header": ("c.csv", "\n".join(f"{line},{line.split(',')[1]}" for line in LINES).encode(),
                         r"column 'age' appears more than once in the header \(columns 2 and 22\): keep one"),
    "not_a_table": ("c.csv", b"# my notes\nsee the other file\n",
                    r"none of the contract's columns is in the header \(it starts '# my notes'\)"),
    "unsupported": ("c.txt", TEXT.encode(), r"unsupported file type '\.txt'"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file_gets_one_line_naming_it(case, tmp_path):
    name, data, match = MALFORMED[case]
    p = tmp_path / name
    p.write_bytes(data)
    out = tmp_path / "r.json"
    assert_one_clear_line(run("report", "--data", str(p), "--out", str(out)), p, match)
    assert not out.exists()
    with pytest.raises(contract.CohortError, match=match):
        contract.load_cohort(p)


def test_xlsx_saved_as_csv(tmp_path):
    p = tmp_path / "c.csv"
    _xlsx(p, Sheet1=contract.read_table(TWIN))
    assert_one_clear_line(run("fidelity", "--data", str(p)), p,
                          r"the file is an Excel workbook \(\.xlsx\), although its name ends in \.csv: "
                          r"rename it to end in \.xlsx")


def test_folder_and_missing_file(tmp_path):
    assert_one_clear_line(run("report", "--data", str(tmp_path), "--out", "-"), tmp_path,
                          r"this is a folder, not a file: give the path of the cohort file itself")
    missing = tmp_path / "nope.csv"
    assert_one_clear_line(run("report", "--data", str(missing), "--out", "-"), missing, r"file not found")


def test_utf8_with_byte_order_mark_reads_like_plain_utf8(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(TEXT.encode("utf-8-sig"))
    pd.testing.assert_frame_equal(contract.load_cohort(p), contract.load_cohort(TWIN))


def test_degenerate_cohort_is_refused_before_the_analysis(tmp_path):
    df = contract.read_table(TWIN)
    p = tmp_path / "alive.csv"
    df.assign(os_event="0").to_csv(p, index=False)
    assert_one_clear_line(run("report", "--data", str(p), "--out", "-"), p,
                          r": no patient died: overall-survival models need at least one death$")
    few = tmp_path / "few.csv"
    df.head(contract.MIN_PATIENTS - 1).to_csv(few, index=False)
    assert_one_clear_line(run("fidelity", "--data", str(few)), few,
                          rf"only {contract.MIN_PATIENTS - 1} patients: the analysis needs at least "
                          rf"{contract.MIN_PATIENTS}")


def test_sheet_is_named_and_chosen(tmp_path):
    ok = contract.read_table(TWIN)
    p = tmp_path / "book.xlsx"
    _xlsx(p, Notes=pd.DataFrame({"note": ["exported 2024"]}), Cohort=ok)
    # the first sheet is read and named in the message
    assert_one_clear_line(run("report", "--data", str(p), "--out", "-"), p,
                          r"\(sheet 'Notes'\): none of the contract's columns is in the header")
    assert_one_clear_line(run("report", "--data", str(p), "--sheet", "Cohrt", "--out", "-"), p,
                          r"the workbook has no sheet 'Cohrt': its sheets are 'Notes', 'Cohort'")
    out = tmp_path / "r.json"
    proc = run("report", "--data", str(p), "--sheet", "Cohort", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["n"] == 90
    df = contract.load_cohort(tmp_path / "book.xlsx", sheet="Cohort")
    assert df.attrs["sheet"] == "Cohort" and df.attrs["warnings"] == []
    _xlsx(p, Cohort=ok, Notes=pd.DataFrame({"note": ["exported 2024"]}))
    assert contract.load_cohort(p).attrs["warnings"] == [
        "the workbook has 2 sheets ('Cohort', 'Notes'); the first, 'Cohort', was read: "
        "choose another with --sheet NAME"]
    with pytest.raises(contract.CohortError, match=r"sheet 'Cohort' was asked for, but only Excel workbooks"):
        contract.load_cohort(TWIN, sheet="Cohort")


def test_plausibility_warnings_go_to_stderr_and_leave_the_run(tmp_path):
    df = contract.read_table(TWIN)
    df.loc[0, "immuno_cycles"] = "150"
    p = tmp_path / "cycles.csv"
    df.to_csv(p, index=False)
    proc = run("report", "--data", str(p), "--out", "-")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert f"warning: {p}: column 'immuno_cycles': 1 patient(s) with more than 100 cycles (up to 150): " \
           "expected the number of cycles received" in proc.stderr
    assert json.loads(proc.stdout)["n"] == 90


# --- the output ------------------------------------------------------------------------------

def test_out_equal_to_the_input_is_refused_and_the_input_kept(tmp_path):
    p = tmp_path / "cohort.csv"
    p.write_text(TEXT)
    for out in (str(p), str(tmp_path / "." / "cohort.csv")):
        proc = run("report", "--data", str(p), "--out", out)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert proc.stderr.strip() == f"{out}: is the input cohort file: refusing to overwrite it; choose another --out"
    link = tmp_path / "link.csv"
    link.symlink_to(p)
    assert run("report", "--data", str(p), "--out", str(link)).returncode == 2
    assert p.read_text() == TEXT


@pytest.fixture
def no_analysis(monkeypatch):
    """The CLI in-process, with an analysis that must not run (or runs instantly when allowed)."""
    def forbidden(*_a, **_k):
        raise AssertionError("the analysis ran")
    monkeypatch.setattr(contract, "load_cohort", forbidden)
    monkeypatch.setattr(report, "compute_results", forbidden)


def test_missing_output_folder_fails_fast(tmp_path, capsys, no_analysis):
    out = tmp_path / "no" / "such" / "r.json"
    assert cli.main(["report", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"{out}: the folder {out.parent} does not exist: create it first or choose another --out\n"
    assert not out.parent.exists()
    assert cli.main(["report", "--out", str(tmp_path)]) == 2
    assert "is a folder: give a file name for the results" in capsys.readouterr().err


def test_missing_output_folder_subprocess(tmp_path):
    out = tmp_path / "no" / "r.json"
    proc = run("report", "--out", str(out))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "does not exist" in proc.stderr
    assert not out.parent.exists()


@pytest.fixture
def quick_analysis(monkeypatch):
    monkeypatch.setattr(report, "compute_results", lambda df: {"n": len(df)})


def test_failed_write_keeps_the_old_output_and_leaves_no_temporary_file(tmp_path, capsys, monkeypatch,
                                                                        quick_analysis):
    out = tmp_path / "r.json"
    out.write_text("old results\n")

    def fail(*_a, **_k):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(os, "replace", fail)
    assert cli.main(["report", "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"{out}: cannot write the results: Permission denied\n"
    assert out.read_text() == "old results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_interrupted_write_keeps_the_old_output(tmp_path, monkeypatch):
    out = tmp_path / "r.json"
    out.write_text("old results\n")

    def interrupt(_fd):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        contract.write_atomic(out, "new")
    assert out.read_text() == "old results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_write_atomic_replaces_and_keeps_the_mode(tmp_path, capsys, quick_analysis):
    out = tmp_path / "r.json"
    assert cli.main(["report", "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == {"n": 90}
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    out.chmod(0o640)
    contract.write_atomic(out, "x\n")
    assert out.read_text() == "x\n" and out.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_write_atomic_follows_links_and_never_replaces_a_pipe(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old\n")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    contract.write_atomic(link, "new\n")
    assert link.is_symlink() and target.read_text() == "new\n"
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    contract.write_atomic(fifo, "through the pipe\n")
    reader.join(timeout=10)
    assert got == ["through the pipe\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
