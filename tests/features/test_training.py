"""Snapshot dates (out-of-time order, 2×H minimum) and the stacked training frame."""

from __future__ import annotations

import pandas as pd
import pytest

from cvm.config import CvmError, load_config
from cvm.features.labels import churn_labels
from cvm.features.toy import toy_tables
from cvm.features.training import snapshot_dates, training_frame


def _visits(start: str, end: str) -> pd.DataFrame:
    d = pd.date_range(start, end, freq="MS")
    return pd.DataFrame({"customer_id": "a", "visit_date": d, "amount": 100.0})


def test_out_of_time_order() -> None:
    cfg = load_config()
    train, valid = snapshot_dates(_visits("2018-01-01", "2024-12-31"), "2024-12-31", 12, cfg)
    assert valid == [pd.Timestamp("2023-12-31")]
    assert max(train) < min(valid)
    assert len(train) + len(valid) == cfg["training"]["max_snapshots"]
    assert all(b - a == pd.DateOffset(months=3) or (b - a).days in range(89, 93)
               for a, b in zip(train, train[1:] + valid))


def test_exactly_two_horizons_of_history_works() -> None:
    cfg = load_config()
    train, valid = snapshot_dates(_visits("2023-01-01", "2024-12-01"), "2024-12-31", 12, cfg)
    assert train and valid and max(train) < min(valid)
    assert valid[-1] <= pd.Timestamp("2023-12-31")


def test_less_than_two_horizons_is_a_user_error() -> None:
    with pytest.raises(CvmError, match=r"at least 24 months.*holds 1[0-9]\.\d months"):
        snapshot_dates(_visits("2023-06-01", "2024-12-01"), "2024-12-31", 12, load_config())
    assert CvmError.exit_code == 2


def test_training_frame_stacks_and_samples() -> None:
    cfg = load_config(overrides={"training": {"max_rows_per_snapshot": 50}})
    t = toy_tables(200, seed=2)
    dates = [pd.Timestamp("2023-03-31"), pd.Timestamp("2023-06-30")]
    x, y, d = training_frame(t, dates, 12, cfg, churn_labels)
    assert len(x) == len(y) == len(d) <= 100
    assert (x.index == y.index).all() and set(d.unique()) == set(dates)
    x2, y2, _ = training_frame(t, dates, 12, cfg, churn_labels)
    pd.testing.assert_frame_equal(x, x2)
    pd.testing.assert_series_equal(y, y2)
