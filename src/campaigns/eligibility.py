"""Who may receive which campaign this month: catalogue rules, cool-downs and contact caps."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from cvm.campaigns.catalogue import Campaign, defaults
from cvm.config import CvmError
from cvm.data.ids import isin
from cvm.settings import CampaignDefaults

log = logging.getLogger(__name__)

BLOCK_REASONS = ("contact_gap", "yearly_contact_cap", "cool_down", "campaign_yearly_cap")
"""Why a pair the eligibility rule admits is blocked this month (contact limits)."""


def rule_mask(customers: pd.DataFrame, rule: str) -> pd.Series:
    """Boolean mask of ``customers`` rows satisfying a pandas-query ``rule``; missing values fail.

    Raises ``KeyError`` naming the column when the rule uses one the frame lacks.
    """
    try:
        mask = customers.eval(rule)
    except pd.errors.UndefinedVariableError as err:
        raise KeyError(str(err)) from None
    if not isinstance(mask, pd.Series):  # a constant rule
        mask = pd.Series(bool(mask), index=customers.index)
    return mask.fillna(False).astype(bool)


def eligible_pairs(
    customers: pd.DataFrame,
    contacts: pd.DataFrame | None,
    catalogue: dict[str, Campaign],
    as_of: date | pd.Timestamp | str,
    cfg: dict[str, Any] | None = None,
    customer_col: str = "customer_id",
    date_col: str = "contact_date",
) -> pd.DataFrame:
    """Pairs ``customer_id, campaign`` allowed this month.

    ``customers`` has one row per customer (indexed by ``customer_col`` or holding it as a
    column) with the segment, feature and score columns the rules use. ``contacts`` are past
    ``campaign_contacts`` rows (target and control both count, so control groups stay clean).
    Campaigns whose rule needs an absent column are skipped and listed in
    ``result.attrs["skipped"]`` as ``{campaign: reason}``. Pairs the rule admits but the contact
    limits block are in ``result.attrs["blocked"]`` (``customer_id, campaign, reason``, the
    reason one of ``BLOCK_REASONS``), so the candidates file can say why they were not chosen.
    """
    frame = _indexed(customers, customer_col)
    as_of = pd.Timestamp(as_of)
    d = defaults(cfg)
    too_soon, too_many, recent = _contact_history(contacts, as_of, d, customer_col, date_col)
    # set operations as masks over the customers (string-index intersections and differences
    # took seconds a campaign on a million customers); results in the index's sorted order,
    # as Index.intersection / difference give them
    index = frame.index if frame.index.is_monotonic_increasing else frame.index.sort_values()
    frame = frame.reindex(index) if index is not frame.index else frame
    soon, many = member(index, too_soon), member(index, too_many)
    blocked_all = soon | many

    parts: list[pd.DataFrame] = []
    blocked: list[pd.DataFrame] = []
    skipped: dict[str, str] = {}
    for cid, camp in catalogue.items():
        try:
            mask = rule_mask(frame, camp.eligibility).to_numpy()
        except KeyError as err:
            skipped[cid] = f"eligibility rule needs a missing column: {err}"
            log.warning("campaign %s skipped: %s", cid, skipped[cid])
            continue
        gone = [
            (index[mask & soon], "contact_gap"),
            (index[mask & many & ~soon], "yearly_contact_cap"),
        ]
        mask = mask & ~blocked_all
        if recent is not None and mask.any():
            cool, capped = (
                member(index, x) for x in _blocked_for(recent, camp, as_of, customer_col, date_col)
            )
            gone += [
                (index[mask & cool], "cool_down"),
                (index[mask & capped & ~cool], "campaign_yearly_cap"),
            ]
            mask = mask & ~(cool | capped)
        ids = index[mask]
        parts.append(pd.DataFrame({customer_col: ids, "campaign": cid}))
        blocked += [
            pd.DataFrame({customer_col: g, "campaign": cid, "reason": why})
            for g, why in gone
            if len(g)
        ]
        log.debug("campaign %s: %d eligible", cid, len(ids))
    out = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({customer_col: pd.Series(dtype=frame.index.dtype), "campaign": []})
    )
    out["campaign"] = out["campaign"].astype(str)
    out.attrs["skipped"] = skipped
    out.attrs["blocked"] = (
        pd.concat(blocked, ignore_index=True)
        if blocked
        else pd.DataFrame(
            {
                customer_col: pd.Series(dtype=frame.index.dtype),
                "campaign": pd.Series(dtype=str),
                "reason": pd.Series(dtype=str),
            }
        )
    )
    log.info(
        "eligible pairs: %d over %d customers, %d campaigns skipped",
        len(out),
        out[customer_col].nunique(),
        len(skipped),
    )
    return out


def member(index: pd.Index, values: pd.Index) -> np.ndarray:
    """Which entries of ``index`` are in ``values`` (a numpy mask; Arrow's hash lookup for
    text, ``cvm.data.ids.isin``)."""
    if not len(values):
        return np.zeros(len(index), dtype=bool)
    return isin(index, values)


def _indexed(customers: pd.DataFrame, customer_col: str) -> pd.DataFrame:
    if customers.index.name == customer_col:
        frame = customers
    elif customer_col in customers.columns:
        frame = customers.set_index(customer_col)
    else:
        raise CvmError(f"customer frame needs an index or column named {customer_col!r}")
    if not frame.index.is_unique:
        raise CvmError(f"customer frame has duplicate {customer_col} values")
    return frame


def _contact_history(
    contacts: pd.DataFrame | None,
    as_of: pd.Timestamp,
    d: CampaignDefaults,
    customer_col: str,
    date_col: str,
) -> tuple[pd.Index, pd.Index, pd.DataFrame | None]:
    """Customers blocked from every campaign (contacted too recently; at the yearly cap), and
    the last year's contacts."""
    if contacts is None or contacts.empty:
        return pd.Index([]), pd.Index([]), None
    for col in (customer_col, "campaign", date_col):
        if col not in contacts.columns:
            raise CvmError(f"campaign_contacts has no column {col!r}")
    dates = pd.to_datetime(contacts[date_col])
    recent = contacts.loc[
        (dates <= as_of) & (dates > as_of - pd.Timedelta(days=365)), [customer_col, "campaign"]
    ].copy()
    recent[date_col] = dates[recent.index]
    gap = d.min_days_between_contacts
    too_soon = recent.loc[recent[date_col] > as_of - pd.Timedelta(days=gap), customer_col]
    counts = recent[customer_col].value_counts()
    too_many = counts.index[counts >= d.max_contacts_per_year]
    return pd.Index(too_soon.unique()), pd.Index(too_many), recent


def _blocked_for(
    recent: pd.DataFrame, camp: Campaign, as_of: pd.Timestamp, customer_col: str, date_col: str
) -> tuple[pd.Index, pd.Index]:
    """Customers in this campaign's cool-down, and those at its yearly cap."""
    mine = recent[recent["campaign"] == camp.id]
    cool = mine.loc[mine[date_col] > as_of - pd.Timedelta(days=camp.cooldown_days), customer_col]
    counts = mine[customer_col].value_counts()
    capped = counts.index[counts >= camp.max_contacts_per_year]
    return pd.Index(cool.unique()), pd.Index(capped)
