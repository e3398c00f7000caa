"""Step helpers of :mod:`cvm.steps` that carry their own logic."""

from __future__ import annotations

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
