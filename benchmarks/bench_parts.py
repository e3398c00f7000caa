"""Features and segments of a dealer group: wall time, CPU and peak memory, local vs Dask, and
identical outputs.

A simulated group (``cvm simulate --dealers S``, 5 years, cached in data/bench/) is loaded
once; then, each in a child process (as each notebook runs in its own kernel), the features
step and the segments step run on a copy of the run folder:

- ``local``: the steps as ``cvm monthly --engine local`` runs them;
- ``dask``: with a LocalCluster of ``engine.local_workers`` workers (one task per store);
- ``before`` (with ``--before-src``): the same steps from another checkout's package (e.g.
  ``git archive <commit> src configs notebooks``, ``src`` renamed ``cvm`` with ``configs``
  inside it), to set a change's figures beside the code's before it.

Every variant's artifacts and ``scores.parquet`` are compared value by value with the local
run's (``scripts/compare_runs.py``). CPU seconds are the child's own (user + system): on a
shared machine the wall time is also the wait for a core. Writes docs/benchmarks/parts.md.

    python benchmarks/bench_parts.py --customers 200000 --stores 20
    python benchmarks/bench_parts.py --customers 200000 --before-src /tmp/main_src
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PY, ROOT, md_table, measure, write_fragment  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from compare_runs import compare_runs  # noqa: E402

log = logging.getLogger("bench_parts")
CACHE = ROOT / "data" / "bench"
STEPS = ("features", "segments")


def sim(n: int, stores: int, seed: int) -> Path:
    out = CACHE / f"group_{n}_d{stores}_s{seed}"
    if not (out / "visits.parquet").exists():
        cmd = ["simulate", "--customers", str(n), "--seed", str(seed), "--years", "5"]
        cmd += ["--dealers", str(stores), "--out", str(out), "--force"]
        subprocess.run([PY, "-m", "cvm.cli", *cmd], check=True, cwd=ROOT)
    return out


def as_of_for(data: Path) -> str:
    d = pd.read_parquet(data / "visits.parquet", columns=["visit_date"])["visit_date"].max()
    return (pd.Timestamp(d) + pd.offsets.MonthEnd(0)).strftime("%Y-%m-%d")


def _child(code: str, env: dict[str, str]) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with measure() as m:
        proc = subprocess.run([PY, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"child failed:\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": round(m.seconds, 1), "cpu_seconds": round(cpu, 1), "peak_gb": m.peak_rss_gb}


def run_variant(name: str, data: Path, as_of: str, base: Path, src: Path | None) -> dict:
    run = CACHE / f"parts_{name}"
    shutil.rmtree(run, ignore_errors=True)
    shutil.copytree(base, run)
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    out = {"variant": name}
    for step in STEPS:
        start = (
            "from cvm.engine import Cluster; c = Cluster('dask', None, ctx.cfg).start(); "
            "c.record(ctx.run_dir); "
            if name == "dask"
            else ""
        )
        code = (
            "from cvm.run_context import RunContext; from cvm import graph; "
            f"ctx = RunContext.open(data={str(data)!r}, as_of={as_of!r}, run_dir={str(run)!r}); "
            f"{start}graph.step({step!r}).resolve()(ctx)"
            + ("; c.close()" if name == "dask" else "")
        )
        r = _child(code, env)
        out[f"{step}_s"], out[f"{step}_cpu_s"], out[f"{step}_peak_gb"] = (
            r["seconds"],
            r["cpu_seconds"],
            r["peak_gb"],
        )
        log.info("%s %s: %s", name, step, r)
    for f in ("engine.json", "engine_tasks.json"):
        p = run / "artifacts" / f
        if p.exists():
            if f == "engine_tasks.json":
                out["tasks"] = json.loads(p.read_text())
            p.unlink()
    out["load_avg"] = round(os.getloadavg()[0], 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--stores", type=int, default=20)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--before-src", type=Path, default=None)
    ap.add_argument("--variants", nargs="+", default=["local", "dask"])
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    data = sim(args.customers, args.stores, args.seed)
    as_of = as_of_for(data)
    base = CACHE / f"parts_base_{args.customers}"
    if not (base / ".tables").exists():
        shutil.rmtree(base, ignore_errors=True)
        code = (
            "from cvm.run_context import RunContext; from cvm.data import table_cache; "
            f"ctx = RunContext.open(data={str(data)!r}, as_of={as_of!r}, run_dir={str(base)!r}); "
            "table_cache.prepare_run_tables(ctx.data, ctx.run_dir)"
        )
        _child(code, dict(os.environ))
    variants = (["before"] if args.before_src else []) + list(args.variants)
    rows = [
        run_variant(v, data, as_of, base, args.before_src if v == "before" else None)
        for v in variants
    ]
    ident = []
    for r in rows:
        if r["variant"] == "local":
            continue
        res = compare_runs(CACHE / "parts_local", CACHE / f"parts_{r['variant']}", everything=True)
        diff = {k: v for k, v in res.items() if v}
        ident.append(
            f"- `{r['variant']}` vs `local`: {len(res) - len(diff)} of {len(res)} files "
            "identical" + (f"; differ: {diff}" if diff else "")
        )
    tasks = "".join(
        f"- tasks sent by `{r['variant']}`: {r['tasks']}\n" for r in rows if r.get("tasks")
    )
    table = md_table([{k: v for k, v in r.items() if k != "tasks"} for r in rows])
    body = (
        f"{args.customers:,} simulated customers in {args.stores} stores (seed {args.seed}), as "
        f"of {as_of}; each step in its own process; `_cpu_s` is that process's CPU (user + "
        "system), `_peak_gb` its peak resident memory with its children (the Dask workers). "
        "On a shared machine (see the load average) wall times are inflated; CPU is the "
        "steadier figure.\n\n" + table + "\n" + "\n".join(ident) + "\n" + tasks
    )
    cmd = f"python benchmarks/bench_parts.py --customers {args.customers} --stores {args.stores}"
    if args.before_src:
        cmd += " --before-src SRC"
    print(write_fragment("parts", "Features and segments per store (issue 20)", cmd, body))


if __name__ == "__main__":
    main()
