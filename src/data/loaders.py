"""Loading dealer data into contract tables: ``load_tables`` is what every other step calls."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pandas as pd

from cvm.data.problems import DataValidationError, ValidationReport
from cvm.data.readers import read_source
from cvm.data.validate import check_raw

__all__ = ["DataValidationError", "load_tables", "load_with_report"]

log = logging.getLogger(__name__)


def load_tables(
    source: str | Path,
    tables: Iterable[str] | None = None,
    *,
    validate: bool = True,
    as_of: date | None = None,
) -> dict[str, pd.DataFrame]:
    """The contract tables found in ``source``, renamed and coerced to contract dtypes.

    ``source`` is a folder of CSV (UTF-8 / GBK), Parquet or Excel files (subfolders ignored)
    or a SQLAlchemy URL. Only tables present are returned; extra columns are kept as read.
    With ``validate`` any contract error raises :class:`DataValidationError` (a CvmError,
    exit code 2) carrying the full report; without it unreadable cells become missing.

    ``as_of`` only sets what counts as a "future date" for validation (default today); it does
    not cut the data. For a back-dated run pass the data's own end (or None), then cut.
    """
    frames, report = _load(source, tables, validate=validate, as_of=as_of)
    if validate and not report.ok:
        raise DataValidationError(report)
    return frames


def load_with_report(
    source: str | Path,
    tables: Iterable[str] | None = None,
    *,
    as_of: date | None = None,
) -> tuple[dict[str, pd.DataFrame], ValidationReport]:
    """Like ``load_tables(validate=True)`` but returns the report instead of raising.

    For the monthly run, which records data quality in ``metrics.json`` and must not read
    large sources twice. The caller decides what to do when ``report.ok`` is False.
    """
    return _load(source, tables, validate=True, as_of=as_of)


def _load(
    source: str | Path, tables: Iterable[str] | None, *, validate: bool, as_of: date | None
) -> tuple[dict[str, pd.DataFrame], ValidationReport]:
    wanted = None if tables is None else list(tables)
    raws, problems, ignored = read_source(source, wanted, defer=True)  # one raw table at a time
    report, frames = check_raw(
        raws, problems, ignored, as_of, wanted=wanted, source=str(source), run_checks=validate
    )
    if not validate and report.errors:
        for p in report.errors:
            log.warning("%s", p.render())
    log.info("loaded %s", ", ".join(f"{t}: {len(f)} rows" for t, f in frames.items()) or "nothing")
    return frames, report
