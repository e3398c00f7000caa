"""Oracle expectations as of ``end``: P(no paid visit), expected paid spend, campaign uplift.

Method: conditional Monte Carlo over the exact monthly kernel, started from each customer's
true state at ``end``, with common random numbers across scenarios (no contact, and each
catalogue campaign contacted in the first horizon month). Three Rao-Blackwellizations:
- the stay/defect transitions (defection at a decision, background defection, a campaign's
  sleeping-dog defection, win-back) are never sampled: each path carries two weighted
  particles per customer, "at the store" and "defected", and the monthly transition
  probabilities move probability mass between them exactly (forward recursion over the
  at-store/defected state); the particle's other state (satisfaction, service counters...)
  is the one of the mass it came from, picked with probability proportional to mass (which
  keeps every estimate unbiased);
- P(no paid visit in H) multiplies, month by month, P(no paid visit | particle state) into the
  particle's mass (paid visits are never sampled: importance sampling);
- expected spend sums, month by month, the conditional expected paid spend given the particle
  state (closed-form lognormal means), weighted by the particle's mass.
What is left random: unpaid visits and their experience, paid visits in the spend pass,
trade-ins, and the win-back after a good visit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields

import numpy as np
from tqdm import tqdm

from cvm.data.simulator.dynamics import Draws, Kernel, State, hazard, step
from cvm.data.simulator.effects import trait_matrix
from cvm.data.simulator.world import World

log = logging.getLogger("cvm.simulator")


@dataclass
class Oracle:
    p_no_paid: np.ndarray  # (S, n): scenario 0 = no contact, s = campaign s - 1
    spend: np.ndarray  # (S, n)
    se_p: np.ndarray  # (S, n) Monte Carlo standard errors
    se_spend: np.ndarray
    se_uplift: np.ndarray  # (C, n) standard error of the uplift (paired, CRN)
    se_incr: np.ndarray
    customers: np.ndarray | None = None  # indices of the customers (None = all)
    # (2, C, n) incremental value (spend + sale margin) from two disjoint halves of the
    # campaign paths, so a plan chosen on one half can be scored on the other (no winner's
    # curse); None with < 2 paths
    incr_halves: np.ndarray | None = None
    # (C, n) incremental margin of trade-in vehicle sales (sale revenue x sale_margin)
    incr_sale: np.ndarray | None = None
    # (C, n) incremental commission of insurance renewals (renewals x insurance_commission)
    incr_commission: np.ndarray | None = None
    # (n,) expected gross margin over H, every payer (no contact), and its standard error
    value: np.ndarray | None = None
    se_value: np.ndarray | None = None


def _merge(pick_a: np.ndarray, a: State, b: State) -> State:
    return State(
        **{f.name: np.where(pick_a, getattr(a, f.name), getattr(b, f.name)) for f in fields(State)}
    )


N_CV = 19  # control variates: paid maintenance by horizon month (x band factor), other kinds,
# trade-ins by horizon quarter (a sampled trade-in resets the vehicle's service cycle)


def _scenario(
    K: Kernel,
    snap: State,
    months: range,
    draws: list[Draws],
    camps: list[tuple[np.ndarray | None, np.ndarray | None]],
    suppress: bool,
    cv: np.ndarray | None = None,
    sales: np.ndarray | None = None,
    value: np.ndarray | None = None,
    renewals: np.ndarray | None = None,
) -> np.ndarray:
    """One path of one scenario: P(no paid visit) (``suppress``) or expected paid spend.

    ``cv`` (spend only, (N_CV, n), filled): martingale control variates, sums of
    mass x (paid visit sampled - its probability), zero in expectation. ``sales`` (spend
    only, (n,), filled): the expected revenue of trade-in vehicle sales on the path. ``value``
    (spend only, (n,), filled): the expected gross margin of every payer's visits.
    ``renewals`` (spend only, (n,), filled): the expected insurance renewals at the store.
    """
    n = K.tr.n
    bf = K.band_f[snap.band]
    sa, sb = snap.copy(), snap.copy()
    ma, mb = np.ones(n, np.float64), np.zeros(n, np.float64)
    acc = np.zeros(n, np.float64)
    for h, m in enumerate(months):
        camp, w = camps[h] if h < len(camps) else (None, None)
        la, lb = sa.defected.copy(), sb.defected.copy()
        ha, hb = hazard(K, sa, m, camp, w), hazard(K, sb, m, camp, w)
        qa, qb = ha.p_switch(), hb.p_switch()
        # mass ending the transition at the store / defected, from each particle
        a_store = ma * np.where(la, qa, 1 - qa)
        b_store = mb * np.where(lb, qb, 1 - qb)
        a_def, b_def = ma - a_store, mb - b_store
        u = draws[h].u[:, 15]
        tot_s, tot_d = a_store + b_store, a_def + b_def
        pick_s = u * tot_s < a_store
        pick_d = (1 - u) * tot_d < a_def
        s_new, d_new = _merge(pick_s, sa, sb), _merge(pick_d, sa, sb)
        sw_s, sw_d = np.where(pick_s, la, lb), ~np.where(pick_d, la, lb)
        mo_s = step(
            K,
            s_new,
            m,
            draws[h],
            camp,
            w,
            suppress_paid=suppress,
            switch=sw_s,
            hz=ha.pick(pick_s, hb),
        )
        mo_d = step(
            K,
            d_new,
            m,
            draws[h],
            camp,
            w,
            suppress_paid=suppress,
            switch=sw_d,
            hz=ha.pick(pick_d, hb),
        )
        if suppress:
            tot_s = tot_s * mo_s.weight
            tot_d = tot_d * mo_d.weight
        else:
            acc += tot_s * mo_s.exp_spend + tot_d * mo_d.exp_spend
            if sales is not None:
                sales += tot_s * mo_s.exp_sale + tot_d * mo_d.exp_sale
            if renewals is not None:
                renewals += tot_s * mo_s.exp_renewal + tot_d * mo_d.exp_renewal
            if value is not None:
                value += tot_s * mo_s.exp_value + tot_d * mo_d.exp_value
            if cv is not None:
                dev = tot_s * (mo_s.paid - mo_s.p_paid) + tot_d * (mo_d.paid - mo_d.p_paid)
                cv[min(h, 11)] += dev[0] * bf
                cv[12:15] += dev[1:]
                cv[15 + min(h // 3, 3)] += tot_s * (mo_s.traded - mo_s.p_trade) + tot_d * (
                    mo_d.traded - mo_d.p_trade
                )
        sa, sb, ma, mb = s_new, d_new, tot_s, tot_d
    return ma + mb if suppress else acc


class _Moments:
    """Running sums over paths (mean and standard error without keeping every path)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.k = 0
        self.s = np.zeros(shape)
        self.s2 = np.zeros(shape)

    def add(self, x: np.ndarray) -> None:
        self.k += 1
        self.s += x
        self.s2 += x * x

    def mean(self) -> np.ndarray:
        return self.s / max(self.k, 1)

    def se(self) -> np.ndarray:
        if self.k < 2:
            return np.zeros_like(self.s)
        var = np.maximum(self.s2 - self.s * self.s / self.k, 0) / (self.k - 1)
        return np.sqrt(var / self.k)


def _controlled(s: np.ndarray, x: np.ndarray) -> _Moments:
    """Spend per path minus beta x control variates; beta by least squares pooled over the
    chunk's customers (within-customer deviations), so its estimation bias is negligible."""
    out = _Moments(s.shape[1:])
    if s.shape[0] >= 2:
        y = (s - s.mean(0)).ravel()
        xd = (x - x.mean(0)).transpose(0, 2, 1).reshape(-1, x.shape[1])
        beta = np.linalg.lstsq(xd, y, rcond=None)[0]
        s = s - np.einsum("j,pjn->pn", beta, x)
    for row in s:
        out.add(row)
    return out


def compute_oracle(
    w: World,
    snap: State,
    paths: int,
    chunk: int,
    progress: bool = True,
    campaign_paths: int | None = None,
    carry: tuple[np.ndarray, float] | None = None,
    customers: np.ndarray | None = None,
    p_paths: int | None = None,
    sale_margin: float = 0.0,
    commission: float = 0.0,
) -> Oracle:
    """Oracle arrays for the customers ``customers`` (default all) and every scenario.

    Expected spend (no contact) uses ``paths`` paths, P(no paid visit) the first ``p_paths``
    (it is far less noisy); campaign scenarios use the first ``campaign_paths`` paths (paired
    with the same paths of the no-contact scenario).
    ``carry``: the campaign of each customer contacted in the month of ``end`` and the carry-over
    weight of its effect in the first horizon month (as in the realized future).
    ``sale_margin``: share of a trade-in vehicle's price a campaign's value counts (the sale a
    trade-in campaign is for); the incremental margin is kept apart from incremental spend.
    ``commission``: CNY the store keeps per insurance renewal (the renewals a campaign brings
    count at this, kept apart too).
    """
    cp = min(paths, campaign_paths or paths)
    pp = min(paths, p_paths or paths)
    tl, p = w.tl, w.p
    sel = np.arange(w.traits.n) if customers is None else np.asarray(customers)
    n = len(sel)
    C = w.effects.n_campaigns
    S = C + 1
    months = range(tl.end_month + 1, tl.end_month + 1 + tl.horizon)
    carry_w = float(p["campaigns"]["carryover"])
    res = {k: np.zeros((S, n), np.float32) for k in ("p", "s", "sep", "ses")}
    se_u = np.zeros((C, n), np.float32)
    se_i = np.zeros((C, n), np.float32)
    halves = np.zeros((2, C, n), np.float32) if cp >= 2 else None
    sale_i = np.zeros((C, n), np.float32)
    comm_i = np.zeros((C, n), np.float32)
    val, se_val = np.zeros(n, np.float32), np.zeros(n, np.float32)
    starts = list(range(0, n, chunk))
    for ci, a in enumerate(tqdm(starts, desc="oracle", disable=not progress)):
        loc = np.arange(a, min(n, a + chunk))
        idx = sel[loc]
        nn = len(idx)
        tr = w.traits.take(idx)
        K = Kernel(
            p,
            tr,
            w.effects,
            trait_matrix(tr, p),
            w.sa.quality,
            w.sa.changed,
            w.sa.slot_staff,
            group=w.group,
        )
        sub = snap.take(idx)
        if carry is not None and (carry[0][idx] >= 0).any():
            c0 = carry[0][idx].astype(np.int16)
            base = [(c0, np.where(c0 >= 0, carry[1], 0.0).astype(np.float32))]
        else:
            base = []
        bp = _Moments((nn,))
        dp, ds, dsale = _Moments((C, nn)), _Moments((C, nn)), _Moments((C, nn))
        dcomm = _Moments((C, nn))
        dh = [_Moments((C, nn)), _Moments((C, nn))]
        s_all = np.zeros((paths, nn))
        v_all = np.zeros((paths, nn))
        x_all = np.zeros((paths, N_CV, nn))
        for k in range(paths):
            rng = np.random.default_rng(np.random.SeedSequence([w.seed, 202, ci, k]))
            draws = [Draws.new(rng, nn) for _ in months]
            sale0, ren0 = np.zeros(nn), np.zeros(nn)
            s0 = s_all[k] = _scenario(
                K,
                sub,
                months,
                draws,
                base,
                False,
                x_all[k],
                sales=sale0 if k < cp else None,
                value=v_all[k],
                renewals=ren0 if k < cp else None,
            )
            if k >= max(pp, cp):
                continue
            p0 = _scenario(K, sub, months, draws, base, True)
            if k < pp:
                bp.add(p0)
            if k >= cp:
                continue
            up, inc, sale = np.zeros((C, nn)), np.zeros((C, nn)), np.zeros((C, nn))
            comm = np.zeros((C, nn))
            for c in range(C):
                camps = [
                    (np.full(nn, c, np.int16), np.ones(nn, np.float32)),
                    (np.full(nn, c, np.int16), np.full(nn, carry_w, np.float32)),
                ]
                up[c] = p0 - _scenario(K, sub, months, draws, camps, True)
                sale_c, ren_c = np.zeros(nn), np.zeros(nn)
                inc[c] = (
                    _scenario(K, sub, months, draws, camps, False, sales=sale_c, renewals=ren_c)
                    - s0
                )
                sale[c] = sale_margin * (sale_c - sale0)
                comm[c] = commission * (ren_c - ren0)
            dp.add(up)
            ds.add(inc)
            dsale.add(sale)
            dcomm.add(comm)
            dh[int(k >= cp // 2)].add(inc + sale + comm)
        bs = _controlled(s_all, x_all)
        bv = _controlled(v_all, x_all)
        val[loc], se_val[loc] = np.maximum(bv.mean(), 0), bv.se()
        # the control variates can push a near-zero estimate below 0: clip (negligible bias)
        base_p, base_s = bp.mean(), np.maximum(bs.mean(), 0)
        # campaigns: paired difference with the baseline on the same paths, added to the
        # all-paths baseline (a control variate)
        res["p"][0, loc], res["s"][0, loc] = base_p, base_s
        res["p"][1:, loc] = np.clip(base_p[None, :] - dp.mean(), 0, 1)
        res["s"][1:, loc] = np.maximum(base_s[None, :] + ds.mean(), 0)
        res["sep"][:, loc] = bp.se()
        res["ses"][:, loc] = bs.se()
        se_u[:, loc] = dp.se()
        se_i[:, loc] = ds.se()
        sale_i[:, loc] = dsale.mean()
        comm_i[:, loc] = dcomm.mean()
        if halves is not None:
            for h in range(2):
                halves[h][:, loc] = np.maximum(base_s[None, :] + dh[h].mean(), 0) - base_s[None, :]
    return Oracle(
        p_no_paid=res["p"],
        spend=res["s"],
        se_p=res["sep"],
        se_spend=res["ses"],
        se_uplift=se_u,
        se_incr=se_i,
        customers=customers,
        incr_halves=halves,
        incr_sale=sale_i,
        incr_commission=comm_i,
        value=val,
        se_value=se_val,
    )
