"""The business definitions, in one place: what a paid visit is, who is an active customer.

Their parameters are ``definitions`` in ``configs/default.yaml`` (which payers count as paid,
the minimum paid amount, the active window, the at-risk and lost months). Features, labels,
models, segments and ``cvm evaluate`` all call these functions, so the churn label, the value
label, the segments and the evaluation agree on them. (The lifecycle stages' own windows are
in ``cvm.segments.lifecycle``, from the same ``definitions``.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cvm.config import load_config
from cvm.data.ids import add_months, day_number, days, ids


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


def visits_between(visits: pd.DataFrame, start_day: float, end_day: float) -> np.ndarray:
    """Visits dated in (start_day, end_day]."""
    d = days(visits["visit_date"])
    return (d > start_day) & (d <= end_day)


def active_customers(visits: pd.DataFrame, as_of, cfg: dict[str, Any] | None = None) -> pd.Index:
    """Customers with a visit in the ``active_window_months`` up to and including ``as_of``."""
    w = int(_defs(cfg)["active_window_months"])
    m = visits_between(visits, day_number(add_months(as_of, -w)), day_number(as_of))
    out = pd.Index(ids(visits["customer_id"])[m].unique(), name="customer_id")
    return out.sort_values()
