"""The one LightGBM trainer: parameter precedence, determinism, early stopping, tuning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.models import trainer


def _data(n: int = 2000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "c": pd.Categorical(rng.choice(["x", "y", "z"], n)),
        }
    )
    logit = 1.5 * X["a"] - X["b"] + (X["c"] == "x") * 0.8
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    return X, y.to_numpy()


def test_params_precedence_base_then_fixed_then_extra_then_point():
    p = trainer.booster_params(
        "binary",
        seed=3,
        num_threads=1,
        base={"objective": "regression", "seed": 9, "num_leaves": 7, "learning_rate": 0.1},
        extra={"learning_rate": 0.2},
        point={"num_leaves": 31},
    )
    assert p["objective"] == "binary" and p["seed"] == 3 and p["num_threads"] == 1
    assert p["deterministic"] is True and p["verbosity"] == -1
    assert p["learning_rate"] == 0.2 and p["num_leaves"] == 31
    # without num_threads the base's setting stands
    assert trainer.booster_params("binary", seed=0, base={"num_threads": 2})["num_threads"] == 2


def test_same_seed_same_trees_and_early_stopping_cuts_rounds():
    X, y = _data()
    p = trainer.booster_params(
        "binary",
        seed=1,
        num_threads=1,
        extra={"feature_fraction": 0.7, "bagging_fraction": 0.7, "bagging_freq": 1},
    )
    a = trainer.fit_booster(p, trainer.dataset(X[:1500], y[:1500]), 50)
    b = trainer.fit_booster(p, trainer.dataset(X[:1500], y[:1500]), 50)
    assert a.model_to_string() == b.model_to_string()
    c = trainer.fit_booster({**p, "seed": 2}, trainer.dataset(X[:1500], y[:1500]), 50)
    assert c.model_to_string() != a.model_to_string()
    train = trainer.dataset(X[:1500], y[:1500])
    es = trainer.fit_booster(
        {**p, "learning_rate": 0.5},
        train,
        500,
        trainer.dataset(X[1500:], y[1500:], reference=train),
        5,
    )
    assert 0 < es.best_iteration < 500


def test_tune_returns_best_point_truncated_to_best_iteration():
    from cvm.models.metrics import auc

    X, y = _data()
    train = trainer.dataset(X[:1500], y[:1500], pre_filter=False)
    valid = trainer.dataset(X[1500:], y[1500:], reference=train)
    grid = [
        {"num_leaves": 2, "min_data_in_leaf": 500, "learning_rate": 0.01},
        {"num_leaves": 15, "min_data_in_leaf": 20, "learning_rate": 0.1},
    ]
    best = trainer.tune(
        grid,
        lambda pt: trainer.booster_params("binary", seed=0, num_threads=1, point=pt),
        train,
        valid,
        X[1500:],
        lambda p: auc(y[1500:], p),
        rounds=300,
        early_stopping_rounds=10,
        num_threads=1,
        name="test",
    )
    assert best.point == grid[1]
    assert best.booster.num_trees() < 300
    assert best.score == pytest.approx(auc(y[1500:], best.booster.predict(X[1500:])))
    with pytest.raises(ValueError, match="grid is empty"):
        trainer.tune(
            [],
            dict,
            train,
            valid,
            X[1500:],
            float,
            rounds=1,
            early_stopping_rounds=1,
            num_threads=1,
            name="test",
        )
