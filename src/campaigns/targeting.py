"""The plan: at most one campaign per customer, under a total budget and department capacities.

Expected incremental value of a pair = uplift (P(return) points) x value at stake - unit cost.
The choice maximizes the sum of expected incremental values. It is a multiple-choice knapsack
with side constraints: solved exactly with ``scipy.optimize.milp`` (HiGHS) when small enough,
else by Lagrangian relaxation (prices on budget and capacities, bisection) plus a greedy fill.
The tests measure its gap (and plain value-per-cost greedy's) on random small instances to the
milp optimum; ``lp_bound`` bounds the gap on the real instance.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from cvm.campaigns.catalogue import Campaign, campaign_settings
from cvm.config import CvmError

log = logging.getLogger(__name__)


def value_at_stake(
    customers: pd.DataFrame,
    value_col: str = "predicted_value",
    churn_col: str = "churn_probability",
    cfg: dict[str, Any] | None = None,
) -> pd.Series:
    """What a won return is worth per customer: predicted horizon spend given a return.

    ``predicted_value / P(return)`` with ``P(return) = 1 - churn_probability`` floored at
    ``value_at_stake.min_return_probability``, capped at a quantile of the base.
    """
    for col in (value_col, churn_col):
        if col not in customers.columns:
            raise CvmError(f"value at stake needs column {col!r} (value and churn model outputs)")
    s = campaign_settings(cfg).value_at_stake
    p_return = (1.0 - customers[churn_col].astype(float)).clip(lower=s.min_return_probability)
    stake = customers[value_col].astype(float).clip(lower=0) / p_return
    cap = stake.quantile(s.cap_quantile)
    return stake.clip(upper=cap).fillna(0.0).rename("value_at_stake")


def score_pairs(
    pairs: pd.DataFrame,
    uplift: pd.Series | np.ndarray,
    stake: pd.Series,
    catalogue: dict[str, Campaign],
    customer_col: str = "customer_id",
) -> pd.DataFrame:
    """Add department, channel, cost, uplift, value_at_stake, expected_incremental_value.

    ``uplift`` is aligned with ``pairs`` rows; ``stake`` is indexed by customer id. Campaigns
    with a fixed ``value_per_return`` use it instead of the customer's value at stake.
    """
    out = pairs.copy()
    camp = out["campaign"]
    unknown = set(camp.unique()) - set(catalogue)
    if unknown:
        raise CvmError(f"pairs name campaigns not in the catalogue: {sorted(unknown)}")
    out["department"] = camp.map({k: c.department for k, c in catalogue.items()}).astype(str)
    out["channel"] = camp.map({k: c.channel for k, c in catalogue.items()}).astype(str)
    out["cost"] = camp.map({k: c.unit_cost for k, c in catalogue.items()}).astype(float)
    out["uplift"] = np.asarray(uplift, dtype=float)
    vs = out[customer_col].map(stake).astype(float).fillna(0.0).to_numpy()
    fixed = (
        camp.map(
            {
                k: (c.value_per_return if c.value_basis == "fixed" else np.nan)
                for k, c in catalogue.items()
            }
        )
        .astype(float)
        .to_numpy()
    )
    out["value_at_stake"] = np.where(np.isnan(fixed), vs, fixed)
    out["expected_incremental_value"] = out["uplift"] * out["value_at_stake"] - out["cost"]
    return out


def calibrate_values(
    scored: pd.DataFrame,
    spend_effect: dict[str, float],
    spend_se: dict[str, float],
    cfg: dict[str, Any] | None = None,
    margin: np.ndarray | None = None,
    margin_weight: dict[str, float] | None = None,
    extra_value: np.ndarray | None = None,
    flat: Collection[str] = (),
    at_risk: Collection[str] = (),
    risk: np.ndarray | None = None,
    by_value: Collection[str] = (),
) -> pd.DataFrame:
    """Expected incremental value calibrated to the spend the history measured.

    ``scored`` (from ``score_pairs``) carries ``uplift x value_at_stake`` per pair: a 90-day
    response uplift times a value per return. Per campaign, its mean over this month's pairs is
    the prior of an empirical-Bayes mean of incremental spend per contact, the measurement being
    the history's incremental paid spend over the horizon (``UpliftModel.spend_effect``,
    ``spend_se``; ``uplift.calibrate_spend``). Each pair keeps a damped share
    ``spend_calibration.heterogeneity`` of its deviation from the campaign mean:
    ``value = m_c + h * (uplift * stake - mean_c) - cost``. Adds ``model_value`` (the
    uncalibrated ``uplift x stake``), ``campaign_spend_mean`` (m_c) and ``campaign_spend_sd``
    (its posterior sd); ``attrs['calibration']`` holds the per-campaign prior, measurement and
    result.

    With ``margin`` (the learned per-customer incremental margin over the horizon, aligned with
    the rows; ``UpliftModel.margin_pairs``) the per-customer part is instead
    ``margin_weight[c] * (margin - mean_c(margin))``: the weight is 0 where the history could not
    show that the margin model ranks (``UpliftModel.margin_weight``), and every customer of
    that campaign gets its measured mean. ``extra_value`` (CNY per row, e.g. an insurance
    renewal's commission times the renewal uplift) is added as it is. Adds ``margin_value``
    and ``margin_weight``. Campaigns in ``flat`` (catalogue ``spread: flat``) get no spread by
    stake or model: every pair the campaign mean (the margin model's part where it validated).
    With ``deviation: stake``, campaigns in ``at_risk`` (``spread: at_risk``) spread it by the
    value at risk instead, ``risk x value_at_stake`` with ``risk`` each row's churn probability
    (``_stake_deviation``): a contact can only move the return of a customer who would
    otherwise not come, so a retention campaign earns in proportion to what would be lost.
    Campaigns in ``by_value`` (``spread: value``) spread it by the expected value,
    ``(1 - risk) x value_at_stake``: a reminder moves the visits of customers who come, so it
    earns in proportion to what they spend.
    """
    from cvm.campaigns.uplift import spend_posterior

    sc = campaign_settings(cfg).uplift.spend_calibration
    out = scored.copy()
    raw = (out["uplift"] * out["value_at_stake"]).to_numpy(float)
    camp = out["campaign"].astype(str).to_numpy()
    mean_pred = pd.Series(raw).groupby(camp).mean().to_dict()
    both = spend_posterior(
        mean_pred, spend_effect, spend_se, sc.prior_rel_sd, sc.prior_min_sd, sc.transport_sd
    )
    post = {c: m for c, (m, _) in both.items()}
    h = sc.heterogeneity
    m = pd.Series(camp).map(post).to_numpy(float)
    out["campaign_spend_sd"] = (
        pd.Series(camp).map({c: s for c, (_, s) in both.items()}).to_numpy(float)
    )
    mu = pd.Series(camp).map(mean_pred).to_numpy(float)
    out["model_value"] = raw
    out["campaign_spend_mean"] = m
    if margin is not None:
        tau = np.nan_to_num(np.asarray(margin, float), nan=0.0)
        tau_mu = pd.Series(tau).groupby(camp).transform("mean").to_numpy(float)
        w = pd.Series(camp).map(margin_weight or {}).fillna(0.0).to_numpy(float)
        out["margin_value"] = tau
        out["margin_weight"] = w
        dev = w * (tau - tau_mu)
        if sc.deviation == "stake":  # not validated: the customer's stake carries the spread
            dev = np.where(w > 0, dev, h * _stake_deviation(out, camp, m, at_risk, risk, by_value))
    elif sc.deviation == "stake":
        dev = h * _stake_deviation(out, camp, m, at_risk, risk, by_value)
    else:
        dev = h * (raw - mu)
    if len(flat):
        keep = (w > 0) if margin is not None else np.zeros(len(out), bool)
        dev = np.where(np.isin(camp, list(flat)) & ~keep, 0.0, dev)
    extra = 0.0 if extra_value is None else np.asarray(extra_value, float)
    out["expected_incremental_value"] = m + dev + extra - out["cost"].to_numpy(float)
    out.attrs["calibration"] = {
        c: {
            "model_mean": float(mean_pred[c]),
            "measured": spend_effect.get(c),
            "se": spend_se.get(c),
            "calibrated": post[c],
            "calibrated_sd": both[c][1],
        }
        for c in mean_pred
    }
    return out


def _stake_deviation(
    out: pd.DataFrame,
    camp: np.ndarray,
    m: np.ndarray,
    at_risk: Collection[str] = (),
    risk: np.ndarray | None = None,
    by_value: Collection[str] = (),
) -> np.ndarray:
    """Per pair: the campaign's calibrated mean ``m`` x (value at stake / its campaign mean
    - 1): a campaign that earns ``m`` per contact on average earns it in proportion to what
    each customer has at stake (the same response, a different value). For campaigns in
    ``at_risk`` the weight is the value at risk, ``risk x value_at_stake`` (the same relative
    effect on the chance of not returning: ``1 - (1 - p)(1 - e)``); for campaigns in
    ``by_value`` the expected value, ``(1 - risk) x value_at_stake`` (the same relative
    effect on the visits of a customer who comes)."""
    stake = out["value_at_stake"].to_numpy(float)
    if len(at_risk) or len(by_value):
        if risk is None:
            raise CvmError("spread at_risk or value needs each pair's churn probability (risk)")
        r = np.clip(np.nan_to_num(np.asarray(risk, float), nan=0.0), 0.0, 1.0)
        stake = np.where(np.isin(camp, list(at_risk)), r * stake, stake)
        stake = np.where(np.isin(camp, list(by_value)), (1.0 - r) * stake, stake)
    mean = pd.Series(stake).groupby(camp).transform("mean").to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(mean > 0, stake / mean - 1.0, 0.0)
    return np.nan_to_num(np.maximum(m, 0.0) * rel)


def renewal_commission(
    scored: pd.DataFrame,
    catalogue: dict[str, Campaign],
    value_cfg: dict[str, Any] | None = None,
    measured: dict[str, dict[str, Any]] | None = None,
    months_left: pd.Series | None = None,
    months_since_paid: pd.Series | None = None,
    recent_months: float | None = None,
) -> np.ndarray:
    """Per pair: what the insurance renewals a contact brings are worth, for campaigns with
    ``renewal_commission: true``: the renewal uplift times ``influence.insurance_commission``
    (configs/value.yaml, the value model's settings; the simulator's truth counts the same
    commission); 0 for other campaigns.

    The renewal uplift is the measured one (``measured``: ``measurement.renewal_uplift``,
    target vs control renewals of past contacts), by whole month of lead to the policy's end
    (``months_left``: the pair's ``insurance_months_left``) where that month was measured,
    else the campaign's; a campaign not measured (no insurance end dates, too few known
    contacts) falls back to the response uplift as the renewal's proxy. Where the history
    measured the uplift by state too (``by_state``: a paid visit in the last
    ``recent_months`` or not; ``months_since_paid``: the pair's
    ``months_since_last_paid_visit``, missing = lapsed), the state's difference from the
    campaign's uplift is added (main effects of lead month and state)."""
    from cvm.config import load_config

    vc = value_cfg if value_cfg is not None else load_config("value")
    fee = float(vc["influence"]["insurance_commission"])
    camp = scored["campaign"].astype(str).to_numpy()
    on = pd.Series(camp).map({k: c.renewal_commission for k, c in catalogue.items()})
    on = on.fillna(False).to_numpy(bool)
    out = np.where(on, scored["uplift"].to_numpy(float).clip(min=0) * fee, 0.0)
    measured = measured or {}
    lead = (
        np.floor(pd.to_numeric(months_left, errors="coerce").to_numpy(float))
        if months_left is not None
        else np.full(len(scored), np.nan)
    )
    for c, r in measured.items():
        m = on & (camp == c)
        if not m.any():
            continue
        u = np.full(len(scored), float(r["uplift"]))
        for L, rl in (r.get("by_lead_month") or {}).items():
            u[lead == int(L)] = float(rl["uplift"])
        states = r.get("by_state") or {}
        if months_since_paid is not None and recent_months is not None and len(states) == 2:
            ms = pd.to_numeric(months_since_paid, errors="coerce").to_numpy(float)
            rec = np.nan_to_num(ms, nan=np.inf) < float(recent_months)
            base = float(r["uplift"])
            u = u + np.where(
                rec, states["recent"]["uplift"] - base, states["lapsed"]["uplift"] - base
            )
        out[m] = u[m] * fee
    return out


def plan_campaigns(
    pairs_with_value: pd.DataFrame,
    budget: float,
    capacity: dict[str, int | float] | None = None,
    seed: int = 0,
    method: str | None = None,
    cfg: dict[str, Any] | None = None,
    value_col: str = "expected_incremental_value",
    customer_col: str = "customer_id",
) -> pd.DataFrame:
    """Choose at most one campaign per customer maximizing total expected incremental value.

    Constraints: sum of ``cost`` <= ``budget``; rows per ``department`` <= ``capacity[dept]``
    (missing department = unlimited). Pairs with value <= ``planner.min_expected_value`` are
    never chosen. ``method``: ``milp`` (exact), ``lagrangian``, ``greedy`` (value per cost) or ``auto``
    (config default: milp up to ``planner.milp_max_pairs`` candidate pairs, else lagrangian).
    Returns the chosen rows (all input columns) sorted by value; ``attrs`` holds the method,
    the LP upper bound when computed, and the spend.
    """
    for col in (customer_col, "campaign", "cost", "department", value_col):
        if col not in pairs_with_value.columns:
            raise CvmError(f"plan_campaigns needs column {col!r}")
    if budget < 0:
        raise CvmError(f"budget must be >= 0, got {budget}")
    p = campaign_settings(cfg).planner
    method = method or p.method
    floor = p.min_expected_value
    cand = pairs_with_value[pairs_with_value[value_col] > floor]
    cand = cand[cand["cost"] <= budget].reset_index(drop=True)
    capacity = dict(capacity or {})
    if method == "auto":
        method = "milp" if len(cand) <= p.milp_max_pairs else "lagrangian"
    chosen: np.ndarray | None
    if cand.empty:
        chosen = np.zeros(0, dtype=int)
    elif method == "greedy":
        chosen = _greedy(cand, budget, capacity, seed, value_col, customer_col)
    elif method == "lagrangian":
        chosen = _lagrangian(
            cand, budget, capacity, seed, value_col, customer_col, p.lagrangian_rounds
        )
    elif method == "milp":
        chosen = _milp(cand, budget, capacity, value_col, customer_col, p.milp_time_limit_s)
        if chosen is None:
            log.warning("milp found no solution in time; falling back to lagrangian")
            method = "lagrangian"
            chosen = _lagrangian(
                cand, budget, capacity, seed, value_col, customer_col, p.lagrangian_rounds
            )
    else:
        raise CvmError(f"unknown planner method {method!r}; use auto, milp, lagrangian or greedy")
    plan = cand.iloc[chosen].sort_values(value_col, ascending=False, kind="stable")
    plan = plan.reset_index(drop=True)
    plan.attrs.update(
        method=method,
        budget=float(budget),
        spend=float(plan["cost"].sum()),
        expected_value=float(plan[value_col].sum()),
    )
    log.info(
        "plan (%s): %d customers, spend %.0f of %.0f, expected value %.0f",
        method,
        len(plan),
        plan.attrs["spend"],
        budget,
        plan.attrs["expected_value"],
    )
    return plan


def _greedy(
    cand: pd.DataFrame,
    budget: float,
    capacity: dict[str, float],
    seed: int,
    value_col: str,
    customer_col: str,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """Take pairs by value per cost (ties: random, seeded) while budget and capacity allow.

    ``start``: rows already taken (their customers, cost and capacity are used up first).
    """
    rng = np.random.default_rng(seed)
    value = cand[value_col].to_numpy(float)
    cost = cand["cost"].to_numpy(float)
    order = np.lexsort((rng.random(len(cand)), -value, -value / cost))
    cust = pd.factorize(cand[customer_col])[0]
    dept_codes, dept_names = pd.factorize(cand["department"])
    left_cap = np.array([float(capacity.get(d, np.inf)) for d in dept_names])
    used = np.zeros(cust.max() + 1, dtype=bool)
    left = float(budget)
    take: list[int] = []
    for i in start if start is not None else []:
        take.append(int(i))
        used[cust[i]] = True
        left -= cost[i]
        left_cap[dept_codes[i]] -= 1
    for i in order:
        if used[cust[i]] or cost[i] > left or left_cap[dept_codes[i]] < 1:
            continue
        take.append(i)
        used[cust[i]] = True
        left -= cost[i]
        left_cap[dept_codes[i]] -= 1
    return np.array(take, dtype=int)


def _lagrangian(
    cand: pd.DataFrame,
    budget: float,
    capacity: dict[str, float],
    seed: int,
    value_col: str,
    customer_col: str,
    rounds: int,
) -> np.ndarray:
    """Lagrangian relaxation, then a greedy fill of what is left.

    With prices ``lam`` per CNY and ``mu[d]`` per contact of department d, each customer takes
    the campaign maximizing ``value - lam*cost - mu[d]`` when positive. ``lam`` is the smallest
    price that keeps spend within budget (bisection); each ``mu[d]`` in turn the smallest that
    keeps department d within capacity (coordinate rounds). The result is feasible; leftover
    budget and capacity are filled by value per cost.
    """
    v = cand[value_col].to_numpy(float)
    c = cand["cost"].to_numpy(float)
    cust = pd.factorize(cand[customer_col])[0]
    dc, dn = pd.factorize(cand["department"])
    cap = np.array([float(capacity.get(d, np.inf)) for d in dn])
    # the customers in blocks by their number of pairs, each block's values, costs and
    # departments gathered once: the inner step runs ~800 times a plan
    parts = _customer_blocks(cust)
    prices = _Prices([(R, v[R], c[R], dc[R]) for _, R in parts], c, len(dn))
    back = np.argsort(np.concatenate([who for who, _ in parts]), kind="stable")

    def select(lam: float, mu: np.ndarray) -> np.ndarray:
        """The rows taken at these prices, in customer order."""
        b, r, _, _ = prices.best(prices.subset(), lam, mu)
        return r[back][b[back] > 0]

    mu = np.zeros(len(dn))
    lam_hi = float(np.max(v / c)) + 1.0
    mu_hi = float(np.max(np.abs(v))) + 1.0
    lam = prices.smallest_lam(mu, budget, lam_hi)
    for _ in range(rounds):
        changed = False
        for k in range(len(dn)):
            if not np.isfinite(cap[k]):
                continue
            new = prices.smallest_mu(lam, mu, k, cap[k], mu_hi)
            changed |= abs(new - mu[k]) > 1e-9
            mu[k] = new
        new_lam = prices.smallest_lam(mu, budget, lam_hi)
        changed |= abs(new_lam - lam) > 1e-12
        lam = new_lam
        if not changed:
            break
    sel = select(lam, mu)
    # lam was set last: the budget holds; a department may overflow after lam moved: trim it
    keep = np.ones(len(sel), dtype=bool)
    for k in range(len(dn)):
        idx = np.flatnonzero(dc[sel] == k)
        if len(idx) > cap[k]:
            worst = idx[np.argsort(v[sel][idx])][: len(idx) - int(cap[k])]
            keep[worst] = False
    return _greedy(cand, budget, capacity, seed, value_col, customer_col, start=sel[keep])


def _customer_blocks(cust: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The rows of each customer as dense blocks, one per number of pairs a customer has:
    ``(customers, rows)`` with ``rows[i]`` customer ``customers[i]``'s rows in ascending order.
    A price's best pair per customer is then one ``argmax`` along each block's rows (the
    Lagrangian's inner step, run ~800 times a plan), not a segmented reduction."""
    order = np.lexsort((np.arange(len(cust)), cust))
    sizes = np.bincount(cust)
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    out = []
    for n in np.unique(sizes[sizes > 0]):
        who = np.flatnonzero(sizes == n)
        out.append((who, order[first[who][:, None] + np.arange(n)]))
    return out


class _Prices:
    """Each customer's best pair at prices (``lam`` per CNY, ``mu[d]`` per contact of
    department d), and the Lagrangian's two bisections over them, evaluated on the customers
    whose answer a price could still change.

    A customer's best adjusted value ``value - lam * cost - mu[d]`` only falls as ``lam`` or a
    ``mu[d]`` rises, in floating point too (each operation rounds monotonically). So once a
    bisection step leaves a customer out at its lower bound, it is out over the rest of the
    interval; a customer taken at both bounds with the same, clearly best pair keeps it in
    between; a customer off department d at a ``mu[d]`` stays off it above. Each step then
    computes only the undecided customers, with the same arithmetic per pair, and the
    bisections visit the same midpoints and end at the same prices as evaluating every
    customer at every step (tested, ties included).
    """

    def __init__(self, blocks: list[tuple], cost: np.ndarray, departments: int) -> None:
        self.blocks = blocks  # (rows, values, costs, departments) per _customer_blocks block
        sizes = [len(R) for R, *_ in blocks]
        self.starts = np.r_[0, np.cumsum(sizes)].astype(np.intp)
        self.n = int(self.starts[-1])
        self.cost = cost
        # any order of summing the taken pairs' costs lies within this of any other order
        self.sum_error = 8.0 * np.finfo(float).eps * max(len(cost), 1) * float(cost.sum())
        self.dept = [  # per department: the customers (block order) with a pair in it
            np.concatenate(
                [
                    np.flatnonzero((db == k).any(1)) + s
                    for (_, _, _, db), s in zip(blocks, self.starts, strict=False)
                ]
                or [np.zeros(0, np.intp)]
            )
            for k in range(departments)
        ]

    def subset(self, who: np.ndarray | None = None) -> list[tuple]:
        """The blocks' arrays of the customers ``who`` (sorted block-order positions; None:
        all), gathered once for the steps of a bisection."""
        if who is None:
            return list(self.blocks)
        cut = np.searchsorted(who, self.starts)
        out = []
        for i, (R, vb, cb, db) in enumerate(self.blocks):
            local = who[cut[i] : cut[i + 1]] - self.starts[i]
            out.append((R[local], vb[local], cb[local], db[local]))
        return out

    @staticmethod
    def shrink(sub: list[tuple], keep: np.ndarray) -> list[tuple]:
        """``sub`` without the customers where ``keep`` (in ``sub``'s order) is False."""
        out, at = [], 0
        for R, vb, cb, db in sub:
            k = keep[at : at + len(R)]
            at += len(R)
            out.append((R, vb, cb, db) if k.all() else (R[k], vb[k], cb[k], db[k]))
        return out

    @staticmethod
    def best(
        sub: list[tuple], lam: float, mu: np.ndarray, gaps: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Best adjusted value, row and department of each customer of ``sub`` (ties: the
        first row); with ``gaps``, how far the best lies above the second best (inf: one
        pair; without, an empty array)."""
        bs, rs, ds, gs = [], [], [], []
        for R, vb, cb, db in sub:
            if not len(R):
                continue
            adj = vb - lam * cb - mu[db]
            if adj.shape[1] == 1:
                bs.append(adj[:, 0])
                rs.append(R[:, 0])
                ds.append(db[:, 0])
                if gaps:
                    gs.append(np.full(len(adj), np.inf))
                continue
            pick = np.arange(len(adj))
            k = adj.argmax(1)
            bs.append(adj[pick, k])
            rs.append(R[pick, k])
            ds.append(db[pick, k])
            if gaps:
                rest = adj.copy()
                rest[pick, k] = -np.inf
                gs.append(bs[-1] - rest.max(1))
        if not bs:
            e = np.zeros(0)
            return e, e.astype(np.intp), e.astype(np.intp), e
        return (
            np.concatenate(bs),
            np.concatenate(rs),
            np.concatenate(ds),
            np.concatenate(gs) if gaps else np.zeros(0),
        )

    def smallest_lam(self, mu: np.ndarray, budget: float, hi: float) -> float:
        """The smallest ``lam`` (bisection from [0, hi], 40 steps) whose plan costs at most
        ``budget``, the plan's cost summed over the taken rows in block order (as the planner
        always summed it: where another order's sum lies within ``sum_error`` of the budget,
        that sum decides).

        A customer taken at both bounds with the same best pair, by more than ``tol`` over
        its second best at each, keeps that pair in between: the differences of two pairs'
        adjusted values are linear in ``lam``, and ``tol`` is ~10^6 times the rounding of an
        adjusted value, so no rounding can make another pair win there."""
        scale = max(
            max((float(np.abs(vb).max()) for _, vb, *_ in self.blocks if vb.size), default=0.0),
            hi * float(np.abs(self.cost).max(initial=0.0)),
            float(np.abs(mu).max(initial=0.0)),
        )
        tol = 1e-9 * (1.0 + scale)
        b, r, _, g = self.best(self.subset(), 0.0, mu, gaps=True)
        if self.cost[r[b > 0]].sum() <= budget:
            return 0.0
        row = np.full(self.n, -1, dtype=np.intp)  # decided customers: the row taken, or -1
        who = np.flatnonzero(b > 0)  # undecided: taken at the lower bound ...
        lo_row, lo_gap = r[who], g[who]
        sub = self.subset(who)
        fixed_cost = 0.0

        def settle(b, r, g):  # ... until taken at the upper bound too, as at the lower
            return (b > 0) & (r == lo_row) & (g > tol) & (lo_gap > tol)

        b, r, _, g = self.best(sub, hi, mu, gaps=True)
        fixed = settle(b, r, g)
        row[who[fixed]] = r[fixed]
        fixed_cost += float(self.cost[r[fixed]].sum())
        who, lo_row, lo_gap, sub = (
            who[~fixed],
            lo_row[~fixed],
            lo_gap[~fixed],
            self.shrink(sub, ~fixed),
        )
        lo = 0.0
        for _ in range(40):
            mid = (lo + hi) / 2
            b, r, _, g = self.best(sub, mid, mu, gaps=True)
            spend = fixed_cost + float(self.cost[r[b > 0]].sum())
            if abs(spend - budget) <= self.sum_error:  # too close to call: the planner's sum
                full = row.copy()
                full[who] = np.where(b > 0, r, -1)
                spend = float(self.cost[full[full >= 0]].sum())
            if spend <= budget:
                hi = mid
                fixed = settle(b, r, g)
                row[who[fixed]] = r[fixed]
                fixed_cost += float(self.cost[r[fixed]].sum())
                keep = ~fixed
                who, lo_row, lo_gap = who[keep], lo_row[keep], lo_gap[keep]
            else:
                lo = mid
                keep = b > 0  # out at the new lower bound: out above it
                who, lo_row, lo_gap = who[keep], r[keep], g[keep]
            sub = self.shrink(sub, keep)
        return hi

    def smallest_mu(self, lam: float, mu: np.ndarray, k: int, capacity: float, hi: float) -> float:
        """The smallest ``mu[k]`` (bisection from [0, hi], 40 steps, the other prices as they
        are) at which at most ``capacity`` customers take a pair of department ``k``."""
        mm = mu.copy()

        def inside(m: float, sub: list[tuple]) -> np.ndarray:
            mm[k] = m
            b, _, d, _ = self.best(sub, lam, mm)
            return (b > 0) & (d == k)

        sub = self.subset(self.dept[k])
        at = inside(0.0, sub)
        if at.sum() <= capacity:
            return 0.0
        sub = self.shrink(sub, at)  # undecided: inside at the lower bound ...
        at = inside(hi, sub)
        n_in, sub = int(at.sum()), self.shrink(sub, ~at)  # ... and not yet at the upper bound
        lo = 0.0
        for _ in range(40):
            mid = (lo + hi) / 2
            at = inside(mid, sub)
            if n_in + int(at.sum()) <= capacity:
                hi = mid
                n_in, sub = n_in + int(at.sum()), self.shrink(sub, ~at)
            else:
                lo = mid
                sub = self.shrink(sub, at)
        return hi


def lp_bound(
    pairs: pd.DataFrame,
    budget: float,
    capacity: dict[str, int | float] | None = None,
    value_col: str = "expected_incremental_value",
    customer_col: str = "customer_id",
) -> float:
    """Upper bound on any plan's total value: the LP relaxation's optimum (HiGHS)."""
    cand = pairs[(pairs[value_col] > 0) & (pairs["cost"] <= budget)].reset_index(drop=True)
    if cand.empty:
        return 0.0
    A, ub = _constraints(cand, budget, dict(capacity or {}), customer_col)
    res = linprog(-cand[value_col].to_numpy(float), A_ub=A, b_ub=ub, bounds=(0, 1), method="highs")
    if res.status != 0:
        raise CvmError(f"LP bound failed: {res.message}")
    return float(-res.fun)


def _constraints(
    cand: pd.DataFrame, budget: float, capacity: dict[str, float], customer_col: str
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Rows: one campaign per customer, budget, department capacities."""
    n = len(cand)
    cust = pd.factorize(cand[customer_col])[0]
    rows = [sparse.csr_matrix((np.ones(n), (cust, np.arange(n))), shape=(cust.max() + 1, n))]
    ub = [np.ones(cust.max() + 1)]
    rows.append(sparse.csr_matrix(cand["cost"].to_numpy(float)[None, :]))
    ub.append(np.array([float(budget)]))
    dept_codes, dept_names = pd.factorize(cand["department"])
    for k, d in enumerate(dept_names):
        if d in capacity:
            rows.append(sparse.csr_matrix((dept_codes == k).astype(float)[None, :]))
            ub.append(np.array([float(capacity[d])]))
    return sparse.vstack(rows).tocsr(), np.concatenate(ub)


def _milp(
    cand: pd.DataFrame,
    budget: float,
    capacity: dict[str, float],
    value_col: str,
    customer_col: str,
    time_limit: float,
) -> np.ndarray | None:
    """Exact choice with HiGHS; None when no feasible solution was found in time."""
    n = len(cand)
    A, ub = _constraints(cand, budget, capacity, customer_col)
    res = milp(
        c=-cand[value_col].to_numpy(float),
        constraints=LinearConstraint(A, -np.inf, ub),
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit, "disp": False},
    )
    if res.x is None:
        return None
    if res.status != 0:
        log.info("milp stopped early (%s); using its best solution", res.message)
    return np.flatnonzero(res.x > 0.5)
