"""Development only (seeds 101-103): churn variants on one simulated world, excess AUC vs oracle.

Simulates (or reuses) a standard world with its oracle, then fits the churn model under each
variant of run-config overrides and prints AUC, (AUC-0.5)/(oracle-0.5), ECE and fit seconds.
Never run on a benchmark's seeds; chosen settings are then frozen and measured by
benchmarks/bench_regimes.py on fresh seeds.

    python benchmarks/dev_churn.py --customers 50000 --seed 101 --out /tmp/dev_churn
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT  # noqa: F401  (puts the checkout on sys.path)

VARIANTS: dict[str, dict] = {
    "default": {},
    "rows_50k": {"training": {"max_rows_per_snapshot": 50000}},
    "snapshots_8": {"training": {"max_snapshots": 8}},
    "step_2": {"training": {"snapshot_step_months": 2, "max_snapshots": 9}},
    "leaves_63": {
        "churn": {
            "tuning": [
                {
                    "num_leaves": 31,
                    "learning_rate": 0.05,
                    "min_data_in_leaf": 200,
                    "feature_fraction": 0.8,
                    "lambda_l2": 1.0,
                },
                {
                    "num_leaves": 63,
                    "learning_rate": 0.05,
                    "min_data_in_leaf": 200,
                    "feature_fraction": 0.8,
                    "lambda_l2": 1.0,
                },
            ]
        }
    },
}
_T63 = VARIANTS["leaves_63"]["churn"]
VARIANTS |= {
    "snap8_leaves63": {"training": {"max_snapshots": 8}, "churn": _T63},
    "snap10_leaves63": {"training": {"max_snapshots": 10}, "churn": _T63},
    "snap12_leaves63": {"training": {"max_snapshots": 12}, "churn": _T63},
    "snap10_leaves63_val20": {
        "training": {"max_snapshots": 10, "validation_customer_share": 0.2},
        "churn": _T63,
    },
    "snap10_leaves127": {
        "training": {"max_snapshots": 10},
        "churn": {
            "tuning": [
                {
                    "num_leaves": 63,
                    "learning_rate": 0.05,
                    "min_data_in_leaf": 200,
                    "feature_fraction": 0.8,
                    "lambda_l2": 1.0,
                },
                {
                    "num_leaves": 127,
                    "learning_rate": 0.05,
                    "min_data_in_leaf": 300,
                    "feature_fraction": 0.7,
                    "lambda_l2": 3.0,
                },
            ]
        },
    },
}


def main() -> None:
    from cvm.config import load_config
    from cvm.data.loaders import load_tables
    from cvm.data.simulator import generate
    from cvm.data.simulator.io import write_dataset
    from cvm.definitions import active_customers
    from cvm.features.snapshot import build_features
    from cvm.models import metrics as M
    from cvm.models.churn import churn_frames, fit_churn

    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--regime", default="standard")
    ap.add_argument("--out", type=Path, default=Path("/tmp/dev_churn"))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    args = ap.parse_args()
    assert args.seed in (101, 102, 103), "development seeds only"
    logging.basicConfig(level=logging.WARNING)
    data = args.out / f"{args.regime}_{args.customers}_s{args.seed}"
    if not (data / "truth" / "meta.json").exists():
        res = generate(
            args.customers,
            args.seed,
            regimes=args.regime,
            oracle_paths=8,
            overrides={"oracle": {"campaign_paths": 1}},
        )
        write_dataset(data, res.tables, res.truth, res.meta, "parquet", force=True)
        del res
    truth = data / "truth"
    as_of = pd.Timestamp(json.loads((truth / "meta.json").read_text())["end"])
    tables = load_tables(str(data))
    fut = pd.read_parquet(truth / "visits.parquet")
    fut_bau = pd.read_parquet(truth / "visits_business_as_usual.parquet")
    oracle = pd.read_parquet(truth / "oracle_customers.parquet").set_index("customer_id")

    from bench_regimes import _window_spend

    back, back_bau = _window_spend(fut, as_of, 12).index, _window_spend(fut_bau, as_of, 12).index
    for name in args.variants.split(","):
        cfg = load_config("default", VARIANTS[name])
        t0 = time.perf_counter()
        model = fit_churn(churn_frames(tables, as_of, cfg), cfg)
        fit_s = time.perf_counter() - t0
        feats = build_features(tables, as_of, cfg)
        X = feats.loc[feats.index.intersection(active_customers(tables["visits"], as_of, cfg))]
        p = model.predict_proba(X)
        y = (~X.index.isin(back)).astype(int)
        yb = (~X.index.isin(back_bau)).astype(int)
        o = oracle["p_no_paid_visit"].reindex(X.index).to_numpy()
        auc, oauc = M.auc(y, p), M.auc(y, o)
        print(
            json.dumps(
                {
                    "variant": name,
                    "auc": round(auc, 4),
                    "oracle_auc": round(oauc, 4),
                    "excess": round(M.excess_ratio(auc, oauc), 4),
                    "ece": round(M.ece(yb, p), 4),
                    "fit_s": round(fit_s, 1),
                    "n": int(len(y)),
                    "mean_p": round(float(np.mean(p)), 4),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
