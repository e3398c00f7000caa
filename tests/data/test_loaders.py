"""load_tables: the same data from every supported source gives identical contract frames."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dealer_fixture import dealer_tables, write_tables
from hypothesis import given, settings
from hypothesis import strategies as st

from cvm.config import CvmError
from cvm.data.coerce import to_date
from cvm.data.contract import TABLES
from cvm.data.loaders import DataValidationError, load_tables, load_with_report
from cvm.data.mapping import column_aliases, normalize_name, table_for_name

AS_OF = date(2024, 6, 30)

# Chinese DMS headers (GBK export) for the fixture's columns
ZH_HEADERS = {
    "visits": {
        "visit_id": "工单号",
        "customer_id": "客户编号",
        "vehicle_id": "车架号",
        "visit_date": "进厂日期",
        "amount": "结算金额（元）",
        "visit_type": "维修类型",
        "mileage_km": "里程",
        "quote_items_offered": "报价项目数",
    },
    "customers": {
        "customer_id": "客户编号",
        "created_date": "建档日期",
        "name": "姓名",
        "phone": "手机",
        "gender": "性别",
        "birth_year": "出生年份",
        "has_children": "有无子女",
        "city": "城市",
    },
    "vehicles": {
        "vehicle_id": "VIN",
        "customer_id": "客户编号",
        "model": "车型",
        "purchase_date": "购车日期",
        "sold_by_store": "本店销售",
        "warranty_km": "保修里程",
    },
    "surveys": {
        "survey_id": "回访编号",
        "customer_id": "客户编号",
        "visit_id": "工单号",
        "survey_date": "回访日期",
        "satisfaction": "满意度",
    },
}
ZH_FILES = {"visits": "维修记录", "customers": "客户", "vehicles": "车辆", "surveys": "回访"}
ZH_VALUES = {
    "first_service": "首保",
    "maintenance": "保养",
    "repair": "维修",
    "accident": "事故",
    "M": "男",
    "F": "女",
}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")


def expected() -> dict[str, pd.DataFrame]:
    """The fixture in contract dtypes: what every source must load to."""
    out = {}
    for name, frame in dealer_tables().items():
        frame = frame.copy()
        for col in frame.columns:
            kind = TABLES[name].column(col).kind
            if kind in ("id", "str", "category"):
                frame[col] = frame[col].astype("str")
            elif kind == "date":
                frame[col] = frame[col].astype("datetime64[ns]")
        out[name] = frame
    return out


def _dates_three_ways(s: pd.Series) -> pd.Series:
    return pd.Series(
        [None if pd.isna(v) else v.strftime(DATE_FORMATS[i % 3]) for i, v in enumerate(s)],
        index=s.index,
        dtype=object,
    )


def write_gbk_chinese(folder: Path) -> Path:
    """Chinese file names and headers, GBK bytes, mixed date formats, 是/否, Chinese categories."""
    folder.mkdir(parents=True)
    for name, frame in dealer_tables().items():
        frame = frame.copy()
        for col in frame.columns:
            kind = TABLES[name].column(col).kind
            if kind == "date":
                frame[col] = _dates_three_ways(frame[col])
            elif kind == "bool":
                frame[col] = frame[col].map({True: "是", False: "否"}).astype(object)
            elif kind == "category":
                frame[col] = frame[col].map(lambda v: ZH_VALUES.get(v, v))
        if name == "visits":
            frame["amount"] = [f"{v:,.2f}" for v in frame["amount"]]
        frame = frame.rename(columns=ZH_HEADERS[name])
        frame.to_csv(folder / f"{ZH_FILES[name]}.csv", index=False, encoding="gbk")
    return folder


def write_workbook(folder: Path) -> Path:
    """One workbook, a sheet per table; visit dates as Excel serial numbers."""
    folder.mkdir(parents=True)
    origin = pd.Timestamp("1899-12-30")
    with pd.ExcelWriter(folder / "dms_export.xlsx") as xl:
        for name, frame in dealer_tables().items():
            if name == "visits":
                frame = frame.assign(visit_date=(frame["visit_date"] - origin).dt.days)
            frame.to_excel(xl, sheet_name=ZH_FILES[name], index=False)
    return folder


def write_sqlite(folder: Path) -> str:
    import sqlalchemy as sa

    folder.mkdir(parents=True)
    url = f"sqlite:///{folder / 'dms.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for name, frame in dealer_tables().items():
            frame.to_sql(name, conn, index=False)
    engine.dispose()
    return url


SOURCES = {
    "csv-utf8": lambda d: write_tables(dealer_tables(), d, "csv"),
    "csv-gbk-chinese": write_gbk_chinese,
    "xlsx-per-table": lambda d: write_tables(dealer_tables(), d, "xlsx"),
    "xlsx-workbook": write_workbook,
    "parquet": lambda d: write_tables(dealer_tables(), d, "parquet"),
    "sqlite": write_sqlite,
}


@pytest.mark.parametrize("kind", list(SOURCES))
def test_every_source_loads_identical_frames(tmp_path: Path, kind: str) -> None:
    source = SOURCES[kind](tmp_path / kind)
    got = load_tables(source, as_of=AS_OF)
    want = expected()
    assert sorted(got) == sorted(want)
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name], obj=f"{kind}:{name}")


def test_gbk_file_is_detected(tmp_path: Path) -> None:
    folder = write_gbk_chinese(tmp_path / "zh")
    raw = (folder / "客户.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert load_tables(folder, ["customers"], as_of=AS_OF)["customers"]["name"].iloc[0] == "张伟"


def test_subset_subfolders_ignored_and_extra_columns_kept(tmp_path: Path) -> None:
    tables = dealer_tables()
    tables["visits"]["workshop_bay"] = ["A", "B"] * 4
    folder = write_tables(tables, tmp_path / "d")
    (folder / "truth").mkdir()
    (folder / "truth" / "visits.csv").write_bytes(b"\xff\xfe garbage")
    got = load_tables(folder, ["visits"], as_of=AS_OF)
    assert list(got) == ["visits"]
    assert got["visits"]["workshop_bay"].tolist() == ["A", "B"] * 4


def test_sqlite_url_survives_path_slash_collapsing(tmp_path: Path) -> None:
    url = write_sqlite(tmp_path / "db")
    collapsed = str(Path(url))  # what a typer Path option makes of the URL
    assert collapsed != url
    assert len(load_tables(collapsed, ["visits"], as_of=AS_OF)["visits"]) == 8


def test_validation_errors_raise_cvm_error_with_report(tmp_path: Path) -> None:
    tables = dealer_tables()
    tables["visits"]["amount"] = tables["visits"]["amount"].astype(object)
    tables["visits"].loc[2, "amount"] = "n/a?"
    folder = write_tables(tables, tmp_path / "d")
    with pytest.raises(DataValidationError) as info:
        load_tables(folder, as_of=AS_OF)
    assert isinstance(info.value, CvmError) and info.value.exit_code == 2
    assert "visits.amount" in str(info.value)
    assert info.value.report.errors[0].examples == (3,)
    loose = load_tables(folder, validate=False, as_of=AS_OF)["visits"]
    assert pd.isna(loose.loc[2, "amount"]) and loose["amount"].dtype == "float64"


def test_typed_parquet_numbers_ids_and_dates(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    pd.DataFrame(
        {
            "customer_id": [1001.0, 1002.0, np.nan],  # ids as numbers (Excel / SQL habit)
            "visit_date": [20230105, 45000, 20240229],  # YYYYMMDD and Excel serial as ints
            "amount": pd.array([1, 2, 3], dtype="int32"),
        }
    ).to_parquet(folder / "visits.parquet")
    got = load_tables(folder, validate=False)["visits"]
    assert got["customer_id"].tolist()[:2] == ["1001", "1002"] and pd.isna(got["customer_id"][2])
    assert got["visit_date"].tolist() == [
        pd.Timestamp("2023-01-05"),
        pd.Timestamp("2023-03-15"),
        pd.Timestamp("2024-02-29"),
    ]
    assert got["amount"].dtype == "float64"


def test_datetimes_with_time_and_timezone_are_normalized(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    folder.mkdir()
    pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "visit_date": pd.to_datetime(["2023-01-05 10:30", "2023-02-01 23:59"]).tz_localize(
                "UTC"
            ),
            "amount": [1.0, 2.0],
        }
    ).to_parquet(folder / "visits.parquet")
    got = load_tables(folder, as_of=AS_OF)["visits"]
    assert got["visit_date"].dtype == "datetime64[ns]"
    assert got["visit_date"].dt.hour.tolist() == [0, 0]


def test_unknown_table_name_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(CvmError, match="unknown table"):
        load_tables(write_tables(dealer_tables(), tmp_path / "d"), ["repairs"])


def test_aliases_resolve_and_do_not_collide() -> None:
    assert normalize_name("结算金额（元）") == normalize_name("结算金额")
    assert normalize_name(" Customer ID ") == "customerid"
    assert table_for_name("维修记录") == "visits" and table_for_name("工单") == "visits"
    assert table_for_name("客户") == "customers"
    for name, spec in TABLES.items():
        aliases = column_aliases(name)  # raises on a collision or an unknown column
        assert set(aliases.values()) == set(spec.names)
    assert column_aliases("visits")[normalize_name("进厂日期")] == "visit_date"
    assert column_aliases("visits")[normalize_name("VIN")] == "vehicle_id"
    assert column_aliases("visits")[normalize_name("服务顾问")] == "service_advisor_id"


def test_load_with_report_returns_frames_and_problems(tmp_path: Path) -> None:
    tables = dealer_tables()
    tables["visits"].loc[0, "amount"] = -3.0
    folder = write_tables(tables, tmp_path / "d")
    frames, report = load_with_report(folder, as_of=AS_OF)
    assert not report.ok and report.errors[0].column == "amount"
    assert len(frames["visits"]) == 8 and frames["visits"]["amount"].dtype == "float64"


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.dates(min_value=date(1950, 1, 1), max_value=date(2099, 12, 31)), min_size=1, max_size=12
    )
)
def test_dates_in_three_formats_and_excel_serials_parse_back(days: list[date]) -> None:
    stamps = pd.Series(pd.to_datetime(days))
    text = _dates_three_ways(stamps)
    serial = (stamps - pd.Timestamp("1899-12-30")).dt.days.astype(object)
    mixed = pd.Series(
        [t if i % 2 else s for i, (t, s) in enumerate(zip(text, serial, strict=True))], dtype=object
    )
    for raw in (text, mixed):
        parsed, bad = to_date(raw)
        assert not bad.any()
        assert parsed.tolist() == stamps.astype("datetime64[ns]").tolist()


# --- deferred reading (one raw table at a time) ----------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_deferred_read_gives_the_eager_frames_and_report(tmp_path: Path, fmt: str) -> None:
    """``read_source(defer=True)`` (what ``load_tables`` uses) reads each file when validation
    reaches it; the conformed frames and the report are those of reading every file first."""
    from cvm.data.readers import read_source
    from cvm.data.validate import check_raw

    tables = dealer_tables()
    tables["visits"].loc[1, "customer_id"] = "C999"  # an orphan key: the report has an error
    folder = write_tables(tables, tmp_path / "d", fmt)
    (folder / "notes.txt").write_text("not a table", encoding="utf-8")
    lazy, probs, ignored = read_source(folder, defer=True)
    assert lazy and all(r.frame is None for r in lazy)  # nothing read yet
    got_report, got = check_raw(lazy, probs, ignored, AS_OF)
    eager, probs, ignored = read_source(folder)
    assert all(r.frame is not None for r in eager)
    want_report, want = check_raw(eager, probs, ignored, AS_OF)
    assert sorted(got) == sorted(want)
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name])
    assert got_report.render() == want_report.render()
    assert not got_report.ok and any(p.check == "orphan_key" for p in got_report.errors)


def test_deferred_unreadable_file_is_reported_once(tmp_path: Path) -> None:
    """A deferred file that cannot be read is a read problem of its table, found when opened;
    the table then counts as unreadable, not as missing."""
    folder = write_tables(dealer_tables(), tmp_path / "d", "parquet")
    (folder / "visits.parquet").write_bytes(b"not parquet at all")
    frames, report = load_with_report(folder)
    checks = [(p.table, p.check) for p in report.errors]
    assert ("visits", "unreadable") in checks
    assert ("visits", "missing_table") not in checks
    assert "visits" not in frames and "customers" in frames


def test_raw_table_opens_once() -> None:
    from cvm.data.readers import RawTable

    calls: list[int] = []

    def read() -> tuple[list[RawTable], list]:
        calls.append(1)
        return [RawTable("visits", pd.DataFrame({"a": [1]}), "visits.csv")], []

    raw = RawTable("visits", None, "visits.csv", read)
    got, _ = raw.open()
    assert got[0].frame is not None and calls == [1]
    again, _ = raw.open()  # the reader is dropped once used: no second read
    assert again == [raw] and calls == [1]
