"""Dealer groups: the monthly run over many stores, local vs a Dask LocalCluster, and the
group's pooled churn model against store-only models.

    python benchmarks/bench_dealer_groups.py speed --stores 20 --per-store 50000
    python benchmarks/bench_dealer_groups.py quality --customers 60000 --stores 6

``speed`` simulates a group of ``stores`` stores (``stores × per_store`` customers) and one
store of the same size, runs `cvm monthly` on the single store, on the group with
``--engine local`` and on the group with ``--engine dask`` (LocalCluster, 2 workers), and
records wall time, the peak memory of each kind of process (the `cvm` driver, the notebook
kernels, the Dask workers) and whether the group's two runs wrote identical scores, plans
and lists. ``quality`` trains the churn model once on every store (pooled, with the store
features) and once per store on that store's customers only, and compares their AUC on each
store's active customers against the simulator's realized horizon (paired bootstrap
interval of the difference). Each writes its fragment: docs/benchmarks/dealer_groups*.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PY, ROOT, md_table, write_fragment

log = logging.getLogger("bench_dealer_groups")
CACHE = ROOT / "data" / "bench"


def sim(
    n: int,
    stores: int,
    seed: int,
    size_sigma: float | None = None,
    oracle_sample: int | None = None,
) -> Path:
    """Simulated data (5 years), cached under data/bench/. ``oracle_sample``: the truth's
    oracle on that many customers only (the speed runs do not read it)."""
    from cvm.data.simulator import generate
    from cvm.data.simulator.io import write_dataset

    tag = (f"_sig{size_sigma}" if size_sigma is not None else "") + (
        f"_o{oracle_sample}" if oracle_sample else ""
    )
    out = CACHE / f"group_{n}_d{stores}_s{seed}{tag}"
    if not (out / "visits.parquet").exists():
        log.info("simulating %s customers, %d stores into %s", f"{n:,}", stores, out)
        over: dict = {}
        if size_sigma is not None:
            over["dealer_group"] = {"size_sigma": size_sigma}
        if oracle_sample:
            over["oracle"] = {"max_customers": oracle_sample, "sample_customers": oracle_sample}
        res = generate(n, seed, dealers=stores, progress=True, overrides=over or None)
        write_dataset(out, res.tables, res.truth, res.meta, "parquet", True)
    return out


def as_of_for(data: Path) -> str:
    meta = json.loads((data / "truth" / "meta.json").read_text(encoding="utf-8"))
    return meta["end"]


def _role(p: psutil.Process, driver: int) -> str:
    try:
        cmd = " ".join(p.cmdline())
    except psutil.Error:
        return "other"
    if p.pid == driver:
        return "driver (cvm, LocalCluster scheduler)"
    if "ipykernel" in cmd:
        return "notebook kernel"
    if "multiprocessing" in cmd or "distributed" in cmd:
        return "dask worker"
    return "other"


def run_monthly(data: Path, out: Path, engine: str) -> dict:
    """`cvm monthly` in a child process; wall time and the peak RSS of each process kind."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        PY,
        "-m",
        "cvm.cli",
        "monthly",
        "--data",
        str(data),
        "--as-of",
        as_of_for(data),
        "--out",
        str(out),
        "--engine",
        engine,
    ]
    peaks: dict[str, float] = {}
    total = [0.0]
    loads: list[float] = []  # the machine's 1-minute load average while the run ran
    stop = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    root = psutil.Process(proc.pid)

    def sample() -> None:
        while not stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                s = 0.0
                for p in procs:
                    try:
                        rss = p.memory_info().rss / 2**30
                    except psutil.Error:
                        continue
                    s += rss
                    r = _role(p, proc.pid)
                    peaks[r] = max(peaks.get(r, 0.0), rss)
                total[0] = max(total[0], s)
                loads.append(os.getloadavg()[0])
            except psutil.Error:
                pass
            stop.wait(0.5)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    _, err = proc.communicate()
    stop.set()
    t.join()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        log.error("cvm monthly failed:\n%s", err[-3000:])
    return {
        "seconds": seconds,
        "ok": proc.returncode == 0,
        "peak_total_gb": total[0],
        "peaks_gb": peaks,
        "load_avg": float(np.mean(loads)) if loads else float("nan"),
        "run": out / pd.Timestamp(as_of_for(data)).strftime("%Y-%m"),
    }


def identical(a: Path, b: Path) -> dict[str, bool]:
    out = {}
    for name in ("scores.parquet", "artifacts/campaign_plan.parquet"):
        try:
            pd.testing.assert_frame_equal(pd.read_parquet(a / name), pd.read_parquet(b / name))
            out[name] = True
        except AssertionError:
            out[name] = False
    lists = sorted(p.relative_to(a) for p in a.glob("**/campaigns/*.csv"))
    out[f"{len(lists)} department lists (csv)"] = bool(lists) and all(
        (a / f).read_bytes() == (b / f).read_bytes() for f in lists
    )
    return out


def speed(stores: int, per_store: int, seed: int) -> None:
    n = stores * per_store
    one, group = sim(n, 1, seed, oracle_sample=1000), sim(n, stores, seed, oracle_sample=1000)
    res = {
        "single store, local": run_monthly(one, CACHE / f"rep_{n}_d1", "local"),
        f"{stores} stores, local": run_monthly(group, CACHE / f"rep_{n}_d{stores}", "local"),
        f"{stores} stores, dask LocalCluster (2 workers)": run_monthly(
            group, CACHE / f"rep_{n}_d{stores}_dask", "dask"
        ),
    }
    runs = list(res.values())
    same = identical(runs[1]["run"], runs[2]["run"]) if runs[1]["ok"] and runs[2]["ok"] else {}
    rows = []
    roles = sorted({r for v in runs for r in v["peaks_gb"]} - {"other"})
    for name, v in res.items():
        row = {
            "run": name,
            "seconds": v["seconds"],
            "ok": v["ok"],
            "peak, all processes (GB)": v["peak_total_gb"],
            "mean load average (2 cores)": round(v["load_avg"], 1),
        }
        for r in roles:
            row[f"peak {r} (GB)"] = v["peaks_gb"].get(r)
        rows.append(row)
    ratio = runs[1]["seconds"] / runs[0]["seconds"] if runs[0]["seconds"] else float("nan")
    timings = {}
    for name, v in res.items():
        m = v["run"] / "metrics.json"
        if m.exists():
            timings[name] = json.loads(m.read_text())["timings_seconds"]
    steps = sorted({k for t in timings.values() for k in t})
    step_rows = [{"step": s, **{k: t.get(s) for k, t in timings.items()}} for s in steps]
    body = (
        f"Simulated (seed {seed}, 5 years): one store of {n:,} customers, and a group of "
        f"{stores} stores with {n:,} customers in all (sizes differ: "
        f"`dealer_group.size_sigma`). Default profile. **The machine was shared with other "
        f"agents' jobs (2 cores): times are inflated and noisy; re-run alone with the "
        f"command above.**\n\n"
        + md_table(rows)
        + f"\nGroup run / single-store run (local): **{ratio:.2f}×** (target ≤ 1.2×).\n\n"
        + "Identical outputs, `--engine dask` vs `--engine local`: "
        + (", ".join(f"{k}: {'yes' if ok else 'NO'}" for k, ok in same.items()) or "n/a")
        + "\n\nSeconds by step:\n\n"
        + md_table(step_rows)
    )
    write_fragment(
        f"dealer_groups_speed_{stores}x{per_store}",
        f"Dealer groups: {stores} stores × {per_store:,} customers, local vs Dask",
        f"python benchmarks/bench_dealer_groups.py speed --stores {stores} --per-store {per_store}",
        body,
    )
    log.info("%s", body)


def _restrict(tables: dict[str, pd.DataFrame], who: pd.Index) -> dict[str, pd.DataFrame]:
    from cvm.data.ids import ids, isin

    out = {}
    for k, df in tables.items():
        if df is not None and "customer_id" in df.columns and k != "staff":
            df = df.loc[isin(ids(df["customer_id"]), who)]
        out[k] = df
    if "leads" in out and "lead_followups" in tables:
        out["lead_followups"] = tables["lead_followups"][
            tables["lead_followups"]["lead_id"].isin(out["leads"]["lead_id"])
        ]
    return out


def _paired_diff_ci(y: np.ndarray, a: np.ndarray, b: np.ndarray, reps: int, seed: int):
    from cvm.models import metrics as M

    rng = np.random.default_rng(seed)
    d = []
    for _ in range(reps):
        i = rng.integers(0, len(y), len(y))
        if 0 < y[i].sum() < len(i):
            d.append(M.auc(y[i], a[i]) - M.auc(y[i], b[i]))
    return [float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975))] if d else None


def quality(customers: int, stores: int, seed: int, size_sigma: float) -> None:
    from cvm.config import load_config
    from cvm.data.ids import ids
    from cvm.data.loaders import load_tables
    from cvm.definitions import active_customers, paid_mask
    from cvm.features.snapshot import build_features
    from cvm.features.stores import customer_stores
    from cvm.models import metrics as M
    from cvm.models.churn import churn_frames, fit_churn

    data = sim(customers, stores, seed, size_sigma)
    as_of = pd.Timestamp(as_of_for(data))
    cfg = load_config()
    tables = load_tables(str(data))
    fut = pd.read_parquet(data / "truth" / "visits.parquet")
    returned = set(ids(fut.loc[paid_mask(fut), "customer_id"]))
    t0 = time.perf_counter()
    pooled = fit_churn(churn_frames(tables, as_of, cfg), cfg)
    t_pooled = time.perf_counter() - t0
    feats = build_features(tables, as_of, cfg)
    active = active_customers(tables["visits"], as_of, cfg)
    X = feats.loc[feats.index.intersection(active)]
    p_pooled = pd.Series(pooled.predict_proba(X), index=X.index)
    where = customer_stores(tables, as_of, cfg)
    rows = []
    for dealer in sorted(where.unique()):
        who = where.index[(where == dealer).to_numpy()]
        mine = X.index.intersection(who)
        y = np.array([c not in returned for c in mine], int)
        row = {
            "store": dealer,
            "customers": len(who),
            "active": len(mine),
            "churn rate": float(y.mean()),
            "pooled AUC": M.auc(y, p_pooled.loc[mine].to_numpy()),
        }
        t0 = time.perf_counter()
        try:
            sub = _restrict(tables, who)
            own = fit_churn(churn_frames(sub, as_of, cfg), cfg)
            fs = build_features(sub, as_of, cfg).reindex(mine)
            p_own = own.predict_proba(fs)
            row["store-only AUC"] = M.auc(y, p_own)
            row["pooled − store-only"] = row["pooled AUC"] - row["store-only AUC"]
            row["95 % interval"] = _paired_diff_ci(
                y, p_pooled.loc[mine].to_numpy(), p_own, 200, seed
            )
        except Exception as err:  # noqa: BLE001 - too little data for a model of its own
            row["store-only AUC"] = None
            row["pooled − store-only"] = None
            row["95 % interval"] = f"store-only model failed: {type(err).__name__}: {err}"[:90]
        row["store-only fit s"] = time.perf_counter() - t0
        rows.append(row)
        log.info("%s", row)
    for r in rows:
        if isinstance(r.get("95 % interval"), list):
            r["95 % interval"] = f"[{r['95 % interval'][0]:+.3f}, {r['95 % interval'][1]:+.3f}]"
    big = [r for r in rows if r["customers"] >= 20000 and r.get("store-only AUC") is not None]
    small = [r for r in rows if r["customers"] < 5000 and r.get("store-only AUC") is not None]
    verdict = []
    if big:
        verdict.append(
            "stores ≥ 20k customers: pooled within 0.01 AUC of store-only: "
            + ", ".join(f"{r['store']} {r['pooled − store-only']:+.3f}" for r in big)
        )
    if small:
        verdict.append(
            "stores < 5k customers: pooled better: "
            + ", ".join(f"{r['store']} {r['pooled − store-only']:+.3f}" for r in small)
        )
    body = (
        f"Simulated group: {customers:,} customers in {stores} stores (seed {seed}, store "
        f"sizes `dealer_group.size_sigma` {size_sigma}), as of {as_of.date()}. Churn model "
        f"(default settings) trained once on every store with the store features "
        f"(pooled, {t_pooled:.0f} s) and once per store on that store's customers only; "
        f"AUC on each store's active customers against the realized 12-month horizon "
        f"(no paid visit at any store of the group = churned); the interval is a paired "
        f"bootstrap of the difference (200 resamples). Shared machine: fit times are "
        f"inflated.\n\n" + md_table(rows) + "\n" + "\n".join(f"- {v}" for v in verdict)
    )
    write_fragment(
        "dealer_groups_quality",
        "Dealer groups: pooled vs store-only churn models",
        f"python benchmarks/bench_dealer_groups.py quality --customers {customers} "
        f"--stores {stores} --size-sigma {size_sigma}",
        body,
    )
    log.info("%s", body)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--stores", type=int, default=20)
    s.add_argument("--per-store", type=int, default=50000)
    s.add_argument("--seed", type=int, default=42)
    q = sub.add_parser("quality")
    q.add_argument("--customers", type=int, default=60000)
    q.add_argument("--stores", type=int, default=6)
    q.add_argument("--seed", type=int, default=42)
    q.add_argument("--size-sigma", type=float, default=1.2)
    a = ap.parse_args()
    if a.what == "speed":
        speed(a.stores, a.per_store, a.seed)
    else:
        quality(a.customers, a.stores, a.seed, a.size_sigma)


if __name__ == "__main__":
    main()
