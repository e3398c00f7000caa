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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dev_drift as D

from cvm.data.ids import add_months
from cvm.features.labels import churn_labels
from cvm.features.split import keep_rows
from cvm.features.training import training_frame
from cvm.models import metrics as M
from cvm.models.calibration import Calibrator
from cvm.models.drift import intercept_shift


def sh(p, d):
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return 1 / (1 + np.exp(-(np.log(q / (1 - q)) + d)))


world, seed, n, H = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
if seed not in (101, 102, 103):
    raise SystemExit("development seeds only (101-103)")
case = D.churn_case(world, seed, n, H)
tables, cfg, as_of, fr, cm, p, y = (
    case.tables,
    case.cfg,
    case.as_of,
    case.frames,
    case.model,
    case.p,
    case.y,
)
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
