"""Benchmark of the monthly run: wall time and peak memory of each step, by base size.

For each size the simulated data (cached in data/bench/) is run step by step, each step in a
child process (so its peak memory is its own), calling the same ``cvm.steps`` functions the
notebooks call; then the whole ``cvm monthly`` (papermill, report) is timed once for the
smallest size, and ``cvm demo``'s figure is that run. Writes docs/benchmarks/monthly.md.

    python benchmarks/bench_monthly.py                          # 20k
    python benchmarks/bench_monthly.py --sizes 20000 200000 1000000
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PY, ROOT, md_table, measure, write_fragment  # noqa: E402

log = logging.getLogger("bench_monthly")
CACHE = ROOT / "data" / "bench"
STEPS = ("load_validate", "features", "churn", "value", "segments", "campaigns", "report")
STEP_CODE = {
    "load_validate": "ctx.tables",
    "features": "steps.features(ctx)",
    "churn": "steps.churn(ctx)",
    "value": "steps.value(ctx)",
    "segments": "steps.segments(ctx)",
    "campaigns": "steps.campaigns(ctx)",
    "report": "from cvm.reporting import report; list(report.sections(ctx))",
}


def sim_dir(n: int, seed: int) -> Path:
    """Simulated data for ``n`` customers (5 years), simulated once and cached."""
    out = CACHE / f"sim_{n}_s{seed}"
    if not (out / "visits.parquet").exists():
        log.info("simulating %s customers into %s", f"{n:,}", out)
        subprocess.run([PY, "-m", "cvm.cli", "simulate", "--customers", str(n), "--seed", str(seed),
                        "--out", str(out), "--years", "5", "--force"], check=True, cwd=ROOT)
    return out


def as_of_for(data: Path) -> str:
    d = pd.read_parquet(data / "visits.parquet", columns=["visit_date"])["visit_date"].max()
    return (pd.Timestamp(d) + pd.offsets.MonthEnd(0)).strftime("%Y-%m-%d")


def run_step(step: str, data: Path, as_of: str, run_dir: Path) -> dict:
    code = ("from cvm.run_context import RunContext; from cvm import steps; "
            f"ctx = RunContext.open(data={str(data)!r}, as_of={as_of!r}, run_dir={str(run_dir)!r}); "
            + STEP_CODE[step])
    with measure() as m:
        proc = subprocess.run([PY, "-c", code], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        log.error("step %s failed:\n%s", step, proc.stderr[-3000:])
    return {"step": step, "seconds": m.seconds, "peak_rss_gb": m.peak_rss_gb,
            "ok": proc.returncode == 0}


def run_steps(n: int, seed: int) -> list[dict]:
    data = sim_dir(n, seed)
    as_of = as_of_for(data)
    run_dir = CACHE / f"run_{n}_s{seed}"
    shutil.rmtree(run_dir, ignore_errors=True)
    rows = []
    for step in STEPS:
        r = run_step(step, data, as_of, run_dir)
        log.info("%s customers, %s: %.1f s, %.2f GB", f"{n:,}", step, r["seconds"], r["peak_rss_gb"])
        rows.append({"customers": n, **r})
        if not r["ok"]:
            break
    return rows


def run_full(n: int, seed: int) -> dict:
    """The whole `cvm monthly` (notebooks, report) in a child process."""
    data = sim_dir(n, seed)
    out = CACHE / f"reports_{n}_s{seed}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [PY, "-m", "cvm.cli", "monthly", "--data", str(data), "--as-of", as_of_for(data),
           "--out", str(out)]
    with measure() as m:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        log.error("cvm monthly failed:\n%s", proc.stderr[-3000:])
    return {"customers": n, "seconds": m.seconds, "peak_rss_gb": m.peak_rss_gb,
            "ok": proc.returncode == 0}


def growth(rows: list[dict]) -> dict[str, str]:
    """Per step, the exponent b of time ~ size^b between the smallest and largest size."""
    df = pd.DataFrame(rows)
    out = {}
    for step, g in df[df["ok"]].groupby("step"):
        g = g.sort_values("customers")
        if len(g) >= 2 and g["seconds"].iloc[0] > 0:
            b = math.log(g["seconds"].iloc[-1] / g["seconds"].iloc[0]) / math.log(
                g["customers"].iloc[-1] / g["customers"].iloc[0])
            out[step] = f"{b:.2f}"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[20000])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-full", action="store_true", help="skip the whole `cvm monthly` run")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    rows = [r for n in args.sizes for r in run_steps(n, args.seed)]
    full = None if args.no_full else run_full(min(args.sizes), args.seed)
    table = pd.DataFrame(rows)
    wide = table.pivot_table(index="step", columns="customers", values=["seconds", "peak_rss_gb"],
                             sort=False)
    body_rows = []
    exps = growth(rows)
    for step in STEPS:
        if step not in wide.index:
            continue
        r = {"step": step}
        for n in args.sizes:
            if ("seconds", n) in wide.columns:
                r[f"{n:,}: s"] = float(wide.loc[step, ("seconds", n)])
                r[f"{n:,}: peak GB"] = float(wide.loc[step, ("peak_rss_gb", n)])
        r["time ~ size^b"] = exps.get(step, "")
        body_rows.append(r)
    totals = table.groupby("customers").agg(seconds=("seconds", "sum"),
                                            peak_rss_gb=("peak_rss_gb", "max"), ok=("ok", "all"))
    body = ("Each step runs in its own process (as each notebook runs in its own kernel), on "
            "simulated data with 5 years of history, 12-month horizon.\n\n" + md_table(body_rows)
            + "\nSum of the steps, largest step's peak memory:\n\n"
            + md_table([{"customers": f"{n:,}", "seconds": float(r.seconds),
                         "peak_rss_gb": float(r.peak_rss_gb), "all steps ok": bool(r.ok)}
                        for n, r in totals.iterrows()]))
    if full:
        body += (f"\nThe whole `cvm monthly` (7 notebooks under papermill, report.html) for "
                 f"{full['customers']:,} customers — the run `cvm demo` makes: "
                 f"**{full['seconds']:.0f} s**, peak {full['peak_rss_gb']:.2f} GB "
                 f"({'ok' if full['ok'] else 'FAILED'}; target: under 180 s for 20,000).\n")
    cmd = "python benchmarks/bench_monthly.py --sizes " + " ".join(map(str, args.sizes))
    write_fragment("monthly", "Monthly run by step", cmd, body)
    (CACHE / "bench_monthly.json").write_text(json.dumps({"steps": rows, "full": full}, indent=1))


if __name__ == "__main__":
    main()
