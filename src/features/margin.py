"""Value as the store earns it: every payer's revenue × the gross margin of its payer and visit type.

A customer the store keeps brings customer-paid work, insurer-paid accident repairs (钣喷) and
OEM-paid warranty work; the largest tickets are the insurer's. ``configs/value.yaml`` ``margin``
gives the share of each revenue the store keeps, by payer (customer, insurer, warranty) and
visit type (the contract's types plus ``unknown`` for a missing visit type); payer ``free``
earns nothing. Data without a payer column (a visits-only export) cannot tell who paid: each
visit is valued at the margin blended over the revenue mix ``unknown_payer_mix``
(``cvm.data.margin.unknown_payer_rates``); a visit whose payer cell is empty counts as
customer-paid (the contract's rule). The churn label keeps the customer-paid definition
(``cvm.definitions.paid_mask``): churn is about whether the customer comes back and pays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cvm.data.contract import PAYERS
from cvm.data.ids import add_months, day_number, days, ids, positions
from cvm.data.margin import MARGIN_PAYERS, MARGIN_TYPES, margin_table, unknown_payer_rates

__all__ = [
    "MARGIN_PAYERS",
    "MARGIN_TYPES",
    "future_margin",
    "margin_table",
    "margin_visits",
    "visit_margin",
]


def visit_margin(
    visits: pd.DataFrame,
    cfg: dict[str, Any] | None = None,
    table: dict[str, dict[str, float]] | None = None,
) -> np.ndarray:
    """The store's gross margin of each visit (CNY): amount × margin[payer][visit type];
    without a payer column, amount × the blended margin of the visit type
    (``unknown_payer_mix``)."""
    amount = pd.to_numeric(visits["amount"], errors="coerce").to_numpy(dtype=float, na_value=0.0)
    amount = np.maximum(amount, 0.0)
    n = len(visits)
    if "payer" not in visits.columns:
        t = {"blend": unknown_payer_rates(cfg)}
        payer = np.full(n, "blend", dtype=object)
    else:
        t = table or margin_table(cfg)
        payer = visits["payer"].astype("string").fillna("customer")
    vt = (
        visits["visit_type"].astype("string").fillna("unknown")
        if "visit_type" in visits.columns
        else np.full(n, "unknown", dtype=object)
    )
    # one rate per distinct (payer, visit type), looked up by integer codes: comparing the
    # text of every visit with every payer and type costs seconds at a million customers
    pc_, payers = pd.factorize(payer)
    vc_, types = pd.factorize(vt)
    payers, types = list(payers), list(types)
    lut = np.zeros((len(payers) + 1, len(types) + 1))  # a last row / column: never used
    for p in t:
        rates = {v: t[p][v] for v in MARGIN_TYPES}
        i = [k for k, x in enumerate(payers) if x == p]
        if not len(i):
            continue
        for j, v in enumerate(types):  # a type outside the contract: unknown
            lut[i[0], j] = rates[v] if v in rates else t[p]["unknown"]
    assert set(PAYERS) >= set(MARGIN_PAYERS)
    rate = lut[pc_, vc_] if n else np.zeros(0)
    return amount * rate


def future_margin(
    visits: pd.DataFrame,
    as_of,
    horizon_months: int,
    cfg: dict[str, Any] | None = None,
    customers: pd.Index | None = None,
) -> pd.Series:
    """The value label: gross margin of every visit in (as_of, as_of + H months], 0 if none.

    Index: ``customers`` if given, else every customer with a visit on or before ``as_of``."""
    d = days(visits["visit_date"])
    cid = ids(visits["customer_id"])
    if customers is None:
        customers = pd.Index(cid[d <= day_number(as_of)].unique(), name="customer_id").sort_values()
    m = (d > day_number(as_of)) & (d <= day_number(add_months(as_of, horizon_months)))
    # the window's visits only, with the three columns the margin reads; summed per integer
    # customer code (the same sums, row order kept, as grouping by the text ids)
    cols = [c for c in ("amount", "payer", "visit_type") if c in visits.columns]
    code, who = pd.factorize(cid[m])
    val = pd.Series(visit_margin(visits.loc[m, cols], cfg)).groupby(code).sum()
    total = np.zeros(len(who))
    total[val.index.to_numpy()] = val.to_numpy(dtype=np.float64)
    pos = positions(pd.Index(customers), pd.Index(who, dtype="str"))
    out = pd.Series(
        np.where(pos >= 0, total[np.maximum(pos, 0)] if len(who) else 0.0, 0.0),
        index=pd.Index(customers, name="customer_id"),
        dtype=np.float64,
    )
    return out.rename("future_margin")


def margin_visits(visits: pd.DataFrame, cfg: dict[str, Any] | None = None) -> pd.DataFrame:
    """Visits as margin events: ``customer_id``, ``visit_date`` and ``amount`` = the visit's
    gross margin (every payer's): what the visit-only
    baselines (historical average, BTYD, recency/frequency) read to predict the same value."""
    # the id and date columns as they are (copy-on-write: no copy; the ids' ``to_numpy`` made
    # a Python string per visit, ~0.3 GB at a million customers)
    return pd.DataFrame(
        {
            "customer_id": visits["customer_id"],
            "visit_date": visits["visit_date"],
            "amount": visit_margin(visits, cfg),
        },
        index=visits.index,
    )
