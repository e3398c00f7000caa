"""Labels: active customers, churn over the horizon, future paid spend."""

from __future__ import annotations

import pandas as pd
import pytest

from cvm.config import load_config
from cvm.definitions import active_customers, paid_mask
from cvm.features.labels import churn_labels, future_paid_spend


@pytest.fixture
def visits() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "c", "d", "e"],
            "visit_date": pd.to_datetime(
                [
                    "2023-01-10",
                    "2023-08-01",
                    "2023-03-01",
                    "2023-09-01",
                    "2021-05-01",
                    "2023-06-30",
                    "2023-02-01",
                ]
            ),
            "amount": [500.0, 800.0, 300.0, 0.0, 200.0, 100.0, 400.0],
            "payer": ["customer", "customer", "customer", "customer", "customer", "warranty", None],
        }
    )


def test_paid_mask_payer_and_amount(visits: pd.DataFrame) -> None:
    cfg = load_config()
    assert paid_mask(visits, cfg).tolist() == [True, True, True, False, True, False, True]
    no_payer = visits.drop(columns="payer")
    assert paid_mask(no_payer, cfg).tolist() == [True, True, True, False, True, True, True]


def test_active_window(visits: pd.DataFrame) -> None:
    # c's last visit is 2021: not active; d's visit on as_of itself counts
    assert list(active_customers(visits, "2023-06-30", load_config())) == ["a", "b", "d", "e"]


def test_churn_labels(visits: pd.DataFrame) -> None:
    y = churn_labels(visits, "2023-06-30", 3, load_config())
    # a: paid 2023-08-01 -> stays; b: only a zero-amount visit -> churn; d, e: nothing -> churn
    assert y.to_dict() == {"a": 0, "b": 1, "d": 1, "e": 1}
    assert y.dtype == "int64" and y.index.name == "customer_id"
    # a visit exactly at the horizon end is inside the window
    y2 = churn_labels(visits, "2023-05-01", 3, load_config())
    assert y2["a"] == 0


def test_future_paid_spend(visits: pd.DataFrame) -> None:
    s = future_paid_spend(visits, "2023-06-30", 12, load_config())
    assert s.to_dict() == {"a": 800.0, "b": 0.0, "c": 0.0, "d": 0.0, "e": 0.0}
    only = future_paid_spend(
        visits, "2023-06-30", 12, load_config(), customers=pd.Index(["a", "z"])
    )
    assert only.to_dict() == {"a": 800.0, "z": 0.0}
