"""Scoring on the out-of-time fold's lookback when the history is short (left truncation)."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt

from cvm.config import load_config
from cvm.data.ids import day_number, days
from cvm.features.lookback import fold_lookback_start, longest_window_months, scoring_features
from cvm.features.snapshot import build_features
from support.toy import toy_tables

AS_OF = "2024-12-31"


def _short() -> tuple[dict[str, pd.DataFrame], dict]:
    """15 months of visits before the as-of date, as a store that changed its DMS."""
    return toy_tables(120, seed=5, start="2023-10-01", end=AS_OF), load_config(
        overrides={"horizon_months": 6}
    )


def test_long_history_scores_the_features_unchanged() -> None:
    t, cfg = toy_tables(60, seed=2), load_config()
    feats = build_features(t, AS_OF, cfg)
    assert fold_lookback_start(t["visits"]["visit_date"], AS_OF, 12, cfg) is None
    assert scoring_features(t, AS_OF, 12, cfg, feats) is feats


def test_short_history_rebuilds_the_customers_seen_in_the_folds_lookback() -> None:
    t, cfg = _short()
    feats = build_features(t, AS_OF, cfg)
    start = fold_lookback_start(t["visits"]["visit_date"], AS_OF, 6, cfg)
    assert start is not None
    first = days(t["visits"]["visit_date"]).min()
    # the as-of lookback is the fold's: history minus the horizon (about 9 months), under the
    # longest feature window
    lookback = (day_number(AS_OF) - start) / 30.4375
    assert 8.5 < lookback < 9.5 < longest_window_months(cfg)
    assert abs((start - first) / 30.4375 - 6) < 0.6

    out = scoring_features(t, AS_OF, 6, cfg, feats)
    assert out.index.equals(feats.index) and list(out.columns) == list(feats.columns)
    assert (out.dtypes == feats.dtypes).all()
    recent = t["visits"].loc[days(t["visits"]["visit_date"]) >= start]
    seen = pd.Index(recent["customer_id"].unique())
    cut = build_features({**t, "visits": recent}, AS_OF, cfg)
    pdt.assert_frame_equal(out.loc[seen.sort_values()], cut.loc[seen.sort_values()])
    rest = feats.index.difference(seen)
    assert len(rest) > 0  # customers seen only before the lookback keep their features
    pdt.assert_frame_equal(out.loc[rest], feats.loc[rest])
    assert not out.equals(feats)


def test_the_setting_turns_it_off() -> None:
    t, _ = _short()
    cfg = load_config(overrides={"horizon_months": 6, "training": {"equal_lookback": False}})
    feats = build_features(t, AS_OF, cfg)
    assert scoring_features(t, AS_OF, 6, cfg, feats) is feats
