"""Development only (seeds 101-103): the value total's level under each calibration variant
(docs/value.md "Drift", the "Tried" tables). For every world x seed x horizon it fits the
value booster once, then computes the scale of every variant (target: as observed / no
contact; rows: held-out customers / every customer; method: latest / pooled / trend, half-lives
12 and 1000 months) from the same raw predictions, and the ratio predicted / realized total
against the truth of that target. One JSON line per case to data/bench/drift_dev/variants.jsonl.

    python benchmarks/dev_drift_variants.py "standard;closed-cohort" 12,6 101,102 10000
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dev_drift import _margin_in, _world

from cvm.campaigns.measurement import contact_induced_spend
from cvm.config import CvmError, load_config
from cvm.data.loaders import load_tables
from cvm.features.snapshot import build_features
from cvm.features.split import held_out
from cvm.models.drift import fold_level
from cvm.models.value import _sampled, fit_value, value_frames
from cvm.settings import run_settings

OUT = Path(__file__).resolve().parents[1] / "data" / "bench" / "drift_dev"
OUT.mkdir(parents=True, exist_ok=True)
out = (OUT / "variants.jsonl").open("a")  # noqa: SIM115 (appended to as cases finish)
N = int(sys.argv[4]) if len(sys.argv) > 4 else 10000
SEEDS = [int(s) for s in sys.argv[3].split(",")]
if any(9000 <= s < 10000 for s in SEEDS):
    raise SystemExit("benchmark seeds (9xxx) are not for development")
for seed in SEEDS:
    for world in sys.argv[1].split(";"):
        data = _world(world, seed, N)
        for H in [int(h) for h in sys.argv[2].split(",")]:
            t0 = time.time()
            truth = f"{data}/truth"
            as_of = pd.Timestamp(json.loads(Path(f"{truth}/meta.json").read_text())["end"])
            cfg = load_config(
                "default",
                {
                    "horizon_months": H,
                    "value": {
                        "customer_paid_model": False,
                        "baseline": "as_observed",
                        "drift": {"method": "trend", "rows": "all"},
                    },
                },
            )
            cfg_nc = load_config(
                "default",
                {
                    "horizon_months": H,
                    "value": {
                        "customer_paid_model": False,
                        "baseline": "no_contact",
                        "drift": {"method": "latest", "rows": "held_out"},
                    },
                },
            )
            tables = load_tables(str(data))
            cols = list(tables["visits"].columns)
            try:
                fr = value_frames(tables, as_of, cfg)
            except CvmError as e:
                print(world, H, "skip", e)
                continue
            vm = fit_value(fr, cfg)
            vm_nc = fit_value(
                value_frames(tables, as_of, cfg_nc), cfg_nc
            )  # the single-fold no-contact scale of today's default
            b = vm.boosters[0]
            fn = vm.feature_names
            feats = build_features(tables, as_of, cfg)
            raw = b.predict(feats[fn])
            s = run_settings(cfg)
            Xf, yf, mb = fr.X_fold, fr.y_fold, fr.months_back_fold
            ho = held_out(Xf.index, s.training.validation_customer_share, s.seed)
            snap = np.round(mb, 1)
            ind = np.zeros(len(yf))
            has_c = bool(vm_nc.metrics["contact_uplift"])
            if has_c:
                for t in np.unique(snap):
                    m = snap == t
                    d = as_of - pd.DateOffset(months=int(round(t)))
                    d = d + pd.offsets.MonthEnd(0)
                    i, _ = contact_induced_spend(
                        tables,
                        d,
                        H,
                        cfg,
                        61,
                        30,
                        customers=_sampled(Xf.index[m], tables, cfg),
                        measure="margin",
                    )
                    if len(i):
                        ind[m] = i.reindex(Xf.index[m]).fillna(0).to_numpy()
            pf = b.predict(Xf[fn])
            T = {}
            for nm, fn_ in (("nc", "visits.parquet"), ("bau", "visits_business_as_usual.parquet")):
                f = pd.read_parquet(f"{truth}/{fn_}")
                for dn, cl in (("true", None), ("same", cols)):
                    T[f"{nm}_{dn}"] = float(
                        _margin_in(f, as_of, H, cl, cfg).reindex(feats.index).fillna(0).sum()
                    )
            row = dict(
                world=world,
                seed=seed,
                H=H,
                N=N,
                has_contacts=has_c,
                truth=T,
                raw=float(raw.sum()),
                cur_scale_nc=vm_nc.scale,
                cur_ratio_nc=float(vm_nc.predict(feats).sum() / T["nc_same"]),
            )
            V = {}
            for base in ("ao", "nc") if has_c else ("ao",):
                y = yf - (ind if base == "nc" else 0)
                tgt = T["nc_same"] if base == "nc" else T["bau_same"]
                for rows in ("held_out", "all"):
                    sel = ho if rows == "held_out" else np.ones(len(y), bool)
                    for meth in ("latest", "pooled", "trend"):
                        for hl in (12, 1000):
                            lv = fold_level(y[sel], pf[sel], mb[sel], meth, hl, 2.0)
                            V[f"{base}|{rows}|{meth}|{hl}"] = dict(
                                ratio=float(raw.sum() * lv.scale / tgt), t=lv.slope_t
                            )
            row["variants"] = V
            row["sec"] = round(time.time() - t0, 1)
            out.write(json.dumps(row) + "\n")
            out.flush()
