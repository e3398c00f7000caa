"""Oracle expectations as of ``end``: P(no paid visit), expected paid spend, campaign uplift.

Method: Monte Carlo over the exact monthly kernel, started from each customer's true state at
``end``, with common random numbers across scenarios (no campaign, and each catalogue campaign
contacted in the first horizon month). Two estimators reduce variance:
- P(no paid visit in H) is estimated by importance sampling: paid visits are never sampled and
  each path is weighted by the product over months of P(no paid visit | path state);
- expected spend sums, month by month, the conditional expected paid spend given the path state
  (Rao-Blackwellized), instead of sampled amounts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from cvm.data.simulator.dynamics import Draws, Kernel, State, step
from cvm.data.simulator.effects import trait_matrix
from cvm.data.simulator.world import World

log = logging.getLogger("cvm.simulator")


@dataclass
class Oracle:
    p_no_paid: np.ndarray        # (S, n): scenario 0 = no contact, s = campaign s - 1
    spend: np.ndarray            # (S, n)
    se_p: np.ndarray             # (S, n) Monte Carlo standard errors
    se_spend: np.ndarray
    se_uplift: np.ndarray        # (C, n) standard error of the uplift (paired, CRN)
    se_incr: np.ndarray


def _scenario(K: Kernel, snap: State, months: range, draws: list[Draws], c: int, carry: float,
              suppress: bool) -> np.ndarray:
    st = snap.copy()
    n = K.tr.n
    acc = np.ones(n, np.float64) if suppress else np.zeros(n, np.float64)
    for h, m in enumerate(months):
        camp = w = None
        if c >= 0 and h < 2:
            camp = np.full(n, c, np.int16)
            w = np.full(n, 1.0 if h == 0 else carry, np.float32)
        mo = step(K, st, m, draws[h], camp, w, suppress_paid=suppress)
        if suppress:
            acc *= mo.weight
        else:
            acc += mo.exp_spend
    return acc


def compute_oracle(w: World, snap: State, paths: int, chunk: int, progress: bool = True,
                   campaign_paths: int | None = None) -> Oracle:
    """Oracle arrays for every customer and scenario (chunked over customers).

    The no-contact scenario uses ``paths`` paths; campaign scenarios use the first
    ``campaign_paths`` of them (paired with the same paths of the no-contact scenario).
    """
    cp = min(paths, campaign_paths or paths)
    tl, p = w.tl, w.p
    n = w.traits.n
    C = w.effects.n_campaigns
    S = C + 1
    months = range(tl.end_month + 1, tl.end_month + 1 + tl.horizon)
    carry = float(p["campaigns"]["carryover"])
    res = {k: np.zeros((S, n), np.float32) for k in ("p", "s", "sep", "ses")}
    se_u = np.zeros((C, n), np.float32)
    se_i = np.zeros((C, n), np.float32)
    starts = list(range(0, n, chunk))
    for ci, a in enumerate(tqdm(starts, desc="oracle", disable=not progress)):
        idx = np.arange(a, min(n, a + chunk))
        tr = w.traits.take(idx)
        K = Kernel(p, tr, w.effects, trait_matrix(tr, p), w.sa.quality, w.sa.changed, w.sa.slot_staff)
        sub = snap.take(idx)
        pv = np.zeros((paths, S, len(idx)))
        sv = np.zeros((paths, S, len(idx)))
        for k in range(paths):
            rng = np.random.default_rng(np.random.SeedSequence([w.seed, 202, ci, k]))
            draws = [Draws.new(rng, len(idx)) for _ in months]
            for s in range(S if k < cp else 1):
                pv[k, s] = _scenario(K, sub, months, draws, s - 1, carry, True)
                sv[k, s] = _scenario(K, sub, months, draws, s - 1, carry, False)
        base_p, base_s = pv[:, 0].mean(0), sv[:, 0].mean(0)
        # campaigns: paired difference with the baseline on the same paths, added to the
        # all-paths baseline (a control variate)
        up = (pv[:cp, :1] - pv[:cp, 1:]).mean(0)
        inc = (sv[:cp, 1:] - sv[:cp, :1]).mean(0)
        res["p"][0, idx], res["s"][0, idx] = base_p, base_s
        res["p"][1:, idx] = np.clip(base_p[None, :] - up, 0, 1)
        res["s"][1:, idx] = np.maximum(base_s[None, :] + inc, 0)
        if paths > 1:
            res["sep"][:, idx] = pv[:, 0].std(0, ddof=1) / np.sqrt(paths)
            res["ses"][:, idx] = sv[:, 0].std(0, ddof=1) / np.sqrt(paths)
        if cp > 1:
            se_u[:, idx] = (pv[:cp, :1] - pv[:cp, 1:]).std(0, ddof=1) / np.sqrt(cp)
            se_i[:, idx] = (sv[:cp, 1:] - sv[:cp, :1]).std(0, ddof=1) / np.sqrt(cp)
    return Oracle(p_no_paid=res["p"], spend=res["s"], se_p=res["sep"], se_spend=res["ses"],
                  se_uplift=se_u, se_incr=se_i)
