"""The monthly kernel: one month of every customer's life, vectorized over customers.

The same function drives the history, the realized horizon and the oracle's Monte Carlo paths,
so the oracle expectations are expectations of exactly the process that produced the data.
Random numbers come in as arrays (``Draws``) so the oracle can reuse them across scenarios
(common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from cvm.data.simulator.effects import Effects, response
from cvm.data.simulator.population import ELSEWHERE, Traits

NEVER = -100000
TYPES = (
    "maintenance",
    "repair",
    "accident",
    "other",
)  # sampled kinds; first_service/warranty derive
N_U = 16  # uniform columns per month
N_Z = 4  # normal columns per month (waiting time per kind)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


@dataclass
class State:
    """Dynamic per-customer arrays (modified in place by ``step``)."""

    purchase: np.ndarray  # month the current vehicle was bought (may be < 0)
    band: np.ndarray
    defected: np.ndarray  # serviced by an independent shop
    svc_n: np.ndarray  # maintenance services of the current vehicle (first service = 1)
    decided: np.ndarray  # service number whose stay/defect decision was taken
    post_done: np.ndarray  # first post-warranty decision taken
    last_svc: np.ndarray
    last_svc_odo: np.ndarray
    last_visit: np.ndarray
    sat: np.ndarray  # satisfaction offset from recent experiences
    bad_until: np.ndarray
    sa_left_until: np.ndarray
    ema_spend: np.ndarray  # exponentially weighted paid spend (~12-month window)
    n_trade: np.ndarray

    def copy(self) -> State:
        return State(**{f.name: getattr(self, f.name).copy() for f in fields(self)})

    def take(self, idx: np.ndarray) -> State:
        return State(**{f.name: getattr(self, f.name)[idx].copy() for f in fields(self)})


def init_state(tr: Traits, p: dict[str, Any]) -> State:
    """State at entry (values are used only from each customer's entry month on)."""
    n = tr.n
    purchase = (tr.entry - tr.age0_months).astype(np.int32)
    elsewhere = tr.kind == ELSEWHERE
    svc = np.where(elsewhere, 2, 0).astype(np.int16)
    return State(
        purchase=purchase,
        band=tr.band0.copy(),
        defected=np.zeros(n, bool),
        svc_n=svc,
        decided=svc.copy(),
        # owners who arrive with an expired warranty chose this store after it expired
        post_done=elsewhere
        & (
            (tr.age0_months >= p["vehicles"]["warranty_months"])
            | (tr.yearly_km * tr.age0_months / 12 >= p["vehicles"]["warranty_km"])
        ),
        last_svc=np.where(elsewhere, tr.entry - 12, tr.entry).astype(np.int32),
        last_svc_odo=np.zeros(n, np.float32),
        last_visit=np.full(n, NEVER, np.int32),
        sat=np.zeros(n, np.float32),
        bad_until=np.full(n, NEVER, np.int32),
        sa_left_until=np.full(n, NEVER, np.int32),
        ema_spend=np.zeros(n, np.float32),
        n_trade=np.zeros(n, np.int16),
    )


@dataclass
class Draws:
    u: np.ndarray  # (n, N_U) uniforms
    z: np.ndarray  # (n, N_Z) standard normals

    @classmethod
    def new(cls, rng: np.random.Generator, n: int) -> Draws:
        return cls(
            u=rng.random((n, N_U), dtype=np.float32),
            z=rng.standard_normal((n, N_Z), dtype=np.float32),
        )


@dataclass
class Month:
    """What happened in one month (customer-level arrays, length n)."""

    visit: np.ndarray  # (4, n) bool per kind in TYPES
    paid: np.ndarray  # (4, n) bool: payer is the customer
    first: np.ndarray  # maintenance was the free first service
    wait: np.ndarray  # (4, n) minutes
    bad: np.ndarray  # (4, n) bad experience per visit
    offered: np.ndarray  # (4, n) quote items offered
    complaint: np.ndarray  # (4, n)
    traded: np.ndarray  # bought a new vehicle (trade-in)
    odo: np.ndarray
    in_warranty: np.ndarray
    weight: np.ndarray  # P(no paid visit this month | path), suppressed mode only
    exp_spend: np.ndarray  # expected paid spend this month | state
    p_paid: np.ndarray  # (4, n) P(paid visit of each kind this month | state)
    exp_sale: np.ndarray | None = None  # expected new-vehicle revenue (trade-in) | state, CNY
    # expected insurance policies renewed through the store this month | state (a policy ends
    # at each anniversary of the vehicle's purchase: customers.insurance_end_date)
    exp_renewal: np.ndarray | None = None
    p_trade: np.ndarray | None = None  # P(trade-in this month | state)
    exp_value: np.ndarray | None = None  # expected gross margin this month, every payer | state


class Kernel:
    """Parameters pre-digested for ``step`` (one per simulation)."""

    def __init__(
        self,
        p: dict[str, Any],
        tr: Traits,
        eff: Effects,
        x: np.ndarray,
        sa_quality: np.ndarray,
        sa_changed: np.ndarray,
        sa_staff: np.ndarray,
        group: Any = None,
    ) -> None:
        self.p, self.tr, self.eff, self.x = p, tr, eff, x
        self.group = group  # a dealer group's StoreGroup (stores differ), None for one store
        self.sa_quality, self.sa_changed, self.sa_staff = sa_quality, sa_changed, sa_staff
        v, a, ch = p["vehicles"], p["amounts"], p["churn"]
        pop = p["population"]
        self.int_km = np.array(v["interval_km"], np.float32)
        self.int_mo = np.array(v["interval_months"], np.float32)
        self.band_f = np.array(a["band_factor"], np.float32)
        self.logd = (np.log(tr.distance / pop["distance_median_km"])).astype(np.float32)
        self.km_f = np.sqrt(tr.yearly_km / pop["yearly_km_median"]).astype(np.float32)
        # the part of the defection logit that never changes
        self.x_static = (
            ch["loyalty_coef"] * tr.loyalty
            + ch["distance_coef"] * self.logd
            + ch["commercial_coef"] * tr.commercial
        ).astype(np.float32)
        self.wb_logit = (
            ch["winback_logit"]
            + ch["winback_loyalty_coef"] * tr.loyalty
            + ch["winback_distance_coef"] * self.logd
        ).astype(np.float32)
        vs = p["visits"]
        self.due_logit = (
            logit(vs["p_due"])
            + vs["due_distance_coef"] * self.logd
            + vs["due_time_coef"] * tr.time_sens
        ).astype(np.float32)
        self.other_p = (
            vs["other_rate"]
            * np.exp(vs["other_loyalty_coef"] * tr.loyalty)
            * np.where(tr.kids, vs["other_kids_factor"], 1.0)
            * np.where(tr.commercial, vs["other_commercial_factor"], 1.0)
        ).astype(np.float32)
        q = p["quotes"]
        self.acc_static = (
            q["accept_intercept"]
            + q["accept_loyalty"] * tr.loyalty
            + q["accept_price"] * tr.price_sens
        ).astype(np.float32)
        sv = p["service"]
        self.wait_thr = np.where(
            tr.time_sens > 0.8, sv["wait_bad_minutes_time_sensitive"], sv["wait_bad_minutes"]
        ).astype(np.float32)
        self.wait_med = np.array([sv["wait_median"][k] for k in TYPES], np.float32)
        self.first_wait = float(sv["wait_median"]["first_service"])
        st = p["churn"]["stage_logit"]
        self.stage = np.array(
            [
                st["first_service"],
                st["second_service"],
                st["later_in_warranty"],
                st["first_post_warranty"],
                st["later_post_warranty"],
            ],
            np.float32,
        )
        self.comm_amount = np.where(tr.commercial, a["commercial_factor"], 1.0).astype(np.float32)
        # gross margin of each kind's paid (customer) and unpaid (first service: free; repair:
        # warranty; accident: insurer) visits (configs/value.yaml margin; 0 without it)
        vm = p.get("value_margin") or {}
        c, w_, i_ = vm.get("customer", {}), vm.get("warranty", {}), vm.get("insurer", {})
        self.margin_paid = np.array(
            [
                c.get("maintenance", 0.0),
                c.get("repair", 0.0),
                c.get("accident", 0.0),
                c.get("other", 0.0),
            ],
            np.float32,
        )
        self.margin_unpaid = np.array(
            [0.0, w_.get("warranty", 0.0), i_.get("accident", 0.0), 0.0], np.float32
        )

    # expected quote items and accepted share, used by both sampling and expectations
    def quote_lambda(self, age_y: np.ndarray) -> np.ndarray:
        q = self.p["quotes"]
        return (q["offered_base"] + q["offered_age_slope"] * np.minimum(age_y, 10)).astype(
            np.float32
        )

    def accept_p(self, st: State) -> np.ndarray:
        return sigmoid(
            self.acc_static + self.p["quotes"]["accept_sat"] * (self.tr.base_sat + st.sat)
        )

    def medians(
        self, st: State, age_y: np.ndarray, in_w: np.ndarray, m: int | None = None
    ) -> np.ndarray:
        """Median amount of a paid visit of each kind (4, n), before accepted quote items
        (in a dealer group, at the price level of the store the customer uses in month m)."""
        a = self.p["amounts"]
        bf = self.band_f[st.band] * self.comm_amount
        if self.group is not None and m is not None:
            bf = bf * self.group.price_level[self.tr.store_at(m)].astype(np.float32)
        out = np.stack(
            [
                a["maintenance_median"] * bf * (1 + a["maintenance_age_slope"] * age_y),
                a["repair_median"] * bf * (1 + 0.1 * np.minimum(age_y, 10)),
                a["accident_small_median"] * bf,
                a["other_median"] * self.comm_amount * np.ones_like(age_y),
            ]
        ).astype(np.float32)
        if self.group is not None and m is not None:  # other visits follow the store's prices
            out[3] *= self.group.price_level[self.tr.store_at(m)].astype(np.float32)
        return out

    def sigmas(self) -> np.ndarray:
        a = self.p["amounts"]
        return np.array(
            [
                a["maintenance_sigma"],
                a["repair_sigma"],
                a["accident_small_sigma"],
                a["other_sigma"],
            ],
            np.float32,
        )


def poisson_from_u(lam: np.ndarray, u: np.ndarray, cap: int) -> np.ndarray:
    """Poisson(lam) by inverse CDF from uniforms ``u`` (capped), so draws stay common."""
    k = np.zeros(lam.shape, np.int16)
    pk = np.exp(-lam)
    cdf = pk.copy()
    for i in range(1, cap + 1):
        k += (u > cdf).astype(np.int16)
        pk = pk * lam / i
        cdf = cdf + pk
    return k


@dataclass
class Hazard:
    """The month's state-dependent quantities up to the stay/defect transition."""

    act: np.ndarray
    new: np.ndarray
    age_y: np.ndarray
    odo: np.ndarray
    in_w: np.ndarray
    due: np.ndarray
    due_soon: np.ndarray
    e_visit: np.ndarray | None
    e_ti: np.ndarray | None
    e_ren: np.ndarray | None  # campaign effect on renewing the insurance policy at the store
    was_def: np.ndarray  # defected and active: may be won back (P = p_wb)
    at_store: np.ndarray  # may defect (P = p_defect)
    decide: np.ndarray
    w_end: np.ndarray
    nxt: np.ndarray
    p_wb: np.ndarray
    p_dec: np.ndarray  # P(defect at a decision)
    p_bg: np.ndarray
    e_dog: np.ndarray | None

    def pick(self, a: np.ndarray, other: Hazard) -> Hazard:
        """Per customer, this hazard where ``a`` else ``other``'s."""
        out: dict[str, Any] = {}
        for f in fields(self):
            x, y = getattr(self, f.name), getattr(other, f.name)
            out[f.name] = None if x is None else np.where(a, x, y)
        return Hazard(**out)

    def p_switch(self) -> np.ndarray:
        """P(the defected flag flips this month): win-back if defected, defection if at the store."""
        p_def = 1 - (1 - np.where(self.decide, self.p_dec, 0.0)) * (
            1 - np.where(self.at_store & ~self.decide, self.p_bg, 0.0)
        )
        if self.e_dog is not None:
            p_def = 1 - (1 - p_def) * (1 - np.where(self.at_store, self.e_dog, 0.0))
        return np.where(self.was_def, self.p_wb, np.where(self.at_store, p_def, 0.0))


def hazard(
    K: Kernel, st: State, m: int, camp: np.ndarray | None = None, camp_w: np.ndarray | None = None
) -> Hazard:
    """Hazards of month ``m`` (records the SA-left event in ``st``; no randomness)."""
    p, tr, eff = K.p, K.tr, K.eff
    v, ch = p["vehicles"], p["churn"]
    act = tr.entry <= m
    new = tr.entry == m
    age_m = (m - st.purchase).astype(np.float32)
    age_y = age_m / 12.0
    odo = tr.yearly_km * (age_m + 0.5) / 12.0
    in_w = (age_m < v["warranty_months"]) & (odo < v["warranty_km"])
    int_km, int_mo = K.int_km[st.band], K.int_mo[st.band]
    since = (m - st.last_svc).astype(np.float32)
    first_due = (age_m >= v["first_service_months"]) | (odo >= v["first_service_km"])
    due = np.where(st.svc_n == 0, first_due, (since >= int_mo) | (odo - st.last_svc_odo >= int_km))
    due_soon = due | (since >= int_mo - 1) | (odo - st.last_svc_odo >= int_km * 0.85)

    # the service advisor's slot changed occupant this month: the familiar SA has left
    left = act & K.sa_changed[tr.sa_slot, m]
    st.sa_left_until[left] = m + p["staff"]["sa_left_effect_months"]
    bad_recent = st.bad_until >= m
    sa_gone = st.sa_left_until >= m

    # campaign effects
    if camp is not None:
        r = response(eff, K.x, camp) * camp_w * ~tr.dog
        c = np.where(camp >= 0, camp, eff.n_campaigns)
        e_visit, e_wb, e_ret, e_ti, e_ren = (
            eff.visit[c] * r,
            eff.winback[c] * r,
            eff.retention[c] * r,
            eff.trade_in[c] * r,
            eff.renewal[c] * r,
        )
        e_dog = eff.dog[c] * camp_w * tr.dog
    else:
        e_visit = e_wb = e_ret = e_ti = e_ren = e_dog = None

    # win-back of the already defected
    was_def = st.defected & act
    p_wb = sigmoid(K.wb_logit)
    if e_wb is not None:
        p_wb = 1 - (1 - p_wb) * (1 - e_wb)
    # out of warranty, an independent shop is cheaper: fewer owners come back
    p_wb = p_wb * np.where(in_w, 1.0, ch["winback_out_of_warranty"])

    # stay-or-defect decision when a service falls due, plus background hazard
    at_store = act & ~st.defected
    nxt = st.svc_n + 1
    decide = at_store & due & (st.decided < nxt) & ~new
    stage_idx = np.select([nxt == 1, nxt == 2, in_w], [0, 1, 2], 4)
    # the warranty just ended: the owner reconsiders where to service (first post-warranty)
    w_end = at_store & ~in_w & ~st.post_done & ~new
    x_dyn = (
        K.x_static
        + ch["price_coef"] * tr.price_sens * (nxt >= 2)
        + ch["sat_coef"] * (tr.base_sat + st.sat)
        + ch["bad_visit_coef"] * bad_recent
        + ch["sa_left_coef"] * sa_gone
    )
    p_def = np.where(decide, sigmoid(K.stage[stage_idx] + x_dyn), 0.0)
    p_def = 1 - (1 - p_def) * (1 - np.where(w_end, sigmoid(K.stage[3] + x_dyn), 0.0))
    decide = decide | w_end
    if e_ret is not None:
        p_def = p_def * (1 - e_ret)
    p_bg = sigmoid(
        ch["background_logit"] + 0.5 * x_dyn + ch["background_event_boost"] * (bad_recent | sa_gone)
    )
    spread = ch.get("post_warranty_spread")  # regime gradual-warranty: no cliff at the end
    if spread:
        soon_after = ~in_w & (age_m - v["warranty_months"] < spread["months"])
        p_bg = np.where(
            soon_after, 1 - (1 - p_bg) * (1 - sigmoid(spread["logit"] + 0.5 * x_dyn)), p_bg
        )
    return Hazard(
        act=act,
        new=new,
        age_y=age_y,
        odo=odo,
        in_w=in_w,
        due=due,
        due_soon=due_soon,
        e_visit=e_visit,
        e_ti=e_ti,
        e_ren=e_ren,
        was_def=was_def,
        at_store=at_store,
        decide=decide,
        w_end=w_end,
        nxt=nxt,
        p_wb=p_wb,
        p_dec=p_def,
        p_bg=p_bg,
        e_dog=e_dog,
    )


def step(
    K: Kernel,
    st: State,
    m: int,
    d: Draws,
    camp: np.ndarray | None = None,
    camp_w: np.ndarray | None = None,
    suppress_paid: bool = False,
    switch: np.ndarray | None = None,
    hz: Hazard | None = None,
) -> Month:
    """Advance every customer by month ``m``; returns the month's events.

    ``camp``: campaign index per customer contacted this or last month (-1 = none), with
    ``camp_w`` the weight of the effect (1 in the contact month, carryover after).
    ``suppress_paid``: oracle mode for P(no paid visit): paid visits are not sampled and the
    probability of avoiding them is returned in ``weight`` (importance sampling).
    ``switch``: oracle mode: whether the defected flag flips this month (win-back or
    defection) is given instead of sampled (see ``Hazard.p_switch``); ``hz``: the month's
    hazards of ``st`` if already computed.
    """
    p, tr = K.p, K.tr
    vs, ch, sv = p["visits"], p["churn"], p["service"]
    u, z = d.u, d.z
    n = tr.n
    if hz is None:
        hz = hazard(K, st, m, camp, camp_w)
    act, new, age_y, odo, in_w, due, due_soon = (
        hz.act,
        hz.new,
        hz.age_y,
        hz.odo,
        hz.in_w,
        hz.due,
        hz.due_soon,
    )
    e_visit, e_ti = hz.e_visit, hz.e_ti
    at_store, decide, nxt = hz.at_store, hz.decide, hz.nxt
    if switch is None:
        won = hz.was_def & (u[:, 3] < hz.p_wb)
        defect = (decide & (u[:, 0] < hz.p_dec)) | (at_store & ~decide & (u[:, 1] < hz.p_bg))
        if hz.e_dog is not None:
            defect |= at_store & (u[:, 2] < hz.e_dog)
    else:
        won = hz.was_def & switch
        defect = at_store & switch
    st.decided[decide & due] = nxt[decide & due]
    st.post_done |= hz.w_end
    st.defected[won] = False
    st.defected[defect] = True
    here = act & ~st.defected  # serviced here this month
    away = act & st.defected

    # occurrence probabilities by kind: paid / unpaid (mutually exclusive outcomes)
    p_m = np.where(due, sigmoid(K.due_logit), vs["p_early"]).astype(np.float32)
    p_o = K.other_p
    if e_visit is not None:
        p_m = 1 - (1 - p_m) * (1 - e_visit * due_soon)
        p_o = 1 - (1 - p_o) * (1 - e_visit * ~due_soon)
    forced = won | (new & (tr.kind == ELSEWHERE))
    p_m = np.where(forced, 1.0, np.where(here & ~new, p_m, 0.0))
    p_o = np.where(here & ~new, p_o, 0.0)
    first = st.svc_n == 0
    p_r = vs["repair_rate"] * (1 + vs["repair_age_slope"] * age_y) * K.km_f * act
    cover = np.where(in_w, vs["warranty_cover"], 0.0)
    away_paid = np.where(away, vs["defected_repair_paid"], 1.0)
    away_w = np.where(away, vs["defected_warranty_repair"], 1.0)
    p_a = vs["accident_rate"] * K.km_f * act * np.where(away, vs["defected_accident"], 1.0)
    ins = vs["accident_insurer_share"]
    pp = np.stack([p_m * ~first, p_r * (1 - cover) * away_paid, p_a * (1 - ins), p_o])
    pu = np.stack([p_m * first, p_r * cover * away_w, p_a * ins, np.zeros(n, np.float32)])
    uu = u[:, 4:8].T
    if suppress_paid:
        weight = np.prod(1 - pp, axis=0)
        uu = pp + uu * (1 - pp)
    else:
        weight = np.ones(n, np.float32)
    paid = uu < pp
    visit = uu < pp + pu

    # expected paid spend this month (Rao-Blackwellized over the month's outcomes)
    med = K.medians(st, age_y, in_w, m)
    sig = K.sigmas()
    lam = K.quote_lambda(age_y)
    acc = K.accept_p(st)
    items = p["amounts"]["item_median"] * np.exp(p["amounts"]["item_sigma"] ** 2 / 2)
    mean_amt = med * np.exp(sig[:, None] ** 2 / 2)
    mean_amt[:2] += lam * acc * items
    exp_spend = (pp * mean_amt).sum(axis=0)
    bfu = K.band_f[st.band]
    a_ = p["amounts"]
    mean_unpaid = np.stack(
        [
            np.zeros(n, np.float32),
            a_["warranty_repair_median"] * bfu * np.exp(a_["warranty_repair_sigma"] ** 2 / 2),
            a_["accident_median"] * bfu * np.exp(a_["accident_sigma"] ** 2 / 2),
            np.zeros(n, np.float32),
        ]
    )
    exp_value = ((pp * mean_amt) * K.margin_paid[:, None]).sum(axis=0) + (
        (pu * mean_unpaid) * K.margin_unpaid[:, None]
    ).sum(axis=0)

    # service experience: waiting, quality, over-selling, complaints (computed on visits only)
    any_visit = visit.any(axis=0)
    vi = np.flatnonzero(any_visit)
    staff_q = K.sa_quality[K.sa_staff[tr.sa_slot[vi], m]]
    if K.group is not None:  # a dealer group: the store's service quality
        store_vi = tr.store_at(m)[vi]
        staff_q = staff_q + K.group.quality_shift[store_vi].astype(np.float32)
    wait = np.zeros((4, n), np.float32)
    wv = K.wait_med[:, None] * np.exp(sv["wait_sigma"] * z[vi].T - 0.15 * staff_q[None, :])
    if K.group is not None:  # and its waiting times
        wv = wv * K.group.wait_factor[store_vi].astype(np.float32)[None, :]
    wv[0] = np.where(first[vi], wv[0] * K.first_wait / K.wait_med[0], wv[0])
    wait[:, vi] = wv
    qf = sigmoid(logit(sv["quality_fail"]) - sv["sa_quality_coef"] * staff_q)
    offered = np.zeros((4, n), np.int16)
    mx = p["quotes"]["max_offered"]
    offered[0, vi] = poisson_from_u(lam[vi], u[vi, 8], mx) * (visit[0, vi] & paid[0, vi])
    offered[1, vi] = poisson_from_u(lam[vi], u[vi, 9], mx) * (visit[1, vi] & paid[1, vi])
    ov = (offered[:, vi] >= sv["oversell_items"]) & (tr.price_sens[vi] > 0.5)
    bad = np.zeros((4, n), bool)
    bad[:, vi] = visit[:, vi] & ((wv > K.wait_thr[vi]) | (u[vi, 10] < qf) | ov)
    p_comp = sv["complaint_given_bad"] * np.exp(sv["complaint_price_sens_coef"] * tr.price_sens[vi])
    complaint = np.zeros((4, n), bool)
    complaint[:, vi] = bad[:, vi] & (u[vi, 11] < p_comp)
    any_bad = bad.any(axis=0)
    st.sat = (
        st.sat * sv["sat_decay"]
        - sv["sat_bad_drop"] * bad.sum(axis=0)
        - sv["sat_complaint_drop"] * complaint.sum(axis=0)
        + sv["sat_good_gain"] * (any_visit & ~any_bad)
    )
    st.bad_until[any_bad] = m + sv["bad_effect_months"]

    # a defected owner who had a good warranty/accident visit may come back
    back = st.defected & any_visit & ~any_bad & (u[:, 12] < ch["winback_after_visit"])
    st.defected[back] = False

    # service bookkeeping
    st.svc_n[visit[0]] += 1
    st.last_svc[visit[0]] = m
    st.last_svc_odo[visit[0]] = odo[visit[0]]
    st.last_visit[any_visit] = m

    exp_renewal = renewal_probability(K, st, m, act, hz.e_ren)

    # trade-in: a new vehicle from the store resets warranty and the service cycle
    sl = p["sales"]
    p_ti = sl["trade_in_rate"] * np.exp(sl["trade_in_sat_coef"] * (tr.base_sat + st.sat))
    if e_ti is not None:
        p_ti = p_ti + e_ti
    can_trade = act & ~st.defected & (age_y >= sl["trade_in_min_years"])
    traded = can_trade & (u[:, 13] < p_ti)
    # the expected price of the new vehicle: the same band, or one up with probability 0.3
    price = np.asarray(p["vehicles"]["band_price"], float)
    exp_price = 0.7 * price[st.band] + 0.3 * price[np.minimum(2, st.band + 1)]
    exp_sale = (can_trade * np.clip(p_ti, 0.0, 1.0) * exp_price).astype(np.float32)
    if traded.any():
        st.purchase[traded] = m
        st.band[traded] = np.minimum(2, st.band[traded] + (u[traded, 14] < 0.3))
        st.svc_n[traded] = 0
        st.decided[traded] = 0
        st.post_done[traded] = False
        st.last_svc[traded] = m
        st.last_svc_odo[traded] = 0
        st.n_trade[traded] += 1
    return Month(
        visit=visit,
        paid=paid,
        first=first,
        wait=wait,
        bad=bad,
        offered=offered,
        complaint=complaint,
        traded=traded,
        odo=odo,
        in_warranty=in_w,
        weight=weight.astype(np.float32),
        exp_spend=exp_spend.astype(np.float32),
        p_paid=pp,
        exp_sale=exp_sale,
        exp_renewal=exp_renewal,
        p_trade=(can_trade * np.clip(p_ti, 0.0, 1.0)).astype(np.float32),
        exp_value=exp_value.astype(np.float32),
    )


def renewal_probability(
    K: Kernel, st: State, m: int, act: np.ndarray, e_ren: np.ndarray | None
) -> np.ndarray:
    """P(the customer's insurance policy is renewed through the store in month ``m``).

    A policy runs a year from the vehicle's purchase and ends at each anniversary (the
    ``insurance_end_date`` of the vehicles table); at the end the owner renews through the
    store with a probability that rises with loyalty, satisfaction and a recent visit, falls
    with the vehicle's age and is low once serviced elsewhere (``insurance`` in
    configs/simulator.yaml). A campaign contact raises it by ``renewal`` x the customer's
    response (``1 - (1 - p)(1 - e)``). The store keeps a commission per renewal
    (configs/value.yaml ``influence.insurance_commission``, counted by the oracle).
    """
    ins = K.p["insurance"]
    tr = K.tr
    age = m - st.purchase
    due = act & (age > 0) & (age % 12 == 0)
    recent = (m - st.last_visit) <= ins["recent_visit_months"]
    logit = (
        ins["renewal_logit"]
        + ins["loyalty_coef"] * tr.loyalty
        + ins["sat_coef"] * (tr.base_sat + st.sat)
        + ins["recent_visit_coef"] * recent
        + ins["vehicle_age_coef"] * (age / 12.0)
        + ins["defected_coef"] * st.defected
    )
    pr = sigmoid(logit)
    if e_ren is not None:
        pr = 1 - (1 - pr) * (1 - e_ren)
    return (due * pr).astype(np.float32)
