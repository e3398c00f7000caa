"""The run's copy of the validated input tables, so each notebook reads them without re-checking.

``cvm monthly`` reads and validates the source once (``prepare_run_tables``) and writes the
conformed tables as Parquet into ``<run>/.tables/`` with a manifest naming the source and its
files' sizes and modification times. Every notebook's ``RunContext.tables`` then reads that
copy (a plain Parquet read with the contract dtypes kept: no coercion, no validation) when the
manifest still matches the source, and falls back to ``load_tables`` otherwise. The copy holds
personal data, so the run removes it before publishing (``drop``).

At a million customers this turns ~9 validated loads of the source (one per notebook and the
up-front check, ~90 s each) into one, plus one Parquet read per notebook.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)

DIRNAME = ".tables"
MANIFEST = "manifest.json"


def cache_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / DIRNAME


def source_key(source: str) -> dict[str, Any]:
    """What identifies the source's content cheaply: its files' names, sizes and mtimes."""
    if "://" in str(source):
        return {"source": str(source).split("@")[-1]}
    p = Path(source)
    files = sorted(f for f in p.iterdir() if f.is_file()) if p.is_dir() else [p]
    return {"source": str(p.resolve()),
            "files": {f.name: [f.stat().st_size, f.stat().st_mtime_ns] for f in files}}


def write(run_dir: str | Path, source: str, frames: dict[str, pd.DataFrame],
          warnings: list[str] | None = None, extra: dict[str, Any] | None = None) -> Path:
    """Write ``frames`` (already conformed and validated) and the manifest; returns the folder."""
    out = cache_dir(run_dir)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for name, df in frames.items():
        df.to_parquet(out / f"{name}.parquet")
    manifest = {"key": source_key(source), "tables": sorted(frames),
                "warnings": list(warnings or []), **(extra or {})}
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return out


def manifest(run_dir: str | Path, source: str) -> dict[str, Any] | None:
    """The cache's manifest when it matches ``source`` as it is now, else None."""
    f = cache_dir(run_dir) / MANIFEST
    if not f.exists():
        return None
    try:
        m = json.loads(f.read_text(encoding="utf-8"))
        if m.get("key") != source_key(source):
            log.info("table cache in %s is for other data; reading the source", f.parent)
            return None
        return m
    except (OSError, ValueError):
        return None


def read(run_dir: str | Path, source: str) -> dict[str, pd.DataFrame] | None:
    """The cached tables when the cache matches ``source``, else None."""
    m = manifest(run_dir, source)
    if m is None:
        return None
    d = cache_dir(run_dir)
    return {name: pd.read_parquet(d / f"{name}.parquet") for name in m["tables"]}


def drop(run_dir: str | Path) -> None:
    """Remove the copy (it holds personal data and must not be published)."""
    shutil.rmtree(cache_dir(run_dir), ignore_errors=True)


def prepare_run_tables(source: str, run_dir: str | Path):
    """Read and validate ``source`` once; when it is usable write the run's copy.

    Returns the validation report (the caller stops on errors).
    """
    import gc

    from cvm.data.loaders import load_with_report

    frames, report = load_with_report(source)
    if report.ok:
        from cvm.models.bundle import tables_hash

        write(run_dir, source, frames, [w.message for w in report.warnings],
              {"tables_hash": tables_hash(frames)})
    del frames
    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except Exception as exc:  # noqa: BLE001 - best effort
        log.debug("pyarrow memory pool not released: %s", exc)
    return report
