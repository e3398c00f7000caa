"""Budgets and capacities by store: the split rules of configs/default.yaml `stores:`."""

from __future__ import annotations

import pandas as pd
import pytest

from cvm.config import CvmError, load_config
from cvm.group.budgets import store_budgets, store_capacities


def _cfg(**stores):
    cfg = load_config()
    cfg["stores"] = {**cfg["stores"], **stores}
    return cfg


def test_active_customers_split_adds_up_to_the_group_budget() -> None:
    active = pd.Series([5000, 3000, 1999, 1], index=["D01", "D02", "D03", "D04"])
    b = store_budgets(100001, active, _cfg())
    assert b.sum() == 100001 and (b == b.round()).all()
    assert b["D01"] == pytest.approx(100001 * 0.5, abs=1)
    assert b["D01"] > b["D02"] > b["D03"] > b["D04"]


def test_equal_and_explicit_splits() -> None:
    active = pd.Series([10, 20, 30], index=["D01", "D02", "D03"])
    assert store_budgets(90000, active, _cfg(budget_split="equal")).tolist() == [30000] * 3
    b = store_budgets(
        1, active, _cfg(budget_split="explicit", budgets={"D01": 5, "D02": 6, "D03": 7})
    )
    assert b.tolist() == [5, 6, 7]
    with pytest.raises(CvmError, match="D03"):
        store_budgets(1, active, _cfg(budget_split="explicit", budgets={"D01": 5, "D02": 6}))
    with pytest.raises(CvmError, match="budget_split"):
        store_budgets(1, active, _cfg(budget_split="by_mood"))


def test_capacities_follow_the_budget_share_unless_given() -> None:
    budgets = pd.Series([75000.0, 25000.0], index=["D01", "D02"])
    caps = store_capacities(
        {"sales": 1000, "after_sales": 3000}, budgets, _cfg(capacities={"D02": {"sales": 50}})
    )
    assert caps["D01"] == {"sales": 750.0, "after_sales": 2250.0}
    assert caps["D02"] == {"sales": 50.0, "after_sales": 750.0}
