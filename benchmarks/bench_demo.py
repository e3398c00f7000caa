"""Benchmark of `cvm demo`: simulate 20,000 customers into an empty folder, run the month.

The whole command in a child process, as a new user runs it; writes docs/benchmarks/demo.md.

    python benchmarks/bench_demo.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PY, ROOT, md_table, measure, write_fragment  # noqa: E402

CUSTOMERS = 20_000
LIMIT_S = 180


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="cvm-demo-"))
    try:
        cmd = [
            PY,
            "-m",
            "cvm.cli",
            "demo",
            "--data",
            str(work / "demo"),
            "--customers",
            str(CUSTOMERS),
            "--out",
            str(work / "reports"),
        ]
        with measure() as m:
            subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True)
        run = next((work / "reports").glob("20*"))
        metrics = json.loads((run / "metrics.json").read_text())
        steps = {k.replace(".ipynb", ""): v for k, v in metrics["timings_seconds"].items()}
        rows = [
            {
                "customers": f"{CUSTOMERS:,}",
                "whole `cvm demo` (s)": m.seconds,
                "of which monthly run (s)": steps.get("total"),
                "peak_rss_gb": m.peak_rss_gb,
                "limit": f"< {LIMIT_S} s",
                "ok": m.seconds < LIMIT_S,
            }
        ]
        body = (
            "`cvm demo` on an empty data folder: simulate the customers (with the ground "
            "truth), then the monthly run (profile `demo`, configs/demo.yaml) for the last "
            "month, report included.\n\n"
            + md_table(rows)
            + "\nSeconds per notebook:\n\n"
            + md_table([{"step": k, "seconds": v} for k, v in steps.items() if k != "total"])
        )
        write_fragment(
            "demo", "`cvm demo` (20,000 customers)", "python benchmarks/bench_demo.py", body
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
