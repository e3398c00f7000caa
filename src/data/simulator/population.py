"""Customers' latent traits and how they enter the base (who, when, with which vehicle).

The traits drive every hazard of the simulator but are never written to the data: only noisy
observable proxies (distance_km, customer_type, has_children, mileage at visits) are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

STORE, ELSEWHERE = 0, 1


@dataclass
class Traits:
    """Static per-customer arrays (index = customer number)."""

    kind: np.ndarray  # STORE or ELSEWHERE (first vehicle)
    entry: np.ndarray  # month index of entry into the base
    entry_u: np.ndarray  # uniform in [0, 1): the day of entry within its month
    dealer: np.ndarray
    loyalty: np.ndarray
    price_sens: np.ndarray
    distance: np.ndarray  # true km
    time_sens: np.ndarray
    yearly_km: np.ndarray
    family: np.ndarray  # index into population.family_stages
    commercial: np.ndarray
    company: np.ndarray
    base_sat: np.ndarray
    dog: np.ndarray
    income: np.ndarray  # 0 low, 1 mid, 2 high
    band0: np.ndarray  # price band of the first vehicle
    age0_months: np.ndarray  # age of the first vehicle at entry (0 when sold here)
    sa_slot: np.ndarray  # service-advisor slot (see staff)
    move_month: np.ndarray | None = None  # dealer groups: month of a move to a sister store
    move_to: np.ndarray | None = None  # and the store moved to (None: one store)

    @property
    def n(self) -> int:
        return len(self.kind)

    def take(self, idx: np.ndarray) -> Traits:
        """The traits of a subset of customers."""
        return Traits(
            **{  # type: ignore[arg-type]
                f: None if getattr(self, f) is None else getattr(self, f)[idx]
                for f in self.__dataclass_fields__
            }
        )

    def store_at(self, m: int | np.ndarray) -> np.ndarray:
        """The store each customer uses in month ``m`` (home store unless moved by then)."""
        if self.move_month is None:
            return self.dealer
        return np.where(np.asarray(m) >= self.move_month, self.move_to, self.dealer).astype(  # type: ignore[arg-type]
            np.int16
        )

    @property
    def kids(self) -> np.ndarray:
        return np.isin(self.family, (2, 3))


def make_traits(
    rng: np.random.Generator,
    p: dict[str, Any],
    kind: np.ndarray,
    entry: np.ndarray,
    dealer: np.ndarray,
    sa_slot: np.ndarray,
) -> Traits:
    """Draw latent traits; correlations: loyalty~satisfaction, income~band, commercial~price."""
    pop, veh = p["population"], p["vehicles"]
    n = len(kind)
    z = rng.standard_normal((n, 6)).astype(np.float32)
    u = rng.random((n, 6))
    company = u[:, 0] < pop["company_share"]
    commercial = company | (u[:, 1] < pop["ride_hailing_share"])
    family = rng.choice(len(pop["family_probs"]), size=n, p=pop["family_probs"]).astype(np.int8)
    income = np.digitize(z[:, 0], [-0.6, 0.9]).astype(np.int8)
    band_logit = 0.9 * (income - 1) + 0.6 * z[:, 1]
    cut = np.quantile(band_logit, np.cumsum(veh["band_probs"])[:-1]) if n > 10 else [-0.5, 0.8]
    band0 = np.digitize(band_logit, cut).astype(np.int8)
    loyalty = z[:, 2]
    base_sat = (0.45 * loyalty + np.sqrt(1 - 0.45**2) * z[:, 3]).astype(np.float32)
    price_sens = (z[:, 4] - 0.35 * (income - 1) + 0.6 * commercial).astype(np.float32)
    kids_young = family == 2
    time_sens = (z[:, 5] + 0.5 * kids_young + 0.4 * company).astype(np.float32)
    distance = np.exp(
        np.log(pop["distance_median_km"]) + pop["distance_sigma"] * rng.standard_normal(n)
    ).astype(np.float32)
    ykm = np.exp(np.log(pop["yearly_km_median"]) + pop["yearly_km_sigma"] * rng.standard_normal(n))
    ykm = (ykm * np.where(commercial, pop["commercial_km_factor"], 1.0)).astype(np.float32)
    dog_score = price_sens - base_sat + 0.5 * rng.standard_normal(n)
    dog = dog_score > np.quantile(dog_score, 1 - pop["dog_share"]) if n > 1 else np.zeros(n, bool)
    age0 = np.where(
        kind == ELSEWHERE, rng.integers(4, 12 * veh["elsewhere_age_years_max"], size=n), 0
    ).astype(np.int32)
    return Traits(
        kind=kind.astype(np.int8),
        entry=entry.astype(np.int32),
        entry_u=u[:, 2],
        dealer=dealer.astype(np.int16),
        loyalty=loyalty,
        price_sens=price_sens,
        distance=distance,
        time_sens=time_sens,
        yearly_km=ykm,
        family=family,
        commercial=commercial,
        company=company,
        base_sat=base_sat,
        dog=dog,
        income=income,
        band0=band0,
        age0_months=age0,
        sa_slot=sa_slot.astype(np.int32),
    )


def entry_plan(
    rng: np.random.Generator,
    p: dict[str, Any],
    n: int,
    won_months: np.ndarray,
    start_month: int,
    end_month: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Kinds and entry months: won leads become in-window store sales, the rest is drawn.

    ``won_months`` are the months of in-window sales to new customers (from the lead pool);
    they come first so customer number i < len(won_months) is the buyer of won lead i.
    """
    pop = p["population"]
    n_won = min(len(won_months), n)
    n_pre = min(int(round(n * pop["pre_window_share"])), n - n_won)
    n_in_else = n - n_won - n_pre
    kind = np.empty(n, np.int8)
    entry = np.empty(n, np.int32)
    kind[:n_won] = STORE
    entry[:n_won] = won_months[:n_won]
    pre_kind = np.where(rng.random(n_pre) < pop["store_sold_share"], STORE, ELSEWHERE)
    kind[n_won : n_won + n_pre] = pre_kind
    entry[n_won : n_won + n_pre] = rng.integers(0, max(start_month, 1), size=n_pre)
    kind[n_won + n_pre :] = ELSEWHERE
    entry[n_won + n_pre :] = rng.integers(start_month, end_month + 1, size=n_in_else)
    return kind, entry
