"""Lead model vs the simulator's oracle: AUC on leads open at the end date, A/C conversion ratio.

Runs the leads step on a simulated dealer (default 30,000 customers) as of its last month and
compares with truth/leads.parquet; writes docs/benchmarks/leads.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import md_table, measure, write_fragment

from cvm.data.simulator import simulate
from cvm.leads.evaluate import evaluate_leads
from cvm.leads.step import leads_step
from cvm.run_context import RunContext


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--customers", type=int, default=30_000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            data = Path(tmp) / f"sim{seed}"
            simulate(args.customers, seed, data)
            import json

            end = json.loads((data / "truth" / "meta.json").read_text())["end"]
            ctx = RunContext.open(str(data), end, Path(tmp) / f"run{seed}", lang="en")
            with measure() as m:
                met = leads_step(ctx)
            ev = evaluate_leads(ctx.run_dir, data / "truth")
            g = ev["grades"]
            rows.append(
                {
                    "seed": seed,
                    "open leads": ev["n"],
                    "converted": ev["conversion_rate"],
                    "AUC": ev["auc"],
                    "oracle AUC": ev["oracle_auc"],
                    "AUC / oracle": ev["auc_vs_oracle"],
                    "A conv.": g["A"]["conversion"],
                    "C conv.": g["C"]["conversion"],
                    "A/C ratio": ev["a_to_c_ratio"],
                    "holdout AUC (OOT)": met["auc"],
                    "source-rate AUC": met["baselines"]["source_rate"],
                    "step s": m.seconds,
                }
            )
    body = (
        "Lead-conversion model (`cvm.leads`) on simulated dealers: leads open at the end date "
        "scored point-in-time, against their realized outcome within the horizon "
        "(`truth/leads.parquet`); oracle = the simulator's true conversion probability, which "
        "also knows the lead's future follow-ups. Targets: AUC ≥ 0.95 × oracle, A-grade "
        "conversion ≥ 3 × C-grade.\n\n" + md_table(rows)
    )
    cmd = f"python benchmarks/bench_leads.py --customers {args.customers} --seeds {' '.join(map(str, args.seeds))}"
    print(write_fragment("leads", f"Leads ({args.customers:,} customers)", cmd, body))
    print(md_table(rows))


if __name__ == "__main__":
    main()
