"""Stores of a dealer group: which store a customer belongs to, and the store features.

A customer's store at a date is the store of most of their visits in the last
``stores.assignment_months`` months (ties: the store of the latest of them); without a visit
in that window, the store of their last visit; without any visit, ``customers.dealer_id``
(the home store). The store that serves a customer now, so a customer who moved to a sister
store belongs to the new one.

Data with one store (or without ``dealer_id``) are a single store: nothing here changes
their features or outputs (``is_multi_store``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cvm.data.ids import day_number, days, ids, isin
from cvm.settings import run_settings

DAYS_PER_MONTH = 30.4375


def store_ids(df: pd.DataFrame | None) -> pd.Index:
    """The distinct non-empty ``dealer_id`` values of a table (sorted)."""
    if df is None or "dealer_id" not in df.columns or not len(df):
        return pd.Index([], dtype="str")
    s = pd.Series(pd.unique(df["dealer_id"].dropna())).astype("str")  # distinct first: cheap
    return pd.Index(pd.unique(s[s.str.len() > 0])).sort_values()


def is_multi_store(tables: dict[str, pd.DataFrame]) -> bool:
    """More than one store among the visits' and customers' ``dealer_id`` (that column only
    is read from the run's copy: ``cvm.data.table_cache.select``)."""
    from cvm.data.table_cache import select

    visits, customers = (select(tables, n, ["dealer_id"]) for n in ("visits", "customers"))
    return len(store_ids(visits).union(store_ids(customers))) > 1


def _months(cfg: dict[str, Any] | None) -> int:
    return run_settings(cfg).stores.assignment_months


def main_store(
    code: np.ndarray, store: np.ndarray, day: np.ndarray, n: int, asof: int, months: int
) -> np.ndarray:
    """Per customer code 0..n-1: the store code of most visits within ``months`` of ``asof``
    (ties: the latest), else of the last visit; -1 without visits. Inputs: one row a visit
    (dated on or before ``asof``), ``store`` codes >= 0."""
    out = np.full(n, -1, np.int64)
    if not len(code):
        return out
    last = pd.DataFrame({"c": code, "s": store, "d": day}).sort_values(["c", "d"], kind="stable")
    lastrow = last.drop_duplicates("c", keep="last")
    out[lastrow["c"].to_numpy()] = lastrow["s"].to_numpy()
    recent = last[last["d"] > asof - months * DAYS_PER_MONTH]
    if len(recent):
        g = recent.groupby(["c", "s"], sort=False)["d"].agg(["size", "max"]).reset_index()
        g = g.sort_values(["c", "size", "max"], ascending=[True, False, False], kind="stable")
        best = g.drop_duplicates("c", keep="first")
        out[best["c"].to_numpy()] = best["s"].to_numpy()
    return out


def customer_stores(
    tables: dict[str, pd.DataFrame], as_of: Any, cfg: dict[str, Any] | None = None
) -> pd.Series:
    """``dealer_id`` per customer (index ``customer_id``, sorted): the store that serves them
    at ``as_of`` (see the module docstring); customers without a visit get their home store."""
    asof = day_number(as_of)
    v = tables["visits"]
    d = days(v["visit_date"])
    keep = (d <= asof) & v["dealer_id"].notna().to_numpy()
    cust = ids(v["customer_id"])[keep]
    ccode, cuniq = pd.factorize(cust)
    scode, suniq = pd.factorize(v["dealer_id"].astype("str")[keep])
    best = main_store(ccode, scode, d[keep], len(cuniq), asof, _months(cfg))
    out = pd.Series(
        np.asarray(suniq, dtype=object)[best], index=pd.Index(cuniq, dtype="str"), dtype="str"
    )
    c = tables.get("customers")
    if c is not None and "dealer_id" in c.columns:
        home = pd.Series(c["dealer_id"].astype("str").to_numpy(), index=ids(c["customer_id"]))
        home = home[~home.index.duplicated()]
        out = pd.concat([out, home[~isin(home.index, out.index)]])
    out.index.name = "customer_id"
    return out.sort_index().rename("dealer_id")


_CODES: dict[tuple, tuple] = {}


def _codes(
    visits: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Integer codes of the visits' stores and customers, day numbers, paid amounts and waits,
    computed once per visits table (every snapshot of a run reuses them)."""
    key = (
        id(visits),
        len(visits),
        str(visits["customer_id"].iloc[0]) if len(visits) else "",
        str(visits["customer_id"].iloc[-1]) if len(visits) else "",
    )
    hit = _CODES.get(key)
    if hit is not None:
        return hit
    scode, suniq = pd.factorize(visits["dealer_id"], sort=True)
    ccode, _ = pd.factorize(ids(visits["customer_id"]))
    d = days(visits["visit_date"])
    amt = (
        pd.to_numeric(visits["amount"], errors="coerce").to_numpy(float, na_value=np.nan)
        if "amount" in visits.columns
        else np.zeros(len(d))
    )
    payer_ok = (
        visits["payer"].astype("str").to_numpy() == "customer"
        if "payer" in visits.columns
        else np.ones(len(d), bool)
    )
    paid = np.nan_to_num(amt) > 0
    paid &= payer_ok
    wait = (
        pd.to_numeric(visits["wait_minutes"], errors="coerce").to_numpy(float, na_value=np.nan)
        if "wait_minutes" in visits.columns
        else np.full(len(d), np.nan)
    )
    out = (
        scode.astype(np.int64),
        np.asarray(suniq, dtype=object).astype(str),
        ccode.astype(np.int64),
        d,
        np.where(paid, amt, np.nan),
        wait,
    )
    _CODES.clear()  # one table at a time
    _CODES[key] = out
    return out


def store_level(visits: pd.DataFrame, asof: int) -> pd.DataFrame:
    """The group's store-level figures at ``asof`` (index: store id), from every visit of
    the group: computed once per build on the whole data and sent with each part
    (``cvm.features.snapshot.FeatureFigures``)."""
    y = 365.25
    scode, names, ccode, d, paid_amt, wait = _codes(visits)
    k, nc = len(names), int(ccode.max()) + 1 if len(ccode) else 1
    ok = (d <= asof) & (scode >= 0)
    last12 = ok & (d > asof - y)
    prev12 = ok & (d <= asof - y) & (d > asof - 2 * y)
    now_pairs = np.unique(scode[last12] * nc + ccode[last12])
    prev_pairs = np.unique(scode[prev12] * nc + ccode[prev12])
    per = pd.DataFrame(index=pd.Index(names, dtype="str"))
    n_now = np.bincount(now_pairs // nc, minlength=k).astype(float)
    per["log_customers"] = np.where(n_now > 0, np.log1p(n_now), np.nan)
    pm = last12 & ~np.isnan(paid_amt)
    per["median_ticket"] = (
        pd.Series(paid_amt[pm]).groupby(scode[pm]).median().reindex(range(k)).to_numpy()
    )
    wm = last12 & ~np.isnan(wait)
    nw = np.bincount(scode[wm], minlength=k).astype(float)
    per["avg_wait"] = np.where(
        nw > 0, np.bincount(scode[wm], weights=wait[wm], minlength=k) / np.maximum(nw, 1), np.nan
    )
    back = np.isin(prev_pairs, now_pairs)
    n_prev = np.bincount(prev_pairs // nc, minlength=k).astype(float)
    per["return_rate"] = np.where(
        n_prev > 0,
        np.bincount(prev_pairs // nc, weights=back.astype(float), minlength=k)
        / np.maximum(n_prev, 1),
        np.nan,
    )
    return per


def store_features(
    per: pd.DataFrame,
    code: np.ndarray,
    store_col: pd.Categorical,
    day: np.ndarray,
    n: int,
    asof: int,
    cfg: dict[str, Any],
) -> dict[str, np.ndarray]:
    """Features of the customer's store and of their use of the group's stores.

    Store level (``per``: :func:`store_level` of every visit of the group up to ``asof``, so
    a training sample or one store's part gets the same values as the full base): ``store_log_customers`` (log customers with a visit in the
    last 12 months), ``store_median_ticket`` (median paid ticket over 12 months),
    ``store_avg_wait_minutes`` (12 months), ``store_return_rate`` (share of the customers seen
    12–24 months ago seen again in the last 12). Customer level, from their own rows:
    ``share_visits_other_stores_24m`` and ``moved_store`` (their store now differs from their
    store a year ago)."""
    months = _months(cfg)
    y = 365.25
    # the customers' own store now and a year ago, from their (sorted) rows
    s_codes = np.asarray(store_col.codes, np.int64)
    cats = np.asarray(store_col.categories, dtype=object)
    has = s_codes >= 0
    now = main_store(code[has], s_codes[has], day[has], n, asof, months)
    before = day <= asof - y
    then = main_store(
        code[has & before], s_codes[has & before], day[has & before], n, asof - int(y), months
    )
    store_now = np.where(now >= 0, cats[np.maximum(now, 0)].astype(str), "")
    per = per.reindex(pd.Index(pd.unique(store_now), dtype="str"))
    w24 = day > asof - 24 * DAYS_PER_MONTH
    away = has & w24 & (s_codes != np.where(now >= 0, now, -2)[code])
    n24 = np.bincount(code[has & w24], minlength=n).astype(float)
    f = {
        "store_log_customers": per["log_customers"].reindex(store_now).to_numpy(float, copy=True),
        "store_median_ticket": per["median_ticket"].reindex(store_now).to_numpy(float, copy=True),
        "store_avg_wait_minutes": per["avg_wait"].reindex(store_now).to_numpy(float, copy=True),
        "store_return_rate": per["return_rate"].reindex(store_now).to_numpy(float, copy=True),
        "share_visits_other_stores_24m": np.where(
            n24 > 0, np.bincount(code[away], minlength=n) / np.maximum(n24, 1), np.nan
        ),
        "moved_store": np.where((then >= 0) & (now >= 0), (then != now).astype(float), np.nan),
    }
    return f
