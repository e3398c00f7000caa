"""Write result tables (scores, campaign lists) to Parquet, CSV or a SQL database, atomically.

Files are written to a temporary file beside the target and renamed into place. SQL writes
(any SQLAlchemy URL; SQLite by default in the docs, PostgreSQL tested) happen in one
transaction: several tables are replaced or appended together or not at all.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from cvm.config import CvmError
from cvm.data.readers import fix_url, is_url
from cvm.fileio import write_atomic

log = logging.getLogger(__name__)

IF_EXISTS = ("replace", "append")


def _check_mode(if_exists: str) -> None:
    if if_exists not in IF_EXISTS:
        raise CvmError(f"if_exists must be replace or append, not {if_exists!r}")


def write_table(
    frame: pd.DataFrame, out: str | Path, *, table: str = "cvm_scores", if_exists: str = "replace"
) -> str:
    """Write ``frame`` to a .parquet/.csv file or to ``table`` at a SQLAlchemy URL; where."""
    if is_url(out):
        write_sql({table: frame}, str(out), if_exists=if_exists)
        return f"{str(out).split('@')[-1]} table {table}"
    return str(write_file(frame, Path(out), if_exists=if_exists))


def write_file(frame: pd.DataFrame, path: Path, *, if_exists: str = "replace") -> Path:
    """Atomic Parquet or CSV (UTF-8) write; ``append`` adds rows to an existing file."""
    _check_mode(if_exists)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise CvmError(
            f"--out {path}: write a .parquet or .csv file, or give a SQLAlchemy URL "
            f"such as sqlite:///scores.db"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if if_exists == "append" and path.exists():
        old = (
            pd.read_parquet(path)
            if suffix == ".parquet"
            else pd.read_csv(path, dtype={"customer_id": str})
        )
        frame = pd.concat([old, frame], ignore_index=True)
    if suffix == ".parquet":
        write_atomic(path, lambda tmp: frame.to_parquet(tmp, index=False))
    else:
        write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False, encoding="utf-8"))
    log.info("wrote %d rows to %s", len(frame), path)
    return path


def _engine(url: str):
    """A SQLAlchemy engine; SQLite gets real transactions around DDL too (SQLAlchemy recipe)."""
    import sqlalchemy as sa

    engine = sa.create_engine(fix_url(url))
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn, _record):  # pragma: no cover - driver hook
            dbapi_conn.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _begin(conn):  # pragma: no cover - driver hook
            conn.exec_driver_sql("BEGIN")

    return engine


def write_sql(frames: dict[str, pd.DataFrame], url: str, *, if_exists: str = "replace") -> None:
    """Write every frame to its table in one transaction (all or nothing)."""
    _check_mode(if_exists)
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            for table, frame in frames.items():
                frame.to_sql(table, conn, if_exists=if_exists, index=False, chunksize=10000)
                log.info("wrote %d rows to table %s", len(frame), table)
    except CvmError:
        raise
    except Exception as err:
        raise CvmError(
            f"cannot write to the database {url.split('@')[-1]!r} "
            f"(nothing was written): {type(err).__name__}: {str(err)[:300]}"
        ) from err
    finally:
        engine.dispose()


def export_run(
    run_dir: str | Path,
    out: str,
    *,
    if_exists: str = "replace",
    scores_table: str = "cvm_scores",
    campaigns_table: str = "cvm_campaigns",
) -> None:
    """A monthly run's scores.parquet and campaign lists into a SQL database, one transaction.

    The campaign table gets ``department`` (the list's file name) and ``as_of`` (the run's
    month) columns; scores get ``as_of`` too, so appended months stay apart.
    """
    run = Path(run_dir)
    if not (run / "scores.parquet").is_file():
        raise CvmError(f"{run} is not a monthly run folder (no scores.parquet)")
    if not is_url(out):
        raise CvmError(f"--out {out!r}: give a SQLAlchemy URL such as sqlite:///cvm.db")
    month = run.name
    scores = pd.read_parquet(run / "scores.parquet").assign(as_of=month)
    lists = []
    for f in sorted((run / "campaigns").glob("*.csv")):
        lists.append(
            pd.read_csv(f, dtype={"customer_id": str}).assign(department=f.stem, as_of=month)
        )
    frames = {scores_table: scores}
    if lists:
        frames[campaigns_table] = pd.concat(lists, ignore_index=True)
    write_sql(frames, out, if_exists=if_exists)
