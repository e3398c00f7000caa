"""Customer value types (realized / potential / influence), cvm.segments.customer_value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.config import load_config
from cvm.segments.customer_value import customer_value


def test_customer_value_types():
    visits = pd.DataFrame(
        {
            "customer_id": ["r", "b1", "b1", "b2", "x"],
            "visit_date": pd.to_datetime(
                ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"]
            ),
            "amount": [500.0, 200.0, 300.0, 1000.0, 50.0],
            "payer": ["customer", "customer", "insurer", "customer", "customer"],
        }
    )
    sales = pd.DataFrame(
        {
            "sale_id": ["s1", "s2", "s3"],
            "customer_id": ["b1", "b2", "b3"],
            "sale_date": pd.to_datetime(["2023-12-01", "2024-03-01", "2024-09-01"]),
            "price": [200000.0, 100000.0, 300000.0],
            "referred_by_customer_id": ["r", "r", "r"],
        }
    )
    pred = pd.Series({"r": 10.0, "b1": 20.0})
    cv = customer_value({"visits": visits, "vehicle_sales": sales}, "2024-06-30", pred)
    margin = load_config("value")["influence"]["new_car_margin"]
    assert cv.loc["r", "realized_value"] == 500 and cv.loc["b1", "realized_value"] == 200
    # b3's sale is after as_of; b1's insurer-paid visit does not count
    assert cv.loc["r", "referrals"] == 2
    assert cv.loc["r", "influence_value"] == pytest.approx(margin * 300000 + 200 + 1000)
    assert cv.loc["r", "potential_value"] == 10.0 and np.isnan(cv.loc["x", "potential_value"])
    assert cv.loc["b1", "influence_value"] == 0.0
