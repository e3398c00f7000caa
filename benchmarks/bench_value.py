"""Value model quality on simulated data against the ground truth → docs/benchmarks/value.md.

Simulates (once, cached under data/bench/) a dealer with N customers, trains the value model
as of the data's end with each model kind (tweedie, two-part), and compares its horizon-spend
predictions with the realized future (truth/visits.parquet) and with the oracle's
``expected_spend`` (truth/oracle_customers.parquet); baselines: historical average and
BG/NBD + Gamma-Gamma fitted at the same date.

    python benchmarks/bench_value.py [--customers 50000] [--seed 7] [--kinds tweedie two_part]
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
from _common import ROOT, md_table, measure, write_fragment  # noqa: E402

from cvm.config import load_config  # noqa: E402
from cvm.data.loaders import load_tables  # noqa: E402
from cvm.features.labels import future_paid_spend  # noqa: E402
from cvm.features.snapshot import build_features  # noqa: E402
from cvm.models.btyd import bgnbd_gamma_gamma, historical_average  # noqa: E402
from cvm.models.metrics import normalized_gini, regression_report  # noqa: E402
from cvm.models.value import train_value  # noqa: E402

log = logging.getLogger("bench_value")

NOTES = """
### Notes (2026-11-22)

- **Training time** (50k, this shared 2-core box, 1 thread): tweedie ≈ 163 s from the end of the
  training frame to the fitted model (booster + occurrence classifier + OOT baselines), two-part
  ≈ 77 s; the training frame itself ≈ 16 s. Both hit the `num_boost_round: 1000` cap at 50k
  (early stopping did not end them), so the cap trades a little Gini for time there.
- **Total ratio.** The truth horizon is simulated *without campaigns*; the training label windows
  (the last 24 data months) are full of them. Realized spend per customer falls ~12 % right at
  `end` (“other” paid visits drop from ~300 to ~180 a month at 20k) — that, not refit double
  counting nor customer-base maturation (which the features carry), caused the earlier 1.18–1.24.
  The model now calibrates its total to the out-of-time fold's spend *minus the spend campaign
  contacts induced*, estimated per campaign from the randomized control groups in
  `campaign_contacts` (`baseline: no_contact`): it predicts the no-contact spend that campaign
  targeting adds its uplift to. No truth or oracle input is used.
- **Against truth on other seeds** (tweedie, 5,000 customers): seed 7 Gini 0.724 vs oracle 0.791
  (0.915×), total ratio 1.038; seed 11 Gini 0.759 vs 0.831 (0.913×), total ratio **1.068**
  (outside ±5 %: the control-group uplift is noisy at 5k, ~18 % controls). Before the change
  (lr 0.05, refit, as-observed calibration) seed 7 gave total ratio 1.18.
- **Tweedie vs two-part:** two-part ranks slightly better (0.765 vs 0.761 at 50k; 0.812 vs 0.804
  on the OOT fold) and its total is a little higher (1.039 vs 1.014); the configured model stays
  Tweedie because its single booster gives exact SHAP contributions in log space.
- **Low deciles** are under-predicted (deciles 8–10: predicted 31–153 vs realized 206–263 CNY):
  occasional paid visits of seemingly lapsed customers that the log-link model shrinks to ~0.
"""


def dataset(n: int, seed: int) -> Path:
    """The cached simulated data set (simulated on first use)."""
    from cvm.data.simulator import simulate

    out = ROOT / "data" / "bench" / f"sim_{n}_seed{seed}"
    if not (out / "truth" / "meta.json").exists():
        log.info("simulating %d customers into %s", n, out)
        simulate(n, seed, out, force=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--kinds", nargs="+", default=["tweedie", "two_part"])
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    path = dataset(args.customers, args.seed)
    meta = json.loads((path / "truth" / "meta.json").read_text(encoding="utf-8"))
    end = pd.Timestamp(meta["end"])
    H = int(meta["horizon_months"])
    tables = load_tables(path, validate=False)
    truth_visits = pd.read_parquet(path / "truth" / "visits.parquet")
    oracle = pd.read_parquet(path / "truth" / "oracle_customers.parquet").set_index("customer_id")
    cfg = load_config(overrides={"horizon_months": H})
    X = build_features(tables, end, cfg)
    realized = future_paid_spend(truth_visits, end, H, cfg, customers=X.index).to_numpy()
    oracle_pred = oracle["expected_spend"].reindex(X.index).fillna(0.0).to_numpy()
    oracle_gini = normalized_gini(realized, oracle_pred)
    base = {
        "historical_average": historical_average(tables["visits"], end, H, cfg, X.index),
        "bgnbd_gamma_gamma": bgnbd_gamma_gamma(tables["visits"], end, H, cfg, X.index),
    }
    rows, deciles, oot = [], None, []
    ref = {"model": "oracle (expected_spend)", **_summary(realized, oracle_pred)}
    for name, pred in base.items():
        rows.append({"model": f"baseline: {name}", **_summary(realized, pred.to_numpy())})
    for kind in args.kinds:
        with measure() as m:
            model = train_value(
                tables, end, load_config(overrides={"horizon_months": H, "value": {"model": kind}})
            )
        pred = model.predict(X)
        rows.append(
            {
                "model": f"LightGBM {kind}",
                **_summary(realized, pred),
                "train_s": round(m.seconds),
                "peak_gb": round(m.peak_rss_gb, 2),
            }
        )
        mm = model.metrics
        oot.append(
            {
                "model": kind,
                "oot_gini": mm["normalized_gini"],
                "oot_spearman": mm["spearman"],
                "oot_top_decile": mm["top_decile_capture"],
                "oot_total_ratio": mm["total_ratio"],
                "stop_gini": mm["stop_normalized_gini"][kind],
                "hist_avg_gini": mm["baselines"]["historical_average"],
                "bgnbd_gini": mm["baselines"]["bgnbd_gamma_gamma"],
                "rounds": str(mm["rounds"]),
                "scale": mm["scale"],
                "contact_induced_share": mm["contact_induced_share"],
                "oot_total_ratio_no_contact": mm["total_ratio_no_contact"],
            }
        )
        if deciles is None or kind == load_config("value")["model"]:
            deciles = regression_report(realized, pred)["deciles"]
    rows.append(ref)
    body = (
        f"{args.customers:,} simulated customers (seed {args.seed}), as of {end.date()}, "
        f"horizon {H} months; {len(X):,} customers scored against their realized paid "
        f"spend in the truth window. Oracle normalized Gini: **{oracle_gini:.3f}** "
        f"(target ≥ 0.90 × oracle = {0.9 * oracle_gini:.3f}).\n\n"
        "### Against the realized future (truth)\n\n"
        + md_table(rows)
        + "\n### Out-of-time fold inside training (evaluation half; model choice evidence)\n\n"
        + md_table(oot)
        + f"\n### Decile calibration (configured model `{load_config('value')['model']}`)\n\n"
        + md_table(deciles or [])
        + NOTES
    )
    write_fragment(
        "value",
        "Value model (horizon spend)",
        "python benchmarks/bench_value.py " + " ".join(sys.argv[1:]),
        body,
    )
    print(body)


def _summary(y: np.ndarray, p: np.ndarray) -> dict:
    r = regression_report(y, p)
    return {
        "normalized_gini": r["normalized_gini"],
        "spearman": r["spearman"],
        "top_decile_capture": r["top_decile_capture"],
        "total_ratio": r["total_ratio"],
    }


if __name__ == "__main__":
    main()
