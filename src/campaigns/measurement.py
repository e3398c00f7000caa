"""Measuring campaigns against their control groups: response and revenue, target vs control.

Each month the campaigns of the previous month are measured; the per-contact outcomes
(``contact_outcomes``) are also what the uplift models learn from, so each measurement feeds
the next fit, and ``posterior_uplift`` folds measured lifts into the catalogue priors.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cvm.campaigns.catalogue import Campaign, campaign_settings
from cvm.config import CvmError
from cvm.data.ids import add_months, day_number, days, ids, isin, positions, to_timestamp
from cvm.data.table_cache import select
from cvm.definitions import paid_mask
from cvm.features.margin import visit_margin

log = logging.getLogger(__name__)


def contact_outcomes(
    contacts: pd.DataFrame,
    visits: pd.DataFrame,
    window_days: int,
    cut_at: Any | None = None,
    run_cfg: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Per contact row: ``responded`` (a paid visit in (contact, contact + window]),
    ``revenue`` (paid amount in that window) and ``observed_days`` (window cut at ``cut_at``).

    Visits on the contact day itself do not count (the contact cannot have caused them).
    """
    for col in ("customer_id", "contact_date"):
        if col not in contacts.columns:
            raise CvmError(f"campaign_contacts has no column {col!r}")
    out = contacts.copy()
    start = days(out["contact_date"])
    end = start + float(window_days)
    if cut_at is not None:
        end = np.minimum(end, float(day_number(cut_at)))
    out["observed_days"] = np.maximum(end - start, 0.0)
    # the paid visits of the contacted customers only: the inner merge below keeps no other
    # (a month's contacts reach a fraction of the base; the merge hashed every visit's id)
    vid = ids(visits["customer_id"])
    paid = paid_mask(visits, run_cfg) & isin(vid, ids(out["customer_id"]))
    v = pd.DataFrame(
        {
            "customer_id": vid.to_numpy()[paid],
            "day": days(visits["visit_date"])[paid],
            "amount": pd.to_numeric(visits["amount"], errors="coerce").to_numpy(
                dtype=float, na_value=0.0
            )[paid],
        }
    )
    keys = pd.DataFrame(
        {
            "row": np.arange(len(out)),
            "customer_id": ids(out["customer_id"]).to_numpy(),
            "start": start,
            "end": end,
        }
    )
    m = keys.merge(v, on="customer_id", how="inner")
    m = m[(m["day"] > m["start"]) & (m["day"] <= m["end"])]
    rev = np.bincount(m["row"].to_numpy(), weights=m["amount"].to_numpy(), minlength=len(out))
    hits = np.bincount(m["row"].to_numpy(), minlength=len(out))
    out["responded"] = hits > 0
    out["revenue"] = rev
    return out


def contact_sales(
    contacts: pd.DataFrame,
    vehicle_sales: pd.DataFrame | None,
    window_days: int,
    cut_at: Any | None = None,
    by: str = "customer_id",
) -> np.ndarray:
    """Per contact row: the price of vehicles sold in (contact, contact + window] (cut at
    ``cut_at``) whose ``vehicle_sales.<by>`` is the contacted customer: ``customer_id`` = the
    customer bought (the trade-in a trade-in campaign is for), ``referred_by_customer_id`` =
    a buyer the customer referred (what a referral campaign is for)."""
    out = np.zeros(len(contacts))
    if (
        vehicle_sales is None
        or vehicle_sales.empty
        or not len(contacts)
        or by not in vehicle_sales.columns
    ):
        return out
    vs = vehicle_sales[vehicle_sales[by].notna()]
    if vs.empty:
        return out
    start = days(contacts["contact_date"])
    end = start + float(window_days)
    if cut_at is not None:
        end = np.minimum(end, float(day_number(cut_at)))
    v = pd.DataFrame(
        {
            "customer_id": ids(vs[by]).to_numpy(),
            "day": days(vs["sale_date"]),
            "price": pd.to_numeric(vs.get("price"), errors="coerce").to_numpy(
                dtype=float, na_value=0.0
            )
            if "price" in vs.columns
            else 0.0,
        }
    )
    keys = pd.DataFrame(
        {
            "row": np.arange(len(contacts)),
            "customer_id": ids(contacts["customer_id"]).to_numpy(),
            "start": start,
            "end": end,
        }
    )
    m = keys.merge(v, on="customer_id", how="inner")
    m = m[(m["day"] > m["start"]) & (m["day"] <= m["end"])]
    return np.bincount(m["row"].to_numpy(), weights=m["price"].to_numpy(), minlength=len(out))


def contact_margin(
    contacts: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    window_days: int,
    cut_at: Any | None = None,
    run_cfg: dict[str, Any] | None = None,
    value_cfg: dict[str, Any] | None = None,
) -> np.ndarray:
    """Per contact row: what the store earned from the customer in (contact, contact + window]:
    paid after-sales spend, plus ``influence.new_car_margin`` (configs/value.yaml, the value
    model's margin) of the price of the vehicles the customer bought and of those bought by
    buyers the customer referred. The one definition of a campaign's outcome in CNY: the
    uplift learner's target and the campaign means' measurement."""
    from cvm.config import load_config

    vc = value_cfg if value_cfg is not None else load_config("value")
    margin = float(vc["influence"]["new_car_margin"])
    keys = contacts[["customer_id", "contact_date"]]
    y = contact_outcomes(keys, tables["visits"], window_days, cut_at=cut_at, run_cfg=run_cfg)[
        "revenue"
    ].to_numpy(float)
    sales = tables.get("vehicle_sales")
    for by in ("customer_id", "referred_by_customer_id"):
        y = y + margin * contact_sales(keys, sales, window_days, cut_at=cut_at, by=by)
    return y


def diff_ci(
    x_t: np.ndarray, x_c: np.ndarray, confidence: float
) -> tuple[float, float, float, float]:
    """Difference of means target - control, its Welch standard error and confidence interval."""
    n_t, n_c = len(x_t), len(x_c)
    if n_t < 2 or n_c < 2:
        return (
            float(np.mean(x_t) - np.mean(x_c)) if n_t and n_c else np.nan,
            np.nan,
            np.nan,
            np.nan,
        )
    d = float(np.mean(x_t) - np.mean(x_c))
    se = float(np.sqrt(np.var(x_t, ddof=1) / n_t + np.var(x_c, ddof=1) / n_c))
    z = stats.norm.ppf(0.5 + confidence / 2)
    return d, se, d - z * se, d + z * se


def measure_campaigns(
    tables: dict[str, pd.DataFrame],
    as_of: Any,
    window_days: int | None = None,
    cfg: dict[str, Any] | None = None,
    period_start: Any | None = None,
    run_cfg: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Per campaign contacted in (``period_start``, ``as_of``] (default: the month before):
    ``n_target``, ``n_control``, response rates, revenue per customer, differences with
    Welch / normal-approximation confidence intervals, ``significant`` (response CI excludes 0),
    ``cost`` and ``incremental_revenue`` (revenue difference x n_target).

    Windows are ``window_days`` (config ``measurement.window_days``) after each contact, cut
    at ``as_of``; the mean observed days are reported. Empty frame if there is nothing to measure.
    """
    m = campaign_settings(cfg).measurement
    window_days = int(window_days if window_days is not None else m.window_days)
    conf = m.confidence
    as_of = to_timestamp(as_of)
    start = (
        to_timestamp(period_start) if period_start is not None else as_of - pd.DateOffset(months=1)
    )
    contacts = tables.get("campaign_contacts")
    if contacts is None or contacts.empty:
        log.info("measurement: no campaign_contacts table; nothing to measure")
        return _empty()
    if "group" not in contacts.columns:
        raise CvmError("campaign_contacts has no 'group' column; campaigns cannot be measured")
    d = days(contacts["contact_date"])
    sel = contacts[(d > day_number(start)) & (d <= day_number(as_of))]
    if sel.empty:
        log.info("measurement: no contacts in (%s, %s]", start.date(), as_of.date())
        return _empty()
    oc = contact_outcomes(sel, tables["visits"], window_days, cut_at=as_of, run_cfg=run_cfg)
    rows = []
    for cid, g in oc.groupby("campaign", sort=True):
        t = g[g["group"] == "target"]
        c = g[g["group"] == "control"]
        r = diff_ci(t["responded"].to_numpy(float), c["responded"].to_numpy(float), conf)
        v = diff_ci(t["revenue"].to_numpy(float), c["revenue"].to_numpy(float), conf)
        cost = float(t["cost"].sum()) if "cost" in t.columns else np.nan
        rows.append(
            {
                "campaign": cid,
                "n_target": len(t),
                "n_control": len(c),
                "observed_days": float(g["observed_days"].mean()),
                "response_target": t["responded"].mean() if len(t) else np.nan,
                "response_control": c["responded"].mean() if len(c) else np.nan,
                "response_lift": r[0],
                "response_lift_se": r[1],
                "response_lift_low": r[2],
                "response_lift_high": r[3],
                "revenue_target": t["revenue"].mean() if len(t) else np.nan,
                "revenue_control": c["revenue"].mean() if len(c) else np.nan,
                "revenue_lift": v[0],
                "revenue_lift_se": v[1],
                "revenue_lift_low": v[2],
                "revenue_lift_high": v[3],
                "significant": bool(np.isfinite(r[2]) and (r[2] > 0 or r[3] < 0)),
                "cost": cost,
                "incremental_revenue": v[0] * len(t) if np.isfinite(v[0]) else np.nan,
            }
        )
    out = pd.DataFrame(rows)
    out.attrs.update(
        period_start=str(start.date()),
        as_of=str(as_of.date()),
        window_days=window_days,
        confidence=conf,
    )
    log.info("measured %d campaigns contacted in (%s, %s]", len(out), start.date(), as_of.date())
    return out


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "campaign",
            "n_target",
            "n_control",
            "response_lift",
            "response_lift_low",
            "response_lift_high",
            "significant",
        ]
    )


def posterior_uplift(
    catalogue: dict[str, Campaign],
    measurements: pd.DataFrame | None,
    prior_sd: float | None = None,
    cfg: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Catalogue prior uplift per campaign, updated by measured response lifts (normal-normal).

    ``posterior = (prior/prior_sd^2 + lift/se^2) / (1/prior_sd^2 + 1/se^2)``; campaigns
    without a measurement keep their prior.
    """
    sd = float(prior_sd if prior_sd is not None else campaign_settings(cfg).uplift.prior_sd)
    out = {cid: c.prior_uplift for cid, c in catalogue.items()}
    if measurements is None or measurements.empty:
        return out
    for _, r in measurements.iterrows():
        cid, lift, se = r["campaign"], r.get("response_lift"), r.get("response_lift_se")
        if cid in out and np.isfinite(lift) and np.isfinite(se) and se > 0:
            w0, w1 = 1 / sd**2, 1 / se**2
            out[cid] = float((out[cid] * w0 + lift * w1) / (w0 + w1))
    return out


def contact_induced_spend(
    tables: dict[str, pd.DataFrame],
    start: Any,
    horizon_months: int,
    cfg: dict[str, Any] | None,
    window_days: int,
    min_group: int,
    customers: pd.Index | None = None,
    measure: str = "paid",
) -> tuple[pd.Series, dict[str, float]]:
    """Paid spend induced by campaign contacts in (start, start + H], per customer, and the
    per-campaign uplift it uses (CNY per targeted contact).

    The uplift of a campaign is the mean paid spend in the ``window_days`` from the contact of
    its ``target`` contacts minus that of its ``control`` contacts (randomized holdouts), over
    contacts whose window closed by ``start + H``; campaigns with fewer than ``min_group``
    contacts in either group count 0. Empty when there is no ``campaign_contacts.group``.
    ``measure``: ``paid`` (customer-paid revenue) or ``margin`` (every payer's gross margin,
    ``cvm.features.margin``).
    """
    c = tables.get("campaign_contacts")
    if c is None or len(c) == 0 or "group" not in c.columns:
        return pd.Series(dtype=float), {}
    end_day = day_number(add_months(start, horizon_months))
    v = tables["visits"]
    if customers is not None:
        # a uniform sample of customers: the target − control comparison within it is as
        # unbiased as over everyone (randomized groups), the induced spend is needed for them only
        want = pd.Index(customers).astype("str")
        c = c.loc[isin(ids(c["customer_id"]), want)]
        v = v.loc[isin(ids(v["customer_id"]), want)]
    if measure == "margin":
        amt = visit_margin(v, cfg)
        pm = amt > 0
        amt = amt[pm]
    else:
        pm = paid_mask(v, cfg)
        amt = pd.to_numeric(v["amount"][pm], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    pv = pd.DataFrame(
        {"cid": ids(v["customer_id"])[pm].to_numpy(), "d": days(v["visit_date"])[pm], "a": amt}
    )
    cc = pd.DataFrame(
        {
            "cid": ids(c["customer_id"]).to_numpy(),
            "d": days(c["contact_date"]),
            "camp": c["campaign"].astype(str).to_numpy(),
            "target": (c["group"].astype(str) == "target").to_numpy(),
            "control": (c["group"].astype(str) == "control").to_numpy(),
        }
    )
    cc = cc.loc[(cc["target"] | cc["control"]) & (cc["d"] <= end_day)].reset_index(drop=True)
    cc["k"] = np.arange(len(cc))
    m = cc[["k", "cid", "d"]].merge(pv, on="cid", how="inner", suffixes=("", "_v"))
    m = m.loc[(m["d_v"] >= m["d"]) & (m["d_v"] < m["d"] + window_days)]
    cc["spend"] = m.groupby("k")["a"].sum().reindex(cc["k"]).fillna(0.0).to_numpy()
    done = cc.loc[cc["d"] + window_days <= end_day]
    uplift: dict[str, float] = {}
    for camp, g in done.groupby("camp"):
        t, k = g.loc[g["target"], "spend"], g.loc[g["control"], "spend"]
        if len(t) >= min_group and len(k) >= min_group:
            uplift[str(camp)] = float(t.mean() - k.mean())
    sel = cc.loc[cc["target"] & (cc["d"] > day_number(start)) & (cc["d"] <= end_day)]
    induced = sel["camp"].map(uplift).fillna(0.0).groupby(sel["cid"].to_numpy()).sum()
    induced.index.name = "customer_id"
    return induced.astype(float), uplift


def renewal_uplift(
    tables: dict[str, pd.DataFrame],
    as_of: Any,
    campaigns: list[str],
    term_months: int,
    min_group: int,
    confidence: float,
    recent_months: float | None = None,
    run_cfg: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Per campaign in ``campaigns``: the insurance renewals its past contacts brought,
    target vs control, overall, by month of lead (whole months to the end of the policy it
    preceded, counted from the month end before the contact, the as-of of the run that
    planned it, as ``insurance_months_left`` is: 0, 1, 2, ...) and, with ``recent_months``,
    by the customer's state at the contact (``by_state``: ``recent`` = a paid visit in the
    ``recent_months`` before the contact, else ``lapsed``). A customer who comes anyway tends to renew anyway,
    so the call's uplift differs by state; the history measures by how much.

    ``vehicles.insurance_end_date`` is the end of the latest policy the store sold (a policy
    renewed elsewhere leaves it in the past). A contact's outcome is known once the policy it
    preceded has ended, before ``as_of``, and while its successor would still run at
    ``as_of``: then the store renewed it exactly when the customer's current vehicle's
    insurance end date is after ``as_of``. Contacts whose vehicle changed after the contact
    are left out. A campaign (or lead month) with fewer than ``min_group`` target or control
    contacts known is not measured (absent)."""
    cc, veh = tables.get("campaign_contacts"), tables.get("vehicles")
    need = {"insurance_end_date", "purchase_date", "customer_id"}
    if cc is None or veh is None or not need <= set(veh.columns) or "group" not in cc.columns:
        return {}
    # the four columns read, of the renewal campaigns' contacts (Arrow lookups: text ids)
    cc = cc[["customer_id", "contact_date", "group", "campaign"]]
    cc = cc.loc[isin(cc["campaign"].astype(str), pd.Series(campaigns, dtype="str"))]
    if cc.empty:
        return {}
    # each customer's latest vehicle (by purchase; the last row of a stable order, as a
    # group-by's ``last`` takes it): its purchase and insurance end days
    v = pd.DataFrame(
        {
            "customer_id": ids(veh["customer_id"]),
            "_p": days(veh["purchase_date"]),
            "_i": days(veh["insurance_end_date"]),
        }
    )
    v = v.dropna(subset=["_p", "_i"]).sort_values("_p")
    v = v.loc[~v["customer_id"].duplicated(keep="last").to_numpy(bool)]
    a = float(day_number(as_of))
    term = term_months * 365.25 / 12
    d = days(cc["contact_date"])
    pos = positions(ids(cc["customer_id"]), pd.Index(v["customer_id"]))
    ok = pos >= 0
    p_day = np.where(ok, v["_p"].to_numpy()[np.maximum(pos, 0)], np.nan)
    i_day = np.where(ok, v["_i"].to_numpy()[np.maximum(pos, 0)], np.nan)
    with np.errstate(invalid="ignore"):
        end = i_day + term * np.ceil((d - i_day) / term)  # the first policy end >= contact
        known = ok & (p_day <= d) & (end < a) & (end + term > a)
        renewed = (i_day > a).astype(float)
        # whole months of lead as the run that planned the contact saw them: from its as-of
        # (the month end before the contact's month) to the policy end, as the pairs'
        # ``insurance_months_left`` is at the as-of (a contact goes out during the month after)
        lead = np.floor((end - _planned_as_of(d)) / (365.25 / 12))
    grp = cc["group"].astype(str).to_numpy()
    camp = cc["campaign"].astype(str).to_numpy()
    recent = (
        _recent_paid(
            cc,
            # only the columns a paid visit's date needs: the planning step reads no other
            # (the whole visits are ~0.9 GB at a million customers)
            select(tables, "visits", ["customer_id", "visit_date", "amount", "payer"]),
            known,
            float(recent_months) * 365.25 / 12,
            run_cfg,
        )
        if recent_months is not None and "visits" in tables
        else None
    )
    out: dict[str, dict[str, Any]] = {}
    for c in campaigns:
        m = known & (camp == c)

        def one(sel: np.ndarray) -> dict[str, Any] | None:
            t, k = renewed[sel & (grp == "target")], renewed[sel & (grp == "control")]
            if len(t) < min_group or len(k) < min_group:
                return None
            u, se, lo, hi = diff_ci(t, k, confidence)
            return {
                "uplift": u,
                "se": se,
                "low": lo,
                "high": hi,
                "n_target": len(t),
                "n_control": len(k),
                "renewal_rate_control": float(k.mean()),
            }

        overall = one(m)
        if overall is None:
            continue
        by = {}
        for L in np.unique(lead[m]):
            r = one(m & (lead == L))
            if r is not None:
                by[int(L)] = r
        states = {}
        if recent is not None:
            for name, sel in (("recent", recent), ("lapsed", ~recent)):
                r = one(m & sel)
                if r is not None:
                    states[name] = r
        out[c] = {**overall, "by_lead_month": by, "by_state": states}
    return out


def _planned_as_of(day: np.ndarray) -> np.ndarray:
    """Day numbers of the month end before each day's month (NaN stays NaN): the as-of of the
    monthly run that planned a contact made on that day."""
    out = np.full(len(day), np.nan)
    ok = ~np.isnan(day)
    month = day[ok].astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]")
    out[ok] = month.astype(np.int64) - 1.0
    return out


def _recent_paid(
    cc: pd.DataFrame,
    visits: pd.DataFrame,
    rows: np.ndarray,
    window_days: float,
    run_cfg: dict[str, Any] | None,
) -> np.ndarray:
    """Per contact row (only ``rows`` computed, the rest False): whether the customer had a
    paid visit in the ``window_days`` before the contact day (the contact day excluded)."""
    out = np.zeros(len(cc), bool)
    idx = np.flatnonzero(rows)
    if not len(idx):
        return out
    paid = paid_mask(visits, run_cfg)
    # customers as integer codes (those of the paid visits; -1: none, so no match): the
    # as-of join then hashes integers, not millions of Python strings
    code, who = pd.factorize(ids(visits["customer_id"])[paid])
    v = pd.DataFrame({"cid": code, "day": days(visits["visit_date"])[paid]})
    v = v.loc[(v["cid"] >= 0).to_numpy()].dropna()
    q = pd.DataFrame(
        {
            "row": idx,
            "cid": positions(ids(cc["customer_id"]).iloc[idx], pd.Index(who, dtype="str")),
            "day": days(cc["contact_date"])[idx] - 1.0,
        }
    )
    j = pd.merge_asof(
        q.sort_values("day"),
        v.sort_values("day").rename(columns={"day": "last"}),
        left_on="day",
        right_on="last",
        by="cid",
        direction="backward",
    )
    ok = (j["day"] - j["last"]).to_numpy(float) < window_days
    out[j["row"].to_numpy()[ok]] = True
    return out
