"""Store-specific columns declared in config become features with their labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.config import CvmError, load_config
from cvm.features.registry import describe, feature_label
from cvm.features.snapshot import build_features
from support.toy import toy_tables

AS_OF = "2022-06-30"
DECL = {
    "customers": {
        "vip_grade": {"type": "category", "zh": "会员等级", "en": "membership level"},
        "points": {"type": "numeric", "zh": "积分", "en": "loyalty points"},
    },
    "vehicles": {"extended_warranty": {"type": "yes_no", "zh": "延保", "en": "extended warranty"}},
}


def _tables():
    t = toy_tables(200, seed=1)
    rng = np.random.default_rng(0)
    c = t["customers"].copy()
    c["vip_grade"] = rng.choice(["金卡", "银卡", None], len(c))
    c["points"] = rng.integers(0, 5000, len(c)).astype(float)
    c["undeclared_note"] = "x"
    v = t["vehicles"].copy()
    v["extended_warranty"] = rng.choice(["是", "否"], len(v))
    return {**t, "customers": c, "vehicles": v}


def _cfg(decl):
    return load_config("default", {"features": {"extra_columns": decl}})


def test_declared_columns_become_features_with_labels() -> None:
    tables = _tables()
    f = build_features(tables, AS_OF, _cfg(DECL))
    assert {"vip_grade", "points", "extended_warranty"} <= set(f.columns)
    assert "undeclared_note" not in f.columns  # kept in the data, ignored here
    assert isinstance(f["vip_grade"].dtype, pd.CategoricalDtype)
    assert list(f["vip_grade"].cat.categories) == ["金卡", "银卡"]
    assert set(f["extended_warranty"].dropna().unique()) <= {0.0, 1.0}
    c = tables["customers"].set_index("customer_id")
    some = f.index[:20]
    assert np.allclose(f.loc[some, "points"].to_numpy(float), c.loc[some, "points"].to_numpy(float))
    # a subset build (uplift training samples) has the same levels and values
    sub = build_features(tables, AS_OF, _cfg(DECL), customers=some)
    assert list(sub["vip_grade"].cat.categories) == ["金卡", "银卡"]
    assert sub["points"].equals(f.loc[sub.index, "points"])
    assert feature_label("vip_grade", "zh") == "会员等级"
    assert describe("vip_grade", "金卡", "zh") == "会员等级:金卡"
    assert describe("points", 1200.0, "en").startswith("loyalty points: 1")


def test_without_declarations_nothing_changes() -> None:
    tables = _tables()
    plain = build_features(tables, AS_OF, load_config("default"))
    assert not {"vip_grade", "points", "extended_warranty"} & set(plain.columns)


@pytest.mark.parametrize(
    ("decl", "key"),
    [
        (
            {"leads": {"x": {"type": "numeric", "zh": "甲", "en": "x"}}},
            "features.extra_columns.leads",
        ),
        (
            {"customers": {"tier": {"type": "text", "zh": "甲", "en": "x"}}},
            "features.extra_columns.customers.tier.type",
        ),
        (
            {"customers": {"tier": {"type": "category", "en": "x"}}},
            "features.extra_columns.customers.tier.zh",
        ),
        (
            {"customers": {"distance_km": {"type": "numeric", "zh": "距离", "en": "distance"}}},
            "features.extra_columns.customers.distance_km",
        ),
    ],
)
def test_bad_declarations_name_the_key(decl, key) -> None:
    with pytest.raises(CvmError, match=key.replace(".", r"\.")):
        build_features(_tables(), AS_OF, _cfg(decl))


def test_a_declared_type_the_data_breaks_is_named() -> None:
    tables = _tables()
    tables["vehicles"].loc[tables["vehicles"].index[0], "extended_warranty"] = "maybe"
    with pytest.raises(CvmError, match=r"vehicles\.extended_warranty.*yes_no"):
        build_features(tables, AS_OF, _cfg(DECL))


@pytest.mark.slow
def test_churn_and_value_models_use_a_declared_column() -> None:
    """A declared column that drives the outcome is picked up by both models."""
    from cvm.models.churn import train_churn
    from cvm.models.value import train_value

    t = toy_tables(600, seed=5)
    rng = np.random.default_rng(2)
    c = t["customers"].copy()
    c["vip_grade"] = rng.choice(["金卡", "银卡", "普通"], len(c))
    t = {**t, "customers": c}
    small = {
        "churn": {
            "tuning": [{"num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 20}],
            "num_boost_round": 50,
            "early_stopping_rounds": 10,
            "num_threads": 1,
        },
        "value": {"num_boost_round": 50, "num_threads": 1},
        "training": {"max_snapshots": 3},
        "features": {"extra_columns": {"customers": DECL["customers"]}},
    }
    cfg = load_config(overrides=small)
    churn = train_churn(t, "2024-12-31", cfg)
    assert "vip_grade" in churn.feature_names
    assert churn.categories["vip_grade"] == ["普通", "金卡", "银卡"]
    value = train_value(t, "2024-12-31", cfg)
    assert "vip_grade" in value.feature_names and "points" not in value.feature_names
    X = build_features(t, "2024-12-31", cfg)
    assert np.isfinite(churn.predict_proba(X)).all()
    assert np.isfinite(value.predict(X)).all()
    from cvm.models.bundle import _value_parts  # the bundle spec carries the data's levels

    _, _, cats = _value_parts(value)
    assert cats["vip_grade"] == ["普通", "金卡", "银卡"]
