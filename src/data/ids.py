"""Ids and days: the helpers every layer uses to compare ids and dates fast.

Ids are compared as text (``ids``, ``isin`` on Arrow strings); dates as integer day numbers
(days since 1970-01-01, ``days``/``day_number``), because integer comparisons and
``np.bincount`` are what keep feature building fast at 15M visits.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from cvm.config import CvmError

DAYS_PER_MONTH = 365.25 / 12
"""Average month length; months are measured as days / DAYS_PER_MONTH."""


def to_timestamp(as_of: str | date | datetime | pd.Timestamp) -> pd.Timestamp:
    """The as-of date as a midnight Timestamp; a clear error for unparseable input."""
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError) as err:
        raise CvmError(f"as-of date {as_of!r} is not a date; write it as YYYY-MM-DD") from err
    if ts is pd.NaT:
        raise CvmError("as-of date is missing")
    return ts.tz_localize(None).normalize() if ts.tzinfo else ts.normalize()


def day_number(as_of: str | date | datetime | pd.Timestamp) -> int:
    """Days since 1970-01-01 of an as-of date."""
    return int(to_timestamp(as_of).value // 86_400_000_000_000)


def add_months(as_of: str | date | datetime | pd.Timestamp, months: int) -> pd.Timestamp:
    """Calendar month arithmetic; a month-end date maps to the month end (30 Sep − 3 = 30 Jun,
    31 Mar − 1 = 28/29 Feb) so monthly runs and their snapshots stay on month ends."""
    ts = to_timestamp(as_of)
    out = ts + pd.DateOffset(months=int(months))
    return out + pd.offsets.MonthEnd(0) if ts.is_month_end else out


def days(col: pd.Series) -> np.ndarray:
    """A date column as float day numbers (NaN for missing), parsing strings if needed."""
    if not pd.api.types.is_datetime64_any_dtype(col):
        col = pd.to_datetime(col, errors="coerce")
    if getattr(col.dt, "tz", None) is not None:
        col = col.dt.tz_localize(None)
    arr = col.to_numpy(dtype="datetime64[ns]")
    out = arr.astype("datetime64[D]").astype(np.int64).astype(np.float64)
    out[np.isnat(arr)] = np.nan
    return out


def ids(col: pd.Series) -> pd.Series:
    """Customer ids as strings (the contract's ``id`` kind), whatever the file gave."""
    if pd.api.types.is_string_dtype(col) and not pd.api.types.is_object_dtype(col):
        return col
    return col.astype("str")


def isin(values, ref) -> np.ndarray:
    """``values.isin(ref)`` as a numpy mask, with Arrow's hash lookup for text.

    pandas' ``isin`` on Arrow-backed strings walks ``ref`` in Python (seconds per million
    values); this builds the lookup in Arrow. Missing values are never members.
    """
    import pyarrow.compute as pc

    v = values if isinstance(values, (pd.Series, pd.Index)) else pd.Series(values)
    r = ref if isinstance(ref, (pd.Series, pd.Index)) else pd.Series(ref)
    if not (pd.api.types.is_string_dtype(v.dtype) and pd.api.types.is_string_dtype(r.dtype)):
        return np.asarray(v.isin(r), dtype=bool)
    a = _text_array(v)
    vs = pc.unique(_text_array(r).drop_null())
    hits = pc.is_in(a, value_set=vs)
    return np.asarray(hits.to_numpy(zero_copy_only=False), dtype=bool)


def positions(values, index: pd.Index) -> np.ndarray:
    """``index.get_indexer(values)`` for a unique ``index``: the position of each value in
    ``index``, -1 where absent or missing. Text is looked up in Arrow (pandas' string
    ``get_indexer`` hashes Python objects: seconds per million values)."""
    import pyarrow.compute as pc

    v = values if isinstance(values, (pd.Series, pd.Index)) else pd.Series(values)
    if not (pd.api.types.is_string_dtype(v.dtype) and pd.api.types.is_string_dtype(index.dtype)):
        return index.get_indexer(v)
    pos = pc.index_in(_text_array(v), value_set=_text_array(index))
    return np.asarray(pc.fill_null(pos, -1).to_numpy(zero_copy_only=False), dtype=np.intp)


def _text_array(x: pd.Series | pd.Index):
    """``x`` as one Arrow large_string array (zero-copy for Arrow-backed text)."""
    import pyarrow as pa

    arr = getattr(getattr(x, "array", None), "_pa_array", None)
    if arr is None:
        arr = pa.array(
            np.asarray(x.astype("object"), dtype=object), type=pa.large_string(), from_pandas=True
        )
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string()) if arr.type != pa.large_string() else arr


def reindex(obj, index, fill_value=None):
    """``obj.reindex(index, fill_value=...)`` for ``obj`` (Series or DataFrame) on a *unique*
    index of ids: the positions looked up in Arrow (``positions``), the values taken as
    ``reindex`` takes them (missing ones filled, dtypes promoted alike). pandas' reindex on
    text builds a hash table of Python strings each call (~1 s per million ids)."""
    from pandas.api.extensions import take

    index = pd.Index(index)
    pos = positions(index, obj.index)

    def col(s: pd.Series):
        values = s.array if isinstance(s.dtype, pd.api.extensions.ExtensionDtype) else s.to_numpy()
        return take(values, pos, allow_fill=True, fill_value=fill_value)

    if isinstance(obj, pd.Series):
        return pd.Series(col(obj), index=index, name=obj.name)
    out = pd.DataFrame({i: col(obj.iloc[:, i]) for i in range(obj.shape[1])}, index=index)
    out.columns = obj.columns
    return out
