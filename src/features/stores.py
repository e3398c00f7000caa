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

from cvm.features.pit import day_number, days, ids

DAYS_PER_MONTH = 30.4375


def store_ids(df: pd.DataFrame | None) -> pd.Index:
    """The distinct non-empty ``dealer_id`` values of a table (sorted)."""
    if df is None or "dealer_id" not in df.columns or not len(df):
        return pd.Index([], dtype="str")
    s = df["dealer_id"].dropna().astype("str")
    return pd.Index(pd.unique(s[s.str.len() > 0])).sort_values()


def is_multi_store(tables: dict[str, pd.DataFrame]) -> bool:
    """More than one store among the visits' and customers' ``dealer_id``."""
    return len(store_ids(tables.get("visits")).union(store_ids(tables.get("customers")))) > 1


def _months(cfg: dict[str, Any] | None) -> int:
    return int(((cfg or {}).get("stores") or {}).get("assignment_months", 12))


def main_store(code: np.ndarray, store: np.ndarray, day: np.ndarray, n: int, asof: int,
               months: int) -> np.ndarray:
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


def customer_stores(tables: dict[str, pd.DataFrame], as_of: Any,
                    cfg: dict[str, Any] | None = None) -> pd.Series:
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
    out = pd.Series(np.asarray(suniq, dtype=object)[best], index=pd.Index(cuniq, dtype="str"),
                    dtype="str")
    c = tables.get("customers")
    if c is not None and "dealer_id" in c.columns:
        home = pd.Series(c["dealer_id"].astype("str").to_numpy(), index=ids(c["customer_id"]))
        home = home[~home.index.duplicated()]
        out = pd.concat([out, home[~home.index.isin(out.index)]])
    out.index.name = "customer_id"
    return out.sort_index().rename("dealer_id")


def store_features(visits: pd.DataFrame, code: np.ndarray, store_col: pd.Categorical,
                   day: np.ndarray, n: int, asof: int, cfg: dict[str, Any]
                   ) -> dict[str, np.ndarray]:
    """Features of the customer's store and of their use of the group's stores.

    Store level (from every visit of the group up to ``asof``, so a training sample gets the
    same values as the full base): ``store_log_customers`` (log customers with a visit in the
    last 12 months), ``store_median_ticket`` (median paid ticket over 12 months),
    ``store_avg_wait_minutes`` (12 months), ``store_return_rate`` (share of the customers seen
    12–24 months ago seen again in the last 12). Customer level, from their own rows:
    ``share_visits_other_stores_24m`` and ``moved_store`` (their store now differs from their
    store a year ago)."""
    months = _months(cfg)
    y = 365.25
    # the group's store-level figures, by store id
    vd = days(visits["visit_date"])
    ok = (vd <= asof) & visits["dealer_id"].notna().to_numpy()
    sid = visits["dealer_id"].astype("str").to_numpy()[ok]
    vd = vd[ok]
    cid = ids(visits["customer_id"]).to_numpy()[ok]
    amt = pd.to_numeric(visits["amount"], errors="coerce").to_numpy(float)[ok] \
        if "amount" in visits.columns else np.zeros(len(vd))
    payer = visits["payer"].astype("str").to_numpy()[ok] if "payer" in visits.columns else None
    is_paid = (amt > 0) & ((payer == "customer") if payer is not None else True)
    last12 = vd > asof - y
    prev12 = (vd <= asof - y) & (vd > asof - 2 * y)
    frame = pd.DataFrame({"s": sid, "c": cid, "a": amt, "p": is_paid, "r": last12, "q": prev12})
    if "wait_minutes" in visits.columns:
        frame["w"] = pd.to_numeric(visits["wait_minutes"], errors="coerce").to_numpy(float)[ok]
    else:
        frame["w"] = np.nan
    recent = frame[frame["r"]]
    per = pd.DataFrame(index=pd.Index(pd.unique(sid), dtype="str"))
    per["log_customers"] = np.log1p(recent.groupby("s")["c"].nunique())
    per["median_ticket"] = recent[recent["p"]].groupby("s")["a"].median()
    per["avg_wait"] = recent.groupby("s")["w"].mean()
    seen_prev = frame.loc[frame["q"], ["s", "c"]].drop_duplicates()
    seen_now = recent[["s", "c"]].drop_duplicates().assign(back=1.0)  # again at the same store
    back = seen_prev.merge(seen_now, on=["s", "c"], how="left")
    per["return_rate"] = back["back"].fillna(0.0).groupby(back["s"]).mean()
    # the customers' own store now and a year ago, from their (sorted) rows
    s_codes = np.asarray(store_col.codes, np.int64)
    cats = np.asarray(store_col.categories, dtype=object)
    has = s_codes >= 0
    now = main_store(code[has], s_codes[has], day[has], n, asof, months)
    before = day <= asof - y
    then = main_store(code[has & before], s_codes[has & before], day[has & before], n,
                      asof - int(y), months)
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
            n24 > 0, np.bincount(code[away], minlength=n) / np.maximum(n24, 1), np.nan),
        "moved_store": np.where((then >= 0) & (now >= 0), (then != now).astype(float), np.nan),
    }
    return f
