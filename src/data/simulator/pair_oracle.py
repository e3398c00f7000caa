"""An oracle precise enough to judge customers: many paths on a run's eligible pairs only.

The simulator's own oracle values every customer x campaign pair on a few Monte Carlo paths
(``oracle.campaign_paths``), which is enough for the oracle *plan* but not to tell, within a
cheap campaign, which customers respond: there its two halves hardly agree. ``cvm evaluate``
therefore re-creates the simulated world from ``truth/meta.json`` (the simulator is
deterministic in its seed and arguments), and values only the pairs the run found eligible,
with as many paths as each campaign needs for its halves to agree (``pair_oracle`` in
configs/campaigns.yaml, section ``evaluation``). A pilot of ``pilot_paths`` paths measures each
campaign's half agreement r; the paths are then raised to what the normal model of noise
predicts for the target agreement, ``k = k0 * (r*/(1-r*)) / (r/(1-r))``, capped at
``max_paths``, and measured again, until the target or the cap is reached. Control variates
(both scenarios' martingale terms) are regressed out of the paired differences. Incremental
spend is the paired (common random numbers) difference of the contacted and the no-contact
scenario, exactly as in the simulator's oracle.

The two scenarios' control variates are nearly collinear (common random numbers: a contact
changes little of a lapsed customer's month), so their coefficients are fitted by ridge on
standardized columns (``cv_ridge``): unpenalized least squares once gave +3.5e8 and -3.5e8 to
the two scenarios' first-month terms on the win-back pairs of one world, and valued three
customers at 4-9 M CNY. And a customer's correction is kept only where it moves the
customer's mean by at most ``cv_check_z`` standard errors (a martingale term's path mean is
zero in expectation); else that customer's plain paired mean is used (unbiased, only less
precise; ``cv_fallback`` in the campaign's info counts them).
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cvm.config import CvmError
from cvm.data.simulator.dynamics import Draws, Kernel
from cvm.data.simulator.effects import trait_matrix
from cvm.data.simulator.history import run_history
from cvm.data.simulator.oracle import N_CV, _scenario
from cvm.data.simulator.params import load_params
from cvm.data.simulator.timeline import Timeline
from cvm.data.simulator.world import World, build_world

log = logging.getLogger("cvm.simulator")


def rebuild(truth: Path) -> tuple[World, Any, tuple[np.ndarray, float]]:
    """The world and the true state at ``end`` of the simulation whose truth is ``truth``."""
    meta = json.loads((truth / "meta.json").read_text(encoding="utf-8"))
    a = meta.get("arguments") or {}
    if not a:
        raise CvmError(
            f"{truth / 'meta.json'} has no simulator arguments: re-simulate with "
            "this version of cvm, or pass --max-oracle-paths 0 to judge with the "
            "simulator's own oracle"
        )
    from cvm.data.simulator import _deep_merge
    from cvm.data.simulator.regimes import param_overrides, parse_regimes, regime_settings

    p = _deep_merge(
        load_params(), param_overrides(parse_regimes(a.get("regimes")), regime_settings())
    )
    if meta.get("campaigns") != p["campaign_ids"]:
        raise CvmError(
            "the truth was simulated with another campaign catalogue: re-simulate, or "
            "pass --max-oracle-paths 0 to judge with the simulator's own oracle"
        )
    stored = meta.get("parameters") or {}
    now = json.loads(json.dumps({k: v for k, v in p.items() if k != "campaign_ids"}, default=str))
    if stored and stored != now:
        raise CvmError(
            "the truth was simulated with other simulator parameters "
            "(configs/simulator.yaml or the value margin changed): re-simulate, or "
            "pass --max-oracle-paths 0 to judge with the simulator's own oracle"
        )
    tl = Timeline.build(
        date.fromisoformat(a["end"]),
        float(a["years"]),
        int(p["burn_in_months"]),
        int(a["horizon_months"]),
    )
    w = build_world(int(a["n_customers"]), int(a["seed"]), tl, int(a["dealers"]), p)
    h = run_history(w, progress=False, business_as_usual=False, until_end=True)
    return w, h.snapshot, (h.carry_at_end, float(p["campaigns"]["carryover"]))


def _incremental(
    w: World,
    snap: Any,
    carry: tuple[np.ndarray, float],
    idx: np.ndarray,
    campaign: int,
    paths: range,
    ridge: float,
    beta: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Incremental value before cost (paid spend, the margin of trade-in sales, the commission
    of insurance renewals) per path (rows) and customer ``idx`` (columns) of one campaign, the
    control-variate coefficients used, and the correction (``beta . x``) per path and customer.

    Control variates: the martingale terms of both scenarios (mass x (paid visit sampled - its
    probability), zero in expectation, ``oracle.N_CV`` per scenario) are regressed out of the
    paired difference, with coefficients pooled over customers (fitted on these paths by ridge
    ``ridge`` when ``beta`` is None, e.g. the pilot, else the given ones); the uncorrected
    difference is ``out + correction``."""
    tl, p = w.tl, w.p
    months = range(tl.end_month + 1, tl.end_month + 1 + tl.horizon)
    tr = w.traits.take(idx)
    K = Kernel(
        p,
        tr,
        w.effects,
        trait_matrix(tr, p),
        w.sa.quality,
        w.sa.changed,
        w.sa.slot_staff,
        group=w.group,
    )
    sub = snap.take(idx)
    nn = len(idx)
    base = []
    if (carry[0][idx] >= 0).any():
        c0 = carry[0][idx].astype(np.int16)
        base = [(c0, np.where(c0 >= 0, carry[1], 0.0).astype(np.float32))]
    cw = float(p["campaigns"]["carryover"])
    camps = [
        (np.full(nn, campaign, np.int16), np.ones(nn, np.float32)),
        (np.full(nn, campaign, np.int16), np.full(nn, cw, np.float32)),
    ]
    margin, fee = float(p["sale_margin"]), float(p["insurance_commission"])
    out = np.zeros((len(paths), nn))
    xs = np.zeros((len(paths), 2 * N_CV, nn), np.float32)
    for j, k in enumerate(paths):
        rng = np.random.default_rng(np.random.SeedSequence([w.seed, 404, campaign, k]))
        draws = [Draws.new(rng, nn) for _ in months]
        s1, s0, r1, r0 = np.zeros(nn), np.zeros(nn), np.zeros(nn), np.zeros(nn)
        x1, x0 = np.zeros((N_CV, nn)), np.zeros((N_CV, nn))
        out[j] = (
            _scenario(K, sub, months, draws, camps, False, x1, sales=s1, renewals=r1)
            - _scenario(K, sub, months, draws, base, False, x0, sales=s0, renewals=r0)
            + margin * (s1 - s0)
            + fee * (r1 - r0)
        )
        xs[j, :N_CV], xs[j, N_CV:] = x1, x0
    if beta is None:
        beta = _fit_beta(out, xs, ridge)
    corr = np.einsum("j,pjn->pn", beta, xs)
    return out - corr, beta, corr


def _fit_beta(y: np.ndarray, x: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge coefficients of ``y`` (paths, n) on the control variates ``x`` (paths, k, n),
    pooled over customers, on within-customer deviations (as ``oracle._controlled``), with the
    penalty ``ridge`` x the number of rows on standardized columns: a direction of the columns
    with less than about ``ridge`` of their variance (the two scenarios' terms differ there
    only for a few customers) is shrunk to nothing instead of fitted to noise."""
    xd = (x - x.mean(0)).transpose(0, 2, 1).reshape(-1, x.shape[1]).astype(np.float64)
    yd = (y - y.mean(0)).ravel()
    sd = xd.std(0)
    live = sd > 0
    beta = np.zeros(x.shape[1])
    if not live.any():
        return beta
    z = xd[:, live] / sd[live]
    gram = z.T @ z + ridge * len(z) * np.eye(int(live.sum()))
    beta[live] = np.linalg.solve(gram, z.T @ yd) / sd[live]
    return beta


def _checked(x: np.ndarray, corr: np.ndarray, z: float) -> tuple[np.ndarray, int]:
    """``x`` (corrected paths, n) where each customer's correction moves its mean by at most
    ``z`` standard errors (of its plain paired mean, or of the correction's own path mean,
    whichever is larger, and at least the campaign's median of those: a control variate
    removes noise of that order, and its own mean is zero in expectation; the floor keeps a
    customer whose few paths saw no rare event, a trade-in say, from looking exact), else the
    uncorrected paths ``x + corr``; and how many customers fell back. Falling back never biases
    a customer's value, it only loses precision."""
    k = corr.shape[0]
    if k < 2:
        return x, 0
    raw = x + corr
    se = np.maximum(raw.std(0, ddof=1), corr.std(0, ddof=1)) / np.sqrt(k)
    se = np.maximum(se, float(np.median(se)))
    bad = np.abs(corr.mean(0)) > z * se + 1e-9
    return np.where(bad, raw, x), int(bad.sum())


def _agreement(x: np.ndarray) -> float:
    """Correlation over customers of the means of the even and the odd paths."""
    if x.shape[0] < 2 or x.shape[1] < 3:
        return float("nan")
    a, b = x[0::2].mean(0), x[1::2].mean(0)
    if np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def paths_needed(r: float, k0: int, target: float, cap: int) -> int:
    """Paths for half agreement ``target`` given ``r`` at ``k0`` paths (normal noise model:
    signal-to-noise grows with the paths), rounded up to even, within [k0, cap]."""
    if not np.isfinite(r) or r >= target:
        return k0
    if r <= 0:
        return cap
    k = k0 * (target / (1 - target)) / (r / (1 - r))
    return int(min(cap, max(k0, 2 * int(np.ceil(k / 2)))))


def pair_oracle(
    truth: Path, pairs: pd.DataFrame, settings: dict[str, Any], progress: bool = True
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Oracle values of ``pairs`` (customer_id, campaign): ``expected_incremental_value`` and
    its halves ``_a`` / ``_b`` (even / odd paths), ``incremental_spend_se``; and per campaign the
    paths used and the agreement of the halves."""
    from tqdm import tqdm

    w, snap, carry = rebuild(truth)
    costs = dict(zip(w.p["campaign_ids"], (float(c) for c in w.p["campaign_costs"]), strict=True))
    code = {c: i for i, c in enumerate(w.p["campaign_ids"])}
    cid = pairs["customer_id"].astype(str)
    idx_all = cid.str[1:].astype(np.int64).to_numpy()
    k0, cap = int(settings["pilot_paths"]), int(settings["max_paths"])
    target = float(settings["target_agreement"])
    ridge, zcheck = float(settings["cv_ridge"]), float(settings["cv_check_z"])
    parts, info = [], {}
    camps = sorted(pairs["campaign"].astype(str).unique())
    for c in tqdm(camps, desc="pair oracle", disable=not progress):
        if c not in code:
            raise CvmError(f"campaign {c!r} of the run is not in the simulation's catalogue")
        m = (pairs["campaign"].astype(str) == c).to_numpy()
        idx = idx_all[m]
        x, beta, corr = _incremental(w, snap, carry, idx, code[c], range(k0), ridge)
        r0 = _agreement(x)
        r, k = r0, paths_needed(r0, k0, target, cap)
        while k > len(x):  # the noise model is a guide: re-measure and extend until reached
            more = [  # batches of paths: the control variates of every path at once are large
                _incremental(w, snap, carry, idx, code[c], range(a, min(k, a + k0)), ridge, beta)
                for a in range(len(x), k, k0)
            ]
            x = np.vstack([x, *(m[0] for m in more)])
            corr = np.vstack([corr, *(m[2] for m in more)])
            r = _agreement(x)
            k = paths_needed(r, len(x), target, cap)
            if k > len(x):  # at least a pilot's worth more each round
                k = min(cap, max(k, len(x) + k0))
        x, fallback = _checked(x, corr, zcheck)
        a, b = x[0::2].mean(0), x[1::2].mean(0)
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": cid[m].to_numpy(),
                    "campaign": c,
                    "expected_incremental_value": x.mean(0) - costs[c],
                    "expected_incremental_value_a": a - costs[c],
                    "expected_incremental_value_b": b - costs[c],
                    "incremental_spend_se": x.std(0, ddof=1) / np.sqrt(len(x)),
                }
            )
        )
        info[c] = {
            "pairs": int(m.sum()),
            "paths": int(len(x)),
            "pilot_agreement": r0,
            "agreement": _agreement(x),
            "cv_fallback": fallback,
        }
        log.info(
            "pair oracle %s: %d pairs, %d paths, halves agree %.2f (%d without control variates)",
            c,
            m.sum(),
            len(x),
            info[c]["agreement"],
            fallback,
        )
    out = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["customer_id", "campaign", "expected_incremental_value"])
    )
    return out, info
