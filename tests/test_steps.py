"""Step helpers of :mod:`cvm.steps` that carry their own logic."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from cvm.data.simulator.io import write_dataset
from cvm.features.snapshot import build_features, finish_features
from cvm.run_context import RunContext
from cvm.steps import _build_features, _chunked_build, _contacted_features
from support.groups import dealer_group

STORE_FEATURES = ["store_log_customers", "store_median_ticket", "store_return_rate"]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> RunContext:
    sim = dealer_group(3000, 4)
    root = tmp_path_factory.mktemp("steps")
    write_dataset(root / "data", sim.tables, sim.truth, sim.meta, "parquet", True)
    c = RunContext.open(str(root / "data"), sim.meta["end"], root / "run", lang="en")
    c.cfg["sampling"]["uplift_customers_per_month"] = 40  # a sample of each month's contacts
    return c


def test_contacted_features_use_the_whole_groups_store_figures(ctx) -> None:
    """The uplift frame's features of a sample of contacted customers equal the full build's
    rows: store figures (a store's size, median ticket) come from every customer, not from
    the sample the rows are cut to."""
    contacts = ctx.tables["campaign_contacts"]
    month = pd.to_datetime(contacts["contact_date"]).dt.to_period("M").value_counts().index[0]
    snap = month.start_time - pd.Timedelta(days=1)
    got = _contacted_features(ctx)(ctx.tables, snap)
    assert 0 < len(got) <= 40
    full = build_features(ctx.tables, snap, ctx.cfg)
    want = full.loc[got.index, STORE_FEATURES]
    pd.testing.assert_frame_equal(got[STORE_FEATURES], want)
    assert got["store_log_customers"].max() > 5  # stores of ~1000 customers, not of ~13


def test_features_built_in_chunks_equal_one_build(ctx) -> None:
    """The local engine's chunked build (``engine.local_chunk_customers``: a base larger than
    a chunk is built a chunk of customers at a time) gives the one build's frame exactly,
    referrals across chunks, store figures and the mileage fill over every customer
    included; a base within one chunk is built once."""
    whole = build_features(ctx.tables, ctx.as_of, ctx.cfg)
    parts = _chunked_build(ctx, ctx.as_of, 700)
    assert parts is not None and len(parts) == -(-len(whole) // 700) > 2
    pd.testing.assert_frame_equal(finish_features(parts, ctx.as_of), whole, check_exact=True)
    assert _chunked_build(ctx, ctx.as_of, len(whole)) is None
    pd.testing.assert_frame_equal(_build_features(ctx, ctx.as_of), whole, check_exact=True)


def _both(ctx, fn):
    """``fn()`` with the configured threads (2) and with one: (threaded, one after another)."""
    assert ctx.cfg["engine"]["local_threads"] == 2
    threaded = fn()
    ctx.cfg["engine"]["local_threads"] = 1
    try:
        return threaded, fn()
    finally:
        ctx.cfg["engine"]["local_threads"] = 2


def test_training_snapshots_in_threads_equal_one_after_another(ctx) -> None:
    """The churn and value training frames (snapshots' labels and features two at a time)
    equal the frames built one snapshot after another, rows in the same order."""
    from cvm.models.churn import churn_frames
    from cvm.models.value import value_frames

    for frames in (churn_frames, value_frames):
        two, one = _both(ctx, lambda f=frames: f(ctx.tables, ctx.as_of, ctx.cfg))
        for field in dataclasses.fields(two):
            _same(getattr(two, field.name), getattr(one, field.name))
        assert len(two.Xtr if frames is churn_frames else two.X_all) > 500


def _same(a, b) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif a is None or isinstance(a, str | int | float):
        assert a == b
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_uplift_frame_months_in_threads_equal_one_after_another(ctx) -> None:
    """The uplift training frame's contact months, two at a time, give the frame built one
    month after another."""
    from cvm.campaigns.uplift_frame import training_frame

    fn = _contacted_features(ctx)
    two, one = _both(ctx, lambda: training_frame(ctx.tables, fn, ctx.as_of, 90, ctx.cfg))
    assert len(two[0]) > 100
    for a, b in zip(two, one, strict=True):
        _same(a, b)
