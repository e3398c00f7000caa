"""Defeat analysis (战败原因分析): lost deals by reason, source, model, consultant, and trend."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvm.data.ids import DAYS_PER_MONTH, day_number

UNKNOWN = "(unknown)"


def closed_in_window(L: pd.DataFrame, as_of, months: float) -> pd.DataFrame:
    """Prepared leads (``features.prepare``) closed within ``months`` before ``as_of``."""
    end = day_number(as_of)
    c = L["closed"].to_numpy()
    return L[(c <= end) & (c > end - months * DAYS_PER_MONTH) & L["status"].isin(["won", "lost"])]


def _by(closed: pd.DataFrame, key: str) -> pd.DataFrame:
    k = closed[key].fillna(UNKNOWN).astype(str)
    g = closed.assign(_k=k.to_numpy(), lost=(closed["status"] == "lost").to_numpy())
    out = g.groupby("_k").agg(closed=("lost", "size"), lost=("lost", "sum"))
    out["loss_rate"] = out["lost"] / out["closed"]
    reasons = g[g["lost"]].assign(r=g.loc[g["lost"], "defeat_reason"].fillna(UNKNOWN))
    top = (
        reasons.groupby("_k")["r"].agg(lambda s: s.value_counts().index[0])
        if len(reasons)
        else None
    )
    out["top_reason"] = top.reindex(out.index) if top is not None else None
    out.index.name = key
    return out.sort_values("lost", ascending=False, kind="stable")


def defeat_tables(L: pd.DataFrame, as_of, months: float) -> dict[str, pd.DataFrame]:
    """Lost deals of the last ``months``: by reason; by source, model and consultant (loss rate,
    most common reason); and the monthly count per reason (trend)."""
    closed = closed_in_window(L, as_of, months)
    lost = closed[closed["status"] == "lost"]
    reason = lost["defeat_reason"].fillna(UNKNOWN).astype(str)
    by_reason = reason.value_counts().rename("lost").to_frame()
    by_reason["share"] = by_reason["lost"] / max(len(lost), 1)
    by_reason.index.name = "defeat_reason"
    month = pd.to_datetime(lost["closed"].to_numpy(), unit="D").strftime("%Y-%m")
    trend = pd.crosstab(np.asarray(month), reason.to_numpy()) if len(lost) else pd.DataFrame()
    trend.index.name, trend.columns.name = "month", "defeat_reason"
    return {
        "defeat_by_reason": by_reason,
        "defeat_by_source": _by(closed, "source"),
        "defeat_by_model": _by(closed, "model_of_interest"),
        "defeat_by_consultant": _by(closed, "sales_consultant_id"),
        "defeat_trend": trend,
    }
