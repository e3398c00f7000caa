"""The plan: one campaign per customer, budget and capacity respected, near-optimal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvm.campaigns.eligibility import eligible_pairs
from cvm.campaigns.targeting import lp_bound, plan_campaigns, score_pairs, value_at_stake
from support.planning import optimality_gap_small_cases, random_instance

METHODS = ["milp", "lagrangian", "greedy"]


def _check(plan: pd.DataFrame, budget: float, capacity: dict) -> None:
    assert not plan["customer_id"].duplicated().any()
    assert plan["cost"].sum() <= budget + 1e-6
    for d, n in plan["department"].value_counts().items():
        assert n <= capacity.get(d, np.inf)
    assert (plan["expected_incremental_value"] > 0).all()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), method=st.sampled_from(METHODS))
def test_constraints_hold(seed: int, method: str) -> None:
    pairs, budget, capacity = random_instance(40, 5, seed)
    _check(plan_campaigns(pairs, budget, capacity, seed=seed, method=method), budget, capacity)


def test_lagrangian_is_close_to_the_milp_optimum() -> None:
    gaps = optimality_gap_small_cases(n_cases=12, n_customers=50, n_campaigns=5, seed=1)
    assert gaps["lagrangian_gap"].mean() < 0.02
    assert gaps["lagrangian_gap"].max() < 0.08
    assert (gaps["lagrangian_gap"] >= -1e-6).all()  # milp is the optimum


def test_lp_bound_is_an_upper_bound() -> None:
    pairs, budget, capacity = random_instance(300, 6, 5)
    plan = plan_campaigns(pairs, budget, capacity, method="lagrangian")
    bound = lp_bound(pairs, budget, capacity)
    assert plan.attrs["expected_value"] <= bound + 1e-6
    assert plan.attrs["expected_value"] >= 0.97 * bound


def test_same_seed_same_plan() -> None:
    pairs, budget, capacity = random_instance(200, 6, 9)
    a = plan_campaigns(pairs, budget, capacity, seed=4, method="greedy")
    b = plan_campaigns(
        pairs.sample(frac=1, random_state=2), budget, capacity, seed=4, method="greedy"
    )
    assert set(zip(a.customer_id, a.campaign, strict=True)) == set(
        zip(b.customer_id, b.campaign, strict=True)
    )


def test_zero_budget_and_missing_columns() -> None:
    pairs, _, capacity = random_instance(20, 3, 0)
    assert plan_campaigns(pairs, 0.0, capacity).empty
    with pytest.raises(Exception, match="department"):
        plan_campaigns(pairs.drop(columns="department"), 100.0, capacity)


def test_score_pairs_expected_value(customers, catalogue) -> None:
    pairs = eligible_pairs(customers, None, catalogue, "2026-09-30")
    stake = value_at_stake(customers)
    scored = score_pairs(pairs, np.full(len(pairs), 0.1), stake, catalogue)
    row = scored.iloc[0]
    assert row["expected_incremental_value"] == pytest.approx(
        0.1 * stake[row["customer_id"]] - catalogue[row["campaign"]].unit_cost
    )
    assert (stake >= 0).all() and stake.max() <= stake.quantile(1.0)
