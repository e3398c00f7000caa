"""Spend and margin the campaign contacts induced, measured on the randomized control groups
(cvm.campaigns.measurement.contact_induced_spend, used by the value model's no-contact level)."""

from __future__ import annotations

import pandas as pd
import pytest

from cvm.campaigns.measurement import contact_induced_spend


def test_contact_induced_spend_uses_control_groups():
    n = 40
    cust = [f"t{i}" for i in range(n)] + [f"c{i}" for i in range(n)]
    contacts = pd.DataFrame(
        {
            "customer_id": cust,
            "campaign": "reminder",
            "contact_date": pd.Timestamp("2024-02-01"),
            "group": ["target"] * n + ["control"] * n,
        }
    )
    # targets spend 300 within the window, controls 100; a later visit (outside) is ignored
    visits = pd.DataFrame(
        {
            "customer_id": cust + ["t0"],
            "visit_date": [pd.Timestamp("2024-02-10")] * (2 * n) + [pd.Timestamp("2024-09-01")],
            "amount": [300.0] * n + [100.0] * n + [5000.0],
            "payer": "customer",
        }
    )
    induced, uplift = contact_induced_spend(
        {"visits": visits, "campaign_contacts": contacts},
        "2023-12-31",
        12,
        None,
        window_days=61,
        min_group=30,
    )
    assert uplift == {"reminder": pytest.approx(200.0)}
    assert induced.sum() == pytest.approx(200.0 * n) and set(induced.index) == set(cust[:n])
    # no contact table: nothing induced
    assert contact_induced_spend({"visits": visits}, "2023-12-31", 12, None, 61, 30)[0].empty

    # measured in gross margin: the same uplift times the customer maintenance margin
    from cvm.features.margin import margin_table

    m = margin_table()["customer"]["unknown"]
    _, up_m = contact_induced_spend(
        {"visits": visits.drop(columns="payer"), "campaign_contacts": contacts},
        "2023-12-31",
        12,
        None,
        window_days=61,
        min_group=30,
        measure="margin",
    )
    assert up_m == {"reminder": pytest.approx(200.0 * m)}
