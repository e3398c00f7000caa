"""Store features and customers' stores in a dealer group; one-store data gain nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.config import load_config
from cvm.features.registry import describe
from cvm.features.snapshot import build_features
from cvm.features.stores import customer_stores, is_multi_store, main_store
from support.groups import END, group_tables
from support.toy import toy_tables

STORE_FEATURES = [
    "store_log_customers",
    "store_median_ticket",
    "store_avg_wait_minutes",
    "store_return_rate",
    "share_visits_other_stores_24m",
    "moved_store",
]


@pytest.fixture(scope="module")
def group():
    return group_tables(3000, 4)


def test_main_store_majority_then_latest() -> None:
    # customer 0: two visits at store 1, one later at store 0 -> 1; customer 1: tie -> latest
    code = np.array([0, 0, 0, 1, 1])
    store = np.array([1, 1, 0, 0, 2])
    day = np.array([100, 200, 300, 100, 200])
    assert main_store(code, store, day, 3, 365, 12).tolist() == [1, 2, -1]
    # nothing in the window: the last visit's store
    assert main_store(code, store, day, 2, 5000, 12).tolist() == [0, 2]


def test_group_features_and_stores(group) -> None:
    cfg = load_config()
    assert is_multi_store(group)
    f = build_features(group, END, cfg)
    assert set(STORE_FEATURES) <= set(f.columns)
    assert f["store_log_customers"].nunique() == 3  # one value per store
    assert 0 < f["moved_store"].mean() < 0.2
    for col in STORE_FEATURES:
        v = float(f[col].dropna().iloc[0])
        assert describe(col, v, "zh") and describe(col, v, "en")
    stores = customer_stores(group, END, cfg)
    assert set(stores.unique()) == {"D01", "D02", "D03"}
    assert stores.index.is_monotonic_increasing and set(f.index) <= set(stores.index)
    # the store of most recent visits: customers whose visits are all at one store get it
    v = group["visits"][
        group["visits"]["visit_date"] > pd.Timestamp(END) - pd.DateOffset(months=12)
    ]
    one = v.groupby("customer_id")["dealer_id"].agg(["nunique", "first"])
    one = one[one["nunique"] == 1]
    assert (stores.reindex(one.index) == one["first"]).all()


def test_a_training_sample_gets_the_full_builds_store_features(group) -> None:
    cfg = load_config()
    full = build_features(group, END, cfg)
    who = full.index[::7]
    sub = build_features(group, END, cfg, customers=who)
    pd.testing.assert_frame_equal(sub[STORE_FEATURES], full.loc[who, STORE_FEATURES])


def test_one_store_data_gain_no_store_features() -> None:
    t = toy_tables(60, seed=1)
    assert not is_multi_store(t)
    f = build_features(t, "2023-06-30", load_config())
    assert not set(STORE_FEATURES) & set(f.columns)
