"""Point in time: the tables as they were at an as-of date (rows dated after it removed).

The day arithmetic and id helpers it uses are ``cvm.data.ids``.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from cvm.data.contract import TABLES
from cvm.data.ids import day_number, days


def cut(
    tables: dict[str, pd.DataFrame], as_of: str | date | datetime | pd.Timestamp
) -> dict[str, pd.DataFrame]:
    """Every table restricted to rows dated on or before ``as_of`` by its contract date column.

    Rows with a missing date are kept only for tables whose date column is optional
    (customers, vehicles, staff: undated profile rows); tables not in the contract pass as is.
    """
    day = day_number(as_of)
    out: dict[str, pd.DataFrame] = {}
    for name, df in tables.items():
        spec = TABLES.get(name)
        if df is None:
            continue
        if spec is None or spec.date_column is None or spec.date_column not in df.columns:
            out[name] = df
            continue
        d = days(df[spec.date_column])
        required = spec.column(spec.date_column).required
        keep = d <= day if required else ~(d > day)
        out[name] = df.loc[keep]
    return out
