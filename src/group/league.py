"""The league table of a dealer group's stores: one row per store, a group row, ranks.

Columns (every figure for the store's customers, ``cvm.features.stores.customer_stores``):

- ``customers``, ``active`` (a visit in the last ``definitions.active_window_months``);
- ``retention_2nd_service``, ``retention_after_warranty``: retention by service milestone of
  the vehicles the store sold at least ``report.milestone_min_age_years`` ago, counting
  their visits at that store (a vehicle serviced at a sister store is lost to the store);
- ``ab_share``: share of A+B among the store's tagged customers, with its own thresholds;
- ``churn_risk``: share of its active customers with a churn probability of at least
  ``report.risk_probability``; ``value_at_risk``: Σ churn probability × predicted value
  over its active customers (CNY);
- ``budget``, ``plan_targets``, ``plan_spend``, ``plan_value``: this month's plan;
- ``measured_response_lift`` (points of paid-visit response, target − control, pooled over
  last month's campaigns) and ``measured_incremental_revenue`` (CNY).

``rank_<column>``: 1 = best among the stores (higher is better, except ``churn_risk``; for
``value_at_risk`` 1 = the most at stake). The ``GROUP`` row holds the group's totals (sums)
or group-wide shares; its ranks are empty. ``thin`` marks a store with fewer active
customers than ``stores.min_active_customers``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cvm.data.ids import days, ids
from cvm.i18n import t
from cvm.settings import CampaignSettings, typed

GROUP = "GROUP"
HIGHER_IS_BETTER = {
    "retention_2nd_service": True,
    "retention_after_warranty": True,
    "ab_share": True,
    "churn_risk": False,
    "value_at_risk": True,
    "plan_value": True,
    "measured_response_lift": True,
    "measured_incremental_revenue": True,
}


def milestone_retention(
    tables: dict[str, pd.DataFrame], as_of: pd.Timestamp, min_age_years: float
) -> pd.DataFrame:
    """Per selling store: share of its vehicles sold ≥ ``min_age_years`` ago with at least 2
    non-accident visits at that store, and with a visit there after the warranty end."""
    sales, veh, v = tables.get("vehicle_sales"), tables.get("vehicles"), tables["visits"]
    cols = ["retention_2nd_service", "retention_after_warranty", "milestone_cohort"]
    if sales is None or veh is None or "dealer_id" not in sales.columns:
        return pd.DataFrame(columns=cols)
    cutoff = as_of - pd.DateOffset(days=int(365.25 * min_age_years))
    sold = sales[["vehicle_id", "dealer_id", "sale_date"]].dropna()
    sold = sold[sold["sale_date"] <= cutoff].drop_duplicates("vehicle_id")
    if sold.empty:
        return pd.DataFrame(columns=cols)
    vis = v[(days(v["visit_date"]) <= days(pd.Series([as_of]))[0])]
    if "visit_type" in vis.columns:
        vis = vis[vis["visit_type"] != "accident"]
    vis = vis[["vehicle_id", "dealer_id", "visit_date"]].merge(
        sold[["vehicle_id", "dealer_id"]], on=["vehicle_id", "dealer_id"]
    )
    n = vis.groupby("vehicle_id").size()
    out = sold.set_index("vehicle_id")
    out["n"] = n.reindex(out.index, fill_value=0)
    if "warranty_end_date" in veh.columns:
        wend = veh.drop_duplicates("vehicle_id").set_index("vehicle_id")["warranty_end_date"]
        after = vis.assign(w=vis["vehicle_id"].map(wend))
        after = set(after.loc[after["visit_date"] > after["w"], "vehicle_id"])
        out["after"] = out.index.isin(list(after))
    else:
        out["after"] = np.nan
    g = out.groupby("dealer_id")
    return pd.DataFrame(
        {
            "retention_2nd_service": g["n"].apply(lambda x: float((x >= 2).mean())),
            "retention_after_warranty": g["after"].mean().astype(float),
            "milestone_cohort": g.size(),
        }
    )


def measured_lift(
    tables: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    stores: pd.Series,
    run_cfg: dict[str, Any],
    camp_cfg: dict[str, Any],
) -> pd.DataFrame:
    """Last month's campaigns per store of the contacted customer: pooled response lift
    (target − control) and incremental revenue (revenue difference × targets)."""
    from cvm.campaigns.measurement import contact_outcomes

    c = tables.get("campaign_contacts")
    cols = ["measured_response_lift", "measured_incremental_revenue", "measured_targets"]
    if c is None or c.empty or "group" not in c.columns:
        return pd.DataFrame(columns=cols)
    d = days(c["contact_date"])
    start = as_of - pd.DateOffset(months=1)
    sel = c[(d > days(pd.Series([start]))[0]) & (d <= days(pd.Series([as_of]))[0])]
    if sel.empty:
        return pd.DataFrame(columns=cols)
    window = typed(CampaignSettings, camp_cfg).measurement.window_days
    oc = contact_outcomes(sel, tables["visits"], window, cut_at=as_of, run_cfg=run_cfg)
    oc["dealer_id"] = ids(oc["customer_id"]).map(stores).to_numpy()
    rows = {}
    for dealer, g in oc.groupby("dealer_id", sort=True):
        t, k = g[g["group"] == "target"], g[g["group"] == "control"]
        if len(t) and len(k):
            lift = float(t["responded"].mean() - k["responded"].mean())
            rev = float((t["revenue"].mean() - k["revenue"].mean()) * len(t))
        else:
            lift = rev = np.nan
        rows[dealer] = {
            "measured_response_lift": lift,
            "measured_incremental_revenue": rev,
            "measured_targets": len(t),
        }
    return pd.DataFrame.from_dict(rows, orient="index", columns=cols)


def league_table(
    scores: pd.DataFrame,
    plan: pd.DataFrame,
    budgets: pd.Series,
    retention: pd.DataFrame,
    lift: pd.DataFrame,
    cfg: dict[str, Any],
) -> pd.DataFrame:
    """The league table (index ``dealer_id``, stores then ``GROUP``); see the module doc."""
    rep, st = cfg["report"], cfg["stores"]
    risk_p = float(rep["risk_probability"])
    s = scores.copy()
    active = s["lifecycle_stage"].isin(["active_owner", "won_back"])
    s["_active"] = active
    s["_risky"] = active & (s["churn_probability"] >= risk_p)
    s["_var"] = np.where(
        active, s["churn_probability"].fillna(0) * s["predicted_value"].fillna(0), 0.0
    )
    s["_tagged"] = s["value_tag"].notna()
    s["_ab"] = s["value_tag"].isin(["A", "B"])
    g = s.groupby("dealer_id")
    out = pd.DataFrame({"customers": g.size(), "active": g["_active"].sum()})
    out = out.join(retention[["retention_2nd_service", "retention_after_warranty"]], how="left")
    out["ab_share"] = g["_ab"].sum() / g["_tagged"].sum().replace(0, np.nan)
    out["churn_risk"] = g["_risky"].sum() / g["_active"].sum().replace(0, np.nan)
    out["value_at_risk"] = g["_var"].sum()
    out["budget"] = budgets.reindex(out.index).fillna(0.0)
    tgt = plan[plan["group"] == "target"] if len(plan) else plan
    if len(tgt):
        pg = tgt.groupby("dealer_id")
        out["plan_targets"] = pg.size().reindex(out.index, fill_value=0)
        out["plan_spend"] = pg["cost"].sum().reindex(out.index, fill_value=0.0)
        out["plan_value"] = (
            pg["expected_incremental_value"].sum().reindex(out.index, fill_value=0.0)
        )
    else:
        out["plan_targets"], out["plan_spend"], out["plan_value"] = 0, 0.0, 0.0
    out = out.join(lift, how="left")
    out["thin"] = out["active"] < int(st["min_active_customers"])
    for col, higher in HIGHER_IS_BETTER.items():
        out[f"rank_{col}"] = out[col].rank(ascending=not higher, method="min").astype("Int64")
    # the group row: totals and group-wide shares
    grp = {
        "customers": len(s),
        "active": int(active.sum()),
        "ab_share": float(s["_ab"].sum() / max(int(s["_tagged"].sum()), 1)),
        "churn_risk": float(s["_risky"].sum() / max(int(active.sum()), 1)),
        "value_at_risk": float(s["_var"].sum()),
        "budget": float(out["budget"].sum()),
        "plan_targets": int(out["plan_targets"].sum()),
        "plan_spend": float(out["plan_spend"].sum()),
        "plan_value": float(out["plan_value"].sum()),
        "thin": False,
    }
    for col in ("retention_2nd_service", "retention_after_warranty"):
        if col in retention and len(retention):
            w = retention["milestone_cohort"].astype(float)
            grp[col] = float(np.average(retention[col].fillna(0), weights=w)) if w.sum() else np.nan
    ok = lift.dropna(subset=["measured_response_lift"]) if len(lift) else lift
    if len(ok):  # the group's lift: the stores' lifts weighted by their targets
        grp["measured_incremental_revenue"] = float(ok["measured_incremental_revenue"].sum())
        grp["measured_response_lift"] = float(
            np.average(ok["measured_response_lift"], weights=ok["measured_targets"].astype(float))
        )
    out.loc[GROUP] = pd.Series(grp)
    out.index.name = "dealer_id"
    return out


def group_summary(league: pd.DataFrame, lang: str) -> list[str]:
    """A few sentences for the group: size, best and weakest store on the cliff, where the
    money at risk is, the plan."""
    st = league.drop(index=GROUP, errors="ignore")
    g = league.loc[GROUP]
    out = [
        t(
            "group_size",
            lang,
            n=len(st),
            customers=int(g["customers"]),
            active=int(g["active"]),
            ab_share=g["ab_share"],
        )
    ]
    r = st["retention_2nd_service"].dropna()
    if len(r) >= 2:
        out.append(
            t("group_retention", lang, best=r.idxmax(), hi=r.max(), worst=r.idxmin(), lo=r.min())
        )
    if len(st):
        v = st["value_at_risk"]
        share = float(v.max() / v.sum()) if v.sum() > 0 else 0.0
        out.append(t("group_value_at_risk", lang, store=v.idxmax(), share=share))
    out.append(
        t(
            "group_plan",
            lang,
            targets=int(g["plan_targets"]),
            spend=g["plan_spend"],
            budget=g["budget"],
            value=g["plan_value"],
        )
    )
    thin = list(st.index[st["thin"].astype(bool)])
    if thin:
        out.append(t("group_thin", lang, stores=t("list_sep", lang).join(thin)))
    return out
