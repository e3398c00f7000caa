"""One campaign plan per store (its own budget and capacities), one control draw for all.

The planner (``cvm.campaigns.targeting.plan_campaigns``) runs once per store on the store's
customers' pairs; the union is the group's plan. Control groups are then drawn over the
union, stratified by store as well as by the campaign settings' strata, so every store keeps
its own control share in every campaign.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def plan_store(
    item: tuple[str, pd.DataFrame, float, dict[str, float]], seed: int, camp_cfg: dict[str, Any]
) -> pd.DataFrame:
    """The plan of one store: ``item`` = (dealer_id, its scored pairs, budget, capacities)."""
    from cvm.campaigns.targeting import plan_campaigns

    dealer, pairs, budget, capacity = item
    plan = plan_campaigns(pairs, float(budget), capacity, seed=seed, cfg=camp_cfg)
    plan["dealer_id"] = pd.Series(dealer, index=plan.index, dtype="str")
    return plan


def control_strata(camp_cfg: dict[str, Any]) -> list[str]:
    """The configured control strata plus ``dealer_id``."""
    from cvm.campaigns.catalogue import defaults

    strata = list(defaults(camp_cfg).control_strata)
    return strata if "dealer_id" in strata else [*strata, "dealer_id"]


def union(plans: list[pd.DataFrame], value_col: str = "expected_incremental_value") -> pd.DataFrame:
    """The stores' plans as one, by value (ties: store, customer) like a single plan."""
    if not plans:
        return pd.DataFrame()
    methods = {str(p.attrs.get("method", "")) for p in plans} - {""}
    bare = []
    for p in plans:  # attrs may hold frames (calibration tables): concat compares them
        q = p.copy(deep=False)
        q.attrs = {}
        bare.append(q)
    out = pd.concat(bare, ignore_index=True)
    out = out.sort_values(
        [value_col, "dealer_id", "customer_id"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    out.attrs.update(
        method="+".join(sorted(methods)), spend=float(out["cost"].sum()) if len(out) else 0.0
    )
    return out
