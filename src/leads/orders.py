"""Order classes (订单分类) for delivery and stock planning.

A = contract signed (the consultant's ``order_stage``), deliver first; B = intent: likely
(p ≥ ``intent_min_p``) and expected to close this or next month; C = potential: the rest,
expected in N+1/N+2. The expected close date is first contact plus the median life of won
leads that were still open at the lead's current age (learned from leads won before as-of).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvm.data.ids import day_number


def remaining_days(L: pd.DataFrame, as_of, ages: np.ndarray) -> np.ndarray:
    """Median remaining days to the sale of past won leads that were open at each age."""
    end = day_number(as_of)
    won = L[L["won"].to_numpy() & (L["closed"].to_numpy() <= end)]
    dur = np.sort((won["closed"] - won["created"]).to_numpy(dtype=float))
    if len(dur) == 0:
        return np.full(len(ages), 30.0)
    out = np.empty(len(ages))
    for i, a in enumerate(np.asarray(ages, float)):
        rest = dur[dur > a] - a
        out[i] = float(np.median(rest)) if len(rest) else 7.0
    return out


def order_classes(scored: pd.DataFrame, L: pd.DataFrame, as_of, cfg: dict) -> pd.DataFrame:
    """Per open lead: ``order_class`` A/B/C, ``expected_delivery_month`` (YYYY-MM), probability,
    model of interest and the recorded stage. ``scored`` has ``age_days`` and ``p`` by lead_id."""
    oc = cfg["orders"]
    ages = scored["age_days"].to_numpy(dtype=float)
    uniq, inv = np.unique(np.round(ages), return_inverse=True)
    rest = remaining_days(L, as_of, uniq)[inv]
    exp_day = day_number(as_of) + np.ceil(rest)
    month = pd.to_datetime(exp_day, unit="D").to_period("M")
    now = pd.Timestamp(as_of).to_period("M")
    ahead = np.asarray([(m - now).n for m in month])
    stage = L["order_stage"].reindex(scored.index).to_numpy()
    p = scored["p"].to_numpy(dtype=float)
    cls = np.where(
        stage == "contract",
        "A",
        np.where((p >= float(oc["intent_min_p"])) & (ahead <= 1), "B", "C"),
    )
    ahead = np.where(cls == "C", np.maximum(ahead, 1), ahead)  # potential: N+1 or later
    ahead = np.minimum(ahead, int(oc["horizon_months"]))
    out = pd.DataFrame(
        {
            "order_class": cls,
            "expected_delivery_month": [str(now + int(k)) for k in ahead],
            "conversion_probability": p,
            "model_of_interest": L["model_of_interest"].reindex(scored.index).to_numpy(),
            "recorded_stage": stage,
        },
        index=scored.index,
    )
    out.index.name = "lead_id"
    return out


def stock_plan(orders: pd.DataFrame) -> pd.DataFrame:
    """Expected units (sum of probabilities; contracts count 1) by delivery month and model."""
    units = np.where(orders["order_class"] == "A", 1.0, orders["conversion_probability"])
    g = orders.assign(units=units, model=orders["model_of_interest"].fillna("(unknown)"))
    plan = g.pivot_table(
        index="model",
        columns="expected_delivery_month",
        values="units",
        aggfunc="sum",
        fill_value=0.0,
    )
    plan["total"] = plan.sum(axis=1)
    return plan.sort_values("total", ascending=False, kind="stable").round(1)
