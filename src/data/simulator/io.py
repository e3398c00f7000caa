"""Writing a simulated data set: contract tables to OUT, ground truth to OUT/truth, atomically."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cvm.config import CvmError

log = logging.getLogger("cvm.simulator")


def check_out(out: Path, force: bool) -> None:
    """Refuse to overwrite a non-empty directory unless ``force``."""
    if out.exists() and not out.is_dir():
        raise CvmError(f"--out {out} exists and is not a directory")
    if out.exists() and any(out.iterdir()) and not force:
        raise CvmError(f"--out {out} is not empty; choose another directory or pass --force")


def _write_table(t: pa.Table, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        pq.write_table(t, path.with_suffix(".parquet"), compression="zstd")
        return
    cols = []
    for field, col in zip(t.schema, t.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            col = pc.cast(col, pa.date32())
        elif pa.types.is_dictionary(field.type):
            col = pc.cast(col, pa.string())
        cols.append(col)
    t2 = pa.table(dict(zip(t.column_names, cols, strict=True)))
    pacsv.write_csv(t2, path.with_suffix(".csv"))


def write_dataset(
    out: Path,
    tables: dict[str, pa.Table],
    truth: dict[str, pa.Table],
    meta: dict[str, Any],
    fmt: str,
    force: bool,
) -> Path:
    """Write into a temp dir next to OUT, then swap it in (no half-written data set)."""
    if fmt not in ("parquet", "csv"):
        raise CvmError(f"--format must be parquet or csv, not {fmt!r}")
    check_out(out, force)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / "truth").mkdir()
        for name, t in tables.items():
            _write_table(t, tmp / name, fmt)
        for name, t in truth.items():
            _write_table(t, tmp / "truth" / name, "parquet")
        (tmp / "truth" / "meta.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True, default=str),
            encoding="utf-8",
        )
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            if old.exists():
                shutil.rmtree(old)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("wrote %s (%s) and its truth/", out, fmt)
    return out
