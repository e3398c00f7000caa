"""Benchmark: does the plan pick customers, not only campaigns?

For each seed: simulate (if missing), build the upstream steps once, run the campaigns step of
`cvm monthly`, then `cvm evaluate`'s campaign part with the pair oracle (the run's eligible
pairs re-valued from the simulated world until the oracle's halves agree, see
``cvm.data.simulator.pair_oracle``). Figures per seed and mean +- sd over seeds:

- plan / oracle plan (true incremental value, chosen on half a, scored on half b);
- targeting lift = (plan - campaign means) / (oracle - campaign means), bootstrap 95 % interval;
- the plan against each baseline (campaign means, store rules, value at risk first, highest
  risk first, random eligible);
- the oracle's half agreement per campaign and the plan's contacts per campaign.

Settings are frozen before this runs; its seeds are never used to choose them (development
seeds: 101-103). Writes docs/benchmarks/targeting.md.

    python benchmarks/bench_targeting.py --customers 50000 --seeds 9001 9002 9003 9004 9005

Development variants (settings in a ``CVM_HOME`` overlay of configs/campaigns.yaml): ``--no-doc``
prints the figures instead of writing the doc, ``--results`` names the results file of the
variant, ``--cache-oracle`` re-uses the pair oracle of the same pairs from the work folder:

    CVM_HOME=/tmp/variant python benchmarks/bench_targeting.py --customers 20000 --seeds 101 102 \
        --work data/bench/targeting_dev --results variant.json --no-doc --cache-oracle
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, md_table, write_fragment

log = logging.getLogger("bench_targeting")
TARGET_ORACLE, TARGET_LIFT = 0.85, 0.3
BASELINES = ("campaign_means", "store_rules", "value_at_risk_first", "highest_risk_first")
# random eligible earns less than nothing (its value is shown in CNY, not as a ratio)


def _cached_oracle(work: Path):
    """``pair_oracle`` memoized on disk by the set of pairs (it is deterministic in the
    simulation and the pairs): variants of the plan on the same data re-use it."""
    import hashlib

    import pandas as pd

    import cvm.data.simulator.pair_oracle as po

    inner = po.pair_oracle

    def cached(truth, pairs, settings, progress=True):
        key = (
            pairs[["customer_id", "campaign"]].astype(str).sort_values(["campaign", "customer_id"])
        )
        h = hashlib.sha1()
        h.update(str(Path(truth).resolve()).encode())
        h.update(json.dumps(settings, sort_keys=True, default=str).encode())
        h.update(pd.util.hash_pandas_object(key, index=False).to_numpy().tobytes())
        base = work / "oracle_cache" / h.hexdigest()[:16]
        if (base / "info.json").exists():
            info = json.loads((base / "info.json").read_text(encoding="utf-8"))
            return pd.read_parquet(base / "oracle.parquet"), info
        out, info = inner(truth, pairs, settings, progress)
        base.mkdir(parents=True, exist_ok=True)
        out.to_parquet(base / "oracle.parquet")
        (base / "info.json").write_text(json.dumps(info, default=float), encoding="utf-8")
        return out, info

    po.pair_oracle = cached


def one_seed(
    customers: int, seed: int, budget_per_customer: float, work: Path, regime: str = "standard"
) -> dict:
    from bench_campaigns import prepare_and_plan

    from cvm.data.simulator import simulate
    from cvm.evaluate import _evaluate_campaigns

    tag = "" if regime == "standard" else "_" + regime.replace(",", "+")
    data = work / f"sim_{customers}_s{seed}{tag}"
    run = work / f"run_{customers}_s{seed}{tag}"
    if not (data / "truth" / "meta.json").exists():
        simulate(customers, seed, data, force=True, regimes=regime)
    budget = budget_per_customer * customers
    seconds = prepare_and_plan(data, run, budget)
    t = time.perf_counter()
    ev = _evaluate_campaigns(run, data / "truth")
    return {
        "seed": seed,
        "customers": customers,
        "regime": regime,
        "budget": budget,
        "campaign_step_seconds": seconds,
        "evaluate_seconds": time.perf_counter() - t,
        "eval": ev,
        "margin": _margin(run),
    }


def _margin(run: Path) -> dict:
    """The margin learner's out-of-time Qini and calibration slope per campaign (the run's
    ``campaign_summary.json``)."""
    path = run / "artifacts" / "campaign_summary.json"
    if not path.exists():
        return {}
    m = json.loads(path.read_text(encoding="utf-8"))["uplift_metrics"].get("margin") or {}
    return m.get("per_campaign") or {}


def _ms(x: list[float]) -> str:
    x = [v for v in x if v is not None and np.isfinite(v)]
    if not x:
        return "–"
    return f"{np.mean(x):.3f} ± {np.std(x, ddof=1) if len(x) > 1 else 0.0:.3f}"


def write_doc(results: list[dict], cmd: str) -> Path:
    """docs/benchmarks/targeting.md from ``results`` (:func:`doc_body`)."""
    return write_fragment(
        "targeting", "Targeting customers within campaigns", cmd, doc_body(results)
    )


def doc_body(results: list[dict]) -> str:
    """The tables of one round: per seed, over the seeds, per campaign, the margin learner."""
    rows = []
    for r in results:
        e = r["eval"]
        ci = e.get("targeting_lift_ci") or [np.nan, np.nan]
        row = {
            "seed": r["seed"],
            "plan / oracle": e.get("ratio_to_oracle"),
            "targeting lift": e.get("targeting_lift"),
            "lift 95 % CI": f"[{ci[0]:.2f}, {ci[1]:.2f}]",
        }
        for b in BASELINES:
            row[f"plan / {b.replace('_', ' ')}"] = e.get(f"ratio_to_{b}")
        row["plan (CNY)"] = e.get("incremental_value")
        row["random eligible (CNY)"] = e.get("random_eligible_incremental_value")
        agr = [v["agreement"] for v in (e.get("pair_oracle") or {}).values()]
        row["lowest oracle half agreement"] = float(np.nanmin(agr)) if agr else None
        row["campaigns step (s)"] = r["campaign_step_seconds"]
        row["evaluate (s)"] = r["evaluate_seconds"]
        rows.append(row)
    summary = [
        {"figure": k, "mean ± sd": _ms([row[k] for row in rows])}
        for k in ["plan / oracle", "targeting lift"]
        + [f"plan / {b.replace('_', ' ')}" for b in BASELINES]
    ]
    above = sum(1 for r in results if (r["eval"].get("targeting_lift_ci") or [0])[0] > 0)
    agree = {}
    for r in results:
        for c, v in (r["eval"].get("pair_oracle") or {}).items():
            pc = r["eval"]["per_campaign"].get(c, {})
            a = agree.setdefault(
                c,
                {
                    "campaign": c,
                    "agreement": [],
                    "paths": [],
                    "plan": [],
                    "oracle": [],
                    "plan value": [],
                    "oracle value": [],
                },
            )
            a["agreement"].append(v["agreement"])
            a["paths"].append(v["paths"])
            a["plan"].append(pc.get("plan_contacts", 0))
            a["oracle"].append(pc.get("oracle_contacts", 0))
            a["plan value"].append(pc.get("plan_value", 0.0))
            a["oracle value"].append(pc.get("oracle_value", 0.0))
    per = [
        {
            "campaign": c,
            "oracle halves agree (mean)": float(np.nanmean(a["agreement"])),
            "paths (mean)": float(np.mean(a["paths"])),
            "plan contacts (mean)": float(np.mean(a["plan"])),
            "oracle contacts (mean)": float(np.mean(a["oracle"])),
            "plan true value (mean)": float(np.mean(a["plan value"])),
            "oracle true value (mean)": float(np.mean(a["oracle value"])),
        }
        for c, a in sorted(agree.items())
    ]
    qini = []
    for c in sorted(agree):
        rows_c = [
            (
                r["eval"]["pair_oracle"].get(c, {}).get("agreement", np.nan),
                (r.get("margin") or {}).get(c, {}),
            )
            for r in results
            if (r.get("margin") or {}).get(c)
        ]
        if not rows_c:
            continue
        good = [(a, m) for a, m in rows_c if np.isfinite(a) and a >= 0.8]
        qini.append(
            {
                "campaign": c,
                "seeds": len(rows_c),
                "OOT margin Qini (mean)": float(
                    np.mean([m.get("qini", np.nan) for _, m in rows_c])
                ),
                "Qini interval above 0 (seeds)": sum(
                    1 for _, m in rows_c if (m.get("qini_ci") or [0])[0] > 0
                ),
                "seeds with oracle halves >= 0.8": len(good),
                "... of which Qini interval above 0": sum(
                    1 for _, m in good if (m.get("qini_ci") or [0])[0] > 0
                ),
                "calibration slope (mean)": float(
                    np.mean([m.get("slope", np.nan) for _, m in rows_c])
                ),
                "per-customer part kept (seeds)": sum(1 for _, m in rows_c if m.get("learned")),
            }
        )
    n = results[0]["customers"] if results else 0
    body = f"""
Campaigns step of `cvm monthly` (default profile) on {len(results)} simulated data sets of
{n:,} customers ({results[0].get("regime", "standard")} regime), budget {results[0]["budget"] / max(n, 1):.0f} CNY per
customer, judged by `cvm evaluate` with the pair oracle. Seeds {", ".join(str(r["seed"]) for r in results)}
were never used to choose settings (development seeds 101–103). Targets: plan /
oracle >= {TARGET_ORACLE}, targeting lift >= {TARGET_LIFT} with its interval above 0.

{md_table(rows)}
Over the seeds:

{md_table(summary)}
Targeting lift interval above 0 in {above} of {len(results)} seeds.

Per campaign (means over the seeds): the pair oracle's half agreement and paths, the contacts
and true incremental value of the plan and of the oracle plan:

{md_table(per)}
The per-customer margin learner per campaign (out-of-time Qini of the incremental margin over
the effect window with its 95 % interval, the cross-fitted calibration slope; target: Qini
interval above 0 for every campaign whose oracle halves agree >= 0.8):

{md_table(qini) if qini else "(not in these results)"}
"""
    return body


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=50000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[])
    ap.add_argument("--budget-per-customer", type=float, default=2.0)
    ap.add_argument(
        "--regime", default="standard", help="simulator regime(s), e.g. gradual-warranty"
    )
    ap.add_argument("--work", type=Path, default=ROOT / "data" / "bench" / "targeting")
    ap.add_argument(
        "--doc-only",
        action="store_true",
        help="rewrite the doc from the work folder's results.json",
    )
    ap.add_argument(
        "--results",
        default="results.json",
        help="file name of the results in the work folder (one per variant)",
    )
    ap.add_argument(
        "--body-only",
        action="store_true",
        help="with --doc-only: print the tables of the results, write nothing (a section by hand)",
    )
    ap.add_argument(
        "--no-doc",
        action="store_true",
        help="print the figures, do not write docs/benchmarks/targeting.md (development seeds)",
    )
    ap.add_argument(
        "--cache-oracle",
        action="store_true",
        help="re-use the pair oracle of the same pairs from the work folder (variants)",
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args.work.mkdir(parents=True, exist_ok=True)
    if args.cache_oracle:
        _cached_oracle(args.work)
    results = []
    if args.doc_only:
        results = json.loads((args.work / args.results).read_text(encoding="utf-8"))
        args.seeds = [r["seed"] for r in results]
        for r in results:
            if not r.get("margin"):
                r["margin"] = _margin(args.work / f"run_{r['customers']}_s{r['seed']}")
    for s in [] if args.doc_only else args.seeds:
        results.append(
            one_seed(args.customers, s, args.budget_per_customer, args.work, args.regime)
        )
        e = {
            k: v for k, v in results[-1]["eval"].items() if k not in ("per_campaign", "pair_oracle")
        }
        log.info("seed %d: %s", s, json.dumps(e, default=float))
        (args.work / args.results).write_text(
            json.dumps(results, indent=1, default=float), encoding="utf-8"
        )
    cmd = f"python benchmarks/bench_targeting.py --customers {args.customers} --seeds " + " ".join(
        map(str, args.seeds)
    )
    if args.body_only:
        print(doc_body(results))
    elif args.no_doc:
        _print_dev(results)
    else:
        print(write_doc(results, cmd).read_text(encoding="utf-8"))


def _print_dev(results: list[dict]) -> None:
    """Per seed: plan / oracle, lift and the per-campaign contacts and true values."""
    for r in results:
        e = r["eval"]
        ci = e.get("targeting_lift_ci") or [np.nan, np.nan]
        print(
            f"seed {r['seed']}: plan/oracle {e.get('ratio_to_oracle'):.3f} "
            f"lift {e.get('targeting_lift'):.3f} [{ci[0]:.2f}, {ci[1]:.2f}] "
            f"plan {e.get('incremental_value'):,.0f} "
            f"plan/means {e.get('ratio_to_campaign_means'):.3f}"
        )
        rows = [
            {"campaign": c, **{k: v for k, v in pc.items() if not isinstance(v, (dict, list))}}
            for c, pc in sorted(e["per_campaign"].items())
        ]
        print(md_table(rows))


if __name__ == "__main__":
    main()
