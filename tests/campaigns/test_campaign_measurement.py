"""Measurement: target vs control with intervals that cover a known true lift."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvm.campaigns.measurement import contact_outcomes, measure_campaigns, posterior_uplift

AS_OF = pd.Timestamp("2026-10-31")


def _world(seed: int, n: int = 4000, base: float = 0.20, lift: float = 0.08):
    """Contacts on 2026-10-05 with a random control group; visits with a known lift."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i}" for i in range(n)]
    group = np.where(rng.random(n) < 0.2, "control", "target")
    contacts = pd.DataFrame(
        {
            "contact_id": range(n),
            "customer_id": ids,
            "campaign": "svc",
            "contact_date": pd.Timestamp("2026-10-05"),
            "channel": "sms",
            "group": group,
            "cost": np.where(group == "target", 2.0, 0.0),
        }
    )
    p = base + lift * (group == "target")
    came = rng.random(n) < p
    day = pd.Timestamp("2026-10-05") + pd.to_timedelta(rng.integers(1, 26, n), unit="D")
    visits = pd.DataFrame(
        {
            "customer_id": np.array(ids)[came],
            "visit_date": day[came],
            "amount": rng.lognormal(6.5, 0.5, came.sum()),
            "payer": "customer",
        }
    )
    # noise: old visits and visits after the window do not count
    old = pd.DataFrame(
        {
            "customer_id": ids[:50],
            "visit_date": pd.Timestamp("2026-09-01"),
            "amount": 100.0,
            "payer": "customer",
        }
    )
    return {"campaign_contacts": contacts, "visits": pd.concat([visits, old])}


def test_outcomes_window() -> None:
    contacts = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "campaign": "x",
            "contact_date": pd.to_datetime(["2026-01-01", "2026-03-01", "2026-01-01"]),
        }
    )
    visits = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "visit_date": pd.to_datetime(["2026-01-01", "2026-01-20", "2026-02-15"]),
            "amount": [100.0, 200.0, 300.0],
        }
    )
    oc = contact_outcomes(contacts, visits, window_days=30)
    assert oc["responded"].tolist() == [True, False, False]
    assert oc["revenue"].tolist() == [200.0, 0.0, 0.0]


def test_interval_covers_the_true_lift() -> None:
    covered = 0
    for seed in range(20):
        m = measure_campaigns(_world(seed), AS_OF, window_days=30).iloc[0]
        covered += m["response_lift_low"] <= 0.08 <= m["response_lift_high"]
        assert m["n_target"] + m["n_control"] == 4000
    assert covered >= 16  # 95 % intervals: ~19 of 20


def test_significant_and_posterior(catalogue) -> None:
    m = measure_campaigns(_world(1, lift=0.15), AS_OF, window_days=30)
    assert bool(m["significant"].iloc[0])
    m["campaign"] = "service_reminder"
    post = posterior_uplift(catalogue, m)
    prior = catalogue["service_reminder"].prior_uplift
    assert prior < post["service_reminder"] <= m["response_lift"].iloc[0] + 1e-9
    assert post["win_back"] == catalogue["win_back"].prior_uplift


def test_nothing_to_measure() -> None:
    w = _world(0)
    assert measure_campaigns(w, pd.Timestamp("2026-06-30")).empty
    assert measure_campaigns({"visits": w["visits"]}, AS_OF).empty
