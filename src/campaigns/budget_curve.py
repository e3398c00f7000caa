"""What more or less budget would buy: the plan re-solved at multiples of this month's budget.

The ``campaign_budget_curve`` artifact answers a general manager's first question about the
plan. Each point is the same planner on the same scored pairs and department capacities, with
the same seeded control groups; only the budget changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from cvm.campaigns.control import assign_control
from cvm.campaigns.targeting import plan_campaigns

CURVE_COLUMNS = (
    "budget_multiplier",
    "budget",
    "n_target",
    "spend",
    "expected_incremental_value",
    "expected_incremental_value_low",
    "expected_incremental_value_high",
    "roi",
)


def plan_interval(plan: pd.DataFrame, z: float) -> tuple[float, float, float]:
    """Expected incremental value of a plan's target rows and its ``z`` interval.

    Each campaign's mean per contact carries its posterior sd (``campaign_spend_sd``); an error
    in a campaign's mean moves all its contacts together, while campaigns are independent:
    ``sd = sqrt(sum_c (n_c * sd_c)^2)``. The per-customer part's error is not counted.
    """
    t = plan[plan["group"] == "target"] if "group" in plan.columns else plan
    value = float(t["expected_incremental_value"].sum())
    if "campaign_spend_sd" not in t.columns or t.empty:
        return value, value, value
    per = t.groupby("campaign")["campaign_spend_sd"].agg(["size", "first"])
    sd = float(np.sqrt(((per["size"] * per["first"]) ** 2).sum()))
    return value, value - z * sd, value + z * sd


def budget_curve(
    scored: pd.DataFrame,
    budget: float,
    capacity: dict[str, float] | None,
    multipliers: Sequence[float],
    seed: int,
    z: float,
    tags: pd.Series | None = None,
    control_share: float | None = None,
    current: pd.DataFrame | None = None,
    threads: int = 1,
) -> pd.DataFrame:
    """One row per budget multiplier (``CURVE_COLUMNS``); ``roi`` is net incremental value per
    CNY spent. ``tags`` (value tag by customer id) stratify the control groups as in the run;
    ``current`` is this month's plan, reused for the multiplier 1; ``threads`` points are
    solved side by side (``budget_curve.threads`` in configs/campaigns.yaml)."""

    def solve(m: float) -> pd.DataFrame:
        if current is not None and m == 1.0:
            return current
        plan = plan_campaigns(scored, budget * m, capacity, seed=seed)
        if tags is not None:
            plan = plan.join(tags.rename("value_tag"), on="customer_id")
        strata = None if "value_tag" in plan.columns else ["campaign"]
        return assign_control(plan, share=control_share, seed=seed, strata=strata)

    points = sorted(float(x) for x in multipliers)
    # each point a plan of its own, seeded alike: side by side (the planner's array work runs
    # outside the GIL), the same plans in the same order as one at a time
    with ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="curve") as pool:
        plans = list(pool.map(solve, points))
    rows = []
    for m, plan in zip(points, plans, strict=True):
        value, low, high = plan_interval(plan, z)
        target = plan[plan["group"] == "target"]
        spend = float(target["cost"].sum())
        rows.append(
            {
                "budget_multiplier": m,
                "budget": float(budget * m),
                "n_target": int(len(target)),
                "spend": spend,
                "expected_incremental_value": value,
                "expected_incremental_value_low": low,
                "expected_incremental_value_high": high,
                "roi": value / spend if spend > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(CURVE_COLUMNS))
