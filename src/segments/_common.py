"""Small helpers shared by the segment modules: settings, point-in-time cuts, paid visits."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from cvm.config import CvmError, load_config
from cvm.data.ids import add_months, ids, reindex, to_timestamp
from cvm.definitions import paid_mask

log = logging.getLogger("cvm.segments")


def settings(cfg: dict[str, Any] | None, section: str) -> dict[str, Any]:
    """Settings of one segment ``section`` plus the shared ``definitions``.

    Defaults come from ``configs/segments.yaml`` and ``configs/default.yaml``; a run's ``cfg``
    overrides them with ``cfg["segments"][section]`` and ``cfg["definitions"]``.
    """
    cfg = cfg or {}
    seg_over = (cfg.get("segments") or {}).get(section) or {}
    out = load_config("segments", {section: seg_over})[section]
    out["definitions"] = load_config("default", {"definitions": cfg.get("definitions")})[
        "definitions"
    ]
    return out


def timestamp(as_of: Any) -> pd.Timestamp:
    """``as_of`` as a midnight Timestamp (CvmError when unparsable)."""
    return to_timestamp(as_of)


def months_before(as_of: pd.Timestamp, months: float) -> pd.Timestamp:
    """The date ``months`` calendar months before ``as_of`` (whole months only)."""
    return add_months(as_of, -int(months))


def require(df: pd.DataFrame, columns: list[str], table: str) -> None:
    """Raise a CvmError naming the missing columns of ``table``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise CvmError(f"table {table!r} lacks required column(s) {missing}")


def cut(
    df: pd.DataFrame | None,
    date_col: str,
    as_of: pd.Timestamp,
    start: pd.Timestamp | None = None,
    columns: list[str] | None = None,
) -> pd.DataFrame | None:
    """Rows dated ``<= as_of`` (and ``> start`` when given); None passes through.

    Rows with a missing date are kept only when no ``start`` is given (undated facts).
    ``columns``: only these (those present, and the date) are copied, not the whole table.
    """
    if df is None:
        return None
    if date_col not in df.columns:
        return df
    if columns is not None:
        df = df[[c for c in dict.fromkeys([*columns, date_col]) if c in df.columns]]
    dates = pd.to_datetime(df[date_col], errors="coerce")
    keep = (dates <= as_of) | dates.isna()
    if start is not None:
        keep &= dates > start
    out = df.loc[keep].copy()
    out[date_col] = dates[keep]
    if "customer_id" in out.columns:
        out["customer_id"] = ids(out["customer_id"])
    return out


def visits_to(
    tables: dict[str, pd.DataFrame] | pd.DataFrame,
    as_of: pd.Timestamp,
    date_col: str = "visit_date",
    customer_col: str = "customer_id",
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Visits dated ``<= as_of`` (a table dict or the visits frame itself); with ``columns``
    only those (present ones, and the customer and date) are copied."""
    visits = tables.get("visits") if isinstance(tables, dict) else tables
    if visits is None:
        raise CvmError("the visits table is required (customer_id, visit_date, amount)")
    require(visits, [customer_col, date_col], "visits")
    if columns is not None:
        keep = dict.fromkeys([customer_col, date_col, *columns])
        visits = visits[[c for c in keep if c in visits.columns]]
    out = visits.loc[pd.to_datetime(visits[date_col], errors="coerce") <= as_of].copy()
    out[date_col] = pd.to_datetime(out[date_col])
    out[customer_col] = ids(out[customer_col])
    return out


def paid_amount(
    visits: pd.DataFrame, definitions: dict[str, Any], amount_col: str = "amount"
) -> pd.Series:
    """Amount paid by the customer per visit (0 when another payer settled it).

    "Paid" is ``cvm.definitions.paid_mask`` under ``definitions`` (the churn and value
    labels use the same rule).
    """
    require(visits, [amount_col], "visits")
    frame = visits if amount_col == "amount" else visits.rename(columns={amount_col: "amount"})
    amount = pd.to_numeric(frame["amount"], errors="coerce").fillna(0.0).astype(float)
    return amount.where(paid_mask(frame, {"definitions": definitions}), 0.0)


def known_customers(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.Index:
    """Every customer id known at ``as_of`` from any table, sorted.

    The ids stay Arrow text until the distinct ones are known (a Python string per row
    of millions of visits costs seconds)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cvm.data.ids import _text_array

    found: list[pa.Array] = []
    for name, date_col in (
        ("visits", "visit_date"),
        ("customers", "created_date"),
        ("vehicles", "purchase_date"),
        ("vehicle_sales", "sale_date"),
        ("leads", "created_date"),
    ):
        df = tables.get(name)
        if df is None or "customer_id" not in df.columns:
            continue
        col = ids(df["customer_id"])
        if date_col in df.columns:  # undated rows are kept (undated facts)
            dates = pd.to_datetime(df[date_col], errors="coerce")
            col = col[((dates <= as_of) | dates.isna()).to_numpy(dtype=bool)]
        found.append(pc.unique(_text_array(col).drop_null()))
    if not found:
        return pd.Index([], name="customer_id")
    uniq = pc.unique(pa.chunked_array(found, type=pa.large_string()))
    uniq = uniq.take(pc.sort_indices(uniq))
    return pd.Index(uniq.to_numpy(zero_copy_only=False), name="customer_id", dtype="str")


def crosstab_with_flows(
    prev: pd.Series,
    cur: pd.Series,
    order: list[str] | None = None,
    new: str = "new",
    gone: str = "gone",
) -> pd.DataFrame:
    """Counts from ``prev`` (rows) to ``cur`` (columns) over the union of both indexes.

    Customers only in ``cur`` come from the row ``new``; customers only in ``prev`` go to the
    column ``gone``. The matrix sums to the size of the union.
    """
    both = prev.index.union(cur.index)
    p, c = reindex(prev, both), reindex(cur, both)  # each looked up once (Arrow)
    p = p.astype(object).where(p.notna(), new)
    c = c.astype(object).where(c.notna(), gone)
    labels = list(order) if order else sorted(set(p) | set(c) - {new, gone}, key=str)
    rows = labels + [new]
    cols = labels + [gone]
    extra_rows = [x for x in pd.unique(p) if x not in rows]
    extra_cols = [x for x in pd.unique(c) if x not in cols]
    mat = pd.crosstab(pd.Series(p.to_numpy(), name="from"), pd.Series(c.to_numpy(), name="to"))
    mat = mat.reindex(index=rows + extra_rows, columns=cols + extra_cols, fill_value=0)
    mat.index.name, mat.columns.name = "from", "to"
    return mat.astype("int64")
