"""Point-in-time lead features: what the store knew about each open lead at a date D.

A lead is open at D when it was created on or before D and not closed by D. Its features use
only facts dated on or before D: follow-up events up to D (``lead_followups``), a test drive
dated by D, model prices from vehicle sales before D. The leads table's own ``followups``,
``order_stage`` and ``customer_id`` are final values (the consultant's latest stage, the buyer
filled in after the sale), so they are never features. Without ``lead_followups`` the model
scores on first-contact fields and the test-drive date only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from cvm.data.ids import DAYS_PER_MONTH, day_number, days, ids
from cvm.engine import local_map, local_threads

log = logging.getLogger(__name__)

CATEGORICAL = ("source", "model_of_interest")
NUMERIC = (
    "age_days",
    "budget",
    "model_price",
    "budget_gap",
    "abs_budget_gap",
    "test_drive",
    "days_since_test_drive",
    "followups",
    "days_since_last_followup",
    "followups_per_30d",
)


@dataclass
class LeadData:
    """The leads and their follow-ups as day numbers, prepared once for many dates."""

    leads: pd.DataFrame  # index lead_id; created, closed (day numbers), status, ...
    fu_key: np.ndarray | None  # sorted lead_pos * 2^20 + day, or None without events
    sale_day: np.ndarray  # vehicle sales: day numbers
    sale_model: np.ndarray
    sale_price: np.ndarray

    @property
    def has_followups(self) -> bool:
        return self.fu_key is not None

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """The columns ``features_at`` reads, as arrays made once for every date (text columns
        are Arrow-backed: converting them per date would cost more than the features)."""
        cols = ("created", "budget", "td_day", *CATEGORICAL)
        return {c: self.leads[c].to_numpy(dtype=float if c == "budget" else None) for c in cols}


_SHIFT = np.int64(2**20)  # day numbers < 2^20 (year 4840)


def prepare(tables: dict[str, pd.DataFrame]) -> LeadData:
    """Leads (and optional follow-up events and sales) in a form fast to cut at many dates."""
    raw = tables["leads"]
    L = pd.DataFrame(index=pd.Index(ids(raw["lead_id"]).to_numpy(), name="lead_id"))
    L["created"] = days(raw["created_date"])
    L["closed"] = days(raw["closed_date"]) if "closed_date" in raw else np.nan
    L["status"] = raw["status"].astype("object").to_numpy() if "status" in raw else None
    L["won"] = (L["status"] == "won").to_numpy()
    for col in (
        "source",
        "model_of_interest",
        "defeat_reason",
        "sales_consultant_id",
        "order_stage",
    ):
        L[col] = raw[col].astype("object").to_numpy() if col in raw else None
    L["budget"] = (
        pd.to_numeric(raw["budget"], errors="coerce").to_numpy() if "budget" in raw else np.nan
    )
    L["td_day"] = days(raw["test_drive_date"]) if "test_drive_date" in raw else np.nan
    L = L[np.isfinite(L["created"].to_numpy())]
    fu_key = None
    ev = tables.get("lead_followups")
    if ev is not None and len(ev):
        pos = pd.Index(L.index).get_indexer(ids(ev["lead_id"]).to_numpy())
        d = days(ev["followup_date"])
        ok = (pos >= 0) & np.isfinite(d)
        fu_key = np.sort(pos[ok].astype(np.int64) * _SHIFT + d[ok].astype(np.int64))
    elif ev is None:
        log.info("leads: no lead_followups table; scores use first-contact fields and test drives")
    sales = tables.get("vehicle_sales")
    if sales is not None and {"model", "price"} <= set(sales.columns):
        sd = days(sales["sale_date"])
        pr = pd.to_numeric(sales["price"], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(sd) & np.isfinite(pr) & sales["model"].notna().to_numpy()
        sale = (sd[ok], sales["model"].astype("object").to_numpy()[ok], pr[ok])
    else:
        sale = (np.zeros(0), np.zeros(0, object), np.zeros(0))
    return LeadData(L, fu_key, *sale)


def open_mask(data: LeadData, day: int) -> np.ndarray:
    """Leads created on or before ``day`` and not closed by it."""
    L = data.leads
    closed = L["closed"].to_numpy()
    return (L["created"].to_numpy() <= day) & ~(closed <= day)


def _model_prices(data: LeadData, day: int) -> pd.Series:
    sel = data.sale_day <= day
    if not sel.any():
        return pd.Series(dtype=float)
    return pd.Series(data.sale_price[sel]).groupby(data.sale_model[sel]).median()


def features_at(data: LeadData, day: int, mask: np.ndarray | None = None) -> pd.DataFrame:
    """Features of the leads in ``mask`` (default: open at ``day``) as of ``day``.

    Built from the leads' column arrays and assembled into one frame at the end (a training
    frame calls this at every snapshot date: no per-column frame insertions)."""
    mask = open_mask(data, day) if mask is None else mask
    L, A = data.leads, data.arrays
    pos = np.flatnonzero(mask).astype(np.int64)
    cols: dict[str, np.ndarray] = {}
    age = day - A["created"][pos]
    cols["age_days"] = age
    budget = A["budget"][pos]
    cols["budget"] = budget
    price = _model_prices(data, day)
    cols["model_price"] = pd.Series(A["model_of_interest"][pos]).map(price).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.log(budget / cols["model_price"])
    cols["budget_gap"] = np.where(np.isfinite(gap), gap, np.nan)
    cols["abs_budget_gap"] = np.abs(cols["budget_gap"])
    td = A["td_day"][pos]
    seen = td <= day
    cols["test_drive"] = seen.astype(float)
    cols["days_since_test_drive"] = np.where(seen, day - td, np.nan)
    if data.fu_key is not None:  # data.has_followups
        key = data.fu_key
        lo = np.searchsorted(key, pos * _SHIFT, "left")
        hi = np.searchsorted(key, pos * _SHIFT + day, "right")
        n = (hi - lo).astype(float)
        last = np.where(n > 0, key[np.maximum(hi - 1, 0)] - pos * _SHIFT, np.nan)
        cols["followups"] = n
        cols["days_since_last_followup"] = np.where(n > 0, day - last, np.nan)
        cols["followups_per_30d"] = n / np.maximum(age, 1.0) * 30.0
    for col in CATEGORICAL:
        cols[col] = A[col][pos]
    return pd.DataFrame(cols, index=L.index[pos])


def labels_at(data: LeadData, day: int, mask: np.ndarray, months: float) -> np.ndarray:
    """1 when the lead was won within ``months`` after ``day``."""
    L = data.leads[mask]
    closed = L["closed"].to_numpy()
    horizon = day + months * DAYS_PER_MONTH
    return (L["won"].to_numpy() & (closed > day) & (closed <= horizon)).astype(np.int8)


def snapshot_days(data: LeadData, as_of, cfg: dict) -> list[int]:
    """Training dates (day numbers): every ``snapshot_step_days`` up to ``as_of - label_months``."""
    last = day_number(as_of) - int(np.ceil(float(cfg["label_months"]) * DAYS_PER_MONTH))
    first = np.nanmin(data.leads["created"].to_numpy()) + int(cfg["min_history_days"])
    step = int(cfg["snapshot_step_days"])
    return list(range(int(last), int(first) - 1, -step))[::-1] if last >= first else []


def training_rows(data: LeadData, as_of, cfg: dict) -> pd.DataFrame:
    """Stacked (lead, date) rows: features, ``y`` and ``snapshot_day``; index = lead_id."""
    cap = int(cfg["max_rows_per_snapshot"])

    def rows_at(day: int) -> pd.DataFrame | None:
        m = open_mask(data, day)
        if not m.any():
            return None
        if m.sum() > cap:
            keep = np.flatnonzero(m)
            m = np.zeros_like(m)
            m[np.random.default_rng(day).choice(keep, cap, replace=False)] = True
        X = features_at(data, day, m)
        X["y"] = labels_at(data, day, m, float(cfg["label_months"]))
        X["snapshot_day"] = day
        return X

    # the snapshots two at a time in threads (the run settings' engine.local_threads, read from
    # configs/: the leads model's own settings are its section): the same rows, in order
    days_ = snapshot_days(data, as_of, cfg)
    parts = [X for X in local_map(rows_at, days_, local_threads(None)) if X is not None]
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts)
    for col in CATEGORICAL:
        out[col] = out[col].astype("category")
    return out


def feature_names(frame: pd.DataFrame) -> list[str]:
    """The model's columns present in ``frame`` (numeric first, then categorical)."""
    return [c for c in (*NUMERIC, *CATEGORICAL) if c in frame.columns]
