"""Each store's budget and department capacities, from the group's (``stores:`` in config).

Rules (``stores.budget_split``):

- ``active_customers`` (default): the group budget is split in proportion to each store's
  active customers (a visit in the last ``definitions.active_window_months``), in whole CNY,
  largest remainders first, so the stores' budgets add up to the group budget exactly;
- ``equal``: the same share for every store (largest remainders again);
- ``explicit``: ``stores.budgets`` gives every store's budget in CNY (a store missing from it
  is an error before any work); the group budget is then their sum.

Capacities: ``stores.capacities.<dealer_id>.<department>`` where given, else the group's
``defaults.capacity`` (configs/campaigns.yaml) times the store's budget share, rounded down
(at least 1 where the group has capacity): a store's departments are about as large as its
share of the work.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cvm.config import CvmError

RULES = ("active_customers", "equal", "explicit")


def settings(cfg: dict[str, Any]) -> dict[str, Any]:
    s = cfg.get("stores")
    if not isinstance(s, dict):
        raise CvmError("configs/default.yaml has no `stores:` section (dealer-group settings)")
    return s


def _largest_remainder(total: float, weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, float)
    if w.sum() <= 0:
        w = np.ones_like(w)
    exact = total * w / w.sum()
    whole = np.floor(exact)
    left = round(float(total - whole.sum()))
    order = np.argsort(-(exact - whole), kind="stable")
    whole[order[: max(left, 0)]] += 1
    return whole


def store_budgets(total: float, active: pd.Series, cfg: dict[str, Any]) -> pd.Series:
    """Budget per store (index ``dealer_id``, CNY); ``active`` = active customers per store."""
    s = settings(cfg)
    rule = str(s.get("budget_split", "active_customers"))
    if rule not in RULES:
        raise CvmError(f"stores.budget_split must be one of {', '.join(RULES)}, not {rule!r}")
    stores = active.index
    if rule == "explicit":
        given = {str(k): float(v) for k, v in (s.get("budgets") or {}).items()}
        missing = [d for d in stores if d not in given]
        if missing:
            raise CvmError(
                f"stores.budget_split is explicit but stores.budgets has no budget "
                f"for {', '.join(missing)}: add them (CNY) to configs/default.yaml, "
                f"or use budget_split: active_customers"
            )
        bad = [d for d in stores if given[d] < 0]
        if bad:
            raise CvmError(f"stores.budgets must be >= 0 CNY; negative for {', '.join(bad)}")
        return pd.Series([given[d] for d in stores], index=stores, name="budget", dtype=float)
    w = np.ones(len(stores)) if rule == "equal" else active.to_numpy(float)
    return pd.Series(_largest_remainder(float(total), w), index=stores, name="budget")


def store_capacities(
    group_capacity: dict[str, Any] | None, budgets: pd.Series, cfg: dict[str, Any]
) -> dict[str, dict[str, float]]:
    """Department capacities per store (``{dealer_id: {department: contacts}}``)."""
    s = settings(cfg)
    given = {str(k): dict(v or {}) for k, v in (s.get("capacities") or {}).items()}
    share = budgets / budgets.sum() if budgets.sum() > 0 else budgets * 0 + 1 / max(len(budgets), 1)
    out: dict[str, dict[str, float]] = {}
    for d in budgets.index:
        cap = {}
        for dept, c in (group_capacity or {}).items():
            cap[dept] = float(max(1, np.floor(float(c) * float(share[d])))) if c else 0.0
        cap.update({k: float(v) for k, v in given.get(d, {}).items()})
        out[d] = cap
    return out
