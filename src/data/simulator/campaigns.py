"""Past campaigns: each month, eligible customers are selected and split target / control.

Eligibility uses only what the store can see (months since the last visit or service, vehicle
age, recent spend), like a real CRM rule; the effect itself is in ``effects`` and ``dynamics``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cvm.data.simulator.dynamics import State
from cvm.data.simulator.population import Traits


def eligible(
    name: str, st: State, tr: Traits, m: int, p: dict[str, Any], int_mo: np.ndarray
) -> np.ndarray:
    """Customers the CRM rule of campaign ``name`` would select in month ``m``."""
    e = p["eligibility"]
    act = tr.entry < m
    since_visit = m - st.last_visit
    age = m - st.purchase
    rules = {
        "service_reminder": lambda: (
            (since_visit <= e["reminder_last_visit_max"]) & (m - st.last_svc >= int_mo[st.band] - 1)
        ),
        "second_service_retention": lambda: (
            (st.svc_n == 1)
            & (age >= e["second_service_age"][0])
            & (age <= e["second_service_age"][1])
        ),
        "pre_warranty_package": lambda: (
            (age >= e["pre_warranty_age"][0]) & (age <= e["pre_warranty_age"][1])
        ),
        "high_value_care": lambda: (
            (st.ema_spend >= e["high_value_ema_spend"])
            & (since_visit <= e["high_value_last_visit_max"])
        ),
        "value_activation": lambda: (
            (since_visit <= 12) & (st.ema_spend < e["activation_ema_spend_max"])
        ),
        "reactivation_180d": lambda: (
            (since_visit >= e["reactivation_since_visit"][0])
            & (since_visit <= e["reactivation_since_visit"][1])
        ),
        "win_back": lambda: (
            (since_visit >= e["win_back_since_visit"][0])
            & (since_visit <= e["win_back_since_visit"][1])
        ),
        "insurance_renewal": lambda: (
            (age % 12 == 11) & (since_visit <= e["insurance_last_visit_max"])
        ),
        "trade_in_upgrade": lambda: (
            (age >= e["trade_in_age_min"]) & (since_visit <= e["trade_in_last_visit_max"])
        ),
        "referral_invitation": lambda: since_visit <= e["referral_last_visit_max"],
    }
    rule = rules.get(name)
    if rule is None:  # a catalogue campaign the simulator has no rule for: a random slice
        return act & (since_visit <= 12)
    return act & rule()


def select_month(
    rng: np.random.Generator,
    st: State,
    tr: Traits,
    m: int,
    p: dict[str, Any],
    int_mo: np.ndarray,
    resting: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Campaign selections of month ``m``: (customer, campaign index, is_target) arrays.

    One campaign per customer per month (catalogue order = priority); a share ``share`` of the
    eligible is drawn and ``control_share`` of them is held out. Customers in ``resting``
    (contacted last month, ``campaigns.rest_month_after_contact``) are not selected.
    """
    cfg = p["campaigns"]
    taken = np.zeros(tr.n, bool) if resting is None else resting.copy()
    cust, camp, target = [], [], []
    for c, name in enumerate(p["campaign_ids"]):
        spec = cfg["catalogue"][name]
        if m % int(spec["every"]) != 0:
            continue
        el = eligible(name, st, tr, m, p, int_mo) & ~taken
        u = rng.random(tr.n)
        if cfg.get("selection") == "targeted":  # regime confounded: the store's ranking picks
            pick = el & _targeted(u, st, m, el, float(spec["share"]), float(cfg["rank_noise"]))
        else:
            pick = el & (u < spec["share"])
        idx = np.flatnonzero(pick)
        taken[idx] = True
        cust.append(idx)
        camp.append(np.full(len(idx), c, np.int16))
        ctrl = (cfg.get("control_share_by_campaign") or {}).get(name, cfg["control_share"])
        target.append(rng.random(len(idx)) >= float(ctrl))
    if not cust:
        return np.zeros(0, np.int64), np.zeros(0, np.int16), np.zeros(0, bool)
    return np.concatenate(cust), np.concatenate(camp), np.concatenate(target)


def _targeted(
    u: np.ndarray, st: State, m: int, el: np.ndarray, share: float, noise: float
) -> np.ndarray:
    """The top ``share`` of the eligible by the store's ranking: 12-month spend and recency
    (observable), plus ``noise`` in rank units; the draws ``u`` are the same as random selection."""
    out = np.zeros(len(el), bool)
    idx = np.flatnonzero(el)
    if len(idx) == 0:
        return out
    rank = lambda a: np.argsort(np.argsort(a, kind="stable"), kind="stable") / max(len(a) - 1, 1)  # noqa: E731
    score = rank(st.ema_spend[idx]) + rank(-(m - st.last_visit[idx]).astype(float)) + noise * u[idx]
    k = int(round(share * len(idx)))
    out[idx[np.argsort(-score, kind="stable")[:k]]] = True
    return out
