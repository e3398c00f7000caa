"""`cvm validate` on malformed inputs: exit 2, the table and column named, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from dealer_fixture import AS_OF, dealer_tables, write_tables
from typer.testing import CliRunner

from cvm.cli import app
from cvm.data.validate import Problem, ValidationReport, validate_source, validate_tables

Tables = dict[str, pd.DataFrame]


def _set(table: str, column: str, row: int, value: object) -> Callable[[Tables], None]:
    def edit(t: Tables) -> None:
        frame = t[table]
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value

    return edit


def _drop_col(table: str, column: str) -> Callable[[Tables], None]:
    return lambda t: t.__setitem__(table, t[table].drop(columns=[column]))


def _drop_table(table: str) -> Callable[[Tables], None]:
    return lambda t: t.pop(table)


def _empty(table: str) -> Callable[[Tables], None]:
    return lambda t: t.__setitem__(table, t[table].iloc[0:0])


def _rename(table: str, old: str, new: str) -> Callable[[Tables], None]:
    return lambda t: t.__setitem__(table, t[table].rename(columns={old: new}))


def _add_col(table: str, column: str, source: str) -> Callable[[Tables], None]:
    return lambda t: t[table].insert(len(t[table].columns), column, t[table][source])


def _raw_file(name: str, content: bytes) -> Callable[[Path], None]:
    return lambda d: (d / name).write_bytes(content)


# (id, edit of the tables, raw file writer, expected table, expected column or file)
CASES: list[
    tuple[str, Callable[[Tables], None] | None, Callable[[Path], None] | None, str, str]
] = [
    ("no-visits-table", _drop_table("visits"), None, "visits", "customer_id"),
    ("missing-amount", _drop_col("visits", "amount"), None, "visits", "amount"),
    ("missing-visit-date", _drop_col("visits", "visit_date"), None, "visits", "visit_date"),
    ("missing-customer-id", _drop_col("visits", "customer_id"), None, "visits", "customer_id"),
    ("missing-survey-date", _drop_col("surveys", "survey_date"), None, "surveys", "survey_date"),
    ("bad-date", _set("visits", "visit_date", 2, "2023-13-45"), None, "visits", "visit_date"),
    ("text-date", _set("visits", "visit_date", 0, "昨天"), None, "visits", "visit_date"),
    ("future-date", _set("visits", "visit_date", 3, "2030-01-01"), None, "visits", "visit_date"),
    (
        "future-survey",
        _set("surveys", "survey_date", 1, "2031/02/03"),
        None,
        "surveys",
        "survey_date",
    ),
    ("negative-amount", _set("visits", "amount", 2, -50.0), None, "visits", "amount"),
    ("text-amount", _set("visits", "amount", 1, "abc"), None, "visits", "amount"),
    ("negative-mileage", _set("visits", "mileage_km", 4, -1.0), None, "visits", "mileage_km"),
    ("null-amount", _set("visits", "amount", 5, None), None, "visits", "amount"),
    ("null-customer", _set("visits", "customer_id", 5, None), None, "visits", "customer_id"),
    ("dup-visit-id", _set("visits", "visit_id", 1, "RO0001"), None, "visits", "visit_id"),
    ("dup-customer", _set("customers", "customer_id", 3, "C001"), None, "customers", "customer_id"),
    ("orphan-customer", _set("visits", "customer_id", 6, "C999"), None, "visits", "customer_id"),
    ("orphan-vehicle", _set("visits", "vehicle_id", 0, "NOPE"), None, "visits", "vehicle_id"),
    ("orphan-survey-visit", _set("surveys", "visit_id", 0, "RO9999"), None, "surveys", "visit_id"),
    ("bad-visit-type", _set("visits", "visit_type", 0, "washing"), None, "visits", "visit_type"),
    ("bad-gender", _set("customers", "gender", 1, "X"), None, "customers", "gender"),
    (
        "satisfaction-too-high",
        _set("surveys", "satisfaction", 0, 7.0),
        None,
        "surveys",
        "satisfaction",
    ),
    (
        "birth-year-text",
        _set("customers", "birth_year", 0, "nineteen"),
        None,
        "customers",
        "birth_year",
    ),
    ("bool-text", _set("customers", "has_children", 0, "maybe"), None, "customers", "has_children"),
    (
        "fraction-int",
        _set("visits", "quote_items_offered", 0, 2.5),
        None,
        "visits",
        "quote_items_offered",
    ),
    ("empty-visits", _empty("visits"), None, "visits", "visit_id"),
    ("empty-customers", _empty("customers"), None, "customers", "customer_id"),
    (
        "two-customer-id-headers",
        _add_col("visits", "客户编号", "customer_id"),
        None,
        "visits",
        "customer_id",
    ),
    ("misnamed-date-header", _rename("visits", "visit_date", "日子"), None, "visits", "visit_date"),
    (
        "wrong-encoding",
        _drop_table("visits"),
        _raw_file("visits.csv", b"customer_id,visit_date,amount\n\xff\xfe\x80,2020-01-01,1\n"),
        "visits",
        "visits.csv",
    ),
    ("empty-file", _drop_table("visits"), _raw_file("visits.csv", b""), "visits", "visits.csv"),
    (
        "corrupt-parquet",
        _drop_table("visits"),
        _raw_file("visits.parquet", b"PAR1 not really"),
        "visits",
        "visits.parquet",
    ),
    (
        "corrupt-excel",
        _drop_table("customers"),
        _raw_file("customers.xlsx", b"PK\x03\x04junk"),
        "customers",
        "customers.xlsx",
    ),
    (
        "xls-file",
        _drop_table("visits"),
        _raw_file("visits.xls", b"\xd0\xcf\x11\xe0"),
        "visits",
        "visits.xls",
    ),
    (
        "two-files-one-table",
        None,
        _raw_file("维修记录.csv", b"customer_id,visit_date,amount\n"),
        "visits",
        "维修记录.csv",
    ),
]


def _snapshot(folder: Path) -> dict[str, tuple[int, float]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime) for p in folder.rglob("*")
    }


@pytest.mark.parametrize(
    ("edit", "raw", "table", "where"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_malformed_input_exits_2_naming_table_and_column(
    tmp_path: Path,
    edit: Callable[[Tables], None] | None,
    raw: Callable[[Path], None] | None,
    table: str,
    where: str,
) -> None:
    tables = dealer_tables()
    if edit is not None:
        edit(tables)
    folder = write_tables(tables, tmp_path / "data")
    if raw is not None:
        raw(folder)
    before = _snapshot(folder)

    result = CliRunner().invoke(app, ["validate", "--data", str(folder), "--as-of", AS_OF])

    assert result.exit_code == 2, result.output
    assert table in result.output and where in result.output, result.output
    assert "fix" in result.output or "error:" in result.output
    assert _snapshot(folder) == before, "validate must not write into the data folder"
    for pii in ("张伟", "李娜", "王芳", "刘洋", "13800000001"):
        assert pii not in result.output


def test_clean_data_exits_0_with_no_problems(tmp_path: Path) -> None:
    folder = write_tables(dealer_tables(), tmp_path / "data")
    result = CliRunner().invoke(app, ["validate", "--data", str(folder), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert "no problems" in result.output


def _many_customers(n: int = 30) -> Tables:
    """The fixture with ``n`` customers, half of them without a phone and mostly 0-amount visits."""
    t = dealer_tables()
    ids = [f"C{i:03d}" for i in range(1, n + 1)]
    t["customers"] = pd.DataFrame(
        {
            "customer_id": ids,
            "phone": [None if i % 2 else f"1390000{i:04d}" for i in range(n)],
        }
    )
    t["visits"] = pd.DataFrame(
        {
            "visit_id": [f"R{i}" for i in range(n)],
            "customer_id": ids,
            "visit_date": ["2023-01-01"] * n,
            "amount": [0.0] * (n - 5) + [100.0] * 5,
        }
    )
    t.pop("vehicles")
    t.pop("surveys")
    return t


def test_warnings_alone_exit_0(tmp_path: Path) -> None:
    folder = write_tables(_many_customers(), tmp_path / "data")
    (folder / "notes.txt").write_text("not a table", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "--data", str(folder), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert "WARNING customers.phone" in result.output
    assert "WARNING visits.amount" in result.output
    assert "notes.txt" in result.output
    assert "13900000000" not in result.output


def test_very_old_dates_are_a_warning() -> None:
    t = dealer_tables()
    t["visits"].loc[0, "visit_date"] = pd.Timestamp("1900-01-01")
    report = validate_tables(t, as_of=date(2024, 6, 30))
    assert report.ok
    assert [(w.table, w.column, w.check) for w in report.warnings] == [
        ("visits", "visit_date", "very_old_date")
    ]


def test_report_counts_rows_and_gives_1_based_examples() -> None:
    t = dealer_tables()
    t["visits"].loc[[1, 4], "amount"] = -1.0
    report = validate_tables(t, as_of=date(2024, 6, 30))
    assert isinstance(report, ValidationReport) and not report.ok
    (problem,) = report.errors
    assert isinstance(problem, Problem)
    assert (problem.table, problem.column, problem.check) == ("visits", "amount", "below_min")
    assert problem.n_rows == 2 and problem.examples == (2, 5)
    assert "rows 2, 5" in report.render() and "fix:" in report.render()


def test_unparseable_cell_not_reported_twice_as_missing() -> None:
    t = dealer_tables()
    t["visits"]["amount"] = t["visits"]["amount"].astype(object)
    t["visits"].loc[3, "amount"] = "待定"
    report = validate_tables(t, as_of=date(2024, 6, 30))
    assert [(p.column, p.check, p.examples) for p in report.errors] == [
        ("amount", "not_a_number", (4,))
    ]
    assert "'待定'" in report.errors[0].message


def test_missing_source_is_a_user_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "--data", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "not found" in result.output


def test_validate_source_reads_sqlite_url(tmp_path: Path) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'dms.db'}")
    t = dealer_tables()
    t["visits"].loc[0, "amount"] = -5.0
    with engine.begin() as conn:
        for name, frame in t.items():
            frame.to_sql(name, conn, index=False)
    engine.dispose()
    report = validate_source(f"sqlite:///{tmp_path / 'dms.db'}", as_of=date(2024, 6, 30))
    assert [(p.table, p.column, p.check) for p in report.errors] == [
        ("visits", "amount", "below_min")
    ]


def test_unknown_campaign_ids_are_a_warning_that_says_how_to_declare_them() -> None:
    t = dealer_tables()
    cust = t["customers"]["customer_id"].iloc[:3].tolist()
    t["campaign_contacts"] = pd.DataFrame(
        {
            "contact_id": ["K1", "K2", "K3"],
            "customer_id": cust,
            "campaign": ["service_reminder", "member_day", "member_day"],
            "contact_date": [pd.Timestamp("2024-05-01")] * 3,
            "channel": ["sms"] * 3,
            "group": ["target"] * 3,
        }
    )
    report = validate_tables(t, as_of=date(2024, 6, 30))
    assert report.ok
    w = [p for p in report.warnings if p.check == "unknown_campaign"]
    assert len(w) == 1 and w[0].n_rows == 2 and "member_day" in w[0].message
    assert "configs/campaigns.yaml" in w[0].fix
