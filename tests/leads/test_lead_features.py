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
