"""A dealer group: stores that differ, customers who move between them or use two of them.

Used only with ``dealers > 1`` (``--dealers N``); a one-store world draws nothing here, so
``--dealers 1`` keeps today's data byte for byte. Every draw comes from its own seeded
stream (``SeedSequence([seed, 401..404])``), the other streams of the simulator stay as they
are. Settings: ``dealer_group`` in configs/simulator.yaml; the model: docs/simulator.md
("Dealer groups").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

NEVER_MOVES = np.int32(2**30)


@dataclass
class StoreGroup:
    """Per-store parameters (index = store number; ``D01`` is store 0, the largest)."""

    weight: np.ndarray  # share of the group's customers and leads
    price_level: np.ndarray  # factor on the store's customer-paid tickets
    quality_shift: np.ndarray  # added to its advisors' quality (sd units)
    wait_factor: np.ndarray  # factor on its waiting times
    turnover: np.ndarray  # factor on its advisors' monthly leave rate

    @property
    def n(self) -> int:
        return len(self.weight)

    def to_dict(self) -> dict[str, list[float]]:
        return {
            k: [round(float(x), 6) for x in getattr(self, k)]
            for k in ("weight", "price_level", "quality_shift", "wait_factor", "turnover")
        }


def _rng(seed: int, key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, key]))


def draw_group(seed: int, dealers: int, p: dict[str, Any]) -> StoreGroup:
    """Store sizes (largest first) and how each store serves: price, quality, waits, turnover."""
    g = p["dealer_group"]
    rng = _rng(seed, 401)
    z = rng.standard_normal((5, dealers))
    w = np.sort(np.exp(float(g["size_sigma"]) * z[0]))[::-1]
    return StoreGroup(
        weight=w / w.sum(),
        price_level=np.exp(float(g["price_level_sd"]) * z[1]),
        quality_shift=float(g["service_quality_sd"]) * z[2],
        wait_factor=np.exp(float(g["wait_sd"]) * z[3]),
        turnover=np.exp(float(g["turnover_sd"]) * z[4]),
    )


def pick_stores(rng: np.random.Generator, weight: np.ndarray, n: int) -> np.ndarray:
    """``n`` store numbers drawn with the stores' weights."""
    return np.minimum(
        np.searchsorted(np.cumsum(weight), rng.random(n), side="right"), len(weight) - 1
    ).astype(np.int16)


def other_store(rng: np.random.Generator, weight: np.ndarray, home: np.ndarray) -> np.ndarray:
    """A sister store for each of ``home`` (never the same store), drawn by size."""
    k = len(weight)
    out = np.empty(len(home), np.int16)
    u = rng.random(len(home))
    for s in range(k):
        sel = home == s
        if not sel.any():
            continue
        w = weight.copy()
        w[s] = 0.0
        w = w / w.sum()
        out[sel] = np.minimum(np.searchsorted(np.cumsum(w), u[sel], side="right"), k - 1)
    return out


def draw_moves(
    seed: int,
    group: StoreGroup,
    dealer: np.ndarray,
    entry: np.ndarray,
    last_month: int,
    p: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray]:
    """Who moves to a sister store and when: (move month or NEVER_MOVES, destination store).

    A ``move_share`` of customers moves once, in a month uniform between entry and the last
    simulated month (the horizon included: a mover in the horizon is lost to the store and
    retained for the group)."""
    rng = _rng(seed, 402)
    n = len(dealer)
    moves = rng.random(n) < float(p["dealer_group"]["move_share"])
    span = np.maximum(last_month - np.maximum(entry, 0), 1)
    month = (np.maximum(entry, 0) + 1 + np.floor(rng.random(n) * span)).astype(np.int32)
    dest = other_store(rng, group.weight, dealer)
    return np.where(moves, month, NEVER_MOVES).astype(np.int32), np.where(
        moves, dest, dealer
    ).astype(np.int16)


def visit_stores(
    seed: int, key: int, group: StoreGroup, home_now: np.ndarray, p: dict[str, Any]
) -> np.ndarray:
    """The store of each visit: the customer's store that month, or with
    ``cross_service_share`` a sister store, drawn by size (a one-off service near work).
    ``key`` separates the record sets (the history with its horizon, business as usual)."""
    rng = _rng(seed, key)
    cross = rng.random(len(home_now)) < float(p["dealer_group"]["cross_service_share"])
    return np.where(cross, other_store(rng, group.weight, home_now), home_now).astype(np.int16)


def purchase_stores(
    seed: int, group: StoreGroup, home_now: np.ndarray, p: dict[str, Any]
) -> np.ndarray:
    """The store of each trade-in purchase: the customer's store, or with
    ``cross_purchase_share`` a sister store (service at one store, buy at another)."""
    rng = _rng(seed, 405)
    cross = rng.random(len(home_now)) < float(p["dealer_group"]["cross_purchase_share"])
    return np.where(cross, other_store(rng, group.weight, home_now), home_now).astype(np.int16)
