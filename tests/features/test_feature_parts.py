"""A feature build over parts of the customers (one store, a block of ids) with the whole
data's figures equals the whole build: what ``--engine dask`` sends one task per part."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from cvm.config import load_config
from cvm.features.snapshot import (
    build_features,
    build_part,
    feature_figures,
    finish_features,
    split_tables,
)
from cvm.features.stores import customer_stores
from support.groups import END, group_tables
from support.toy import toy_tables


@pytest.fixture(scope="module")
def group():
    return group_tables(2500, 5)


def _by_store(tables, as_of, cfg, drop: int = 0):
    stores = customer_stores(tables, as_of, cfg)
    names = pd.Index(sorted(stores.unique()))
    part_of = pd.Series(names.get_indexer(stores), index=stores.index)
    return split_tables(tables, part_of.iloc[drop:], len(names))


def test_store_parts_with_the_group_figures_equal_the_whole_build(group) -> None:
    cfg = load_config()
    whole = build_features(group, END, cfg)
    parts = _by_store(group, END, cfg)
    assert len(parts) == 3
    figures = feature_figures(group, END, cfg)
    built = [build_part(p, END, cfg, figures) for p in parts]
    assert sum(len(b[0]) for b in built) == len(whole)
    pd.testing.assert_frame_equal(finish_features(built, END), whole, check_exact=True)
    # the figures matter: a part built alone (its own store figures and mileage fill) differs
    for p in parts:
        alone = finish_features([build_part(p, END, cfg, feature_figures(p, END, cfg))], END)
        for col in ("store_median_ticket", "mileage_rate_km_month", "service_due_ratio"):
            assert not alone[col].equals(whole.loc[alone.index, col]), col


def test_customers_no_part_names_go_to_one_more_part(group) -> None:
    cfg = load_config()
    parts = _by_store(group, END, cfg, drop=40)  # the first 40 customers are in no part
    assert len(parts) == 4
    figures = feature_figures(group, END, cfg)
    out = finish_features([build_part(p, END, cfg, figures) for p in parts], END)
    pd.testing.assert_frame_equal(out, build_features(group, END, cfg), check_exact=True)


def test_referrals_follow_the_referrer(group) -> None:
    sales = group["vehicle_sales"]
    referred = sales["referred_by_customer_id"].notna()
    assert referred.any()
    parts = _by_store(group, END, load_config())
    rows = sum(len(p["vehicle_sales"]) for p in parts)
    moved = (
        sales.loc[referred, "referred_by_customer_id"].astype(str).to_numpy()
        != sales.loc[referred, "customer_id"].astype(str).to_numpy()
    )
    assert len(sales) < rows <= len(sales) + int(moved.sum())  # a sale in both parts
    staff = group.get("staff")
    if staff is not None:
        assert all(p["staff"] is staff for p in parts)  # no customer_id: whole to every part


def test_one_store_blocks_of_customers_equal_the_whole_build() -> None:
    t = toy_tables(240, seed=3)
    cfg = load_config()
    whole = build_features(t, "2024-06-30", cfg)
    who = pd.Index(sorted(t["visits"]["customer_id"].astype(str).unique()))
    part_of = pd.Series(np.arange(len(who)) // 70, index=who)
    parts = split_tables(t, part_of, int(part_of.max()) + 1)
    figures = feature_figures(t, "2024-06-30", cfg)
    out = finish_features([build_part(p, "2024-06-30", cfg, figures) for p in parts], "2024-06-30")
    pd.testing.assert_frame_equal(out, whole, check_exact=True)


def test_a_sample_over_store_parts_equals_the_sample_build(group) -> None:
    """The drift reference (a customer sample a month earlier) built per store: its mileage
    fill is the sample's median, as ``build_features(customers=...)`` takes it."""
    from cvm.features.snapshot import restrict_tables

    cfg = load_config()
    date_ = date(2025, 11, 30)
    who = build_features(group, END, cfg).index[::3]
    sample = build_features(group, date_, cfg, customers=who)
    parts = _by_store(restrict_tables(group, who), END, cfg)
    figures = feature_figures(group, date_, cfg)  # the whole data's, not the sample's
    out = finish_features([build_part(p, date_, cfg, figures) for p in parts], date_)
    pd.testing.assert_frame_equal(out, sample, check_exact=True)
