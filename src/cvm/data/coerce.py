"""Coercion of raw columns (text from CSV, objects from Excel, typed Parquet/SQL) to contract types.

Every function returns ``(coerced, bad)``: the column in its contract dtype and a boolean mask
of cells that held a value that could not be read (they become missing). Work is done on the
distinct values (``pd.factorize``) so 15 M rows with a few thousand dates cost little.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from cvm.data.contract import Column
from cvm.data.mapping import normalize_value, parsing, value_aliases

STR = "str"  # pandas' default string dtype (pyarrow-backed when pyarrow is present)
DATE = "datetime64[ns]"

Result = tuple[pd.Series, pd.Series]


def _present(s: pd.Series) -> pd.Series:
    """Cells holding something: not missing and not blank text."""
    mask = s.notna()
    if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
        text = s[mask].astype(STR).str.strip()
        mask.loc[mask] = text.ne("").to_numpy()
    return mask


def _via_uniques(s: pd.Series, convert: Callable[[pd.Series], pd.Series], dtype: str) -> pd.Series:
    """Apply ``convert`` to the distinct values of ``s`` and spread the result back."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    if len(uniques) == 0:
        return pd.Series(pd.array([None] * len(s), dtype=dtype), index=s.index, dtype=dtype)
    converted = convert(pd.Series(uniques, dtype=object if s.dtype == object else s.dtype))
    converted = pd.Series(converted.to_numpy(), dtype=dtype) if len(converted) else pd.Series([], dtype=dtype)
    out = converted.reindex(pd.RangeIndex(len(uniques) + 1))  # last slot = missing
    codes = np.where(codes < 0, len(uniques), codes)
    return pd.Series(out.array.take(codes), index=s.index, dtype=dtype)


def _integral_to_text(values: pd.Series) -> pd.Series:
    """Numbers as id text: 1001.0 → "1001" (Excel and SQL hand ids over as numbers)."""
    num = pd.to_numeric(values, errors="coerce")
    out = values.astype(object).map(lambda v: None if pd.isna(v) else str(v).strip())
    whole = num.notna() & np.isfinite(num) & (num == np.floor(num))
    out[whole] = num[whole].astype("int64").astype(str)
    return out


def to_id(s: pd.Series) -> Result:
    """Identifiers as text, trimmed; numbers written without a trailing ``.0``."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        out = _integral_to_text(pd.Series(s.to_numpy(dtype="float64"), index=s.index)).astype(STR)
    elif s.dtype == object:
        out = _via_uniques(s, _integral_to_text, STR)
    else:
        out = s.astype(STR).str.strip()
    out = out.where(out.ne(""))
    return out.astype(STR), pd.Series(False, index=s.index)


def to_text(s: pd.Series) -> Result:
    """Free text as the string dtype, trimmed; blank cells become missing."""
    out = s if isinstance(s.dtype, pd.StringDtype) else s.astype(STR)
    out = out.str.strip()
    return out.where(out.ne("")).astype(STR), pd.Series(False, index=s.index)


def to_category(s: pd.Series, col: Column) -> Result:
    """Category text mapped onto contract values (case-insensitive, Chinese aliases from YAML).

    Unknown values are kept as written; validation reports them against the allowed list.
    """
    if isinstance(s.dtype, pd.StringDtype) and col.values is not None:
        # fast path (typed Parquet / SQL): every distinct value is already a contract value
        uniques = s.unique()
        if all(pd.isna(u) or u in col.values for u in uniques):
            return s.astype(STR), pd.Series(False, index=s.index)
    text, _ = to_text(s)
    lookup = dict(value_aliases(col.name))
    lookup.update({normalize_value(v): v for v in col.values or ()})
    if not lookup:
        return text, pd.Series(False, index=s.index)

    def convert(u: pd.Series) -> pd.Series:
        return u.map(lambda v: lookup.get(normalize_value(v), v))

    return _via_uniques(text, convert, STR), pd.Series(False, index=s.index)


def _parse_number_text(u: pd.Series) -> pd.Series:
    text = u.astype(STR)
    for noise in parsing()["number_noise"]:
        text = text.str.replace(noise, "", regex=False)
    return pd.to_numeric(text, errors="coerce")


def to_float(s: pd.Series) -> Result:
    """Numbers as float64; "1,234.50" and "¥88" are read, other text is bad."""
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype("float64")
    if pd.api.types.is_numeric_dtype(s.dtype):
        out = s.astype("float64")
        return out, pd.Series(False, index=s.index)
    out = _via_uniques(s, _parse_number_text, "float64")
    return out, _present(s) & out.isna()


def to_int(s: pd.Series) -> Result:
    """Whole numbers as nullable Int64; fractions and text are bad."""
    num, bad = to_float(s)
    frac = num.notna() & (num != np.floor(num))
    num = num.where(~frac)
    return num.astype("Int64"), bad | frac


def _parse_bool(u: pd.Series) -> pd.Series:
    cfg = parsing()
    table = {normalize_value(v): True for v in cfg["true_values"]}
    table.update({normalize_value(v): False for v in cfg["false_values"]})
    return u.map(lambda v: table.get(normalize_value(v), pd.NA) if not pd.isna(v) else pd.NA)


def to_bool(s: pd.Series) -> Result:
    """Booleans as ``boolean``: true/false, Y/N, 1/0, 是/否 … (configurable)."""
    if pd.api.types.is_bool_dtype(s.dtype):
        out = s.astype("boolean")
        return out, pd.Series(False, index=s.index)
    if pd.api.types.is_numeric_dtype(s.dtype):
        num = s.astype("float64")
        ok = num.isin([0.0, 1.0])
        out = num.where(ok).astype("boolean")
        return out, num.notna() & ~ok
    out = _via_uniques(s, _parse_bool, "boolean")
    return out, _present(s) & out.isna()


def _numbers_to_dates(num: pd.Series) -> pd.Series:
    """Numeric dates: YYYYMMDD when in that range, else Excel serial days."""
    cfg = parsing()
    lo, hi = cfg["yyyymmdd_range"]
    s_lo, s_hi = cfg["excel_serial_range"]
    num = num.astype("float64")
    out = pd.Series(pd.NaT, index=num.index, dtype=DATE)
    ymd = num.between(lo, hi) & (num == np.floor(num))
    if ymd.any():
        out[ymd] = pd.to_datetime(num[ymd].astype("int64").astype(str), format="%Y%m%d",
                                  errors="coerce").astype(DATE)
    serial = ~ymd & num.between(s_lo, s_hi)
    if serial.any():
        origin = pd.Timestamp(cfg["excel_origin"])
        days = np.floor(num[serial].to_numpy()).astype("int64")
        out[serial] = (origin + pd.to_timedelta(days, unit="D")).astype(DATE)
    return out


def _parse_date_values(u: pd.Series) -> pd.Series:
    """Distinct raw values (text, numbers, datetimes) → datetime64[ns]."""
    out = pd.Series(pd.NaT, index=u.index, dtype=DATE)
    is_dt = u.map(lambda v: isinstance(v, (dt.date, pd.Timestamp, np.datetime64))).astype(bool)
    if is_dt.any():
        out[is_dt] = pd.to_datetime(u[is_dt].astype(object), errors="coerce").astype(DATE)
    is_num = u.map(lambda v: isinstance(v, (int, float, np.integer, np.floating))
                   and not isinstance(v, bool)).astype(bool)
    if is_num.any():
        out[is_num] = _numbers_to_dates(u[is_num].astype("float64"))
    rest = ~is_dt & ~is_num
    if rest.any():
        text = u[rest].astype(STR).str.strip()
        todo = text.index
        for fmt in parsing()["date_formats"]:
            if len(todo) == 0:
                break
            parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
            hit = parsed.notna()
            out[todo[hit.to_numpy()]] = parsed[hit].astype(DATE)
            todo = todo[~hit.to_numpy()]
        if len(todo):  # numbers that arrived as text: "45123", "45123.0"
            num = pd.to_numeric(text[todo], errors="coerce")
            out[todo] = _numbers_to_dates(num)
    return out


def to_date(s: pd.Series) -> Result:
    """Dates as datetime64[ns] at midnight; ISO, YYYY/MM/DD, YYYYMMDD and Excel serials."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = s
        if getattr(s.dt, "tz", None) is not None:
            out = s.dt.tz_localize(None)
        return out.astype(DATE).dt.normalize(), pd.Series(False, index=s.index)
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        out = _via_uniques(s.astype("float64"), _numbers_to_dates, DATE)
    else:
        out = _via_uniques(s, _parse_date_values, DATE)
    return out.dt.normalize(), _present(s) & out.isna()


def coerce_column(s: pd.Series, col: Column) -> Result:
    """One raw column → its contract dtype, with the mask of unreadable cells."""
    kind = col.kind
    if kind == "id":
        return to_id(s)
    if kind == "date":
        return to_date(s)
    if kind == "float":
        return to_float(s)
    if kind == "int":
        return to_int(s)
    if kind == "bool":
        return to_bool(s)
    if kind == "category":
        return to_category(s, col)
    return to_text(s)


def contract_dtype(col: Column) -> str:
    """The pandas dtype a contract column has after loading."""
    return {"id": STR, "str": STR, "category": STR, "date": DATE, "float": "float64",
            "int": "Int64", "bool": "boolean"}[col.kind]
