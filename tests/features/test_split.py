"""Customer-disjoint validation: stable, seeded, about the configured share."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvm.config import load_config
from cvm.features.split import held_out
from cvm.models.churn import train_churn
from support.toy import toy_tables


def test_held_out_is_stable_seeded_and_sized() -> None:
    ids = pd.Index([f"C{i:07d}" for i in range(20000)])
    h = held_out(ids, 0.3, 42)
    assert abs(h.mean() - 0.3) < 0.015
    assert (held_out(ids[::-1], 0.3, 42) == h[::-1]).all()  # per id, not per position
    assert (held_out(ids, 0.3, 42) == h).all()
    assert (held_out(ids, 0.3, 7) != h).any()
    assert not held_out(ids, 0.0, 42).any()
    # nested: a larger share keeps every customer a smaller one keeps
    assert (held_out(ids, 0.5, 42) | ~h).all()


def test_churn_validates_only_on_held_out_customers() -> None:
    cfg = load_config(
        overrides={
            "churn": {
                "tuning": [{"num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 20}],
                "num_boost_round": 100,
                "early_stopping_rounds": 10,
                "num_threads": 1,
            },
            "training": {"max_snapshots": 3, "validation_customer_share": 0.4},
        }
    )
    m = train_churn(toy_tables(800, seed=5), "2024-12-31", cfg)
    val = m.validation.index
    assert len(val) > 0 and held_out(val, 0.4, int(cfg["seed"])).all()
    assert np.isfinite(m.metrics["auc"])
