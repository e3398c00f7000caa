"""KPIs managers steer by: return rate, milestones, drift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.reporting.kpis import drift_table, psi, retention_by_milestone, yearly_return


def _visits(rows):
    return pd.DataFrame(rows, columns=["customer_id", "visit_date", "amount"]).assign(
        visit_date=lambda d: pd.to_datetime(d["visit_date"])
    )


def test_yearly_return_counts_last_years_customers_who_came_back():
    v = _visits(
        [
            ("a", "2023-03-01", 100),
            ("a", "2024-02-01", 100),  # came back
            ("b", "2023-05-01", 100),  # lost
            ("c", "2023-06-15", 100),
            ("c", "2024-06-30", 100),  # came back
            ("d", "2024-03-01", 100),  # new: not in the cohort
            ("e", "2024-08-01", 100),
        ]
    )  # after as-of: ignored
    r = yearly_return(v, pd.Timestamp("2024-06-30"))
    assert r["cohort"] == 3
    assert r["return_rate"] == pytest.approx(2 / 3)
    assert r["yearly_loss"] == pytest.approx(1 / 3)


def test_retention_by_milestone_uses_old_enough_store_sold_vehicles():
    vehicles = pd.DataFrame(
        {
            "vehicle_id": ["v1", "v2", "v3", "v4"],
            "customer_id": ["a", "b", "c", "d"],
            "sold_by_store": [True, True, False, True],
            "purchase_date": pd.to_datetime(
                ["2018-01-01", "2018-06-01", "2018-01-01", "2023-01-01"]
            ),
            "warranty_end_date": pd.to_datetime(
                ["2021-01-01", "2021-06-01", "2021-01-01", "2026-01-01"]
            ),
        }
    )
    visits = pd.DataFrame(
        {
            "customer_id": ["a"] * 5 + ["b"],
            "vehicle_id": ["v1"] * 5 + ["v2"],
            "visit_date": pd.to_datetime(
                ["2018-06-01", "2019-01-01", "2019-06-01", "2020-01-01", "2022-01-01", "2018-12-01"]
            ),
            "visit_type": [
                "first_service",
                "maintenance",
                "maintenance",
                "accident",
                "maintenance",
                "first_service",
            ],
            "amount": [0, 300, 300, 5000, 400, 0],
        }
    )
    r = retention_by_milestone(
        {"vehicles": vehicles, "visits": visits}, pd.Timestamp("2024-12-31"), 4.0
    )
    # cohort: v1 and v2 (v3 not sold here, v4 too young); accident visits are not services
    assert r.name == "n=2"
    assert r["1"] == 1.0 and r["2"] == 0.5 and r["3"] == 0.5 and r["4"] == 0.5
    assert r["after_warranty"] == 0.5
    assert retention_by_milestone({"visits": visits}, pd.Timestamp("2024-12-31"), 4.0) is None


def test_psi_is_zero_for_the_same_distribution_and_large_for_a_shift():
    rng = np.random.default_rng(0)
    a = pd.Series(rng.normal(size=5000))
    assert psi(a, a, 10) == pytest.approx(0.0, abs=1e-9)
    assert psi(a, a + 1.0, 10) > 0.2
    table = drift_table(
        pd.DataFrame({"x": a, "y": a}), pd.DataFrame({"x": a, "y": a + 1.0}), threshold=0.2, bins=10
    )
    assert list(table["feature"]) == ["y", "x"]
    assert table["warning"].tolist() == [True, False]
