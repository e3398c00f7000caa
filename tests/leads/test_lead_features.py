import numpy as np
import pandas as pd

from cvm.data.ids import day_number
from cvm.leads.features import features_at, labels_at, open_mask, prepare, snapshot_days
from cvm.leads.model import leads_config


def _toy() -> dict[str, pd.DataFrame]:
    leads = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3"],
            "created_date": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-03-01"]),
            "source": ["walk_in", "online", "phone"],
            "model_of_interest": ["M1", "M1", "M2"],
            "budget": [100_000.0, 200_000.0, 50_000.0],
            "followups": [3, 1, 0],
            "test_drive_date": pd.to_datetime(["2024-01-05", None, None]),
            "status": ["won", "lost", "open"],
            "closed_date": pd.to_datetime(["2024-02-01", "2024-01-20", None]),
            "order_stage": ["contract", "potential", "intent"],
        }
    )
    ev = pd.DataFrame(
        {
            "followup_id": ["F1", "F2", "F3", "F4"],
            "lead_id": ["L1", "L1", "L1", "L2"],
            "followup_date": pd.to_datetime(
                ["2024-01-02", "2024-01-15", "2024-01-30", "2024-01-12"]
            ),
        }
    )
    sales = pd.DataFrame(
        {
            "sale_date": pd.to_datetime(["2023-12-01", "2024-02-01"]),
            "model": ["M1", "M1"],
            "price": [100_000.0, 300_000.0],
        }
    )
    return {"leads": leads, "lead_followups": ev, "vehicle_sales": sales}


def test_features_use_only_facts_dated_by_the_snapshot():
    data = prepare(_toy())
    X = features_at(data, day_number("2024-01-12"))
    assert sorted(X.index) == ["L1", "L2"]  # L3 not created yet
    assert X.loc["L1", "followups"] == 1  # later follow-ups not counted
    assert X.loc["L2", "followups"] == 1
    assert X.loc["L1", "test_drive"] == 1 and X.loc["L2", "test_drive"] == 0
    assert X.loc["L1", "model_price"] == 100_000  # the 2024-02 sale is in the future
    assert X.loc["L1", "days_since_last_followup"] == 10
    assert np.isclose(X.loc["L2", "budget_gap"], np.log(2))
    assert "order_stage" not in X and "customer_id" not in X  # final values: never features


def test_open_mask_and_labels():
    data = prepare(_toy())
    d = day_number("2024-01-25")
    m = open_mask(data, d)
    assert list(data.leads.index[m]) == ["L1"]  # L2 lost on 01-20
    assert labels_at(data, d, m, 6).tolist() == [1]
    assert labels_at(
        data, day_number("2024-01-02"), open_mask(data, day_number("2024-01-02")), 0.5
    ).tolist() == [0]  # won after the 0.5-month window


def test_features_at_d_do_not_change_when_the_future_changes(tables):
    d = day_number("2025-06-30")
    before = features_at(prepare(tables), d)
    fut = {k: v.copy() for k, v in tables.items()}
    ev = fut["lead_followups"]
    late = ev["followup_date"] > pd.Timestamp("2025-06-30")
    ev.loc[late, "followup_date"] = ev.loc[late, "followup_date"] + pd.Timedelta(days=3)
    fut["lead_followups"] = pd.concat(
        [ev, ev[late].assign(followup_id=lambda f: f["followup_id"] + "x")]
    )
    after = features_at(prepare(fut), d)
    pd.testing.assert_frame_equal(before, after)


def test_snapshot_days_leave_the_label_window_before_as_of(tables):
    cfg = leads_config()
    data = prepare(tables)
    ds = snapshot_days(data, "2026-09-30", cfg)
    assert ds == sorted(ds) and ds[-1] <= day_number("2026-09-30") - 6 * 30


def _features_at_as_first_written(data, day, mask=None):
    """``features_at`` before it read cached column arrays (the code it replaced)."""
    from cvm.leads.features import _SHIFT, CATEGORICAL, _model_prices

    mask = open_mask(data, day) if mask is None else mask
    L = data.leads[mask]
    pos = np.flatnonzero(mask).astype(np.int64)
    X = pd.DataFrame(index=L.index)
    X["age_days"] = day - L["created"].to_numpy()
    X["budget"] = L["budget"].to_numpy(dtype=float)
    price = _model_prices(data, day)
    X["model_price"] = L["model_of_interest"].map(price).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.log(X["budget"].to_numpy() / X["model_price"].to_numpy())
    X["budget_gap"] = np.where(np.isfinite(gap), gap, np.nan)
    X["abs_budget_gap"] = np.abs(X["budget_gap"])
    td = L["td_day"].to_numpy()
    seen = td <= day
    X["test_drive"] = seen.astype(float)
    X["days_since_test_drive"] = np.where(seen, day - td, np.nan)
    if data.has_followups:
        key = data.fu_key
        lo = np.searchsorted(key, pos * _SHIFT, "left")
        hi = np.searchsorted(key, pos * _SHIFT + day, "right")
        n = (hi - lo).astype(float)
        last = np.where(n > 0, key[np.maximum(hi - 1, 0)] - pos * _SHIFT, np.nan)
        X["followups"] = n
        X["days_since_last_followup"] = np.where(n > 0, day - last, np.nan)
        X["followups_per_30d"] = n / np.maximum(X["age_days"].to_numpy(), 1.0) * 30.0
    for col in CATEGORICAL:
        X[col] = L[col].to_numpy()
    return X


def test_features_from_cached_arrays_equal_the_frame_built_column_by_column(tables):
    """Speed work (issue 21): the same frame, dtypes included, at several dates and masks."""
    data = prepare(tables)
    for d in ("2024-03-31", "2025-06-30", "2025-12-31"):
        day = day_number(d)
        assert len(features_at(data, day)) > 20
        pd.testing.assert_frame_equal(
            features_at(data, day), _features_at_as_first_written(data, day), check_exact=True
        )
        m = open_mask(data, day) & (np.arange(len(data.leads)) % 3 == 0)
        pd.testing.assert_frame_equal(
            features_at(data, day, m), _features_at_as_first_written(data, day, m)
        )


def test_training_rows_in_threads_equal_one_after_another(tables, monkeypatch):
    """The snapshots built two at a time (``engine.local_threads``) give the rows built one
    snapshot after another, in the same order."""
    import cvm.leads.features as lf

    data, cfg = prepare(tables), leads_config()
    as_of = pd.to_datetime(tables["leads"]["created_date"]).max()
    monkeypatch.setattr(lf, "local_threads", lambda _cfg: 2)
    two = lf.training_rows(data, as_of, cfg)
    monkeypatch.setattr(lf, "local_threads", lambda _cfg: 1)
    one = lf.training_rows(data, as_of, cfg)
    assert len(two) > 500 and two["snapshot_day"].nunique() > 3
    pd.testing.assert_frame_equal(two, one, check_exact=True)
