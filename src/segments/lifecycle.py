"""Lifecycle stage (客户生命周期): one stage per known customer at an as-of date.

Rules, first match wins (settings in ``configs/segments.yaml`` → ``lifecycle`` and the recency
limits in ``configs/default.yaml`` → ``definitions``):

Owners — a visit, a vehicle sale or an owned vehicle dated ``<= as_of``; their last *activity*
is their latest visit or purchase:

- ``at_risk``: last activity more than ``at_risk_months`` (6) and at most ``lost_months`` (12)
  months ago;
- ``lost``: last activity more than ``lost_months`` ago;
- ``won_back``: recent activity, and within the last ``won_back_months`` they came back after a
  gap of more than ``lost_months`` between two activities (they had been lost);
- ``active_owner``: recent activity (within ``at_risk_months``); an owned vehicle without any
  dated activity also counts as active (nothing says otherwise).

Non-owners, from their leads as they stood at ``as_of`` (a lead closed after ``as_of`` was
still open then):

- ``ordered``: a won lead not yet delivered, or an open lead at an order stage in
  ``ordered_order_stages`` (contract = A, intent = B);
- ``prospect``: an open lead with a test drive, ``prospect_min_followups`` follow-ups or a
  declared order stage in ``prospect_order_stages``;
- ``lead``: any other open lead;
- every lead closed as lost: ``defeated_lead_stage`` (default ``lost``); no lead at all (a bare
  profile row): ``no_activity_stage`` (default ``lead``).

With visits only, every customer is an owner and only owner stages appear. ``followups`` and
``order_stage`` are the leads table's current values (the contract keeps no history of them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cvm.data.ids import positions
from cvm.segments._common import (
    crosstab_with_flows,
    cut,
    known_customers,
    log,
    months_before,
    settings,
    timestamp,
)

STAGES = ("lead", "prospect", "ordered", "active_owner", "won_back", "at_risk", "lost")
"""All stages in funnel order."""


def _activity(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    """Dated owner activities (customer_id, date): visits and vehicle purchases up to as_of."""
    parts = []
    for name, col in (
        ("visits", "visit_date"),
        ("vehicle_sales", "sale_date"),
        ("vehicles", "purchase_date"),
    ):
        df = cut(tables.get(name), col, as_of, columns=["customer_id"])
        if df is not None and {"customer_id", col} <= set(df.columns):
            parts.append(df[["customer_id", col]].rename(columns={col: "date"}))
    if not parts:
        return pd.DataFrame(
            {"customer_id": pd.Series(dtype="str"), "date": pd.Series(dtype="datetime64[ns]")}
        )
    return pd.concat(parts, ignore_index=True).dropna(subset=["customer_id"])


def _owner_stages(act: pd.DataFrame, as_of: pd.Timestamp, s: dict[str, Any]) -> pd.Series:
    """Stages of customers with at least one activity row (dated or not)."""
    d = s["definitions"]
    risk_start = months_before(as_of, d["at_risk_months"])
    lost_start = months_before(as_of, d["lost_months"])
    wb_start = months_before(as_of, s["won_back_months"])
    # integer customer codes (first-appearance order, as ``unique``): string group-bys and
    # reindexes cost seconds per call at a million customers
    codes, uniq = pd.factorize(act["customer_id"])
    owners = pd.Index(uniq, name="customer_id")
    k = len(owners)
    dates = pd.to_datetime(act["date"]).to_numpy(dtype="datetime64[ns]")
    ok = ~np.isnat(dates)
    c, dt = codes[ok], dates[ok]
    o = np.lexsort((dt, c))
    c, dt = c[o], dt[o]

    def per_owner_max(mask: np.ndarray) -> pd.Series:
        m = pd.Series(dt[mask]).groupby(c[mask]).max().reindex(range(k))
        return pd.Series(m.to_numpy(dtype="datetime64[ns]"), index=owners)

    last = per_owner_max(np.ones(len(c), dtype=bool))
    # a return after a gap of more than lost_months between consecutive activities
    same = np.r_[False, c[1:] == c[:-1]]
    prev = pd.Series(np.where(same, np.r_[dt[:1], dt[:-1]], np.datetime64("NaT", "ns")))
    returned = (pd.Series(dt) > (prev + pd.DateOffset(months=int(d["lost_months"])))).to_numpy()
    last_return = per_owner_max(returned)
    stage = pd.Series("active_owner", index=owners, dtype=object)
    stage[last <= risk_start] = "at_risk"
    stage[last <= lost_start] = "lost"
    stage[(last > risk_start) & (last_return > wb_start)] = "won_back"
    return stage


def _lead_stages(leads: pd.DataFrame | None, as_of: pd.Timestamp, s: dict[str, Any]) -> pd.Series:
    """Stages of customers from their leads (used for non-owners only)."""
    if leads is None or "customer_id" not in leads.columns or leads.empty:
        return pd.Series(dtype=object)
    lf = leads.dropna(subset=["customer_id"])
    n = len(lf)

    def col(name: str, default: Any) -> pd.Series:
        return lf[name] if name in lf.columns else pd.Series(default, index=lf.index)

    closed = pd.to_datetime(col("closed_date", pd.NaT), errors="coerce")
    status = col("status", "open").astype(object).fillna("open")
    # the status as it stood at as_of: a lead closed later was still open
    closed_by_then = closed.notna() & (closed <= as_of) | (closed.isna() & status.ne("open"))
    status_then = status.where(closed_by_then, "open")
    order = col("order_stage", None).astype(object)
    td_date = pd.to_datetime(col("test_drive_date", pd.NaT), errors="coerce")
    test_drive = col("test_drive", False).astype(object).fillna(False).astype(bool)
    test_drive &= td_date.isna() | (td_date <= as_of)
    follow = pd.to_numeric(col("followups", 0), errors="coerce").fillna(0)
    open_ = status_then.eq("open")
    rank = np.full(n, 0)  # 0 defeated, 1 lead, 2 prospect, 3 ordered
    rank = np.where(open_, 1, rank)
    prospect = open_ & (
        test_drive
        | (follow >= s["prospect_min_followups"])
        | order.isin(s["prospect_order_stages"])
    )
    rank = np.where(prospect, 2, rank)
    ordered = (open_ & order.isin(s["ordered_order_stages"])) | status_then.eq("won")
    rank = np.where(ordered, 3, rank)
    best = pd.Series(rank, index=lf.index).groupby(lf["customer_id"].to_numpy()).max()
    names = {0: s["defeated_lead_stage"], 1: "lead", 2: "prospect", 3: "ordered"}
    return best.map(names)


def lifecycle_stage(
    tables: dict[str, pd.DataFrame], as_of: Any, cfg: dict[str, Any] | None = None
) -> pd.Series:
    """The lifecycle stage of every customer known at ``as_of`` (index ``customer_id``).

    Uses only rows dated ``<= as_of``; see the module docstring for the rules.
    """
    as_of = timestamp(as_of)
    s = settings(cfg, "lifecycle")
    if "visits" not in tables or tables["visits"] is None:
        log.warning("lifecycle: no visits table; owner stages rest on vehicles and sales only")
    base = known_customers(tables, as_of)
    act = _activity(tables, as_of)
    owner = _owner_stages(act, as_of, s)
    leads = cut(tables.get("leads"), "created_date", as_of)
    lead = _lead_stages(leads, as_of, s)
    values = np.full(len(base), s["no_activity_stage"], dtype=object)
    for found in (lead, owner):  # an owner's stage wins over their leads'
        found = found.dropna()
        pos = positions(pd.Index(found.index).astype("str"), base)
        values[pos[pos >= 0]] = found.to_numpy(dtype=object)[pos >= 0]
    stage = pd.Series(values, index=base, dtype=object, name="lifecycle_stage")
    unknown = set(stage.unique()) - set(STAGES)
    if unknown:
        from cvm.config import CvmError

        raise CvmError(f"lifecycle settings produce unknown stage(s) {sorted(unknown)}")
    log.info("lifecycle at %s: %s", as_of.date(), stage.value_counts().to_dict())
    return stage.astype("str")


GROUPS = ("lead", "prospect", "ordered", "owner", "lost")
"""Seed 000's five customer groups: 销售线索, 潜在用户, 订单用户, 现实用户, 流失用户."""
OWNER_STAGES = ("active_owner", "won_back", "at_risk")
"""Stages that make up the owners group (现实用户); at-risk and won-back are shown inside it."""


def lifecycle_entities(
    tables: dict[str, pd.DataFrame],
    as_of: Any,
    cfg: dict[str, Any] | None = None,
    stage: pd.Series | None = None,
) -> pd.Series:
    """The stage of every customer known at ``as_of`` *and* of every open lead without a
    customer id (keyed ``lead:<lead_id>``), so the five groups count prospects the store
    has not yet given a customer number. Leads closed as lost by ``as_of`` are left out.
    ``stage``: ``lifecycle_stage(tables, as_of, cfg)`` when the caller has it already."""
    as_of = timestamp(as_of)
    s = settings(cfg, "lifecycle")
    stage = lifecycle_stage(tables, as_of, cfg) if stage is None else stage
    leads = cut(tables.get("leads"), "created_date", as_of)
    if leads is None or "lead_id" not in leads.columns or leads.empty:
        return stage
    anon = leads if "customer_id" not in leads.columns else leads[leads["customer_id"].isna()]
    if anon.empty:
        return stage
    anon = anon.assign(customer_id="lead:" + anon["lead_id"].astype(str))
    extra = _lead_stages(anon, as_of, {**s, "defeated_lead_stage": "_defeated"})
    extra = extra[extra != "_defeated"].astype("str")
    from cvm.data.ids import isin  # Arrow's hash lookup: pandas' walks the ids in Python

    out = pd.concat([stage, extra[~isin(extra.index, stage.index)]])
    out.name = "lifecycle_stage"
    return out


def lifecycle_group(stages: pd.Series) -> pd.Series:
    """The five-group name of each stage (owners' stages become ``owner``)."""
    return stages.where(~stages.isin(OWNER_STAGES), "owner").astype("str")


def lifecycle_transitions(prev: pd.Series, cur: pd.Series) -> pd.DataFrame:
    """Customers moving between stages: rows ``from`` (plus ``new``), columns ``to`` (plus
    ``gone``); the counts sum to the number of customers in either series."""
    return crosstab_with_flows(prev, cur, order=list(STAGES))


def stage_counts(stages: pd.Series) -> pd.Series:
    """Customers per stage in funnel order (zeros included)."""
    return stages.value_counts().reindex(list(STAGES), fill_value=0).astype("int64")
