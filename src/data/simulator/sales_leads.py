"""Sales leads: a pool of prospects whose conversion depends on observable lead features.

Won leads closed by ``end`` become the store's new customers in the data window (their sale
is the customer's entry); leads still open at ``end`` get their outcome in truth/leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cvm.data.simulator.dynamics import sigmoid
from cvm.data.simulator.timeline import Timeline

SOURCES = ("walk_in", "phone", "online", "referral", "auto_show", "oem", "existing_owner")


@dataclass
class LeadPool:
    created: np.ndarray  # datetime64[D]
    source: np.ndarray  # index into SOURCES
    band: np.ndarray  # price band of the model of interest
    model_pick: np.ndarray  # uniform: which model of the band
    budget: np.ndarray
    test_drive: np.ndarray
    td_days: np.ndarray  # days from creation to the test drive
    followups: np.ndarray  # follow-ups over the lead's whole life
    p_convert: np.ndarray
    won: np.ndarray
    closed: np.ndarray  # datetime64[D]: date won or lost
    dealer: np.ndarray
    sc_pick: np.ndarray  # uniform: which sales-consultant slot
    stage_noise: np.ndarray
    defeat: np.ndarray  # index into sales.defeat_reasons

    def __len__(self) -> int:
        return len(self.won)


def _draw(
    rng: np.random.Generator,
    p: dict[str, Any],
    size: int,
    tl: Timeline,
    dealers: int,
    weight: np.ndarray | None = None,
) -> LeadPool:
    s, v = p["sales"], p["vehicles"]
    names = list(s["source_probs"])
    probs = np.array([s["source_probs"][k] for k in names], float)
    src_local = rng.choice(len(names), size=size, p=probs / probs.sum())
    source = np.array([SOURCES.index(k) for k in names])[src_local].astype(np.int8)
    band = rng.choice(3, size=size, p=v["band_probs"]).astype(np.int8)
    price = np.array(v["band_price"], float)[band]
    gap = rng.normal(0, 0.3, size)
    budget = np.round(price * np.exp(gap) / 1000) * 1000
    test_drive = rng.random(size) < s["test_drive_share"]
    followups = rng.poisson(1.5 + 2.0 * test_drive).astype(np.int16)
    src_logit = np.array([s["source_logit"].get(k, 0.0) for k in SOURCES])[source]
    lg = (
        s["lead_conversion_logit"]
        + src_logit
        + s["test_drive_coef"] * test_drive
        + s["followup_coef"] * followups
        + s["budget_gap_coef"] * np.abs(gap)
    )
    pc = sigmoid(lg)
    won = rng.random(size) < pc
    first = tl.start_day
    span = int((tl.end_day - first).astype(int)) + 1
    created = first + rng.integers(0, span, size=size).astype("timedelta64[D]")
    dur = np.maximum(1, np.exp(np.log(s["lead_days_median"]) + 0.6 * rng.standard_normal(size)))
    closed = created + dur.astype(np.int64).astype("timedelta64[D]")
    return LeadPool(
        created=created,
        source=source,
        band=band,
        model_pick=rng.random(size),
        budget=budget,
        test_drive=test_drive,
        td_days=rng.integers(0, 10, size=size).astype(np.int16),
        followups=followups,
        p_convert=pc.astype(np.float32),
        won=won,
        closed=closed,
        dealer=_dealers(rng, size, dealers, weight),
        sc_pick=rng.random(size),
        stage_noise=rng.normal(0, 0.15, size),
        defeat=rng.integers(0, len(s["defeat_reasons"]), size=size).astype(np.int8),
    )


def _dealers(
    rng: np.random.Generator, size: int, dealers: int, weight: np.ndarray | None
) -> np.ndarray:
    """The store of each lead: uniform (one store), or by the stores' sizes (a dealer group)."""
    if weight is None:
        return rng.integers(0, dealers, size=size).astype(np.int16)
    from cvm.data.simulator.stores import pick_stores

    return pick_stores(rng, weight, size)


def make_lead_pool(
    rng: np.random.Generator,
    p: dict[str, Any],
    n_won_target: int,
    tl: Timeline,
    dealers: int,
    weight: np.ndarray | None = None,
) -> LeadPool:
    """A pool sized so that about ``n_won_target`` leads are won by ``end``."""
    pilot = _draw(np.random.default_rng(rng.integers(2**62)), p, 4000, tl, dealers, weight)
    rate = max(1e-3, float((pilot.won & (pilot.closed <= tl.end_day)).mean()))
    size = max(1, int(round(n_won_target / rate)))
    return _draw(rng, p, size, tl, dealers, weight)
