"""On simulated data: the plan's true incremental value against the oracle plan and baselines.

The oracle plan knows every true effect (``truth/oracle_campaigns.parquet``) and is chosen by
the same optimizer, over the same eligible pairs, budget and capacities. It is chosen on one
half of the oracle's Monte Carlo paths and every plan is scored on the other half, so the
oracle is not credited with the noise it picked. The baselines, on the same eligible pairs,
budget, capacities, cool-downs and control share:

- ``campaign_means``: campaigns ranked by their control-group-measured mean, customers at
  random within each (mean of seeded draws); ``targeting_lift`` = (plan - campaign_means) /
  (oracle - campaign_means) is the share of the achievable gain from choosing customers;
- ``random_eligible``: eligible pairs in random order (mean of seeded draws);
- ``store_rules``: what a store does without cvm (``store_rules`` in configs/campaigns.yaml);
- ``value_at_risk_first``: churn probability x predicted value, the rule a CRM would use;
- ``highest_risk_first``: churn probability alone.

The rank-based baselines give each customer the eligible campaign with the largest catalogue
prior (ties: the cheaper one). Only target rows count. Only ``cvm evaluate`` and benchmarks
call this module (it reads the truth).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from cvm.campaigns.catalogue import Campaign, campaign_settings, defaults, load_catalogue
from cvm.campaigns.control import assign_control
from cvm.campaigns.targeting import plan_campaigns
from cvm.config import CvmError
from cvm.data.ids import ids
from cvm.settings import StoreRule

log = logging.getLogger(__name__)

KEY = ["customer_id", "campaign"]


def _keyed(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["customer_id"] = ids(out["customer_id"]).to_numpy()
    out["campaign"] = out["campaign"].astype(str).to_numpy()
    return out


def true_values(
    pairs: pd.DataFrame, oracle: pd.DataFrame, value_col: str = "expected_incremental_value"
) -> np.ndarray:
    """The oracle's expected incremental value of each (customer, campaign) row of ``pairs``."""
    o = _keyed(oracle[KEY + [value_col]]).set_index(KEY)[value_col]
    idx = pd.MultiIndex.from_frame(_keyed(pairs[KEY]))
    vals = o.reindex(idx).to_numpy(float)
    if np.isnan(vals).any():
        raise CvmError(
            f"{int(np.isnan(vals).sum())} plan rows have no oracle value "
            "(customer or campaign unknown to the truth)"
        )
    return vals


def plan_true_value(
    plan: pd.DataFrame,
    oracle_campaigns: pd.DataFrame,
    groups: tuple[str, ...] = ("target",),
    value_col: str = "expected_incremental_value",
) -> float:
    """Sum of the true expected incremental value over the plan's contacted rows."""
    rows = plan if "group" not in plan.columns else plan[plan["group"].isin(groups)]
    return float(true_values(rows, oracle_campaigns, value_col).sum()) if len(rows) else 0.0


def _control(plan: pd.DataFrame, share: float | None, seed: int) -> pd.DataFrame:
    strata = ["campaign"] + (["value_tag"] if "value_tag" in plan.columns else [])
    return assign_control(plan, share=share, seed=seed, strata=strata)


def oracle_plan(
    oracle_campaigns: pd.DataFrame,
    eligible: pd.DataFrame,
    budget: float,
    capacity: dict[str, float] | None = None,
    seed: int = 0,
    control_share: float | None = None,
    value_col: str = "expected_incremental_value",
) -> pd.DataFrame:
    """The plan chosen knowing every true effect (``value_col``), over the same eligible pairs
    and limits. ``eligible`` needs customer_id, campaign, department, cost.
    """
    pairs = _keyed(eligible.drop(columns=["expected_incremental_value"], errors="ignore"))
    pairs["expected_incremental_value"] = true_values(pairs, oracle_campaigns, value_col)
    plan = plan_campaigns(pairs, budget, capacity, seed=seed)
    return _control(plan, control_share, seed)


def _fill(p: pd.DataFrame, budget: float, capacity: dict[str, float] | None) -> pd.DataFrame:
    """Rows of ``p`` taken in their order: one per customer, while budget and capacity allow."""
    cap = {d: float(v) for d, v in (capacity or {}).items()}
    left = float(budget)
    used: set[Any] = set()
    take = []
    for i, (cid, cost, dept) in enumerate(
        zip(
            p["customer_id"].to_numpy(),
            p["cost"].to_numpy(float),
            p["department"].to_numpy(),
            strict=True,
        )
    ):
        if cid in used or cost > left or cap.get(dept, np.inf) < 1:
            continue
        take.append(i)
        used.add(cid)
        left -= cost
        cap[dept] = cap.get(dept, np.inf) - 1
    return p.iloc[take].reset_index(drop=True)


def _best_prior(eligible: pd.DataFrame, catalogue: dict[str, Campaign]) -> pd.DataFrame:
    """Per customer, the eligible campaign with the largest catalogue prior (ties: cheaper)."""
    p = _keyed(eligible)
    p["_prior"] = p["campaign"].map({k: c.prior_uplift for k, c in catalogue.items()})
    p = p.sort_values(
        ["customer_id", "_prior", "cost"], ascending=[True, False, True], kind="stable"
    ).drop_duplicates("customer_id")
    return p.drop(columns="_prior")


def _ranked_first(
    eligible: pd.DataFrame,
    score: pd.Series | np.ndarray,
    budget: float,
    capacity: dict[str, float] | None,
    catalogue: dict[str, Campaign] | None,
    seed: int,
    control_share: float | None,
) -> pd.DataFrame:
    """Customers by descending ``score`` (aligned with ``eligible``; ties random), each with the
    eligible campaign of largest catalogue prior, within the limits."""
    catalogue = catalogue or load_catalogue()
    e = eligible.assign(_score=np.asarray(score, dtype=float))
    p = _best_prior(e, catalogue)
    rng = np.random.default_rng(seed)
    p["_tie"] = rng.random(len(p))
    p = p.sort_values(["_score", "_tie"], ascending=[False, True], kind="stable")
    plan = _fill(p.drop(columns=["_score", "_tie"]), budget, capacity)
    return _control(plan, control_share, seed)


def highest_risk_first_plan(
    eligible: pd.DataFrame,
    budget: float,
    capacity: dict[str, float] | None = None,
    catalogue: dict[str, Campaign] | None = None,
    risk_col: str = "churn_probability",
    seed: int = 0,
    control_share: float | None = None,
) -> pd.DataFrame:
    """Contact the highest churn risk first: per customer the eligible campaign with the largest
    catalogue prior uplift (ties: cheaper), customers by descending risk, within the limits."""
    if risk_col not in eligible.columns:
        raise CvmError(f"highest-risk-first needs column {risk_col!r} in the eligible pairs")
    return _ranked_first(
        eligible, eligible[risk_col], budget, capacity, catalogue, seed, control_share
    )


def value_at_risk_first_plan(
    eligible: pd.DataFrame,
    budget: float,
    capacity: dict[str, float] | None = None,
    catalogue: dict[str, Campaign] | None = None,
    seed: int = 0,
    control_share: float | None = None,
) -> pd.DataFrame:
    """The rule a CRM would use: customers by churn probability x predicted value, descending,
    each with the eligible campaign of largest catalogue prior, within the limits."""
    for col in ("churn_probability", "predicted_value"):
        if col not in eligible.columns:
            raise CvmError(f"value-at-risk-first needs column {col!r} in the eligible pairs")
    risk = eligible["churn_probability"].astype(float) * eligible["predicted_value"].astype(float)
    return _ranked_first(
        eligible, risk.fillna(0.0), budget, capacity, catalogue, seed, control_share
    )


def random_eligible_plan(
    eligible: pd.DataFrame,
    budget: float,
    capacity: dict[str, float] | None = None,
    seed: int = 0,
    control_share: float | None = None,
) -> pd.DataFrame:
    """Eligible pairs in a random (seeded) order, one per customer, within the limits."""
    p = _keyed(eligible)
    p = p.iloc[np.random.default_rng(seed).permutation(len(p))]
    return _control(_fill(p, budget, capacity), control_share, seed)


def campaign_means_plan(
    eligible: pd.DataFrame,
    budget: float,
    capacity: dict[str, float] | None = None,
    seed: int = 0,
    control_share: float | None = None,
) -> pd.DataFrame:
    """Campaigns by their measured mean incremental value, customers at random within each.

    Every pair of a campaign gets the campaign's control-group-measured mean per contact
    (``campaign_spend_mean``, the run's calibrated measurement; else the campaign's mean
    expected value) minus its cost, plus a seeded jitter far below any difference between
    campaigns, and the run's planner chooses. What a plan gains over this one comes from
    choosing customers within campaigns.
    """
    p = _keyed(eligible)
    if "campaign_spend_mean" in p.columns:
        v = p["campaign_spend_mean"].astype(float) - p["cost"].astype(float)
    else:
        v = p.groupby("campaign")["expected_incremental_value"].transform("mean")
    jitter = np.random.default_rng(seed).random(len(p)) * 1e-6
    p["expected_incremental_value"] = v.to_numpy(float) + jitter
    return _control(plan_campaigns(p, budget, capacity, seed=seed), control_share, seed)


def store_rules_plan(
    eligible: pd.DataFrame,
    budget: float,
    capacity: dict[str, float] | None = None,
    seed: int = 0,
    control_share: float | None = None,
    cfg: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """What a store does without cvm (``store_rules`` in ``configs/campaigns.yaml``): campaigns
    in a fixed priority, each to its eligible customers sorted by a plain column (reminders to
    the most due, win-back to the lost with the highest past spend, ...), within the limits."""
    rules = list(campaign_settings(cfg).store_rules)
    p = _keyed(eligible)
    listed = [r.campaign for r in rules]
    rest = sorted(set(p["campaign"]) - set(listed))
    rules += [StoreRule(campaign=c, order_by="paid_spend_12m", ascending=False) for c in rest]
    rng = np.random.default_rng(seed)
    parts = []
    for r in rules:
        part = p[p["campaign"] == r.campaign]
        col = r.order_by
        if part.empty:
            continue
        tie = rng.random(len(part))
        if col in part.columns:
            key = part[col].astype(float).fillna(-np.inf if not r.ascending else np.inf)
            order = np.lexsort((tie, key.to_numpy() if r.ascending else -key.to_numpy()))
        else:
            log.warning(
                "store rules: %s has no column %r; its customers in random order", r.campaign, col
            )
            order = np.argsort(tie)
        parts.append(part.iloc[order])
    ordered = pd.concat(parts, ignore_index=True) if parts else p.iloc[:0]
    return _control(_fill(ordered, budget, capacity), control_share, seed)


def _contrib(plan: pd.DataFrame, oracle: pd.DataFrame, value_col: str) -> pd.Series:
    """True incremental value per customer over the plan's target rows."""
    rows = plan if "group" not in plan.columns else plan[plan["group"] == "target"]
    if rows.empty:
        return pd.Series(dtype=float)
    vals = true_values(rows, oracle, value_col)
    return pd.Series(vals, index=_keyed(rows)["customer_id"].to_numpy()).groupby(level=0).sum()


def _lift_ci(
    plan: pd.Series,
    base: pd.Series,
    orc: pd.Series,
    universe: pd.Index,
    reps: int,
    confidence: float,
    seed: int,
) -> list[float] | None:
    """Poisson-bootstrap interval over customers of ``(plan - base) / (oracle - base)``."""
    P, B, Q = (s.reindex(universe).fillna(0.0).to_numpy() for s in (plan, base, orc))
    if len(universe) == 0 or reps <= 0:
        return None
    w = np.random.default_rng(seed).poisson(1.0, size=(reps, len(universe))).astype(float)
    den = w @ (Q - B)
    ok = den > 0
    if not ok.any():
        return None
    lift = (w @ (P - B))[ok] / den[ok]
    a = (1.0 - confidence) / 2
    return [float(np.quantile(lift, a)), float(np.quantile(lift, 1 - a))]


def _half_agreement(pairs: pd.DataFrame, oracle: pd.DataFrame) -> dict[str, float]:
    """Per campaign: correlation of the oracle's two independent halves over the eligible pairs
    (how well the oracle can judge customers within that campaign)."""
    cols = ["expected_incremental_value_a", "expected_incremental_value_b"]
    if not set(cols) <= set(oracle.columns):
        return {}
    a = true_values(pairs, oracle, cols[0])
    b = true_values(pairs, oracle, cols[1])
    out = {}
    for c in sorted(pairs["campaign"].astype(str).unique()):
        m = (pairs["campaign"].astype(str) == c).to_numpy()
        ok = m.sum() > 2 and np.std(a[m]) > 0 and np.std(b[m]) > 0
        out[c] = float(np.corrcoef(a[m], b[m])[0, 1]) if ok else float("nan")
    return out


def _oracle_sample(
    plan: pd.DataFrame,
    pairs: pd.DataFrame,
    oracle: pd.DataFrame,
    budget: float,
    capacity: dict[str, float] | None,
) -> tuple[pd.DataFrame, pd.DataFrame, float, dict[str, float] | None, dict[str, Any] | None]:
    """Restrict the comparison to the customers the oracle covers.

    Above 100k customers the simulator computes the oracle for a uniform random sample of
    customers (``meta.json`` ``oracle.sampled``). The run's plan, the eligible pairs and the
    plans compared with it are then restricted to those customers, with the budget and the
    department capacities scaled by the sampled share of the eligible customers, so the three
    plans still compete for the same (scaled) resources. Returns the inputs unchanged and
    ``None`` when the oracle covers every customer of the pairs.
    """
    known = pd.Index(ids(oracle["customer_id"]).unique())
    cust = pd.Index(ids(pairs["customer_id"]).unique())
    covered = cust.isin(known)
    if covered.all() or len(cust) == 0:
        return plan, pairs, budget, capacity, None
    if not covered.any():
        raise CvmError(
            "no customer of the plan's eligible pairs is in the oracle: is --truth the "
            "truth folder of the simulation this run was made on?"
        )
    frac = float(covered.mean())
    keep_p = ids(plan["customer_id"]).isin(known).to_numpy()
    keep_e = ids(pairs["customer_id"]).isin(known).to_numpy()
    cap = None if capacity is None else {k: float(v) * frac for k, v in capacity.items()}
    note = (
        f"the oracle covers a sample of {int(covered.sum()):,} of the {len(cust):,} eligible "
        f"customers ({frac:.1%}): plans compared on them, budget and capacities scaled "
        f"by {frac:.3f}"
    )
    log.warning("campaign evaluation: %s", note)
    return (
        plan.loc[keep_p],
        pairs.loc[keep_e],
        float(budget) * frac,
        cap,
        {
            "customers": int(covered.sum()),
            "eligible_customers": int(len(cust)),
            "share": frac,
            "plan_rows": int(keep_p.sum()),
            "note": note,
        },
    )


def evaluate_plans(
    plan: pd.DataFrame,
    pairs: pd.DataFrame,
    oracle: pd.DataFrame,
    budget: float,
    capacity: dict[str, float] | None = None,
    seed: int = 0,
    catalogue: dict[str, Campaign] | None = None,
) -> dict[str, Any]:
    """The evaluation JSON's ``campaigns`` part: true incremental value of the run's plan, of
    the oracle plan and of highest-risk-first, same eligible pairs, budget and capacities."""
    d = defaults()
    capacity = dict(d.capacity) if capacity is None else capacity
    share = None
    if "group" in plan.columns and len(plan):
        share = d.control_share
    plan, pairs, budget, capacity, sample = _oracle_sample(plan, pairs, oracle, budget, capacity)
    # The oracle's values are Monte Carlo estimates: a plan chosen on them and scored on the
    # same numbers is credited with their noise (winner's curse). With the two halves of the
    # paths in the truth, the oracle plan is chosen on half a and every plan scored on half b.
    choose, score = "expected_incremental_value", "expected_incremental_value"
    if {"expected_incremental_value_a", "expected_incremental_value_b"} <= set(oracle.columns):
        choose, score = "expected_incremental_value_a", "expected_incremental_value_b"
    mine = plan_true_value(plan, oracle, value_col=score)
    orc = oracle_plan(oracle, pairs, budget, capacity, seed, share, value_col=choose)
    out: dict[str, Any] = {
        "budget": float(budget),
        "incremental_value": mine,
        "oracle_incremental_value": plan_true_value(orc, oracle, value_col=score),
        "scored_on": "independent_paths" if choose != score else "same_paths",
    }
    if choose != score:  # the in-sample figure, for comparison with earlier versions
        full = oracle_plan(oracle, pairs, budget, capacity, seed, share)
        out["oracle_incremental_value_same_paths"] = plan_true_value(full, oracle)
        out["incremental_value_all_paths"] = plan_true_value(plan, oracle)
    if sample:
        out["oracle_sample"] = sample
    ev = campaign_settings().evaluation
    draws = ev.random_draws
    universe = pd.Index(pd.unique(_keyed(pairs)["customer_id"]))
    mine_c = _contrib(plan, oracle, score)
    orc_c = _contrib(orc, oracle, score)
    means_plans = [
        campaign_means_plan(pairs, budget, capacity, seed + k, share) for k in range(draws)
    ]
    means_c = (
        sum(
            (_contrib(m, oracle, score).reindex(universe).fillna(0.0) for m in means_plans),
            pd.Series(0.0, index=universe),
        )
        / draws
    )
    rand = [random_eligible_plan(pairs, budget, capacity, seed + k, share) for k in range(draws)]
    out["campaign_means_incremental_value"] = float(means_c.sum())
    out["random_eligible_incremental_value"] = float(
        np.mean([plan_true_value(r, oracle, value_col=score) for r in rand])
    )
    rules = store_rules_plan(pairs, budget, capacity, seed, share)
    out["store_rules_incremental_value"] = plan_true_value(rules, oracle, value_col=score)
    if "churn_probability" in pairs.columns:
        risk = highest_risk_first_plan(
            pairs, budget, capacity, catalogue, seed=seed, control_share=share
        )
        out["highest_risk_first_incremental_value"] = plan_true_value(risk, oracle, value_col=score)
        if "predicted_value" in pairs.columns:
            var = value_at_risk_first_plan(
                pairs, budget, capacity, catalogue, seed=seed, control_share=share
            )
            out["value_at_risk_first_incremental_value"] = plan_true_value(
                var, oracle, value_col=score
            )
    else:
        log.warning("pairs carry no churn_probability: no highest-risk-first baseline")
    base = out["campaign_means_incremental_value"]
    if out["oracle_incremental_value"] > base:
        out["targeting_lift"] = (mine - base) / (out["oracle_incremental_value"] - base)
        out["targeting_lift_ci"] = _lift_ci(
            mine_c, means_c, orc_c, universe, ev.bootstrap, ev.confidence, seed
        )
    agree = _half_agreement(pairs, oracle)
    out["per_campaign"] = _per_campaign(plan, orc, pairs, oracle, score, agree, means_plans[0])
    if out["oracle_incremental_value"] > 0:
        out["ratio_to_oracle"] = mine / out["oracle_incremental_value"]
    for name in (
        "highest_risk_first",
        "value_at_risk_first",
        "store_rules",
        "random_eligible",
        "campaign_means",
    ):
        b = out.get(f"{name}_incremental_value")
        if b is not None and b > 0:
            out[f"ratio_to_{name}"] = mine / b
    out["n_contacted"] = int((plan["group"] == "target").sum()) if "group" in plan else len(plan)
    return out


def _per_campaign(
    plan: pd.DataFrame,
    orc: pd.DataFrame,
    pairs: pd.DataFrame,
    oracle: pd.DataFrame,
    score: str,
    agree: dict[str, float],
    means_plan: pd.DataFrame,
) -> dict[str, Any]:
    """Per campaign: eligible pairs, the plan's and the oracle plan's contacts and true value,
    one campaign-means draw's contacts and value, and the oracle's half agreement."""
    out: dict[str, Any] = {}

    def by_campaign(pl: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        t = pl if "group" not in pl.columns else pl[pl["group"] == "target"]
        if t.empty:
            return pd.Series(dtype=float), pd.Series(dtype=int)
        v = pd.Series(true_values(t, oracle, score), index=t["campaign"].astype(str).to_numpy())
        return v.groupby(level=0).sum(), v.groupby(level=0).size()

    pv, pn = by_campaign(plan)
    ov, on = by_campaign(orc)
    mv, mn = by_campaign(means_plan)
    n_elig = pairs["campaign"].astype(str).value_counts()
    for c in sorted(n_elig.index):
        out[c] = {
            "eligible": int(n_elig[c]),
            "plan_contacts": int(pn.get(c, 0)),
            "plan_value": float(pv.get(c, 0.0)),
            "campaign_means_contacts": int(mn.get(c, 0)),
            "campaign_means_value": float(mv.get(c, 0.0)),
            "oracle_contacts": int(on.get(c, 0)),
            "oracle_value": float(ov.get(c, 0.0)),
            "oracle_half_agreement": agree.get(c),
        }
    return out
