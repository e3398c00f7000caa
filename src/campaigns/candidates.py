"""Every customer x campaign pair considered this month, chosen or not, and why not.

``campaigns/candidates.parquet`` is part of the run folder's contract: a CRM or an analyst can see
what each pair was expected to earn, with an interval, whether it was chosen (target or control)
and, when not, the first reason in ``REASONS`` that applies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvm.campaigns.catalogue import Campaign
from cvm.campaigns.eligibility import BLOCK_REASONS

CANDIDATE_COLUMNS = (
    "customer_id",
    "campaign",
    "department",
    "predicted_uplift",
    "expected_incremental_value",
    "expected_incremental_value_low",
    "expected_incremental_value_high",
    "cost",
    "uplift_source",
    "targeting",
    "chosen",
    "group",
    "reason_not_chosen",
)
"""``targeting``: ``per_customer`` where the campaign's per-customer incremental margin validated
on the history (``UpliftModel.margin_weight`` > 0), ``campaign_mean`` where every customer of
the campaign is valued at its measured (or, with ``uplift_source = prior``, its prior) mean."""
REASONS = BLOCK_REASONS + ("negative_value", "other_campaign", "capacity", "budget")
"""Why a pair was not chosen, in the order they are tested:

- ``contact_gap`` / ``yearly_contact_cap``: the customer was contacted too recently, or as
  often as a year allows, by any campaign;
- ``cool_down`` / ``campaign_yearly_cap``: the same for this campaign;
- ``negative_value``: expected incremental value at or below the planner's floor;
- ``other_campaign``: the customer was chosen for another campaign (one per customer);
- ``capacity``: the department's monthly capacity was used up;
- ``budget``: the budget was spent on pairs of higher value per CNY.
"""


def build_candidates(
    scored: pd.DataFrame,
    plan: pd.DataFrame,
    blocked: pd.DataFrame,
    catalogue: dict[str, Campaign],
    source: dict[str, str],
    capacity: dict[str, float] | None,
    min_value: float,
    z: float,
    customer_col: str = "customer_id",
) -> pd.DataFrame:
    """One row per (customer, campaign) pair: ``scored`` (from ``score_pairs`` /
    ``calibrate_values``), the pairs the contact limits ``blocked``, and the ``plan`` (with
    ``group``). The interval is ``value -/+ z * campaign_spend_sd`` (the campaign mean's
    posterior sd; the per-customer part is not counted) and is empty for blocked pairs."""
    key = [customer_col, "campaign"]
    sd = (
        scored["campaign_spend_sd"].to_numpy(float)
        if "campaign_spend_sd" in scored.columns
        else np.zeros(len(scored))
    )
    cand = pd.DataFrame(
        {
            customer_col: scored[customer_col].to_numpy(),
            "campaign": scored["campaign"].astype(str).to_numpy(),
            "department": scored["department"].astype(str).to_numpy(),
            "predicted_uplift": scored["uplift"].to_numpy(float),
            "expected_incremental_value": scored["expected_incremental_value"].to_numpy(float),
            "cost": scored["cost"].to_numpy(float),
            "uplift_source": (
                scored["uplift_source"].astype(str).to_numpy()
                if "uplift_source" in scored.columns
                else "learned"
            ),
            "targeting": np.where(
                (scored["margin_weight"].to_numpy(float) > 0)
                if "margin_weight" in scored.columns
                else False,
                "per_customer",
                "campaign_mean",
            ),
        }
    )
    cand["expected_incremental_value_low"] = cand["expected_incremental_value"] - z * sd
    cand["expected_incremental_value_high"] = cand["expected_incremental_value"] + z * sd
    chosen = plan.set_index(key)["group"] if len(plan) else pd.Series(dtype=str)
    idx = pd.MultiIndex.from_frame(cand[key])
    group = chosen.reindex(idx).to_numpy(dtype=object)
    cand["chosen"] = pd.notna(group)
    cand["group"] = np.where(cand["chosen"], group, "none").astype(str)
    cand["reason_not_chosen"] = _reasons(cand, plan, capacity, min_value, customer_col)
    if len(blocked):
        camp = blocked["campaign"].astype(str)
        b = pd.DataFrame(
            {
                customer_col: blocked[customer_col].to_numpy(),
                "campaign": camp.to_numpy(),
                "department": camp.map({k: c.department for k, c in catalogue.items()}).to_numpy(),
                "cost": camp.map({k: c.unit_cost for k, c in catalogue.items()}).to_numpy(float),
                "uplift_source": camp.map(source).fillna("prior").to_numpy(),
                "targeting": "campaign_mean",
                "chosen": False,
                "group": "none",
                "reason_not_chosen": blocked["reason"].to_numpy(),
            }
        )
        cand = pd.concat([cand, b], ignore_index=True)
    cand = cand.sort_values(key, kind="stable").reset_index(drop=True)
    cand["reason_not_chosen"] = cand["reason_not_chosen"].fillna("").astype(str)
    return cand[list(CANDIDATE_COLUMNS)]


def _reasons(
    cand: pd.DataFrame,
    plan: pd.DataFrame,
    capacity: dict[str, float] | None,
    min_value: float,
    customer_col: str,
) -> np.ndarray:
    """The first reason that applies to each eligible, unchosen pair ('' when chosen)."""
    out = np.full(len(cand), "", dtype=object)
    free = ~cand["chosen"].to_numpy(bool)
    neg = free & (cand["expected_incremental_value"].to_numpy(float) <= min_value)
    out[neg] = "negative_value"
    taken = set(plan[customer_col].tolist()) if len(plan) else set()
    other = free & ~neg & cand[customer_col].isin(taken).to_numpy()
    out[other] = "other_campaign"
    used = plan["department"].value_counts() if len(plan) else pd.Series(dtype=float)
    full = {d for d, c in (capacity or {}).items() if used.get(d, 0) >= float(c)}
    cap = free & ~neg & ~other & cand["department"].isin(full).to_numpy()
    out[cap] = "capacity"
    out[free & ~neg & ~other & ~cap] = "budget"
    return out


def reason_counts(candidates: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per campaign: chosen pairs and each reason's count (for the summary and the report)."""
    c = candidates.assign(
        reason=np.where(candidates["chosen"], "chosen", candidates["reason_not_chosen"])
    )
    tab = c.groupby(["campaign", "reason"]).size().unstack(fill_value=0)
    return {str(k): {str(r): int(v) for r, v in row.items() if v} for k, row in tab.iterrows()}
