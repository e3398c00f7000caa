"""Build the artifacts the campaigns step needs (features, churn, value, segments) for a
simulated data set, without the rest of the monthly run. For campaign benchmarks.

    python scripts/prepare_campaign_run.py --data data/bench/sim_20000_seed7 --run data/bench/camp_20000_seed7
"""
from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from cvm import steps
from cvm.run_context import RunContext


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--profile", default="default")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    end = json.loads((a.data / "truth" / "meta.json").read_text())["end"]
    ctx = RunContext.open(str(a.data.resolve()), end, a.run.resolve(), seed=a.seed,
                          profile=a.profile)
    for name in ("features", "churn", "value", "segments"):
        t = time.perf_counter()
        getattr(steps, name)(ctx)
        logging.getLogger("prepare").info("step %s: %.0f s", name, time.perf_counter() - t)


if __name__ == "__main__":
    main()
