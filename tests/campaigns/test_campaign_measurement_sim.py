"""On the dealer simulator: the measured lift of a campaign covers its true effect.

A campaign is run on the simulator's own process (its monthly kernel) from the state at the
data's end: eligible customers by the simulator's CRM rule, a random control group, two months
of life (contact month and carry-over). ``measure_campaigns`` measures the result from contract
tables; the true effect is the expectation of the same process with and without contact
(many paths, common random numbers), averaged over the selected customers.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from cvm.campaigns.measurement import measure_campaigns

pytestmark = pytest.mark.slow


def _world(n: int, seed: int):
    from cvm.data.simulator.history import run_history
    from cvm.data.simulator.params import load_params
    from cvm.data.simulator.timeline import Timeline
    from cvm.data.simulator.world import build_world

    p = load_params()
    tl = Timeline.build(date(2026, 9, 30), 3, int(p["burn_in_months"]), 2)
    w = build_world(n, seed, tl, 1, p)
    return w, run_history(w, progress=False).snapshot


def _respond(w, snap, contacted: np.ndarray, c: int, draws) -> np.ndarray:
    """Paid visit in the contact month or the next, contacting ``contacted`` with campaign c."""
    from cvm.data.simulator.dynamics import step

    n = w.traits.n
    st = snap.copy()
    out = np.zeros(n, bool)
    carry = float(w.p["campaigns"]["carryover"])
    for h, d in enumerate(draws):
        camp = np.full(n, -1, np.int16)
        camp[contacted] = c
        weight = np.full(n, 1.0 if h == 0 else carry, np.float32)
        mo = step(w.kernel, st, w.tl.end_month + 1 + h, d, camp, weight)
        out |= (mo.visit & mo.paid).any(axis=0)
    return out


def _measure(w, snap, sel: np.ndarray, c: int, name: str, rng) -> pd.Series:
    """One run of the campaign (random 30 % control), measured from contract tables."""
    from cvm.data.simulator.dynamics import Draws

    target = rng.random(len(sel)) >= 0.3
    real = _respond(w, snap, sel[target], c, [Draws.new(rng, w.traits.n) for _ in range(2)])
    start = pd.Timestamp("2026-10-01")
    ids = np.array([f"C{i}" for i in sel])
    contacts = pd.DataFrame(
        {
            "contact_id": np.arange(len(sel)),
            "customer_id": ids,
            "campaign": name,
            "contact_date": start,
            "group": np.where(target, "target", "control"),
            "cost": 1.0,
        }
    )
    came = real[sel]
    visits = pd.DataFrame(
        {
            "customer_id": ids[came],
            "visit_date": start + pd.Timedelta(days=20),
            "amount": 500.0,
            "payer": "customer",
        }
    )
    return measure_campaigns(
        {"campaign_contacts": contacts, "visits": visits},
        as_of="2026-11-30",
        window_days=60,
        period_start="2026-09-30",
    ).iloc[0]


@pytest.mark.parametrize("name", ["service_reminder", "reactivation_180d"])
def test_measured_lift_covers_the_true_effect(name: str) -> None:
    from cvm.data.simulator.campaigns import eligible
    from cvm.data.simulator.dynamics import Draws

    w, snap = _world(8000, 5)
    n, m0 = w.traits.n, w.tl.end_month + 1
    c = w.p["campaign_ids"].index(name)
    sel = np.flatnonzero(eligible(name, snap, w.traits, m0, w.p, w.kernel.int_mo))
    assert len(sel) > 400
    rng = np.random.default_rng(17)

    # the truth: expectation with and without contact, same customers, common random numbers
    diffs = []
    for _ in range(60):
        draws = [Draws.new(rng, n) for _ in range(2)]
        diffs.append(
            _respond(w, snap, sel, c, draws)[sel].mean()
            - _respond(w, snap, sel[:0], c, draws)[sel].mean()
        )
    true = float(np.mean(diffs))
    assert true > 0

    # 20 independent runs of the campaign: 95 % intervals cover the truth about 19 times
    runs = pd.DataFrame([_measure(w, snap, sel, c, name, rng) for _ in range(20)])
    covered = (runs["response_lift_low"] <= true) & (true <= runs["response_lift_high"])
    assert covered.sum() >= 16, (
        true,
        runs[["response_lift", "response_lift_low", "response_lift_high"]],
    )
    # and the estimate is unbiased: the mean of 20 lifts is within 3 standard errors
    assert abs(runs["response_lift"].mean() - true) < 3 * runs["response_lift_se"].mean() / 20**0.5
