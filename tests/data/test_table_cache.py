"""The run's validated copy of the tables: read back identical except personal data, ignored
when the source changed."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from dealer_fixture import dealer_tables, write_tables

from cvm.data import table_cache
from cvm.data.hashing import tables_hash
from cvm.data.loaders import load_tables
from cvm.run_context import RunContext


def _source(tmp_path: Path) -> Path:
    src = tmp_path / "export"
    write_tables(dealer_tables(), src, "parquet")
    return src


def test_prepare_writes_a_copy_that_reads_back_identical(tmp_path: Path) -> None:
    src, run = _source(tmp_path), tmp_path / "run"
    report = table_cache.prepare_run_tables(str(src), run)
    assert report.ok
    loaded = load_tables(str(src))
    cached = table_cache.read(run, str(src))
    assert cached is not None and set(cached) == set(loaded)
    for name, df in loaded.items():
        pd.testing.assert_frame_equal(cached[name], table_cache.redact(name, df))
    m = table_cache.manifest(run, str(src))
    assert m["tables_hash"] == tables_hash(loaded)
    assert m["warnings"] == [w.message for w in report.warnings]
    # a notebook's context reads the copy, and records what the validation found
    ctx = RunContext.open(data=str(src), as_of="2024-06-30", run_dir=run)
    assert ctx.cached("tables_hash") == m["tables_hash"]
    pd.testing.assert_frame_equal(ctx.tables["visits"], loaded["visits"])
    table_cache.drop(run)
    assert not (run / ".tables").exists() and ctx.cached("warnings") is None


def test_the_copy_holds_no_personal_data_but_keeps_presence_and_masked_phones(
    tmp_path: Path,
) -> None:
    src, run = _source(tmp_path), tmp_path / "run"
    table_cache.prepare_run_tables(str(src), run)
    raw = b"".join(f.read_bytes() for f in (run / ".tables").glob("*.parquet"))
    original = load_tables(str(src))["customers"]
    for v in [*original["name"].dropna(), *original["phone"].dropna()]:
        assert str(v).encode() not in raw
    cust = table_cache.read(run, str(src))["customers"]
    assert cust["name"].notna().tolist() == original["name"].notna().tolist()
    assert cust["phone"].iloc[0] == "138xxxx0001"
    from cvm.campaigns.lists import mask_phone

    assert mask_phone(cust["phone"].iloc[0]) == mask_phone(original["phone"].iloc[0])


def test_a_changed_source_is_read_again(tmp_path: Path) -> None:
    src, run = _source(tmp_path), tmp_path / "run"
    table_cache.prepare_run_tables(str(src), run)
    f = src / "visits.parquet"
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    assert table_cache.read(run, str(src)) is None
    ctx = RunContext.open(data=str(src), as_of="2024-06-30", run_dir=run)
    assert ctx.cached("tables_hash") is None and len(ctx.tables["visits"]) > 0


def test_invalid_data_writes_no_copy(tmp_path: Path) -> None:
    t = dealer_tables()
    t["visits"] = t["visits"].drop(columns=["visit_date"])
    src, run = tmp_path / "bad", tmp_path / "run"
    write_tables(t, src, "parquet")
    report = table_cache.prepare_run_tables(str(src), run)
    assert not report.ok and table_cache.read(run, str(src)) is None


def test_tables_are_read_on_first_access(tmp_path: Path) -> None:
    src, run = _source(tmp_path), tmp_path / "run"
    table_cache.prepare_run_tables(str(src), run)
    t = table_cache.read(run, str(src))
    assert isinstance(t, dict) and "visits" in t and t.loaded() == []
    assert len(t["visits"]) > 0 and t.loaded() == ["visits"]
    assert t.get("nope") is None and t.get("customers") is not None
    everything = {**t}
    assert set(everything) == set(t) and all(
        isinstance(v, pd.DataFrame) for v in everything.values()
    )
    assert sorted(t.loaded()) == sorted(t)


# --- vectorized paths (issue 21): the same values as the cell-by-cell rules ------------------
PHONES = [
    "138-1234-5678",
    " 13812345678 ",
    "1234567",
    "",
    None,
    "+86 138 1234 5678",
    "abc",
    "---",
    "12345678",
    "(010)6512 3456 ext 9",
]


@pytest.mark.parametrize("extra", [[], ["電話 138123456789", "１３８１２３４５６７８"]])
def test_masked_phones_equal_the_cell_rule(extra) -> None:
    """ASCII columns take the Arrow path, others the cell-by-cell one: the same masks."""
    from cvm.data.table_cache import _masked_phone, _masked_phones

    s = pd.Series(PHONES + extra, dtype="str", name="phone")
    got = _masked_phones(s)
    want = s.astype(object).map(_masked_phone)
    pd.testing.assert_series_equal(pd.Series(got, dtype="str"), pd.Series(want, dtype="str"))
    assert got[0] == "138xxxx5678" and got[2] == "x" and pd.isna(got[3]) and pd.isna(got[4])


def test_to_id_arrow_path_equals_the_distinct_value_path() -> None:
    """Arrow text ids are converted cell by cell in Arrow; the result is the one the
    distinct-value path (``_via_uniques``) gives, for every kind of id text."""
    from cvm.data import coerce

    s = pd.Series(
        [" 1001.0", "007", None, "", "  ", "V-12", "１２", "客户 1", "12.50", "+3.00", "1001.0"],
        dtype="str",
    )
    got, bad = coerce.to_id(s)
    ref = coerce._via_uniques(s, coerce._integral_to_text, coerce.STR)
    ref = ref.where(ref.ne("")).astype(coerce.STR)
    pd.testing.assert_series_equal(got, ref)
    assert got.tolist()[:2] == ["1001", "007"] and not bad.any()


def test_select_reads_only_the_columns_asked_for(tmp_path: Path) -> None:
    """``select``: a column-pruned read of the copy gives the columns of the whole table's
    frame, leaves the table unread, skips columns the table lacks; a loaded table is sliced."""
    src, run = _source(tmp_path), tmp_path / "run"
    table_cache.prepare_run_tables(str(src), run)
    t = table_cache.read(run, str(src))
    got = table_cache.select(t, "visits", ["dealer_id", "customer_id", "no_such_column"])
    assert t.loaded() == []  # not read whole
    whole = table_cache.read(run, str(src))["visits"]
    want = [c for c in ["dealer_id", "customer_id"] if c in whole.columns]
    assert "customer_id" in want and list(got.columns) == want
    pd.testing.assert_frame_equal(got, whole[want])
    t["visits"]  # once loaded, the loaded frame is sliced
    pd.testing.assert_frame_equal(table_cache.select(t, "visits", want), whole[want])
    assert table_cache.select(t, "no_such_table", ["x"]) is None
    plain = {"visits": whole}
    pd.testing.assert_frame_equal(table_cache.select(plain, "visits", want), whole[want])


def test_a_kept_selection_is_read_once_and_gives_way_to_the_whole_table(
    tmp_path: Path, monkeypatch
) -> None:
    """``select(keep=True)`` (the feature builds): the pruned read is kept for the next
    selection of those columns (the file is not read again); reading the table whole
    replaces it, and every selection then slices the whole frame."""
    src, run = _source(tmp_path), tmp_path / "run"
    table_cache.prepare_run_tables(str(src), run)
    t = table_cache.read(run, str(src))
    reads: list[object] = []
    real = pd.read_parquet

    def counting(*a, **k):
        reads.append(k.get("columns"))
        return real(*a, **k)

    monkeypatch.setattr(table_cache.pd, "read_parquet", counting)
    a = table_cache.select(t, "visits", ["customer_id", "visit_date"], keep=True)
    b = table_cache.select(t, "visits", ["visit_date"], keep=True)
    assert len(reads) == 1 and t.loaded() == []
    c = table_cache.select(t, "visits", ["customer_id", "amount"], keep=True)
    assert len(reads) == 2  # a column not kept yet: read again, with the kept ones
    whole = t["visits"]
    assert len(reads) == 3 and t.loaded() == ["visits"]
    pd.testing.assert_frame_equal(a, whole[["customer_id", "visit_date"]])
    pd.testing.assert_frame_equal(b, whole[["visit_date"]])
    pd.testing.assert_frame_equal(c, whole[["customer_id", "amount"]])
    table_cache.select(t, "visits", ["amount"], keep=True)
    assert len(reads) == 3


def test_a_narrowed_table_is_read_without_the_columns_dropped(tmp_path: Path) -> None:
    """``narrow`` (a step that reads a table whole but never some of its columns): the whole
    read leaves them out and is otherwise the whole table; a selection may still ask for
    them; a table already read and plain frames are left as they are."""
    src, run = _source(tmp_path), tmp_path / "run"
    table_cache.prepare_run_tables(str(src), run)
    whole = table_cache.read(run, str(src))["visits"]
    t = table_cache.read(run, str(src))
    assert "visit_id" in whole.columns
    table_cache.narrow(t, "visits", ["visit_id", "no_such_column"])
    assert t.loaded() == []  # narrowing reads nothing
    got = t["visits"]
    pd.testing.assert_frame_equal(got, whole.drop(columns="visit_id"))
    table_cache.narrow(t, "visits", ["customer_id"])  # already read: unchanged
    assert "customer_id" in t["visits"].columns
    t2 = table_cache.read(run, str(src))
    table_cache.narrow(t2, "visits", ["visit_id"])
    pd.testing.assert_frame_equal(
        table_cache.select(t2, "visits", ["visit_id"]), whole[["visit_id"]]
    )
    plain = {"visits": whole}
    table_cache.narrow(plain, "visits", ["visit_id"])
    assert plain["visits"] is whole
