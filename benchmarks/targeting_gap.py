"""Where the plan loses against the oracle: campaign allocation vs the choice within campaigns.

Reads a ``bench_targeting.py`` work folder after a run with ``--cache-oracle``: the results
file, each seed's run folder (``campaign_pairs``) and the cached pair oracle. Per seed, the
oracle's own choice of customers at the plan's contact count per campaign (top pairs by the
oracle's half a, scored on half b; the one-campaign-per-customer rule, budget and capacities
are ignored, so it can exceed the oracle plan) splits the gap into *allocation* (oracle plan
minus that) and *within-campaign choice* (that minus the plan). Development seeds only.

    python benchmarks/targeting_gap.py --work data/bench/targeting_dev --results adopted.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import md_table

COLS = ["customer_id", "campaign", "expected_incremental_value_a", "expected_incremental_value_b"]


def oracle_for(work: Path, pairs: pd.DataFrame) -> pd.DataFrame | None:
    """The cached pair oracle that covers ``pairs`` (customer_id, campaign)."""
    for path in sorted((work / "oracle_cache").glob("*/oracle.parquet")):
        o = pd.read_parquet(path)
        o["customer_id"] = o["customer_id"].astype(str)
        q = pairs.merge(o[COLS], on=["customer_id", "campaign"])
        if len(q) > 0.9 * len(pairs):
            return q
    return None


def gap(work: Path, result: dict) -> dict:
    run = work / f"run_{result['customers']}_s{result['seed']}"
    pairs = pd.read_parquet(run / "artifacts" / "campaign_pairs.parquet")
    pairs["customer_id"] = pairs["customer_id"].astype(str)
    q = oracle_for(work, pairs)
    if q is None:
        raise SystemExit(f"no cached pair oracle covers {run}: run with --cache-oracle")
    e = result["eval"]
    best, loss = 0.0, {}
    for c, v in e["per_campaign"].items():
        g = q[q["campaign"] == c].sort_values("expected_incremental_value_a", ascending=False)
        b = float(g["expected_incremental_value_b"].head(int(v["plan_contacts"])).sum())
        best += b
        loss[c] = b - float(v["plan_value"])
    top = sorted(loss.items(), key=lambda x: -x[1])[:3]
    o, m = e["oracle_incremental_value"], e["incremental_value"]
    return {
        "seed": result["seed"],
        "oracle plan (k CNY)": o / 1e3,
        "best at the plan's counts": best / 1e3,
        "plan": m / 1e3,
        "allocation loss": (o - best) / 1e3,
        "within-campaign loss": (best - m) / 1e3,
        "largest within-campaign losses": ", ".join(f"{c} {x / 1e3:.0f}k" for c, x in top),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--results", default="results.json")
    args = ap.parse_args()
    results = json.loads((args.work / args.results).read_text(encoding="utf-8"))
    rows = [gap(args.work, r) for r in results]
    print(md_table(rows))


if __name__ == "__main__":
    main()
