"""Re-run only the campaigns step of a prepared run (see prepare_campaign_run.py)."""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from cvm import steps
from cvm.run_context import RunContext

ap = argparse.ArgumentParser()
ap.add_argument("--data", type=Path, required=True)
ap.add_argument("--run", type=Path, required=True)
ap.add_argument("--budget", type=float, default=None)
ap.add_argument("--seed", type=int, default=42)
a = ap.parse_args()
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
end = json.loads((a.data / "truth" / "meta.json").read_text())["end"]
ctx = RunContext.open(str(a.data.resolve()), end, a.run.resolve(), seed=a.seed, budget=a.budget)
steps.campaigns(ctx)
