"""Owners without a visit yet get a churn probability and a predicted value from past owners
in the same months-since-purchase and price-band cell."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvm.config import load_config
from cvm.models.new_owners import fit_new_owner_rates, no_visit_owners, score_new_owners


def _tables() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(0)
    n = 600
    buy = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D")
    band = np.where(np.arange(n) % 2 == 0, "entry", "premium")
    veh = pd.DataFrame(
        {
            "vehicle_id": [f"V{i}" for i in range(n)],
            "customer_id": [f"C{i}" for i in range(n)],
            "purchase_date": buy,
            "price_band": band,
        }
    )
    rows = []
    for i in range(n):
        # premium owners come back for a paid service 8 months after the purchase; entry ones
        # only one in four
        if band[i] == "premium" or i % 8 == 0:
            rows.append(
                (f"C{i}", buy[i] + pd.Timedelta(days=240), 800.0, "maintenance", "customer")
            )
    v = pd.DataFrame(rows, columns=["customer_id", "visit_date", "amount", "visit_type", "payer"])
    return {"visits": v, "vehicles": veh}


def test_new_owners_are_found_and_scored_from_their_cell():
    t = _tables()
    as_of = pd.Timestamp("2024-06-30")
    o = no_visit_owners(t, as_of)
    seen = set(t["visits"].loc[t["visits"]["visit_date"] <= as_of, "customer_id"])
    assert len(o) and not set(o.index) & seen
    assert (o["months_since_purchase"] >= 0).all()
    cfg = load_config()
    dates = [pd.Timestamp(d) for d in ("2023-03-31", "2023-06-30", "2023-09-30")]
    rates = fit_new_owner_rates(t, dates, 12, cfg)
    s = score_new_owners(o, rates)
    assert s.index.equals(o.index) and s["churn_probability"].between(0, 1).all()
    young = o["months_since_purchase"] < 3
    prem = s.loc[young & (o["price_band"] == "premium"), "churn_probability"].mean()
    entry = s.loc[young & (o["price_band"] == "entry"), "churn_probability"].mean()
    assert prem < entry - 0.2  # premium owners came back, entry ones mostly not
    assert (s.loc[young & (o["price_band"] == "premium"), "predicted_value"] > 0).all()
