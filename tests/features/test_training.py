"""Snapshot dates (out-of-time order, 2×H minimum) and the stacked training frame."""

from __future__ import annotations

import pandas as pd
import pytest

from cvm.config import CvmError, load_config
from cvm.features.labels import churn_labels
from cvm.features.training import snapshot_dates, training_frame
from support.toy import toy_tables


def _visits(start: str, end: str) -> pd.DataFrame:
    d = pd.date_range(start, end, freq="MS")
    return pd.DataFrame({"customer_id": "a", "visit_date": d, "amount": 100.0})


def test_out_of_time_order() -> None:
    cfg = load_config()
    train, valid = snapshot_dates(_visits("2018-01-01", "2024-12-31"), "2024-12-31", 12, cfg)
    assert valid == [pd.Timestamp("2023-12-31")]
    assert max(train) < min(valid)
    assert len(train) + len(valid) == cfg["training"]["max_snapshots"]
    assert all(
        b - a == pd.DateOffset(months=3) or (b - a).days in range(89, 93)
        for a, b in zip(train, train[1:] + valid, strict=True)
    )


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


# --- sampling before features (a million customers) -------------------------------------------
from cvm.features import training as training_mod  # noqa: E402
from cvm.features.snapshot import build_features  # noqa: E402
from cvm.features.training import sample_customers  # noqa: E402

MILEAGE_FILLED = {
    "mileage_rate_km_month",
    "est_mileage_km",
    "warranty_km_left",
    "km_since_service",
    "service_due_ratio",
    "service_overdue_months",
}
"""Columns that depend on the median mileage rate used to fill customers without one."""


def test_sample_customers_is_seeded_uniform_and_capped() -> None:
    idx = pd.Index([f"C{i:05d}" for i in range(10_000)], name="customer_id")
    a = sample_customers(idx, 1000, 42, "2024-06-30")
    assert len(a) == 1000 and a.is_unique and a.isin(idx).all()
    assert a.equals(sample_customers(idx, 1000, 42, "2024-06-30"))  # deterministic
    assert not a.equals(sample_customers(idx, 1000, 43, "2024-06-30"))  # seed matters
    assert not a.equals(sample_customers(idx, 1000, 42, "2024-09-30"))  # so does the date
    assert a.is_monotonic_increasing  # order kept
    assert sample_customers(idx, 20_000, 42, "2024-06-30").equals(idx)  # under the cap: all
    # uniform: each tenth of the population gets about a tenth of the sample
    share = pd.Series(idx.get_indexer(a) // 1000).value_counts(normalize=True)
    assert share.between(0.07, 0.13).all()


def test_training_frame_builds_features_only_for_the_sample(monkeypatch) -> None:
    cfg = load_config(overrides={"training": {"max_rows_per_snapshot": 30}})
    t = toy_tables(200, seed=2)
    seen: list[int] = []

    def spy(tables, date, cfg_, customers=None, rows_from=None):
        seen.append(-1 if customers is None else len(customers))
        return build_features(tables, date, cfg_, customers=customers, rows_from=rows_from)

    monkeypatch.setattr(training_mod, "build_features", spy)
    dates = [pd.Timestamp("2023-03-31"), pd.Timestamp("2023-06-30")]
    x, y, snap = training_frame(t, dates, 12, cfg, churn_labels)
    assert len(seen) == 2 and all(0 < n <= 30 for n in seen)
    assert len(x) == len(y) <= 60
    # every sampled row is a labelled customer of its snapshot, with that snapshot's label
    for d in dates:
        full = churn_labels(t["visits"], d, 12, cfg)
        rows = y[(snap == d).to_numpy()]
        assert len(full) > 30 and len(rows) == 30
        pd.testing.assert_series_equal(rows, full.loc[rows.index])


def test_subset_features_equal_the_full_build_and_respect_as_of() -> None:
    cfg = load_config()
    t = toy_tables(300, seed=5)
    as_of = pd.Timestamp("2023-06-30")
    full = build_features(t, as_of, cfg)
    who = sample_customers(full.index, 40, 1, as_of)
    sub = build_features(t, as_of, cfg, customers=who)
    assert list(sub.index) == list(who) and list(sub.columns) == list(full.columns)
    cols = [c for c in sub.columns if c not in MILEAGE_FILLED]
    pd.testing.assert_frame_equal(sub[cols], full.loc[who, cols])
    # rows dated after as-of never reach a sampled customer's features
    v = t["visits"]
    late = v[v["customer_id"].astype(str).isin(who)].copy()
    late["visit_date"] = pd.Timestamp("2024-01-15")
    late["amount"] = 99_999.0
    t2 = {**t, "visits": pd.concat([v, late], ignore_index=True)}
    pd.testing.assert_frame_equal(build_features(t2, as_of, cfg, customers=who), sub)


def test_training_frame_cuts_the_tables_once_and_builds_the_same_rows() -> None:
    """The snapshots' samples are cut from the tables once (their union), with the figures
    across customers from the whole tables: each snapshot's rows equal its own build."""
    from cvm.settings import run_settings

    cfg = load_config(overrides={"training": {"max_rows_per_snapshot": 40}})
    t = toy_tables(300, seed=3)
    dates = [pd.Timestamp("2023-03-31"), pd.Timestamp("2023-06-30"), pd.Timestamp("2023-09-30")]
    x, y, snap = training_frame(t, dates, 12, cfg, churn_labels)
    for d in dates:
        lab = churn_labels(t["visits"], d, 12, cfg)
        keep = sample_customers(lab.index, 40, run_settings(cfg).seed, d)
        own = build_features(t, d, cfg, customers=keep)
        rows = (snap == d).to_numpy()
        pd.testing.assert_frame_equal(x[rows], own.loc[x.index[rows]])
        pd.testing.assert_series_equal(y[rows], lab.loc[y.index[rows]])
