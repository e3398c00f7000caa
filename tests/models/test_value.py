"""Value model on small synthetic data (toy tables), baselines and the customer value types."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.config import load_config
from cvm.features.snapshot import build_features
from cvm.models.btyd import bgnbd_gamma_gamma, historical_average, rfm_summary
from cvm.models.value import train_value
from support.toy import toy_tables

AS_OF = "2024-12-31"


@pytest.fixture(scope="module")
def toy() -> dict[str, pd.DataFrame]:
    return toy_tables(250, seed=3)


def _cfg(**value) -> dict:
    over = {
        "training": {"max_snapshots": 3},
        "value": {"num_boost_round": 80, "params": {"min_data_in_leaf": 20}, **value},
    }
    return load_config(overrides=over)


@pytest.fixture(scope="module")
def model(toy):
    return train_value(toy, AS_OF, _cfg(model="auto"))


def test_model_predicts_nonnegative_spend_and_reports_metrics(toy, model):
    X = build_features(toy, AS_OF, load_config())
    p = model.predict(X)
    assert p.shape == (len(X),) and np.isfinite(p).all() and (p >= 0).all()
    m = model.metrics
    for key in (
        "normalized_gini",
        "spearman",
        "top_decile_capture",
        "total_ratio",
        "deciles",
        "baselines",
    ):
        assert key in m
    assert set(m["baselines"]) == {
        "historical_average",
        "bgnbd_gamma_gamma",
        "recency_frequency",
        "lightgbm_rfm",
    }
    assert m["model"] in m["stop_normalized_gini"] and m["model"] in ("tweedie", "two_part")
    assert len(m["deciles"]) == 10
    # learns something on the toy data: better than random ranking
    assert m["normalized_gini"] > 0.2
    assert {"realized", "predicted", "historical_average"} <= set(model.validation.columns)
    assert model.feature_names and set(model.feature_names) <= set(X.columns)


def test_lifetime_value_discounts_and_exceeds_one_year(toy, model):
    X = build_features(toy, AS_OF, load_config())
    ltv = model.lifetime_value(X)
    year = model.predict(X) * 12 / model.horizon_months
    lt = model.lifetime
    assert (ltv >= year / (1 + lt["discount_rate"]) - 1e-9).all()
    # bounded by every year retained with max_retention
    cap = sum(
        lt["max_retention"] ** (y - 1) / (1 + lt["discount_rate"]) ** y
        for y in range(1, lt["clv_years"] + 1)
    )
    assert (ltv <= year * cap + 1e-6).all()
    r = model.return_probability(X)
    assert ((r >= 0) & (r <= 1)).all()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["tweedie", "two_part"])
def test_each_model_kind_trains(toy, kind):
    m = train_value(toy, AS_OF, _cfg(model=kind, refit_all=False))
    assert m.metrics["model"] == kind
    assert (m.booster is None) == (kind == "two_part")
    assert len(m.boosters) == (1 if kind == "tweedie" else 2)


def test_rfm_and_baselines_point_in_time():
    visits = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "c"],
            "visit_date": pd.to_datetime(
                ["2023-01-01", "2023-01-29", "2023-03-26", "2023-02-01", "2024-01-01"]
            ),
            "amount": [100.0, 300.0, 500.0, 0.0, 999.0],
            "payer": ["customer", "customer", "customer", "warranty", "customer"],
        }
    )
    r = rfm_summary(visits, "2023-04-23")
    assert list(r.index) == ["a", "b"]  # c comes after as_of
    assert r.loc["a", "frequency"] == 2 and r.loc["a", "recency"] == pytest.approx(12)
    assert r.loc["a", "T"] == pytest.approx(16) and r.loc["a", "monetary_value"] == 400
    assert r.loc["b", "frequency"] == 0
    h = historical_average(visits, "2023-04-23", 12)
    assert h["b"] == 0 and h["a"] > 0


def test_bgnbd_baseline_ranks_frequent_buyers_first(toy):
    ids = pd.Index(sorted(toy["visits"]["customer_id"].unique()))
    pred = bgnbd_gamma_gamma(toy["visits"], "2023-12-31", 12, customers=ids)
    assert pred.index.equals(ids) and (pred >= 0).all() and pred.sum() > 0
