"""Spend-calibrated expected values: R-learner incremental spend and the EB campaign means."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.campaigns.targeting import calibrate_values
from cvm.campaigns.uplift import calibrate_spend, spend_effects
from cvm.config import CvmError, load_config

PARAMS = {
    "learning_rate": 0.1,
    "num_leaves": 7,
    "min_data_in_leaf": 50,
    "verbosity": -1,
    "num_threads": 1,
}


def _world(seed: int = 0, n: int = 40000):
    """Heavy-tailed spend driven by a feature; campaign a adds 80 CNY, campaign b nothing."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    camp = rng.choice(["a", "b"], n)
    t = rng.random(n) < 0.82
    base = np.exp(6 + 0.8 * x) * (rng.random(n) < 0.6)
    y = base + t * np.where(camp == "a", 80.0, 0.0) + rng.normal(0, 50, n)
    X = pd.DataFrame({"x": x.astype(float), "_campaign": pd.Categorical(camp, ["a", "b"])})
    cust = np.array([f"C{i:06d}" for i in range(n)])
    return X, y, t, camp, cust


def test_spend_effects_recover_the_effect_with_honest_errors() -> None:
    X, y, t, camp, cust = _world()
    eff, se = spend_effects(X, y, t, camp, cust, PARAMS, rounds=60, seed=0)
    for c, truth in (("a", 80.0), ("b", 0.0)):
        assert abs(eff[c] - truth) < 3.5 * se[c]
    # residualizing on x beats the plain difference in means
    a = camp == "a"
    raw_se = np.sqrt(y[a & t].var() / (a & t).sum() + y[a & ~t].var() / (a & ~t).sum())
    assert se["a"] < raw_se


def test_spend_effects_skip_campaigns_without_control() -> None:
    X, y, t, camp, cust = _world(n=4000)
    t = t | (camp == "b")
    eff, _ = spend_effects(X, y, t, camp, cust, PARAMS, rounds=20, seed=0)
    assert "b" not in eff and "a" in eff


def test_calibrate_spend_weights_by_precision() -> None:
    prior = {"a": 100.0, "b": 40.0, "c": 10.0}
    eff = {"a": 200.0, "b": 40.0}
    # a precise measurement moves the mean towards it; an imprecise one barely
    tight = calibrate_spend(prior, eff, {"a": 1.0, "b": 1.0}, 0.5, 20.0, 1.0)
    loose = calibrate_spend(prior, eff, {"a": 1000.0, "b": 1.0}, 0.5, 20.0, 1.0)
    assert 190 < tight["a"] <= 200 and 100 <= loose["a"] < 102
    assert tight["b"] == pytest.approx(40.0)
    assert tight["c"] == 10.0  # no measurement: prior kept


def test_calibrate_values_centres_each_campaign_on_its_calibrated_mean() -> None:
    scored = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4"],
            "campaign": ["a", "a", "b", "b"],
            "cost": [10.0, 10.0, 2.0, 2.0],
            "uplift": [0.1, 0.3, 0.02, 0.02],
            "value_at_stake": [1000.0, 1000.0, 500.0, 1500.0],
        }
    )
    cfg = load_config(
        "campaigns",
        {
            "uplift": {
                "spend_calibration": {
                    "heterogeneity": 0.5,
                    "deviation": "model",
                    "prior_rel_sd": 0.5,
                    "prior_min_sd": 1.0,
                    "transport_sd": 0.0,
                }
            }
        },
    )
    out = calibrate_values(scored, {"a": 400.0}, {"a": 1e-6}, cfg)
    ev = out["expected_incremental_value"].to_numpy()
    # campaign a: calibrated to the precise measurement 400, half the deviation of 100 kept
    assert ev[:2] == pytest.approx([400 - 50 - 10, 400 + 50 - 10], abs=0.01)
    # campaign b: no measurement, mean 20 kept, deviations halved
    assert ev[2:] == pytest.approx([20 - 5 - 2, 20 + 5 - 2], abs=0.01)
    assert out["model_value"].tolist() == pytest.approx([100, 300, 10, 30])
    assert out.attrs["calibration"]["a"]["calibrated"] == pytest.approx(400, abs=0.01)


def _stake_spread_cfg() -> dict:
    """Campaign settings with the whole stake deviation kept and precise measurements."""
    sc = {"deviation": "stake", "heterogeneity": 1.0, "prior_rel_sd": 0.5}
    sc |= {"prior_min_sd": 1.0, "transport_sd": 0.0}
    return load_config("campaigns", {"uplift": {"spend_calibration": sc}})


def _four_pairs(
    other: str, cost: list[float], uplift: list[float], stake: list[float]
) -> pd.DataFrame:
    """Two customers of campaign ``a`` and two of ``other``."""
    return pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4"],
            "campaign": ["a", "a", other, other],
            "cost": cost,
            "uplift": uplift,
            "value_at_stake": [float(v) for v in stake],
        }
    )


def test_the_stake_deviation_spreads_the_measured_mean_by_value_at_stake() -> None:
    scored = _four_pairs("b", [10.0, 10.0, 2.0, 2.0], [0.1, 0.3, 0.02, 0.02], [500, 1500] * 2)
    cfg = _stake_spread_cfg()
    out = calibrate_values(scored, {"a": 400.0, "b": -50.0}, {"a": 1e-6, "b": 1e-6}, cfg)
    ev = out["expected_incremental_value"].to_numpy()
    # a: mean 400 spread by stake / mean stake (0.5, 1.5); the mean is kept
    assert ev[:2] == pytest.approx([200 - 10, 600 - 10], abs=0.01)
    # b: a harmful campaign is not spread (its mean, whoever is at stake)
    assert ev[2] == pytest.approx(ev[3])
    # with a margin model validated for a, its deviation replaces the stake's there only
    out = calibrate_values(
        scored,
        {"a": 400.0, "b": -50.0},
        {"a": 1e-6, "b": 1e-6},
        cfg,
        margin=np.array([0.0, 10.0, 0.0, 0.0]),
        margin_weight={"a": 1.0},
    )
    assert out["expected_incremental_value"].to_numpy()[:2] == pytest.approx(
        [400 - 5 - 10, 400 + 5 - 10], abs=0.01
    )


def test_a_flat_campaign_gets_its_mean_for_every_customer() -> None:
    """Catalogue ``spread: flat`` (e.g. an insurance renewal, whose value does not follow the
    service stake): no spread by stake or by the model, unless its margin model validated."""
    scored = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4"],
            "campaign": ["a", "a", "r", "r"],
            "cost": [10.0, 10.0, 30.0, 30.0],
            "uplift": [0.1, 0.3, 0.1, 0.3],
            "value_at_stake": [500.0, 1500.0, 500.0, 1500.0],
        }
    )
    sc = {"heterogeneity": 1.0, "prior_rel_sd": 0.5, "prior_min_sd": 1.0, "transport_sd": 0.0}
    eff, se = {"a": 400.0, "r": 100.0}, {"a": 1e-6, "r": 1e-6}
    for deviation in ("stake", "model"):
        cfg = load_config(
            "campaigns", {"uplift": {"spend_calibration": {**sc, "deviation": deviation}}}
        )
        ev = calibrate_values(scored, eff, se, cfg, flat=["r"])["expected_incremental_value"]
        assert ev.to_numpy()[2:] == pytest.approx([100 - 30, 100 - 30], abs=0.01)
        assert ev[0] < ev[1]  # the other campaign keeps its spread
    cfg = load_config("campaigns", {"uplift": {"spend_calibration": {**sc, "deviation": "stake"}}})
    out = calibrate_values(
        scored,
        eff,
        se,
        cfg,
        margin=np.array([0.0, 0.0, 0.0, 10.0]),
        margin_weight={"r": 1.0},
        flat=["r"],
    )
    assert out["expected_incremental_value"].to_numpy()[2:] == pytest.approx([65.0, 75.0])


def test_at_risk_and_value_campaigns_spread_their_mean_by_the_churn_probability() -> None:
    """Catalogue ``spread: at_risk`` (retention campaigns): the measured mean is spread by
    churn probability x value at stake, so of two customers with the same stake the one who
    would otherwise not return gets more; ``spread: value`` (reminders) by (1 - churn
    probability) x stake; other campaigns keep the stake spread."""
    scored = _four_pairs("w", [10.0, 10.0, 50.0, 50.0], [0.1] * 4, [500, 1500, 1000, 1000])
    cfg = _stake_spread_cfg()
    eff, se = {"a": 400.0, "w": 300.0}, {"a": 1e-6, "w": 1e-6}
    risk = np.array([0.9, 0.1, 0.2, 0.6])
    out = calibrate_values(scored, eff, se, cfg, at_risk=["w"], risk=risk)
    ev = out["expected_incremental_value"].to_numpy()
    # w: value at risk 200 and 600 (mean 400): 300 x (0.5, 1.5), the mean kept
    assert ev[2:] == pytest.approx([150 - 50, 450 - 50], abs=0.01)
    # a is not at_risk: its stake spread ignores the risk
    assert ev[:2] == pytest.approx([200 - 10, 600 - 10], abs=0.01)
    # spread: value weighs the stake by the chance of returning instead: a gets 50 and 1350
    # (mean 700), so 400 x (1/14, 27/14); w gets 800 and 400 (mean 600): 300 x (4/3, 2/3)
    out = calibrate_values(scored, eff, se, cfg, risk=risk, by_value=["a", "w"])
    ev = out["expected_incremental_value"].to_numpy()
    assert ev == pytest.approx([400 / 14 - 10, 400 * 27 / 14 - 10, 400 - 50, 200 - 50], abs=0.01)
    with pytest.raises(CvmError, match="churn probability"):
        calibrate_values(scored, eff, se, cfg, at_risk=["w"])
