"""Benchmark of the campaign plan on simulated data: `cvm evaluate`'s campaign figures.

For each simulated data set (with ``truth/``) and a budget covering about 10 % of the base:
1. the upstream steps the campaign step needs (features, churn, value, segments) are built once
   in a run folder (skipped when the folder already has them);
2. the campaigns step (``cvm.steps.campaigns``, exactly as in ``cvm monthly``) is re-run there;
3. ``cvm.campaigns.evaluate.evaluate_plans`` (what ``cvm evaluate`` reports) gives the plan's
   true incremental value, the oracle plan's and highest-churn-risk-first's;
4. ablations on the same eligible pairs and value at stake: the uncalibrated expected value
   (uplift x value at stake, the method before spend calibration), catalogue priors, the true
   campaign means; and the oracle with its Monte Carlo noise shrunk out (see ``denoised``);
5. the uplift models' out-of-time Qini / AUUC (pooled, response within the outcome window).

Writes docs/benchmarks/campaigns.md.

    python benchmarks/bench_campaigns.py \
        --set data/bench/camp/sim_20000_seed7:data/bench/camp/run_20000_seed7:40000 \
        --set data/bench/camp/sim_50000_s42:data/bench/camp/run_50000_s42:100000
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, md_table, write_fragment

log = logging.getLogger("bench_campaigns")
TARGET_ORACLE, TARGET_RISK = 0.70, 1.5
UPSTREAM = ("features", "churn", "value", "segments")


def prepare_and_plan(data: Path, run: Path, budget: float, seed: int = 42) -> float:
    """Upstream steps once, then the uplift and the campaigns steps; returns their seconds."""
    from cvm import steps
    from cvm.run_context import RunContext

    end = json.loads((data / "truth" / "meta.json").read_text(encoding="utf-8"))["end"]
    ctx = RunContext.open(str(data.resolve()), end, run.resolve(), budget=budget, seed=seed)
    if not (run / "scores.parquet").exists():
        for name in UPSTREAM:
            log.info("%s: step %s", run, name)
            getattr(steps, name)(ctx)
    t = time.perf_counter()
    steps.uplift(ctx)  # measurement and the uplift model (its own step since session 8)
    fit = time.perf_counter() - t
    steps.campaigns(ctx)
    log.info(
        "%s: uplift step %.1f s, campaigns step %.1f s", run, fit, time.perf_counter() - t - fit
    )
    return time.perf_counter() - t


def denoised(pairs: pd.DataFrame, oracle: pd.DataFrame) -> np.ndarray:
    """The oracle's value per pair with its Monte Carlo noise shrunk out, per campaign:
    ``m + rho (v - m)``, ``rho = max(0, 1 - mean(se^2) / var(v))`` (normal-normal). The oracle
    plan is chosen on the noisy values it is then scored with, so part of its value is
    selected noise (winner's curse); no plan built from observable data can select that part."""
    from cvm.campaigns.evaluate import true_values

    v = true_values(pairs, oracle, "incremental_spend")
    se = true_values(pairs, oracle, "incremental_spend_se")
    c = pairs["campaign"].astype(str).to_numpy()
    out = np.empty(len(v))
    for k in np.unique(c):
        m = c == k
        var = float(np.var(v[m]))
        rho = max(0.0, 1.0 - float(np.mean(se[m] ** 2)) / var) if var > 0 else 0.0
        out[m] = v[m].mean() + rho * (v[m] - v[m].mean())
    return out - pairs["cost"].to_numpy(float)


def _plan_value(
    pairs: pd.DataFrame, value: np.ndarray, budget: float, oracle: pd.DataFrame, seed: int = 42
) -> tuple[float, pd.DataFrame]:
    from cvm.campaigns.catalogue import defaults
    from cvm.campaigns.control import assign_control
    from cvm.campaigns.evaluate import plan_true_value
    from cvm.campaigns.targeting import plan_campaigns

    p = pairs.copy()
    p["expected_incremental_value"] = value
    plan = plan_campaigns(p, budget, dict(defaults().capacity), seed=seed)
    strata = ["campaign"] + (["value_tag"] if "value_tag" in plan.columns else [])
    plan = assign_control(plan, seed=seed, strata=strata)
    return plan_true_value(plan, oracle), plan


def evaluate_set(data: Path, run: Path, budget: float) -> dict:
    from cvm.campaigns.catalogue import load_catalogue
    from cvm.campaigns.evaluate import evaluate_plans, true_values

    seconds = prepare_and_plan(data, run, budget)
    art = run / "artifacts"
    plan = pd.read_parquet(art / "campaign_plan.parquet")
    pairs = pd.read_parquet(art / "campaign_pairs.parquet")
    summary = json.loads((art / "campaign_summary.json").read_text(encoding="utf-8"))
    oracle = pd.read_parquet(data / "truth" / "oracle_campaigns.parquet")
    ev = evaluate_plans(plan, pairs, oracle, budget=float(summary["budget"]))
    n_base = len(pd.read_parquet(run / "scores.parquet", columns=["customer_id"]))
    cat = load_catalogue()
    cost = pairs["cost"].to_numpy(float)
    c = pairs["campaign"].astype(str).to_numpy()
    true_inc = true_values(pairs, oracle, "incremental_spend")
    abl = {}
    if "model_value" in pairs.columns:
        abl["uncalibrated: uplift x value at stake (before)"] = _plan_value(
            pairs, pairs["model_value"].to_numpy(float) - cost, budget, oracle
        )[0]
    stake = pairs["value_at_stake"].to_numpy(float)
    abl["catalogue priors x value at stake"] = _plan_value(
        pairs, c_map(c, {k: v.prior_uplift for k, v in cat.items()}) * stake - cost, budget, oracle
    )[0]
    abl["true campaign means of incremental spend (oracle)"] = _plan_value(
        pairs, pd.Series(true_inc).groupby(c).transform("mean").to_numpy() - cost, budget, oracle
    )[0]
    # noise-corrected oracle: choose and score on the denoised values
    dn = denoised(pairs, oracle)
    dn_oracle = pairs[["customer_id", "campaign"]].assign(expected_incremental_value=dn)
    dn_best = _plan_value(pairs, dn, budget, dn_oracle)[0]
    mine_dn = _plan_value(
        pairs, pairs["expected_incremental_value"].to_numpy(float), budget, dn_oracle
    )[0]
    oot = (summary.get("uplift_metrics") or {}).get("out_of_time") or {}
    pooled = oot.get("pooled", {})
    calib = (summary.get("uplift_metrics") or {}).get("spend_calibration", {})
    truth_means = pd.Series(true_inc).groupby(c).mean()
    mean_rows = [
        {
            "campaign": k,
            "model mean (uplift x stake)": v["model_mean"],
            "measured spend effect": v.get("measured"),
            "se": v.get("se"),
            "calibrated": v["calibrated"],
            "true mean": float(truth_means.get(k, np.nan)),
        }
        for k, v in sorted(calib.items())
    ]
    return {
        "data": str(data),
        "customers": n_base,
        "budget": budget,
        "seconds": seconds,
        "eval": ev,
        "ablations": abl,
        "denoised_oracle": dn_best,
        "plan_on_denoised": mine_dn,
        "qini": pooled.get("qini"),
        "qini_campaign_mean_only": pooled.get("qini_campaign_mean_only"),
        "auuc": pooled.get("auuc"),
        "auuc_random": pooled.get("auuc_random"),
        "fold": oot.get("fold", {}),
        "means": mean_rows,
        "n_target": int((plan["group"] == "target").sum()),
    }


def c_map(c: np.ndarray, d: dict) -> np.ndarray:
    return pd.Series(c).map(d).to_numpy(float)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--set",
        action="append",
        required=True,
        help="DATA:RUN:BUDGET (simulated data with truth/, run folder, budget)",
    )
    ap.add_argument("--json", type=Path, default=ROOT / "data" / "bench" / "bench_campaigns.json")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    results = []
    for s in args.set:
        data, run, budget = s.split(":")
        results.append(evaluate_set(ROOT / data, ROOT / run, float(budget)))
        log.info("%s", json.dumps(results[-1]["eval"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1, default=float), encoding="utf-8")
    write_doc(results, args.set)


def _name(r: dict) -> str:
    return Path(r["data"]).name.replace("sim_", "")


def write_doc(results: list[dict], sets: list[str]) -> None:
    head = []
    for r in results:
        e = r["eval"]
        head.append(
            {
                "data set": _name(r),
                "budget": r["budget"],
                "contacted / base": f"{r['n_target']:,} / {r['customers']:,}",
                "plan (CNY)": e["incremental_value"],
                "oracle": e["oracle_incremental_value"],
                "risk-first": e.get("highest_risk_first_incremental_value"),
                "plan / oracle": e.get("ratio_to_oracle"),
                "plan / risk-first": e.get("ratio_to_highest_risk_first"),
                "plan / denoised oracle": r["plan_on_denoised"] / r["denoised_oracle"]
                if r["denoised_oracle"] > 0
                else None,
                "Qini OOT": r["qini"],
                "Qini OOT (campaign means)": r["qini_campaign_mean_only"],
            }
        )
    abl = []
    for r in results:
        orc = r["eval"]["oracle_incremental_value"]
        row = {"data set": _name(r), "spend-calibrated (now)": r["eval"]["incremental_value"] / orc}
        for k, v in r["ablations"].items():
            row[k] = v / orc
        abl.append(row)
    means = []
    for r in results:
        for m in r["means"]:
            means.append({"data set": _name(r), **m})
    body = f"""
`cvm evaluate`'s campaign figures (`cvm.campaigns.evaluate.evaluate_plans`) for the campaigns
step of `cvm monthly` re-run on prepared runs (features, churn, value and segments steps of
the default profile, built once), budget about 2 CNY per customer (about 10 % of the base
contacted). Targets: plan / oracle >= {TARGET_ORACLE}, plan / highest-risk-first >= {TARGET_RISK}.
"Qini OOT": the uplift model's pooled Qini coefficient on the last 3 months of contacts, fitted
on the earlier ones (response within 90 days); "campaign means": the same with the campaign
means only.

{md_table(head)}
"plan / denoised oracle": both plans scored on the oracle's values with their Monte Carlo noise
shrunk out per campaign (`denoised` in the script; the oracle's per-pair standard error is
close to the spread of its values for several campaigns, so the oracle plan partly selects
noise), the oracle re-chosen on the denoised values.

Plan / oracle for other sources of the expected value, same eligible pairs, value at stake,
budget, capacities and 10 % control:

{md_table(abl)}
Campaign means of incremental spend per contact (CNY over the 12-month horizon): the model's
mean of uplift x value at stake over this month's pairs (the EB prior), the history's measured
incremental spend (R-learner, 180-day window scaled to 12 months) and its standard error, the
calibrated mean used by the plan, and the oracle's true mean over the same pairs:

{md_table(means)}
Campaign step time: {", ".join(f"{_name(r)} {r['seconds']:.0f} s" for r in results)} (shared
2-core machine).
"""
    cmd = "python benchmarks/bench_campaigns.py " + " ".join(f"--set {s}" for s in sets)
    path = write_fragment("campaigns", "Campaign plan", cmd, body)
    print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
