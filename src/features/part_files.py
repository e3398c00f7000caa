"""The tables cut into per-store (or per-block) parts as Parquet files in the run folder, so
Dask workers read their part themselves instead of receiving it from the notebook kernel.

With ``engine.workers_read_parts`` (``--engine dask``), a step that works part by part
(features, segments) writes each part once a run with :func:`write_parts`, table by table:
the kernel holds one table and its grouped rows at a time, not every table and every part,
and scatters nothing. Each task then gets only the part's folder and reads it
(:func:`read_part`); the rows are those of ``cvm.features.snapshot.split_tables``, in the same
order, so the outputs are those of the scatter path and of ``--engine local``.

Layout, inside the run's private copy of the tables (``cvm.data.table_cache``, removed with it
before the run is published or when it fails)::

    <run>/.tables/parts/<kind>/parts.json           what was written, and from what
    <run>/.tables/parts/<kind>/shared/<table>.parquet   tables without customer_id (staff)
    <run>/.tables/parts/<kind>/<k>/<table>.parquet      part k's rows of each other table

A kind is written into a temporary folder beside it and renamed into place last, so a reader
sees every part or none; a failed write removes its temporary folder. On a real cluster the
run folder must be on storage every worker can read (docs/dealer-groups.md).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cvm.data import table_cache
from cvm.features.snapshot import build_part, part_rows, restrict_tables
from cvm.fileio import dumps, write_text

log = logging.getLogger(__name__)

PARTS = "parts"
MANIFEST = "parts.json"
SHARED = "shared"


def parts_dir(run_dir: str | Path, kind: str) -> Path:
    """Where the parts of ``kind`` (features, segments) of a run live."""
    return table_cache.cache_dir(Path(run_dir).resolve()) / PARTS / kind


def _columns(tables: dict[str, pd.DataFrame], name: str) -> list[str]:
    """Every column of ``tables[name]``, without reading the run copy's file whole."""
    if isinstance(tables, table_cache.LazyTables):
        return tables.columns_of(name)
    df = tables[name]
    return [] if df is None else list(df.columns)


def _key(
    run_dir: Path,
    part_of: pd.Series,
    n_parts: int,
    referrals: bool,
    columns: dict[str, list[str]] | None,
    names: list[str],
) -> dict[str, Any] | None:
    """What the parts are cut from: the run copy's tables hash, the customers' parts and the
    cut's options. None when the tables are not the run's copy (then never reused)."""
    f = table_cache.cache_dir(run_dir) / table_cache.MANIFEST
    try:
        tables_hash = json.loads(f.read_text(encoding="utf-8")).get("tables_hash")
    except (OSError, ValueError):
        tables_hash = None
    if tables_hash is None:
        return None
    h = pd.util.hash_pandas_object(part_of.astype("int64"), index=True).to_numpy()
    return {
        "tables_hash": str(tables_hash),
        "part_of": [len(part_of), int(h.sum(dtype=np.uint64))],
        "n_parts": int(n_parts),
        "referrals": bool(referrals),
        "columns": columns,
        "names": names,
    }


def write_parts(
    run_dir: str | Path,
    kind: str,
    tables: dict[str, pd.DataFrame],
    part_of: pd.Series,
    n_parts: int,
    referrals: bool,
    columns: dict[str, list[str]] | None = None,
    names: list[str] | None = None,
) -> list[str]:
    """Write ``tables`` cut like ``split_tables(tables, part_of, n_parts, referrals)`` (only
    ``names``, only ``columns`` of each when given), once: a folder already written from the
    same tables and cut is reused. Returns the parts' folders (absolute), in part order."""
    root = parts_dir(run_dir, kind)
    names = [n for n in tables if (names is None or n in names)]  # the tables' order
    if columns is not None:
        names = [n for n in names if n in columns]
    cols = {n: list(columns[n]) for n in names} if columns is not None else None
    key = _key(Path(run_dir).resolve(), part_of, n_parts, referrals, cols, names)
    m = read_manifest(root)
    if key is not None and m is not None and m.get("key") == key:
        log.info("parts of %s already written: %d parts in %s", kind, m["n"], root)
        return [str(root / str(k)) for k in range(m["n"])]
    tmp = root.parent / f".{kind}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / SHARED).mkdir(parents=True)
    for k in range(n_parts + 1):
        (tmp / str(k)).mkdir()
    try:
        shared, empty, spill = _write_tables(tmp, tables, part_of, n_parts, referrals, cols, names)
        n = n_parts + 1 if spill else n_parts
        if not spill:
            shutil.rmtree(tmp / str(n_parts))
        manifest = {"key": key, "n": n, "tables": names, "shared": shared, "none": empty}
        write_text(tmp / MANIFEST, dumps(manifest, indent=None))
        shutil.rmtree(root, ignore_errors=True)
        tmp.rename(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("wrote the parts of %s: %d parts, %d tables, in %s", kind, n, len(names), root)
    return [str(root / str(k)) for k in range(n)]


def _write_tables(
    out: Path,
    tables: dict[str, pd.DataFrame],
    part_of: pd.Series,
    n_parts: int,
    referrals: bool,
    cols: dict[str, list[str]] | None,
    names: list[str],
) -> tuple[list[str], list[str], bool]:
    """Each table's parts into ``out``, one table at a time (read, group, write, drop)."""
    key = pd.Index(part_of.index).astype("str")
    code = np.asarray(part_of.to_numpy(), dtype=np.int64)
    shared: list[str] = []
    empty: list[str] = []
    spill = False
    for name in names:
        # a column-pruned read is kept for the step's own use (the figures across customers);
        # a whole table is read for the write only
        want = cols[name] if cols is not None else _columns(tables, name)
        df = table_cache.select(tables, name, want, keep=cols is not None)
        if df is None:
            empty.append(name)
            continue
        if "customer_id" not in df.columns:
            df.to_parquet(out / SHARED / f"{name}.parquet")
            shared.append(name)
            continue
        take, bounds, spilled = part_rows(name, df, key, code, n_parts, referrals)
        spill |= spilled
        grouped = df.iloc[take]
        del df
        for k in range(n_parts + 1):
            grouped.iloc[bounds[k] : bounds[k + 1]].to_parquet(out / str(k) / f"{name}.parquet")
        del grouped
        table_cache.release_memory()
    return shared, empty, spill


def read_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest of a written kind (None when absent or unreadable)."""
    try:
        return json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_part(path: str | Path) -> dict[str, pd.DataFrame]:
    """The tables of one part (its folder, from :func:`write_parts`), in the written order."""
    path = Path(path)
    m = read_manifest(path.parent)
    if m is None:
        raise FileNotFoundError(f"no parts manifest beside {path}")
    out: dict[str, Any] = {}
    for name in m["tables"]:
        if name in m["none"]:
            out[name] = None
        elif name in m["shared"]:
            out[name] = pd.read_parquet(path.parent / SHARED / f"{name}.parquet")
        elif (path / f"{name}.parquet").exists():
            out[name] = pd.read_parquet(path / f"{name}.parquet")
    return out


def build_part_at(
    path: str, as_of: Any, cfg: dict[str, Any], figures: Any, customers: pd.Index | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``build_part`` on the part in folder ``path`` (a Dask task: the worker reads its part),
    cut to ``customers`` when given (``restrict_tables``: the same rows as cutting first)."""
    tables = read_part(path)
    if customers is not None:
        tables = restrict_tables(tables, customers)
    return build_part(tables, as_of, cfg, figures)
