"""Churn model quality against the simulator's ground truth, and feature-building speed.

Simulates a dealer (``cvm.data.simulator.generate``), trains the churn model at the data's
last day, scores the customers active then, and compares with the realized future
(truth/visits) and with the oracle probabilities (truth/oracle_customers). Repeats on a
visits-only copy. Optionally times ``build_features`` on a scaled-up copy of the visits.
Writes docs/benchmarks/churn.md.

    .venv/bin/python benchmarks/bench_churn.py --customers 50000
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import md_table, measure, write_fragment  # noqa: E402

from cvm.config import load_config  # noqa: E402
from cvm.data.contract import TABLES  # noqa: E402
from cvm.data.simulator import generate  # noqa: E402
from cvm.features.labels import churn_labels  # noqa: E402
from cvm.features.snapshot import build_features  # noqa: E402
from cvm.models import metrics as M  # noqa: E402
from cvm.models.baselines import recency_score  # noqa: E402
from cvm.models.churn import train_churn  # noqa: E402

log = logging.getLogger("bench_churn")
ECE_TARGET = 0.02
AUC_SHARE_TARGET = 0.90


def evaluate(tables: dict[str, pd.DataFrame], truth_visits: pd.DataFrame, oracle: pd.Series,
             end: pd.Timestamp, cfg: dict) -> dict:
    """Train at ``end``, score the customers active then, compare with the realized future."""
    h = int(cfg["horizon_months"])
    with measure() as mt:
        model = train_churn(tables, end, cfg)
    with measure() as mf:
        X = build_features(tables, end, cfg)
    all_visits = pd.concat([tables["visits"], truth_visits[tables["visits"].columns
                                                           .intersection(truth_visits.columns)]])
    y = churn_labels(all_visits, end, h, cfg)
    X = X.loc[y.index]
    p = model.predict_proba(X)
    yv = y.to_numpy()
    rep = M.classification_report(yv, p, int(cfg["churn"]["ece_bins"]))
    o = oracle.reindex(y.index).to_numpy(dtype=float)
    rep["oracle_auc"] = M.auc(yv, o)
    rep["oracle_ece"] = M.ece(yv, o)
    rep["auc_share_of_oracle"] = rep["auc"] / rep["oracle_auc"]
    rep["baselines"] = {"recency": M.auc(yv, recency_score(X)),
                        "rfm_logistic": M.auc(yv, model.rfm.predict_proba(X))}
    rep["mean_p"] = float(p.mean())
    rep["internal"] = {k: model.metrics[k] for k in
                       ("auc", "ece", "grade", "naive_rule", "best_params", "best_iteration",
                        "n_train", "train_dates", "valid_dates")}
    rep["train_seconds"], rep["features_seconds"] = mt.seconds, mf.seconds
    rep["peak_rss_gb"] = max(mt.peak_rss_gb, mf.peak_rss_gb)
    rep["top_features"] = list(pd.Series(
        model.booster.feature_importance("gain"), model.feature_names)
        .sort_values(ascending=False).head(8).index)
    return rep


def scale_features(visits: pd.DataFrame, end: pd.Timestamp, target: int, cfg: dict) -> dict:
    """Time build_features on visits replicated under new customer ids up to ``target``."""
    n = visits["customer_id"].nunique()
    k = max(1, int(np.ceil(target / n)))
    big = pd.concat([visits.assign(customer_id=visits["customer_id"] + f"_{i}")
                     for i in range(k)], ignore_index=True)
    with measure() as m:
        X = build_features({"visits": big}, end, cfg)
    return {"customers": len(X), "visits": len(big), "seconds": m.seconds,
            "peak_rss_gb": m.peak_rss_gb}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scale-customers", type=int, default=1_000_000,
                    help="customers for the visits-only feature timing (0 = skip)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    cfg = load_config()
    with measure() as ms:
        sim = generate(args.customers, seed=args.seed, horizon_months=int(cfg["horizon_months"]))
    end = pd.Timestamp(sim.meta["end"])
    tables = {name: sim.df(name) for name in sim.tables if name in TABLES}
    truth_visits = sim.df("truth/visits")
    oracle = sim.df("truth/oracle_customers").set_index("customer_id")["p_no_paid_visit"]
    log.info("simulated %d customers, %d visits up to %s in %.0fs", args.customers,
             len(tables["visits"]), end.date(), ms.seconds)

    results = {"full": evaluate(tables, truth_visits, oracle, end, cfg)}
    vo = {"visits": tables["visits"][["customer_id", "visit_date", "amount"]]}
    results["visits_only"] = evaluate(vo, truth_visits, oracle, end, cfg)
    if args.scale_customers:
        results["scale"] = scale_features(vo["visits"], end, args.scale_customers, cfg)
    log.info("%s", json.dumps(results, indent=1, default=str))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")

    rows = []
    for name, r in (("all tables", results["full"]), ("visits only (3 columns)",
                                                        results["visits_only"])):
        rows.append({"data": name, "n scored": r["n"], "churn rate": r["base_rate"],
                     "AUC": r["auc"], "oracle AUC": r["oracle_auc"],
                     "AUC / oracle": r["auc_share_of_oracle"],
                     "recency AUC": r["baselines"]["recency"],
                     "RFM logistic AUC": r["baselines"]["rfm_logistic"],
                     "PR AUC": r["pr_auc"], "ECE": r["ece"], "Brier": r["brier"],
                     "top-decile lift": r["top_decile_lift"], "grade": r["internal"]["grade"],
                     "train s": r["train_seconds"]})
    full = results["full"]
    body = (f"Simulated {args.customers:,} customers (seed {args.seed}), data up to {end.date()}, "
            f"horizon {cfg['horizon_months']} months. The model is trained at the last day "
            f"(snapshots {', '.join(full['internal']['train_dates'])}; out-of-time fold "
            f"{', '.join(full['internal']['valid_dates'])}) and scored on customers active then; "
            "labels are the realized future in truth/visits, the oracle is "
            "truth/oracle_customers.p_no_paid_visit (Monte Carlo, so itself noisy).\n\n"
            + md_table(rows)
            + f"\nTargets: AUC ≥ {AUC_SHARE_TARGET:.2f} × oracle AUC, above both baselines, "
              f"ECE ≤ {ECE_TARGET}. Reached (all tables): "
              f"AUC/oracle {'yes' if full['auc_share_of_oracle'] >= AUC_SHARE_TARGET else 'NO'}, "
              f"baselines {'yes' if full['auc'] > max(full['baselines'].values()) else 'NO'}, "
              f"ECE {'yes' if full['ece'] <= ECE_TARGET else 'NO'}.\n\n"
              f"Top features by gain: {', '.join(full['top_features'])}.\n")
    if "scale" in results:
        s = results["scale"]
        body += (f"\nFeature building, visits only, {s['customers']:,} customers / "
                 f"{s['visits']:,} visits: {s['seconds']:.1f} s, peak RSS "
                 f"{s['peak_rss_gb']:.1f} GiB.\n")
    cmd = "python benchmarks/bench_churn.py " + " ".join(sys.argv[1:])
    print(write_fragment("churn", "Churn model", cmd.strip(), body))


if __name__ == "__main__":
    main()
