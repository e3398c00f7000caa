"""Point-in-time customer features at an as-of date.

``build_features`` first cuts every table at ``as_of`` (``cvm.features.pit.cut``), so no row
dated later can reach a feature; dates *inside* kept rows that lie after ``as_of`` (a staff
member's leave date, a lead's or complaint's closing date) are read as "not yet happened".
All aggregation is vectorized on integer customer codes (``np.bincount`` / sorted groupby),
which keeps 15M visits in the order of a minute.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cvm.config import CvmError, load_config
from cvm.data.contract import PROFILE_FIELDS, TABLES, VISIT_TYPES
from cvm.data.ids import DAYS_PER_MONTH, day_number, days, ids, isin, positions
from cvm.definitions import paid_mask
from cvm.features.extra import extra_features, levels
from cvm.features.extra import from_config as declared_extras
from cvm.features.pit import cut
from cvm.features.stores import is_multi_store, store_features, store_level

log = logging.getLogger(__name__)

SERVICE_TYPES = ("maintenance", "first_service")
"""Visit types that reset the service clock (when ``visit_type`` is present)."""

CATEGORIES: dict[str, tuple[str, ...]] = {
    "customer_type": TABLES["customers"].column("customer_type").values or (),
    "price_band": TABLES["vehicles"].column("price_band").values or (),
    "last_visit_type": VISIT_TYPES,
}
"""Categorical features and their fixed categories (same codes in every snapshot)."""


@dataclass
class _Visits:
    """Visits up to as-of, sorted by customer then date, with per-customer boundaries."""

    index: pd.Index  # customer ids, sorted; position = code
    code: np.ndarray  # customer code per visit
    day: np.ndarray  # day number per visit
    amount: np.ndarray
    paid: np.ndarray  # bool
    df: pd.DataFrame  # the sorted rows (other columns)
    first: np.ndarray  # row position of each customer's first visit
    last: np.ndarray  # row position of each customer's last visit

    @property
    def n(self) -> int:
        return len(self.index)


VISIT_COLUMNS = (
    "amount",
    "payer",
    "visit_type",
    "mileage_km",
    "vehicle_id",
    "service_advisor_id",
    "wait_minutes",
    "quote_items_offered",
    "quote_items_accepted",
    "dealer_id",
)
"""Visits columns the features read (others are never copied)."""
NUMERIC_VISIT_COLUMNS = (
    "amount",
    "mileage_km",
    "wait_minutes",
    "quote_items_offered",
    "quote_items_accepted",
)


def _prepare(visits: pd.DataFrame, asof: int, cfg: dict[str, Any]) -> _Visits:
    """Cut visits at as-of and sort them by (customer, date) without copying unused columns.

    Text columns are factorized on the full column and only their integer codes are moved
    (a pyarrow string take of 15M rows costs seconds); customers are coded in sorted id order
    so the index never depends on rows after ``as_of``.
    """
    day_all = days(visits["visit_date"])
    keep = np.flatnonzero(day_all <= asof)
    codes_all, uniq_all = pd.factorize(ids(visits["customer_id"]))
    ck = codes_all[keep]
    used = np.flatnonzero(np.bincount(ck, minlength=len(uniq_all)))
    names = np.asarray(uniq_all.take(used), dtype=object)
    by_name = np.argsort(names, kind="stable")
    remap = np.full(len(uniq_all), -1, dtype=np.int64)
    remap[used[by_name]] = np.arange(len(used))
    code = remap[ck]
    day = day_all[keep]
    span = int(np.nanmax(day) - np.nanmin(day) + 1) if len(day) else 1
    order = np.argsort(
        code * span + (day - (np.nanmin(day) if len(day) else 0)).astype(np.int64), kind="stable"
    )
    rows = keep[order]
    code = code[order]
    cols: dict[str, Any] = {}
    for col in VISIT_COLUMNS:
        if col not in visits.columns:
            continue
        s = visits[col]
        if col in NUMERIC_VISIT_COLUMNS:
            cols[col] = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)[
                rows
            ]
        else:
            c, u = pd.factorize(s)
            cols[col] = pd.Categorical.from_codes(c[rows], categories=pd.Index(u, dtype=object))
    df = pd.DataFrame(cols)
    n = len(used)
    bounds = np.searchsorted(code, np.arange(n + 1))
    return _Visits(
        index=pd.Index(names[by_name], name="customer_id", dtype="str"),
        code=code,
        day=day[order],
        amount=np.nan_to_num(np.asarray(cols["amount"], dtype=float))
        if "amount" in cols
        else np.zeros(len(code)),
        paid=paid_mask(df, cfg),
        df=df,
        first=bounds[:-1],
        last=bounds[1:] - 1,
    )


# ---------------------------------------------------------------- small vectorized helpers
def _sum(code: np.ndarray, n: int, w: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(code, weights=w, minlength=n).astype(np.float64)


def _agg(code: np.ndarray, val: np.ndarray, n: int, how: str) -> np.ndarray:
    """Per-customer ``how`` (max, min, mean, last, first, nunique) of ``val``; NaN where none."""
    if len(code) == 0:
        return np.full(n, np.nan)
    s = pd.Series(val).groupby(code, sort=True).agg(how)
    out = np.full(n, np.nan)
    out[s.index.to_numpy()] = s.to_numpy(dtype=float, na_value=np.nan)
    return out


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def _months(delta_days: np.ndarray) -> np.ndarray:
    return delta_days / DAYS_PER_MONTH


def _codes_of(index: pd.Index, customer_ids: pd.Series) -> np.ndarray:
    return positions(ids(customer_ids), index)


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


# ---------------------------------------------------------------- visits
def _visit_features(v: _Visits, asof: int, fc: dict[str, Any]) -> dict[str, np.ndarray]:
    n, code, day, amount, paid = v.n, v.code, v.day, v.amount, v.paid
    f: dict[str, np.ndarray] = {}
    f["months_since_last_visit"] = _months(asof - day[v.last])
    f["tenure_months"] = _months(asof - day[v.first])
    last_paid = _agg(code[paid], day[paid], n, "max")
    f["months_since_last_paid_visit"] = _months(asof - last_paid)
    f["n_visits_total"] = _sum(code, n)
    f["n_paid_visits_total"] = _sum(code[paid], n)
    f["paid_spend_total"] = _sum(code[paid], n, amount[paid])
    f["avg_paid_ticket"] = _ratio(f["paid_spend_total"], f["n_paid_visits_total"])
    for w in fc["windows_months"]:
        m = day > asof - w * DAYS_PER_MONTH
        mp = m & paid
        f[f"n_visits_{w}m"] = _sum(code[m], n)
        f[f"n_paid_visits_{w}m"] = _sum(code[mp], n)
        f[f"paid_spend_{w}m"] = _sum(code[mp], n, amount[mp])

    t = fc["trend_window_months"] * DAYS_PER_MONTH
    recent = paid & (day > asof - t)
    earlier = paid & (day > asof - 2 * t) & (day <= asof - t)
    f["paid_visit_trend"] = _sum(code[recent], n) - _sum(code[earlier], n)
    f["paid_spend_trend"] = np.log1p(_sum(code[recent], n, amount[recent])) - np.log1p(
        _sum(code[earlier], n, amount[earlier])
    )

    # regularity: gaps between consecutive visits of the same customer
    same = np.r_[False, code[1:] == code[:-1]]
    gap = np.r_[0.0, np.diff(day)][same] / DAYS_PER_MONTH
    gcode = code[same]
    g_n = _sum(gcode, n)
    g_mean = _ratio(_sum(gcode, n, gap), g_n)
    g_var = _ratio(_sum(gcode, n, gap * gap), g_n) - g_mean**2
    f["gap_mean_months"] = g_mean
    f["gap_cv"] = _ratio(np.sqrt(np.clip(g_var, 0, None)), g_mean)
    f["last_gap_months"] = np.where(
        g_n > 0, _months(day[v.last] - day[np.maximum(v.last - 1, 0)]), np.nan
    )
    f["recency_gap_ratio"] = _ratio(f["months_since_last_visit"], g_mean)

    mix = day > asof - fc["mix_window_months"] * DAYS_PER_MONTH
    df = v.df
    if "payer" in df.columns:
        payer = df["payer"]
        total = _sum(code[mix], n, amount[mix])
        for who in ("warranty", "insurer"):
            m = mix & (payer == who).to_numpy(dtype=bool, na_value=False)
            f[f"{who}_spend_{fc['mix_window_months']}m"] = _sum(code[m], n, amount[m])
        mp = mix & paid
        f["paid_share_of_spend"] = _ratio(_sum(code[mp], n, amount[mp]), total)
    if "wait_minutes" in df.columns:
        wait = _num(df, "wait_minutes")
        ok = mix & ~np.isnan(wait)
        f["avg_wait_minutes"] = _ratio(_sum(code[ok], n, wait[ok]), _sum(code[ok], n))
        f["last_wait_minutes"] = wait[v.last]
    if {"quote_items_offered", "quote_items_accepted"} <= set(df.columns):
        off, acc = _num(df, "quote_items_offered"), _num(df, "quote_items_accepted")
        ok = mix & ~np.isnan(off) & ~np.isnan(acc)
        f["quote_acceptance_rate"] = _ratio(_sum(code[ok], n, acc[ok]), _sum(code[ok], n, off[ok]))
    if "service_advisor_id" in df.columns:
        sa, _ = pd.factorize(df["service_advisor_id"])
        ok = mix & (sa >= 0)
        f[f"n_advisors_{fc['mix_window_months']}m"] = np.nan_to_num(
            _agg(code[ok], sa[ok], n, "nunique")
        )
        prev = sa[np.maximum(v.last - 1, 0)]
        lastsa = sa[v.last]
        f["advisor_changed"] = np.where(
            (g_n > 0) & (lastsa >= 0) & (prev >= 0), (lastsa != prev).astype(float), np.nan
        )
    return f


def _mileage(v: _Visits, asof: int) -> dict[str, np.ndarray]:
    """Mileage rate (km/month) of the vehicle seen at the last visit, and its estimated odometer.

    The rate is left missing where it cannot be measured: the fill (the median rate of the
    customers built) is a figure across customers, applied by :func:`finish_features` once
    every part of a build is in (``_rate``, ``_last_km`` and ``_last_km_day`` keep what it
    needs)."""
    n, df = v.n, v.df
    if "mileage_km" not in df.columns:
        return {}
    km = _num(df, "mileage_km")
    ok = ~np.isnan(km)
    if "vehicle_id" in df.columns:
        veh, _ = pd.factorize(df["vehicle_id"])
        ok &= veh == veh[v.last][v.code]
    c, d, k = v.code[ok], v.day[ok], km[ok]
    first_d, last_d = _agg(c, d, n, "first"), _agg(c, d, n, "last")
    first_k, last_k = _agg(c, k, n, "first"), _agg(c, k, n, "last")
    span = _months(last_d - first_d)
    rate = np.where((span >= 1) & (last_k > first_k), _ratio(last_k - first_k, span), np.nan)
    return {
        "mileage_rate_km_month": rate,
        "last_mileage_km": last_k,
        "est_mileage_km": _est_mileage(last_k, last_d, rate, asof),
        "_rate": rate,
        "_last_km": last_k,
        "_last_km_day": last_d,
    }


def _est_mileage(last_k: np.ndarray, last_d: np.ndarray, rate: np.ndarray, asof: int) -> np.ndarray:
    return last_k + rate * _months(asof - last_d)


def _km_service(
    since: np.ndarray, iv_m: np.ndarray, iv_k: np.ndarray, rate: np.ndarray
) -> dict[str, np.ndarray]:
    """The service features that read the mileage rate."""
    km_since = rate * since
    due_m = np.fmin(iv_m, _ratio(iv_k, rate))
    return {
        "km_since_service": km_since,
        "service_due_ratio": np.fmax(_ratio(since, iv_m), _ratio(km_since, iv_k)),
        "service_overdue_months": since - due_m,
    }


# ---------------------------------------------------------------- other tables
def _customers(df: pd.DataFrame, index: pd.Index) -> dict[str, np.ndarray | pd.Series]:
    code = _codes_of(index, df["customer_id"])
    keep = code >= 0
    df, code = df.loc[keep], code[keep]
    n = len(index)
    f: dict[str, Any] = {}
    filled = np.zeros(len(df))
    for col in PROFILE_FIELDS:
        if col in df.columns:
            s = df[col]
            ok = s.notna().to_numpy(dtype=bool).copy()
            if pd.api.types.is_string_dtype(s) or pd.api.types.is_object_dtype(s):
                ok = ok & (s.astype("str").str.strip() != "").to_numpy(dtype=bool, na_value=False)
            filled += ok
    f["profile_completeness"] = _agg(code, filled / len(PROFILE_FIELDS), n, "max")
    if "distance_km" in df.columns:
        f["distance_km"] = _agg(code, _num(df, "distance_km"), n, "last")
    if "customer_type" in df.columns:
        ct = pd.Series(pd.NA, index=range(n), dtype="object")
        ct.iloc[code] = df["customer_type"].astype("object").to_numpy()
        f["customer_type"] = ct
    return f


def _vehicles(
    df: pd.DataFrame, v: _Visits, asof: int, fc: dict[str, Any], odo: np.ndarray | None
) -> dict[str, Any]:
    """Primary vehicle = the one at the last visit if known, else the newest purchase."""
    n = v.n
    code = _codes_of(v.index, df["customer_id"])
    keep = code >= 0
    df, code = df.loc[keep].reset_index(drop=True), code[keep]
    f: dict[str, Any] = {"n_vehicles": _sum(code, n)}
    if len(df) == 0:
        return f
    pdays = days(df["purchase_date"]) if "purchase_date" in df.columns else np.full(len(df), np.nan)
    is_last = np.zeros(len(df))
    if "vehicle_id" in v.df.columns and "vehicle_id" in df.columns:
        last_vid = v.df["vehicle_id"].iloc[v.last].astype("object").to_numpy()
        is_last = (df["vehicle_id"].astype("object").to_numpy() == last_vid[code]).astype(float)
    order = np.lexsort((np.nan_to_num(pdays, nan=-1e9), is_last, code))
    pick = order[np.r_[code[order][1:] != code[order][:-1], True]]
    pc = code[pick]
    p = df.iloc[pick]

    def put(val: np.ndarray) -> np.ndarray:
        out = np.full(n, np.nan)
        out[pc] = val
        return out

    if "purchase_date" in p.columns:
        f["vehicle_age_months"] = put(_months(asof - pdays[pick]))
    if "warranty_end_date" in p.columns:
        f["warranty_months_left"] = put(_months(days(p["warranty_end_date"]) - asof))
    if "warranty_km" in p.columns and odo is not None:
        f["_warranty_km"] = put(_num(p, "warranty_km"))
        f["warranty_km_left"] = f["_warranty_km"] - odo
    if "insurance_end_date" in p.columns:
        term = fc["insurance_term_months"]
        f["insurance_months_left"] = put(
            np.mod(_months(days(p["insurance_end_date"]) - asof), term)
        )
    if "sold_by_store" in p.columns:
        f["sold_by_store"] = put(
            pd.to_numeric(p["sold_by_store"].astype("object"), errors="coerce").to_numpy(
                dtype=float
            )
        )
    if "price_band" in p.columns:
        pb = pd.Series(pd.NA, index=range(n), dtype="object")
        pb.iloc[pc] = p["price_band"].astype("object").to_numpy()
        f["price_band"] = pb
    for col in ("service_interval_km", "service_interval_months"):
        if col in p.columns:
            f["_" + col] = put(_num(p, col))
    return f


def _service(v: _Visits, asof: int, fc: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
    """How overdue the next service is, by time and by estimated mileage."""
    n, df = v.n, v.df
    svc = np.ones(len(df), dtype=bool)
    if "visit_type" in df.columns:
        svc = df["visit_type"].isin(SERVICE_TYPES).to_numpy(dtype=bool)
    last_svc = _agg(v.code[svc], v.day[svc], n, "max")
    same_vehicle = np.ones(len(df), dtype=bool)
    if "vehicle_id" in df.columns:
        veh, _ = pd.factorize(df["vehicle_id"])
        same_vehicle = veh == veh[v.last][v.code]
    # services of the current vehicle: retention falls off a cliff after the 2nd service
    n_svc = _sum(v.code[svc & same_vehicle], n)
    since = _months(asof - last_svc)
    iv_m = f.pop("_service_interval_months", np.full(n, np.nan))
    iv_k = f.pop("_service_interval_km", np.full(n, np.nan))
    iv_m = np.where(np.isnan(iv_m), fc["default_service_interval_months"], iv_m)
    iv_k = np.where(np.isnan(iv_k), fc["default_service_interval_km"], iv_k)
    out: dict[str, Any] = {"months_since_service": since, "n_services_vehicle": n_svc}
    rate = f.get("mileage_rate_km_month")
    if rate is not None:
        out.update(_km_service(since, iv_m, iv_k, rate))
        out.update({"_since": since, "_iv_m": iv_m, "_iv_k": iv_k})
    else:
        out["service_due_ratio"] = _ratio(since, iv_m)
        out["service_overdue_months"] = since - iv_m
    return out


def _staff(staff: pd.DataFrame, v: _Visits, asof: int) -> dict[str, np.ndarray]:
    if "service_advisor_id" not in v.df.columns or "leave_date" not in staff.columns:
        return {}
    left = days(staff["leave_date"]) <= asof
    gone = pd.Series(left, index=ids(staff["staff_id"]).to_numpy())
    gone = gone[~gone.index.duplicated(keep="last")]
    last_sa = v.df["service_advisor_id"].iloc[v.last]
    val = gone.reindex(ids(last_sa).to_numpy()).to_numpy(dtype=float, na_value=np.nan)
    return {"last_advisor_left": val}


def _vehicle_sales(df: pd.DataFrame, index: pd.Index, asof: int) -> dict[str, np.ndarray]:
    n = len(index)
    code = _codes_of(index, df["customer_id"])
    ok = code >= 0
    d = days(df["sale_date"])
    f = {
        "n_purchases": _sum(code[ok], n),
        "months_since_last_purchase": _months(asof - _agg(code[ok], d[ok], n, "max")),
    }
    if "referred_by_customer_id" in df.columns:
        ref = df["referred_by_customer_id"]
        rc = _codes_of(index, ref.fillna(""))
        rc = rc[ref.notna().to_numpy(dtype=bool) & (rc >= 0)]
        f["n_referrals"] = _sum(rc, n)
    return f


def _leads(df: pd.DataFrame, index: pd.Index, asof: int, fc: dict[str, Any]) -> dict[str, Any]:
    n = len(index)
    if "customer_id" not in df.columns:
        return {}
    cid = df["customer_id"]
    code = _codes_of(index, cid.fillna(""))
    ok = cid.notna().to_numpy(dtype=bool) & (code >= 0)
    d = days(df["created_date"])
    closed = days(df["closed_date"]) if "closed_date" in df.columns else np.full(len(df), np.nan)
    open_ = ok & ~(closed <= asof)
    mix = ok & (d > asof - fc["mix_window_months"] * DAYS_PER_MONTH)
    return {
        f"n_leads_{fc['mix_window_months']}m": _sum(code[mix], n),
        "has_open_lead": (_sum(code[open_], n) > 0).astype(float),
    }


def _contacts(df: pd.DataFrame, v: _Visits, asof: int, fc: dict[str, Any]) -> dict[str, Any]:
    n = v.n
    code = _codes_of(v.index, df["customer_id"])
    ok = code >= 0
    if "group" in df.columns:
        ok &= (df["group"] == "target").to_numpy(dtype=bool, na_value=False)
    c, d = code[ok], days(df["contact_date"])[ok]
    # next paid visit after each contact: search (customer, day) keys in the sorted visits
    big = 10**6
    pk = v.code[v.paid].astype(np.int64) * big + v.day[v.paid].astype(np.int64)
    ck = c.astype(np.int64) * big + d.astype(np.int64)
    j = np.searchsorted(pk, ck, side="right")
    nxt = np.where(j < len(pk), pk[np.minimum(j, len(pk) - 1)], -1)
    resp = (nxt // big == c) & ((nxt % big) - d <= fc["campaign_response_days"])
    recent = d > asof - fc["trend_window_months"] * DAYS_PER_MONTH
    n_all = _sum(c, n)
    return {
        f"n_contacts_{fc['trend_window_months']}m": _sum(c[recent], n),
        "campaign_responses": _sum(c[resp], n),
        "campaign_response_rate": _ratio(_sum(c[resp], n), n_all),
        "months_since_last_contact": _months(asof - _agg(c, d, n, "max")),
    }


def _surveys(df: pd.DataFrame, index: pd.Index, asof: int, fc: dict[str, Any]) -> dict[str, Any]:
    n = len(index)
    code = _codes_of(index, df["customer_id"])
    d = days(df["survey_date"])
    ok = (code >= 0) & (d > asof - fc["mix_window_months"] * DAYS_PER_MONTH)
    mw = fc["mix_window_months"]
    f: dict[str, Any] = {f"n_surveys_{mw}m": _sum(code[ok], n)}
    for col in ("satisfaction", "nps"):
        if col in df.columns:
            x = _num(df, col)
            m = ok & ~np.isnan(x)
            f[f"avg_{col}_{mw}m"] = _ratio(_sum(code[m], n, x[m]), _sum(code[m], n))
    if "satisfaction" in df.columns:
        x = _num(df, "satisfaction")
        m = (code >= 0) & ~np.isnan(x)
        o = np.lexsort((d[m], code[m]))
        f["last_satisfaction"] = _agg(code[m][o], x[m][o], n, "last")
    return f


def _complaints(df: pd.DataFrame, index: pd.Index, asof: int, fc: dict[str, Any]) -> dict[str, Any]:
    n = len(index)
    code = _codes_of(index, df["customer_id"])
    ok = code >= 0
    d = days(df["complaint_date"])
    mix = ok & (d > asof - fc["mix_window_months"] * DAYS_PER_MONTH)
    res = days(df["resolved_date"]) if "resolved_date" in df.columns else np.full(len(df), np.nan)
    open_ = ok & ~(res <= asof)
    mw = fc["mix_window_months"]
    f = {
        f"n_complaints_{mw}m": _sum(code[mix], n),
        "n_open_complaints": _sum(code[open_], n),
        "months_since_last_complaint": _months(asof - _agg(code[ok], d[ok], n, "max")),
    }
    if "severity" in df.columns:
        f[f"max_complaint_severity_{mw}m"] = np.nan_to_num(
            _agg(code[mix], _num(df, "severity")[mix], n, "max")
        )
    return f


# ---------------------------------------------------------------- entry point
@dataclass(frozen=True)
class FeatureFigures:
    """What a feature build reads across customers, computed once on the whole tables and
    sent with every part of a build (a store, a block of customers): whether the data are a
    dealer group, the group's store-level figures at the date (``cvm.features.stores``), the
    levels of declared category columns. The one other figure across customers, the fill of
    a missing mileage rate, is the median over the customers built, so
    :func:`finish_features` applies it once the parts are in."""

    multi_store: bool
    store_level: pd.DataFrame | None
    extra_levels: dict[str, list[str]]


def feature_figures(
    tables: dict[str, pd.DataFrame], as_of, cfg: dict | None = None
) -> FeatureFigures:
    """The :class:`FeatureFigures` of ``tables`` (the whole data, not a part) at ``as_of``."""
    cfg = cfg or load_config()
    visits = tables.get("visits")
    multi = visits is not None and "dealer_id" in visits.columns and is_multi_store(tables)
    return FeatureFigures(
        multi_store=multi,
        store_level=store_level(visits, day_number(as_of)) if multi else None,
        extra_levels={x.name: levels(tables, x) for x in declared_extras(cfg) if x.categorical},
    )


FEATURE_COLUMNS: dict[str, tuple[str, ...]] = {
    "visits": ("customer_id", "visit_date", *VISIT_COLUMNS),
    "customers": ("customer_id", "dealer_id", "customer_type", "distance_km", *PROFILE_FIELDS),
    "vehicles": (
        "customer_id",
        "vehicle_id",
        "purchase_date",
        "warranty_end_date",
        "warranty_km",
        "insurance_end_date",
        "sold_by_store",
        "price_band",
        "service_interval_km",
        "service_interval_months",
    ),
    "staff": ("staff_id", "leave_date"),
    "vehicle_sales": ("customer_id", "sale_date", "referred_by_customer_id"),
    "leads": ("customer_id", "created_date", "closed_date"),
    "campaign_contacts": ("customer_id", "contact_date", "group"),
    "surveys": ("customer_id", "survey_date", "satisfaction", "nps"),
    "complaints": ("customer_id", "complaint_date", "resolved_date", "severity"),
}
"""The columns a feature build reads, by table (``feature_columns`` adds each table's contract
date column, which the point-in-time cut reads, and the declared extra columns). A build
copies no other column and reads no other table (the lead follow-ups: none of it)."""


def feature_columns(cfg: dict[str, Any] | None = None) -> dict[str, list[str]]:
    """``FEATURE_COLUMNS`` with the contract date columns and ``features.extra_columns``."""
    cols = {k: list(v) for k, v in FEATURE_COLUMNS.items()}
    for x in declared_extras(cfg or load_config()):
        cols.setdefault(x.table, ["customer_id"]).append(x.name)
    for name, c in cols.items():
        spec = TABLES.get(name)
        if spec is not None and spec.date_column and spec.date_column not in c:
            c.append(spec.date_column)
    return {k: list(dict.fromkeys(v)) for k, v in cols.items()}


def feature_tables(
    tables: dict[str, pd.DataFrame], cfg: dict[str, Any] | None = None
) -> dict[str, pd.DataFrame]:
    """The tables a feature build reads, with only the columns it reads (``feature_columns``):
    from the run's copy (``cvm.data.table_cache.LazyTables``) a column-pruned read kept for the
    next build, from frames a column selection (no copy). The features are the same: a build
    never reads another column."""
    from cvm.data.table_cache import select

    out: dict[str, pd.DataFrame] = {}
    for name, cols in feature_columns(cfg).items():
        if name in tables:
            df = select(tables, name, cols, keep=True)
            if df is not None:
                out[name] = df
    return out


def build_features(
    tables: dict[str, pd.DataFrame],
    as_of,
    cfg: dict | None = None,
    customers: pd.Index | None = None,
    rows_from: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """One row per customer with a visit on or before ``as_of``, from rows dated ≤ ``as_of`` only.

    Index ``customer_id`` (str, sorted); numeric columns float32, categorical columns with
    fixed categories (``CATEGORIES``). Features of absent tables or columns are skipped.

    ``customers`` restricts the rows to those customers (training samples): visits are cut to
    them before anything is computed, so the cost follows the sample, not the base. Every
    feature is a function of the customer's own rows and of the whole data's
    :class:`FeatureFigures`, so the result equals the full build's rows, except the fill of
    a missing mileage rate (the median rate of the customers built). ``rows_from``: the tables
    already cut to a set of customers holding ``customers`` (``restrict_tables``), to cut
    from instead of ``tables`` (callers building many subsets of one set cut once); the
    figures across customers still come from ``tables``.

    The same as ``finish_features([build_part(part, as_of, cfg, figures) for part in
    parts], as_of)`` over any split of the customers (``split_tables``): how
    ``cvm.steps.features`` builds one store per task on a Dask engine.
    """
    cfg = cfg or load_config()
    # the columns a build reads, before anything else: a check of the whole ``visits`` would
    # read all of its columns from the run's copy
    tables = feature_tables(tables, cfg)
    if tables.get("visits") is None:
        raise CvmError("the visits table is required to build features")
    figures = feature_figures(tables, as_of, cfg)
    if customers is not None:
        tables = restrict_tables(feature_tables(rows_from, cfg) if rows_from else tables, customers)
    return finish_features([build_part(tables, as_of, cfg, figures)], as_of)


def build_part(
    tables: dict[str, pd.DataFrame], as_of, cfg: dict[str, Any], figures: FeatureFigures
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The features of the customers of ``tables`` (a part of the data: every row of each of
    its customers), with the whole data's ``figures``; the mileage fill is left to
    :func:`finish_features`. Returns the features and the float64 columns the fill reads."""
    fc = cfg["features"]
    if tables.get("visits") is None:
        raise CvmError("the visits table is required to build features")
    asof = day_number(as_of)
    visits = tables["visits"]
    other = {k: df for k, df in tables.items() if k != "visits"}
    t = cut(other, as_of)
    v = _prepare(visits, asof, cfg)
    log.debug("features at %s: %d customers, %d visits", as_of, v.n, len(v.df))
    if v.n == 0:  # no visit yet at this date (e.g. a snapshot before the store's first visit)
        empty = pd.DataFrame(index=pd.Index([], dtype="str", name="customer_id"))
        return empty, empty.copy()
    f: dict[str, Any] = _visit_features(v, asof, fc)
    f.update(_mileage(v, asof))
    if "visit_type" in v.df.columns:
        f["last_visit_type"] = v.df["visit_type"].iloc[v.last].astype("object").to_numpy()
    if t.get("customers") is not None:
        f.update(_customers(t["customers"], v.index))
    if t.get("vehicles") is not None:
        f.update(_vehicles(t["vehicles"], v, asof, fc, f.get("est_mileage_km")))
    extras = declared_extras(cfg)
    if extras:
        f.update(extra_features(t, v.index, extras))
    f.update(_service(v, asof, fc, f))
    if t.get("staff") is not None:
        f.update(_staff(t["staff"], v, asof))
    if t.get("vehicle_sales") is not None:
        f.update(_vehicle_sales(t["vehicle_sales"], v.index, asof))
    if t.get("leads") is not None:
        f.update(_leads(t["leads"], v.index, asof, fc))
    if t.get("campaign_contacts") is not None:
        f.update(_contacts(t["campaign_contacts"], v, asof, fc))
    if t.get("surveys") is not None:
        f.update(_surveys(t["surveys"], v.index, asof, fc))
    if t.get("complaints") is not None:
        f.update(_complaints(t["complaints"], v.index, asof, fc))
    if "dealer_id" in v.df.columns and figures.multi_store:  # a dealer group
        f.update(
            store_features(
                figures.store_level, v.code, v.df["dealer_id"].array, v.day, v.n, asof, cfg
            )
        )
    helpers = {k: np.asarray(f.pop(k), dtype=np.float64) for k in [k for k in f if k[0] == "_"]}
    levels_ = {x.name: figures.extra_levels.get(x.name, []) for x in extras if x.categorical}
    return _frame(f, v.index, levels_), pd.DataFrame(helpers, index=v.index)


def finish_features(parts: list[tuple[pd.DataFrame, pd.DataFrame]], as_of) -> pd.DataFrame:
    """The build from its parts (:func:`build_part`): rows in customer order, and the
    mileage fill, the median measured rate over every customer built, applied to the rate
    and to the features that read it."""
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return pd.DataFrame(index=pd.Index([], dtype="str", name="customer_id"))
    if len(parts) == 1:
        frame, helpers = parts[0]
    else:
        frame, helpers = _concat([p[0] for p in parts]), _concat([p[1] for p in parts])
        idx = frame.index.to_numpy(dtype=object)
        order = np.argsort(idx, kind="stable")
        if (order != np.arange(len(order))).any():  # parts in customer order need no gather
            frame, helpers = frame.iloc[order], helpers.iloc[order]
        frame.index = pd.Index(idx[order], name="customer_id", dtype="str")
    if "_rate" not in helpers.columns:
        return frame
    rate = helpers["_rate"].to_numpy(dtype=np.float64)
    if not np.isfinite(rate).any():
        return frame
    rate = np.where(np.isnan(rate), np.nanmedian(rate), rate)
    h = {c: helpers[c].to_numpy(dtype=np.float64) for c in helpers.columns}
    est = _est_mileage(h["_last_km"], h["_last_km_day"], rate, day_number(as_of))
    filled: dict[str, np.ndarray] = {"mileage_rate_km_month": rate, "est_mileage_km": est}
    if "_warranty_km" in h:
        filled["warranty_km_left"] = h["_warranty_km"] - est
    if "_since" in h:
        filled.update(_km_service(h["_since"], h["_iv_m"], h["_iv_k"], rate))
    frame = frame.copy(deep=False)  # copy-on-write: the part's own frame stays as it was
    for name, val in filled.items():
        frame[name] = _float32(val)
    return frame


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Parts' frames one under another, with the columns in the build's order: a part
    lacking a column (a store without a row of some table) gets it missing."""
    cols: list[str] = []
    for fr in frames:
        for i, c in enumerate(fr.columns):
            if c not in cols:
                prev = fr.columns[i - 1] if i else None
                cols.insert(cols.index(prev) + 1 if prev in cols else len(cols), c)
    like = {c: fr[c] for fr in frames for c in fr.columns}
    out = []
    for fr in frames:
        miss = [c for c in cols if c not in fr.columns]
        if miss:
            fr = fr.assign(**{c: _missing(like[c], len(fr), fr.index) for c in miss})
        out.append(fr[cols])
    return pd.concat(out)


def _missing(like: pd.Series, n: int, index: pd.Index) -> pd.Series:
    if isinstance(like.dtype, pd.CategoricalDtype):
        return pd.Series(pd.Categorical([None] * n, categories=like.cat.categories), index=index)
    return pd.Series(np.full(n, np.nan, dtype=like.dtype), index=index)


# tables whose rows belong to one customer (a subset build keeps only its customers' rows);
# vehicle_sales also carries referrals, leads may lack an id: both are left whole
_PER_CUSTOMER = ("customers", "vehicles", "campaign_contacts", "surveys", "complaints")


def restrict_tables(
    tables: dict[str, pd.DataFrame], customers: pd.Index
) -> dict[str, pd.DataFrame]:
    """The tables cut to the rows of ``customers`` where a row belongs to one customer (the
    visits and ``_PER_CUSTOMER``); the others whole. ``build_features(restrict_tables(t, S),
    d, customers=s)`` equals ``build_features(t, d, customers=s)`` for any ``s`` within ``S``:
    callers building many subsets of one set of customers cut the tables once."""
    want = pd.Index(customers).astype("str")
    out = {k: _rows_of(k, df, want) for k, df in tables.items()}
    v = tables.get("visits")
    if v is not None:
        out["visits"] = v.loc[isin(ids(v["customer_id"]), want)]
    return out


class CustomerRows:
    """The per-customer tables (the visits and ``_PER_CUSTOMER``) indexed by customer once, so
    that many subsets of the customers are cut by gathering their rows, not by a lookup over
    every row for each subset: ``cut(s)`` equals ``restrict_tables(tables, s)`` (the same rows,
    in the tables' order, with their labels). The uplift frame cuts one subset a contact month."""

    def __init__(self, tables: dict[str, pd.DataFrame], customers: pd.Index | None = None) -> None:
        """``customers``: only these are ever cut (the index covers their rows alone), so the
        whole tables serve without a copy cut to them first: ``CustomerRows(t, S).cut(s)``
        equals ``CustomerRows(restrict_tables(t, S)).cut(s)`` for any ``s`` within ``S``."""
        self.tables = tables
        self._rows: dict[str, tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray]] = {}
        want = None if customers is None else pd.Index(customers).astype("str").unique()
        for name, df in tables.items():
            if df is None or "customer_id" not in df.columns:
                continue
            if name != "visits" and name not in _PER_CUSTOMER:
                continue
            if want is None:  # -1: a row without a customer
                codes, uniq = pd.factorize(ids(df["customer_id"]))
            else:  # -1: a row without a customer or of a customer never cut
                codes, uniq = positions(ids(df["customer_id"]), want), want
            order = np.argsort(codes, kind="stable")
            order = order[np.searchsorted(codes[order], 0) :]  # rows of known customers
            counts = np.bincount(codes[codes >= 0], minlength=len(uniq))
            starts = np.r_[0, np.cumsum(counts)[:-1]]
            # one index object for every table cut on the same customers (``cut`` looks a
            # subset up once for all of them)
            key = want if want is not None else pd.Index(uniq).astype("str")
            self._rows[name] = (key, order, starts, counts)

    def positions(self, customers: pd.Index) -> np.ndarray | None:
        """Where ``customers`` stand in the index of the customers given at construction (-1:
        absent), for :meth:`cut`'s ``at``: many subsets looked up in one call, not a lookup
        (a hash table of every indexed customer) each. None without ``customers`` given."""
        if not self._rows or len({id(u) for u, *_ in self._rows.values()}) != 1:
            return None
        uniq = next(iter(self._rows.values()))[0]
        return positions(pd.Index(customers).astype("str"), uniq)

    def cut(self, customers: pd.Index, at: np.ndarray | None = None) -> dict[str, pd.DataFrame]:
        """The tables cut to the rows of ``customers`` (``restrict_tables``); ``at``: their
        :meth:`positions`, when already looked up."""
        want = pd.Index(customers).astype("str")
        out = dict(self.tables)
        found: dict[int, np.ndarray] = {}  # tables indexed on one set of customers share it
        for name, (uniq, order, starts, counts) in self._rows.items():
            if id(uniq) not in found:
                found[id(uniq)] = positions(want, uniq) if at is None else at
            pos = found[id(uniq)]
            pos = pos[pos >= 0]
            n = counts[pos]
            # each customer's run of rows in ``order``: start + 0, 1, ..., n - 1
            run = np.repeat(starts[pos] - np.r_[0, np.cumsum(n)[:-1]], n) + np.arange(n.sum())
            out[name] = self.tables[name].iloc[np.sort(order[run])]
        return out


def split_tables(
    tables: dict[str, pd.DataFrame],
    part_of: pd.Series,
    n_parts: int,
    referrals: bool = True,
) -> list[dict[str, pd.DataFrame]]:
    """The tables split by customer into ``n_parts`` parts, plus one part for the customers
    ``part_of`` (customer id -> part number) does not name, when any has a row: every row of a
    customer is in their part, in the tables' order. A table without ``customer_id`` (staff,
    …) goes whole to every part; rows without a customer id to none. With ``referrals``, a
    vehicle sale is also in its referrer's part (``n_referrals``). Features and segments are
    functions of a customer's own rows and of figures across customers sent beside them, so a
    build over the parts equals the build over the whole (``cvm.steps``)."""
    key = pd.Index(part_of.index).astype("str")
    code = np.asarray(part_of.to_numpy(), dtype=np.int64)
    parts: list[dict[str, pd.DataFrame]] = [{} for _ in range(n_parts + 1)]
    spill = False
    for name, df in tables.items():
        if df is None or "customer_id" not in df.columns:
            for p in parts:
                p[name] = df
            continue
        take, bounds, spilled = part_rows(name, df, key, code, n_parts, referrals)
        spill |= spilled
        grouped = df.iloc[take]  # one gather, then each part is a slice of it
        for k, p in enumerate(parts):
            p[name] = grouped.iloc[bounds[k] : bounds[k + 1]].copy()
    return parts if spill else parts[:-1]


def iter_split(
    tables: dict[str, pd.DataFrame],
    part_of: pd.Series,
    n_parts: int,
    referrals: bool = True,
) -> Iterator[dict[str, pd.DataFrame]]:
    """:func:`split_tables`'s parts 0 … ``n_parts`` − 1, one at a time: each part's rows are
    gathered only when it is reached, so a caller that builds and drops one part before the
    next holds one part's copy, not all of them. The rows of customers ``part_of`` does not
    name (the spill part) are never yielded: callers give every customer a part or, as the
    feature build, need none of theirs (a customer without a visit has no features)."""
    key = pd.Index(part_of.index).astype("str")
    code = np.asarray(part_of.to_numpy(), dtype=np.int64)
    cuts = {
        name: part_rows(name, df, key, code, n_parts, referrals)[:2]
        for name, df in tables.items()
        if df is not None and "customer_id" in df.columns
    }
    for k in range(n_parts):
        part: dict[str, pd.DataFrame] = {}
        for name, df in tables.items():
            if name not in cuts:
                part[name] = df
                continue
            take, bounds = cuts[name]
            part[name] = df.iloc[take[bounds[k] : bounds[k + 1]]]
        yield part


def part_rows(
    name: str, df: pd.DataFrame, key: pd.Index, code: np.ndarray, n_parts: int, referrals: bool
) -> tuple[np.ndarray, np.ndarray, bool]:
    """How :func:`split_tables` cuts one table with a ``customer_id``: the row positions
    grouped by part (``n_parts`` plus the spill part), where each part starts and ends in
    them, and whether any row spilled. ``key``: the customer ids as str, ``code``: their part
    (``cvm.features.part_files`` writes the parts table by table with it)."""
    row_part = _row_parts(df["customer_id"], key, code, n_parts)
    spill = bool((row_part == n_parts).any())
    rows = [row_part]
    if referrals and name == "vehicle_sales" and "referred_by_customer_id" in df.columns:
        ref = _row_parts(df["referred_by_customer_id"], key, code, n_parts)
        rows.append(np.where(ref != row_part, ref, -1))
    take, bounds = _rows_by_part(rows, n_parts + 1)
    return take, bounds, spill


def _row_parts(col: pd.Series, key: pd.Index, code: np.ndarray, spill: int) -> np.ndarray:
    """The part of each row's customer; ``spill`` for a customer ``key`` lacks, -1 without id."""
    pos = positions(ids(col), key)
    out = np.where(pos >= 0, code[np.maximum(pos, 0)], spill)
    return np.where(col.isna().to_numpy(dtype=bool), -1, out)


def _rows_by_part(row_parts: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions grouped by part 0..n-1, each part's in the table's order (a row may be
    in several), and where each part starts and ends in them."""
    part = np.concatenate(row_parts)
    row = np.concatenate([np.arange(len(r)) for r in row_parts])
    keep = part >= 0
    part, row = part[keep], row[keep]
    order = np.lexsort((row, part))
    return row[order], np.searchsorted(part[order], np.arange(n + 1))


def _rows_of(name: str, df: pd.DataFrame | None, want: pd.Index) -> pd.DataFrame | None:
    if df is None or name not in _PER_CUSTOMER or "customer_id" not in df.columns:
        return df
    return df.loc[isin(ids(df["customer_id"]), want)]


def _frame(
    f: dict[str, Any], index: pd.Index, extra_levels: dict[str, list[str]] | None = None
) -> pd.DataFrame:
    cols: dict[str, Any] = {}
    cats = {**{k: list(v) for k, v in CATEGORIES.items()}, **(extra_levels or {})}
    for name, val in f.items():
        if name in cats:
            vals = np.asarray(val, dtype=object)
            if name in (extra_levels or {}):
                vals = np.array([None if x is None else str(x) for x in vals], dtype=object)
            cols[name] = pd.Categorical(vals, categories=cats[name])
        else:
            cols[name] = _float32(val)
    return pd.DataFrame(cols, index=index)


def _float32(val: Any) -> np.ndarray:
    arr = np.array(val, dtype=np.float64)
    arr[~np.isfinite(arr)] = np.nan
    return arr.astype(np.float32)
