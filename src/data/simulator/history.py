"""The monthly loop: runs the kernel from the first simulated month to end + H and records
visits, surveys, complaints, campaign contacts and trade-in sales as flat numpy arrays."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from cvm.data.simulator.campaigns import select_month
from cvm.data.simulator.dynamics import Draws, State, init_state, step
from cvm.data.simulator.population import ELSEWHERE
from cvm.data.simulator.world import World

log = logging.getLogger("cvm.simulator")

# visit_type codes follow contract.VISIT_TYPES, payer codes contract.PAYERS
MAINT, REPAIR, ACCIDENT, WARRANTY, FIRST, OTHER = range(6)
CUSTOMER, WARRANTY_P, INSURER, FREE = range(4)


@dataclass
class Log:
    """Growing lists of per-month record arrays, concatenated by ``finish``."""

    parts: dict[str, dict[str, list[np.ndarray]]] = field(default_factory=dict)

    def add(self, table: str, **cols: np.ndarray) -> None:
        t = self.parts.setdefault(table, {})
        for k, v in cols.items():
            t.setdefault(k, []).append(np.asarray(v))

    def finish(self) -> dict[str, dict[str, np.ndarray]]:
        return {
            t: {k: np.concatenate(v) for k, v in cols.items()} for t, cols in self.parts.items()
        }


NO_RENEWAL = -(10**6)  # renewed_at of a customer who never renewed through the store


@dataclass
class History:
    records: dict[str, dict[str, np.ndarray]]
    snapshot: State  # state after the last month of the data
    veh_at_end: np.ndarray  # current vehicle of each customer at end
    vehicles: dict[str, np.ndarray]
    carry_at_end: np.ndarray | None = None  # campaign contacted in the month of end (-1 none)
    # month of each customer's latest insurance renewal through the store by end (NO_RENEWAL
    # none): the store's record of the policy (vehicles.insurance_end_date)
    renewed_at_end: np.ndarray | None = None
    bau_records: dict[str, dict[str, np.ndarray]] | None = None  # horizon with campaigns going on


def _visit_records(
    w: World,
    rng: np.random.Generator,
    st: State,
    mo,
    m: int,
    cur_veh: np.ndarray,
    row0: int,
    out: Log,
    with_feedback: bool,
) -> tuple[int, np.ndarray]:
    """Materialize the month's visits (and their surveys/complaints); returns rows, spend."""
    K, tr, p, tl = w.kernel, w.traits, w.p, w.tl
    a, sv = p["amounts"], p["service"]
    n = tr.n
    age_y = (m - st.purchase).astype(np.float32) / 12.0
    med = K.medians(st, age_y, mo.in_warranty, m)
    sig = K.sigmas()
    acc = K.accept_p(st)
    spend = np.zeros(n, np.float32)
    rows = row0
    for k in range(4):
        idx = np.flatnonzero(mo.visit[k])
        if len(idx) == 0:
            continue
        paid = mo.paid[k, idx]
        zz = rng.standard_normal((len(idx), 2)).astype(np.float32)
        amt = med[k, idx] * np.exp(sig[k] * zz[:, 0])
        offered = mo.offered[k, idx]
        accepted = rng.binomial(offered, acc[idx]).astype(np.int16)
        amt += accepted * a["item_median"] * np.exp(a["item_sigma"] * zz[:, 1])
        bf = K.band_f[st.band[idx]]
        if k == 0:
            first = mo.first[idx]
            vtype = np.where(first, FIRST, MAINT)
            payer = np.where(first, FREE, CUSTOMER)
            amt = np.where(first, 0.0, amt)
            lab = 0.35
        elif k == 1:
            vtype = np.where(paid, REPAIR, WARRANTY)
            payer = np.where(paid, CUSTOMER, WARRANTY_P)
            amt = np.where(
                paid,
                amt,
                a["warranty_repair_median"] * bf * np.exp(a["warranty_repair_sigma"] * zz[:, 0]),
            )
            lab = 0.4
        elif k == 2:
            vtype = np.full(len(idx), ACCIDENT)
            payer = np.where(paid, CUSTOMER, INSURER)
            amt = np.where(
                paid, amt, a["accident_median"] * bf * np.exp(a["accident_sigma"] * zz[:, 0])
            )
            lab = 0.45
        else:
            vtype = np.full(len(idx), OTHER)
            payer = np.full(len(idx), CUSTOMER)
            lab = 0.2
        amt = np.round(amt.astype(np.float64), 2)
        lshare = np.clip(lab * np.exp(0.2 * zz[:, 1]), 0.05, 0.9)
        labour = np.round(amt * lshare, 2)
        spend[idx] += np.where(payer == CUSTOMER, amt, 0).astype(np.float32)
        u = rng.random((len(idx), 4))
        entry_visit = (k == 0) & (tr.entry[idx] == m) & (tr.kind[idx] == ELSEWHERE)
        day = tl.day_in_month(np.full(len(idx), m), np.where(entry_visit, tr.entry_u[idx], u[:, 0]))
        ids = np.arange(rows, rows + len(idx), dtype=np.int64)
        rows += len(idx)
        out.add(
            "visits",
            row=ids,
            cust=idx.astype(np.int32),
            veh=cur_veh[idx],
            date=day,
            vtype=vtype.astype(np.int8),
            payer=payer.astype(np.int8),
            amount=amt,
            labour=labour,
            parts=np.round(amt - labour, 2),
            mileage=np.round(mo.odo[idx] * (1 + 0.01 * zz[:, 1])),
            sa=w.sa.slot_staff[tr.sa_slot[idx], m],
            wait=np.round(mo.wait[k, idx]),
            offered=np.where(paid, offered, 0).astype(np.int16),
            accepted=np.where(paid, accepted, 0).astype(np.int16),
        )
        if not with_feedback:
            continue
        bad = mo.bad[k, idx]
        sat_latent = tr.base_sat[idx] + st.sat[idx]
        surv = u[:, 1] < sv["survey_share"]
        s_idx = np.flatnonzero(surv)
        noise = rng.standard_normal((len(s_idx), 2))
        out.add(
            "surveys",
            cust=idx[s_idx].astype(np.int32),
            row=ids[s_idx],
            date=day[s_idx] + (1 + (u[s_idx, 2] * 7).astype(np.int64)).astype("timedelta64[D]"),
            sat=np.clip(
                np.round(3.9 + 0.6 * sat_latent[s_idx] - 1.0 * bad[s_idx] + 0.5 * noise[:, 0]), 1, 5
            ),
            nps=np.clip(
                np.round(7.6 + 1.3 * sat_latent[s_idx] - 2.5 * bad[s_idx] + 1.5 * noise[:, 1]),
                0,
                10,
            ),
        )
        c_idx = np.flatnonzero(mo.complaint[k, idx])
        if len(c_idx):
            long_wait = mo.wait[k, idx[c_idx]] > K.wait_thr[idx[c_idx]]
            oversold = mo.offered[k, idx[c_idx]] >= sv["oversell_items"]
            other = rng.choice(np.array([2, 3, 0, 5]), size=len(c_idx), p=[0.4, 0.3, 0.2, 0.1])
            cat = np.where(long_wait, 1, np.where(oversold, 4, other)).astype(np.int8)
            cday = day[c_idx] + rng.integers(0, 6, len(c_idx)).astype("timedelta64[D]")
            res = cday + np.exp(1.5 + 0.8 * rng.standard_normal(len(c_idx))).astype(
                np.int64
            ).astype("timedelta64[D]")
            out.add(
                "complaints",
                cust=idx[c_idx].astype(np.int32),
                row=ids[c_idx],
                date=cday,
                cat=cat,
                severity=(
                    1 + (rng.random(len(c_idx)) < 0.35) + (rng.random(len(c_idx)) < 0.12)
                ).astype(np.int8),
                resolved=res,
            )
            s2 = rng.random(len(c_idx)) < sv["survey_complaint_share"]
            noise = rng.standard_normal((int(s2.sum()), 2))
            out.add(
                "surveys",
                cust=idx[c_idx][s2].astype(np.int32),
                row=np.full(int(s2.sum()), -1, np.int64),
                date=res[s2] + np.timedelta64(2, "D"),
                sat=np.clip(np.round(3.0 + 0.6 * sat_latent[c_idx][s2] + 0.6 * noise[:, 0]), 1, 5),
                nps=np.clip(np.round(5.5 + 1.3 * sat_latent[c_idx][s2] + 1.5 * noise[:, 1]), 0, 10),
            )
    return rows, spend


@dataclass
class _Loop:
    """What the monthly loop carries from one month to the next, besides the kernel state."""

    st: State
    cur_veh: np.ndarray  # current vehicle of each customer
    carry_c: np.ndarray  # campaign contacted last month (-1 none), for the carry-over
    n_veh: int
    renewed_at: np.ndarray  # month of the latest insurance renewal through the store
    rows: int = 0

    def copy(self) -> _Loop:
        return _Loop(
            self.st.copy(),
            self.cur_veh.copy(),
            self.carry_c.copy(),
            self.n_veh,
            self.renewed_at.copy(),
            self.rows,
        )


def _month(
    w: World,
    m: int,
    lp: _Loop,
    rngs: tuple[np.random.Generator, ...],
    out: Log,
    veh_extra: Log,
    campaigns: bool,
) -> None:
    """Advance ``lp`` by month ``m``: campaign selection (when ``campaigns``), the kernel step,
    the visit records (with feedback only inside the data window) and trade-ins."""
    tl, p = w.tl, w.p
    rng_dyn, rng_rec, rng_camp, rng_ren = rngs
    st = lp.st
    in_data = tl.start_month <= m <= tl.end_month
    camp = lp.carry_c.copy()
    weight = np.where(lp.carry_c >= 0, p["campaigns"]["carryover"], 0.0).astype(np.float32)
    resting = (lp.carry_c >= 0) if p["campaigns"]["rest_month_after_contact"] else None
    lp.carry_c[:] = -1
    if campaigns:
        cust, cidx, target = select_month(rng_camp, st, w.traits, m, p, w.kernel.int_mo, resting)
        day = tl.month_start(np.full(len(cust), m)) + rng_camp.integers(
            0, p["eligibility"]["contact_day_max"], len(cust)
        ).astype("timedelta64[D]")
        out.add("contacts", cust=cust.astype(np.int32), camp=cidx, date=day, target=target)
        t = cust[target]
        camp[t] = cidx[target]
        weight[t] = 1.0
        lp.carry_c[t] = cidx[target]
    draws = Draws.new(rng_dyn, w.traits.n)
    mo = step(w.kernel, st, m, draws, camp if (camp >= 0).any() else None, weight)
    if m >= tl.start_month:
        lp.rows, spend = _visit_records(
            w, rng_rec, st, mo, m, lp.cur_veh, lp.rows, out, with_feedback=in_data
        )
    elif m >= tl.start_month - 12:  # spend feeds the campaign rules' 12-month average
        _, spend = _visit_records(w, rng_rec, st, mo, m, lp.cur_veh, 0, Log(), False)
    else:
        spend = np.zeros(w.traits.n, np.float32)
    st.ema_spend = st.ema_spend * (11.0 / 12.0) + spend
    # insurance renewals through the store (own stream: the other draws stay unchanged)
    assert mo.exp_renewal is not None  # step() always sets it
    lp.renewed_at[rng_ren.random(w.traits.n) < mo.exp_renewal] = m
    traded = np.flatnonzero(mo.traded)
    if len(traded):
        new_ids = np.arange(lp.n_veh, lp.n_veh + len(traded), dtype=np.int64)
        lp.n_veh += len(traded)
        u = rng_rec.random((len(traded), 3))
        day = tl.day_in_month(np.full(len(traded), m), u[:, 0])
        veh_extra.add(
            "vehicles",
            veh=new_ids,
            cust=traded.astype(np.int32),
            band=st.band[traded],
            date=day,
            pick=u[:, 1],
        )
        if in_data:
            out.add(
                "trade_ins",
                cust=traded.astype(np.int32),
                veh=new_ids,
                old=lp.cur_veh[traded],
                date=day,
                band=st.band[traded],
                pick=u[:, 1],
                lag=(7 + u[:, 2] * 40).astype(np.int64),
            )
        lp.cur_veh[traded] = new_ids


def _rngs(seed: int, *keys: int) -> tuple[np.random.Generator, ...]:
    return tuple(np.random.default_rng(np.random.SeedSequence([seed, k])) for k in keys)


def run_history(
    w: World, progress: bool = True, business_as_usual: bool = True, until_end: bool = False
) -> History:
    """Simulate every month up to end + H; the horizon runs without campaigns.

    ``until_end`` stops at ``end`` (the state the oracles start from; no future rows). With
    ``business_as_usual`` the horizon is simulated a second time from the same state at
    ``end``, on its own random streams, with the store's campaigns continuing as before: the
    future a model trained on this history predicts (``bau_records``).
    """
    tl, p, tr = w.tl, w.p, w.traits
    rngs = _rngs(w.seed, 101, 102, 103, 104)
    n = tr.n
    lp = _Loop(
        init_state(tr, p),
        np.arange(n, dtype=np.int64),
        np.full(n, -1, np.int16),
        n,
        np.full(n, NO_RENEWAL, np.int32),
    )
    veh_extra = Log()
    out = Log()
    at_end: _Loop | None = None
    camp_first = tl.end_month - p["campaigns"]["history_months"] + 1
    for m in tqdm(
        range(tl.n_months), desc="simulating months", disable=not progress, mininterval=2.0
    ):
        _month(w, m, lp, rngs, out, veh_extra, campaigns=camp_first <= m <= tl.end_month)
        if m == tl.end_month:
            at_end = lp.copy()
            if until_end:
                break
    assert at_end is not None
    bau = None
    if business_as_usual:
        blp, bout = at_end.copy(), Log()
        brngs = _rngs(w.seed, 111, 112, 113, 114)
        for m in range(tl.end_month + 1, tl.n_months):
            _month(w, m, blp, brngs, bout, Log(), campaigns=m >= camp_first)
        bau = bout.finish()
    vex = veh_extra.finish().get("vehicles", {})
    log.info("simulated %d customers over %d months: %d visit rows", n, tl.n_months, lp.rows)
    return History(
        records=out.finish(),
        snapshot=at_end.st,
        veh_at_end=at_end.cur_veh,
        vehicles=vex,
        carry_at_end=at_end.carry_c,
        bau_records=bau,
        renewed_at_end=at_end.renewed_at,
    )
