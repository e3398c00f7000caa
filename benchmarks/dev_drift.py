"""Development measurements for the value model's drift correction (issue 15, item 4).

DEVELOPMENT SEEDS ONLY (101-103): never run this on the regimes benchmark's seeds. For each
world and horizon it trains the value and churn models as the monthly run does and writes one
JSON line with:

- the predicted / realized total against the truth (every payer at its true margin) and
  against a truth on the data's own definition (``samedef``: the truth's visits restricted to
  the columns the store's data has, so visits-only counts every positive amount as a
  customer-paid visit of unknown type, as the model's labels do);
- ``need``: the scale that would make the as-of total exact, against the model's ``scale``;
- the backtest correction (``cvm.models.drift``) and the ratio after it;
- churn: mean predicted vs realized P(no paid visit) and ECE, both definitions.

    python benchmarks/dev_drift.py --customers 10000 --seeds 101,102 --worlds "closed-cohort;visits-only"
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT

OUT = ROOT / "data" / "bench" / "drift_dev"
log = logging.getLogger("dev_drift")


def _world(world: str, seed: int, customers: int) -> Path:
    from cvm.data.simulator import generate
    from cvm.data.simulator.io import write_dataset

    data = OUT / f"{world.replace(',', '+')}_s{seed}_{customers}"
    if not (data / "truth" / "meta.json").exists():
        res = generate(
            customers,
            seed,
            regimes=world,
            oracle_paths=2,
            overrides={"oracle": {"campaign_paths": 1}},
        )
        write_dataset(data, res.tables, res.truth, res.meta, "parquet", force=True)
    return data


def _margin_in(
    future: pd.DataFrame, end: pd.Timestamp, H: int, cols: list[str] | None, cfg
) -> pd.Series:
    from cvm.data.ids import ids
    from cvm.features.margin import visit_margin

    f = future.loc[pd.to_datetime(future["visit_date"]) <= end + pd.offsets.MonthEnd(H)]
    if cols is not None:
        f = f[[c for c in f.columns if c in cols]]
    return (
        pd.Series(visit_margin(f, cfg), index=ids(f["customer_id"]).to_numpy())
        .groupby(level=0)
        .sum()
    )


def churn_case(world: str, seed: int, customers: int, H: int, over: dict | None = None):
    """A development world's churn case, as the monthly run fits it: the churn model trained
    at the world's end and the active customers scored, with their outcome in the
    no-contact future (``_paid_in``). A namespace: ``data, tables, cfg, as_of, frames, model,
    X`` (the active customers' features), ``p`` (their probabilities) and ``y`` (1 = no paid
    visit in the ``H`` months). Shared by the churn development scripts."""
    from types import SimpleNamespace

    from cvm.config import load_config
    from cvm.data.loaders import load_tables
    from cvm.definitions import active_customers
    from cvm.features.lookback import scoring_features
    from cvm.features.snapshot import build_features
    from cvm.models.churn import churn_frames, fit_churn

    data = _world(world, seed, customers)
    truth = data / "truth"
    as_of = pd.Timestamp(json.loads((truth / "meta.json").read_text())["end"])
    cfg = load_config("default", {"horizon_months": H, **(over or {})})
    tables = load_tables(str(data))
    bau = pd.read_parquet(truth / "visits_business_as_usual.parquet")
    fr = churn_frames(tables, as_of, cfg)
    cm = fit_churn(fr, cfg)
    feats = scoring_features(tables, as_of, H, cfg, build_features(tables, as_of, cfg))
    act = active_customers(tables["visits"], as_of, cfg)
    X = feats.loc[feats.index.intersection(act)]
    p = cm.predict_proba(X)
    y = (~X.index.isin(_paid_in(bau, as_of, H, None))).astype(int)
    return SimpleNamespace(
        data=data, tables=tables, cfg=cfg, as_of=as_of, frames=fr, model=cm, X=X, p=p, y=y
    )


def _paid_in(future: pd.DataFrame, end: pd.Timestamp, H: int, cols: list[str] | None) -> pd.Index:
    from cvm.data.ids import ids
    from cvm.definitions import paid_mask

    f = future.loc[pd.to_datetime(future["visit_date"]) <= end + pd.offsets.MonthEnd(H)]
    if cols is not None:
        f = f[[c for c in f.columns if c in cols]]
    return pd.Index(ids(f.loc[paid_mask(f), "customer_id"]).unique())


def measure(data: Path, H: int, overrides: dict) -> dict:
    from cvm.config import CvmError, load_config
    from cvm.data.loaders import load_tables
    from cvm.definitions import active_customers
    from cvm.features.snapshot import build_features
    from cvm.models import metrics as M
    from cvm.models.churn import churn_frames, fit_churn
    from cvm.models.value import fit_value, value_frames

    truth = data / "truth"
    as_of = pd.Timestamp(json.loads((truth / "meta.json").read_text())["end"])
    cfg = load_config(
        "default",
        {
            "horizon_months": H,
            "value": {"customer_paid_model": False, **overrides.get("value", {})},
        },
    )
    tables = load_tables(str(data))
    cols = list(tables["visits"].columns)
    feats = build_features(tables, as_of, cfg)
    fut = pd.read_parquet(truth / "visits.parquet")
    bau = pd.read_parquet(truth / "visits_business_as_usual.parquet")
    out: dict = {"H": H}
    t0 = time.perf_counter()
    try:
        vm = fit_value(value_frames(tables, as_of, cfg), cfg)
    except CvmError as err:
        out["skipped"] = str(err)
        return out
    pred = vm.predict(feats)
    r_true = _margin_in(fut, as_of, H, None, cfg).reindex(feats.index).fillna(0).to_numpy()
    r_same = _margin_in(fut, as_of, H, cols, cfg).reindex(feats.index).fillna(0).to_numpy()
    raw = pred / vm.scale
    out["value"] = {
        "ratio_true": float(pred.sum() / r_true.sum()),
        "ratio_samedef": float(pred.sum() / r_same.sum()),
        "truth_samedef_over_true": float(r_same.sum() / r_true.sum()),
        "scale": vm.scale,
        "need_true": float(r_true.sum() / raw.sum()),
        "need_samedef": float(r_same.sum() / raw.sum()),
        "drift": vm.metrics.get("drift"),
        "gini": M.normalized_gini(r_true, pred),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    try:
        cm = fit_churn(churn_frames(tables, as_of, cfg), cfg)
    except CvmError as err:
        out["churn_skipped"] = str(err)
        return out
    act = active_customers(tables["visits"], as_of, cfg)
    X = feats.loc[feats.index.intersection(act)]
    p = cm.predict_proba(X)
    c = {"mean_p": float(p.mean())}
    for name, cl in (("true", None), ("samedef", cols)):
        y = (~X.index.isin(_paid_in(bau, as_of, H, cl))).astype(int)
        c[f"mean_y_{name}"] = float(y.mean())
        c[f"ece_{name}"] = M.ece(y, p)
        c[f"auc_{name}"] = M.auc(y, p)
    c["drift"] = cm.metrics.get("drift")
    out["churn"] = c
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--customers", type=int, default=10000)
    ap.add_argument("--seeds", default="101")
    ap.add_argument("--worlds", default="visits-only")
    ap.add_argument("--horizons", default="12,6")
    ap.add_argument("--overrides", default="{}", help="JSON run-config overrides")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for name in ("cvm", "lightgbm"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("cvm.models.drift").setLevel(logging.INFO)
    OUT.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    if set(seeds) & set(range(9000, 10000)):
        raise SystemExit("benchmark seeds (9xxx) are not for development")
    ov = json.loads(args.overrides)
    for seed in seeds:
        for world in args.worlds.split(";"):
            t0 = time.perf_counter()
            data = _world(world, seed, args.customers)
            sim = round(time.perf_counter() - t0, 1)
            for H in [int(h) for h in args.horizons.split(",")]:
                row = {
                    "world": world,
                    "seed": seed,
                    "customers": args.customers,
                    "tag": args.tag,
                    "overrides": ov,
                    "simulate_seconds": sim,
                    **measure(data, H, ov),
                }
                with (OUT / "results.jsonl").open("a") as fh:
                    fh.write(json.dumps(row) + "\n")
                log.info("%s", json.dumps(row))


if __name__ == "__main__":
    main()
