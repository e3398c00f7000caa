"""Bad and hostile input cells: each either parses to the right value or is an exit-2 problem."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cvm.config import CvmError
from cvm.data.loaders import load_tables
from cvm.data.validate import validate_source

AS_OF = "2024-12-31"


def _write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding=encoding)
    return folder


def _checks(folder: Path) -> dict[tuple[str, str], object]:
    report = validate_source(folder, as_of=pd.Timestamp(AS_OF).date())
    return {(p.column, p.check): p for p in report.errors}


def test_decimal_comma_column_parses_and_mixed_column_is_refused(tmp_path: Path) -> None:
    good = _write(
        tmp_path / "good",
        "visits.csv",
        "customer_id;visit_date;amount\nC1;2024-01-02;1.234,50\nC2;2024-02-03;12,5\n"
        "C3;2024-02-03;300\n",
    )
    v = load_tables(good)["visits"]
    assert v["amount"].tolist() == [1234.5, 12.5, 300.0]
    mixed = _write(
        tmp_path / "mixed",
        "visits.csv",
        'customer_id,visit_date,amount\nC1,2024-01-02,"1.234,50"\nC2,2024-02-03,1.5\n',
    )
    p = _checks(mixed)[("amount", "mixed_decimal")]
    assert p.examples == (1,) and "decimal" in p.message


@pytest.mark.parametrize("cell", ["inf", "+inf", "-inf", "1e300", "2500000"])
def test_non_finite_and_implausible_amounts_are_errors(tmp_path: Path, cell: str) -> None:
    d = _write(
        tmp_path,
        "visits.csv",
        f"customer_id,visit_date,amount\nC1,2024-01-02,{cell}\nC2,2024-01-03,10\n",
    )
    checks = {c for _, c in _checks(d)}
    assert checks & {"not_finite", "implausible_value"}, checks


def test_ceiling_names_the_config_key(tmp_path: Path) -> None:
    d = _write(tmp_path, "visits.csv", "customer_id,visit_date,amount\nC1,2024-01-02,2000001\n")
    p = _checks(d)[("amount", "implausible_value")]
    assert "ceilings.visits.amount" in p.fix and "2,000,000" in p.message


@pytest.mark.parametrize("bad", ["C\x001", "C\t1", "ma\x07int"])
def test_control_characters_in_ids_and_categories_are_errors(tmp_path: Path, bad: str) -> None:
    col = "visit_type" if bad.startswith("ma") else "customer_id"
    cid, vt = ("C1", bad) if col == "visit_type" else (bad, "repair")
    frame = pd.DataFrame(
        {
            "customer_id": [cid, "C2"],
            "visit_date": ["2024-01-02"] * 2,
            "amount": ["1", "2"],
            "visit_type": [vt, "repair"],
        }
    )
    tmp_path.mkdir(exist_ok=True)
    frame.to_csv(tmp_path / "visits.csv", index=False)
    assert (col, "control_characters") in _checks(tmp_path)


def test_duplicate_header_is_an_error_in_csv_and_excel(tmp_path: Path) -> None:
    d = _write(
        tmp_path / "csv",
        "visits.csv",
        "customer_id,visit_date,amount,amount\nC1,2024-01-02,10,20\n",
    )
    p = _checks(d)[("", "duplicate_header")]
    assert "'amount' appears 2 times (columns 3, 4)" in p.message
    x = tmp_path / "xlsx"
    x.mkdir()
    pd.DataFrame(
        [["C1", "2024-01-02", 10, 20]], columns=["customer_id", "visit_date", "amount", "amount "]
    ).to_excel(x / "visits.xlsx", index=False)
    assert ("", "duplicate_header") in _checks(x)


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_delimiter_is_detected(tmp_path: Path, sep: str) -> None:
    d = _write(
        tmp_path,
        "visits.csv",
        sep.join(["customer_id", "visit_date", "amount"])
        + "\n"
        + sep.join(["C1", "2024-01-02", "1,234.50"])
        + "\n",
    )
    v = load_tables(d)["visits"]
    assert v["amount"].tolist() == [1234.5] and v["customer_id"].tolist() == ["C1"]


def test_excel_data_on_another_sheet_is_found_or_named(tmp_path: Path) -> None:
    ok = tmp_path / "ok"
    ok.mkdir()
    with pd.ExcelWriter(ok / "visits.xlsx") as xw:
        pd.DataFrame({"说明": ["export of 2024"]}).to_excel(xw, sheet_name="封面", index=False)
        pd.DataFrame({"客户编号": ["C1"], "进厂日期": ["2024-01-02"], "结算金额": [88]}).to_excel(
            xw, sheet_name="数据", index=False
        )
    assert load_tables(ok)["visits"]["amount"].tolist() == [88.0]
    bad = tmp_path / "bad"
    bad.mkdir()
    with pd.ExcelWriter(bad / "visits.xlsx") as xw:
        pd.DataFrame({"说明": ["x"]}).to_excel(xw, sheet_name="封面", index=False)
        pd.DataFrame({"foo": [1]}).to_excel(xw, sheet_name="Sheet2", index=False)
    p = _checks(bad)[("", "wrong_sheet")]
    assert "'封面', 'Sheet2'" in p.message and "sheet named visits" in p.fix


def test_ids_are_normalised_in_every_table_before_key_checks(tmp_path: Path) -> None:
    rows = "\n".join(f"{1000 + i}.0,2024-01-{i + 1:02d},10" for i in range(20))
    d = _write(tmp_path, "visits.csv", "customer_id,visit_date,amount\n" + rows + "\n")
    _write(d, "customers.csv", "customer_id\n" + "\n".join(str(1000 + i) for i in range(20)) + "\n")
    assert validate_source(d, as_of=pd.Timestamp(AS_OF).date()).ok
    t = load_tables(d)
    assert t["visits"]["customer_id"].iloc[0] == "1000"


def test_missing_sqlite_file_is_an_error_and_creates_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CvmError, match="does not exist"):
        validate_source("sqlite:///missing.db")
    with pytest.raises(CvmError, match="does not exist"):
        validate_source(f"sqlite:///{tmp_path}/sub/missing.db")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_delimiter_is_named_in_the_message(tmp_path: Path) -> None:
    d = _write(tmp_path, "visits.csv", "customer_id:visit_date:amount\nC1:2024-01-02:10\n")
    p = _checks(d)[("customer_id", "missing_column")]
    assert "only one column was found" in p.fix and "delimited" in p.fix


def test_dot_thousands_without_a_deciding_value_is_a_warning(tmp_path: Path) -> None:
    d = _write(
        tmp_path / "a",
        "visits.csv",
        "customer_id,visit_date,amount\nC1,2024-01-02,1.234\nC2,2024-01-03,88\n",
    )
    report = validate_source(d, as_of=pd.Timestamp(AS_OF).date())
    assert report.ok and [p.check for p in report.warnings] == ["ambiguous_decimal"]
    assert report.warnings[0].examples == (1,)
    # one value with another decimal part settles it: no warning
    d = _write(
        tmp_path / "b",
        "visits.csv",
        "customer_id,visit_date,amount\nC1,2024-01-02,1.234\nC2,2024-01-03,8.5\n",
    )
    assert not validate_source(d, as_of=pd.Timestamp(AS_OF).date()).warnings


@pytest.mark.parametrize(
    "values, has",
    [
        (["C1", "张三", "4S店", None], False),
        (["C1", "a\tb", None], True),
        (["C1", "nul\x00"], True),
        (["del\x7f", "C2"], True),
        (["龍", "é", "😀"], False),  # multi-byte characters never hold bytes below 0x20
    ],
)
def test_control_byte_precheck_agrees_with_the_regex(values: list, has: bool) -> None:
    import pyarrow as pa

    from cvm.data.validate import _CONTROL, _may_hold_control

    for kind in (pa.string(), pa.large_string()):
        s = pd.Series(pd.arrays.ArrowStringArray(pa.array(values, type=kind)))
        assert _may_hold_control(s) is has
        assert bool(s.str.contains(_CONTROL, regex=True).fillna(False).any()) is has


def test_control_byte_precheck_reads_only_the_slice_and_every_chunk() -> None:
    import pyarrow as pa

    from cvm.data.validate import _may_hold_control

    arr = pa.array(["bad\n", "ok", "fine", "x\ty"])
    inside = pd.Series(pd.arrays.ArrowStringArray(arr.slice(1, 2)))  # "ok", "fine"
    assert not _may_hold_control(inside)
    chunked = pa.chunked_array([pa.array(["ok"]), pa.array(["still ok", "no\rpe"])])
    assert _may_hold_control(pd.Series(pd.arrays.ArrowStringArray(chunked)))


@pytest.mark.parametrize(
    "keys, dup",
    [
        (["V1", "V2", "V3"], False),  # in order: told by comparing neighbours
        (["V3", "V1", "V2"], False),  # out of order: hashed
        (["V1", "V1", "V2"], True),  # in order with a repeat
        (["V2", "V1", "V2"], True),
        (["V1", None, "V2"], False),  # missing keys are not duplicates
        (["V1", None, "V1"], True),
    ],
)
def test_duplicate_keys_found_whatever_the_order(keys: list, dup: bool) -> None:
    from cvm.data.validate import _duplicate_key_problems

    frame = pd.DataFrame({"visit_id": pd.Series(keys, dtype="str")})
    found = _duplicate_key_problems("visits", frame, "visits.csv")
    assert bool(found) is dup
