"""Churn drift after the latest fold, from partial label windows (issue 15; tried, not adopted).

DEVELOPMENT SEEDS ONLY (101-103). Between the latest out-of-time fold (as_of - H) and the
as-of date the outcome is seen over shorter windows: at s = as_of - k, "no paid visit in k
months" is known for the customers kept out of training. A Platt map from the model's H-month
probability to the k-month outcome is fitted at the fold date; the logit shift that makes it
match at s is the drift from the fold date to s, applied at the as-of date as it is (x1) or
extrapolated by H / (H - k) (xH). One JSON line per case (docs/churn.md "Drift (issue 15)").

    python benchmarks/dev_churn_drift_partial.py closed-cohort 102 20000 12
"""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dev_drift as D

from cvm.config import load_config
from cvm.data.ids import add_months
from cvm.data.loaders import load_tables
from cvm.definitions import active_customers
from cvm.features.labels import churn_labels
from cvm.features.lookback import scoring_features
from cvm.features.snapshot import build_features
from cvm.features.split import keep_rows
from cvm.features.training import training_frame
from cvm.models import metrics as M
from cvm.models.calibration import Calibrator
from cvm.models.churn import churn_frames, fit_churn
from cvm.models.drift import intercept_shift


def sh(p, d):
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return 1 / (1 + np.exp(-(np.log(q / (1 - q)) + d)))


world, seed, n, H = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
if seed not in (101, 102, 103):
    raise SystemExit("development seeds only (101-103)")
data = D._world(world, seed, n)
truth = data / "truth"
as_of = pd.Timestamp(json.loads((truth / "meta.json").read_text())["end"])
cfg = load_config("default", {"horizon_months": H})
tables = load_tables(str(data))
bau = pd.read_parquet(truth / "visits_business_as_usual.parquet")
fr = churn_frames(tables, as_of, cfg)
cm = fit_churn(fr, cfg)
feats = scoring_features(tables, as_of, H, cfg, build_features(tables, as_of, cfg))
act = active_customers(tables["visits"], as_of, cfg)
X = feats.loc[feats.index.intersection(act)]
p = cm.predict_proba(X)
y = (~X.index.isin(D._paid_in(bau, as_of, H, None))).astype(int)
f = fr.valid_dates[-1]
out = {
    "case": f"{world}_s{seed}_{n}_H{H}",
    "ece0": round(M.ece(y, p), 4),
    "gap0": round(float(p.mean() - y.mean()), 4),
}
for k in sorted({H // 2, H // 3, 3}):
    s = add_months(as_of, -k)
    pf = np.concatenate([cm.predict_proba(fr.Xt), cm.predict_proba(fr.Xh)])
    idx = fr.Xt.index.append(fr.Xh.index)
    yk = churn_labels(tables["visits"], f, k, cfg).reindex(idx).to_numpy()
    ok = ~np.isnan(yk.astype(float))
    mp = Calibrator.fit(pf[ok], yk[ok].astype(float), "platt")
    Xs, ys, _ = training_frame(tables, [s], k, cfg, churn_labels)
    keep = keep_rows(Xs.index, np.ones(len(Xs), bool), cfg)
    Xs, ys = Xs[keep], ys[keep]
    ps = mp(cm.predict_proba(Xs))
    d, v = intercept_shift(ys.to_numpy(), ps)
    for fac_name, fac in (("x1", 1.0), ("xH", H / (H - k))):
        q = sh(p, d * fac)
        out[f"k{k}{fac_name}"] = {
            "shift": round(d * fac, 3),
            "se": round(float(np.sqrt(v) * fac), 3),
            "ece": round(M.ece(y, q), 4),
            "gap": round(float(q.mean() - y.mean()), 4),
        }
print(json.dumps(out), flush=True)
