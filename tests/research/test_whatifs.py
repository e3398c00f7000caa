"""Campaign and segment what-ifs, single-customer explanations and the research charts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from cvm.config import CvmError
from cvm.research import campaigns as rcp
from cvm.research import plots as rp
from cvm.research import segments as rsg
from cvm.research.explain import pick_customer
from support.planning import random_instance


def _fold(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    treated = rng.random(n) < 0.5
    # the treatment helps only where x > 0: a model ranking by x has a positive Qini
    p = 0.2 + treated * np.where(x > 0, 0.2, 0.0)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "campaign": np.where(rng.random(n) < 0.5, "a", "b"),
            "treated": treated,
            "responded": rng.random(n) < p,
            "uplift": x,
        }
    )


def test_qini_curves_rank_a_real_effect_above_random():
    curves = rcp.qini_curves(_fold(), 200)
    assert set(curves) == {"a", "b"}
    for q in curves.values():
        assert q.attrs["coefficient"] > 0
        assert q["share"].iloc[0] == 0 and q["share"].iloc[-1] == 1
        assert len(q) <= 201
    shuffled = _fold().assign(uplift=lambda d: np.random.default_rng(3).normal(size=len(d)))
    assert (
        abs(rcp.qini_curves(shuffled, 200)["a"].attrs["coefficient"])
        < curves["a"].attrs["coefficient"]
    )


def test_capacity_binds():
    pairs, budget, capacity = random_instance(300, 5, seed=4)
    caps = rcp.capacity_sensitivity(pairs, budget * 10, capacity, [0.5, 1.0], 0, "greedy")
    for dept, g in caps.groupby("department"):
        assert (g["department_contacts"] <= g["capacity"]).all(), dept
    assert len(caps) == 2 * len(capacity)


def test_control_share_sensitivity_holds_out_more_with_a_larger_share():
    pairs, budget, capacity = random_instance(400, 5, seed=5)
    plan = rcp.plan_campaigns(pairs, budget, capacity, seed=0, method="greedy")
    plan["value_tag"] = "A"
    t = rcp.control_share_sensitivity(plan, [0.0, 0.1, 0.3], seed=0)
    assert t["customers"].nunique() == 1
    assert t["contacted"].is_monotonic_decreasing and t["contacted"].iloc[0] == len(plan)
    assert t["expected_incremental_value"].iloc[0] == pytest.approx(
        plan["expected_incremental_value"].sum()
    )


def test_value_tag_whatif_with_other_thresholds(tables):
    base = rsg.value_tag_whatif(tables["visits"], "2024-06-30", "2024-05-31", "median", "median")
    strict = rsg.value_tag_whatif(tables["visits"], "2024-06-30", "2024-05-31", 100.0, 1e9)
    assert strict["thresholds"] == {"visits_per_year": 100.0, "spend_per_visit": 1e9}
    assert set(strict["counts"].index) == {"D"}  # nobody is high under impossible thresholds
    assert base["migration"].to_numpy().sum() >= base["counts"].sum()
    v = strict["versus_configured"]
    assert list(v.columns) == ["D"] and v.to_numpy().sum() == base["counts"].sum()
    with pytest.raises(CvmError, match="frequency_threshold must be a number"):
        rsg.check_thresholds("mean", "median")
    with pytest.raises(CvmError, match="spend_threshold"):
        rsg.check_thresholds(2, -1)


def test_pick_customer_defaults_to_the_highest_and_checks_the_id():
    s = pd.Series([0.1, 0.9, 0.5], index=["a", "b", "c"])
    assert pick_customer(s) == "b" and pick_customer(s, "c") == "c"
    with pytest.raises(CvmError, match="not among the 3 scored customers"):
        pick_customer(s, "zz")


def test_research_charts_return_axes():
    rng = np.random.default_rng(2)
    y = (rng.random(500) < 0.3).astype(float)
    s = {"champion": rng.random(500), "challenger": rng.random(500)}
    assert isinstance(rp.plot_calibration(y, s, 10), Axes)
    assert isinstance(rp.plot_deciles(y * 100, s, 10), Axes)
    assert isinstance(rp.plot_value_calibration(y * 100, s, 10), Axes)
    contrib = pd.DataFrame(rng.normal(size=(50, 8)), columns=[f"f{i}" for i in range(8)])
    X = pd.DataFrame(rng.normal(size=(50, 8)), columns=contrib.columns)
    axes = rp.plot_dependence(contrib, X, 6)
    assert sum(a.get_visible() for a in axes) == 6
    row = contrib.iloc[0].copy()
    row["bias"] = -1.0
    ax = rp.plot_waterfall(row, X.iloc[0], 5)
    assert len(ax.patches) == 5  # four largest and "3 other features"
    qini = rp.plot_qini(rcp.qini_curves(_fold(), 200))
    assert sum(a.get_visible() for a in qini) == 2
    curve = pd.DataFrame(
        {
            "budget": [1, 2],
            "expected_incremental_value": [1.0, 1.5],
            "expected_incremental_value_low": [0.5, 0.9],
            "expected_incremental_value_high": [1.5, 2.1],
        }
    )
    ax = rp.plot_budget_curve(curve, 1)
    assert isinstance(ax, Axes) and len(ax.collections) == 1  # the interval band
