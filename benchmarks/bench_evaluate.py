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


def _ci(d: dict, key: str) -> str:
    ci = d.get(f"{key}_ci")
    return f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""


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
        subprocess.run(
            [
                PY,
                "-m",
                "cvm.cli",
                "monthly",
                "--data",
                str(data),
                "--as-of",
                as_of,
                "--out",
                str(out),
            ],
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
    run = out / as_of[:7]
    ev = json.loads(
        subprocess.run(
            [PY, "-m", "cvm.cli", "evaluate", "--run", str(run), "--truth", str(data / "truth")],
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout
    )
    (CACHE / f"evaluate_{args.customers}_s{args.seed}.json").write_text(json.dumps(ev, indent=1))
    rows = []
    c = ev.get("churn", {})
    if c:
        rows += [
            {
                "part": "churn",
                "figure": "AUC [95 % CI] / oracle AUC",
                "value": f"{c['auc']:.3f}{_ci(c, 'auc')} / {c['oracle_auc']:.3f}",
                "target": "",
            },
            {
                "part": "churn",
                "figure": "(AUC − 0.5) / (oracle − 0.5) [95 % CI]",
                "value": f"{c['auc_excess_vs_oracle']:.3f}{_ci(c, 'auc_excess_vs_oracle')}",
                "target": "≥ 0.90",
            },
            {
                "part": "churn",
                "figure": "baselines AUC (recency, RFM logistic)",
                "value": ", ".join(f"{v:.3f}" for v in c.get("baselines", {}).values()),
                "target": "below the model",
            },
            {
                "part": "churn",
                "figure": "ECE against the realized future, store's campaigns going on",
                "value": f"{c['ece']:.3f} (predicted {c['predicted_churn_rate']:.3f}, realized {c.get('observed_churn_rate_business_as_usual', float('nan')):.3f})",
                "target": "≤ 0.02",
            },
            {
                "part": "churn",
                "figure": "ECE against the no-contact future (the oracle's world)",
                "value": f"{c.get('ece_no_contact', c['ece']):.3f} (realized {c['observed_churn_rate']:.3f})",
                "target": "",
            },
            {
                "part": "churn",
                "figure": "PR AUC, top-decile lift",
                "value": f"{c['pr_auc']:.3f}, {c['top_decile_lift']:.2f}",
                "target": "",
            },
        ]
    v = ev.get("value", {})
    if v:
        rows += [
            {
                "part": "value",
                "figure": "normalized Gini [95 % CI] / oracle",
                "value": f"{v['normalized_gini']:.3f}{_ci(v, 'normalized_gini')} / {v['oracle_normalized_gini']:.3f}",
                "target": "",
            },
            {
                "part": "value",
                "figure": "Gini / oracle Gini [95 % CI]",
                "value": f"{v['gini_vs_oracle']:.3f}{_ci(v, 'gini_vs_oracle')}",
                "target": "≥ 0.95",
            },
            {
                "part": "value",
                "figure": "baselines Gini (historical average, BG/NBD+GG)",
                "value": ", ".join(f"{x:.3f}" for x in v.get("baselines", {}).values()),
                "target": "below the model",
            },
            {
                "part": "value",
                "figure": "predicted total / realized total [95 % CI]",
                "value": f"{v['total_ratio']:.3f}{_ci(v, 'total_ratio')}",
                "target": "0.95–1.05",
            },
            {
                "part": "value",
                "figure": "top-decile capture",
                "value": f"{v['top_decile_capture']:.3f}",
                "target": "",
            },
        ]
        a = v.get("active") or {}
        if a:
            rows += [
                {
                    "part": "value, active",
                    "figure": f"customers ({a['definition']})",
                    "value": f"{a['n']:,} of {v['n']:,}",
                    "target": "",
                },
                {
                    "part": "value, active",
                    "figure": "Gini [95 % CI] / oracle Gini",
                    "value": f"{a['normalized_gini']:.3f}{_ci(a, 'normalized_gini')} / {a['oracle_normalized_gini']:.3f} = {a['gini_vs_oracle']:.3f}",
                    "target": "≥ 0.90 of the oracle",
                },
                {
                    "part": "value, active",
                    "figure": "predicted total / realized total [95 % CI]",
                    "value": f"{a['total_ratio']:.3f}{_ci(a, 'total_ratio')}",
                    "target": "",
                },
            ]
    k = ev.get("campaigns", {})
    if k:
        rows += [
            {
                "part": "campaigns",
                "figure": "plan / oracle plan (true incremental value)",
                "value": f"{k['incremental_value']:,.0f} / {k['oracle_incremental_value']:,.0f} = {k['incremental_value'] / k['oracle_incremental_value']:.2f}",
                "target": "≥ 0.70",
            },
            {
                "part": "campaigns",
                "figure": "plan / highest-risk-first",
                "value": f"{k['incremental_value']:,.0f} / {k['highest_risk_first_incremental_value']:,.0f}",
                "target": "≥ 1.5×",
            },
            {
                "part": "campaigns",
                "figure": "plan / store rules, / campaign means",
                "value": f"{k.get('ratio_to_store_rules', float('nan')):.2f}, {k.get('ratio_to_campaign_means', float('nan')):.2f}",
                "target": "",
            },
            {
                "part": "campaigns",
                "figure": "targeting lift [95 % CI]",
                "value": f"{k.get('targeting_lift', float('nan')):.3f}{_ci(k, 'targeting_lift')}",
                "target": "≥ 0.3",
            },
        ]
    ld = ev.get("leads", {})
    if ld:
        rows.append(
            {
                "part": "leads",
                "figure": "AUC / oracle AUC; excess ratio",
                "value": f"{ld['auc']:.3f} / {ld['oracle_auc']:.3f}; {ld.get('auc_excess_vs_oracle', float('nan')):.3f}",
                "target": "",
            }
        )
    body = (
        f"{args.customers:,} simulated customers (seed {args.seed}), `cvm monthly --as-of {as_of}` "
        f"(default profile, {m.seconds:.0f} s), then `cvm evaluate` against truth/ (the "
        f"realized next 12 months and the oracle).\n\n"
        + md_table(rows)
        + "\nThe full evaluation JSON is kept in data/bench/.\n"
    )
    write_fragment(
        "evaluate",
        f"`cvm evaluate` on {args.customers:,} simulated customers",
        f"python benchmarks/bench_evaluate.py --customers {args.customers} --seed {args.seed}",
        body,
    )


if __name__ == "__main__":
    main()
