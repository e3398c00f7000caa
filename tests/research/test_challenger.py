"""Challenger settings: checks that name the valid choices, overlays, paired comparisons."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cvm.config import CvmError, load_config
from cvm.research import challenger as rc

FEATURES = ["months_since_last_visit", "n_visits_12m", "paid_spend_12m", "tenure_months"]


def test_unknown_feature_lists_the_valid_names():
    with pytest.raises(CvmError) as err:
        rc.check_overrides("churn", FEATURES, features_drop=["n_visit_12m"])
    msg = str(err.value)
    assert "features_drop: unknown feature ['n_visit_12m']" in msg
    assert "did you mean n_visits_12m" in msg
    assert all(f in msg for f in FEATURES)  # every valid name is listed
    with pytest.raises(CvmError, match="features_only: unknown feature"):
        rc.check_overrides("value", FEATURES, features_only=["nope"])


def test_unknown_model_param_lists_the_valid_keys():
    with pytest.raises(CvmError) as err:
        rc.check_overrides("churn", FEATURES, model_params={"num_leafs": 7})
    msg = str(err.value)
    assert "model_params: unknown key ['num_leafs']" in msg and "num_leaves" in msg
    assert "early_stopping_rounds" in msg and "lambda_l2" in msg
    # LightGBM's own names and aliases pass, and the trainer's keys
    rc.check_overrides(
        "churn", FEATURES, model_params={"num_leaves": 7, "reg_lambda": 2.0, "num_boost_round": 50}
    )
    rc.check_overrides("value", FEATURES, model_params={"tweedie_variance_power": 1.5})
    with pytest.raises(CvmError, match="unknown key"):
        rc.check_overrides("churn", FEATURES, model_params={"tweedie_variance_powr": 1.5})


def test_fixed_keys_empty_sets_and_strings_are_refused():
    with pytest.raises(CvmError, match="cannot be overridden"):
        rc.check_overrides("churn", FEATURES, model_params={"objective": "regression"})
    with pytest.raises(CvmError, match="leave no feature"):
        rc.check_overrides("churn", FEATURES, features_drop=FEATURES)
    with pytest.raises(CvmError, match="must be a list"):
        rc.check_overrides("churn", FEATURES, features_drop="tenure_months")


def test_overlay_reproduces_the_challenger_settings():
    cfg = load_config()
    best = {"num_leaves": 15, "learning_rate": 0.1}
    over = rc.overlay(
        "churn",
        cfg,
        FEATURES,
        best,
        features_drop=["n_visits_12m"],
        model_params={"num_leaves": 7, "num_boost_round": 80},
    )
    churn = over["churn"]
    assert set(cfg["churn"]["exclude_features"]) | {"n_visits_12m"} == set(
        churn["exclude_features"]
    )
    assert churn["tuning"] == [{"num_leaves": 7, "learning_rate": 0.1}]
    assert churn["num_boost_round"] == 80
    merged = rc.apply_overlay(cfg, over)
    assert merged["churn"]["tuning"] == churn["tuning"]
    assert cfg["churn"]["tuning"] != churn["tuning"]  # the run config itself is untouched
    only = rc.overlay(
        "value",
        cfg,
        FEATURES,
        {},
        features_only=["paid_spend_12m"],
        model_params={"learning_rate": 0.05},
    )
    assert set(only["value"]["exclude_features"]) == set(FEATURES) - {"paid_spend_12m"}
    assert only["value"]["params"]["learning_rate"] == 0.05
    assert only["value"]["params"]["num_leaves"] == load_config("value")["params"]["num_leaves"]


def test_paired_comparison_separates_a_better_score():
    rng = np.random.default_rng(0)
    n = 1500
    signal = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * signal))).astype(float)
    weak = signal + rng.normal(scale=3, size=n)
    p_strong, p_weak = 1 / (1 + np.exp(-2 * signal)), 1 / (1 + np.exp(-0.3 * weak))
    t = rc.compare("churn", y, {"champion": p_weak, "challenger": p_strong})
    assert list(t.index) == ["auc", "ece", "gini"]
    auc = t.loc["auc"]
    assert auc["challenger"] > auc["champion"]
    assert auc["difference_low"] > 0  # the interval of the paired difference excludes 0
    assert auc["champion_low"] < auc["champion"] < auc["champion_high"]
    assert t.loc["gini", "challenger"] == pytest.approx(2 * auc["challenger"] - 1)
    # same draws: identical scores give a zero-width difference interval
    same = rc.compare("churn", y, {"champion": p_weak, "challenger": p_weak})
    assert same.loc["auc", "difference_low"] == same.loc["auc", "difference_high"] == 0


def test_value_comparison_and_decile_calibration():
    rng = np.random.default_rng(1)
    truth = rng.gamma(0.5, 2000, size=1500)
    y = rng.poisson(truth / 500) * 500.0
    t = rc.compare("value", y, {"champion": truth * 2, "challenger": truth})
    assert t.loc["ece", "challenger"] < t.loc["ece", "champion"]  # twice the level: miscalibrated
    assert t.loc["gini", "challenger"] == pytest.approx(t.loc["gini", "champion"])  # same ranking
    assert rc.decile_calibration_error(y, np.full(len(y), y.mean()), 10) > 0


def test_comparison_summary_and_record():
    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.4).astype(float)
    scores = {"champion": rng.random(400), "challenger": y * 0.3 + rng.random(400) * 0.7}
    cmp = rc.Comparison(
        "churn",
        "c1",
        {"churn": {"exclude_features": []}},
        rc.compare("churn", y, scores),
        y,
        scores,
    )
    s = cmp.summary()
    assert list(s.columns) == ["champion", "challenger", "difference"]
    assert re.fullmatch(r"0\.\d{3} \[0\.\d{3}, 0\.\d{3}\]", s.loc["auc", "challenger"])
    d = cmp.to_dict()
    assert d["n_rows"] == 400 and d["table"]["auc"]["challenger"] > d["table"]["auc"]["champion"]
