"""Candidates (every pair, chosen or not, and why) and the budget curve."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.campaigns.budget_curve import budget_curve, plan_interval
from cvm.campaigns.candidates import CANDIDATE_COLUMNS, REASONS, build_candidates
from cvm.campaigns.control import assign_control
from cvm.campaigns.eligibility import eligible_pairs
from cvm.campaigns.targeting import plan_campaigns
from support.planning import random_instance


def _scored(seed: int = 5) -> tuple[pd.DataFrame, float, dict[str, float]]:
    pairs, budget, capacity = random_instance(200, 5, seed)
    pairs["customer_id"] = "C" + pairs["customer_id"].astype(str)
    rng = np.random.default_rng(seed)
    pairs["uplift"] = rng.uniform(-0.02, 0.1, len(pairs))
    pairs["uplift_source"] = "learned"
    pairs["campaign_spend_sd"] = pairs["campaign"].map(
        {c: 10.0 * (i + 1) for i, c in enumerate(sorted(pairs["campaign"].unique()))}
    )
    return pairs, budget, capacity


def test_every_pair_once_with_a_reason_exactly_when_not_chosen(catalogue) -> None:
    scored, budget, capacity = _scored()
    plan = assign_control(
        plan_campaigns(scored, budget, capacity, seed=1), share=0.2, seed=1, strata=["campaign"]
    )
    blocked = pd.DataFrame(
        {
            "customer_id": ["X1", "X2"],
            "campaign": ["win_back", "win_back"],
            "reason": ["cool_down", "contact_gap"],
        }
    )
    cand = build_candidates(
        scored, plan, blocked, catalogue, {"win_back": "learned"}, capacity, 0.0, 1.96
    )
    assert list(cand.columns) == list(CANDIDATE_COLUMNS)
    assert len(cand) == len(scored) + 2
    assert not cand.duplicated(["customer_id", "campaign"]).any()
    assert cand["chosen"].sum() == len(plan)
    assert (cand.loc[cand["chosen"], "reason_not_chosen"] == "").all()
    assert (cand.loc[~cand["chosen"], "reason_not_chosen"].isin(REASONS)).all()
    assert set(cand.loc[cand["chosen"], "group"]) <= {"target", "control"}
    assert (cand.loc[~cand["chosen"], "group"] == "none").all()
    neg = cand["expected_incremental_value"] <= 0
    assert (cand.loc[neg & ~cand["chosen"], "reason_not_chosen"].isin(["negative_value"])).all()
    # a customer chosen for one campaign: their other pairs say so
    chosen_ids = set(plan["customer_id"])
    other = cand[~cand["chosen"] & cand["customer_id"].isin(chosen_ids) & ~neg]
    assert (other["reason_not_chosen"] == "other_campaign").all() and len(other)
    # positive pairs of unchosen customers lost to budget or capacity
    rest = cand[
        ~cand["chosen"]
        & ~cand["customer_id"].isin(chosen_ids)
        & ~neg
        & cand["customer_id"].str.startswith("C")
    ]
    assert rest["reason_not_chosen"].isin(["budget", "capacity"]).all()
    b = cand[cand["customer_id"] == "X1"].iloc[0]
    assert b["reason_not_chosen"] == "cool_down" and b["department"] == "marketing"
    lo, hi = cand["expected_incremental_value_low"], cand["expected_incremental_value_high"]
    ok = cand["customer_id"].str.startswith("C")
    assert (lo[ok] < cand.loc[ok, "expected_incremental_value"]).all()
    assert (hi[ok] > cand.loc[ok, "expected_incremental_value"]).all()


def test_capacity_reason_names_the_full_department(catalogue) -> None:
    scored, budget, _ = _scored()
    dept = scored["department"].iloc[0]
    capacity = {dept: 3}
    plan = assign_control(
        plan_campaigns(scored, budget * 10, capacity, seed=1),
        share=0.0,
        seed=1,
        strata=["campaign"],
    )
    cand = build_candidates(
        scored,
        plan,
        pd.DataFrame(columns=["customer_id", "campaign", "reason"]),
        catalogue,
        {},
        capacity,
        0.0,
        1.96,
    )
    lost = cand[(cand["department"] == dept) & (cand["reason_not_chosen"] == "capacity")]
    assert len(lost) > 0 and (plan["department"] == dept).sum() == 3


def test_eligibility_reports_blocked_pairs(customers, catalogue) -> None:
    as_of = pd.Timestamp("2026-09-30")
    who = customers.index[:3]
    contacts = pd.DataFrame(
        {
            "customer_id": list(who),
            "campaign": ["service_reminder"] * 3,
            "contact_date": [
                as_of - pd.Timedelta(days=10),
                as_of - pd.Timedelta(days=45),
                as_of - pd.Timedelta(days=45),
            ],
        }
    )
    pairs = eligible_pairs(customers, contacts, catalogue, as_of)
    blocked = pairs.attrs["blocked"]
    got = blocked.set_index(["customer_id", "campaign"])["reason"]
    if customers.eval(catalogue["service_reminder"].eligibility).loc[who[1]]:
        assert got[(who[1], "service_reminder")] == "cool_down"
    assert (blocked.loc[blocked["customer_id"] == who[0], "reason"] == "contact_gap").all()
    # no blocked pair is also eligible
    both = pairs.merge(blocked, on=["customer_id", "campaign"])
    assert both.empty


def test_budget_curve_is_monotone_and_matches_the_plan_at_1x() -> None:
    scored, budget, capacity = _scored()
    current = assign_control(
        plan_campaigns(scored, budget, capacity, seed=2), share=0.1, seed=2, strata=["campaign"]
    )
    args = (scored, budget, capacity, [3, 0.5, 1, 2, 0.25])
    kw = {"seed": 2, "z": 1.96, "control_share": 0.1, "current": current}
    curve = budget_curve(*args, **kw)
    assert list(curve["budget_multiplier"]) == [0.25, 0.5, 1.0, 2.0, 3.0]
    side_by_side = budget_curve(*args, **kw, threads=2)  # two at a time: the same curve
    pd.testing.assert_frame_equal(side_by_side, curve)
    assert (curve["spend"] <= curve["budget"] + 1e-9).all()
    assert curve["spend"].is_monotonic_increasing
    one = curve[curve["budget_multiplier"] == 1.0].iloc[0]
    value, low, high = plan_interval(current, 1.96)
    assert one["expected_incremental_value"] == pytest.approx(value)
    assert (curve["expected_incremental_value_low"] <= curve["expected_incremental_value"]).all()
    assert (curve["expected_incremental_value_high"] >= curve["expected_incremental_value"]).all()
    # the interval: campaigns independent, contacts of a campaign share its error
    t = current[current["group"] == "target"]
    per = t.groupby("campaign").agg(n=("cost", "size"), sd=("campaign_spend_sd", "first"))
    assert high - value == pytest.approx(1.96 * np.sqrt(((per["n"] * per["sd"]) ** 2).sum()))
