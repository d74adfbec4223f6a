"""The cohort data contract: what loads, and the one clear error for everything else."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dmnpc.paper import contract


@pytest.fixture
def ok() -> pd.DataFrame:
    return contract.example_rows()


def _err(df: pd.DataFrame, match: str, source: str = "cohort.csv") -> contract.CohortError:
    with pytest.raises(contract.CohortError, match=match) as info:
        contract.validate_cohort(df, source)
    return info.value


def test_valid_rows_load_with_schema_types(ok):
    df = contract.validate_cohort(ok, "x.csv")
    assert list(df.columns) == list(contract.COLUMNS)
    assert len(df) == 3
    assert df["ecog"].dtype == np.int64 and df["lrrt"].dtype == np.int64
    assert isinstance(df["sex"].dtype, pd.CategoricalDtype)
    assert list(df["sex"].cat.categories) == ["male", "female"]
    # missing LDH stays missing, never imputed
    assert df["ldh"].isna().sum() == 1 and np.isnan(df.loc[1, "ldh"])


def test_string_cells_as_read_from_csv_load(ok, tmp_path):
    p = tmp_path / "c.csv"
    ok.to_csv(p, index=False)
    df = contract.load_cohort(p, analysable=False)   # three invented patients: valid, too few to analyse
    assert df["age"].tolist() == [45.0, 58.0, 39.0]
    assert df.attrs["source"] == str(p.resolve())
    assert df.attrs["synthetic"] is False


def test_excel_and_spss_readers(ok, tmp_path):
    x = tmp_path / "c.xlsx"
    ok.to_excel(x, index=False)
    pd.testing.assert_frame_equal(contract.load_cohort(x, analysable=False), contract.validate_cohort(ok), check_like=False,
                                  check_exact=True)
    pyreadstat = pytest.importorskip("pyreadstat")
    s = tmp_path / "c.sav"
    pyreadstat.write_sav(ok, str(s))
    got = contract.load_cohort(s, analysable=False)
    assert got["patient_id"].tolist() == ok["patient_id"].tolist()
    assert got["ldh"].isna().tolist() == [False, True, False]


def test_unsupported_and_missing_file(tmp_path):
    with pytest.raises(contract.CohortError, match=r"unsupported file type '\.txt'"):
        contract.read_table(tmp_path.joinpath("a.txt").touch() or tmp_path / "a.txt")
    with pytest.raises(contract.CohortError, match="file not found"):
        contract.load_cohort(tmp_path / "nope.csv")


def test_env_var_chooses_cohort(monkeypatch, tmp_path):
    monkeypatch.setenv("DMNPC_DATA", str(tmp_path / "mine.csv"))
    assert contract.cohort_path() == (tmp_path / "mine.csv").resolve()
    monkeypatch.setenv("DMNPC_DATA", "")
    assert contract.cohort_path() == contract.DEFAULT_COHORT.resolve()


def test_misspelled_column_suggests_closest(ok):
    err = _err(ok.rename(columns={"ebv_dna": "ebv_dnaa"}), r"unexpected column 'ebv_dnaa' \(did you mean 'ebv_dna'\?\)")
    assert "cohort.csv" in str(err)
    assert any("missing column 'ebv_dna'" in p and "misspelled" in p for p in err.problems)


def test_missing_and_extra_columns(ok):
    _err(ok.drop(columns="lrrt"), r"missing column 'lrrt': expected 0 or 1")
    _err(ok.assign(hospital="A"), r"unexpected column 'hospital'")


def test_empty_file(ok):
    _err(ok.iloc[:0], "no patient rows")


@pytest.mark.parametrize(
    "col, value, match",
    [
        ("ecog", 5, r"patient EX-01, column 'ecog': got 5: expected an integer from 0 to 4"),
        ("ecog", 1.5, r"patient EX-01, column 'ecog': got 1.5: expected an integer"),
        ("age", "forty", r"patient EX-01, column 'age': got 'forty': expected a number from 0 to 120"),
        ("sex", "Male", r"patient EX-01, column 'sex': got 'Male' \(did you mean 'male'\?\): expected one of"),
        ("t_stage", "T5", r"column 't_stage': got 'T5'.*expected one of 'T1', 'T2', 'T3', 'T4'"),
        ("lrrt", 2, r"column 'lrrt': got 2: expected 0 or 1"),
        ("os_event", "yes", r"column 'os_event': got 'yes': expected 0 or 1"),
        ("os_months", 0.0, r"column 'os_months': got 0.0: expected a number > 0 \(months\)"),
        ("pfs_months", -1.0, r"column 'pfs_months': got -1.0: expected a number > 0"),
        ("ebv_dna", -5.0, r"column 'ebv_dna': got -5.0: expected a number >= 0"),
        ("chemo_cycles", 0, r"column 'chemo_cycles': got 0: expected an integer >= 1"),
        ("met_lesions", "two", r"column 'met_lesions': got 'two'"),
        ("ldh", 0.0, r"column 'ldh': got 0.0: expected a number > 0 \(U/L\); may be missing"),
        ("ldh", "n/a", r"column 'ldh': got 'n/a': expected a number > 0"),   # not a missing marker
        ("age", "45,5", r"column 'age': got '45,5' \(a decimal comma\? write it with '\.'\): expected a number"),
    ],
)
def test_bad_value_names_patient_and_column(ok, col, value, match):
    bad = ok.astype(object)
    bad.loc[0, col] = value
    _err(bad, match)


def test_missing_value_only_allowed_for_ldh(ok):
    bad = ok.astype(object)
    bad.loc[2, "age"] = None
    _err(bad, r"patient EX-03, column 'age': value is missing")


def test_pfs_longer_than_os(ok):
    bad = ok.copy()
    bad.loc[2, "pfs_months"] = 40.0
    _err(bad, r"patient EX-03, column 'pfs_months': got 40, longer than os_months 22.8")


def test_death_with_censored_pfs(ok):
    bad = ok.copy()
    bad.loc[1, "pfs_event"] = 0
    _err(bad, r"patient EX-02, column 'pfs_event': got 0 although os_event is 1")


def test_duplicate_and_empty_ids(ok):
    bad = ok.copy()
    bad.loc[2, "patient_id"] = "EX-01"
    _err(bad, r"patient EX-01: column 'patient_id' is duplicated \(2 rows\)")
    bad = ok.astype(object)
    bad.loc[1, "patient_id"] = " "
    _err(bad, r"row 3: column 'patient_id' is empty")


def test_every_problem_is_listed_in_one_error(ok):
    bad = ok.astype(object)
    bad.loc[0, "ecog"] = 9
    bad.loc[1, "lrrt"] = 3
    err = _err(bad, "2 problems")
    assert len(err.problems) == 2


def test_data_dictionary_is_the_schema():
    dd = contract.data_dictionary()
    assert dd["Column"].tolist() == list(contract.COLUMNS)
    assert dd.set_index("Column").loc["ldh", "Accepted values"].endswith("may be missing")


def test_missing_summary_counts(ok):
    df = contract.validate_cohort(ok)
    ms = contract.missing_summary(df)
    assert ms.to_dict("records") == [{"Column": "ldh", "Missing": 1, "Percent": 33.3}]


# --- missing markers, long values, one pass ---------------------------------------------------

@pytest.mark.parametrize("marker", contract.MISSING_MARKERS)
def test_missing_markers_are_missing_where_allowed_and_reported_elsewhere(ok, marker):
    bad = ok.astype(object)
    bad.loc[0, "ldh"] = marker
    assert np.isnan(contract.validate_cohort(bad).loc[0, "ldh"])
    bad.loc[0, "age"] = marker
    shown = f" \\({marker!r}\\)" if marker else ""
    _err(bad, rf"patient EX-01, column 'age': value is missing{shown}: expected a number")


def test_echoed_values_are_cut(ok):
    bad = ok.astype(object)
    bad.loc[0, "sex"] = "x" * 500
    bad.loc[1, "patient_id"] = "P" * 500
    bad.loc[1, "ecog"] = 9
    err = _err(bad, r"column 'sex': got 'x{37}\.\.\.': expected one of")
    assert f"patient {'P' * 37}..., column 'ecog'" in str(err)
    assert len(str(err)) < 1000


def test_cross_column_checks_run_with_cell_problems_in_one_pass(ok):
    bad = ok.astype(object)
    bad.loc[0, "ecog"] = 9                      # a cell problem elsewhere
    bad.loc[2, "pfs_months"] = 40.0             # progression after the end of follow-up
    bad.loc[1, "pfs_event"] = 0                 # death with censored PFS
    err = _err(bad, "3 problems")
    assert any("EX-03, column 'pfs_months': got 40, longer than os_months" in p for p in err.problems)
    assert any("EX-02, column 'pfs_event': got 0 although os_event is 1" in p for p in err.problems)
    bad = ok.astype(object)
    bad.loc[2, "os_months"] = "soon"            # invalid: the PFS <= OS check is skipped for this row
    bad.loc[2, "pfs_months"] = 40.0
    assert _err(bad, "column 'os_months': got 'soon'").problems == [
        "patient EX-03, column 'os_months': got 'soon': expected a number > 0 (months)"]


# --- the file layout --------------------------------------------------------------------------

def _write(tmp_path, text: str, name: str = "c.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_wrong_cell_count_is_one_problem_per_line(ok, tmp_path):
    lines = ok.to_csv(index=False).splitlines()
    lines[2] = lines[2].replace("58.0", "58,5")
    p = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(contract.CohortError, match=r"^[^\n]*c\.csv: line 3 has 22 cells but the header names 21 "
                                                   r"\(a decimal comma, or a comma inside an unquoted value\?\)$"):
        contract.load_cohort(p, analysable=False)


def test_blank_lines_skipped_and_rows_numbered_as_in_the_file(ok, tmp_path):
    lines = ok.to_csv(index=False).splitlines()
    lines.insert(2, "")
    lines.insert(3, ",,,,,,,,,,,,,,,,,,,,")
    p = _write(tmp_path, "\n".join(lines).replace("\nEX-03,", "\n,") + "\n")
    with pytest.raises(contract.CohortError, match=r"row 6: column 'patient_id' is empty"):
        contract.load_cohort(p, analysable=False)


def test_excel_title_and_stray_rows(ok, tmp_path):
    p = tmp_path / "t.xlsx"
    rows = [["Cohort of 2024"] + [None] * 20, [None] * 21, list(ok.columns)] + ok.to_numpy().tolist()
    pd.DataFrame(rows).to_excel(p, index=False, header=False)
    with pytest.raises(contract.CohortError, match=r"t\.xlsx \(sheet 'Sheet1'\): the column names are on row 3, "
                                                   r"not on the first row: delete the rows above them"):
        contract.load_cohort(p)
    stray = pd.concat([ok.astype(object), pd.DataFrame({"patient_id": ["Total"], "age": [3]})])
    stray.to_excel(p, index=False)
    with pytest.raises(contract.CohortError, match=r"\(sheet 'Sheet1'\): row 5 holds no patient \(only 2 of 21 "
                                                   r"cells filled: 'Total', 3\)"):
        contract.load_cohort(p, analysable=False)


def test_duplicate_header_is_named_not_renamed(ok, tmp_path):
    p = _write(tmp_path, ok.to_csv(index=False).replace("lrrt,", "age,", 1))
    with pytest.raises(contract.CohortError) as info:
        contract.load_cohort(p, analysable=False)
    assert "column 'age' appears more than once in the header (columns 2 and 17): keep one" in info.value.problems
    assert not any("age.1" in p for p in info.value.problems)


# --- plausibility and analysability -----------------------------------------------------------

@pytest.fixture
def twin() -> pd.DataFrame:
    return contract.read_table(contract.DEFAULT_COHORT)


def test_plausibility_warnings(twin):
    assert contract.validate_cohort(twin).attrs["warnings"] == []
    odd = twin.assign(os_months=pd.to_numeric(twin.os_months) * 30.4, pfs_months=pd.to_numeric(twin.pfs_months) * 30.4,
                      ebv_dna=np.log10(pd.to_numeric(twin.ebv_dna) + 1).round(2).astype(str))
    odd.loc[0, "chemo_cycles"] = "600"
    warnings = contract.validate_cohort(odd).attrs["warnings"]
    assert len(warnings) == 4
    assert warnings[0].startswith("column 'os_months': ") and warnings[0].endswith("are these days? expected months")
    assert "column 'ebv_dna': no patient has 10 copies/mL or more" in warnings[2] and "is this log10" in warnings[2]
    assert warnings[3] == ("column 'chemo_cycles': 1 patient(s) with more than 100 cycles (up to 600): "
                           "expected the number of cycles received")


def test_check_analysable_refuses_what_no_analysis_survives(twin):
    df = contract.validate_cohort(twin, "twin.csv")
    contract.check_analysable(df)
    alive = contract.validate_cohort(twin.assign(os_event="0"), "alive.csv")
    with pytest.raises(contract.CohortError, match=r"^alive\.csv: no patient died: overall-survival models need at "
                                                   r"least one death$"):
        contract.check_analysable(alive)
    never = contract.validate_cohort(twin.assign(os_event="0", pfs_event="0"), "never.csv")
    with pytest.raises(contract.CohortError, match=r"2 problems") as info:
        contract.check_analysable(never)
    assert info.value.problems[1] == ("no PFS event (progression or death): progression-free-survival models "
                                      "need at least one")
    few = contract.validate_cohort(twin.head(contract.MIN_PATIENTS - 1))
    with pytest.raises(contract.CohortError, match=rf"only {contract.MIN_PATIENTS - 1} patients: the analysis needs "
                                                   rf"at least {contract.MIN_PATIENTS}"):
        contract.check_analysable(few)
    contract.check_analysable(contract.validate_cohort(twin.head(contract.MIN_PATIENTS)))


def test_degenerate_but_analysable_cohorts_pass(twin):
    for lrrt in ("0", "1"):
        contract.check_analysable(contract.validate_cohort(twin.assign(lrrt=lrrt)))


def test_load_cohort_refuses_unanalysable_by_default(ok, tmp_path):
    p = tmp_path / "c.csv"
    ok.to_csv(p, index=False)
    with pytest.raises(contract.CohortError, match=r"c\.csv: only 3 patients"):
        contract.load_cohort(p)
