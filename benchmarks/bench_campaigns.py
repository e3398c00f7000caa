"""Benchmark of the campaign plan on simulated data (issue 6).

1. simulate a dealer (``cvm simulate``), run ``cvm monthly`` for its last month and
   ``cvm evaluate`` against the truth: the plan's true incremental value vs the oracle plan and
   vs "highest churn risk first" (same campaigns, eligible pairs, budget and capacities);
2. the uplift models' out-of-time Qini / AUUC and which campaigns used catalogue priors;
3. the planner's gap to the optimum: Lagrangian and value-per-cost greedy vs exact milp on small
   random instances, and the run's plan vs the LP bound of its own instance;
4. ablation on the same run: uplift from catalogue priors only (no learning).

Writes docs/benchmarks/campaigns.md.

    python benchmarks/bench_campaigns.py                       # 20k customers, seed 7
    python benchmarks/bench_campaigns.py --data DIR --run reports/YYYY-MM   # reuse a run
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PY, ROOT, md_table, measure, write_fragment

log = logging.getLogger("bench_campaigns")
TARGET_ORACLE, TARGET_RISK = 0.70, 1.5


def _cli(*args: str) -> str:
    res = subprocess.run([PY, "-m", "cvm.cli", *args], check=True, cwd=ROOT, text=True,
                         capture_output=True)
    return res.stdout


def simulate_and_run(customers: int, seed: int, work: Path) -> tuple[Path, Path, float]:
    data = work / "data"
    _cli("simulate", "--customers", str(customers), "--seed", str(seed), "--out", str(data),
         "--force")
    end = json.loads((data / "truth" / "meta.json").read_text(encoding="utf-8"))["end"]
    with measure() as m:
        out = _cli("monthly", "--data", str(data), "--as-of", end, "--out", str(work / "reports"),
                   "--lang", "en", "--force")
    return data, Path(out.strip().splitlines()[-1]), m.seconds


def ablations(run: Path, data: Path) -> dict[str, float]:
    """Same eligible pairs, value at stake, budget and capacities, other uplift sources:
    catalogue priors only; the true campaign means (oracle, no per-customer effect); the true
    per-customer uplift (oracle) - how much is lost to the value at stake alone."""
    from cvm.campaigns.catalogue import defaults, load_catalogue
    from cvm.campaigns.control import assign_control
    from cvm.campaigns.evaluate import plan_true_value, true_values
    from cvm.campaigns.targeting import plan_campaigns

    art = run / "artifacts"
    pairs = pd.read_parquet(art / "campaign_pairs.parquet")
    summary = json.loads((art / "campaign_summary.json").read_text(encoding="utf-8"))
    oracle = pd.read_parquet(data / "truth" / "oracle_campaigns.parquet")
    cat = load_catalogue()
    true_up = true_values(pairs, oracle, "uplift_p_return")
    sources = {
        "catalogue priors only": pairs["campaign"].map(
            {k: c.prior_uplift for k, c in cat.items()}).to_numpy(float),
        "true campaign means (oracle)": pd.Series(true_up).groupby(
            pairs["campaign"].to_numpy()).transform("mean").to_numpy(),
        "true per-customer uplift (oracle)": true_up,
    }
    out = {}
    for name, up in sources.items():
        p = pairs.copy()
        p["uplift"] = up
        p["expected_incremental_value"] = p["uplift"] * p["value_at_stake"] - p["cost"]
        plan = plan_campaigns(p, float(summary["budget"]), defaults().get("capacity"), seed=42)
        strata = ["campaign"] + (["value_tag"] if "value_tag" in plan.columns else [])
        out[name] = plan_true_value(assign_control(plan, seed=42, strata=strata), oracle)
    return out


def planner_gap(run: Path) -> tuple[str, dict[str, float]]:
    from cvm.campaigns.catalogue import defaults
    from cvm.campaigns.targeting import lp_bound, optimality_gap_small_cases

    small = optimality_gap_small_cases(n_cases=30, n_customers=60, n_campaigns=6, seed=0)
    rows = [{"method": m, "mean_gap": small[f"{m}_gap"].mean(),
             "max_gap": small[f"{m}_gap"].max(), "cases": len(small)}
            for m in ("lagrangian", "greedy")]
    art = run / "artifacts"
    pairs = pd.read_parquet(art / "campaign_pairs.parquet")
    plan = pd.read_parquet(art / "campaign_plan.parquet")
    summary = json.loads((art / "campaign_summary.json").read_text(encoding="utf-8"))
    bound = lp_bound(pairs, float(summary["budget"]), defaults().get("capacity"))
    chosen = float(plan["expected_incremental_value"].sum())
    return md_table(rows), {"run_plan_expected_value": chosen, "lp_bound": bound,
                            "gap_to_lp_bound": 1 - chosen / bound if bound > 0 else 0.0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--data", type=Path)
    ap.add_argument("--run", type=Path)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    with tempfile.TemporaryDirectory(prefix="bench_campaigns_") as tmp:
        if args.data and args.run:
            data, run, seconds = args.data, args.run, float("nan")
        else:
            data, run, seconds = simulate_and_run(args.customers, args.seed, Path(tmp))
        ev = json.loads(_cli("evaluate", "--run", str(run), "--truth", str(data / "truth")))
        camp = ev["campaigns"]
        art = run / "artifacts"
        summary = json.loads((art / "campaign_summary.json").read_text(encoding="utf-8"))
        plan = pd.read_parquet(art / "campaign_plan.parquet")
        n_base = len(pd.read_parquet(run / "scores.parquet", columns=["customer_id"]))
        abl = ablations(run, data)
        gap_table, gap = planner_gap(run)

    mine, orc = camp["incremental_value"], camp["oracle_incremental_value"]
    risk = camp.get("highest_risk_first_incremental_value", float("nan"))
    r_orc = mine / orc if orc else float("nan")
    r_risk = mine / risk if risk and risk > 0 else float("nan")
    headline = [
        {"figure": "budget (CNY / month)", "value": camp["budget"], "target": ""},
        {"figure": "customers contacted (target) / base", "value":
            f"{int((plan['group'] == 'target').sum()):,} / {n_base:,}", "target": "~10 % of base"},
        {"figure": "true incremental value of the plan (CNY)", "value": mine, "target": ""},
        {"figure": "oracle plan (knows every true effect)", "value": orc, "target": ""},
        {"figure": "highest churn risk first", "value": risk, "target": ""},
        {"figure": "plan / oracle", "value": r_orc, "target": f">= {TARGET_ORACLE}",
         "ok": r_orc >= TARGET_ORACLE},
        {"figure": "plan / highest-risk-first", "value": r_risk, "target": f">= {TARGET_RISK}",
         "ok": r_risk >= TARGET_RISK},
    ]
    abl_rows = [{"uplift source": "learned (this run)", "true incremental value": mine,
                 "plan / oracle": r_orc}] + [
        {"uplift source": k, "true incremental value": v, "plan / oracle": v / orc if orc else 0}
        for k, v in abl.items()]
    oot = (summary.get("uplift_metrics") or {}).get("out_of_time") or {}
    per = oot.get("per_campaign", {})
    qrows = [{"campaign": k, "source": v["source"], "n_valid": v["n"], "qini": v["qini"],
              "auuc": v["auuc"], "auuc_random": v["auuc_random"],
              "observed_ate": v["observed_ate"], "predicted_mean": v["predicted_mean"]}
             for k, v in sorted(per.items())]
    pooled = oot.get("pooled", {})
    mix = (plan[plan["group"] == "target"].groupby(["department", "campaign"])
           .agg(n=("customer_id", "size"), cost=("cost", "sum"),
                expected_value=("expected_incremental_value", "sum")).reset_index())
    body = f"""
Simulated dealer: {args.customers:,} customers, seed {args.seed}; `cvm monthly` for the last
month{'' if math.isnan(seconds) else f' ({seconds:.0f} s for the whole monthly run)'}, then
`cvm evaluate`. True values come from the simulator's oracle (`truth/oracle_campaigns.parquet`);
all three plans use the same eligible pairs, budget, department capacities and 10 % control
hold-out (only contacted customers count).

{md_table(headline)}
Evaluation JSON (`campaigns`): `{json.dumps(camp)}`

Where the gap to the oracle comes from (same run, pairs, value at stake, budget; only the uplift
source changes; the last row uses the simulator's true uplift and so bounds what better uplift
models alone could reach with this value at stake):

{md_table(abl_rows)}

### Uplift models, out-of-time
Fold: `{json.dumps(oot.get('fold', {}))}`. Pooled over campaigns: Qini {pooled.get('qini', float('nan')):.4f}
(campaign means only: {pooled.get('qini_campaign_mean_only', float('nan')):.4f}), AUUC
{pooled.get('auuc', float('nan')):.4f} (campaign means only
{pooled.get('auuc_campaign_mean_only', float('nan')):.4f}, random {pooled.get('auuc_random', float('nan')):.4f}).
Campaigns on catalogue priors: {', '.join(sorted(k for k, s in summary.get('uplift_source', {}).items() if s == 'prior')) or 'none'}.

{md_table(qrows)}
### Planner: gap to the optimum
Random small instances (60 customers x 6 campaigns, budget and capacities binding), exact
`scipy.optimize.milp` as reference:

{gap_table}
This run's instance: plan expected value {gap['run_plan_expected_value']:,.0f} vs LP-relaxation
bound {gap['lp_bound']:,.0f} (gap at most {gap['gap_to_lp_bound']:.4%}).

### The plan by department and campaign (target rows)
{md_table(mix.to_dict("records"))}
"""
    path = write_fragment("campaigns", "Campaign plan (issue 6)",
                          "python benchmarks/bench_campaigns.py", body)
    print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
