"""The cohort data contract: one schema, enforced by the loader, documented by the book.

One row per patient. The schema object :data:`SCHEMA` is the single source of
truth: :func:`load_cohort` enforces it and the data-dictionary chapter is
generated from it (:func:`data_dictionary`).

Bad input raises one :class:`CohortError` whose message names the file, the
patient and the column and says what was expected. Nothing is silently
dropped, coerced or imputed: the only values allowed to be missing are those
of columns declared ``nullable`` (LDH), and they stay missing.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dmnpc.stats._io import write_atomic  # re-exported: the results JSON is written through it

__all__ = [
    "Column",
    "SCHEMA",
    "COLUMNS",
    "CohortError",
    "DEFAULT_COHORT",
    "MISSING_MARKERS",
    "MIN_PATIENTS",
    "cohort_path",
    "read_table",
    "validate_cohort",
    "plausibility_warnings",
    "check_analysable",
    "load_cohort",
    "write_atomic",
    "data_dictionary",
    "missing_summary",
    "example_rows",
]

PACKAGE_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = PACKAGE_DIR.parent
#: The embedded default cohort: the synthetic twin (see :mod:`dmnpc.paper.twin`).
DEFAULT_COHORT = REPO_DIR / "data" / "twin" / "dmnpc_twin.csv"
#: Environment variable that chooses the cohort for the whole book.
ENV_VAR = "DMNPC_DATA"


@dataclass(frozen=True)
class Column:
    """One column of the cohort data contract.

    Attributes
    ----------
    name : str
        Column name in the file (exact, lower case).
    kind : {"id", "float", "int", "binary", "category"}
        What the values are.
    label : str
        Human-readable label, as the paper's tables name the variable.
    description : str
        What the column records.
    unit : str
        Unit of measurement ("" when none).
    levels : tuple of str
        Allowed values of a ``category`` column, in display order.
    minimum, maximum : float or None
        Inclusive bounds for numeric columns.
    strictly_positive : bool
        If true the value must be > ``minimum`` (used for times).
    nullable : bool
        Whether a missing value is allowed (only LDH in this study).
    """

    name: str
    kind: str
    label: str
    description: str
    unit: str = ""
    levels: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    strictly_positive: bool = False
    nullable: bool = False

    def expectation(self) -> str:
        """Plain-language statement of the values this column accepts."""
        if self.kind == "id":
            text = "a unique, non-empty patient identifier"
        elif self.kind == "binary":
            text = "0 or 1"
        elif self.kind == "category":
            text = "one of " + ", ".join(repr(v) for v in self.levels)
        else:
            what = "an integer" if self.kind == "int" else "a number"
            if self.strictly_positive and self.minimum is not None:
                bound = f" > {self.minimum:g}"
            elif self.minimum is not None and self.maximum is not None:
                bound = f" from {self.minimum:g} to {self.maximum:g}"
            elif self.minimum is not None:
                bound = f" >= {self.minimum:g}"
            else:
                bound = ""
            text = what + bound
            if self.unit:
                text += f" ({self.unit})"
        if self.nullable:
            text += "; may be missing"
        return text


SCHEMA: tuple[Column, ...] = (
    Column("patient_id", "id", "Patient ID", "Study identifier of the patient; never shown in the book."),
    Column("age", "float", "Age", "Age at diagnosis.", unit="years", minimum=0, maximum=120),
    Column("sex", "category", "Gender", "Sex of the patient.", levels=("male", "female")),
    Column("ecog", "int", "ECOG score", "ECOG performance status at diagnosis.", minimum=0, maximum=4),
    Column("t_stage", "category", "T stage", "Primary tumour stage (AJCC 8th edition).",
           levels=("T1", "T2", "T3", "T4")),
    Column("n_stage", "category", "N stage", "Regional node stage (AJCC 8th edition).",
           levels=("N0", "N1", "N2", "N3")),
    Column("ebv_dna", "float", "Pre-treatment EBV DNA",
           "Plasma Epstein-Barr virus DNA before treatment.", unit="copies/mL", minimum=0),
    Column("multi_organ_mets", "binary", "Multiple organ metastasis",
           "Metastases in more than one organ (1 = yes)."),
    Column("met_lesions", "category", "No. of metastatic lesions",
           "Number of metastatic lesions.", levels=("single", "multiple")),
    Column("liver_mets", "binary", "Liver metastases", "Liver metastasis present (1 = yes)."),
    Column("bone_mets", "binary", "Bone metastases", "Bone metastasis present (1 = yes)."),
    Column("lung_mets", "binary", "Lung metastases", "Lung metastasis present (1 = yes)."),
    Column("ldh", "float", "Lactate dehydrogenase", "Serum lactate dehydrogenase before treatment.",
           unit="U/L", minimum=0, strictly_positive=True, nullable=True),
    Column("chemo_cycles", "int", "Cycle of first-line chemotherapy",
           "Number of first-line platinum-based chemotherapy cycles received.", minimum=1),
    Column("immuno_cycles", "int", "Cycle of first-line immunotherapy",
           "Number of first-line anti-PD-1 immunotherapy cycles received.", minimum=1),
    Column("local_tx_mets", "binary", "Local treatment to metastasis",
           "Local treatment of metastatic lesions (radiotherapy, ablation, surgery; 1 = yes)."),
    Column("lrrt", "binary", "LRRT", "Locoregional radiotherapy to nasopharynx and neck (1 = yes)."),
    Column("os_months", "float", "OS time", "Time from diagnosis to death or last follow-up.",
           unit="months", minimum=0, strictly_positive=True),
    Column("os_event", "binary", "OS event", "Death from any cause (1) or censored (0)."),
    Column("pfs_months", "float", "PFS time",
           "Time from diagnosis to progression, death or last follow-up.",
           unit="months", minimum=0, strictly_positive=True),
    Column("pfs_event", "binary", "PFS event",
           "Locoregional recurrence, distant progression or death (1) or censored (0)."),
)

COLUMNS: tuple[str, ...] = tuple(c.name for c in SCHEMA)
_BY_NAME = {c.name: c for c in SCHEMA}
_MAX_LISTED = 20
#: Longest echo of a cell, a column name or a patient identifier in a message; longer ones are
#: cut and end in "..." (a whole paragraph pasted into a cell should not flood the terminal).
MAX_ECHO = 40
#: Cell texts read as a missing value (after stripping blanks): an empty cell, R's ``NA``,
#: ``NaN``/``nan`` as Python, pandas and numpy write it, and ``.`` as SAS and Stata write it.
#: They are accepted only where a value may be missing (LDH); anywhere else they are reported
#: as missing values. None of them is a valid value of any column, so none can hide a datum.
MISSING_MARKERS: tuple[str, ...] = ("", "NA", "NaN", "nan", ".")
#: Smallest cohort the analysis is run on. The OS model estimates five coefficients and the
#: risk analysis compares the LRRT arms within two risk groups (four cells): below 20 patients
#: there are fewer than four per coefficient and five per cell on average, so every number
#: would be an artefact of a handful of patients.
MIN_PATIENTS = 20
#: Plausibility limits: values beyond them load, with a warning, because no cohort of this
#: disease has them (follow-up in days, EBV DNA on a log10 scale, cycles mistyped).
MAX_PLAUSIBLE_MONTHS = 600.0
MIN_PLAUSIBLE_MAX_EBV = 10.0
MAX_PLAUSIBLE_CYCLES = 100
_SAVE_CSV = "save it as comma-separated values in UTF-8 (in Excel: 'CSV UTF-8 (Comma delimited)')"


class CohortError(ValueError):
    """A cohort file breaks the data contract, or cannot be read or analysed at all.

    The message names the file and, for each problem, the patient and column
    and what was expected; a single problem is one line. ``problems`` holds the
    individual messages.
    """

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = list(problems)
        if len(self.problems) == 1:
            super().__init__(f"{source}: {self.problems[0]}")
            return
        shown = self.problems[:_MAX_LISTED]
        more = len(self.problems) - len(shown)
        head = f"{source}: {len(self.problems)} problems with the cohort data"
        body = "\n".join(f"  - {p}" for p in shown)
        if more:
            body += f"\n  - ... and {more} more"
        super().__init__(f"{head}:\n{body}")


def cohort_path(path: str | os.PathLike | None = None) -> Path:
    """Resolve which cohort file to use.

    Parameters
    ----------
    path : path-like, optional
        Explicit file. If omitted, the ``DMNPC_DATA`` environment variable is
        used, and if that is unset or empty, the embedded synthetic twin.

    Returns
    -------
    pathlib.Path
    """
    if path is None:
        env = os.environ.get(ENV_VAR, "").strip()
        path = env if env else DEFAULT_COHORT
    return Path(path).expanduser().resolve()


def _cut(text: str, limit: int = MAX_ECHO) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fmt(v: Any) -> str:
    return repr(_cut(v.strip())) if isinstance(v, str) else _cut(repr(v))


def _blank(v: Any) -> bool:
    """An empty cell (structure only: missing-value markers are the validator's business)."""
    if isinstance(v, str):
        return v.strip() == ""
    return v is None or (isinstance(v, float) and np.isnan(v))


# --- reading ---------------------------------------------------------------------------------

_SUFFIX_KIND = {".csv": "csv", ".xlsx": "xlsx", ".xls": "xls", ".sav": "sav"}
_KIND_NAME = {"csv": "comma-separated text", "xlsx": "an Excel workbook (.xlsx)",
              "xls": "an Excel 97-2003 workbook (.xls)", "sav": "an SPSS data file (.sav)"}
_MAGIC = ((b"PK\x03\x04", "xlsx"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls"), (b"$FL2", "sav"),
          (b"$FL3", "sav"))
_SEPARATORS = {",": "','", ";": "';'", "\t": "tabs", "|": "'|'"}
_DECIMAL_COMMA = re.compile(r"\s*-?\d+,\d+\s*")


def _looks_binary(data: bytes) -> bool:
    controls = sum(1 for b in data if b < 32 and b not in (9, 10, 13))
    return controls > 0.05 * len(data)


def _sniff(head: bytes) -> str:
    """What the first bytes of a file are: a kind of ``_KIND_NAME``, ``utf16`` or ``binary``."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf16"
    if b"\x00" in head:
        # UTF-16 without a byte-order mark: every other byte of ASCII text is zero
        odd, even = head[1::2], head[0::2]
        if max(odd.count(0), even.count(0)) > 0.4 * max(len(odd), 1):
            return "utf16"
        return "binary"
    return "binary" if _looks_binary(head) else "csv"


def _header_hits(cells: list[Any]) -> int:
    return sum(1 for c in cells if isinstance(c, str) and c.strip().strip('"').strip() in _BY_NAME)


def _check_separator(text: str, source: str) -> None:
    """Refuse a file separated by ';', tabs or '|' (and name its decimal commas)."""
    lines = [line for line in text.splitlines() if line.strip()][:10]
    best = max(((_header_hits(line.split(sep)), i, sep) for i, line in enumerate(lines) for sep in _SEPARATORS),
               key=lambda t: (t[0], -t[1], t[2] == ","), default=(0, 0, ","))
    hits, i, sep = best
    if sep == "," or hits < 3:
        return
    cells = [c for line in lines[i + 1:] for c in line.split(sep)]
    comma = next((c.strip() for c in cells if _DECIMAL_COMMA.fullmatch(c)), None)
    decimal = f" and decimal commas (e.g. {_cut(comma)!r})" if comma else ""
    fix = " with '.' as decimal mark" if comma else ""
    raise CohortError(source, [f"the file uses {_SEPARATORS[sep]} as separator{decimal}, not commas: "
                               f"{_SAVE_CSV}{fix}"])


def _table(records: list[tuple[int, list[Any]]], source: str, csv_like: bool) -> pd.DataFrame:
    """Turn numbered rows (header first) into the raw table; layout problems travel in ``attrs``.

    Blank rows are skipped. A title above the header is refused at once. A row with at most
    three filled cells (a note or total below the data) or, in a CSV, with another number of
    cells than the header is left out of the table and reported as one problem each.
    """
    where = "line" if csv_like else "row"
    rows = [(n, cells) for n, cells in records if not all(_blank(c) for c in cells)]
    if not rows:
        raise CohortError(source, ["the file holds no data: every row is blank"])
    head_at = next((k for k, (_, cells) in enumerate(rows[:10]) if _header_hits(cells) >= 3), 0)
    if head_at:
        n = rows[head_at][0]
        above = "line" if csv_like else "row"
        raise CohortError(source, [f"the column names are on {where} {n}, not on the first {above}: "
                                   f"delete the {where}s above them (a title or a note?)"])
    header_cells = list(rows[0][1])
    while header_cells and _blank(header_cells[-1]):
        header_cells.pop()
    width = len(header_cells)
    header = ["" if _blank(c) else str(c) for c in header_cells]
    problems: list[str] = []
    kept_rows: list[int] = []
    kept: list[list[Any]] = []
    for n, cells in rows[1:]:
        filled = [c for c in cells if not _blank(c)]
        extra = [c for c in cells[width:] if not _blank(c)]
        if len(filled) <= 3 and width >= 8:
            shown = ", ".join(_fmt(c) for c in filled)
            problems.append(f"{where} {n} holds no patient (only {len(filled)} of {width} cells filled: {shown}): "
                            "delete it or move it out of the table")
        elif extra or (csv_like and len(cells) < width):
            count = len(cells) if csv_like else width + len(extra)
            hint = " (a decimal comma, or a comma inside an unquoted value?)" if csv_like and extra else ""
            problems.append(f"{where} {n} has {count} cells but the header names {width}{hint}")
        else:
            kept_rows.append(n)
            kept.append((list(cells) + [None] * width)[:width])
    raw = pd.DataFrame(kept, columns=header, dtype=object) if kept else pd.DataFrame(columns=header, dtype=object)
    raw.attrs["rows"] = kept_rows
    raw.attrs["reader_problems"] = problems
    return raw


def _read_csv(p: Path, source: str) -> pd.DataFrame:
    data = p.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        if _looks_binary(data):
            raise CohortError(source, ["the file is binary, not comma-separated text"]) from None
        line = data[:err.start].count(b"\n") + 1
        raise CohortError(source, [f"the file is not UTF-8 text (byte 0x{data[err.start]:02x} on line {line}: "
                                   f"Latin-1 or Windows-1252?): {_SAVE_CSV}"]) from None
    _check_separator(text, source)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records = [(reader.line_num, row) for row in reader]
    except csv.Error as err:
        raise CohortError(source, [f"line {reader.line_num} cannot be read as CSV ({err})"]) from None
    return _table(records, source, csv_like=True)


def _read_excel(p: Path, source: str, sheet: str | None) -> tuple[pd.DataFrame, str, str]:
    try:
        book = pd.ExcelFile(p)
    except ImportError as err:
        raise CohortError(source, [f"reading {p.suffix} workbooks needs a package that is not installed "
                                   f"({_cut(str(err), 80)}): save the workbook as .xlsx"]) from None
    except Exception as err:  # noqa: BLE001 - any failure of the Excel reader is one message
        raise CohortError(source, [f"the file cannot be read as an Excel workbook "
                                   f"({type(err).__name__}: {_cut(str(err), 80)})"]) from None
    with book:
        names = [str(n) for n in book.sheet_names]
        warnings: list[str] = []
        if not names:
            raise CohortError(source, ["the workbook has no sheets"])
        if sheet is None:
            chosen = names[0]
            if len(names) > 1:
                warnings.append(f"the workbook has {len(names)} sheets ({', '.join(map(repr, names))}); "
                                f"the first, {chosen!r}, was read: choose another with --sheet NAME")
        elif sheet not in names:
            raise CohortError(source, [f"the workbook has no sheet {sheet!r}: its sheets are "
                                       f"{', '.join(map(repr, names))}"])
        else:
            chosen = sheet
        label = f"{source} (sheet {chosen!r})"
        try:
            table = book.parse(chosen, header=None, dtype=object)
        except Exception as err:  # noqa: BLE001
            raise CohortError(label, [f"the sheet cannot be read ({type(err).__name__}: {_cut(str(err), 80)})"]) \
                from None
    if table.empty:
        raise CohortError(label, ["the sheet is empty"])
    raw = _table([(i + 1, row) for i, row in enumerate(table.to_numpy(dtype=object).tolist())], label,
                 csv_like=False)
    raw.attrs["warnings"] = warnings
    return raw, label, chosen


def _read_sav(p: Path, source: str) -> pd.DataFrame:
    try:
        import pyreadstat
    except ImportError:
        raise CohortError(source, ["reading SPSS .sav files needs the pyreadstat package, which is not "
                                   "installed: export the data as CSV"]) from None
    try:
        raw, _meta = pyreadstat.read_sav(str(p), apply_value_formats=True)
    except Exception as err:  # noqa: BLE001 - any failure of the SPSS reader is one message
        raise CohortError(source, [f"the file cannot be read as an SPSS .sav file "
                                   f"({type(err).__name__}: {_cut(str(err), 80)})"]) from None
    raw.attrs["rows"] = list(range(1, len(raw) + 1))
    return raw


def read_table(path: str | os.PathLike, sheet: str | None = None) -> pd.DataFrame:
    """Read a CSV, Excel (``.xlsx``/``.xls``) or SPSS (``.sav``) file as text-faithful data.

    CSV cells are read as strings so that validation, not the reader, decides
    what a value means; CSV files must be UTF-8 (a byte-order mark is fine) and
    comma-separated. SPSS value labels are applied, so a variable coded 1/2 with
    labels "male"/"female" reads as its labels. Blank rows are skipped; rows
    that hold no patient (a note below the data) and CSV lines with another
    number of cells than the header are left out and reported by
    :func:`validate_cohort`.

    Parameters
    ----------
    path : path-like
        The file. Its content must match its extension.
    sheet : str, optional
        Excel only: the sheet to read (default: the first).

    Returns
    -------
    pandas.DataFrame
        ``attrs``: ``source`` (the path), ``label`` (the path and, for Excel, the
        sheet read: the name used in messages), ``sheet``, ``warnings``.

    Raises
    ------
    CohortError
        One line naming the file and the problem when the file cannot be read as
        a table: missing, a folder, empty, unreadable, binary, not UTF-8 or
        UTF-16, another format than its extension says, another separator than
        the comma, a title above the header, no such sheet.
    """
    p = Path(path)
    source = str(p)
    if not p.exists():
        raise CohortError(source, [f"file not found (set {ENV_VAR} to an existing CSV, Excel or SPSS .sav file)"])
    if p.is_dir():
        raise CohortError(source, ["this is a folder, not a file: give the path of the cohort file itself"])
    suffix = p.suffix.lower()
    kind = _SUFFIX_KIND.get(suffix)
    if kind is None:
        raise CohortError(source, [f"unsupported file type {suffix!r}: expected .csv, .xlsx, .xls or .sav "
                                   "(a comma-separated text file must end in .csv)"])
    if sheet is not None and kind not in ("xlsx", "xls"):
        raise CohortError(source, [f"sheet {sheet!r} was asked for, but only Excel workbooks have sheets"])
    try:
        with open(p, "rb") as f:
            head = f.read(4096)
        found = _sniff(head)
        if not head:
            raise CohortError(source, ["the file is empty (0 bytes)"])
        if found == "utf16" and kind == "csv":
            raise CohortError(source, [f"the file is UTF-16 text: {_SAVE_CSV}"])
        if found == "binary" and kind == "csv":
            raise CohortError(source, ["the file is binary, not comma-separated text"])
        if found in ("csv", "utf16") and kind != "csv":
            raise CohortError(source, [f"the file is text, not {_KIND_NAME[kind]}: if it is comma-separated, "
                                       "rename it to end in .csv"])
        if found == "binary":
            raise CohortError(source, [f"the file is not {_KIND_NAME[kind]}: its content is not one"])
        if found != kind:
            raise CohortError(source, [f"the file is {_KIND_NAME[found]}, although its name ends in {suffix}: "
                                       f"rename it to end in .{found}"])
        label, chosen = source, None
        if kind == "csv":
            raw = _read_csv(p, source)
        elif kind == "sav":
            raw = _read_sav(p, source)
        else:
            raw, label, chosen = _read_excel(p, source, sheet)
    except OSError as err:
        raise CohortError(source, [f"the file cannot be read: {err.strerror or err}"]) from None
    raw.attrs.update(source=source, label=label, sheet=chosen)
    raw.attrs.setdefault("warnings", [])
    return raw


# --- validating ------------------------------------------------------------------------------

def _missing_text(v: Any) -> str | None:
    """The cell as written if it means "missing" (see :data:`MISSING_MARKERS`), else ``None``."""
    if isinstance(v, str):
        s = v.strip()
        return s if s in MISSING_MARKERS else None
    if v is None:
        return ""
    try:
        return "" if bool(pd.isna(v)) else None
    except (TypeError, ValueError):
        return None


def _is_missing(v: Any) -> bool:
    return _missing_text(v) is not None


def _as_number(v: Any) -> float | None:
    """Parse one cell as a number; ``None`` if it is not one."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            return None
    return None


def _check_columns(raw: pd.DataFrame, source: str, problems: list[str]) -> None:
    present = [str(c) for c in raw.columns]
    problems = list(problems)
    if present and not any(c in _BY_NAME for c in present):
        start = ", ".join(repr(_cut(c)) for c in present[:3])
        problems.append(f"none of the contract's columns is in the header (it starts {start}): the first row "
                        f"must name the columns {', '.join(COLUMNS)}")
        raise CohortError(source, problems)
    for c in sorted({c for c in present if present.count(c) > 1}):
        where = " and ".join(str(i + 1) for i, x in enumerate(present) if x == c)
        problems.append(f"column {_cut(c)!r} appears more than once in the header (columns {where}): keep one")
    for i, c in enumerate(present):
        if c == "":
            problems.append(f"column {i + 1} has no name in the header but holds values: name it or delete it")
    missing = [c for c in COLUMNS if c not in present]
    extra = [c for c in present if c not in COLUMNS and c != ""]
    for c in extra:
        close = difflib.get_close_matches(c, missing or COLUMNS, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"unexpected column {_cut(c)!r}{hint}; the contract allows only: {', '.join(COLUMNS)}")
    for c in missing:
        close = difflib.get_close_matches(c, extra, n=1, cutoff=0.6)
        hint = f" (found {_cut(close[0])!r}: misspelled?)" if close else ""
        problems.append(f"missing column {c!r}{hint}: expected {_BY_NAME[c].expectation()}")
    if problems:
        raise CohortError(source, problems)


def _cross_checks(df: pd.DataFrame, shown: list[str]) -> list[str]:
    """Problems between columns, for the rows whose cells of the columns involved are valid."""
    problems = []
    for pid, os_t, os_e, pfs_t, pfs_e in zip(shown, df.os_months, df.os_event, df.pfs_months, df.pfs_event):
        if pfs_t > os_t:   # False when either is NaN (an invalid cell, already reported)
            problems.append(
                f"patient {pid}, column 'pfs_months': got {pfs_t:g}, longer than os_months {os_t:g}: "
                "expected pfs_months <= os_months (PFS ends at the latest at death or last follow-up)")
        if os_e == 1 and pfs_e == 0:
            problems.append(
                f"patient {pid}, column 'pfs_event': got 0 although os_event is 1: "
                "expected 1, because death counts as a PFS event, so a patient who died cannot have censored PFS")
    return problems


def plausibility_warnings(df: pd.DataFrame) -> list[str]:
    """Values that load but that no cohort of this disease has (a unit or scale mix-up?).

    Parameters
    ----------
    df : pandas.DataFrame
        A validated cohort.

    Returns
    -------
    list of str
        One sentence per suspicious column, naming counts and the extreme value, never a patient.
    """
    out = []
    for name in ("os_months", "pfs_months"):
        high = df[name] > MAX_PLAUSIBLE_MONTHS
        if high.any():
            out.append(f"column {name!r}: {int(high.sum())} patient(s) followed for more than "
                       f"{MAX_PLAUSIBLE_MONTHS:g} months (up to {df[name].max():g}): are these days? expected months")
    if len(df) and df["ebv_dna"].max() < MIN_PLAUSIBLE_MAX_EBV:
        out.append(f"column 'ebv_dna': no patient has {MIN_PLAUSIBLE_MAX_EBV:g} copies/mL or more "
                   f"(largest {df['ebv_dna'].max():g}): is this log10, or another unit? expected copies/mL")
    for name in ("chemo_cycles", "immuno_cycles"):
        high = df[name] > MAX_PLAUSIBLE_CYCLES
        if high.any():
            out.append(f"column {name!r}: {int(high.sum())} patient(s) with more than {MAX_PLAUSIBLE_CYCLES} "
                       f"cycles (up to {df[name].max():g}): expected the number of cycles received")
    return out


def _patient_ids(raw: pd.DataFrame, problems: list[str]) -> tuple[list[str], list[str]]:
    """Patient ids as text (and shortened for messages); empty and duplicated ids are problems."""
    rows = raw.attrs.get("rows") or [i + 2 for i in range(len(raw))]
    ids = []
    for n, v in zip(rows, raw["patient_id"].tolist()):
        if _is_missing(v):
            problems.append(f"row {n}: column 'patient_id' is empty: expected a unique, non-empty patient identifier")
            ids.append(f"<row {n}>")
        else:
            x = _as_number(v)
            ids.append(str(int(x)) if x is not None and float(x).is_integer() and not isinstance(v, str)
                       else str(v).strip())
    seen: dict[str, int] = {}
    for pid in ids:
        seen[pid] = seen.get(pid, 0) + 1
    for pid, k in seen.items():
        if k > 1 and not pid.startswith("<row"):
            problems.append(f"patient {_cut(pid)}: column 'patient_id' is duplicated ({k} rows): "
                            "expected one row per patient")
    return ids, [_cut(pid) for pid in ids]


def _parse_cell(col: Column, v: Any, where: str, problems: list[str]) -> Any:
    """One cell of column ``col`` as its typed value; a problem (and a missing value) when invalid."""
    marker = _missing_text(v)
    if marker is not None:
        if not col.nullable:
            written = f" ({marker!r})" if marker else ""
            problems.append(f"{where}: value is missing{written}: expected {col.expectation()}")
        return np.nan if col.kind != "category" else None
    if col.kind == "category":
        s = v.strip() if isinstance(v, str) else str(v)
        if s in col.levels:
            return s
        close = difflib.get_close_matches(s, col.levels, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"{where}: got {_fmt(v)}{hint}: expected {col.expectation()}")
        return None
    x = _as_number(v)
    bad = x is None or not np.isfinite(x)
    if not bad and col.kind in ("int", "binary") and not float(x).is_integer():
        bad = True
    if not bad and col.kind == "binary" and x not in (0.0, 1.0):
        bad = True
    if not bad and col.minimum is not None:
        bad = x <= col.minimum if col.strictly_positive else x < col.minimum
    if not bad and col.maximum is not None and x > col.maximum:
        bad = True
    if not bad:
        return x
    hint = " (a decimal comma? write it with '.')" if isinstance(v, str) and _DECIMAL_COMMA.fullmatch(v) else ""
    problems.append(f"{where}: got {_fmt(v)}{hint}: expected {col.expectation()}")
    return np.nan


def validate_cohort(raw: pd.DataFrame, source: str = "<data frame>") -> pd.DataFrame:
    """Check a raw table against :data:`SCHEMA` and return the typed cohort.

    Parameters
    ----------
    raw : pandas.DataFrame
        The table as read from file (strings or numbers).
    source : str
        Name of the file, used in error messages.

    Returns
    -------
    pandas.DataFrame
        One row per patient in file order, columns in schema order: ``id`` as
        ``str``, ``float``/``int``/``binary`` as numbers (ints as ``int64``,
        nullable floats with ``NaN``), ``category`` as ordered
        :class:`pandas.Categorical` with the schema's levels.
        ``attrs["warnings"]`` lists the reader's notes and the
        :func:`plausibility_warnings`.

    Raises
    ------
    CohortError
        Listing every problem found, each naming patient and column.
    """
    problems: list[str] = list(raw.attrs.get("reader_problems", []))
    _check_columns(raw, source, problems)
    if len(raw) == 0:
        raise CohortError(source, problems + ["the file has no patient rows"])

    ids, shown = _patient_ids(raw, problems)
    out: dict[str, Any] = {"patient_id": pd.Series(ids, dtype=object)}
    for col in SCHEMA[1:]:
        parsed = [_parse_cell(col, v, f"patient {pid}, column {col.name!r}", problems)
                  for pid, v in zip(shown, raw[col.name].tolist())]
        if col.kind == "category":
            out[col.name] = pd.Categorical(parsed, categories=list(col.levels), ordered=True)
        else:
            out[col.name] = pd.Series(parsed, dtype=float)

    df = pd.DataFrame(out)
    problems += _cross_checks(df, shown)
    if problems:
        raise CohortError(source, problems)

    for col in SCHEMA:
        if col.kind in ("int", "binary"):
            df[col.name] = df[col.name].astype("int64")
    df.attrs["source"] = source
    df.attrs["warnings"] = list(raw.attrs.get("warnings", [])) + plausibility_warnings(df)
    return df


def check_analysable(df: pd.DataFrame, source: str | None = None) -> None:
    """Refuse a valid cohort that the paper's analysis cannot be run on at all.

    Only what no part of the analysis survives is refused here: fewer than
    :data:`MIN_PATIENTS` patients, no death, no PFS event. Cohorts the analysis
    runs on with some numbers missing (nobody or everybody had LRRT, a model
    term constant, a risk group with one LRRT arm) pass: the analysis reports
    those numbers as null with a reason.

    Raises
    ------
    CohortError
        One problem per reason, naming what the analysis needs.
    """
    source = source or str(df.attrs.get("source", "<data frame>"))
    problems = []
    n = len(df)
    if n < MIN_PATIENTS:
        problems.append(f"only {n} patient{'s' if n != 1 else ''}: the analysis needs at least {MIN_PATIENTS} "
                        "(a five-term Cox model, and LRRT arms compared within two risk groups)")
    if n and int(df["os_event"].sum()) == 0:
        problems.append("no patient died: overall-survival models need at least one death")
    if n and int(df["pfs_event"].sum()) == 0:
        problems.append("no PFS event (progression or death): progression-free-survival models need at least one")
    if problems:
        raise CohortError(source, problems)


def load_cohort(path: str | os.PathLike | None = None, *, sheet: str | None = None,
                analysable: bool = True) -> pd.DataFrame:
    """Load and validate the cohort chosen by ``path``, ``DMNPC_DATA`` or the default twin.

    Parameters
    ----------
    path : path-like, optional
        See :func:`cohort_path`.
    sheet : str, optional
        Excel only: the sheet to read (default: the first; a note in
        ``attrs["warnings"]`` says which was read when there are several).
    analysable : bool
        Also refuse a cohort the analysis cannot run on (:func:`check_analysable`);
        ``False`` checks the data contract only.

    Returns
    -------
    pandas.DataFrame
        The validated cohort (see :func:`validate_cohort`); ``df.attrs["source"]``
        holds the file path, ``df.attrs["sheet"]`` the Excel sheet read (else
        ``None``), ``df.attrs["warnings"]`` the plausibility warnings and
        ``df.attrs["synthetic"]`` whether it is the embedded synthetic twin.

    Raises
    ------
    CohortError
        When the file cannot be read, breaks the contract or cannot be analysed.
    """
    p = cohort_path(path)
    raw = read_table(p, sheet=sheet)
    label = raw.attrs["label"]
    df = validate_cohort(raw, label)
    if analysable:
        check_analysable(df, label)
    df.attrs.update(source=str(p), sheet=raw.attrs["sheet"], synthetic=p == DEFAULT_COHORT.resolve())
    return df


def data_dictionary() -> pd.DataFrame:
    """The data contract as a table (one row per column), generated from :data:`SCHEMA`."""
    rows = [
        {
            "Column": c.name,
            "Variable": c.label,
            "Type": c.kind,
            "Unit": c.unit,
            "Accepted values": c.expectation(),
            "Description": c.description,
        }
        for c in SCHEMA
    ]
    return pd.DataFrame(rows)


def missing_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Count missing values per column (only nullable columns can have any).

    Returns
    -------
    pandas.DataFrame
        Columns ``Column``, ``Missing`` (count), ``Percent`` for every schema column
        with at least one missing value; empty if there are none.
    """
    n = len(df)
    rows = [
        {"Column": c.name, "Missing": int(df[c.name].isna().sum()),
         "Percent": round(100.0 * float(df[c.name].isna().mean()), 1)}
        for c in SCHEMA if int(df[c.name].isna().sum()) > 0
    ]
    return pd.DataFrame(rows, columns=["Column", "Missing", "Percent"]) if n else pd.DataFrame()


def example_rows() -> pd.DataFrame:
    """Three invented patients that satisfy the contract (for documentation and tests).

    They are not from any cohort; the 'your own data' chapter breaks copies of
    them on purpose to show the error messages a bad file gets.
    """
    return pd.DataFrame({
        "patient_id": ["EX-01", "EX-02", "EX-03"],
        "age": [45.0, 58.0, 39.0],
        "sex": ["male", "female", "male"],
        "ecog": [1, 1, 0],
        "t_stage": ["T3", "T4", "T2"],
        "n_stage": ["N2", "N3", "N1"],
        "ebv_dna": [12_000.0, 150_000.0, 0.0],
        "multi_organ_mets": [0, 1, 0],
        "met_lesions": ["single", "multiple", "multiple"],
        "liver_mets": [0, 1, 0],
        "bone_mets": [1, 1, 0],
        "lung_mets": [0, 0, 1],
        "ldh": [180.0, None, 210.0],
        "chemo_cycles": [6, 4, 6],
        "immuno_cycles": [10, 5, 8],
        "local_tx_mets": [0, 0, 1],
        "lrrt": [1, 0, 1],
        "os_months": [30.2, 14.1, 22.8],
        "os_event": [0, 1, 0],
        "pfs_months": [25.0, 9.6, 22.8],
        "pfs_event": [1, 1, 0],
    })
