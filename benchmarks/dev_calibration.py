"""Churn calibration at the as-of date against the realized future, by decile (issue 15).

DEVELOPMENT SEEDS ONLY (101-103). Trains the churn model as the monthly run does, with any
run-config overrides, and prints one JSON line: AUC, ECE, mean predicted vs realized and the
ten deciles, against the business-as-usual future of the active customers.

    python benchmarks/dev_calibration.py closed-cohort,visits-only 101 30000 12 \
        '{"churn": {"calibration": "beta"}}'
"""

import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dev_drift as D

from cvm.models import metrics as M


def main(argv: list[str]) -> None:
    """Train, score and print the calibration line for one world, seed, size and horizon."""
    world, seed, n, H = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    over = json.loads(argv[4]) if len(argv) > 4 else {}
    if seed not in (101, 102, 103):
        raise SystemExit(
            "development seeds only (101-103): the benchmarks' seeds are never tuned on"
        )
    case = D.churn_case(world, seed, n, H, over)
    cm, p, y = case.model, case.p, case.y
    q = pd.qcut(p, 10, labels=False, duplicates="drop")
    tab = pd.DataFrame({"p": p, "y": y, "q": q}).groupby("q").mean().round(3)
    print(
        json.dumps(
            {
                "world": world,
                "seed": seed,
                "H": H,
                "over": over,
                "auc": round(M.auc(y, p), 4),
                "ece": round(M.ece(y, p), 4),
                "mean_p": round(float(p.mean()), 4),
                "mean_y": round(float(y.mean()), 4),
                "bins_p": tab["p"].tolist(),
                "bins_y": tab["y"].tolist(),
                "val": {k: cm.metrics.get(k) for k in ("auc", "ece", "calibration")},
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
