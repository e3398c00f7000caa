"""Control groups: seeded, stratified, the configured share, recorded with cost 0."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvm.campaigns.control import assign_control, contact_records


def _plan(n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "campaign": rng.choice(["a", "b", "c"], n),
            "value_tag": rng.choice(list("ABCD"), n),
            "channel": "phone",
            "cost": 50.0,
        }
    )


def test_share_per_stratum_and_seed() -> None:
    plan = _plan()
    out = assign_control(plan, share=0.2, seed=7, strata=["campaign", "value_tag"])
    assert set(out["group"]) == {"target", "control"}
    shares = out.groupby(["campaign", "value_tag"])["group"].apply(
        lambda g: (g == "control").mean()
    )
    assert shares.between(0.12, 0.28).all()
    again = assign_control(
        plan.sample(frac=1, random_state=1), share=0.2, seed=7, strata=["campaign", "value_tag"]
    )
    assert out.set_index("customer_id")["group"].equals(
        again.set_index("customer_id")["group"].reindex(out["customer_id"])
    )
    other = assign_control(plan, share=0.2, seed=8, strata=["campaign", "value_tag"])
    assert not other["group"].equals(out["group"])


def test_records_never_charge_control() -> None:
    out = assign_control(_plan(100), share=0.3, seed=1, strata=["campaign"])
    rec = contact_records(out, "2026-10-01")
    assert len(rec) == 100 and rec["contact_id"].is_unique
    assert (rec.loc[rec["group"] == "control", "cost"] == 0).all()
    assert (rec.loc[rec["group"] == "target", "cost"] == 50).all()
