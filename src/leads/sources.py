"""Lead-source effectiveness: leads, conversion, sales value and cost per sale by source."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvm.data.ids import DAYS_PER_MONTH, day_number, ids


def source_effectiveness(
    L: pd.DataFrame,
    sales: pd.DataFrame | None,
    as_of,
    months: float,
    cost_per_lead: dict[str, float],
) -> pd.DataFrame:
    """Per source, over leads created in the last ``months``: leads, closed, won, conversion
    (won / closed), revenue of their sales, lead cost (``cost_per_lead`` × leads) and cost per
    sale. Sources without a configured cost get no cost figures."""
    end = day_number(as_of)
    c = L["created"].to_numpy()
    win = L[(c <= end) & (c > end - months * DAYS_PER_MONTH)]
    closed_by = win["closed"].to_numpy() <= end
    g = win.assign(closed_=closed_by, won_=win["won"].to_numpy() & closed_by)
    src = g["source"].fillna("(unknown)").astype(str).to_numpy()
    out = g.groupby(src).agg(
        leads=("closed_", "size"), closed=("closed_", "sum"), won=("won_", "sum")
    )
    out["conversion"] = out["won"] / out["closed"].replace(0, np.nan)
    out["revenue"] = 0.0
    if sales is not None and {"lead_id", "price"} <= set(sales.columns):
        price = pd.Series(
            pd.to_numeric(sales["price"], errors="coerce").to_numpy(),
            index=ids(sales["lead_id"].fillna("")).to_numpy(),
        )
        rev = price.groupby(level=0).sum().reindex(g.index[g["won_"].to_numpy()]).fillna(0.0)
        out["revenue"] = rev.groupby(src[g["won_"].to_numpy()]).sum().reindex(out.index).fillna(0.0)
    cost = pd.Series({str(k): float(v) for k, v in (cost_per_lead or {}).items()})
    out["lead_cost"] = out["leads"] * cost.reindex(out.index)
    out["cost_per_sale"] = out["lead_cost"] / out["won"].replace(0, np.nan)
    out.index.name = "source"
    return out.sort_values("won", ascending=False, kind="stable")
