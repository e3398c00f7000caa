"""CPU seconds of the campaigns step's speed levers (issue 21, session 3): the code each lever
replaced against the code now, on the same synthetic frames in one process, sized as the
uplift frame and the plan of a 20,000- and a 1,000,000-customer run (the uplift frame keeps
at most ``sampling.uplift_customers_per_month`` contacted customers a month: ~116,000
contacts at 20,000 customers, ~440,000 at 1,000,000; levers.md).

CPU time (``time.process_time``), not wall time: on a shared machine it measures the work.
Both paths give the same result (asserted here; tests/test_speed_equivalence.py pins them).
Writes docs/benchmarks/levers_campaigns.md.

    python benchmarks/bench_levers_campaigns.py
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import md_table, write_fragment  # noqa: E402

log = logging.getLogger("bench_levers_campaigns")


def cpu(fn, *args, **kw):
    t = time.process_time()
    out = fn(*args, **kw)
    return out, time.process_time() - t


def _margin_dense(X, res, t, e, camp, model, chunk=100_000):
    """The margin learner's normal equations as first written (full feature rows, P'P)."""
    r = np.asarray(t, float) - np.asarray(e, float)
    k, p = len(model.campaigns), len(model.scaler.columns)
    q = k + p + k * p
    A, b = np.zeros((q, q)), np.zeros(q)
    for s in range(0, len(res), chunk):
        sl = slice(s, s + chunk)
        P = model._phi(model.scaler.transform(X.iloc[sl]), camp[sl]) * r[sl, None]
        A += P.T @ P
        b += P.T @ res[sl]
    return A, b


def margin_rows(n: int, rows: list[dict]) -> None:
    from cvm.campaigns.uplift_learners import StateScaler, fit_margin_learner

    rng = np.random.default_rng(1)
    p, k = 20, 10
    X = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"s{i}" for i in range(p)])
    camp = rng.choice([f"c{i}" for i in range(k)], size=n)
    t = rng.random(n) < 0.8
    e = pd.Series(t).groupby(camp).transform("mean").to_numpy(float)
    res = rng.normal(size=n)
    cols = list(X.columns)
    m, new = cpu(fit_margin_learner, X, res, t, e, camp, cols, [], 1000.0, 11000.0)
    _, scale = cpu(StateScaler.fit, X, cols, [])  # shared by both: not part of the lever
    (A, b), old_eq = cpu(_margin_dense, X, res, t, e, camp, m)
    pen = np.r_[np.full(k, 1e-3), np.full(p, 1000.0), np.full(k * p, 11000.0)]
    np.testing.assert_allclose(m.coef, np.linalg.solve(A + np.diag(pen), b), rtol=1e-8)
    rows.append(
        {
            "lever": "uplift: margin learner fit (normal equations per campaign's Gram of [1, z])",
            "rows": f"{n:,} contacts",
            "before: CPU s": old_eq + scale,
            "after: CPU s": new,
        }
    )
    pred_new = cpu(m.predict, X, camp)
    pred_old = cpu(lambda: m._phi(m.scaler.transform(X), camp) @ m.coef)
    np.testing.assert_allclose(pred_new[0], pred_old[0], rtol=1e-12, atol=1e-12)
    rows.append(
        {
            "lever": "uplift: margin predictions (no full feature matrix)",
            "rows": f"{n:,} contacts",
            "before: CPU s": pred_old[1],
            "after: CPU s": pred_new[1],
        }
    )


def control_rows(n: int, rows: list[dict]) -> None:
    rng = np.random.default_rng(2)
    plan = pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in rng.permutation(n)],
            "campaign": rng.choice([f"c{i}" for i in range(10)], size=n),
            "value_tag": pd.Categorical(rng.choice(list("ABCDE"), size=n)),
        }
    )
    strata = ["campaign", "value_tag"]
    a, old = cpu(lambda: plan[strata].astype(str).agg("|".join, axis=1))
    b, new = cpu(
        lambda: (
            plan["campaign"].astype(str).astype(object)
            + "|"
            + plan["value_tag"].astype(str).astype(object)
        )
    )
    assert a.tolist() == b.tolist()
    rows.append(
        {
            "lever": "plan: control strata keys, column-wise not a row-wise join (x6 a run)",
            "rows": f"{n:,} pairs",
            "before: CPU s": 6 * old,
            "after: CPU s": 6 * new,
        }
    )


def xlearner_rows(n: int, rows: list[dict]) -> None:
    from cvm.campaigns.uplift_learners import design, fit_meta_learner, schema, train_booster

    rng = np.random.default_rng(3)
    p = 60
    X = pd.DataFrame(
        rng.normal(size=(n, p)).astype(np.float32), columns=[f"f{i}" for i in range(p)]
    )
    X["tag"] = pd.Categorical(rng.choice(list("ABCDE"), size=n))
    info = pd.DataFrame(
        {"campaign": rng.choice(["k1", "k2", "k3"], size=n), "treated": rng.random(n) < 0.9}
    )
    info["responded"] = (rng.random(n) < 0.2).astype(int)
    lgb = {
        "learning_rate": 0.2,
        "num_leaves": 7,
        "min_data_in_leaf": 300,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "num_threads": 2,
        "verbosity": -1,
    }
    u = SimpleNamespace(lgb=lgb, num_boost_round=50, learner="x")
    (got, *_), new = cpu(fit_meta_learner, X, info, ["k1", "k2", "k3"], u, 5)

    def four_fits():
        M = design(X, info["campaign"].astype(str).to_numpy(object), *schema(X, ["k1", "k2", "k3"]))
        y, t = info["responded"].to_numpy(float), info["treated"].to_numpy(bool)
        mu0 = train_booster(M[~t], y[~t], lgb, 50, "binary", 5)
        mu1 = train_booster(M[t], y[t], lgb, 50, "binary", 6)
        tau1 = train_booster(M[t], y[t] - mu0.predict(M[t]), lgb, 50, "regression", 7)
        tau0 = train_booster(M[~t], mu1.predict(M[~t]) - y[~t], lgb, 50, "regression", 8)
        return M, tau0, tau1

    (M, tau0, tau1), old = cpu(four_fits)
    assert np.array_equal(got["tau0"].predict(M), tau0.predict(M))
    assert np.array_equal(got["tau1"].predict(M), tau1.predict(M))
    rows.append(
        {
            "lever": "uplift: X-learner second stage on the first stage's binned Datasets",
            "rows": f"{n:,} contacts x {p + 2} features",
            "before: CPU s": old,
            "after: CPU s": new,
        }
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    rows: list[dict] = []
    for n in (116_000, 440_000):
        margin_rows(n, rows)
    for n in (3_000, 35_000):
        control_rows(n, rows)
    xlearner_rows(116_000, rows)
    for r in rows:
        r["×"] = r["before: CPU s"] / r["after: CPU s"] if r["after: CPU s"] > 0 else None
        log.info(
            "%s %s: %.2f -> %.2f", r["lever"], r["rows"], r["before: CPU s"], r["after: CPU s"]
        )
    body = (
        "CPU seconds of the code each lever replaced and of the code now, on the same "
        "synthetic frames in one process (both give the same result, asserted). Sizes: the "
        "uplift frame of a 20,000-customer run (~116,000 contacts, the demo) and of a "
        "1,000,000-customer run (~440,000 after the per-month sample); the plan's pairs of "
        "a demo run and of a capacity-bound 1,000,000-customer run. CPU time, not wall time: "
        "the machine was shared with two other helpers' CPU-heavy jobs on its 2 cores while "
        "measuring. A run fits the margin learner four times (two cross-fitting folds, the "
        "out-of-time fold, all contacts) and predicts with it about four times; the X-learner "
        "is fitted twice (out-of-time fold, all contacts).\n\n" + md_table(rows)
    )
    write_fragment(
        "levers_campaigns",
        "Speed levers of the campaigns step (issue 21, session 3)",
        "python benchmarks/bench_levers_campaigns.py",
        body,
    )


if __name__ == "__main__":
    main()
