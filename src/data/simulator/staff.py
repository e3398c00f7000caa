"""Service advisors and sales consultants as "slots" whose occupants leave and are replaced.

A customer belongs to an SA slot; when the occupant leaves, the customer's familiar advisor is
gone (a churn driver) and the next visit is handled by the replacement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Roster:
    """Staff of one role: who occupies each slot in each month."""

    role: str
    slot_dealer: np.ndarray  # dealer of each slot
    slot_staff: np.ndarray  # (n_slots, n_months) global staff index within this roster
    changed: np.ndarray  # (n_slots, n_months) True when a new occupant starts that month
    staff_slot: np.ndarray  # slot of each staff member
    hire_month: np.ndarray  # may be negative (hired before the simulation)
    leave_month: np.ndarray  # -1 while still employed at the end of the simulation
    quality: np.ndarray  # latent service quality (sd units), never written out

    @property
    def n_staff(self) -> int:
        return len(self.staff_slot)


def slots_per_dealer(customers_per_dealer: np.ndarray, per_slot: int) -> np.ndarray:
    """At least three people per store, one per ``per_slot`` customers."""
    return np.maximum(3, np.ceil(customers_per_dealer / per_slot)).astype(np.int64)


def make_roster(
    rng: np.random.Generator, role: str, slots: np.ndarray, n_months: int, leave_rate: float
) -> Roster:
    """Occupancy of every slot month by month; monthly leave probability ``leave_rate``."""
    slot_dealer = np.repeat(np.arange(len(slots)), slots).astype(np.int16)
    n_slots = len(slot_dealer)
    changed = rng.random((n_slots, n_months)) < leave_rate
    changed[:, 0] = False
    per_slot = changed.sum(axis=1) + 1
    offsets = np.concatenate([[0], np.cumsum(per_slot)[:-1]])
    slot_staff = (offsets[:, None] + np.cumsum(changed, axis=1)).astype(np.int32)
    n_staff = int(per_slot.sum())
    staff_slot = np.repeat(np.arange(n_slots), per_slot).astype(np.int32)
    hire = np.empty(n_staff, np.int32)
    leave = np.full(n_staff, -1, np.int32)
    s_idx, m_idx = np.nonzero(changed)
    new_staff = slot_staff[s_idx, m_idx]
    hire[new_staff] = m_idx
    leave[new_staff - 1] = m_idx
    hire[offsets] = -rng.integers(1, 96, size=n_slots)
    quality = rng.standard_normal(n_staff).astype(np.float32)
    return Roster(
        role=role,
        slot_dealer=slot_dealer,
        slot_staff=slot_staff,
        changed=changed,
        staff_slot=staff_slot,
        hire_month=hire,
        leave_month=leave,
        quality=quality,
    )


def assign_slots(rng: np.random.Generator, dealer: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """A random slot of the customer's own dealer for each customer."""
    first = np.concatenate([[0], np.cumsum(slots)[:-1]])
    return (first[dealer] + np.floor(rng.random(len(dealer)) * slots[dealer])).astype(np.int32)
