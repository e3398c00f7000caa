"""`cvm evaluate` on a simulated dealer: the monthly run against the ground truth.

Simulates N customers (cached in data/bench/), runs `cvm monthly` for the last month with
the default profile, runs `cvm evaluate`, and writes the figures the issues ask for
(churn AUC vs oracle and baselines, ECE; value Gini vs oracle and baselines, total ratio;
campaign plan vs oracle plan and highest-risk-first; leads AUC vs oracle) to
docs/benchmarks/evaluate.md.

    python benchmarks/bench_evaluate.py --customers 50000
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PY, ROOT, md_table, measure, write_fragment  # noqa: E402
from bench_monthly import CACHE, as_of_for, sim_dir  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--customers", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    data = sim_dir(args.customers, args.seed)
    out = CACHE / f"eval_reports_{args.customers}_s{args.seed}"
    shutil.rmtree(out, ignore_errors=True)
    as_of = as_of_for(data)
    with measure() as m:
        subprocess.run([PY, "-m", "cvm.cli", "monthly", "--data", str(data), "--as-of", as_of,
                        "--out", str(out)], check=True, cwd=ROOT, capture_output=True)
    run = out / as_of[:7]
    ev = json.loads(subprocess.run([PY, "-m", "cvm.cli", "evaluate", "--run", str(run), "--truth",
                                    str(data / "truth")], check=True, cwd=ROOT,
                                   capture_output=True, text=True).stdout)
    (CACHE / f"evaluate_{args.customers}_s{args.seed}.json").write_text(json.dumps(ev, indent=1))
    rows = []
    c = ev.get("churn", {})
    if c:
        rows += [
            {"part": "churn", "figure": "AUC / oracle AUC", "value": f"{c['auc']:.3f} / {c['oracle_auc']:.3f} = {c['auc'] / c['oracle_auc']:.3f}", "target": "≥ 0.90"},
            {"part": "churn", "figure": "baselines AUC (recency, RFM logistic)", "value": ", ".join(f"{v:.3f}" for v in c.get("baselines", {}).values()), "target": "below the model"},
            {"part": "churn", "figure": "ECE against the realized future, store's campaigns going on", "value": f"{c['ece']:.3f} (predicted {c['predicted_churn_rate']:.3f}, realized {c.get('observed_churn_rate_business_as_usual', float('nan')):.3f})", "target": "≤ 0.02"},
            {"part": "churn", "figure": "ECE against the no-contact future (the oracle's world)", "value": f"{c.get('ece_no_contact', c['ece']):.3f} (realized {c['observed_churn_rate']:.3f})", "target": ""},
            {"part": "churn", "figure": "PR AUC, top-decile lift", "value": f"{c['pr_auc']:.3f}, {c['top_decile_lift']:.2f}", "target": ""},
        ]
    v = ev.get("value", {})
    if v:
        rows += [
            {"part": "value", "figure": "normalized Gini / oracle", "value": f"{v['normalized_gini']:.3f} / {v['oracle_normalized_gini']:.3f} = {v['normalized_gini'] / v['oracle_normalized_gini']:.3f}", "target": "≥ 0.90"},
            {"part": "value", "figure": "baselines Gini (historical average, BG/NBD+GG)", "value": ", ".join(f"{x:.3f}" for x in v.get("baselines", {}).values()), "target": "below the model"},
            {"part": "value", "figure": "predicted total / realized total", "value": f"{v['total_ratio']:.3f}", "target": "0.95–1.05"},
            {"part": "value", "figure": "top-decile capture", "value": f"{v['top_decile_capture']:.3f}", "target": ""},
        ]
    k = ev.get("campaigns", {})
    if k:
        rows += [
            {"part": "campaigns", "figure": "plan / oracle plan (true incremental value)", "value": f"{k['incremental_value']:,.0f} / {k['oracle_incremental_value']:,.0f} = {k['incremental_value'] / k['oracle_incremental_value']:.2f}", "target": "≥ 0.70"},
            {"part": "campaigns", "figure": "plan / highest-risk-first", "value": f"{k['incremental_value']:,.0f} / {k['highest_risk_first_incremental_value']:,.0f}", "target": "≥ 1.5×"},
        ]
    ld = ev.get("leads", {})
    if ld:
        rows.append({"part": "leads", "figure": "AUC / oracle AUC", "value": f"{ld['auc']:.3f} / {ld['oracle_auc']:.3f}", "target": "≥ 0.95"})
    body = (f"{args.customers:,} simulated customers (seed {args.seed}), `cvm monthly --as-of {as_of}` "
            f"(default profile, {m.seconds:.0f} s), then `cvm evaluate` against truth/ (the "
            f"realized next 12 months and the oracle).\n\n" + md_table(rows)
            + "\nThe full evaluation JSON is kept in data/bench/.\n")
    write_fragment("evaluate", f"`cvm evaluate` on {args.customers:,} simulated customers",
                   f"python benchmarks/bench_evaluate.py --customers {args.customers}", body)


if __name__ == "__main__":
    main()
