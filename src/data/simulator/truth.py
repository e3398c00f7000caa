"""Ground-truth tables: the oracle per customer and per customer x campaign, and meta."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from cvm.data.simulator.dynamics import State
from cvm.data.simulator.oracle import Oracle
from cvm.data.simulator.tables import FAMILY, cat, ids
from cvm.data.simulator.world import World


def oracle_customers(w: World, snap: State, o: Oracle, cid: pa.Array) -> pa.Table:
    """One row per customer (of the oracle's sample, if any): oracle expectations and the latent
    traits/state at ``end``."""
    tr, tl = w.traits, w.tl
    m = tl.end_month
    if o.customers is not None:
        tr, snap, cid = tr.take(o.customers), snap.take(o.customers), cid.take(pa.array(o.customers))
    age = m - snap.purchase
    odo = tr.yearly_km * (age + 0.5) / 12
    f64 = lambda a: pa.array(np.asarray(a, np.float64))  # noqa: E731
    return pa.table({
        "customer_id": cid,
        "p_no_paid_visit": f64(o.p_no_paid[0]),
        "expected_spend": f64(o.spend[0]),
        "p_no_paid_visit_se": f64(o.se_p[0]),
        "expected_spend_se": f64(o.se_spend[0]),
        "expected_value": f64(o.value if o.value is not None else np.full(len(cid), np.nan)),
        "expected_value_se": f64(o.se_value if o.se_value is not None else np.full(len(cid), np.nan)),
        "loyalty": f64(tr.loyalty), "price_sensitivity": f64(tr.price_sens),
        "distance": f64(tr.distance), "time_sensitivity": f64(tr.time_sens),
        "yearly_mileage": f64(tr.yearly_km), "family_stage": cat(FAMILY, tr.family),
        "commercial": pa.array(tr.commercial), "satisfaction": f64(tr.base_sat + snap.sat),
        "sleeping_dog": pa.array(tr.dog), "defected": pa.array(snap.defected),
        "in_warranty": pa.array((age < w.p["vehicles"]["warranty_months"])
                                & (odo < w.p["vehicles"]["warranty_km"])),
        "services_current_vehicle": pa.array(snap.svc_n.astype(np.int64)),
        "sa_left_recently": pa.array(snap.sa_left_until >= m),
        "bad_visit_recently": pa.array(snap.bad_until >= m),
    })


def oracle_campaigns(w: World, o: Oracle, n_id_width: int) -> pa.Table:
    """All customers (of the oracle's sample, if any) x all campaigns (campaign-major order)."""
    cust = np.arange(w.traits.n) if o.customers is None else np.asarray(o.customers)
    n = len(cust)
    C = w.effects.n_campaigns
    costs = np.array(w.p["campaign_costs"], float)
    uplift = (o.p_no_paid[0][None, :] - o.p_no_paid[1:]).astype(np.float64)
    incr = (o.spend[1:] - o.spend[0][None, :]).astype(np.float64)
    sale = (np.zeros_like(incr) if o.incr_sale is None else o.incr_sale.astype(np.float64))
    halves = {}
    if o.incr_halves is not None:   # value by half of the Monte Carlo paths (cvm evaluate)
        for h, name in enumerate("ab"):
            halves[f"expected_incremental_value_{name}"] = pa.array(
                (o.incr_halves[h].astype(np.float64) - costs[:, None]).ravel())
    cid = ids("C", np.tile(cust, C), n_id_width)
    camp = pa.DictionaryArray.from_arrays(pa.array(np.repeat(np.arange(C), n).astype(np.int32)),
                                          pa.array(w.p["campaign_ids"], pa.string()))
    return pa.table({
        "customer_id": cid, "campaign": camp,
        "uplift_p_return": pa.array(uplift.ravel()),
        "incremental_spend": pa.array(incr.ravel()),
        "incremental_sale_margin": pa.array(sale.ravel()),
        "expected_incremental_value": pa.array((incr + sale - costs[:, None]).ravel()),
        "uplift_se": pa.array(o.se_uplift.astype(np.float64).ravel()),
        "incremental_spend_se": pa.array(o.se_incr.astype(np.float64).ravel()),
        **halves,
    })


def meta(w: World, o: Oracle, params: dict[str, Any], paths: tuple[int, int, int], args: dict[str, Any]) -> dict[str, Any]:
    """Parameters, seed and the oracle method with its Monte Carlo error."""
    sampled = o.customers is not None
    return {
        "generator": "cvm.data.simulator",
        "arguments": args,
        "seed": w.seed,
        "end": w.tl.end.isoformat(),
        "horizon_months": w.tl.horizon,
        "paid_definition": "payer == 'customer' and amount > 0",
        "value_definition": ("gross margin: every payer's revenue x configs/value.yaml margin "
                             "of its payer and visit type (oracle expected_value)"),
        "value_margin": params.get("value_margin"),
        "oracle": {
            "method": "conditional_monte_carlo_crn",
            "description": (
                "Conditional (Rao-Blackwellized) Monte Carlo over the simulator's own monthly "
                "kernel from each customer's true state at end, common random numbers across "
                "scenarios. Stay/defect transitions are not sampled: two weighted particles per "
                "customer (at the store, defected) exchange probability mass exactly each month. "
                "P(no paid visit) multiplies P(no paid visit | state) month by month (paid visits "
                "suppressed); expected spend sums the conditional expected paid spend per month, "
                "with martingale control variates for the sampled paid visits. The end month's "
                "campaign contacts carry over into the first horizon month, as in the realized "
                "future. Campaign scenarios: contacted in the first horizon month, carry-over in "
                "the second. A campaign's incremental value is its incremental paid spend plus "
                "the margin of the trade-in vehicle sales it brings (sale_margin x price), "
                "minus its unit cost."),
            "sale_margin": float(params["sale_margin"]),
            "paths": paths[0],
            "p_paths": paths[1],
            "campaign_paths": paths[2],
            "sampled": sampled,
            "customers": int(w.traits.n if not sampled else len(o.customers)),
            "note": ("expected spend uses `paths` paths, P(no paid visit) the first `p_paths`; "
                     "campaign scenarios: paired (common random numbers) difference with the "
                     "no-contact scenario on the first campaign_paths paths; standard errors are "
                     "0 when estimated from a single path"
                     + ("; sampled: the truth/oracle_* tables cover a seeded random sample of "
                        "customers only" if sampled else "")),
            "mean_se_p_no_paid_visit": float(o.se_p[0].mean()),
            "mean_se_expected_spend": float(o.se_spend[0].mean()),
            "mean_expected_spend": float(o.spend[0].mean()),
            "mean_se_uplift_p_return": float(o.se_uplift.mean()) if o.se_uplift.size else 0.0,
            "mean_se_incremental_spend": float(o.se_incr.mean()) if o.se_incr.size else 0.0,
        },
        "campaigns": params["campaign_ids"],
        "parameters": {k: v for k, v in params.items() if k not in ("campaign_ids",)},
    }
