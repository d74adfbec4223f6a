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
