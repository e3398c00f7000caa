"""What-ifs of the campaign plan: Qini curves of the uplift model's out-of-time fold, the
the plan's sensitivity to the control share and department capacities.

Inputs are the campaigns step's artifacts (``uplift_validation``, ``campaign_pairs``,
``campaign_plan``); nothing is written.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cvm.campaigns.targeting import plan_campaigns
from cvm.campaigns.uplift import qini_coefficient, qini_curve

VALUE = "expected_incremental_value"


def qini_curves(validation: pd.DataFrame, points: int) -> dict[str, pd.DataFrame]:
    """Per campaign of the out-of-time fold: the Qini curve (``share`` targeted, ``qini``
    incremental responders, at most ``points`` points for plotting) with the Qini coefficient
    (from every row) in ``attrs['coefficient']``. Campaigns without both groups are left out."""
    out = {}
    for camp, g in validation.groupby("campaign", sort=True):
        t = g["treated"].to_numpy(bool)
        if t.all() or (~t).all():
            continue
        u, y = g["uplift"].to_numpy(float), g["responded"].to_numpy(float)
        q = qini_curve(u, y, t)
        share = np.arange(1, len(q) + 1) / len(q)
        keep = np.unique(np.linspace(0, len(q) - 1, min(len(q), int(points))).astype(int))
        frame = pd.DataFrame({"share": np.r_[0.0, share[keep]], "qini": np.r_[0.0, q[keep]]})
        frame.attrs["coefficient"] = qini_coefficient(u, y, t)
        frame.attrs["n"] = len(g)
        out[str(camp)] = frame
    return out


def _summary(plan: pd.DataFrame) -> dict[str, float]:
    target = plan if "group" not in plan.columns else plan[plan["group"] == "target"]
    return {
        "customers": len(plan),
        "contacted": len(target),
        "spend": float(target["cost"].sum()),
        VALUE: float(target[VALUE].sum()),
    }


def control_share_sensitivity(plan: pd.DataFrame, shares: list[float], seed: int) -> pd.DataFrame:
    """This month's chosen customers with other control shares: how many are contacted, the
    spend and the expected incremental value of the contacted ones (controls earn nothing,
    they measure)."""
    from cvm.campaigns.control import assign_control

    base = plan.drop(columns=["group"], errors="ignore")
    rows = []
    for s in shares:
        rows.append(
            {"control_share": float(s), **_summary(assign_control(base, share=float(s), seed=seed))}
        )
    return pd.DataFrame(rows)


def capacity_sensitivity(
    pairs: pd.DataFrame,
    budget: float,
    capacity: dict[str, float],
    factors: list[float],
    seed: int,
    method: str,
) -> pd.DataFrame:
    """The plan with one department's capacity × each factor (the others as configured)."""
    rows = []
    for dept, cap in sorted(capacity.items()):
        for f in factors:
            caps = {**capacity, dept: float(cap) * float(f)}
            plan = plan_campaigns(pairs, budget, caps, seed=seed, method=method)
            rows.append(
                {
                    "department": dept,
                    "factor": float(f),
                    "capacity": caps[dept],
                    "department_contacts": int((plan["department"] == dept).sum()),
                    **_summary(plan),
                }
            )
    return pd.DataFrame(rows)


def planning_inputs(ctx: Any) -> tuple[pd.DataFrame, dict[str, float], dict[str, Any]]:
    """The scored pairs of this month, the configured capacities and the research settings."""
    from cvm.campaigns.catalogue import defaults
    from cvm.research.challenger import research_settings

    pairs = ctx.load_frame("campaign_pairs")
    capacity = {k: float(v) for k, v in (defaults().capacity).items()}
    return pairs, capacity, research_settings(ctx.cfg)["campaigns"]
