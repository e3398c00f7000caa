"""Churn model quality against the simulator's ground truth, and feature-building speed.

Simulates a dealer (``cvm.data.simulator.generate``), trains the churn model at the data's
last day, scores the customers active then, and compares with the realized future
(truth/visits) and with the oracle probabilities (truth/oracle_customers). Repeats on a
visits-only copy. Optionally times ``build_features`` on random visits at 1M customers / 15M visits.
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
from _common import md_table, measure, write_fragment

from cvm.config import load_config
from cvm.data.contract import TABLES
from cvm.data.simulator import generate
from cvm.features.labels import churn_labels
from cvm.features.snapshot import build_features
from cvm.models import metrics as M
from cvm.models.baselines import recency_score
from cvm.models.churn import train_churn
from cvm.settings import run_settings

log = logging.getLogger("bench_churn")
ECE_TARGET = 0.02
AUC_SHARE_TARGET = 0.90


def realized(
    visits: pd.DataFrame, truth_visits: pd.DataFrame, end: pd.Timestamp, cfg: dict
) -> pd.Series:
    """Churn labels at ``end`` from the full visits (with payer) and the realized future."""
    cols = visits.columns.intersection(truth_visits.columns)
    return churn_labels(
        pd.concat([visits, truth_visits[cols]]), end, int(cfg["horizon_months"]), cfg
    )


def evaluate(
    tables: dict[str, pd.DataFrame],
    y: pd.Series,
    oracle: pd.Series,
    end: pd.Timestamp,
    cfg: dict,
    y_bau: pd.Series,
) -> dict:
    """Train at ``end``, score the customers active then, compare with the realized futures:
    ``y`` without contacts (the oracle's world), ``y_bau`` with the campaigns going on."""
    with measure() as mt:
        model = train_churn(tables, end, cfg)
    with measure() as mf:
        X = build_features(tables, end, cfg)
    X = X.reindex(y.index)
    p = model.predict_proba(X)
    yv = y.to_numpy()
    rep = M.classification_report(yv, p, int(cfg["churn"]["ece_bins"]))
    o = oracle.reindex(y.index).to_numpy(dtype=float)
    rep["oracle_auc"] = M.auc(yv, o)
    rep["oracle_ece"] = M.ece(yv, o)
    rep["auc_share_of_oracle"] = rep["auc"] / rep["oracle_auc"]
    rep["baselines"] = {
        "recency": M.auc(yv, recency_score(X)),
        "rfm_logistic": M.auc(yv, model.rfm.predict_proba(X)),
    }
    rep["mean_p"] = float(p.mean())
    yb = y_bau.reindex(y.index).to_numpy()
    rep["bau"] = {
        "ece": M.ece(yb, p, int(cfg["churn"]["ece_bins"])),
        "auc": M.auc(yb, p),
        "base_rate": float(yb.mean()),
        "brier": M.brier(yb, p),
    }
    rep["internal"] = {
        k: model.metrics[k]
        for k in (
            "auc",
            "ece",
            "grade",
            "naive_rule",
            "best_params",
            "best_iteration",
            "n_train",
            "train_dates",
            "valid_dates",
        )
    }
    rep["train_seconds"], rep["features_seconds"] = mt.seconds, mf.seconds
    rep["peak_rss_gb"] = max(mt.peak_rss_gb, mf.peak_rss_gb)
    rep["top_features"] = list(
        pd.Series(model.booster.feature_importance("gain"), model.feature_names)
        .sort_values(ascending=False)
        .head(8)
        .index
    )
    return rep


def synthetic_visits(n_customers: int, n_visits: int, end: pd.Timestamp, seed: int) -> pd.DataFrame:
    """Random visits with every visits column, for timing only (no behaviour in them)."""
    rng = np.random.default_rng(seed)
    c = rng.integers(0, n_customers, n_visits)
    ids = pd.array([f"C{i:08d}" for i in range(n_customers)], dtype="str")
    return pd.DataFrame(
        {
            "customer_id": ids[c],
            "vehicle_id": ids[c],
            "visit_date": end - pd.to_timedelta(rng.integers(0, 5 * 365, n_visits), unit="D"),
            "amount": rng.gamma(2.0, 400.0, n_visits),
            "visit_type": pd.array(
                rng.choice(["maintenance", "repair", "accident", "warranty"], n_visits), dtype="str"
            ),
            "payer": pd.array(
                rng.choice(["customer", "warranty", "insurer", "free"], n_visits), dtype="str"
            ),
            "mileage_km": rng.uniform(0, 200000, n_visits),
            "service_advisor_id": pd.array(
                np.char.add("SA", rng.integers(0, 300, n_visits).astype(str)), dtype="str"
            ),
            "wait_minutes": rng.gamma(3.0, 20.0, n_visits),
            "quote_items_offered": rng.integers(0, 5, n_visits),
            "quote_items_accepted": rng.integers(0, 3, n_visits),
        }
    )


def scale_features(n_customers: int, n_visits: int, end: pd.Timestamp, cfg: dict) -> dict:
    """Time build_features on random visits of ``n_customers`` / ``n_visits`` (all columns)."""
    visits = synthetic_visits(n_customers, n_visits, end, run_settings(cfg).seed)
    with measure() as m:
        X = build_features({"visits": visits}, end, cfg)
    return {
        "customers": len(X),
        "visits": len(visits),
        "features": X.shape[1],
        "seconds": m.seconds,
        "peak_rss_gb": m.peak_rss_gb,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--customers",
        type=int,
        default=50000,
        help="simulated customers (0 = only time feature building)",
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--scale-customers",
        type=int,
        default=1_000_000,
        help="customers for the feature-building timing (0 = skip)",
    )
    ap.add_argument("--scale-visits", type=int, default=15_000_000)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    cfg = load_config()
    cmd = ("python benchmarks/bench_churn.py " + " ".join(sys.argv[1:])).strip()
    if args.customers == 0:  # feature-building speed only
        sc = scale_features(
            args.scale_customers, args.scale_visits, pd.Timestamp("2026-09-30"), cfg
        )
        log.info("%s", sc)
        print(
            write_fragment(
                "churn_features",
                "Feature building speed",
                cmd,
                (
                    f"`build_features` on random visits with every visits column (no other table), "
                    f"{sc['customers']:,} customers / {sc['visits']:,} visits, {sc['features']} "
                    f"features: {sc['seconds']:.1f} s, peak RSS {sc['peak_rss_gb']:.1f} GiB. The "
                    "machine's 2 cores were shared with other jobs while measuring.\n"
                ),
            )
        )
        return
    with measure() as ms:
        sim = generate(args.customers, seed=args.seed, horizon_months=int(cfg["horizon_months"]))
    end = pd.Timestamp(sim.meta["end"])
    tables = {name: sim.df(name) for name in sim.tables if name in TABLES}
    truth_visits = sim.df("truth/visits")
    bau_visits = sim.df("truth/visits_business_as_usual")
    oracle = sim.df("truth/oracle_customers").set_index("customer_id")["p_no_paid_visit"]
    log.info(
        "simulated %d customers, %d visits up to %s in %.0fs",
        args.customers,
        len(tables["visits"]),
        end.date(),
        ms.seconds,
    )

    # the same realized labels (paid = payer is the customer) for both copies of the data
    y = realized(tables["visits"], truth_visits, end, cfg)
    yb = realized(tables["visits"], bau_visits, end, cfg)
    results = {"full": evaluate(tables, y, oracle, end, cfg, yb)}
    vo = {"visits": tables["visits"][["customer_id", "visit_date", "amount"]]}
    results["visits_only"] = evaluate(vo, y, oracle, end, cfg, yb)
    if args.scale_customers:
        results["scale"] = scale_features(args.scale_customers, args.scale_visits, end, cfg)
    log.info("%s", json.dumps(results, indent=1, default=str))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")

    rows = []
    for name, r in (
        ("all tables", results["full"]),
        ("visits only (3 columns)", results["visits_only"]),
    ):
        rows.append(
            {
                "data": name,
                "n scored": r["n"],
                "churn rate": r["base_rate"],
                "AUC": r["auc"],
                "oracle AUC": r["oracle_auc"],
                "AUC / oracle": r["auc_share_of_oracle"],
                "recency AUC": r["baselines"]["recency"],
                "RFM logistic AUC": r["baselines"]["rfm_logistic"],
                "PR AUC": r["pr_auc"],
                "ECE (campaigns going on)": r["bau"]["ece"],
                "ECE (no contact)": r["ece"],
                "Brier": r["bau"]["brier"],
                "top-decile lift": r["top_decile_lift"],
                "out-of-time AUC": r["internal"]["auc"],
                "out-of-time ECE": r["internal"]["ece"],
                "grade": r["internal"]["grade"],
                "train s": r["train_seconds"],
            }
        )
    full = results["full"]
    body = (
        f"Simulated {args.customers:,} customers (seed {args.seed}), data up to {end.date()}, "
        f"horizon {cfg['horizon_months']} months. The model is trained at the last day "
        f"(snapshots {', '.join(full['internal']['train_dates'])}; out-of-time fold "
        f"{', '.join(full['internal']['valid_dates'])}) and scored on customers active then; "
        "labels are the realized future in truth/visits (paid = payer is the customer, for both "
        "copies: the visits-only model cannot tell who paid), the oracle is "
        "truth/oracle_customers.p_no_paid_visit (Monte Carlo, so itself noisy).\n\n"
        + md_table(rows)
        + f"\nTargets: AUC ≥ {AUC_SHARE_TARGET:.2f} × oracle AUC, above both baselines, "
        f"ECE ≤ {ECE_TARGET}. Reached (all tables): "
        f"AUC/oracle {'yes' if full['auc_share_of_oracle'] >= AUC_SHARE_TARGET else 'NO'}, "
        f"baselines {'yes' if full['auc'] > max(full['baselines'].values()) else 'NO'}, "
        f"ECE {'yes' if full['bau']['ece'] <= ECE_TARGET else 'NO'}.\n\n"
        f"Top features by gain: {', '.join(full['top_features'])}.\n\n"
        f'"Out-of-time" columns are the model\'s own validation: the holdout half of the '
        f"latest labelled snapshot, inside the data, on customers kept out of training. "
        f"The model learns from a history in which the store ran its campaigns, so its "
        f"probabilities describe that world: ECE is measured against the future simulated "
        f"with the campaigns going on (truth/visits_business_as_usual: realized churn "
        f"{full['bau']['base_rate']:.3f}, mean P(churn) {full['mean_p']:.3f}). AUC and the "
        f"oracle comparison use the no-contact future (truth/visits, churn "
        f"{full['base_rate']:.3f}), the world the oracle describes (its ECE there "
        f"{full['oracle_ece']:.3f}).\n"
    )
    if "scale" in results:
        s = results["scale"]
        body += (
            f"\nFeature building on random visits with every visits column, "
            f"{s['customers']:,} customers / {s['visits']:,} visits, {s['features']} "
            f"features: {s['seconds']:.1f} s, peak RSS {s['peak_rss_gb']:.1f} GiB.\n"
        )
    print(write_fragment("churn", "Churn model", cmd, body))


if __name__ == "__main__":
    main()
