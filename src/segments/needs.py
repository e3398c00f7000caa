"""Needs tags (需求分群): boolean columns from observable data, rules in ``configs/segments.yaml``.

- ``young_family`` (interior cleaning, child-friendly waiting): ``has_children`` is true; where
  it is missing, a household of at least ``min_household_size`` with an age in ``age_range``.
- ``time_sensitive`` (pick-up/delivery, courtesy car): at least ``min_wait_complaints`` wait
  complaints, or a share of weekend visits of at least ``weekend_share`` (over at least
  ``min_visits`` visits).
- ``price_sensitive``: at least ``min_price_complaints`` price complaints, or an ABC-quote
  acceptance (accepted / offered items) of at most ``max_quote_acceptance`` over at least
  ``min_items_offered`` items.
- ``high_mileage_commercial``: ``customer_type`` in ``customer_types``, or an odometer rate of
  at least ``min_km_per_year`` between readings at least ``min_span_days`` apart.

Visits, complaints and odometer readings count over the last ``window_months``. A rule whose
columns are absent is skipped (its tag stays false) and listed in ``.attrs["skipped"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cvm.data.ids import reindex
from cvm.segments._common import cut, log, months_before, settings, timestamp, visits_to

NEEDS = ("young_family", "time_sensitive", "price_sensitive", "high_mileage_commercial")


def _customers(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame | None:
    df = cut(tables.get("customers"), "created_date", as_of)
    if df is None or "customer_id" not in df.columns:
        return None
    return df.drop_duplicates("customer_id", keep="last").set_index("customer_id")


def young_family(
    customers: pd.DataFrame | None, as_of: pd.Timestamp, r: dict[str, Any], index: pd.Index
) -> pd.Series | None:
    """has_children, else household size × age; None when neither column exists."""
    if customers is None or not (
        {"has_children", "household_size", "birth_year"} & set(customers.columns)
    ):
        return None
    c = reindex(customers, index)
    kids = c["has_children"] if "has_children" in c.columns else pd.Series(np.nan, index=index)
    out = kids.astype(object).fillna(False).astype(bool)
    if {"household_size", "birth_year"} <= set(c.columns):
        age = as_of.year - pd.to_numeric(c["birth_year"], errors="coerce")
        size = pd.to_numeric(c["household_size"], errors="coerce")
        lo, hi = r["age_range"]
        proxy = (size >= r["min_household_size"]) & age.between(lo, hi)
        out |= kids.isna() & proxy
    return out


def _complaints_of(
    complaints: pd.DataFrame | None, category: str, index: pd.Index
) -> pd.Series | None:
    if complaints is None or "category" not in complaints.columns:
        return None
    hit = complaints.loc[complaints["category"] == category]
    return reindex(hit.groupby("customer_id").size(), index, fill_value=0)


def time_sensitive(
    visits: pd.DataFrame, complaints: pd.DataFrame | None, r: dict[str, Any], index: pd.Index
) -> pd.Series:
    """Wait complaints or mostly-weekend visits."""
    weekend = visits["visit_date"].dt.day_of_week >= 5
    g = weekend.groupby(visits["customer_id"])
    share = reindex(g.mean(), index)
    n = reindex(g.size(), index, fill_value=0)
    out = (n >= r["min_visits"]) & (share >= r["weekend_share"])
    waits = _complaints_of(complaints, "wait", index)
    if waits is not None:
        out |= waits >= r["min_wait_complaints"]
    return out.fillna(False)


def price_sensitive(
    visits: pd.DataFrame, complaints: pd.DataFrame | None, r: dict[str, Any], index: pd.Index
) -> pd.Series | None:
    """Price complaints or low ABC-quote acceptance; None when neither is observable."""
    out = None
    if {"quote_items_offered", "quote_items_accepted"} <= set(visits.columns):
        off = pd.to_numeric(visits["quote_items_offered"], errors="coerce").fillna(0)
        acc = pd.to_numeric(visits["quote_items_accepted"], errors="coerce").fillna(0)
        sums = pd.DataFrame({"off": off, "acc": acc}).groupby(visits["customer_id"]).sum()
        sums = reindex(sums, index, fill_value=0)
        rate = sums["acc"] / sums["off"].where(sums["off"] > 0)
        out = (sums["off"] >= r["min_items_offered"]) & (rate <= r["max_quote_acceptance"])
    prices = _complaints_of(complaints, "price", index)
    if prices is not None:
        hit = prices >= r["min_price_complaints"]
        out = hit if out is None else out | hit
    return out


def high_mileage_commercial(
    visits: pd.DataFrame, customers: pd.DataFrame | None, r: dict[str, Any], index: pd.Index
) -> pd.Series | None:
    """Company customers or a high odometer rate; None when neither is observable."""
    out = None
    if "mileage_km" in visits.columns:
        km = pd.to_numeric(visits["mileage_km"], errors="coerce")
        key = visits["vehicle_id"] if "vehicle_id" in visits.columns else visits["customer_id"]
        obs = pd.DataFrame(
            {
                "customer_id": visits["customer_id"],
                "key": key,
                "km": km,
                "date": visits["visit_date"],
            }
        ).dropna(subset=["km"])
        g = obs.groupby(["customer_id", "key"])
        span = (g["date"].max() - g["date"].min()).dt.days
        rate = (g["km"].max() - g["km"].min()) / span.where(span >= r["min_span_days"]) * 365.25
        best = reindex(rate.groupby(level="customer_id").max(), index)
        out = (best >= r["min_km_per_year"]).fillna(False)
    if customers is not None and "customer_type" in customers.columns:
        hit = reindex(customers["customer_type"], index).isin(r["customer_types"])
        out = hit if out is None else out | hit
    return out


def needs_tags(
    tables: dict[str, pd.DataFrame], as_of: Any, cfg: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Boolean needs columns per customer with a visit up to ``as_of`` (index customer_id)."""
    as_of = timestamp(as_of)
    s = settings(cfg, "needs")
    start = months_before(as_of, s["window_months"])
    all_visits = visits_to(tables, as_of)
    index = pd.Index(all_visits["customer_id"].unique(), name="customer_id").sort_values()
    visits = all_visits.loc[all_visits["visit_date"] > start]
    complaints = cut(tables.get("complaints"), "complaint_date", as_of, start=start)
    customers = _customers(tables, as_of)
    cols = {
        "young_family": young_family(customers, as_of, s["young_family"], index),
        "time_sensitive": time_sensitive(visits, complaints, s["time_sensitive"], index),
        "price_sensitive": price_sensitive(visits, complaints, s["price_sensitive"], index),
        "high_mileage_commercial": high_mileage_commercial(
            visits, customers, s["high_mileage_commercial"], index
        ),
    }
    skipped = [k for k, v in cols.items() if v is None]
    if skipped:
        log.info("needs: no observable columns for %s; those tags stay false", skipped)
    out = pd.DataFrame(
        {
            k: (v if v is not None else pd.Series(False, index=index))
            .astype("boolean")
            .fillna(False)
            .astype(bool)
            for k, v in cols.items()
        },
        index=index,
    )
    out.attrs["skipped"] = skipped
    return out
