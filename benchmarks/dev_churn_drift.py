"""Development measurements for the churn model's drift correction (issue 15, item 4).

DEVELOPMENT SEEDS ONLY (101-103). For each world, seed and horizon: fits the churn model once
(``churn.drift.method: none``), scores the active customers at the as-of date and saves the
calibrated probabilities, the realized business-as-usual outcome and every out-of-time fold's
rows (``data/bench/churn_drift_dev/*.npz``); then prints, for each drift setting, the ECE,
AUC and mean predicted vs realized with the shift ``cvm.models.drift.fold_shift`` gives.

    python benchmarks/dev_churn_drift.py --customers 20000 --seeds 101 \\
        --worlds "closed-cohort;standard" --horizons 12,6
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dev_drift as D
from _common import ROOT

OUT = ROOT / "data" / "bench" / "churn_drift_dev"
VARIANTS = [
    ("none", 12.0, 2.0),
    ("level", 12.0, 2.0),
    ("level", 0.0, 2.0),
    ("level", 6.0, 2.0),
    ("trend", 12.0, 2.0),
    ("anchored", 12.0, 2.0),
    ("trend", 12.0, 0.0),
    ("anchored", 12.0, 0.0),
    ("anchored", 12.0, 1.0),
    ("anchored", 0.0, 2.0),
    ("trend", 0.0, 2.0),
]


def fit_case(world: str, seed: int, n: int, H: int) -> Path:
    """Fit once, save as-of scores and fold rows; the npz path."""
    from cvm.models.churn import _threads

    f = OUT / f"{world.replace(',', '+')}_s{seed}_{n}_H{H}.npz"
    if f.exists():
        return f
    t0 = time.perf_counter()
    case = D.churn_case(world, seed, n, H)
    cfg, fr, cm, p, y = case.cfg, case.frames, case.model, case.p, case.y
    cal = cm.calibrator
    raw = [
        np.asarray(cm.booster.predict(Z[cm.feature_names], num_threads=_threads(cfg)), float)
        for Z in (fr.X_fold, fr.Xh)
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(
        f,
        p=p,
        y=y,
        fold_p=np.clip(cal(np.concatenate(raw)), 0, 1),
        fold_y=np.concatenate([fr.y_fold.to_numpy(), fr.yh.to_numpy()]),
        fold_back=np.concatenate([fr.months_back_fold, fr.months_back_valid]),
        val_auc=cm.metrics["auc"],
        val_ece=cm.metrics["ece"],
        seconds=time.perf_counter() - t0,
    )
    return f


def evaluate(f: Path) -> list[dict]:
    from cvm.models import metrics as M
    from cvm.models.drift import fold_shift

    z = np.load(f)
    rows = []
    for method, hl, mt in VARIANTS:
        lv = fold_shift(z["fold_y"], z["fold_p"], z["fold_back"], method, hl, mt)
        q = np.clip(z["p"], 1e-6, 1 - 1e-6)
        p = 1 / (1 + np.exp(-(np.log(q / (1 - q)) + lv.shift)))
        rows.append(
            {
                "case": f.stem,
                "variant": f"{method}/hl{hl:g}/t{mt:g}",
                "shift": round(lv.shift, 4),
                "slope": round(lv.slope_per_year, 3),
                "t": round(lv.slope_t, 2),
                "ece": round(M.ece(z["y"], p), 4),
                "auc": round(M.auc(z["y"], p), 4),
                "mean_p": round(float(p.mean()), 4),
                "mean_y": round(float(z["y"].mean()), 4),
                "folds": [(round(d["months_back"], 1), round(d["shift"], 3)) for d in lv.folds],
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--customers", type=int, default=20000)
    ap.add_argument("--seeds", default="101")
    ap.add_argument("--worlds", default="closed-cohort")
    ap.add_argument("--horizons", default="12,6")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    if any(s not in (101, 102, 103) for s in seeds):
        raise SystemExit("development seeds only (101-103)")
    for seed in seeds:
        for world in args.worlds.split(";"):
            for H in [int(h) for h in args.horizons.split(",")]:
                f = fit_case(world, seed, args.customers, H)
                for r in evaluate(f):
                    print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
