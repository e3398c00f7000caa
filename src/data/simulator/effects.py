"""Campaign effects: who responds to which campaign, and by how much.

Each customer's response to campaign c is sigmoid(base + coefficients . traits), scaled by the
campaign's largest effects on the visit probability, on winning back a defected customer, on
avoiding defection at the next service decision and on trading in. Sleeping dogs (a latent
flag, more likely among price-sensitive, dissatisfied customers) get none of that and may
defect because they were contacted. The traits used have observable proxies, so uplift is
learnable from the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cvm.data.simulator.population import Traits

FEATURES = ("loyalty", "price_sens", "distance", "time_sens", "sat", "kids", "commercial")


@dataclass
class Effects:
    """Per-campaign effect sizes (last entry = "no campaign", all zero) and responses."""

    visit: np.ndarray
    winback: np.ndarray
    retention: np.ndarray
    trade_in: np.ndarray
    renewal: np.ndarray  # raises P(insurance policy renewed at the store) at its end
    dog: np.ndarray
    coef: np.ndarray  # (n_campaigns, len(FEATURES))
    base: np.ndarray  # (n_campaigns,)

    @property
    def n_campaigns(self) -> int:
        return len(self.base)


def make_effects(p: dict[str, Any]) -> Effects:
    """Effect sizes of the catalogue campaigns, in catalogue order."""
    cat = p["campaigns"]["catalogue"]
    ids = p["campaign_ids"]

    def col(key: str) -> np.ndarray:
        return np.array([float(cat[c][key]) for c in ids] + [0.0], np.float32)

    coef = np.array(
        [[float(cat[c]["resp"].get(f, 0.0)) for f in FEATURES] for c in ids], np.float32
    ).reshape(len(ids), len(FEATURES))
    base = np.array([float(cat[c]["resp"].get("base", 0.0)) for c in ids], np.float32)
    return Effects(
        visit=col("visit"),
        winback=col("winback"),
        retention=col("retention"),
        trade_in=col("trade_in"),
        renewal=col("renewal"),
        dog=col("dog"),
        coef=coef,
        base=base,
    )


def trait_matrix(tr: Traits, p: dict[str, Any]) -> np.ndarray:
    """Standardised trait columns in FEATURES order (float32, n x k)."""
    dist = (
        np.log(tr.distance / p["population"]["distance_median_km"])
        / p["population"]["distance_sigma"]
    )
    return np.column_stack(
        [
            tr.loyalty,
            tr.price_sens,
            dist,
            tr.time_sens,
            tr.base_sat,
            tr.kids.astype(np.float32) * 2 - 1,
            tr.commercial.astype(np.float32) * 2 - 1,
        ]
    ).astype(np.float32)


def response(eff: Effects, x: np.ndarray, campaign: np.ndarray) -> np.ndarray:
    """Response in (0, 1) of each customer to their campaign (index; -1 = none -> 0)."""
    c = np.clip(campaign, 0, None)
    logit = eff.base[c] + np.einsum("ij,ij->i", x, eff.coef[c])
    return np.where(campaign >= 0, 1.0 / (1.0 + np.exp(-logit)), 0.0).astype(np.float32)
