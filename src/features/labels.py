"""Labels: who is active at an as-of date, who churns over the horizon, what they spend.

Definitions (active window, which payers count as "paid") come from ``definitions`` in
``configs/default.yaml`` so the churn label, the value label and the segments agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cvm.config import load_config
from cvm.features.pit import add_months, day_number, days, ids, isin, positions


def _defs(cfg: dict[str, Any] | None) -> dict[str, Any]:
    return (cfg or load_config())["definitions"]


def paid_mask(visits: pd.DataFrame, cfg: dict[str, Any] | None = None) -> np.ndarray:
    """True for visits paid by the customer: payer in ``paid_payers`` (or absent) and amount > 0."""
    d = _defs(cfg)
    amount = pd.to_numeric(visits["amount"], errors="coerce").to_numpy(dtype=float, na_value=0.0)
    mask = amount >= float(d["min_paid_amount"])
    if "payer" in visits.columns:
        payer = visits["payer"]
        mask &= (payer.isin(list(d["paid_payers"])) | payer.isna()).to_numpy(dtype=bool)
    return mask


def _window(visits: pd.DataFrame, start_day: float, end_day: float) -> np.ndarray:
    """Visits dated in (start_day, end_day]."""
    d = days(visits["visit_date"])
    return (d > start_day) & (d <= end_day)


def active_customers(visits: pd.DataFrame, as_of, cfg: dict[str, Any] | None = None) -> pd.Index:
    """Customers with a visit in the ``active_window_months`` up to and including ``as_of``."""
    w = int(_defs(cfg)["active_window_months"])
    m = _window(visits, day_number(add_months(as_of, -w)), day_number(as_of))
    out = pd.Index(ids(visits["customer_id"])[m].unique(), name="customer_id")
    return out.sort_values()


def _future_paid(visits: pd.DataFrame, as_of, horizon_months: int,
                 cfg: dict[str, Any] | None) -> pd.DataFrame:
    m = _window(visits, day_number(as_of), day_number(add_months(as_of, horizon_months)))
    m &= paid_mask(visits, cfg)
    return pd.DataFrame({"customer_id": ids(visits["customer_id"])[m].to_numpy(),
                         "amount": pd.to_numeric(visits["amount"][m]).to_numpy(dtype=float)})


def churn_labels(visits: pd.DataFrame, as_of, horizon_months: int,
                 cfg: dict[str, Any] | None = None) -> pd.Series:
    """1 = no paid visit in (as_of, as_of + H months], for customers active at ``as_of``."""
    active = active_customers(visits, as_of, cfg)
    fut = _future_paid(visits, as_of, horizon_months, cfg)
    returned = isin(active, fut["customer_id"])
    return pd.Series((~returned).astype(np.int64), index=active, name="churn")


def future_paid_spend(visits: pd.DataFrame, as_of, horizon_months: int,
                      cfg: dict[str, Any] | None = None,
                      customers: pd.Index | None = None) -> pd.Series:
    """Sum of paid amounts in (as_of, as_of + H months], 0 if none.

    Index: ``customers`` if given, else every customer with a visit on or before ``as_of``.
    """
    if customers is None:
        seen = days(visits["visit_date"]) <= day_number(as_of)
        customers = pd.Index(ids(visits["customer_id"])[seen].unique(),
                             name="customer_id").sort_values()
    fut = _future_paid(visits, as_of, horizon_months, cfg)
    spend = fut.groupby("customer_id")["amount"].sum()
    # ``spend.reindex(customers, fill_value=0)``, with the lookup of a million text ids in Arrow
    pos = positions(pd.Index(customers), spend.index)
    vals = np.where(pos >= 0, spend.to_numpy(dtype=np.float64)[np.maximum(pos, 0)]
                    if len(spend) else 0.0, 0.0)
    out = pd.Series(vals, index=pd.Index(customers), dtype=np.float64)
    out.index.name = "customer_id"
    return out.rename("future_paid_spend")
