"""Calibration figures computed from the written tables only (definitions: docs/simulator.md).

Used by the calibration test and the benchmark; compares the simulated data with public
industry figures (retention by service milestone, yearly loss, visit frequencies, the
180-day reactivation response).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

TARGETS = {
    "milestone_1": 0.94,
    "milestone_2": 0.63,
    "milestone_3": 0.42,
    "milestone_4": 0.31,
    "after_warranty": 0.18,
    "yearly_loss": (0.25, 0.40),
    "active_visits_per_year": (2.0, 4.0),
    "top_tier_visits_per_year": 4.7,
    "top_tier_ratio": 2.3,
    "reactivation_180d_response": 0.22,
}


def milestones(
    visits: pd.DataFrame, vehicles: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> dict[str, float]:
    """Share of store-sold vehicles (sold in the window, >= 48 months before end) that came
    back for the k-th maintenance (the free first service counts as the 1st) and that had
    any visit in the 12 months after the warranty end date."""
    v = vehicles[
        vehicles["sold_by_store"]
        & (vehicles["purchase_date"] >= start)
        & (vehicles["purchase_date"] <= end - pd.DateOffset(months=48))
    ]
    svc = visits[visits["visit_type"].isin(["maintenance", "first_service"])]
    counts = svc.groupby("vehicle_id").size().reindex(v["vehicle_id"], fill_value=0).to_numpy()
    j = visits[["vehicle_id", "visit_date"]].merge(
        v[["vehicle_id", "warranty_end_date"]], on="vehicle_id"
    )
    after = j[
        (j["visit_date"] > j["warranty_end_date"])
        & (j["visit_date"] <= j["warranty_end_date"] + pd.DateOffset(months=12))
    ]
    out = {
        f"milestone_{k}": float((counts >= k).mean()) if len(v) else float("nan")
        for k in range(1, 5)
    }
    out["after_warranty"] = (
        float(v["vehicle_id"].isin(after["vehicle_id"]).mean()) if len(v) else float("nan")
    )
    out["milestone_cohort"] = int(len(v))
    return out


def yearly(visits: pd.DataFrame, end: pd.Timestamp, years: int = 3) -> dict[str, float]:
    """Loss (visit in year Y-1, none in Y), visits per year of active owners (a visit in Y-1
    and Y), and the top spend tier (paid spend in Y >= 15,000 CNY), averaged over the last
    ``years`` 12-month years before ``end``."""
    paid = (visits["payer"].fillna("customer") == "customer") & (visits["amount"] > 0)
    loss, active, top, ratio, share = [], [], [], [], []
    for y in range(years):
        hi = end - pd.DateOffset(months=12 * y)
        lo = hi - pd.DateOffset(months=12)
        lo2 = lo - pd.DateOffset(months=12)
        cur = visits[(visits["visit_date"] > lo) & (visits["visit_date"] <= hi)]
        prev = visits[(visits["visit_date"] > lo2) & (visits["visit_date"] <= lo)]
        prev_c = pd.Index(prev["customer_id"].unique())
        n_cur = cur.groupby("customer_id").size()
        loss.append(float((~prev_c.isin(n_cur.index)).mean()))
        active.append(float(n_cur.reindex(prev_c).dropna().mean()))
        spend = cur.loc[paid.loc[cur.index], :].groupby("customer_id")["amount"].sum()
        tier = spend[spend >= 15000].index
        top.append(float(n_cur.reindex(tier).mean()))
        ratio.append(top[-1] / float(n_cur.mean()))
        share.append(len(tier) / max(1, len(n_cur)))
    return {
        "yearly_loss": float(np.mean(loss)),
        "active_visits_per_year": float(np.mean(active)),
        "top_tier_visits_per_year": float(np.nanmean(top)),
        "top_tier_ratio": float(np.nanmean(ratio)),
        "top_tier_share": float(np.mean(share)),
    }


def reactivation(
    visits: pd.DataFrame,
    contacts: pd.DataFrame,
    end: pd.Timestamp,
    campaign: str = "reactivation_180d",
    days: int = 90,
) -> dict[str, float]:
    """Share of contacted (target) customers with a visit within ``days`` after the contact,
    and the same for the control group (contacts with a complete window only)."""
    c = contacts[
        (contacts["campaign"] == campaign)
        & (contacts["contact_date"] <= end - pd.Timedelta(days=days))
    ]
    j = c[["contact_id", "customer_id", "contact_date", "group"]].merge(
        visits[["customer_id", "visit_date"]], on="customer_id", how="left"
    )
    hit = (j["visit_date"] > j["contact_date"]) & (
        j["visit_date"] <= j["contact_date"] + pd.Timedelta(days=days)
    )
    resp = hit.groupby(j["contact_id"]).any()
    grp = c.set_index("contact_id")["group"].reindex(resp.index)
    return {
        f"{campaign}_response": float(resp[grp == "target"].mean()),
        f"{campaign}_control_response": float(resp[grp == "control"].mean()),
        f"{campaign}_contacts": int(len(c)),
    }


def figures(tables: dict[str, pd.DataFrame], start: Any, end: Any) -> dict[str, float]:
    """All calibration figures of a simulated data set."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    v = tables["visits"]
    out = milestones(v, tables["vehicles"], start, end)
    out.update(yearly(v, end))
    out.update(reactivation(v, tables["campaign_contacts"], end))
    return out
