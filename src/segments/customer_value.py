"""Customer value types (既成 / 潜在 / 影响价值): realized, potential and influence value.

A segment, not a model: the value model (``cvm.models.value``) predicts; this module describes
what each customer is worth to the store in the three terms the managers use.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from cvm.data.ids import day_number, days, ids, reindex, to_timestamp
from cvm.definitions import paid_mask
from cvm.models.value import value_settings

log = logging.getLogger(__name__)


def customer_value(
    tables: dict[str, pd.DataFrame],
    as_of: Any,
    predicted: pd.Series,
    cfg: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Realized, potential and influence value per customer (既成 / 潜在 / 影响价值).

    - ``realized_value``: paid after-sales spend up to ``as_of``;
    - ``potential_value``: the predicted spend over the horizon (``predicted``);
    - ``influence_value``: for every buyer this customer referred (``vehicle_sales.
      referred_by_customer_id``, sales dated ``<= as_of``): ``new_car_margin`` × the price
      plus the referred buyer's paid after-sales spend to date; ``referrals`` counts them.
    Index: the union of ``predicted``'s index and customers with a visit.
    """
    as_of = to_timestamp(as_of)
    s = value_settings(cfg)
    visits = tables["visits"]
    keep = days(visits["visit_date"]) <= day_number(as_of)
    v = visits.loc[keep]
    amount = pd.to_numeric(v["amount"], errors="coerce").fillna(0.0).where(paid_mask(v, cfg), 0.0)
    realized = amount.groupby(ids(v["customer_id"]).to_numpy()).sum()
    index = pd.Index(predicted.index, name="customer_id").union(realized.index)
    out = pd.DataFrame(index=index)
    out.index.name = "customer_id"
    out["realized_value"] = reindex(realized, index).fillna(0.0)
    out["potential_value"] = reindex(predicted, index).astype(float)
    out["referrals"] = 0
    out["influence_value"] = 0.0
    sales = tables.get("vehicle_sales")
    if sales is not None and "referred_by_customer_id" in sales.columns:
        sd = days(sales["sale_date"]) <= day_number(as_of)
        ref = sales.loc[sd & sales["referred_by_customer_id"].notna()]
        if len(ref):
            buyer = ids(ref["customer_id"]).to_numpy()
            margin = float(s["influence"]["new_car_margin"]) * pd.to_numeric(
                ref.get("price", pd.Series(0.0, index=ref.index)), errors="coerce"
            ).fillna(0.0)
            worth = margin.to_numpy() + reindex(realized, buyer).fillna(0.0).to_numpy()
            referrer = ids(ref["referred_by_customer_id"]).to_numpy()
            by = pd.DataFrame({"r": referrer, "w": worth}).groupby("r")["w"]
            out["influence_value"] = reindex(by.sum(), index).fillna(0.0)
            out["referrals"] = reindex(by.size(), index).fillna(0).astype("int64")
    else:
        log.info("customer value: no vehicle_sales referrals; influence value is 0")
    return out
