"""Small hand-made dealer tables shared by the segment and research tests."""

from __future__ import annotations

import pandas as pd
import pytest

AS_OF = pd.Timestamp("2024-06-30")


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    """c1 active, c2 at risk, c3 lost, c4 won back, c5 ordered, c6 prospect, c7 lead,
    c8 defeated lead, c9 a bare profile row; f1 visits after as_of only (unknown then)."""
    visits = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c2", "c3", "c4", "c4", "f1"],
            "visit_date": pd.to_datetime(
                [
                    "2023-12-01",
                    "2024-05-01",
                    "2023-10-15",
                    "2022-01-10",
                    "2021-01-01",
                    "2024-03-01",
                    "2024-08-01",
                ]
            ),
            "amount": [800.0, 1200.0, 500.0, 300.0, 400.0, 2500.0, 900.0],
        }
    )
    leads = pd.DataFrame(
        {
            "lead_id": ["l5", "l6", "l7", "l8", "l9"],
            "customer_id": ["c5", "c6", "c7", "c8", "c1"],
            "created_date": pd.to_datetime(
                ["2024-05-01", "2024-06-01", "2024-06-10", "2024-01-01", "2024-06-01"]
            ),
            "followups": [3, 1, 0, 4, 1],
            "test_drive": [True, True, False, True, False],
            "test_drive_date": pd.to_datetime(
                ["2024-05-05", "2024-06-02", None, "2024-01-05", None]
            ),
            "order_stage": ["contract", None, None, None, "intent"],
            "status": ["open", "open", "lost", "lost", "open"],
            # c7's lead was lost only after as_of: still open then
            "closed_date": pd.to_datetime([None, None, "2024-07-15", "2024-03-01", None]),
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"],
            "created_date": pd.to_datetime(["2020-01-01"] * 9),
        }
    )
    return {"visits": visits, "leads": leads, "customers": customers}
