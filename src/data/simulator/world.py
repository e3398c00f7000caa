"""Everything drawn before the monthly loop: leads, customers, traits, staff, the kernel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cvm.data.simulator.dynamics import Kernel
from cvm.data.simulator.effects import Effects, make_effects, trait_matrix
from cvm.data.simulator.population import STORE, Traits, entry_plan, make_traits
from cvm.data.simulator.sales_leads import LeadPool, make_lead_pool
from cvm.data.simulator.staff import Roster, assign_slots, make_roster, slots_per_dealer
from cvm.data.simulator.stores import StoreGroup, draw_group, draw_moves, pick_stores
from cvm.data.simulator.timeline import Timeline


@dataclass
class World:
    p: dict[str, Any]
    tl: Timeline
    seed: int
    dealers: int
    traits: Traits
    sa: Roster
    sc: Roster
    sc_slots: np.ndarray
    pool: LeadPool
    won_idx: np.ndarray  # pool index of the lead won by customer i (i < len(won_idx))
    effects: Effects
    kernel: Kernel
    group: StoreGroup | None = (
        None  # dealers > 1: how the stores differ (cvm.data.simulator.stores)
    )


def build_world(n: int, seed: int, tl: Timeline, dealers: int, p: dict[str, Any]) -> World:
    """Draw leads, customers and staff (one seeded generator per part, for stability)."""
    ss = np.random.SeedSequence(seed)
    r_lead, r_pop, r_trait, r_staff = (np.random.default_rng(s) for s in ss.spawn(4))
    pop = p["population"]
    n_in = n - int(round(n * pop["pre_window_share"]))
    group = draw_group(seed, dealers, p) if dealers > 1 else None
    pool = make_lead_pool(
        r_lead,
        p,
        int(round(n_in * pop["store_sold_share"])),
        tl,
        dealers,
        None if group is None else group.weight,
    )
    won_idx = np.flatnonzero(pool.won & (pool.closed <= tl.end_day))
    won_idx = won_idx[np.argsort(pool.closed[won_idx], kind="stable")][:n]
    won_days = pool.closed[won_idx]
    if p.get("closed_cohort_months"):  # regime closed-cohort: no lead becomes a customer
        from cvm.data.simulator.regimes import closed_cohort_entry

        won_idx, won_days = won_idx[:0], won_days[:0]
        kind, entry = closed_cohort_entry(r_pop, p, n, tl.start_month)
    else:
        kind, entry = entry_plan(r_pop, p, n, tl.month_of(won_days), tl.start_month, tl.end_month)
    if group is None:
        dealer = r_pop.integers(0, dealers, size=n).astype(np.int16)
    else:  # store sizes differ: customers by the stores' weights
        dealer = pick_stores(r_pop, group.weight, n)
    dealer[: len(won_idx)] = pool.dealer[won_idx]
    per_dealer = np.bincount(dealer, minlength=dealers)
    sa_slots = slots_per_dealer(per_dealer, p["staff"]["customers_per_sa"])
    sc_slots = slots_per_dealer(per_dealer, p["staff"]["customers_per_sc"])
    sa_rate: Any = p["staff"]["sa_leave_rate"]
    if group is not None:  # advisor turnover differs by store
        sa_rate = sa_rate * np.repeat(group.turnover, sa_slots)[:, None]
    sa = make_roster(r_staff, "service_advisor", sa_slots, tl.n_months, sa_rate)
    sc = make_roster(
        r_staff, "sales_consultant", sc_slots, tl.n_months, p["staff"]["sc_leave_rate"]
    )
    tr = make_traits(r_trait, p, kind, entry, dealer, assign_slots(r_pop, dealer, sa_slots))
    tr.entry_u[: len(won_idx)] = tl.u_of(won_days)
    tr.band0[: len(won_idx)] = pool.band[won_idx]
    if group is not None:
        tr.move_month, tr.move_to = draw_moves(seed, group, tr.dealer, tr.entry, tl.n_months - 1, p)
    eff = make_effects(p)
    kern = Kernel(
        p, tr, eff, trait_matrix(tr, p), sa.quality, sa.changed, sa.slot_staff, group=group
    )
    assert (tr.kind[: len(won_idx)] == STORE).all()
    return World(
        p=p,
        tl=tl,
        seed=seed,
        dealers=dealers,
        traits=tr,
        sa=sa,
        sc=sc,
        sc_slots=sc_slots,
        pool=pool,
        won_idx=won_idx,
        effects=eff,
        kernel=kern,
        group=group,
    )
