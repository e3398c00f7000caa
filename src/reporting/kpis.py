"""Headline KPIs managers steer by: return rate, yearly loss, retention by service milestone, drift."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvm.data.ids import isin
from cvm.run_context import month_shift


def _window(visits: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Index:
    d = visits["visit_date"]
    return pd.Index(visits.loc[(d > start) & (d <= end), "customer_id"].unique())


def yearly_return(visits: pd.DataFrame, as_of: pd.Timestamp) -> dict[str, float]:
    """Of the customers with a visit in the year before the last, the share who came back.

    ``return_rate`` = customers with a visit in (as_of-24m, as_of-12m] who also visited in
    (as_of-12m, as_of]; ``yearly_loss`` = 1 - return_rate (the industry's "annual loss").
    """
    a12, a24 = month_shift(as_of, -12), month_shift(as_of, -24)
    before = _window(visits, a24, a12)
    after = _window(visits, a12, as_of)
    if len(before) == 0:
        return {"return_rate": float("nan"), "yearly_loss": float("nan"), "cohort": 0}
    rate = float(isin(before, after).mean())
    return {"return_rate": rate, "yearly_loss": 1 - rate, "cohort": int(len(before))}


def retention_by_milestone(
    tables: dict[str, pd.DataFrame], as_of: pd.Timestamp, min_age_years: float
) -> pd.Series | None:
    """Share of store-sold vehicles that came back for the 1st…4th service and after warranty.

    Cohort: vehicles sold by the store at least ``min_age_years`` before ``as_of`` (so every
    milestone had time to happen). The k-th service is the vehicle's k-th visit at the store
    that is not an accident repair; "after warranty" is any visit after the warranty end date.
    Returns None when vehicles are absent or the cohort is empty.
    """
    veh = tables.get("vehicles")
    if veh is None or "purchase_date" not in veh or "vehicle_id" not in tables["visits"]:
        return None
    v = veh
    if "sold_by_store" in v:
        v = v[v["sold_by_store"].fillna(False).astype(bool)]
    cutoff = as_of - pd.DateOffset(days=int(365.25 * min_age_years))
    cohort = v[v["purchase_date"] <= cutoff]
    if cohort.empty:
        return None
    vis = tables["visits"]
    vis = vis[
        (vis["visit_date"] <= as_of).to_numpy() & isin(vis["vehicle_id"], cohort["vehicle_id"])
    ]
    if "visit_type" in vis:
        vis = vis[vis["visit_type"] != "accident"]
    counts = vis.groupby("vehicle_id").size().reindex(cohort["vehicle_id"], fill_value=0)
    out = {f"{k}": float((counts >= k).mean()) for k in (1, 2, 3, 4)}
    if "warranty_end_date" in cohort:
        wend = cohort.set_index("vehicle_id")["warranty_end_date"]
        after = vis.merge(wend.rename("wend"), left_on="vehicle_id", right_index=True)
        after = after[after["visit_date"] > after["wend"]]
        out["after_warranty"] = float(isin(cohort["vehicle_id"], after["vehicle_id"]).mean())
    return pd.Series(out, name=f"n={len(cohort)}")


def psi(expected: pd.Series, actual: pd.Series, bins: int) -> float:
    """Population stability index of ``actual`` against ``expected`` (quantile bins of expected)."""
    e = pd.to_numeric(expected, errors="coerce").dropna().to_numpy(dtype=float)
    a = pd.to_numeric(actual, errors="coerce").dropna().to_numpy(dtype=float)
    if len(e) == 0 or len(a) == 0:
        return float("nan")
    edges = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)))
    if len(edges) < 2:
        return 0.0
    edges[0], edges[-1] = -np.inf, np.inf
    pe = np.histogram(e, edges)[0] / len(e)
    pa = np.histogram(a, edges)[0] / len(a)
    eps = 1e-4
    pe, pa = np.clip(pe, eps, None), np.clip(pa, eps, None)
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def drift_table(
    reference: pd.DataFrame, current: pd.DataFrame, threshold: float, bins: int
) -> pd.DataFrame:
    """PSI per numeric feature between two snapshots (``bins`` quantile bins), worst first, with
    a warning flag (PSI above ``threshold``; report.drift_psi_warning and drift_psi_bins in
    configs/default.yaml)."""
    cols = [
        c
        for c in current.columns
        if c in reference.columns and pd.api.types.is_numeric_dtype(current[c])
    ]
    rows = [{"feature": c, "psi": psi(reference[c], current[c], bins)} for c in cols]
    out = pd.DataFrame(rows, columns=["feature", "psi"]).sort_values("psi", ascending=False)
    out["warning"] = out["psi"] > threshold
    return out.reset_index(drop=True)
