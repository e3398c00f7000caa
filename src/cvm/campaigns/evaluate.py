"""On simulated data: the plan's true incremental value against the oracle plan and a baseline.

The oracle plan knows every true effect (``truth/oracle_campaigns.parquet``) and is chosen by
the same optimizer, over the same eligible pairs, budget and capacities. It is chosen on one
half of the oracle's Monte Carlo paths and every plan is scored on the other half, so the
oracle is not credited with the noise it picked. The baseline contacts
the highest churn risk first with the same campaigns: each customer gets the eligible campaign
with the largest catalogue prior (ties: the cheaper one), while budget and capacity allow.
All three plans hold out the same control share (same seed), and only target rows count.
Only ``cvm evaluate`` and benchmarks call this module (it reads the truth).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from cvm.campaigns.catalogue import Campaign, defaults, load_catalogue
from cvm.campaigns.control import assign_control
from cvm.campaigns.targeting import plan_campaigns
from cvm.config import CvmError
from cvm.features.pit import ids

log = logging.getLogger(__name__)

KEY = ["customer_id", "campaign"]


def _keyed(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["customer_id"] = ids(out["customer_id"]).to_numpy()
    out["campaign"] = out["campaign"].astype(str).to_numpy()
    return out


def true_values(pairs: pd.DataFrame, oracle: pd.DataFrame,
                value_col: str = "expected_incremental_value") -> np.ndarray:
    """The oracle's expected incremental value of each (customer, campaign) row of ``pairs``."""
    o = _keyed(oracle[KEY + [value_col]]).set_index(KEY)[value_col]
    idx = pd.MultiIndex.from_frame(_keyed(pairs[KEY]))
    vals = o.reindex(idx).to_numpy(float)
    if np.isnan(vals).any():
        raise CvmError(f"{int(np.isnan(vals).sum())} plan rows have no oracle value "
                       "(customer or campaign unknown to the truth)")
    return vals


def plan_true_value(plan: pd.DataFrame, oracle_campaigns: pd.DataFrame,
                    groups: tuple[str, ...] = ("target",),
                    value_col: str = "expected_incremental_value") -> float:
    """Sum of the true expected incremental value over the plan's contacted rows."""
    rows = plan if "group" not in plan.columns else plan[plan["group"].isin(groups)]
    return float(true_values(rows, oracle_campaigns, value_col).sum()) if len(rows) else 0.0


def _control(plan: pd.DataFrame, share: float | None, seed: int) -> pd.DataFrame:
    strata = ["campaign"] + (["value_tag"] if "value_tag" in plan.columns else [])
    return assign_control(plan, share=share, seed=seed, strata=strata)


def oracle_plan(oracle_campaigns: pd.DataFrame, eligible: pd.DataFrame, budget: float,
                capacity: dict[str, float] | None = None, seed: int = 0,
                control_share: float | None = None,
                value_col: str = "expected_incremental_value") -> pd.DataFrame:
    """The plan chosen knowing every true effect (``value_col``), over the same eligible pairs
    and limits. ``eligible`` needs customer_id, campaign, department, cost.
    """
    pairs = _keyed(eligible.drop(columns=["expected_incremental_value"], errors="ignore"))
    pairs["expected_incremental_value"] = true_values(pairs, oracle_campaigns, value_col)
    plan = plan_campaigns(pairs, budget, capacity, seed=seed)
    return _control(plan, control_share, seed)


def highest_risk_first_plan(eligible: pd.DataFrame, budget: float,
                            capacity: dict[str, float] | None = None,
                            catalogue: dict[str, Campaign] | None = None,
                            risk_col: str = "churn_probability", seed: int = 0,
                            control_share: float | None = None) -> pd.DataFrame:
    """Contact the highest churn risk first: per customer the eligible campaign with the largest
    catalogue prior uplift (ties: cheaper), customers by descending risk, within the limits."""
    if risk_col not in eligible.columns:
        raise CvmError(f"highest-risk-first needs column {risk_col!r} in the eligible pairs")
    catalogue = catalogue or load_catalogue()
    p = _keyed(eligible)
    p["_prior"] = p["campaign"].map({k: c.prior_uplift for k, c in catalogue.items()})
    p = p.sort_values(["customer_id", "_prior", "cost"], ascending=[True, False, True],
                      kind="stable").drop_duplicates("customer_id")
    rng = np.random.default_rng(seed)
    p["_tie"] = rng.random(len(p))
    p = p.sort_values([risk_col, "_tie"], ascending=[False, True], kind="stable")
    cap = {d: float(v) for d, v in (capacity or {}).items()}
    left = float(budget)
    take = []
    for i, (cost, dept) in enumerate(zip(p["cost"].to_numpy(float), p["department"].to_numpy())):
        if cost <= left and cap.get(dept, np.inf) >= 1:
            take.append(i)
            left -= cost
            cap[dept] = cap.get(dept, np.inf) - 1
    plan = p.iloc[take].drop(columns=["_prior", "_tie"]).reset_index(drop=True)
    return _control(plan, control_share, seed)


def _oracle_sample(plan: pd.DataFrame, pairs: pd.DataFrame, oracle: pd.DataFrame,
                   budget: float, capacity: dict[str, float] | None
                   ) -> tuple[pd.DataFrame, pd.DataFrame, float, dict[str, float] | None,
                              dict[str, Any] | None]:
    """Restrict the comparison to the customers the oracle covers.

    Above 100k customers the simulator computes the oracle for a uniform random sample of
    customers (``meta.json`` ``oracle.sampled``). The run's plan, the eligible pairs and the
    plans compared with it are then restricted to those customers, with the budget and the
    department capacities scaled by the sampled share of the eligible customers, so the three
    plans still compete for the same (scaled) resources. Returns the inputs unchanged and
    ``None`` when the oracle covers every customer of the pairs.
    """
    known = pd.Index(ids(oracle["customer_id"]).unique())
    cust = pd.Index(ids(pairs["customer_id"]).unique())
    covered = cust.isin(known)
    if covered.all() or len(cust) == 0:
        return plan, pairs, budget, capacity, None
    if not covered.any():
        raise CvmError("no customer of the plan's eligible pairs is in the oracle: is --truth the "
                       "truth folder of the simulation this run was made on?")
    frac = float(covered.mean())
    keep_p = ids(plan["customer_id"]).isin(known).to_numpy()
    keep_e = ids(pairs["customer_id"]).isin(known).to_numpy()
    cap = None if capacity is None else {k: float(v) * frac for k, v in capacity.items()}
    note = (f"the oracle covers a sample of {int(covered.sum()):,} of the {len(cust):,} eligible "
            f"customers ({frac:.1%}): plans compared on them, budget and capacities scaled "
            f"by {frac:.3f}")
    log.warning("campaign evaluation: %s", note)
    return (plan.loc[keep_p], pairs.loc[keep_e], float(budget) * frac, cap,
            {"customers": int(covered.sum()), "eligible_customers": int(len(cust)),
             "share": frac, "plan_rows": int(keep_p.sum()), "note": note})


def evaluate_plans(plan: pd.DataFrame, pairs: pd.DataFrame, oracle: pd.DataFrame,
                   budget: float, capacity: dict[str, float] | None = None, seed: int = 0,
                   catalogue: dict[str, Campaign] | None = None) -> dict[str, Any]:
    """The evaluation JSON's ``campaigns`` part: true incremental value of the run's plan, of
    the oracle plan and of highest-risk-first, same eligible pairs, budget and capacities."""
    d = defaults()
    capacity = d.get("capacity") if capacity is None else capacity
    share = None
    if "group" in plan.columns and len(plan):
        share = float(d.get("control_share", 0.1))
    plan, pairs, budget, capacity, sample = _oracle_sample(plan, pairs, oracle, budget, capacity)
    # The oracle's values are Monte Carlo estimates: a plan chosen on them and scored on the
    # same numbers is credited with their noise (winner's curse). With the two halves of the
    # paths in the truth, the oracle plan is chosen on half a and every plan scored on half b.
    choose, score = "expected_incremental_value", "expected_incremental_value"
    if {"expected_incremental_value_a", "expected_incremental_value_b"} <= set(oracle.columns):
        choose, score = "expected_incremental_value_a", "expected_incremental_value_b"
    mine = plan_true_value(plan, oracle, value_col=score)
    orc = oracle_plan(oracle, pairs, budget, capacity, seed, share, value_col=choose)
    out: dict[str, Any] = {
        "budget": float(budget),
        "incremental_value": mine,
        "oracle_incremental_value": plan_true_value(orc, oracle, value_col=score),
        "scored_on": "independent_paths" if choose != score else "same_paths",
    }
    if choose != score:   # the in-sample figure, for comparison with earlier versions
        full = oracle_plan(oracle, pairs, budget, capacity, seed, share)
        out["oracle_incremental_value_same_paths"] = plan_true_value(full, oracle)
        out["incremental_value_all_paths"] = plan_true_value(plan, oracle)
    if sample:
        out["oracle_sample"] = sample
    if "churn_probability" in pairs.columns:
        risk = highest_risk_first_plan(pairs, budget, capacity, catalogue, seed=seed,
                                       control_share=share)
        out["highest_risk_first_incremental_value"] = plan_true_value(risk, oracle,
                                                                      value_col=score)
    else:
        log.warning("pairs carry no churn_probability: no highest-risk-first baseline")
    if out["oracle_incremental_value"] > 0:
        out["ratio_to_oracle"] = mine / out["oracle_incremental_value"]
    hr = out.get("highest_risk_first_incremental_value")
    if hr is not None and hr > 0:
        out["ratio_to_highest_risk_first"] = mine / hr
    out["n_contacted"] = int((plan["group"] == "target").sum()) if "group" in plan else len(plan)
    return out
