"""Owners without a visit yet: a churn probability and a predicted value from the sale and the vehicle.

The churn and value models learn from customers' visit histories, so a new owner before their
first visit (a car just sold, a customer record without repair orders) had no score, although
the 1st -> 2nd service cliff is where retention is won. This module scores them from what the
store knows without a visit: the months since the purchase (vehicle purchase date, else the
sale date, else the customer's creation date) and the vehicle's price band. At each of the
churn model's snapshot dates with a closed H-month label window it counts, per cell (months
since purchase bin x price band), the owners who had no visit yet, how many of them had no
paid visit in the next H months, and the gross margin they brought. A cell's rates are
shrunk towards its months-bin (then towards the overall) rates with ``prior_rows`` pseudo-rows,
so a sparse cell borrows strength. The rates are the empirical frequencies of the same
question asked in the past: calibrated by construction when the base does not drift.
Settings: ``new_owners`` in configs/default.yaml.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from cvm.data.ids import DAYS_PER_MONTH, add_months, day_number, days, ids, positions
from cvm.definitions import paid_mask
from cvm.features.margin import visit_margin
from cvm.models.bundle_loader import new_owner_rate

log = logging.getLogger(__name__)


def _owners(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every known owner: ``customer_id``, ``start_day`` (purchase, else sale, else creation),
    ``price_band`` (of their first vehicle; "unknown" without one)."""
    from cvm.data.table_cache import select  # the columns read, not the whole tables

    parts = []
    veh = select(tables, "vehicles", ["customer_id", "purchase_date", "price_band"], keep=True)
    if veh is not None and len(veh) and "purchase_date" in veh.columns:
        v = pd.DataFrame(
            {
                "customer_id": ids(veh["customer_id"]).array,
                "start_day": days(veh["purchase_date"]),
                "price_band": (
                    veh["price_band"].astype("string").fillna("unknown").to_numpy(dtype=object)
                    if "price_band" in veh.columns
                    else "unknown"
                ),
            }
        )
        parts.append(v)
    sales = select(tables, "vehicle_sales", ["customer_id", "sale_date"], keep=True)
    if sales is not None and len(sales):
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": ids(sales["customer_id"]).array,
                    "start_day": days(sales["sale_date"]),
                    "price_band": "unknown",
                }
            )
        )
    cust = select(tables, "customers", ["customer_id", "created_date"], keep=True)
    if cust is not None and len(cust) and "created_date" in cust.columns:
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": ids(cust["customer_id"]).array,
                    "start_day": days(cust["created_date"]),
                    "price_band": "unknown",
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["customer_id", "start_day", "price_band"])
    o = pd.concat(parts, ignore_index=True).dropna(subset=["customer_id", "start_day"])
    # the earliest record per customer; a vehicle's band wins over "unknown" at equal dates.
    # Sorted on integer codes in id order (a stable sort of the ids as text took seconds at
    # a million owners): the same order, so the same first row per customer
    code = pd.factorize(o["customer_id"], sort=True)[0]
    known = (o["price_band"] != "unknown").to_numpy(bool)
    order = np.lexsort((~known, o["start_day"].to_numpy(float), code))
    first = np.ones(len(order), dtype=bool)  # each customer's first row in that order
    first[1:] = code[order][1:] != code[order][:-1]
    return o.iloc[order[first]][["customer_id", "start_day", "price_band"]]


def no_visit_owners(tables: dict[str, pd.DataFrame], as_of: Any) -> pd.DataFrame:
    """Owners known at ``as_of`` with no visit on or before it: index ``customer_id``,
    ``months_since_purchase``, ``price_band``."""
    return _no_visit_at(_owners_with_first_visit(tables), day_number(as_of))


def _owners_with_first_visit(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """:func:`_owners` with ``first_visit_day`` (NaN without a visit): built once, asked at
    every snapshot date (an owner has no visit by day t iff its first visit is after t)."""
    o = _owners(tables)
    code, uniq, d = _visit_codes(_visits(tables))
    first = np.full(len(uniq), np.inf)
    np.fmin.at(first, code[code >= 0], d[code >= 0])
    pos = positions(pd.Series(o["customer_id"].to_numpy(), dtype="str"), pd.Index(uniq))
    fv = np.where(pos >= 0, first[np.maximum(pos, 0)], np.nan)
    return o.assign(first_visit_day=np.where(np.isinf(fv), np.nan, fv), _code=pos)


VISIT_COLUMNS = ["customer_id", "visit_date", "amount", "payer", "visit_type"]
"""The visits' columns the rates read (paid visits, gross margin)."""


def _visits(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The visits with ``VISIT_COLUMNS`` only (a kept column-pruned read of the run's copy)."""
    from cvm.data.table_cache import select

    return select(tables, "visits", VISIT_COLUMNS, keep=True)


def _visit_codes(visits: pd.DataFrame) -> tuple[np.ndarray, pd.Index, np.ndarray]:
    """Integer customer codes of the visits (-1 without an id), the ids, the day numbers."""
    code, uniq = pd.factorize(ids(visits["customer_id"]))
    return code, pd.Index(uniq), days(visits["visit_date"])


def _no_visit_at(o: pd.DataFrame, t: float, codes: bool = False) -> pd.DataFrame:
    """The owners of :func:`_owners_with_first_visit` without a visit by day ``t``; with
    ``codes``, each one's visit code too (``_code``, -1: never seen at a visit)."""
    fv = o["first_visit_day"].to_numpy(float)
    o = o.loc[(o["start_day"].to_numpy(float) <= t) & ~(fv <= t)]
    out = pd.DataFrame(
        {
            "months_since_purchase": (t - o["start_day"].to_numpy(float)) / DAYS_PER_MONTH,
            "price_band": o["price_band"].to_numpy(),
            **({"_code": o["_code"].to_numpy()} if codes else {}),
        },
        index=pd.Index(o["customer_id"].to_numpy(), name="customer_id"),
    )
    return out.sort_index()


def _cells(frame: pd.DataFrame, edges: list[float]) -> pd.DataFrame:
    b = np.digitize(frame["months_since_purchase"].to_numpy(dtype=float), np.asarray(edges, float))
    return frame.assign(bin=b)


def fit_new_owner_rates(
    tables: dict[str, pd.DataFrame],
    dates: list[pd.Timestamp],
    horizon_months: int,
    cfg: dict[str, Any],
) -> dict[str, Any]:
    """Past frequencies of no paid visit in H months and the mean H-month gross margin of
    owners who had no visit yet at each of ``dates`` (label windows closed)."""
    s = cfg["new_owners"]
    edges = list(s["months_edges"])
    v = _visits(tables)
    code, uniq, d = _visit_codes(v)
    k = len(uniq)
    paid = paid_mask(v, cfg) & (code >= 0)
    marg = visit_margin(v, cfg)
    rows = []
    known = _owners_with_first_visit(tables)
    for date in dates:
        o = _no_visit_at(known, day_number(date), codes=True)
        if not len(o):
            continue
        lo, hi = day_number(date), day_number(add_months(date, horizon_months))
        w = (d > lo) & (d <= hi)
        # integer codes, not sets of ids: position k is an owner never seen at a visit
        back = np.zeros(k + 1, dtype=bool)
        back[code[w & paid]] = True
        wv = w & (code >= 0)
        val = np.zeros(k + 1)
        by = pd.Series(marg[wv]).groupby(code[wv]).sum()
        val[by.index.to_numpy()] = by.to_numpy(dtype=float)
        oc = o.pop("_code").to_numpy()
        oc = np.where(oc >= 0, oc, k)
        rows.append(o.assign(churn=(~back[oc]).astype(float), value=val[oc]))
    if not rows:
        return {"n": 0}
    f = _cells(pd.concat(rows), edges)
    prior = float(s["prior_rows"])
    overall = {"churn": float(f["churn"].mean()), "value": float(f["value"].mean())}
    by_bin = f.groupby("bin")[["churn", "value"]].agg(["sum", "count"])
    rate_bin: dict[int, dict[str, float]] = {}
    for b, r in by_bin.iterrows():
        n = float(r[("churn", "count")])
        rate_bin[int(b)] = {
            m: (float(r[(m, "sum")]) + prior * overall[m]) / (n + prior) for m in ("churn", "value")
        }
    cells: dict[str, dict[str, float]] = {}
    for (b, band), g in f.groupby(["bin", "price_band"]):
        n = float(len(g))
        cell_prior = rate_bin[int(b)]
        cells[f"{int(b)}|{band}"] = {
            m: (float(g[m].sum()) + prior * cell_prior[m]) / (n + prior) for m in ("churn", "value")
        } | {"n": int(n)}
    log.info(
        "new owners: %d owner-snapshots without a visit, churn %.3f, value %.0f",
        len(f),
        overall["churn"],
        overall["value"],
    )
    return {
        "n": len(f),
        "edges": edges,
        "overall": overall,
        "by_bin": {str(b): r for b, r in rate_bin.items()},
        "cells": cells,
    }


def fit_new_owner_rates_at(
    tables: dict[str, pd.DataFrame], as_of: Any, horizon_months: int, cfg: dict[str, Any]
) -> dict[str, Any] | None:
    """:func:`fit_new_owner_rates` at the churn model's snapshot dates before ``as_of``; None
    (with a warning) when the history has no closed label window or no owner without a visit."""
    from cvm.config import CvmError
    from cvm.features.training import snapshot_dates

    try:
        tr, va = snapshot_dates(_visits(tables), as_of, horizon_months, cfg)
    except CvmError as err:
        log.warning("new owners not scored: %s", err)
        return None
    rates = fit_new_owner_rates(tables, tr + va, horizon_months, cfg)
    return rates if rates.get("n") else None


def score_new_owners(owners: pd.DataFrame, rates: dict[str, Any]) -> pd.DataFrame:
    """``churn_probability`` and ``predicted_value`` (H-month gross margin) per owner row
    (the one cell lookup, :func:`cvm.models.bundle_loader.new_owner_rate`, that bundles use)."""
    out = pd.DataFrame(index=owners.index)
    for m, col in (("churn", "churn_probability"), ("value", "predicted_value")):
        out[col] = new_owner_rate(
            rates, m, owners["months_since_purchase"].to_numpy(float), owners["price_band"]
        )
    if not rates.get("n"):
        return out.iloc[:0]
    return out
