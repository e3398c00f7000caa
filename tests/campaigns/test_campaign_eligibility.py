"""Eligibility: catalogue rules, cool-downs, caps, missing columns."""

from __future__ import annotations

import pandas as pd

from cvm.campaigns.eligibility import eligible_pairs, rule_mask

AS_OF = pd.Timestamp("2026-09-30")


def test_rules_select_exactly_the_matching_customers(customers, catalogue) -> None:
    pairs = eligible_pairs(customers, None, catalogue, AS_OF)
    for cid, camp in catalogue.items():
        expected = set(customers.index[rule_mask(customers, camp.eligibility)])
        got = set(pairs.loc[pairs["campaign"] == cid, "customer_id"])
        assert got == expected, cid
    assert not pairs.duplicated().any()


def test_cooldown_and_caps_block(customers, catalogue) -> None:
    pairs = eligible_pairs(customers, None, catalogue, AS_OF)
    wb = pairs.loc[pairs["campaign"] == "win_back", "customer_id"].tolist()
    a, b, c = wb[:3]
    contacts = pd.DataFrame(
        {
            "customer_id": [a, b, c, c],
            "campaign": ["win_back", "win_back", "win_back", "win_back"],
            # a: inside the 180-day cool-down; b: outside it; c: 2 contacts in a year = cap
            "contact_date": pd.to_datetime(
                ["2026-06-01", "2025-12-01", "2025-11-01", "2026-02-01"]
            ),
            "group": ["target", "control", "target", "target"],
        }
    )
    got = eligible_pairs(customers, contacts, catalogue, AS_OF)
    wb2 = set(got.loc[got["campaign"] == "win_back", "customer_id"])
    assert a not in wb2 and b in wb2 and c not in wb2


def test_recent_contact_of_any_campaign_blocks_all(customers, catalogue) -> None:
    pairs = eligible_pairs(customers, None, catalogue, AS_OF)
    who = pairs["customer_id"].iloc[0]
    contacts = pd.DataFrame(
        {
            "customer_id": [who],
            "campaign": ["referral_invitation"],
            "contact_date": [AS_OF - pd.Timedelta(days=5)],
            "group": ["control"],
        }
    )
    got = eligible_pairs(customers, contacts, catalogue, AS_OF)
    assert who not in set(got["customer_id"])
    # future contacts (after as-of) are ignored
    contacts["contact_date"] = AS_OF + pd.Timedelta(days=5)
    assert who in set(eligible_pairs(customers, contacts, catalogue, AS_OF)["customer_id"])


def test_missing_column_skips_campaign_and_says_why(customers, catalogue) -> None:
    got = eligible_pairs(customers.drop(columns="insurance_months_left"), None, catalogue, AS_OF)
    assert "insurance_renewal" not in set(got["campaign"])
    assert "insurance_months_left" in got.attrs["skipped"]["insurance_renewal"]
