"""Department lists: contract columns, masked phones, names only on request."""

from __future__ import annotations

import pandas as pd

from cvm.campaigns.lists import LIST_COLUMNS, department_lists, mask_phone


def _plan() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["C0000", "C0001", "C0002"],
            "campaign": ["win_back", "win_back", "referral_invitation"],
            "department": ["marketing", "marketing", "sales"],
            "channel": ["phone", "phone", "wechat"],
            "cost": [300.0, 300.0, 20.0],
            "expected_incremental_value": [500.0, 200.0, 30.0],
            "group": ["target", "control", "target"],
            "uplift": [0.1, 0.05, 0.02],
            "uplift_source": ["learned", "learned", "prior"],
            "value_at_stake": [8000.0, 10000, 2500],
        }
    )


def test_mask_phone() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone(None) == "" and mask_phone("123") == "****"


def test_lists_masked_by_default(customers, catalogue) -> None:
    lists = department_lists(_plan(), customers, catalogue=catalogue, lang="en")
    assert set(lists) == {"marketing", "sales"}
    m = lists["marketing"]
    assert list(m.columns) == LIST_COLUMNS + ["phone"]
    assert m["phone"].str.contains(r"^\d{3}\*{4}\d{4}$").all()
    assert "name" not in m.columns
    ctrl = m[m["group"] == "control"].iloc[0]
    assert ctrl["cost"] == 0 and "do not contact" in ctrl["reasons"]
    assert "learned" in m["reasons"].iloc[0]


def test_reveal_contacts_flag(customers) -> None:
    lists = department_lists(_plan(), customers, reveal_contacts=True)
    assert lists["sales"]["phone"].iloc[0] == customers.loc["C0002", "phone"]
    assert lists["sales"]["name"].iloc[0] == customers.loc["C0002", "name"]
