"""Labels: who churns over the horizon, what they spend.

Built on the business definitions of ``cvm.definitions`` (paid visit, active customer), so
the churn label, the value label and the segments agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cvm.data.ids import add_months, day_number, days, ids, isin, positions
from cvm.definitions import active_customers, paid_mask, visits_between


def _future_paid(
    visits: pd.DataFrame, as_of, horizon_months: int, cfg: dict[str, Any] | None
) -> pd.DataFrame:
    m = visits_between(visits, day_number(as_of), day_number(add_months(as_of, horizon_months)))
    m &= paid_mask(visits, cfg)
    return pd.DataFrame(
        {
            "customer_id": ids(visits["customer_id"])[m].to_numpy(),
            "amount": pd.to_numeric(visits["amount"][m]).to_numpy(dtype=float),
        }
    )


def churn_labels(
    visits: pd.DataFrame, as_of, horizon_months: int, cfg: dict[str, Any] | None = None
) -> pd.Series:
    """1 = no paid visit in (as_of, as_of + H months], for customers active at ``as_of``."""
    active = active_customers(visits, as_of, cfg)
    fut = _future_paid(visits, as_of, horizon_months, cfg)
    returned = isin(active, fut["customer_id"])
    return pd.Series((~returned).astype(np.int64), index=active, name="churn")


def future_paid_spend(
    visits: pd.DataFrame,
    as_of,
    horizon_months: int,
    cfg: dict[str, Any] | None = None,
    customers: pd.Index | None = None,
) -> pd.Series:
    """Sum of paid amounts in (as_of, as_of + H months], 0 if none.

    Index: ``customers`` if given, else every customer with a visit on or before ``as_of``.
    """
    if customers is None:
        seen = days(visits["visit_date"]) <= day_number(as_of)
        customers = pd.Index(
            ids(visits["customer_id"])[seen].unique(), name="customer_id"
        ).sort_values()
    fut = _future_paid(visits, as_of, horizon_months, cfg)
    spend = fut.groupby("customer_id")["amount"].sum()
    # ``spend.reindex(customers, fill_value=0)``, with the lookup of a million text ids in Arrow
    pos = positions(pd.Index(customers), spend.index)
    vals = np.where(
        pos >= 0, spend.to_numpy(dtype=np.float64)[np.maximum(pos, 0)] if len(spend) else 0.0, 0.0
    )
    out = pd.Series(vals, index=pd.Index(customers), dtype=np.float64)
    out.index.name = "customer_id"
    return out.rename("future_paid_spend")
