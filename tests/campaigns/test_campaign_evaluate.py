"""Evaluation against a known truth: oracle plan, highest-risk-first, true value of a plan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.campaigns.evaluate import (
    evaluate_plans,
    highest_risk_first_plan,
    oracle_plan,
    plan_true_value,
)
from cvm.campaigns.targeting import plan_campaigns
from cvm.config import CvmError
from support.planning import random_instance


def _setup(seed: int = 3):
    pairs, budget, capacity = random_instance(300, 5, seed)
    pairs["customer_id"] = "C" + pairs["customer_id"].astype(str)
    rng = np.random.default_rng(seed)
    oracle = pairs[["customer_id", "campaign", "expected_incremental_value"]].copy()
    # the plan sees the truth with noise
    pairs["expected_incremental_value"] += rng.normal(0, 200, len(pairs))
    risk = pd.Series(rng.random(300), index="C" + pd.Index(np.arange(300).astype(str)))
    pairs["churn_probability"] = pairs["customer_id"].map(risk)
    return pairs, oracle, budget, capacity


def test_oracle_plan_is_best_and_risk_first_respects_limits(catalogue) -> None:
    pairs, oracle, budget, capacity = _setup()
    mine = plan_campaigns(pairs, budget, capacity, seed=1)
    orc = oracle_plan(oracle, pairs, budget, capacity, control_share=0.0)
    assert plan_true_value(orc, oracle) >= plan_true_value(mine, oracle) - 1e-6
    risk = highest_risk_first_plan(
        pairs.assign(campaign="win_back"), budget, capacity, catalogue, control_share=0.0
    )
    assert risk["cost"].sum() <= budget and not risk["customer_id"].duplicated().any()
    first = pairs.sort_values("churn_probability", ascending=False)["customer_id"].iloc[0]
    assert first in set(risk["customer_id"])


def test_only_target_rows_count_and_unknown_pairs_fail() -> None:
    pairs, oracle, budget, capacity = _setup()
    plan = plan_campaigns(pairs, budget, capacity).assign(group="target")
    total = plan_true_value(plan, oracle)
    plan.loc[plan.index[:5], "group"] = "control"
    assert plan_true_value(plan, oracle) < total or plan.empty
    bad = plan.assign(campaign="nope")
    with pytest.raises(CvmError, match="no oracle value"):
        plan_true_value(bad, oracle)


def test_evaluate_plans_keys() -> None:
    pairs, oracle, budget, capacity = _setup()
    plan = plan_campaigns(pairs.assign(campaign="win_back"), budget, capacity)
    plan = plan.assign(group="target")
    out = evaluate_plans(
        plan,
        pairs.assign(campaign="win_back"),
        oracle.assign(campaign="win_back").drop_duplicates(["customer_id", "campaign"]),
        budget,
        capacity,
    )
    for key in (
        "budget",
        "incremental_value",
        "oracle_incremental_value",
        "highest_risk_first_incremental_value",
    ):
        assert key in out
    assert out["oracle_incremental_value"] >= out["incremental_value"] - 1e-6


def test_a_sampled_oracle_restricts_the_comparison_and_scales_the_budget() -> None:
    """Above 100k customers the simulator's oracle covers a sample of customers."""
    pairs, oracle, budget, capacity = _setup()
    plan = plan_campaigns(pairs, budget, capacity).assign(group="target")
    sampled = pd.Index(sorted(pairs["customer_id"].unique())[::3])  # a third of them
    part = oracle[oracle["customer_id"].isin(sampled)]
    out = evaluate_plans(plan, pairs, part, budget, capacity)
    s = out["oracle_sample"]
    assert s["customers"] == len(sampled) and 0.3 < s["share"] < 0.36
    assert out["budget"] == pytest.approx(budget * s["share"])
    assert "sample" in s["note"]
    mine = plan[plan["customer_id"].isin(sampled)]
    assert out["incremental_value"] == pytest.approx(plan_true_value(mine, part))
    assert out["oracle_incremental_value"] >= out["incremental_value"] - 1e-6
    with pytest.raises(CvmError, match="no customer"):
        evaluate_plans(
            plan, pairs, oracle.assign(customer_id="X" + oracle["customer_id"]), budget, capacity
        )


def test_noisy_oracle_is_scored_on_independent_paths() -> None:
    """Choosing and scoring on the same noisy oracle values credits the oracle with the noise
    it picked; with two halves it is chosen on one and scored (like every plan) on the other."""
    pairs, oracle, budget, capacity = _setup()
    rng = np.random.default_rng(11)
    true = oracle["expected_incremental_value"].to_numpy()
    noisy = oracle.assign(
        expected_incremental_value_a=true + rng.normal(0, 300, len(true)),
        expected_incremental_value_b=true + rng.normal(0, 300, len(true)),
    )
    noisy["expected_incremental_value"] = (
        noisy["expected_incremental_value_a"] + noisy["expected_incremental_value_b"]
    ) / 2
    plan = plan_campaigns(pairs, budget, capacity).assign(group="target")
    out = evaluate_plans(plan, pairs, noisy, budget, capacity)
    assert out["scored_on"] == "independent_paths"
    # the same-paths figure is inflated by the noise; the independent one is not
    exact = plan_true_value(
        oracle_plan(
            noisy,
            pairs,
            budget,
            capacity,
            control_share=0.0,
            value_col="expected_incremental_value_a",
        ),
        oracle,
    )
    assert out["oracle_incremental_value_same_paths"] > out["oracle_incremental_value"]
    assert abs(out["oracle_incremental_value"] - exact) < 0.25 * abs(exact)
    assert out["incremental_value"] == pytest.approx(
        plan_true_value(plan, noisy, value_col="expected_incremental_value_b")
    )


def _heterogeneous(seed: int = 4):
    """Pairs whose true value varies within each campaign around known campaign means."""
    pairs, budget, capacity = random_instance(400, 4, seed)
    pairs["customer_id"] = "C" + pairs["customer_id"].astype(str)
    rng = np.random.default_rng(seed)
    oracle = pairs[["customer_id", "campaign", "expected_incremental_value"]].copy()
    for h in ("a", "b"):
        oracle[f"expected_incremental_value_{h}"] = oracle["expected_incremental_value"]
    means = oracle.groupby("campaign")["expected_incremental_value"].transform("mean")
    pairs["campaign_spend_mean"] = means + pairs["cost"]
    pairs["churn_probability"] = rng.random(len(pairs))
    pairs["predicted_value"] = rng.lognormal(7, 1, len(pairs))
    pairs["paid_spend_12m"] = rng.lognormal(7, 1, len(pairs))
    return pairs, oracle, budget, capacity


def test_baselines_and_targeting_lift(catalogue) -> None:
    from cvm.campaigns.evaluate import (
        campaign_means_plan,
        random_eligible_plan,
        store_rules_plan,
        value_at_risk_first_plan,
    )

    pairs, oracle, budget, capacity = _heterogeneous()
    for make in (
        lambda: campaign_means_plan(pairs, budget, capacity, 1, 0.0),
        lambda: random_eligible_plan(pairs, budget, capacity, 1, 0.0),
        lambda: store_rules_plan(pairs, budget, capacity, 1, 0.0),
        lambda: value_at_risk_first_plan(pairs, budget, capacity, catalogue, 1, 0.0),
    ):
        p = make()
        assert p["cost"].sum() <= budget + 1e-9 and not p["customer_id"].duplicated().any()
        for d, c in capacity.items():
            assert (p["department"] == d).sum() <= c
    # a plan that knows each customer's value: targeting lift ~ 1 (it is the oracle)
    perfect = plan_campaigns(
        pairs.assign(expected_incremental_value=oracle["expected_incremental_value"].to_numpy()),
        budget,
        capacity,
        seed=0,
    )
    from cvm.campaigns.control import assign_control

    perfect = assign_control(perfect, seed=0, strata=["campaign"])  # as the oracle's
    out = evaluate_plans(perfect, pairs, oracle, budget, capacity)
    for key in (
        "campaign_means_incremental_value",
        "random_eligible_incremental_value",
        "store_rules_incremental_value",
        "value_at_risk_first_incremental_value",
        "highest_risk_first_incremental_value",
        "targeting_lift",
        "targeting_lift_ci",
        "per_campaign",
    ):
        assert key in out, key
    assert out["targeting_lift"] == pytest.approx(1.0, abs=0.02)
    assert out["campaign_means_incremental_value"] < out["oracle_incremental_value"]
    assert out["random_eligible_incremental_value"] < out["campaign_means_incremental_value"]
    lo, hi = out["targeting_lift_ci"]
    assert lo <= out["targeting_lift"] <= hi + 1e-9
    # the campaign-means plan itself has a lift of about 0
    means = campaign_means_plan(pairs, budget, capacity, 0, None)
    out0 = evaluate_plans(means, pairs, oracle, budget, capacity)
    assert abs(out0["targeting_lift"]) < 0.15
    pc = out["per_campaign"]
    assert set(pc) == set(pairs["campaign"])
    assert all(
        v["oracle_half_agreement"] == pytest.approx(1.0) for v in pc.values() if v["eligible"] > 2
    )
    assert sum(v["plan_value"] for v in pc.values()) == pytest.approx(out["incremental_value"])
    assert out["ratio_to_oracle"] == pytest.approx(1.0, abs=0.02)
    assert out["ratio_to_campaign_means"] > 1
