"""The run's copy of the validated input tables, so each notebook reads them without re-checking.

``cvm monthly`` reads and validates the source once, in memory, then writes the conformed
tables as Parquet into ``<run>/.tables/`` (``write_run_tables``; ``prepare_run_tables`` does
both) with a manifest naming the source and its files' sizes and modification times. The copy
keeps no personal data (``redact``): names, addresses, WeChat ids and e-mails become a presence
mark, phones their masked form, so the profile-completeness features and the masked phone of
the lists are unchanged. Every notebook's ``RunContext.tables`` then reads that copy (a plain
Parquet read with the contract dtypes kept: no coercion, no validation) when the manifest still
matches the source, and falls back to ``load_tables`` otherwise. The run removes the copy
before publishing (``drop``), and with it the stores' parts the Dask workers read
(``<run>/.tables/parts/``, ``cvm.features.part_files``).

At a million customers this turns ~9 validated loads of the source (one per notebook and the
up-front check, ~90 s each) into one, plus one Parquet read per notebook.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path
from typing import Any

import pandas as pd

from cvm.fileio import dumps, write_text

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
    return {
        "source": str(p.resolve()),
        "files": {f.name: [f.stat().st_size, f.stat().st_mtime_ns] for f in files},
    }


def write(
    run_dir: str | Path,
    source: str,
    frames: dict[str, pd.DataFrame],
    warnings: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``frames`` (already conformed and validated) and the manifest; returns the folder."""
    out = cache_dir(run_dir)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for name, df in frames.items():
        redact(name, df).to_parquet(out / f"{name}.parquet")
    manifest = {
        "key": source_key(source),
        "tables": sorted(frames),
        "warnings": list(warnings or []),
        **(extra or {}),
    }
    write_text(out / MANIFEST, dumps(manifest, indent=None))
    return out


PRESENT = "*"
"""What a personal-data cell becomes in the copy (missing cells stay missing)."""


def _masked_phone(v: object) -> object:
    """``13812345678`` → ``138xxxx5678``: what the lists show (``138****5678``) and no more."""
    if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
        return None
    s = "".join(ch for ch in str(v) if ch.isalnum())
    if not s:
        return None
    return f"{s[:3]}xxxx{s[-4:]}" if len(s) >= 8 else "x"


def _masked_phones(s: pd.Series) -> pd.Series:
    """``_masked_phone`` of every cell; in Arrow when the column is ASCII text (for ASCII,
    ``str.isalnum`` is ``[A-Za-z0-9]``), else cell by cell (a million phones: ~15 s)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = getattr(s.array, "_pa_array", None) if isinstance(s.dtype, pd.StringDtype) else None
    if arr is None or pc.any(pc.invert(pc.string_is_ascii(arr))).as_py():
        return s.astype(object).map(_masked_phone)
    text = pc.replace_substring_regex(arr, pattern="[^A-Za-z0-9]", replacement="")
    n = pc.utf8_length(text)
    head, tail = pc.utf8_slice_codeunits(text, 0, 3), pc.utf8_slice_codeunits(text, -4)
    long = pc.binary_join_element_wise(
        head, pa.scalar("xxxx", type=text.type), tail, pa.scalar("", type=text.type)
    )
    masked = pc.if_else(pc.greater_equal(n, 8), long, pa.scalar("x", type=long.type))
    masked = pc.if_else(pc.greater(n, 0), masked, pa.scalar(None, type=long.type))
    out = pd.Series(masked.to_numpy(zero_copy_only=False), index=s.index, dtype=object)
    return out.where(s.notna(), None).rename(s.name)


def redact(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without personal data: pii columns (contract) reduced to a presence mark,
    phones to their masked form; blank cells stay missing."""
    from cvm.data.contract import TABLES

    spec = TABLES.get(table)
    pii = [c.name for c in spec.columns if c.pii and c.name in frame] if spec else []
    if not pii:
        return frame
    out = frame.copy(deep=False)  # the other columns are shared, the pii ones replaced
    for c in pii:
        s = out[c]
        present = s.notna() & s.astype("str").str.strip().ne("").fillna(False).astype(bool)
        if c == "phone":
            masked = _masked_phones(s)
            out[c] = pd.Series(masked.where(present, None), index=s.index, dtype="str")
        else:
            out[c] = pd.Series(PRESENT, index=s.index, dtype="str").where(present)
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


_UNREAD = object()


class LazyTables(dict):
    """The run's tables by name, each read from its Parquet file on first access.

    A step reads only the tables it touches (the report: visits and vehicles; leads: the lead
    tables), which at a million customers saves most of a full read per notebook. Behaves as
    the ``dict`` of frames every function takes (``[]``, ``get``, ``in``, ``items``, ``**``).
    """

    def __init__(self, paths: dict[str, Path]) -> None:
        super().__init__({name: _UNREAD for name in paths})
        self._paths = dict(paths)
        # a step's threads (cvm.engine.local_map) may ask for a table not read yet at once:
        # one reads it, the others wait for it
        self._lock = threading.RLock()
        self._pruned: dict[str, pd.DataFrame] = {}  # column-pruned reads kept (select keep=True)
        self._narrow: dict[str, tuple[str, ...]] = {}  # columns a whole read leaves out

    def narrow(self, name: str, drop: list[str] | tuple[str, ...]) -> None:
        """From now on a read of table ``name`` leaves out the columns ``drop``: for a step that
        reads the table whole but none of those columns (the uplift step: the contacts' ids
        and channels, ~0.25 GB at a million customers). A table already read is left as it
        is."""
        if name in self._paths and dict.__getitem__(self, name) is _UNREAD:
            self._narrow[name] = tuple(drop)

    def __getitem__(self, name: str) -> pd.DataFrame:
        df = dict.__getitem__(self, name)
        if df is not _UNREAD:
            return df
        with self._lock:
            return self._read(name)

    def _read(self, name: str) -> pd.DataFrame:
        df = dict.__getitem__(self, name)
        if df is _UNREAD:
            drop = self._narrow.get(name)
            df = pd.read_parquet(
                self._paths[name],
                columns=[c for c in self.columns_of(name) if c not in drop] if drop else None,
            )
            dict.__setitem__(self, name, df)
            self._pruned.pop(name, None)  # the whole table serves every selection now
        return df

    def select(self, name: str, columns: list[str], keep: bool = False) -> pd.DataFrame:
        """Table ``name`` with only those of ``columns`` it has. A table not read yet is not
        read whole: only these columns of its file, so a step that needs a column or two of a
        large table (the leads step: the visits' stores) holds no more. ``keep``: the read is
        kept for the next selection of those columns (the feature builds of a step, which
        read the same columns many times); a later read of the whole table replaces it."""
        with self._lock:
            return self._select(name, columns, keep)

    def _select(self, name: str, columns: list[str], keep: bool) -> pd.DataFrame:
        df = dict.__getitem__(self, name)
        if df is not _UNREAD:
            return df[[c for c in columns if c in df.columns]]
        import pyarrow.parquet as pq

        have = pq.read_schema(self._paths[name]).names
        want = [c for c in columns if c in have]
        kept = self._pruned.get(name)
        if kept is not None and all(c in kept.columns for c in want):
            return kept[want]
        if not keep:
            return pd.read_parquet(self._paths[name], columns=want)
        cols = set(want) | set(kept.columns if kept is not None else ())
        self._pruned[name] = pd.read_parquet(
            self._paths[name], columns=[c for c in have if c in cols]
        )
        return self._pruned[name][want]

    def columns_of(self, name: str) -> list[str]:
        """The columns of table ``name``, from its file's schema when it is not read yet."""
        df = dict.__getitem__(self, name)
        if df is not _UNREAD:
            return list(df.columns)
        import pyarrow.parquet as pq

        return [c for c in pq.read_schema(self._paths[name]).names if not c.startswith("__")]

    def loaded(self) -> list[str]:
        """Names of the tables read so far."""
        return [k for k in dict.keys(self) if dict.__getitem__(self, k) is not _UNREAD]

    def get(self, name: str, default: Any = None) -> Any:
        # through __getitem__ (which reads a table on first use), not dict.get
        return self[name] if name in self else default  # noqa: SIM401

    def __iter__(self):  # not dict's: `{**t}` and dict(t) then go through __getitem__
        return iter(list(dict.keys(self)))

    def values(self):
        return [self[k] for k in self]

    def items(self):
        return [(k, self[k]) for k in self]

    def copy(self) -> dict[str, pd.DataFrame]:
        return dict(self.items())

    def pop(self, name: str, *default: Any) -> Any:
        if name not in self:
            return dict.pop(self, name, *default)
        out = self[name]
        dict.pop(self, name)
        return out


def select(
    tables: dict[str, pd.DataFrame], name: str, columns: list[str], keep: bool = False
) -> pd.DataFrame | None:
    """``tables[name]`` with only those of ``columns`` it has (None when the table is absent):
    for the run's copy (:class:`LazyTables`) read column by column, without the whole table
    (``keep``: that read kept for the next selection, :meth:`LazyTables.select`)."""
    if name not in tables:
        return None
    if isinstance(tables, LazyTables):
        return tables.select(name, columns, keep=keep)
    df = tables[name]
    return None if df is None else df[[c for c in columns if c in df.columns]]


def narrow(tables: dict[str, pd.DataFrame], name: str, drop: list[str]) -> None:
    """``LazyTables.narrow`` on the run's copy: later reads of table ``name`` leave out the
    columns ``drop``; frames given whole (tables not read from the run's copy) stay whole."""
    if isinstance(tables, LazyTables):
        tables.narrow(name, drop)


def read(run_dir: str | Path, source: str) -> dict[str, pd.DataFrame] | None:
    """The cached tables (read lazily, table by table) when the cache matches ``source``."""
    m = manifest(run_dir, source)
    if m is None:
        return None
    d = cache_dir(run_dir)
    return LazyTables({name: d / f"{name}.parquet" for name in m["tables"]})


def drop(run_dir: str | Path) -> None:
    """Remove the copy (it holds personal data and must not be published)."""
    shutil.rmtree(cache_dir(run_dir), ignore_errors=True)


def write_run_tables(
    run_dir: str | Path, source: str, frames: dict[str, pd.DataFrame], report: Any
) -> Path:
    """Write the run's copy of already loaded and validated ``frames`` (``report.ok``)."""
    from cvm.data.hashing import tables_hash

    return write(
        run_dir,
        source,
        frames,
        [w.message for w in report.warnings],
        {
            "tables_hash": tables_hash(frames),
            "rows": {name: len(df) for name, df in frames.items()},
        },
    )


def prepare_run_tables(source: str, run_dir: str | Path):
    """Read and validate ``source`` once; when it is usable write the run's copy.

    Returns the validation report (the caller stops on errors).
    """
    from cvm.data.loaders import load_with_report

    frames, report = load_with_report(source)
    if report.ok:
        from cvm.data.hashing import tables_hash

        write(
            run_dir,
            source,
            frames,
            [w.message for w in report.warnings],
            {
                "tables_hash": tables_hash(frames),
                "rows": {name: len(df) for name, df in frames.items()},
            },
        )
    del frames
    release_memory()
    return report


def release_memory() -> None:
    """Hand the memory of dropped tables back to the system: collect, then ask Arrow's pool
    and glibc's heap to return their free pages. Without it the ``cvm monthly`` process kept
    its load-time peak (5.3 GB at a million customers) resident while the notebooks ran."""
    import ctypes
    import gc

    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except Exception as exc:  # noqa: BLE001 - best effort
        log.debug("pyarrow memory pool not released: %s", exc)
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError) as exc:  # not glibc (macOS, musl): nothing to trim
        log.debug("malloc_trim unavailable: %s", exc)
