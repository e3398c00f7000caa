"""Random small planning instances and the planner's optimality gap on them (tests only)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvm.campaigns.targeting import plan_campaigns


def random_instance(
    n_customers: int, n_campaigns: int, seed: int
) -> tuple[pd.DataFrame, float, dict[str, float]]:
    """A random small planning instance (pairs, budget, capacity) for gap measurements."""
    rng = np.random.default_rng(seed)
    depts = ["sales", "after_sales", "marketing", "customer_service"]
    camp_cost = rng.choice([2, 20, 40, 60, 150, 300], size=n_campaigns).astype(float)
    camp_dept = rng.choice(depts, size=n_campaigns)
    rows = []
    for cust in range(n_customers):
        for k in np.flatnonzero(rng.random(n_campaigns) < 0.5):
            stake = rng.lognormal(7.5, 1.0)
            rows.append(
                (cust, f"c{k}", camp_dept[k], camp_cost[k], rng.beta(1, 15) * stake - camp_cost[k])
            )
    pairs = pd.DataFrame(
        rows,
        columns=["customer_id", "campaign", "department", "cost", "expected_incremental_value"],
    )
    budget = float(pairs["cost"].sum() * rng.uniform(0.05, 0.3) / max(n_campaigns / 2, 1))
    capacity = {
        d: float(rng.integers(max(n_customers // 8, 1), max(n_customers // 3, 2))) for d in depts
    }
    return pairs, budget, capacity


def optimality_gap_small_cases(
    n_cases: int = 30, n_customers: int = 60, n_campaigns: int = 6, seed: int = 0
) -> pd.DataFrame:
    """Lagrangian and ratio-greedy vs exact (milp) on random small instances: gap per case."""
    out = []
    for case in range(n_cases):
        pairs, budget, capacity = random_instance(n_customers, n_campaigns, seed + case)
        m = plan_campaigns(pairs, budget, capacity, seed=seed, method="milp")
        mv = m.attrs["expected_value"]
        row = {"case": case, "optimum": mv}
        for method in ("lagrangian", "greedy"):
            v = plan_campaigns(pairs, budget, capacity, seed=seed, method=method)
            row[f"{method}_gap"] = 0.0 if mv <= 0 else 1.0 - v.attrs["expected_value"] / mv
        out.append(row)
    return pd.DataFrame(out)
