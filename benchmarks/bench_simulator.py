"""Benchmark of the dealer simulator: wall time and peak memory at 20k and 1M customers.

Each size runs ``cvm simulate`` in a child process (so peak memory is that run's), measured
with benchmarks/_common.measure; the calibration figures of the 20k run are reported too.
Writes docs/benchmarks/simulator.md.

    python benchmarks/bench_simulator.py            # 20k and 1M (slow: minutes)
    python benchmarks/bench_simulator.py --quick    # 20k only
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PY, ROOT, md_table, measure, write_fragment  # noqa: E402

log = logging.getLogger("bench_simulator")
# the 20k run includes the full-precision oracle for every customer (~3/4 of its time); the 1M
# run's oracle covers a 20,000-customer sample (docs/simulator.md, "Oracle method")
LIMITS = {20_000: (60, None), 1_000_000: (15 * 60, 12.0)}  # the figures


def run_size(n: int, out: Path) -> dict:
    """Simulate ``n`` customers x 5 years in a child process; time and peak memory."""
    cmd = [
        PY,
        "-m",
        "cvm.cli",
        "simulate",
        "--customers",
        str(n),
        "--seed",
        "42",
        "--out",
        str(out),
        "--years",
        "5",
        "--force",
    ]
    with measure() as m:
        subprocess.run(
            cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    rows = pd.read_parquet(out / "visits.parquet", columns=["visit_id"]).shape[0]
    limit_s, limit_gb = LIMITS.get(n, (None, None))
    return {
        "customers": f"{n:,}",
        "years": 5,
        "visits": f"{rows:,}",
        "seconds": m.seconds,
        "peak_rss_gb": m.peak_rss_gb,
        "limit": f"< {limit_s} s" + (f", < {limit_gb} GB" if limit_gb else ""),
        "ok": (m.seconds < limit_s) and (limit_gb is None or m.peak_rss_gb < limit_gb),
    }


def calibration(out: Path) -> str:
    from cvm.data.simulator.calibration import TARGETS, figures

    meta = json.loads((out / "truth" / "meta.json").read_text(encoding="utf-8"))
    end = pd.Timestamp(meta["end"])
    start = end - pd.DateOffset(years=5) + pd.Timedelta(days=1)
    tabs = {
        k: pd.read_parquet(out / f"{k}.parquet")
        for k in ("visits", "vehicles", "campaign_contacts")
    }
    fig = figures(tabs, start, end)
    rows = [
        {
            "figure": k,
            "simulated": fig[k],
            "target": str(TARGETS.get(k.replace("_response", "_response"), "")),
        }
        for k in fig
    ]
    o = meta["oracle"]
    rows.append(
        {
            "figure": "oracle mean SE of P(no paid visit)",
            "simulated": o["mean_se_p_no_paid_visit"],
            "target": "<= 0.01",
        }
    )
    rows.append(
        {
            "figure": "oracle mean SE of expected spend / mean expected spend",
            "simulated": o["mean_se_expected_spend"] / max(o["mean_expected_spend"], 1e-9),
            "target": "<= 0.05",
        }
    )
    rows.append(
        {
            "figure": "oracle mean SE of uplift",
            "simulated": o["mean_se_uplift_p_return"],
            "target": "<= 0.005",
        }
    )
    return md_table(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="only the 20k run")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sizes = [20_000] if args.quick else [20_000, 1_000_000]
    tmp = Path(tempfile.mkdtemp(prefix="bench_sim_"))
    try:
        results, cal = [], ""
        for n in sizes:
            out = tmp / f"n{n}"
            log.info("simulating %s customers", f"{n:,}")
            results.append(run_size(n, out))
            log.info("%s", results[-1])
            if n == 20_000:
                cal = calibration(out)
            shutil.rmtree(out, ignore_errors=True)
        body = (
            "### Speed and memory\n\n"
            + md_table(results)
            + "\n### Calibration (20k customers, seed 42)\n\n"
            + cal
        )
        cmd = "python benchmarks/bench_simulator.py" + (" --quick" if args.quick else "")
        path = write_fragment("simulator", "Dealer simulator", cmd, body)
        log.info("wrote %s", path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
