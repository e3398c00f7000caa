"""Coercion of raw columns (text from CSV, objects from Excel, typed Parquet/SQL) to contract types.

Every function returns ``(coerced, bad)``: the column in its contract dtype and a boolean mask
of cells that held a value that could not be read (they become missing). Work is done on the
distinct values (``pd.factorize``) so 15 M rows with a few thousand dates cost little.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

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
    if not len(converted):
        converted = pd.Series([], dtype=dtype)
    elif converted.dtype == dtype:  # already in place (no round trip through Python objects)
        converted = converted.reset_index(drop=True)
    else:
        converted = pd.Series(converted.to_numpy(), dtype=dtype)
    out = converted.reindex(pd.RangeIndex(len(uniques) + 1))  # last slot = missing
    codes = np.where(codes < 0, len(uniques), codes)
    return pd.Series(out.array.take(codes), index=s.index, dtype=dtype)


_WHOLE_TEXT = re.compile(r"^([+-]?\d+)\.0+$")


def _id_value(v: object) -> object:
    """One id cell as text: numbers without a trailing ``.0``, text trimmed, ``"1001.0"`` →
    ``"1001"`` (a number exported as text); other text (``"007"``, ``"V-12"``) kept as written."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if np.isfinite(v) and float(v) == np.floor(v):
            return str(int(v))
        return repr(float(v))
    text = str(v).strip()
    m = _WHOLE_TEXT.match(text)
    return m.group(1) if m else text


_PY_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
"""The ASCII characters ``str.strip()`` removes (``str.isspace``)."""


def text_bytes(arr: Any) -> list[np.ndarray] | None:
    """The UTF-8 bytes of the values of an Arrow text array (one uint8 view per chunk, only
    the chunk's own slice), or None for another layout. A check for an ASCII byte over them
    is exact per character: UTF-8 never uses bytes below 0x80 inside a multi-byte character."""
    import pyarrow as pa

    out = []
    for chunk in getattr(arr, "chunks", [arr]):
        bufs = chunk.buffers()
        if chunk.type not in (pa.string(), pa.large_string()) or len(bufs) != 3:
            return None
        if len(chunk) == 0 or bufs[2] is None:
            continue
        width = np.int64 if chunk.type == pa.large_string() else np.int32
        offsets = np.frombuffer(bufs[1], dtype=width)
        lo, hi = int(offsets[chunk.offset]), int(offsets[chunk.offset + len(chunk)])
        out.append(np.frombuffer(bufs[2], dtype=np.uint8)[lo:hi])
    return out


def _plain_ascii_ids(arr: Any) -> bool:
    """No value holds a space or control byte (nothing to strip), a dot (no ``.0`` to drop)
    or a non-ASCII byte: every id is already as ``_integral_to_text`` would write it."""
    views = text_bytes(arr)
    if views is None:
        return False
    return not any(((b <= 0x20) | (b == 0x2E) | (b >= 0x7F)).any() for b in views)


def _integral_to_text(values: pd.Series) -> pd.Series:
    """Ids as text: 1001.0 → "1001" (Excel, SQL and CSV hand ids over as numbers).

    Text columns take a vectorized path in Arrow for their ASCII values (``_id_value``'s
    strip and ``"1001.0"`` rule, exactly: for ASCII text ``\\d`` is ``[0-9]`` and ``strip``
    removes ``_PY_ASCII_SPACE``); other values go through ``_id_value`` one by one (a
    million ids cost seconds in Python, a fraction of one in Arrow)."""
    if not isinstance(values.dtype, pd.StringDtype) or not len(values):
        return values.astype(object).map(_id_value)
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = getattr(values.array, "_pa_array", None)
    if arr is None:
        arr = pa.array(values.to_numpy(dtype=object, na_value=None), type=pa.large_string())
    elif _plain_ascii_ids(arr):  # the usual export: one pass over the bytes, no copy
        return values.astype(STR)
    text = pc.utf8_trim(arr, characters=_PY_ASCII_SPACE)
    if pc.any(pc.match_substring(text, ".")).as_py():  # the regex only where it can match
        text = pc.replace_substring_regex(text, pattern=r"^([+-]?[0-9]+)\.0+$", replacement=r"\1")
    other = ~pc.fill_null(pc.string_is_ascii(arr), True).to_numpy(zero_copy_only=False)
    other &= values.notna().to_numpy(dtype=bool)
    if not other.any():
        return pd.Series(pd.array(text, dtype=STR), index=values.index)
    out = pd.Series(text.to_numpy(zero_copy_only=False), index=values.index, dtype=object)
    out[other] = values[other].astype(object).map(_id_value)
    return out


def to_id(s: pd.Series) -> Result:
    """Identifiers as text, trimmed; numbers (and number text) written without a trailing ``.0``."""
    if pd.api.types.is_integer_dtype(s.dtype):  # exact, also beyond 2**53
        out = s.astype(STR)
    elif pd.api.types.is_float_dtype(s.dtype):  # vectorised: 1001.0 → "1001"
        num = s.to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(num) & (num == np.floor(num))
        text = pd.Series(None, index=s.index, dtype=object)
        text[whole] = num[whole].astype("int64").astype(str)
        rest = ~whole & ~np.isnan(num)
        text[rest] = [repr(float(v)) for v in num[rest]]
        out = text.astype(STR)
    elif isinstance(s.dtype, pd.StringDtype) and getattr(s.array, "_pa_array", None) is not None:
        # Arrow text: the vectorized rule on every cell at once; ids are nearly all distinct,
        # so going through their distinct values (a factorize and a take) only cost time
        out = _integral_to_text(s)
    else:
        out = _via_uniques(s, _integral_to_text, STR)
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


# "1,234.50" / "1234.5" (decimal point) and "1.234,50" / "1234,5" (decimal comma)
_DOT_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_COMMA_NUMBER = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
MIXED_DECIMAL = "mixed_decimal"
"""``bad.attrs["check"]`` of a number column written in both decimal formats."""


AMBIGUOUS_DECIMAL = "ambiguous_decimal"
"""``out.attrs`` key: mask of cells such as ``1.234`` in a column where no value settles
whether ``.`` is the decimal point or a thousands separator (a validation warning)."""
_DOT_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")


def _ambiguous_thousands(text: pd.Series) -> np.ndarray:
    """Values like ``1.234`` when no value of the column has a decimal point followed by other
    than three digits (``12.5``, ``1234.50``) or a decimal comma: either reading is possible."""
    t = text.fillna("")
    looks = t.str.match(_DOT_THOUSANDS.pattern).to_numpy(dtype=bool, na_value=False)
    if not looks.any():
        return looks
    dotted = t.str.contains(".", regex=False).to_numpy(dtype=bool, na_value=False)
    return looks if not (dotted & ~looks).any() else np.zeros(len(t), bool)


def _strip_noise(u: pd.Series) -> pd.Series:
    """Currency signs and spaces removed (not the separators: they decide the format)."""
    text = u.astype(STR).str.strip()
    for noise in parsing()["number_noise"]:
        if noise not in (",", "."):
            text = text.str.replace(noise, "", regex=False)
    return text


def decimal_format(text: pd.Series) -> tuple[str, np.ndarray]:
    """The decimal format of a column's distinct number texts: ``point``, ``comma`` or ``mixed``,
    and the mask of the values only the decimal-comma reading accepts (``1.234,50``, ``12,5``).

    A value both readings accept (``1,234``, ``1.234``, ``12``) does not decide: the column is
    ``comma`` only when some value is comma-only and none is point-only.
    """
    t = text.fillna("")
    dot = t.str.match(_DOT_NUMBER.pattern).to_numpy(dtype=bool, na_value=False)
    comma = t.str.match(_COMMA_NUMBER.pattern).to_numpy(dtype=bool, na_value=False)
    comma_only, dot_only = comma & ~dot, dot & ~comma
    if comma_only.any() and dot_only.any():
        return "mixed", comma_only
    return ("comma" if comma_only.any() else "point"), comma_only


def _parse_number_text(u: pd.Series, fmt: str = "point") -> pd.Series:
    text = _strip_noise(u)
    if fmt == "comma":
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        text = text.str.replace(",", "", regex=False)
    return pd.to_numeric(text, errors="coerce")


def to_float(s: pd.Series) -> Result:
    """Numbers as float64; "1,234.50", "¥88" and, when the whole column is written so,
    "1.234,50" are read; other text is bad. A column mixing both decimal formats is refused
    (its decimal-comma cells are bad, ``bad.attrs["check"] == "mixed_decimal"``).
    Non-finite values (inf) are kept: validation reports them."""
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype("float64")
    if pd.api.types.is_numeric_dtype(s.dtype):
        out = s.astype("float64")
        return out, pd.Series(False, index=s.index)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    u = pd.Series(uniques, dtype=object if s.dtype == object else s.dtype)
    is_text = (
        u.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool) if len(u) else np.zeros(0, bool)
    )
    fmt, comma_only = decimal_format(_strip_noise(u[is_text])) if is_text.any() else ("point", None)
    vals = np.full(len(u), np.nan)
    if (~is_text).any():  # numbers in an object column (Excel)
        vals[~is_text] = pd.to_numeric(u[~is_text].astype(object), errors="coerce").to_numpy(float)
    if is_text.any():
        vals[is_text] = _parse_number_text(
            u[is_text], "comma" if fmt == "comma" else "point"
        ).to_numpy(dtype=float, na_value=np.nan)
    mixed = np.zeros(len(u), bool)
    if fmt == "mixed":
        mixed[np.flatnonzero(is_text)[comma_only]] = True
        vals[mixed] = np.nan
    full = np.append(vals, np.nan)
    idx = np.where(codes < 0, len(u), codes)
    out = pd.Series(full[idx], index=s.index, dtype="float64")
    bad = _present(s) & out.isna()
    if fmt == "mixed":
        bad.attrs["check"] = MIXED_DECIMAL
    elif fmt == "point" and is_text.any():
        amb = _ambiguous_thousands(_strip_noise(u[is_text]))
        if amb.any():  # "1.234" everywhere: 1.234 or 1234? read as written, flagged
            cells = np.zeros(len(u) + 1, bool)
            cells[np.flatnonzero(is_text)[amb]] = True
            out.attrs[AMBIGUOUS_DECIMAL] = pd.Series(cells[idx], index=s.index)
    return out, bad


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
        out[ymd] = pd.to_datetime(
            num[ymd].astype("int64").astype(str), format="%Y%m%d", errors="coerce"
        ).astype(DATE)
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
    is_num = u.map(
        lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    ).astype(bool)
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
    return {
        "id": STR,
        "str": STR,
        "category": STR,
        "date": DATE,
        "float": "float64",
        "int": "Int64",
        "bool": "boolean",
    }[col.kind]
