"""Segments over parts of the customers, thresholds taken over every customer after, equal
the segments of the whole: what ``--engine dask`` sends one task per store."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from cvm.config import load_config
from cvm.data.simulator import generate
from cvm.features.snapshot import split_tables
from cvm.features.stores import customer_stores
from cvm.segments.lifecycle import lifecycle_stage
from cvm.segments.loyalty import loyalty_type
from cvm.segments.needs import needs_tags
from cvm.segments.parts import combine_parts, segment_part
from cvm.segments.value_tags import (
    encode_visits,
    tag_customers,
    value_figures,
    value_tags,
    value_tags_by_store,
)

END = date(2025, 12, 31)
PREV = date(2025, 11, 30)


@pytest.fixture(scope="module")
def group():
    r = generate(2500, 7, end=END, years=4, dealers=3, horizon_months=3, oracle_paths=1)
    return {name: r.df(name) for name in r.tables}


def test_store_parts_equal_the_whole(group) -> None:
    cfg = load_config()
    stores = customer_stores(group, END, cfg)
    names = pd.Index(sorted(stores.unique()))
    part_of = pd.Series(names.get_indexer(stores), index=stores.index).iloc[25:]
    parts = split_tables(group, part_of, len(names), referrals=False)
    assert len(parts) == len(names) + 1  # the customers part_of leaves out: one more part
    got = combine_parts([segment_part(p, END, PREV, cfg, group=True) for p in parts])
    whole = segment_part(group, END, PREV, cfg, group=True)
    pd.testing.assert_series_equal(whole["stores_prev"], customer_stores(group, PREV, cfg))
    for key in ("stage", "stage_prev", "loyalty", "stores_prev"):
        pd.testing.assert_series_equal(got[key], whole[key], check_exact=True)
    for key in ("value", "value_prev", "needs"):
        pd.testing.assert_frame_equal(got[key], whole[key], check_exact=True)
    pd.testing.assert_series_equal(whole["stage"], lifecycle_stage(group, END, cfg))
    pd.testing.assert_series_equal(whole["loyalty"], loyalty_type(group, END, cfg))
    pd.testing.assert_frame_equal(whole["needs"], needs_tags(group, END, cfg))
    # the thresholds over every customer, then each store's: the tags of the whole
    tags = value_tags_by_store(tag_customers(got["value"], END, cfg), stores, cfg)
    ref = value_tags_by_store(value_tags(group["visits"], END, cfg), stores, cfg)
    pd.testing.assert_frame_equal(tags, ref, check_exact=True)
    assert tags.attrs["thresholds"] == ref.attrs["thresholds"]
    # a part's own medians are not the group's: tagging a part alone would differ
    alone = tag_customers(segment_part(parts[0], END, PREV, cfg)["value"], END, cfg)
    whole_tags = tag_customers(got["value"], END, cfg)
    assert alone.attrs["thresholds"] != whole_tags.attrs["thresholds"]


def test_value_tags_by_store_keeps_the_group_thresholds_for_customers_without_a_store(
    group,
) -> None:
    cfg = load_config()
    tags = value_tags(group["visits"], END, cfg)
    stores = customer_stores(group, END, cfg)
    some = stores.iloc[::2]
    out = value_tags_by_store(tags, some, cfg)
    rest = ~tags.index.isin(some.index)
    pd.testing.assert_frame_equal(out.loc[rest], tags.loc[rest])
    for d, thr in out.attrs["thresholds"].items():
        mine = out.index.isin(some.index[some == d]) & (out["visits_per_year"] > 0).to_numpy()
        assert thr["visits_per_year"] == float(out.loc[mine, "visits_per_year"].median())
        hf = out.loc[mine, "visits_per_year"] >= thr["visits_per_year"]
        assert (out.loc[mine, "high_frequency"] == hf).all()


def test_one_encoding_tags_every_month_end_as_a_fresh_one(group) -> None:
    cfg = load_config()
    enc = encode_visits(group["visits"], cfg)
    for d in ("2025-03-31", "2024-12-31", "2023-06-30"):
        a = tag_customers(value_figures(enc, d, cfg), d, cfg)
        b = value_tags(group["visits"].loc[group["visits"]["visit_date"] <= d], d, cfg)
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        assert np.isfinite(a["visits_per_year"]).all()
