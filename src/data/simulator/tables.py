"""Turn the simulated arrays into the contract tables (pyarrow, contract column names/order)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cvm.data import contract
from cvm.data.simulator.history import History
from cvm.data.simulator.population import STORE
from cvm.data.simulator.profile import make_profile
from cvm.data.simulator.sales_leads import SOURCES
from cvm.data.simulator.stores import purchase_stores, visit_stores
from cvm.data.simulator.world import World

MODELS = [
    ["晨风 C3", "晨风 C5", "晨风 S3"],
    ["晨风 C7", "晨风 S5", "晨风 S6"],
    ["晨风 L9", "晨风 S9"],
]
COMPLAINT_CATS = ("price", "wait", "quality", "attitude", "overselling", "other")
FAMILY = ("single", "couple", "young_kids", "teen_kids", "empty_nest")


def ids(prefix: str, nums: np.ndarray, width: int = 8) -> pa.Array:
    """String ids like C00000042; -1 becomes null."""
    nums = np.asarray(nums, np.int64)
    s = pc.utf8_lpad(pc.cast(pa.array(np.maximum(nums, 0)), pa.string()), width=width, padding="0")
    s = pc.binary_join_element_wise(pa.scalar(prefix), s, "")
    return pc.if_else(pa.array(nums < 0), pa.nulls(len(nums), pa.string()), s)


def dates(d: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """datetime64[D] -> timestamp[ms] (midnight), null where not ``valid``."""
    arr = pa.array(np.asarray(d).astype("datetime64[ms]"), pa.timestamp("ms"))
    if valid is None:
        return arr
    return pc.if_else(pa.array(np.asarray(valid, bool)), arr, pa.nulls(len(arr), arr.type))


def cat(values: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    return pa.array(np.array(values, dtype=object)[np.asarray(codes)], pa.string())


def model_names(band: np.ndarray, pick: np.ndarray) -> pa.Array:
    out = np.empty(len(band), dtype=object)
    for b, names in enumerate(MODELS):
        sel = band == b
        out[sel] = np.array(names, dtype=object)[(pick[sel] * len(names)).astype(int)]
    return pa.array(out, pa.string())


def table(name: str, cols: dict[str, pa.Array]) -> pa.Table:
    """A contract table with its columns in contract order (missing columns are omitted)."""
    order = [c for c in contract.table(name).names if c in cols]
    return pa.table({c: cols[c] for c in order})


def _dealer_ids(d: np.ndarray) -> pa.Array:
    return ids("D", np.asarray(d, np.int64) + 1, 2)


def _visit_dealers(w: World, v: dict[str, np.ndarray], key: int) -> tuple[np.ndarray, np.ndarray]:
    """The store of each visit and its service advisor: the customer's own store (after a
    move, the new one) or, now and then, a sister store (``cvm.data.simulator.stores``), with
    an advisor of the store that did the work."""
    tr = w.traits
    c = v["cust"]
    if w.group is None:
        return tr.dealer[c], v["sa"]
    m = w.tl.month_of(v["date"])
    home = np.where(m >= tr.move_month[c], tr.move_to[c], tr.dealer[c]).astype(np.int16)
    store = visit_stores(w.seed, key, w.group, home, w.p)
    slots = np.bincount(w.sa.slot_dealer, minlength=w.dealers)
    first = np.concatenate([[0], np.cumsum(slots)[:-1]])
    other = store != w.sa.slot_dealer[tr.sa_slot[c]]
    u = np.random.default_rng(np.random.SeedSequence([w.seed, key, 1])).random(len(c))
    slot = first[store] + np.floor(u * slots[store]).astype(np.int64)
    sa = np.where(other, w.sa.slot_staff[slot, np.clip(m, 0, w.tl.n_months - 1)], v["sa"])
    return store, sa


def build_tables(
    w: World, h: History, rng: np.random.Generator
) -> tuple[dict[str, pa.Table], pa.Table, pa.Table, pa.Table | None]:
    """All contract tables up to ``end``, the horizon visits (truth: no contacts), the lead
    outcomes, and the horizon visits with the store's campaigns going on (if simulated)."""
    tl, p, tr = w.tl, w.p, w.traits
    end = tl.end_day
    rec = h.records
    n = tr.n
    wid = max(7, len(str(n * 10)))
    cid = lambda x: ids("C", x, wid)  # noqa: E731
    out: dict[str, pa.Table] = {}

    # visits, split at end
    v = rec["visits"]
    in_data = v["date"] <= end
    sa_first = 1

    stores = {406: _visit_dealers(w, v, 406)}

    def visit_cols(
        sel: np.ndarray, v: dict[str, np.ndarray] = v, key: int = 406
    ) -> dict[str, pa.Array]:
        store, sa = stores[key]
        return {
            "visit_id": ids("RO", v["row"][sel], 10),
            "customer_id": cid(v["cust"][sel]),
            "vehicle_id": ids("V", v["veh"][sel], wid),
            "dealer_id": _dealer_ids(store[sel]),
            "visit_date": dates(v["date"][sel]),
            "amount": pa.array(v["amount"][sel], pa.float64()),
            "labour_amount": pa.array(v["labour"][sel], pa.float64()),
            "parts_amount": pa.array(v["parts"][sel], pa.float64()),
            "visit_type": cat(contract.VISIT_TYPES, v["vtype"][sel]),
            "payer": cat(contract.PAYERS, v["payer"][sel]),
            "mileage_km": pa.array(v["mileage"][sel].astype(np.float64)),
            "service_advisor_id": ids("SA", sa[sel] + sa_first, 5),
            "wait_minutes": pa.array(v["wait"][sel].astype(np.float64)),
            "quote_items_offered": pa.array(v["offered"][sel].astype(np.int64)),
            "quote_items_accepted": pa.array(v["accepted"][sel].astype(np.int64)),
        }

    out["visits"] = table("visits", visit_cols(in_data))
    truth_visits = table("visits", visit_cols(~in_data))
    bau = (h.bau_records or {}).get("visits")
    if bau is not None:
        stores[407] = _visit_dealers(w, bau, 407)
    truth_bau = (
        None
        if bau is None
        else table("visits", visit_cols(np.ones(len(bau["row"]), bool), bau, 407))
    )

    # customers
    entry_day = tl.day_in_month(tr.entry, tr.entry_u)
    dist_obs = tr.distance * np.exp(
        p["population"]["distance_observed_noise"] * rng.standard_normal(n)
    )
    dist_ok = rng.random(n) >= 0.05
    cust_cols = {
        "customer_id": cid(np.arange(n)),
        "dealer_id": _dealer_ids(tr.dealer),
        "created_date": dates(entry_day),
        "customer_type": pa.array(np.where(tr.company, "company", "individual"), pa.string()),
        "distance_km": pc.if_else(
            pa.array(dist_ok),
            pa.array(np.round(dist_obs, 1).astype(np.float64)),
            pa.nulls(n, pa.float64()),
        ),
    }
    cust_cols.update(make_profile(rng, tr, p, tl.end.year))
    out["customers"] = table("customers", cust_cols)

    # vehicles: first vehicles plus trade-in vehicles bought by end
    vx = h.vehicles
    buy0 = tl.day_in_month(
        tr.entry - tr.age0_months, np.where(tr.kind == STORE, tr.entry_u, rng.random(n))
    )
    pick0 = rng.random(n)
    keep_x = vx["date"] <= end if vx else np.zeros(0, bool)
    veh = np.concatenate([np.arange(n), vx["veh"][keep_x]]) if vx else np.arange(n)
    vcust = np.concatenate([np.arange(n), vx["cust"][keep_x]]) if vx else np.arange(n)
    vband = np.concatenate([tr.band0, vx["band"][keep_x]]) if vx else tr.band0
    vbuy = np.concatenate([buy0, vx["date"][keep_x]]) if vx else buy0
    vpick = np.concatenate([pick0, vx["pick"][keep_x]]) if vx else pick0
    vstore = (
        np.concatenate([tr.kind == STORE, np.ones(int(keep_x.sum()), bool)])
        if vx
        else tr.kind == STORE
    )
    vm = p["vehicles"]
    wmonths = int(vm["warranty_months"])
    buy_m = vbuy.astype("datetime64[M]")
    day_off = vbuy - buy_m.astype("datetime64[D]")
    w_end = (buy_m + wmonths).astype("datetime64[D]") + day_off
    ins_end = _insurance_end(h, tl, buy_m, vcust, veh).astype("datetime64[D]") + day_off
    out["vehicles"] = table(
        "vehicles",
        {
            "vehicle_id": ids("V", veh, wid),
            "customer_id": cid(vcust),
            "model": model_names(vband, vpick),
            "price_band": cat(tuple(vm["bands"]), vband),
            "purchase_date": dates(vbuy),
            "sold_by_store": pa.array(vstore),
            "warranty_end_date": dates(w_end),
            "warranty_km": pa.array(np.full(len(veh), float(vm["warranty_km"]))),
            "insurance_end_date": dates(ins_end),
            "service_interval_km": pa.array(np.array(vm["interval_km"], float)[vband]),
            "service_interval_months": pa.array(np.array(vm["interval_months"], float)[vband]),
        },
    )

    fu_rng = rng.spawn(1)[0]  # own stream: the other tables' draws stay unchanged
    out["leads"], out["vehicle_sales"], truth_leads = _leads_and_sales(w, h, rng, cid, wid)
    out["lead_followups"] = lead_followups(fu_rng, out["leads"], wid)
    out["campaign_contacts"] = _contacts(w, rec.get("contacts"), cid)
    out["surveys"], out["complaints"] = _feedback(rec, end, cid)
    out["staff"] = _staff(w)
    return out, truth_visits, truth_leads, truth_bau


def _leads_and_sales(w: World, h: History, rng: np.random.Generator, cid, wid: int):
    tl, p, tr, pool = w.tl, w.p, w.traits, w.pool
    end = tl.end_day
    L = len(pool)
    lead_cust = np.full(L, -1, np.int64)
    lead_cust[w.won_idx] = np.arange(len(w.won_idx))
    closed_by_end = pool.closed <= end
    status = np.where(closed_by_end, np.where(pool.won, 1, 2), 0)
    elapsed = np.clip((np.minimum(pool.closed, end) - pool.created).astype(np.int64), 0, None)
    dur = np.maximum((pool.closed - pool.created).astype(np.int64), 1)
    fu = np.where(
        closed_by_end, pool.followups, np.round(pool.followups * np.clip(elapsed / dur, 0, 1))
    ).astype(np.int64)
    last_fu = pool.created + (elapsed * rng.uniform(0.6, 1.0, L)).astype(np.int64).astype(
        "timedelta64[D]"
    )
    td_date = pool.created + pool.td_days.astype("timedelta64[D]")
    td_seen = pool.test_drive & (td_date <= np.minimum(pool.closed, end))
    # the consultant's stage from what has happened by the as-of date (test drive seen, follow-ups
    # so far) plus their own judgement (noise); never from the true conversion probability
    st_cfg = p["sales"]["stage"]
    score = st_cfg["test_drive"] * td_seen + st_cfg["followup"] * fu + pool.stage_noise
    stage = np.where(pool.won & closed_by_end, 0, np.where(score > st_cfg["intent_above"], 1, 2))
    first_slot = np.concatenate([[0], np.cumsum(w.sc_slots)[:-1]])
    slot = first_slot[pool.dealer] + (pool.sc_pick * w.sc_slots[pool.dealer]).astype(np.int64)
    sc = w.sc.slot_staff[slot, tl.month_of(pool.created)]
    reasons = np.array(p["sales"]["defeat_reasons"], dtype=object)

    # trade-in sales and their existing-owner leads
    ti = h.records.get("trade_ins")
    n_ti = len(ti["cust"]) if ti else 0
    ti_lead = np.arange(L, L + n_ti)
    if n_ti and w.group is not None:  # service at one store, buy at another (now and then)
        c = ti["cust"]
        now = np.where(tl.month_of(ti["date"]) >= tr.move_month[c], tr.move_to[c], tr.dealer[c])
        ti_store = purchase_stores(w.seed, w.group, now, w.p)
    else:
        ti_store = tr.dealer[ti["cust"]] if n_ti else np.zeros(0, np.int16)
    lead_cols = {
        "lead_id": ids("L", np.concatenate([np.arange(L), ti_lead]), wid + 1),
        "customer_id": cid(
            np.concatenate([lead_cust, ti["cust"] if n_ti else np.zeros(0, np.int64)])
        ),
        "dealer_id": _dealer_ids(np.concatenate([pool.dealer, ti_store])),
        "created_date": dates(
            np.concatenate(
                [
                    pool.created,
                    (ti["date"] - ti["lag"].astype("timedelta64[D]")) if n_ti else pool.created[:0],
                ]
            )
        ),
        "source": cat(
            SOURCES, np.concatenate([pool.source, np.full(n_ti, SOURCES.index("existing_owner"))])
        ),
        "model_of_interest": model_names(
            np.concatenate([pool.band, ti["band"] if n_ti else []]).astype(np.int64),
            np.concatenate([pool.model_pick, ti["pick"] if n_ti else []]),
        ),
        "budget": pa.array(
            np.concatenate(
                [
                    pool.budget,
                    np.array(p["vehicles"]["band_price"], float)[ti["band"]] if n_ti else [],
                ]
            )
        ),
        "followups": pa.array(np.concatenate([fu, np.full(n_ti, 2)]).astype(np.int64)),
        "last_followup_date": dates(
            np.concatenate([last_fu, ti["date"] if n_ti else last_fu[:0]]),
            np.concatenate([fu > 0, np.ones(n_ti, bool)]),
        ),
        "test_drive": pa.array(np.concatenate([td_seen, np.zeros(n_ti, bool)])),
        "test_drive_date": dates(
            np.concatenate([td_date, td_date[:n_ti] if n_ti <= L else np.resize(td_date, n_ti)]),
            np.concatenate([td_seen, np.zeros(n_ti, bool)]),
        ),
        "order_stage": cat(
            contract.ORDER_STAGES, np.concatenate([stage, np.zeros(n_ti, np.int64)])
        ),
        "status": cat(contract.LEAD_STATUS, np.concatenate([status, np.ones(n_ti, np.int64)])),
        "closed_date": dates(
            np.concatenate([pool.closed, ti["date"] if n_ti else pool.closed[:0]]),
            np.concatenate([closed_by_end, np.ones(n_ti, bool)]),
        ),
        "defeat_reason": pc.if_else(
            pa.array(np.concatenate([status == 2, np.zeros(n_ti, bool)])),
            pa.array(
                np.concatenate([reasons[pool.defeat], np.full(n_ti, "", dtype=object)]), pa.string()
            ),
            pa.nulls(L + n_ti, pa.string()),
        ),
        "sales_consultant_id": ids("SC", np.concatenate([sc, np.full(n_ti, -1)]) + 1, 5),
    }
    leads = table("leads", lead_cols)

    # sales to new customers (won leads) and trade-ins
    wi = w.won_idx
    nw = len(wi)
    price_of = np.array(p["vehicles"]["band_price"], float)
    referred = _referrers(rng, tr, nw, pool.source[wi] == SOURCES.index("referral"))
    sale_veh = np.concatenate([np.arange(nw), ti["veh"] if n_ti else []]).astype(np.int64)
    sale_band = np.concatenate([pool.band[wi], ti["band"] if n_ti else []]).astype(np.int64)
    sale_day = np.concatenate([pool.closed[wi], ti["date"] if n_ti else pool.closed[:0]])
    sale_cust = np.concatenate([np.arange(nw), ti["cust"] if n_ti else []]).astype(np.int64)
    pick = np.concatenate([pool.model_pick[wi], ti["pick"] if n_ti else []])
    sales = table(
        "vehicle_sales",
        {
            "sale_id": ids("S", np.arange(len(sale_veh)), wid),
            "customer_id": cid(sale_cust),
            "vehicle_id": ids("V", sale_veh, wid),
            "dealer_id": _dealer_ids(np.concatenate([tr.dealer[:nw], ti_store])),
            "sale_date": dates(sale_day),
            "model": model_names(sale_band, pick),
            "price": pa.array(
                np.round(
                    price_of[sale_band] * np.exp(0.12 * rng.standard_normal(len(sale_veh))), -2
                )
            ),
            "trade_in_vehicle_id": ids(
                "V",
                np.concatenate([np.full(nw, -1), ti["old"] if n_ti else []]).astype(np.int64),
                wid,
            ),
            "referred_by_customer_id": cid(np.concatenate([referred, np.full(n_ti, -1)])),
            "sales_consultant_id": ids("SC", np.concatenate([sc[wi], np.full(n_ti, -1)]) + 1, 5),
            "lead_id": ids("L", np.concatenate([wi, ti_lead]), wid + 1),
        },
    )
    # truth: leads open at end
    open_ = ~closed_by_end
    h_end = (np.datetime64(tl.end, "M") + tl.horizon + 1).astype("datetime64[D]") - np.timedelta64(
        1, "D"
    )
    conv = pool.won & (pool.closed <= h_end)
    tl_leads = pa.table(
        {
            "lead_id": ids("L", np.flatnonzero(open_), wid + 1),
            "converted": pa.array(conv[open_]),
            "closed_date": dates(pool.closed[open_], (pool.closed <= h_end)[open_]),
            "p_convert": pa.array(pool.p_convert[open_].astype(np.float64)),
        }
    )
    return leads, sales, tl_leads


def lead_followups(rng: np.random.Generator, leads: pa.Table, wid: int) -> pa.Table:
    """Follow-up events consistent with the leads table: ``followups`` rows per lead, the last
    on ``last_followup_date``, the others uniform between first contact and that date."""
    n = leads["followups"].to_numpy(zero_copy_only=False).astype(np.int64)
    first = leads["created_date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
    last = leads["last_followup_date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
    ok = (n > 0) & ~np.isnat(last)
    n = np.where(ok, n, 0)
    idx = np.repeat(np.arange(len(n)), n)
    is_last = np.zeros(len(idx), bool)
    is_last[np.cumsum(n)[n > 0] - 1] = True
    span = np.maximum((last - first).astype(np.int64), 0)[idx]
    off = np.where(is_last, span, np.floor(rng.random(len(idx)) * (span + 1)).astype(np.int64))
    day = first[idx] + off.astype("timedelta64[D]")
    order = np.lexsort((day, idx))
    idx, day = idx[order], day[order]
    ch = rng.choice(len(contract.CHANNELS), size=len(idx), p=[0.45, 0.05, 0.3, 0.05, 0.0, 0.15])
    return table(
        "lead_followups",
        {
            "followup_id": ids("F", np.arange(len(idx)), wid + 2),
            "lead_id": leads["lead_id"].take(pa.array(idx)),
            "followup_date": dates(day),
            "channel": cat(contract.CHANNELS, ch),
        },
    )


def _referrers(rng: np.random.Generator, tr, nw: int, is_ref: np.ndarray) -> np.ndarray:
    """For referral buyers: the most satisfied of three random customers who entered earlier."""
    order = np.argsort(tr.entry, kind="stable")
    sorted_entry = tr.entry[order]
    before = np.searchsorted(sorted_entry, tr.entry[:nw], side="left")
    cand = order[
        np.minimum((rng.random((nw, 3)) * before[:, None]).astype(np.int64), len(order) - 1)
    ]
    best = cand[np.arange(nw), np.argmax(tr.base_sat[cand], axis=1)]
    return np.where(is_ref & (before > 0), best, -1).astype(np.int64)


def _contacts(w: World, c: dict[str, np.ndarray] | None, cid) -> pa.Table:
    if not c:
        c = {
            "cust": np.zeros(0, np.int64),
            "camp": np.zeros(0, np.int64),
            "date": np.zeros(0, "datetime64[D]"),
            "target": np.zeros(0, bool),
        }
    costs = np.array(w.p["campaign_costs"], float)
    k = len(c["cust"])
    return table(
        "campaign_contacts",
        {
            "contact_id": ids("K", np.arange(k), 9),
            "customer_id": cid(c["cust"]),
            "campaign": cat(tuple(w.p["campaign_ids"]), c["camp"]),
            "contact_date": dates(c["date"]),
            "channel": cat(tuple(w.p["campaign_channels"]), c["camp"]),
            "group": pa.array(np.where(c["target"], "target", "control"), pa.string()),
            "cost": pa.array(np.where(c["target"], costs[c["camp"]], 0.0)),
        },
    )


def _feedback(rec: dict, end: np.datetime64, cid) -> tuple[pa.Table, pa.Table]:
    s = rec.get("surveys")
    keep = s["date"] <= end
    surveys = table(
        "surveys",
        {
            "survey_id": ids("SV", np.arange(int(keep.sum())), 9),
            "customer_id": cid(s["cust"][keep]),
            "visit_id": ids("RO", s["row"][keep], 10),
            "survey_date": dates(s["date"][keep]),
            "satisfaction": pa.array(s["sat"][keep].astype(np.float64)),
            "nps": pa.array(s["nps"][keep].astype(np.float64)),
        },
    )
    c = rec.get(
        "complaints",
        {
            "cust": np.zeros(0, np.int64),
            "row": np.zeros(0, np.int64),
            "date": np.zeros(0, "datetime64[D]"),
            "cat": np.zeros(0, np.int64),
            "severity": np.zeros(0, np.int64),
            "resolved": np.zeros(0, "datetime64[D]"),
        },
    )
    keep = c["date"] <= end
    complaints = table(
        "complaints",
        {
            "complaint_id": ids("CP", np.arange(int(keep.sum())), 9),
            "customer_id": cid(c["cust"][keep]),
            "visit_id": ids("RO", c["row"][keep], 10),
            "complaint_date": dates(c["date"][keep]),
            "category": cat(COMPLAINT_CATS, c["cat"][keep]),
            "severity": pa.array(c["severity"][keep].astype(np.int64)),
            "resolved_date": dates(c["resolved"][keep], c["resolved"][keep] <= end),
        },
    )
    return surveys, complaints


def _staff(w: World) -> pa.Table:
    tl = w.tl
    parts = []
    for roster, prefix in ((w.sa, "SA"), (w.sc, "SC")):
        keep = roster.hire_month <= tl.end_month
        idx = np.flatnonzero(keep)
        hire = tl.day_in_month(roster.hire_month[idx], np.full(len(idx), 0.1))
        lm = roster.leave_month[idx]
        left = (lm >= 0) & (lm <= tl.end_month)
        leave = tl.day_in_month(np.where(left, lm, tl.end_month), np.full(len(idx), 0.05))
        parts.append(
            table(
                "staff",
                {
                    "staff_id": ids(prefix, idx + 1, 5),
                    "role": pa.array([roster.role] * len(idx), pa.string()),
                    "dealer_id": _dealer_ids(roster.slot_dealer[roster.staff_slot[idx]]),
                    "hire_date": dates(hire),
                    "leave_date": dates(leave, left),
                },
            )
        )
    return pa.concat_tables(parts)


def _insurance_end(
    h: Any, tl: Any, buy_m: np.ndarray, vcust: np.ndarray, veh: np.ndarray
) -> np.ndarray:
    """The end month of the latest insurance policy the store sold for each vehicle (the
    store's record): a year after the purchase (the first policy, sold with the car) or after
    the customer's latest renewal through the store (renewals happen at anniversaries); a
    policy renewed elsewhere leaves the date in the past. A vehicle no longer current: its
    next anniversary after ``end``."""
    from cvm.data.simulator.history import NO_RENEWAL

    years_owned = (np.datetime64(tl.end, "M") - buy_m).astype(np.int64) // 12 + 1
    out = buy_m + 12 * years_owned
    ren = getattr(h, "renewed_at_end", None)
    if ren is None:
        return out
    r = ren[vcust]
    ren_m = tl.abs_month(np.where(r == NO_RENEWAL, 0, r)).astype("datetime64[M]")
    last = np.where((r != NO_RENEWAL) & (ren_m >= buy_m), ren_m, buy_m)
    return np.where(h.veh_at_end[vcust] == veh, last + 12, out)
