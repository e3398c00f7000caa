"""Ground-truth tables: the oracle per customer and per customer x campaign, and meta."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from cvm.data.simulator.dynamics import State
from cvm.data.simulator.oracle import Oracle
from cvm.data.simulator.tables import FAMILY, _dealer_ids, cat, ids
from cvm.data.simulator.world import World


def oracle_customers(w: World, snap: State, o: Oracle, cid: pa.Array) -> pa.Table:
    """One row per customer (of the oracle's sample, if any): oracle expectations and the latent
    traits/state at ``end``."""
    tr, tl = w.traits, w.tl
    m = tl.end_month
    if o.customers is not None:
        tr, snap, cid = (
            tr.take(o.customers),
            snap.take(o.customers),
            cid.take(pa.array(o.customers)),
        )
    age = m - snap.purchase
    odo = tr.yearly_km * (age + 0.5) / 12
    f64 = lambda a: pa.array(np.asarray(a, np.float64))  # noqa: E731
    stores = {}
    if w.group is not None:  # a dealer group: the store each customer uses at end, and home
        stores = {
            "dealer_id": _dealer_ids(tr.store_at(m)),
            "home_dealer_id": _dealer_ids(tr.dealer),
        }
    return pa.table(
        {
            "customer_id": cid,
            **stores,
            "p_no_paid_visit": f64(o.p_no_paid[0]),
            "expected_spend": f64(o.spend[0]),
            "p_no_paid_visit_se": f64(o.se_p[0]),
            "expected_spend_se": f64(o.se_spend[0]),
            "expected_value": f64(o.value if o.value is not None else np.full(len(cid), np.nan)),
            "expected_value_se": f64(
                o.se_value if o.se_value is not None else np.full(len(cid), np.nan)
            ),
            "loyalty": f64(tr.loyalty),
            "price_sensitivity": f64(tr.price_sens),
            "distance": f64(tr.distance),
            "time_sensitivity": f64(tr.time_sens),
            "yearly_mileage": f64(tr.yearly_km),
            "family_stage": cat(FAMILY, tr.family),
            "commercial": pa.array(tr.commercial),
            "satisfaction": f64(tr.base_sat + snap.sat),
            "sleeping_dog": pa.array(tr.dog),
            "defected": pa.array(snap.defected),
            "in_warranty": pa.array(
                (age < w.p["vehicles"]["warranty_months"]) & (odo < w.p["vehicles"]["warranty_km"])
            ),
            "services_current_vehicle": pa.array(snap.svc_n.astype(np.int64)),
            "sa_left_recently": pa.array(snap.sa_left_until >= m),
            "bad_visit_recently": pa.array(snap.bad_until >= m),
        }
    )


def oracle_campaigns(w: World, o: Oracle, n_id_width: int) -> pa.Table:
    """All customers (of the oracle's sample, if any) x all campaigns (campaign-major order)."""
    cust = np.arange(w.traits.n) if o.customers is None else np.asarray(o.customers)
    n = len(cust)
    C = w.effects.n_campaigns
    costs = np.array(w.p["campaign_costs"], float)
    uplift = (o.p_no_paid[0][None, :] - o.p_no_paid[1:]).astype(np.float64)
    incr = (o.spend[1:] - o.spend[0][None, :]).astype(np.float64)
    sale = np.zeros_like(incr) if o.incr_sale is None else o.incr_sale.astype(np.float64)
    comm = (
        np.zeros_like(incr) if o.incr_commission is None else o.incr_commission.astype(np.float64)
    )
    halves = {}
    if o.incr_halves is not None:  # value by half of the Monte Carlo paths (cvm evaluate)
        for h, name in enumerate("ab"):
            halves[f"expected_incremental_value_{name}"] = pa.array(
                (o.incr_halves[h].astype(np.float64) - costs[:, None]).ravel()
            )
    cid = ids("C", np.tile(cust, C), n_id_width)
    camp = pa.DictionaryArray.from_arrays(
        pa.array(np.repeat(np.arange(C), n).astype(np.int32)),
        pa.array(w.p["campaign_ids"], pa.string()),
    )
    return pa.table(
        {
            "customer_id": cid,
            "campaign": camp,
            "uplift_p_return": pa.array(uplift.ravel()),
            "incremental_spend": pa.array(incr.ravel()),
            "incremental_sale_margin": pa.array(sale.ravel()),
            "incremental_commission": pa.array(comm.ravel()),
            "expected_incremental_value": pa.array((incr + sale + comm - costs[:, None]).ravel()),
            "uplift_se": pa.array(o.se_uplift.astype(np.float64).ravel()),
            "incremental_spend_se": pa.array(o.se_incr.astype(np.float64).ravel()),
            **halves,
        }
    )


def meta(
    w: World, o: Oracle, params: dict[str, Any], paths: tuple[int, int, int], args: dict[str, Any]
) -> dict[str, Any]:
    """Parameters, seed and the oracle method with its Monte Carlo error."""
    sampled = o.customers is not None
    return {
        "generator": "cvm.data.simulator",
        "arguments": args,
        "seed": w.seed,
        "end": w.tl.end.isoformat(),
        "horizon_months": w.tl.horizon,
        "paid_definition": "payer == 'customer' and amount > 0",
        "value_definition": (
            "gross margin: every payer's revenue x configs/value.yaml margin "
            "of its payer and visit type (oracle expected_value)"
        ),
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
                "plus the commission on the insurance renewals it brings (insurance_commission "
                "x renewals through the store), minus its unit cost."
            ),
            "sale_margin": float(params["sale_margin"]),
            "insurance_commission": float(params["insurance_commission"]),
            "paths": paths[0],
            "p_paths": paths[1],
            "campaign_paths": paths[2],
            "sampled": sampled,
            "customers": int(w.traits.n if not sampled else len(o.customers)),
            "note": (
                "expected spend uses `paths` paths, P(no paid visit) the first `p_paths`; "
                "campaign scenarios: paired (common random numbers) difference with the "
                "no-contact scenario on the first campaign_paths paths; standard errors are "
                "0 when estimated from a single path"
                + (
                    "; sampled: the truth/oracle_* tables cover a seeded random sample of "
                    "customers only"
                    if sampled
                    else ""
                )
            ),
            "mean_se_p_no_paid_visit": float(o.se_p[0].mean()),
            "mean_se_expected_spend": float(o.se_spend[0].mean()),
            "mean_expected_spend": float(o.spend[0].mean()),
            "mean_se_uplift_p_return": float(o.se_uplift.mean()) if o.se_uplift.size else 0.0,
            "mean_se_incremental_spend": float(o.se_incr.mean()) if o.se_incr.size else 0.0,
        },
        "campaigns": params["campaign_ids"],
        **({"dealer_group": w.group.to_dict()} if w.group is not None else {}),
        "parameters": {k: v for k, v in params.items() if k not in ("campaign_ids",)},
    }


def store_truth(w: World, oc: pa.Table, visits: pa.Table) -> pa.Table | None:
    """A dealer group's truth by store and for the group (``truth/stores.parquet``).

    Per store: its generating parameters (size weight, price level, service-quality shift,
    waiting-time factor, advisor turnover factor), its customers at ``end`` (store used then),
    the oracle's mean P(no paid visit) and expected spend over them, movers out and in over
    the simulated span, the H-month truth's paid visits at the store and the share of them by
    customers whose store at ``end`` is another one (cross-store service). One more row,
    ``dealer_id = GROUP``, sums or averages the same over every store."""
    if w.group is None:
        return None
    g, tr, tl = w.group, w.traits, w.tl
    o = oc.select(["dealer_id", "p_no_paid_visit", "expected_spend"]).to_pandas()
    moved = tr.move_month <= tl.end_month
    v = visits.select(["customer_id", "dealer_id", "payer", "amount"]).to_pandas()
    v = v[(v["payer"] == "customer") & (v["amount"] > 0)]
    at_end = pd.Series(
        _dealer_ids(tr.store_at(tl.end_month)).to_pylist(),
        index=ids("C", np.arange(tr.n), max(7, len(str(tr.n * 10)))).to_pylist(),
    )
    v_cross = v["dealer_id"].to_numpy() != at_end.reindex(v["customer_id"]).to_numpy()
    rows = []
    names = _dealer_ids(np.arange(g.n)).to_pylist()
    for s, name in enumerate(names):
        os_ = o[o["dealer_id"] == name]
        vs = v["dealer_id"].to_numpy() == name
        rows.append(
            {
                "dealer_id": name,
                "weight": float(g.weight[s]),
                "price_level": float(g.price_level[s]),
                "quality_shift": float(g.quality_shift[s]),
                "wait_factor": float(g.wait_factor[s]),
                "turnover": float(g.turnover[s]),
                "customers_at_end": int((tr.store_at(tl.end_month) == s).sum()),
                "oracle_customers": len(os_),
                "mean_p_no_paid_visit": float(os_["p_no_paid_visit"].mean())
                if len(os_)
                else np.nan,
                "mean_expected_spend": float(os_["expected_spend"].mean()) if len(os_) else np.nan,
                "movers_out": int((moved & (tr.dealer == s)).sum()),
                "movers_in": int((moved & (tr.move_to == s)).sum()),
                "horizon_paid_visits": int(vs.sum()),
                "horizon_cross_store_share": float(v_cross[vs].mean()) if vs.any() else 0.0,
            }
        )
    rows.append(
        {
            "dealer_id": "GROUP",
            "weight": 1.0,
            "price_level": float(np.average(g.price_level, weights=g.weight)),
            "quality_shift": float(np.average(g.quality_shift, weights=g.weight)),
            "wait_factor": float(np.average(g.wait_factor, weights=g.weight)),
            "turnover": float(np.average(g.turnover, weights=g.weight)),
            "customers_at_end": int(tr.n),
            "oracle_customers": len(o),
            "mean_p_no_paid_visit": float(o["p_no_paid_visit"].mean()),
            "mean_expected_spend": float(o["expected_spend"].mean()),
            "movers_out": int(moved.sum()),
            "movers_in": int(moved.sum()),
            "horizon_paid_visits": int(len(v)),
            "horizon_cross_store_share": float(v_cross.mean()) if len(v) else 0.0,
        }
    )
    return pa.Table.from_pandas(pd.DataFrame(rows), preserve_index=False)
