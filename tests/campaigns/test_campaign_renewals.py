"""Insurance renewals measured from past contacts and valued at the commission."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.campaigns.catalogue import load_catalogue
from cvm.campaigns.measurement import renewal_uplift
from cvm.campaigns.targeting import renewal_commission

AS_OF = "2025-12-31"


def _tables(n: int = 400, lift: float = 0.3, seed: int = 0) -> dict[str, pd.DataFrame]:
    """n customers contacted on 2025-03-02 (target / control) about a policy ending on
    2025-04-15; the store renewed it (end date 2026-04-15) for a share that the contact
    raised by ``lift``."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i:05d}" for i in range(n)]
    target = rng.random(n) < 0.7
    renewed = rng.random(n) < np.where(target, 0.3 + lift, 0.3)
    contacts = pd.DataFrame(
        {
            "contact_id": [f"K{i:05d}" for i in range(n)],
            "customer_id": ids,
            "campaign": "insurance_renewal",
            "contact_date": pd.Timestamp("2025-03-02"),
            "channel": "phone",
            "group": np.where(target, "target", "control"),
            "cost": 30.0,
        }
    )
    vehicles = pd.DataFrame(
        {
            "vehicle_id": [f"V{i:05d}" for i in range(n)],
            "customer_id": ids,
            "purchase_date": pd.Timestamp("2022-04-15"),
            "insurance_end_date": np.where(
                renewed, pd.Timestamp("2026-04-15"), pd.Timestamp("2025-04-15")
            ),
        }
    )
    return {"campaign_contacts": contacts, "vehicles": vehicles}


def test_renewal_uplift_is_target_minus_control_renewals() -> None:
    t = _tables()
    r = renewal_uplift(t, AS_OF, ["insurance_renewal"], 12, 30, 0.95)["insurance_renewal"]
    v, cc = t["vehicles"], t["campaign_contacts"]
    ren = v["insurance_end_date"] > pd.Timestamp(AS_OF)
    g = cc["group"].to_numpy()
    assert r["uplift"] == pytest.approx(ren[g == "target"].mean() - ren[g == "control"].mean())
    assert r["low"] < r["uplift"] < r["high"] and r["low"] > 0
    assert set(r["by_lead_month"]) == {1}  # 2025-03-02 -> 2025-04-15: 1 whole month of lead


def test_the_lead_month_counts_from_the_month_end_before_the_contact() -> None:
    """A contact on 2025-03-20 about a policy ending 2025-04-10 was planned by the run of
    2025-02-28, which saw 1.4 months to the policy end (``insurance_months_left``): lead 1,
    though the call itself came 21 days before the end."""
    t = _tables()
    t["campaign_contacts"]["contact_date"] = pd.Timestamp("2025-03-20")
    v = t["vehicles"]
    v["purchase_date"] = pd.Timestamp("2022-04-10")
    v["insurance_end_date"] = v["insurance_end_date"] - pd.Timedelta(days=5)
    r = renewal_uplift(t, AS_OF, ["insurance_renewal"], 12, 30, 0.95)["insurance_renewal"]
    assert set(r["by_lead_month"]) == {1}


def test_contacts_whose_outcome_is_not_known_yet_are_left_out() -> None:
    t = _tables()
    # the policy ends after the as-of date: no renewal decided yet
    assert renewal_uplift(t, "2025-04-01", ["insurance_renewal"], 12, 30, 0.95) == {}
    # too few contacts in a group: not measured
    assert renewal_uplift(t, AS_OF, ["insurance_renewal"], 12, 10_000, 0.95) == {}


def test_the_commission_uses_the_measured_renewals_else_the_response_proxy() -> None:
    cat = load_catalogue()
    scored = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "campaign": ["insurance_renewal", "insurance_renewal", "service_reminder"],
            "uplift": [0.01, 0.01, 0.5],
        }
    )
    vc = {"influence": {"insurance_commission": 400.0}}
    proxy = renewal_commission(scored, cat, vc)
    np.testing.assert_allclose(proxy, [4.0, 4.0, 0.0])
    measured = {"insurance_renewal": {"uplift": 0.1, "by_lead_month": {1: {"uplift": 0.2}}}}
    got = renewal_commission(scored, cat, vc, measured, pd.Series([1.4, 2.2, 0.0]))
    np.testing.assert_allclose(got, [80.0, 40.0, 0.0])


def test_renewal_uplift_by_state_splits_recent_visitors_from_the_lapsed() -> None:
    """Half the customers had a paid visit a month before the contact; the call lifts their
    renewals by 0.05 and the lapsed half's by 0.4: the history measures both."""
    n = 2000
    rng = np.random.default_rng(7)  # not the seed of the groups' draws
    t = _tables(n=n, lift=0.0, seed=1)
    cc, v = t["campaign_contacts"], t["vehicles"]
    recent = np.arange(n) % 2 == 0
    target = (cc["group"] == "target").to_numpy()
    p = np.where(recent, 0.6, 0.2) + target * np.where(recent, 0.05, 0.4)
    renewed = rng.random(n) < p
    v["insurance_end_date"] = np.where(
        renewed, pd.Timestamp("2026-04-15"), pd.Timestamp("2025-04-15")
    )
    t["visits"] = pd.DataFrame(
        {
            "visit_id": [f"W{i}" for i in range(n)],
            "customer_id": cc["customer_id"],
            "visit_date": np.where(recent, pd.Timestamp("2025-02-01"), pd.Timestamp("2023-06-01")),
            "amount": 500.0,
            "visit_type": "maintenance",
            "payer": "customer",
        }
    )
    r = renewal_uplift(t, AS_OF, ["insurance_renewal"], 12, 30, 0.95, recent_months=12)
    s = r["insurance_renewal"]["by_state"]
    assert s["recent"]["n_target"] + s["recent"]["n_control"] == recent.sum()
    assert s["lapsed"]["low"] > s["recent"]["high"]  # the lapsed gain more from the call
    assert s["recent"]["renewal_rate_control"] > s["lapsed"]["renewal_rate_control"]
    # a visit on the contact day itself or after does not make the customer recent
    t["visits"]["visit_date"] = pd.Timestamp("2025-03-02")
    r = renewal_uplift(t, AS_OF, ["insurance_renewal"], 12, 30, 0.95, recent_months=12)
    assert "recent" not in r["insurance_renewal"]["by_state"]
    # without recent_months the split is not made
    r = renewal_uplift(t, AS_OF, ["insurance_renewal"], 12, 30, 0.95)
    assert r["insurance_renewal"]["by_state"] == {}


def test_the_commission_adds_the_state_difference_to_the_lead_month() -> None:
    cat = load_catalogue()
    scored = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4"],
            "campaign": ["insurance_renewal"] * 3 + ["service_reminder"],
            "uplift": [0.01, 0.01, 0.01, 0.5],
        }
    )
    vc = {"influence": {"insurance_commission": 100.0}}
    measured = {
        "insurance_renewal": {
            "uplift": 0.1,
            "by_lead_month": {1: {"uplift": 0.2}},
            "by_state": {"recent": {"uplift": 0.05}, "lapsed": {"uplift": 0.3}},
        }
    }
    lead = pd.Series([1.0, 1.0, 2.0, 1.0])
    since = pd.Series([3.0, np.nan, 20.0, 3.0])  # recent, never visited (lapsed), lapsed
    got = renewal_commission(scored, cat, vc, measured, lead, since, recent_months=12)
    np.testing.assert_allclose(got, [15.0, 40.0, 30.0, 0.0])
