"""The parts of the tables as Parquet files in the run folder (``engine.workers_read_parts``):
the rows of ``split_tables``, written once, read back by a task from its folder alone, built
into the same features, and never left half-written."""

from __future__ import annotations

import pandas as pd
import pytest

from cvm.config import load_config
from cvm.data import table_cache
from cvm.features import part_files
from cvm.features.snapshot import (
    build_features,
    feature_columns,
    feature_figures,
    feature_tables,
    finish_features,
    split_tables,
)
from cvm.features.stores import customer_stores
from support.groups import END, group_tables


@pytest.fixture(scope="module")
def group():
    return group_tables(2000, 7)


@pytest.fixture()
def run(tmp_path, group):
    """A run folder with the run's copy of the tables (what ``cvm monthly`` writes)."""
    table_cache.write(tmp_path, str(tmp_path), group, extra={"tables_hash": "h1"})
    return tmp_path, table_cache.LazyTables(
        {n: table_cache.cache_dir(tmp_path) / f"{n}.parquet" for n in group}
    )


def _plan(tables, drop: int = 0) -> tuple[pd.Series, int]:
    stores = customer_stores(tables, END, load_config())
    names = pd.Index(sorted(stores.unique()))
    return pd.Series(names.get_indexer(stores), index=stores.index).iloc[drop:], len(names)


def _frames(run_dir) -> dict[str, pd.DataFrame]:
    return dict(table_cache.read(run_dir, str(run_dir)).items())


@pytest.mark.parametrize("drop", [0, 40])  # 40 customers in no part: one more part
def test_part_files_hold_the_rows_of_split_tables(run, drop) -> None:
    run_dir, tables = run
    part_of, n = _plan(tables, drop)
    cols = feature_columns(load_config())
    paths = part_files.write_parts(run_dir, "features", tables, part_of, n, True, cols)
    want = split_tables(feature_tables(_frames(run_dir)), part_of, n, referrals=True)
    assert len(paths) == len(want) == n + (1 if drop else 0)
    for path, part in zip(paths, want, strict=True):
        assert str(table_cache.cache_dir(run_dir)) in path  # inside the run's private copy
        got = part_files.read_part(path)
        assert sorted(got) == sorted(part)
        for name, df in part.items():
            pd.testing.assert_frame_equal(got[name], df, check_exact=True)
            assert list(got[name].columns) == list(df.columns)  # only the features' columns


def test_parts_are_written_once_and_rewritten_for_other_tables(run) -> None:
    run_dir, tables = run
    part_of, n = _plan(tables)
    root = part_files.parts_dir(run_dir, "features")
    part_files.write_parts(run_dir, "features", tables, part_of, n, True)
    stamp = (root / "0" / "visits.parquet").stat().st_mtime_ns
    part_files.write_parts(run_dir, "features", tables, part_of, n, True)
    assert (root / "0" / "visits.parquet").stat().st_mtime_ns == stamp  # reused
    part_files.write_parts(run_dir, "features", tables, part_of, n, False)  # another cut
    assert (root / "0" / "visits.parquet").stat().st_mtime_ns != stamp
    table_cache.drop(run_dir)  # the run's copy goes before publishing: the parts with it
    assert not table_cache.cache_dir(run_dir).exists()


def test_a_failed_write_leaves_no_part_behind(run, monkeypatch) -> None:
    run_dir, tables = run
    part_of, n = _plan(tables)

    def broken(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    with pytest.raises(OSError, match="disk full"):
        part_files.write_parts(run_dir, "features", tables, part_of, n, True)
    parts = table_cache.cache_dir(run_dir) / part_files.PARTS
    assert not any(parts.iterdir())  # neither the folder nor its temporary one


def test_a_task_reading_its_part_builds_the_whole_builds_rows(run) -> None:
    run_dir, tables = run
    cfg = load_config()
    frames = _frames(run_dir)
    part_of, n = _plan(tables)
    paths = part_files.write_parts(
        run_dir, "features", tables, part_of, n, True, feature_columns(cfg)
    )
    figures = feature_figures(feature_tables(tables, cfg), END, cfg)
    built = [part_files.build_part_at(p, END, cfg, figures, None) for p in paths]
    whole = build_features(frames, END, cfg)
    pd.testing.assert_frame_equal(finish_features(built, END), whole, check_exact=True)
    # a sample of customers: each task cuts its part to them, the sample's build
    who = whole.index[::7]
    built = [part_files.build_part_at(p, END, cfg, figures, who) for p in paths]
    sample = build_features(frames, END, cfg, customers=who)
    pd.testing.assert_frame_equal(finish_features(built, END), sample, check_exact=True)
