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

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "Column",
    "SCHEMA",
    "COLUMNS",
    "CohortError",
    "DEFAULT_COHORT",
    "cohort_path",
    "read_table",
    "validate_cohort",
    "load_cohort",
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


class CohortError(ValueError):
    """A cohort file breaks the data contract.

    The message names the file and, for each problem, the patient and column
    and what was expected. ``problems`` holds the individual messages.
    """

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = list(problems)
        shown = self.problems[:_MAX_LISTED]
        more = len(self.problems) - len(shown)
        head = (f"{source}: {len(self.problems)} problem"
                f"{'s' if len(self.problems) != 1 else ''} with the cohort data")
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


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV, Excel (``.xlsx``/``.xls``) or SPSS (``.sav``) file as text-faithful data.

    CSV cells are read as strings (empty cells as missing) so that validation,
    not the reader, decides what a value means. SPSS value labels are applied,
    so a variable coded 1/2 with labels "male"/"female" reads as its labels.

    Raises
    ------
    CohortError
        If the file does not exist or its type is not supported.
    """
    p = Path(path)
    if not p.exists():
        raise CohortError(str(p), [f"file not found (set {ENV_VAR} to an existing CSV, Excel or SPSS .sav file)"])
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
    if suffix in (".xlsx", ".xls"):
        return pd.read_excel(p, dtype=object)
    if suffix == ".sav":
        import pyreadstat

        df, _meta = pyreadstat.read_sav(str(p), apply_value_formats=True)
        return df
    raise CohortError(str(p), [f"unsupported file type {suffix!r}: expected .csv, .xlsx, .xls or .sav"])


def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v.strip() == ""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


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


def _fmt(v: Any) -> str:
    return repr(v.strip()) if isinstance(v, str) else repr(v)


def _check_columns(raw: pd.DataFrame, source: str) -> None:
    present = [str(c) for c in raw.columns]
    problems: list[str] = []
    dup = sorted({c for c in present if present.count(c) > 1})
    for c in dup:
        problems.append(f"column {c!r} appears more than once")
    missing = [c for c in COLUMNS if c not in present]
    extra = [c for c in present if c not in COLUMNS]
    for c in extra:
        close = difflib.get_close_matches(c, missing or COLUMNS, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"unexpected column {c!r}{hint}; the contract allows only: {', '.join(COLUMNS)}")
    for c in missing:
        close = difflib.get_close_matches(c, extra, n=1, cutoff=0.6)
        hint = f" (found {close[0]!r}: misspelled?)" if close else ""
        problems.append(f"missing column {c!r}{hint}: expected {_BY_NAME[c].expectation()}")
    if problems:
        raise CohortError(source, problems)


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

    Raises
    ------
    CohortError
        Listing every problem found, each naming patient and column.
    """
    _check_columns(raw, source)
    if len(raw) == 0:
        raise CohortError(source, ["the file has no patient rows"])

    problems: list[str] = []
    ids = []
    for i, v in enumerate(raw["patient_id"].tolist()):
        if _is_missing(v):
            problems.append(f"row {i + 2}: column 'patient_id' is empty: expected a unique, non-empty patient identifier")
            ids.append(f"<row {i + 2}>")
        else:
            n = _as_number(v)
            ids.append(str(int(n)) if n is not None and float(n).is_integer() and not isinstance(v, str)
                       else str(v).strip())
    seen: dict[str, int] = {}
    for pid in ids:
        seen[pid] = seen.get(pid, 0) + 1
    for pid, k in seen.items():
        if k > 1 and not pid.startswith("<row"):
            problems.append(f"patient {pid}: column 'patient_id' is duplicated ({k} rows): expected one row per patient")

    out: dict[str, Any] = {"patient_id": pd.Series(ids, dtype=object)}
    for col in SCHEMA[1:]:
        values = raw[col.name].tolist()
        parsed: list[Any] = []
        for pid, v in zip(ids, values):
            where = f"patient {pid}, column {col.name!r}"
            if _is_missing(v):
                if not col.nullable:
                    problems.append(f"{where}: value is missing: expected {col.expectation()}")
                parsed.append(np.nan if col.kind != "category" else None)
                continue
            if col.kind == "category":
                s = v.strip() if isinstance(v, str) else str(v)
                if s not in col.levels:
                    close = difflib.get_close_matches(s, col.levels, n=1, cutoff=0.5)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    problems.append(f"{where}: got {_fmt(v)}{hint}: expected {col.expectation()}")
                    parsed.append(None)
                else:
                    parsed.append(s)
                continue
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
            if bad:
                problems.append(f"{where}: got {_fmt(v)}: expected {col.expectation()}")
                parsed.append(np.nan)
            else:
                parsed.append(x)
        if col.kind == "category":
            out[col.name] = pd.Categorical(parsed, categories=list(col.levels), ordered=True)
        else:
            out[col.name] = pd.Series(parsed, dtype=float)

    if not problems:
        df = pd.DataFrame(out)
        for pid, os_t, os_e, pfs_t, pfs_e in zip(ids, df.os_months, df.os_event, df.pfs_months, df.pfs_event):
            if pfs_t > os_t:
                problems.append(
                    f"patient {pid}, column 'pfs_months': got {pfs_t:g}, longer than os_months {os_t:g}: "
                    "expected pfs_months <= os_months (PFS ends at the latest at death or last follow-up)")
            if os_e == 1 and pfs_e == 0:
                problems.append(
                    f"patient {pid}, column 'pfs_event': got 0 although os_event is 1: "
                    "expected 1, because death counts as a PFS event, so a patient who died cannot have censored PFS")
    if problems:
        raise CohortError(source, problems)

    for col in SCHEMA:
        if col.kind in ("int", "binary"):
            df[col.name] = df[col.name].astype("int64")
    df.attrs["source"] = source
    return df


def load_cohort(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load and validate the cohort chosen by ``path``, ``DMNPC_DATA`` or the default twin.

    Parameters
    ----------
    path : path-like, optional
        See :func:`cohort_path`.

    Returns
    -------
    pandas.DataFrame
        The validated cohort (see :func:`validate_cohort`); ``df.attrs["source"]``
        holds the file path and ``df.attrs["synthetic"]`` whether it is the
        embedded synthetic twin.
    """
    p = cohort_path(path)
    raw = read_table(p)
    df = validate_cohort(raw, str(p))
    df.attrs["synthetic"] = p == DEFAULT_COHORT.resolve()
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
