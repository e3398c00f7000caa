"""Reading raw tables from a data source: a folder of CSV / Parquet / Excel files or a SQL URL.

Only reading happens here (no renaming, no type coercion): each table comes back as it is in
the source, with a RangeIndex so that position + 1 is the data-row number in the file.
Read failures are returned as :class:`Problem` s, so that ``cvm validate`` lists them all.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd

from cvm.config import CvmError
from cvm.data.mapping import parsing, table_for_name
from cvm.data.problems import Problem

log = logging.getLogger(__name__)

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+]*:/")


@dataclass
class RawTable:
    """One table as read: its frame and where it came from (file, sheet or SQL table).

    A table of a folder may be *deferred* (``read_source(..., defer=True)``): ``frame`` is None
    until :meth:`open` reads its file, so validation reads one raw table at a time and a
    source's raw tables are never all held beside their conformed copies (at a million
    customers that is ~2 GB less at the peak of loading)."""

    table: str
    frame: pd.DataFrame | None
    origin: str
    read: Callable[[], tuple[list[RawTable], list[Problem]]] | None = field(
        default=None, repr=False
    )

    def open(self) -> tuple[list[RawTable], list[Problem]]:
        """The table with its frame (read now when deferred, once) and the read problems."""
        if self.read is None:
            return [self], []
        read, self.read = self.read, None
        return read()


def is_url(source: str | Path) -> bool:
    """True for a SQLAlchemy URL such as ``sqlite:///x.db`` or ``postgresql://…``."""
    return bool(_URL.match(str(source))) and not Path(str(source)).exists()


def fix_url(url: str) -> str:
    """Undo ``pathlib``'s slash collapsing (``sqlite:/tmp/x.db`` → ``sqlite:////tmp/x.db``)."""
    scheme, _, rest = url.partition(":")
    if rest.startswith("//"):
        return url
    path = rest.lstrip("/")
    if scheme.startswith("sqlite"):
        absolute = Path("/" + path)
        return (
            f"{scheme}:///{absolute}"
            if absolute.exists() or not Path(path).exists()
            else f"{scheme}:///{path}"
        )
    return f"{scheme}://{path}"


def _problem(table: str, origin: str, check: str, message: str, fix: str) -> Problem:
    return Problem(
        table=table,
        column="",
        check=check,
        n_rows=0,
        examples=(),
        message=message,
        fix=fix,
        severity="error",
        file=origin,
    )


def detect_encoding(path: Path) -> str | None:
    """The first configured encoding (UTF-8, then GB18030) that decodes the whole file, or None.

    The file is decoded incrementally in chunks, so a bad byte at the end of a large file is
    still found without holding the file in memory.
    """
    cfg = parsing()
    encodings: list[str] = list(cfg["csv_encodings"])
    for enc in encodings:
        try:
            decoder = codecs.getincrementaldecoder(enc)(errors="strict")
            with open(path, "rb") as fh:
                while chunk := fh.read(cfg["encoding_chunk_bytes"]):
                    decoder.decode(chunk, final=False)
                decoder.decode(b"", final=True)
            return enc
        except UnicodeDecodeError:
            continue
    return None


def _guess_encoding_name(path: Path) -> str:
    """charset-normalizer's guess, for the error message only."""
    try:
        from charset_normalizer import from_path

        best = from_path(path).best()
        return best.encoding if best else "unknown (binary?)"
    except Exception:  # noqa: BLE001 - a guess for a message, never fatal
        return "unknown"


def detect_delimiter(path: Path, encoding: str) -> str:
    """The delimiter of a CSV file: the configured candidate (``,`` ``;`` tab ``|``) that splits
    its header line into the most fields (quotes respected); ``,`` when none splits it."""
    cfg = parsing()
    with open(path, encoding=encoding, newline="") as fh:
        head = fh.read(int(cfg["delimiter_sniff_chars"]))
    line = head.splitlines()[0] if head else ""
    best, fields = ",", 1
    for cand in cfg["csv_delimiters"]:
        n = len(next(csv.reader(io.StringIO(line), delimiter=cand), [""]))
        if n > fields:
            best, fields = cand, n
    return best


def duplicate_headers(headers: list[object], table: str, origin: str) -> list[Problem]:
    """One problem per header written more than once (pandas would rename it ``amount.1``)."""
    seen: dict[str, list[int]] = {}
    for pos, h in enumerate(headers, 1):
        if h is None or (isinstance(h, float) and pd.isna(h)):
            continue
        seen.setdefault(str(h).strip(), []).append(pos)
    return [
        _problem(
            table,
            origin,
            "duplicate_header",
            f"header {h!r} appears {len(pos)} times (columns {', '.join(map(str, pos))})",
            f"keep one column {h!r}: remove or rename the others, then export again",
        )
        for h, pos in seen.items()
        if len(pos) > 1 and h
    ]


_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def read_csv(path: Path, table: str) -> tuple[list[RawTable], list[Problem]]:
    """A CSV file in UTF-8 or GBK/GB18030, every cell read as text; the delimiter is detected."""
    enc = detect_encoding(path)
    if enc is None:
        guess = _guess_encoding_name(path)
        return [], [
            _problem(
                table,
                path.name,
                "encoding",
                f"file {path.name} is neither UTF-8 nor GBK/GB18030 text (looks like {guess})",
                "re-export the table as CSV in UTF-8 (or GBK), or as Excel / Parquet",
            )
        ]
    sep = detect_delimiter(path, enc)
    if sep != ",":
        log.info("%s: delimiter %s", path.name, _DELIMITER_NAMES.get(sep, repr(sep)))
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            encoding=enc,
            skipinitialspace=False,
            keep_default_na=True,
            sep=sep,
            engine="c",
        )
        header = pd.read_csv(
            path,
            dtype=str,
            encoding=enc,
            sep=sep,
            header=None,
            nrows=1,
            keep_default_na=False,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        return [], [
            _problem(
                table,
                path.name,
                "unreadable",
                f"file {path.name} is empty (no header row)",
                "export the table again with its header row",
            )
        ]
    except (pd.errors.ParserError, ValueError, OSError) as err:
        return [], [
            _problem(
                table,
                path.name,
                "unreadable",
                f"file {path.name} cannot be read as CSV with the "
                f"{_DELIMITER_NAMES.get(sep, repr(sep))} delimiter: {_short(err)}",
                "check the delimiter (comma, semicolon or tab: one per file) and "
                "quoting, or export as Excel / Parquet",
            )
        ]
    problems = duplicate_headers(list(header.iloc[0]) if len(header) else [], table, path.name)
    return [RawTable(table, frame.reset_index(drop=True), path.name)], problems


def read_parquet(path: Path, table: str) -> tuple[list[RawTable], list[Problem]]:
    """A Parquet file with its own column types."""
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # noqa: BLE001 - pyarrow raises many kinds
        return [], [
            _problem(
                table,
                path.name,
                "unreadable",
                f"file {path.name} cannot be read as Parquet: {_short(err)}",
                "write the file again (pandas.DataFrame.to_parquet) or export as CSV",
            )
        ]
    return [RawTable(table, frame.reset_index(drop=True), path.name)], []


def read_excel(
    path: Path, table: str | None, wanted: set[str]
) -> tuple[list[RawTable], list[Problem]]:
    """An Excel workbook: one table (named by the file) or one sheet per table (named by sheet)."""
    label = table or "(workbook)"
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as err:  # noqa: BLE001 - zip / xml errors
        return [], [
            _problem(
                label,
                path.name,
                "unreadable",
                f"file {path.name} cannot be read as Excel (.xlsx): {_short(err)}",
                "open and save it again in Excel as .xlsx, or export as CSV",
            )
        ]
    with book:
        if table is not None:
            sheet = _sheet_for(book, table, path)
            if isinstance(sheet, Problem):
                return [], [sheet]
            sheets = [(table, sheet)]
        else:
            sheets = [(t, s) for s in book.sheet_names if (t := table_for_name(str(s))) is not None]
        out: list[RawTable] = []
        problems: list[Problem] = []
        for tname, sheet in sheets:
            if tname not in wanted:
                continue
            origin = f"{path.name}[{sheet}]"
            try:
                frame = pd.read_excel(book, sheet_name=sheet, dtype=object)
                header = pd.read_excel(book, sheet_name=sheet, header=None, nrows=1, dtype=object)
            except Exception as err:  # noqa: BLE001
                problems.append(
                    _problem(
                        tname,
                        origin,
                        "unreadable",
                        f"sheet {sheet!r} of {path.name} cannot be read: {_short(err)}",
                        "check the sheet has one header row, then data rows",
                    )
                )
                continue
            problems += duplicate_headers(
                list(header.iloc[0]) if len(header) else [], tname, origin
            )
            frame = frame.loc[
                :,
                [
                    not str(c).startswith("Unnamed:") or frame[c].notna().any()
                    for c in frame.columns
                ],
            ]
            out.append(RawTable(tname, frame.reset_index(drop=True), origin))
    return out, problems


def _sheet_for(book: pd.ExcelFile, table: str, path: Path) -> object:
    """The sheet of a workbook named after ``table``: the sheet with the table's name, else the
    first whose header row has the table's required columns; else a ``wrong_sheet`` Problem."""
    from cvm.data.contract import TABLES
    from cvm.data.mapping import map_columns

    names = list(book.sheet_names)
    named = [s for s in names if table_for_name(str(s)) == table]
    if named:
        return named[0]
    required = set(TABLES[table].required_columns)
    for sheet in names:
        try:
            head = pd.read_excel(book, sheet_name=sheet, nrows=0)
        except Exception as err:  # noqa: BLE001 - an unreadable sheet is simply not the one
            log.debug("%s: sheet %r unreadable: %s", path.name, sheet, err)
            continue
        renames, _ = map_columns(table, list(head.columns))
        found = {renames.get(c, c) for c in head.columns}
        if required <= found:
            if sheet != names[0]:
                log.info("%s: table %s read from sheet %r", path.name, table, sheet)
            return sheet
    if len(names) == 1:
        return names[0]  # one sheet: validation names its missing columns
    return _problem(
        table,
        path.name,
        "wrong_sheet",
        f"no sheet of {path.name} has the {table} columns "
        f"{', '.join(sorted(required))} (sheets: {', '.join(map(repr, names))})",
        f"put the {table} data on a sheet named {table} (or first), with its header "
        f"in the first row",
    )


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


def _kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    for kind, suffixes in parsing()["file_types"].items():
        if suffix in suffixes:
            return kind
    return None


def read_folder(
    folder: Path, wanted: set[str], defer: bool = False
) -> tuple[list[RawTable], list[Problem], list[str]]:
    """Every table file directly in ``folder`` (subfolders such as ``truth/`` are ignored).

    Returns the tables, the read problems, and the names of files that matched no table.
    ``defer``: CSV and Parquet files are read when their :class:`RawTable` is opened (their
    read problems come from ``open``); Excel workbooks are read here.
    """
    tables: list[RawTable] = []
    problems: list[Problem] = []
    ignored: list[str] = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith((".", "~$")):
            continue
        kind = _kind(path)
        table = table_for_name(path.name[: -len(path.suffix)] if path.suffix else path.name)
        if kind is None or (table is None and kind != "excel"):
            ignored.append(path.name)
            continue
        if table is not None and table not in wanted:
            continue
        if kind == "unsupported":
            problems.append(
                _problem(
                    table or "(file)",
                    path.name,
                    "unreadable",
                    f"file {path.name}: {path.suffix} files are not supported",
                    "export the table as .csv (UTF-8 or GBK), .xlsx or .parquet",
                )
            )
            continue
        if defer and kind in ("csv", "parquet"):
            reader = read_csv if kind == "csv" else read_parquet
            tables.append(RawTable(table, None, path.name, partial(reader, path, table)))  # type: ignore[arg-type]
            continue
        if kind == "csv":
            got, probs = read_csv(path, table)  # type: ignore[arg-type]
        elif kind == "parquet":
            got, probs = read_parquet(path, table)  # type: ignore[arg-type]
        else:
            got, probs = read_excel(path, table, wanted)
            if table is None and not got and not probs:
                ignored.append(path.name)
        tables += got
        problems += probs
    return tables, problems, ignored


def read_sql(url: str, wanted: set[str]) -> tuple[list[RawTable], list[Problem], list[str]]:
    """Tables of a SQL database, matched by name (aliases allowed)."""
    import sqlalchemy as sa

    missing = missing_sqlite_file(url)
    if missing is not None:
        raise CvmError(
            f"the database file {missing} does not exist (from {url!r}); check the "
            f"path (sqlite:///relative.db, sqlite:////absolute/path.db)"
        )
    try:
        engine = sa.create_engine(fix_url(url))
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            tables: list[RawTable] = []
            ignored: list[str] = []
            for name in names:
                table = table_for_name(name)
                if table is None:
                    ignored.append(name)
                    continue
                if table not in wanted:
                    continue
                frame = pd.read_sql_table(name, conn)
                tables.append(RawTable(table, frame.reset_index(drop=True), f"table {name}"))
    except Exception as err:
        raise CvmError(f"cannot read the database {url!r}: {_short(err)}") from err
    finally:
        if "engine" in locals():
            engine.dispose()
    return tables, [], ignored


def missing_sqlite_file(url: str) -> Path | None:
    """The file a ``sqlite:`` URL names when it does not exist (opening it would create it)."""
    import sqlalchemy as sa

    fixed = fix_url(url)
    if not fixed.lower().startswith("sqlite"):
        return None
    try:
        db = sa.engine.make_url(fixed).database
    except Exception:  # noqa: BLE001 - a malformed URL fails later with its own message
        return None
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return None if Path(db).exists() else Path(db)


def read_source(
    source: str | Path, tables: Iterable[str] | None = None, defer: bool = False
) -> tuple[list[RawTable], list[Problem], list[str]]:
    """Raw tables from a folder or SQL URL; a missing source is a :class:`CvmError`.
    ``defer``: a folder's CSV and Parquet tables are read when opened (``read_folder``)."""
    from cvm.data.contract import TABLES

    wanted = set(TABLES) if tables is None else set(tables)
    unknown = wanted - set(TABLES)
    if unknown:
        raise CvmError(f"unknown table(s) {sorted(unknown)}; the contract has {sorted(TABLES)}")
    if is_url(source):
        return read_sql(str(source), wanted)
    folder = Path(source)
    if not folder.exists():
        raise CvmError(
            f"data source {str(source)!r} not found: give a folder of CSV / Parquet / "
            "Excel files or a database URL such as sqlite:///dealer.db"
        )
    if folder.is_file():
        if folder.suffix.lower() in {".db", ".sqlite", ".sqlite3"}:
            return read_sql(f"sqlite:///{folder.resolve()}", wanted)
        raise CvmError(f"{folder} is a file; give the folder that holds the table files")
    return read_folder(folder, wanted, defer)
