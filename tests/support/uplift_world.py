"""A synthetic campaign history with a known heterogeneous effect (the uplift tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def uplift_world(seed: int = 0, n: int = 6000, months: int = 12):
    """Monthly service_reminder contacts, 20 % control; true uplift 0.10 + 0.10 * x."""
    rng = np.random.default_rng(seed)
    cust = np.array([f"C{i:05d}" for i in range(n)])
    x = rng.uniform(-1, 1, n)
    feats = pd.DataFrame(
        {"x": x, "noise": rng.normal(size=n), "seg": rng.choice(["a", "b"], n)},
        index=pd.Index(cust, name="customer_id"),
    )
    rows, visits = [], []
    for m in range(months):
        day = pd.Timestamp("2025-06-01") + pd.DateOffset(months=m) + pd.Timedelta(days=4)
        pick = rng.choice(n, n // 6, replace=False)
        ctrl = rng.random(len(pick)) < 0.2
        rows.append(
            pd.DataFrame(
                {
                    "customer_id": cust[pick],
                    "campaign": "service_reminder",
                    "contact_date": day,
                    "group": np.where(ctrl, "control", "target"),
                }
            )
        )
        p = 0.2 + 0.05 * x[pick] + (~ctrl) * (0.10 + 0.10 * x[pick])
        came = rng.random(len(pick)) < p
        visits.append(
            pd.DataFrame(
                {
                    "customer_id": cust[pick][came],
                    "visit_date": day + pd.to_timedelta(rng.integers(1, 80, came.sum()), unit="D"),
                    "amount": 500.0,
                }
            )
        )
    contacts = pd.concat(rows, ignore_index=True)
    contacts["contact_id"] = np.arange(len(contacts))
    tables = {"campaign_contacts": contacts, "visits": pd.concat(visits, ignore_index=True)}
    return tables, feats, x
