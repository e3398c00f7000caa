"""Files that staff open in Excel: CSV (UTF-8 with a BOM) and .xlsx, safe from formula injection.

Rule (docs/monthly-run.md): every *text* cell whose first character is ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is written with a leading ``'``, so Excel and other
spreadsheets show it as text instead of evaluating it (``=HYPERLINK(…)``,
``+cmd|' /C calc'!A0``). Numeric columns are written as numbers, untouched. Both writers
replace their file atomically (write a hidden temporary file, then rename).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from cvm.fileio import write_atomic

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_cell(value: object) -> object:
    """``'=1+1`` for ``=1+1``; other values (numbers, None, safe text) unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralize(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text columns are safe from formula injection."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if (
            pd.api.types.is_numeric_dtype(s)
            or pd.api.types.is_bool_dtype(s)
            or pd.api.types.is_datetime64_any_dtype(s)
        ):
            continue
        out[col] = s.map(neutralize_cell).astype(object)
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` as a CSV for people: UTF-8 with a BOM (Excel on Windows reads the Chinese
    right), text cells neutralized, no index."""
    safe = neutralize(frame)
    return write_atomic(path, lambda tmp: safe.to_csv(tmp, index=False, encoding="utf-8-sig"))


def write_xlsx(
    frame: pd.DataFrame,
    path: Path,
    headers: list[str],
    widths: Mapping[str, float],
    sheet: str = "list",
) -> Path:
    """``frame`` as an Excel sheet: ``headers`` (in the run's language) over the columns, a
    frozen header row, column widths in characters, text cells neutralized. Streamed
    (openpyxl's write-only mode): rows go to the file as they are added, none is kept."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    path = Path(path)
    safe = neutralize(frame)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    for i, col in enumerate(frame.columns, start=1):  # before the first row, in this mode
        ws.column_dimensions[get_column_letter(i)].width = float(widths.get(col, 12))
    ws.freeze_panes = "A2"
    head = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEF2F6")
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        head.append(cell)
    ws.append(head)
    for row in safe.itertuples(index=False):
        ws.append([None if (isinstance(v, float) and pd.isna(v)) else v for v in row])
    last = get_column_letter(max(len(headers), len(frame.columns), 1))
    ws.auto_filter.ref = f"A1:{last}{len(safe) + 1}"
    return write_atomic(path, wb.save)
