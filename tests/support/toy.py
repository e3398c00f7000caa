"""Tiny, deterministic contract tables for unit tests and examples.

Not the simulator (``cvm.data.simulator``): just enough structure (a per-customer visit
rate that can drop to zero, mileage, payers, advisors who leave) for churn to be learnable
and for every feature's code path to run, in milliseconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def toy_tables(
    n_customers: int = 300, seed: int = 0, start: str = "2020-01-01", end: str = "2024-12-31"
) -> dict[str, pd.DataFrame]:
    """All nine contract tables for ``n_customers`` customers between ``start`` and ``end``."""
    rng = np.random.default_rng(seed)
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    span = (t1 - t0).days
    cids = np.array([f"C{i:05d}" for i in range(n_customers)])
    join = rng.integers(0, span // 2, n_customers)
    rate = rng.gamma(2.0, 1.0, n_customers) / 120.0  # visits per day
    quit_day = join + rng.exponential(span * 0.6, n_customers)  # after this, no more visits
    km_day = rng.uniform(20, 80, n_customers)
    rows = []
    for i in range(n_customers):
        d = join[i]
        while d < span:
            if d > quit_day[i]:
                break
            rows.append((i, d))
            d += max(1, int(rng.exponential(1 / rate[i])))
    ci, dd = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    nv = len(ci)
    visit_type = rng.choice(
        ["maintenance", "repair", "accident", "warranty"], nv, p=[0.6, 0.25, 0.05, 0.1]
    )
    payer = np.where(
        visit_type == "accident",
        "insurer",
        np.where(visit_type == "warranty", "warranty", "customer"),
    )
    sa = rng.integers(0, 8, nv)
    visits = pd.DataFrame(
        {
            "visit_id": [f"V{k:07d}" for k in range(nv)],
            "customer_id": cids[ci],
            "vehicle_id": np.char.add("VH", cids[ci]),
            "visit_date": t0 + pd.to_timedelta(dd, unit="D"),
            "amount": np.round(rng.gamma(2.0, 400.0, nv), 2),
            "visit_type": visit_type,
            "payer": payer,
            "mileage_km": np.round(km_day[ci] * (dd - join[ci] + 30), 0),
            "service_advisor_id": np.char.add("SA", sa.astype(str)),
            "wait_minutes": rng.gamma(3.0, 20.0, nv),
            "quote_items_offered": rng.integers(0, 5, nv),
        }
    )
    visits["quote_items_accepted"] = rng.binomial(visits["quote_items_offered"], 0.6)
    visits.loc[rng.random(nv) < 0.05, "mileage_km"] = np.nan
    created = t0 + pd.to_timedelta(join - 10, unit="D")
    customers = pd.DataFrame(
        {
            "customer_id": cids,
            "created_date": created,
            "customer_type": rng.choice(["individual", "company"], n_customers, p=[0.9, 0.1]),
            "distance_km": rng.gamma(2.0, 8.0, n_customers),
            "name": np.where(rng.random(n_customers) < 0.9, "x", None),
            "phone": np.where(rng.random(n_customers) < 0.8, "1", None),
            "city": np.where(rng.random(n_customers) < 0.5, "Beijing", None),
        }
    )
    vehicles = pd.DataFrame(
        {
            "vehicle_id": np.char.add("VH", cids),
            "customer_id": cids,
            "price_band": rng.choice(["entry", "mid", "premium"], n_customers),
            "purchase_date": created,
            "sold_by_store": rng.random(n_customers) < 0.7,
            "warranty_end_date": created + pd.DateOffset(years=3),
            "warranty_km": 100000.0,
            "insurance_end_date": created + pd.DateOffset(years=5),
            "service_interval_km": 10000.0,
            "service_interval_months": 6.0,
        }
    )
    staff = pd.DataFrame(
        {
            "staff_id": [f"SA{k}" for k in range(8)],
            "role": "service_advisor",
            "hire_date": t0 - pd.Timedelta(days=400),
            "leave_date": [
                t0 + pd.Timedelta(days=int(x)) if x < span else pd.NaT
                for x in rng.integers(0, span * 2, 8)
            ],
        }
    )
    k = max(1, n_customers // 3)
    pick = rng.choice(n_customers, k)
    cdate = t0 + pd.to_timedelta(rng.integers(0, span, k), unit="D")
    contacts = pd.DataFrame(
        {
            "contact_id": [f"K{j}" for j in range(k)],
            "customer_id": cids[pick],
            "campaign": "maintenance_reminder",
            "contact_date": cdate,
            "channel": "sms",
            "group": rng.choice(["target", "control"], k, p=[0.8, 0.2]),
            "cost": 5.0,
        }
    )
    surveys = pd.DataFrame(
        {
            "survey_id": [f"S{j}" for j in range(k)],
            "customer_id": cids[pick],
            "survey_date": cdate,
            "satisfaction": rng.integers(1, 6, k).astype(float),
            "nps": rng.integers(0, 11, k).astype(float),
        }
    )
    kc = max(1, n_customers // 10)
    pc = rng.choice(n_customers, kc)
    cd = t0 + pd.to_timedelta(rng.integers(0, span, kc), unit="D")
    complaints = pd.DataFrame(
        {
            "complaint_id": [f"Q{j}" for j in range(kc)],
            "customer_id": cids[pc],
            "complaint_date": cd,
            "category": "wait",
            "severity": rng.integers(1, 4, kc),
            "resolved_date": cd + pd.to_timedelta(rng.integers(1, 90, kc), unit="D"),
        }
    )
    sales = pd.DataFrame(
        {
            "sale_id": [f"P{j}" for j in range(n_customers)],
            "customer_id": cids,
            "vehicle_id": np.char.add("VH", cids),
            "sale_date": created,
            "price": 150000.0,
            "referred_by_customer_id": np.where(
                rng.random(n_customers) < 0.1, cids[rng.integers(0, n_customers, n_customers)], None
            ),
        }
    )
    leads = pd.DataFrame(
        {
            "lead_id": [f"L{j}" for j in range(kc)],
            "customer_id": cids[pc],
            "created_date": cd,
            "status": rng.choice(["open", "won", "lost"], kc),
            "closed_date": cd + pd.to_timedelta(rng.integers(5, 200, kc), unit="D"),
        }
    )
    return {
        "visits": visits,
        "customers": customers,
        "vehicles": vehicles,
        "vehicle_sales": sales,
        "leads": leads,
        "campaign_contacts": contacts,
        "surveys": surveys,
        "complaints": complaints,
        "staff": staff,
    }
