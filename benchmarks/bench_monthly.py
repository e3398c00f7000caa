"""Benchmark of the monthly run: wall time and peak memory of each step, by base size.

For each size the simulated data (5 years, cached in data/bench/) is run step by step, each
step in a child process (so its peak memory is its own, as each notebook runs in its own
kernel), calling the same ``cvm.steps`` functions the notebooks call; the steps record the
seconds of their phases (training, scoring, SHAP, …). Then the whole ``cvm monthly``
(papermill, report.html) is timed at each size given to ``--full``. Results are kept per size
in data/bench/bench_monthly.json, so sizes can be measured at different times; the fragment
docs/benchmarks/monthly.md shows every size measured.

    python benchmarks/bench_monthly.py                                   # 20k
    python benchmarks/bench_monthly.py --sizes 20000 200000 1000000      # the issue's table
    python benchmarks/bench_monthly.py --sizes 1000000 --full 1000000    # one size again
    python benchmarks/bench_monthly.py --sizes 200000 --full --profile   # cProfile every step

``--profile`` runs every step under cProfile (data/bench/profiles/<label>_<n>_<step>.prof)
and keeps its top functions with the results; ``--label before`` keeps the results apart
(data/bench/bench_monthly_before.json), so the fragment can set a change's figures beside
the code's before it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PY, ROOT, md_table, measure, write_fragment  # noqa: E402

from cvm import graph  # noqa: E402

log = logging.getLogger("bench_monthly")
CACHE = ROOT / "data" / "bench"
RESULTS = CACHE / "bench_monthly.json"
# the notebook steps of cvm.graph.STEPS, in order; the first also loads and validates the data
# (cvm monthly's prepare step) and keeps the name its results are stored under
_GRAPH_STEPS = [s.name for s in graph.STEPS if s.notebook]
STEPS = tuple("load_validate" if n == "data_quality" else n for n in _GRAPH_STEPS)
_PREPARE = (
    "from cvm.data import table_cache; table_cache.prepare_run_tables(ctx.data, ctx.run_dir); "
    # as `cvm monthly`'s prepare step: the sufficiency assessment the model steps read
    "from cvm import run_checks; from cvm.fileio import write_json; "
    "write_json(ctx.path('run_checks'), "
    "run_checks.assess(ctx.tables, ctx.as_of, ctx.cfg).to_dict()); "
)
STEP_CODE = {
    b: (_PREPARE if b == "load_validate" else "") + f"graph.step({g!r}).resolve()(ctx)"
    for b, g in zip(STEPS, _GRAPH_STEPS, strict=True)
}
STEP_LABEL = {
    "load_validate": "load and validate (once; data quality)",
    "features": "features (as-of, drift)",
    "churn": "churn (training, scoring, SHAP)",
    "value": "value (training, scoring, SHAP)",
    "segments": "segments",
    "uplift": "uplift (measurement, uplift model)",
    "campaigns": "campaigns (plan, candidates, lists)",
    "leads": "leads",
    "report": "report sections",
}


def sim_dir(n: int, seed: int) -> Path:
    """Simulated data for ``n`` customers (5 years), simulated once and cached."""
    out = CACHE / f"sim_{n}_s{seed}"
    if not (out / "visits.parquet").exists():
        log.info("simulating %s customers into %s", f"{n:,}", out)
        subprocess.run(
            [
                PY,
                "-m",
                "cvm.cli",
                "simulate",
                "--customers",
                str(n),
                "--seed",
                str(seed),
                "--out",
                str(out),
                "--years",
                "5",
                "--force",
            ],
            check=True,
            cwd=ROOT,
        )
    return out


def as_of_for(data: Path) -> str:
    d = pd.read_parquet(data / "visits.parquet", columns=["visit_date"])["visit_date"].max()
    return (pd.Timestamp(d) + pd.offsets.MonthEnd(0)).strftime("%Y-%m-%d")


PROFILES = CACHE / "profiles"
NOTES = Path(__file__).resolve().parent / "monthly_notes.md"
"""Notes kept with the fragment whoever re-measures (the levers of each session, the load)."""
TOP = 15


def _profiled(code: str, out: Path) -> str:
    """``code`` run under cProfile, the statistics dumped to ``out``."""
    return f"import cProfile; cProfile.run({code!r}, {str(out)!r})"


def profile_top(path: Path, n: int = TOP) -> dict[str, list[dict]]:
    """The top ``n`` functions of a cProfile dump: by own time, and cvm's by cumulative time."""
    import pstats

    st = pstats.Stats(str(path)).stats  # {(file, line, func): (cc, nc, tt, ct, callers)}

    def ours(f: str) -> bool:  # the package's own files (also from a copy of the checkout)
        return str(ROOT / "src") in f or ("/cvm/" in f and "site-packages" not in f)

    def name(k: tuple) -> str:
        f, line, fn = k
        f = "cvm/" + f.split("/cvm/")[-1] if ours(f) and "/cvm/" in f else f
        f = f.replace(str(ROOT / "src"), "cvm").replace(str(ROOT), "")
        f = f.split("site-packages/")[-1]
        return f"{fn} ({f}:{line})" if line else fn

    rows = [
        {
            "function": name(k),
            "calls": v[1],
            "own_s": round(v[2], 2),
            "cumulative_s": round(v[3], 2),
        }
        for k, v in st.items()
    ]
    own = sorted(rows, key=lambda r: -r["own_s"])[:n]
    cvm = sorted(
        (r for r, k in zip(rows, st, strict=True) if ours(k[0])), key=lambda r: -r["cumulative_s"]
    )[:n]
    return {"own": own, "cvm_cumulative": cvm}


def run_step(step: str, data: Path, as_of: str, run_dir: Path, profile: Path | None = None) -> dict:
    code = (
        "from cvm.run_context import RunContext; from cvm import graph; "
        f"ctx = RunContext.open(data={str(data)!r}, as_of={as_of!r}, run_dir={str(run_dir)!r}); "
        + STEP_CODE[step]
    )
    if profile is not None:
        code = _profiled(code, profile)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with measure() as m:
        proc = subprocess.run(
            [PY, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
        )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        log.error("step %s failed:\n%s", step, proc.stderr[-3000:])
    # CPU seconds of the step's process: on a shared machine the work, where wall time is
    # also the wait for a core
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out = {
        "step": step,
        "seconds": m.seconds,
        "cpu_seconds": round(cpu, 1),
        "peak_rss_gb": m.peak_rss_gb,
        "ok": proc.returncode == 0,
    }
    phases = run_dir / "artifacts" / f"{step}_phases.json"
    if phases.exists():
        out["phases"] = json.loads(phases.read_text())
    if profile is not None and profile.exists():
        out["profile"] = profile_top(profile)
    return out


def _json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def quality(run_dir: Path) -> dict:
    """The run's own out-of-time figures (no truth needed)."""
    art = run_dir / "artifacts"
    churn, value = _json(art / "churn_metrics.json"), _json(art / "value_metrics.json")
    camp = _json(art / "campaign_summary.json")
    return {
        "churn_oot_auc": churn.get("auc"),
        "churn_oot_ece": churn.get("ece"),
        "churn_train_rows": churn.get("n_train"),
        "churn_holdout_rows": churn.get("n_holdout"),
        "churn_grade": churn.get("grade"),
        "value_oot_gini": value.get("normalized_gini"),
        "value_oot_total_ratio": value.get("total_ratio"),
        "uplift_contacts": (camp.get("uplift_metrics") or {}).get("n_contacts"),
    }


def run_steps(n: int, seed: int, profile: str | None = None) -> tuple[list[dict], dict]:
    """Every step at ``n`` customers; with ``profile`` (a label) each under cProfile."""
    data = sim_dir(n, seed)
    as_of = as_of_for(data)
    run_dir = CACHE / f"run_{n}_s{seed}"
    shutil.rmtree(run_dir, ignore_errors=True)
    if profile:
        PROFILES.mkdir(parents=True, exist_ok=True)
    rows = []
    for step in STEPS:
        prof = PROFILES / f"{profile}_{n}_{step}.prof" if profile else None
        r = run_step(step, data, as_of, run_dir, prof)
        log.info(
            "%s customers, %s: %.1f s, %.2f GB %s",
            f"{n:,}",
            step,
            r["seconds"],
            r["peak_rss_gb"],
            r.get("phases", ""),
        )
        rows.append({"customers": n, **r})
        if not r["ok"]:
            break
    q = quality(run_dir)
    shutil.rmtree(run_dir / ".tables", ignore_errors=True)
    return rows, q


def run_full(n: int, seed: int) -> dict:
    """The whole `cvm monthly` (validation, notebooks, report) in a child process."""
    data = sim_dir(n, seed)
    out = CACHE / f"reports_{n}_s{seed}"
    shutil.rmtree(out, ignore_errors=True)
    as_of = as_of_for(data)
    cmd = [PY, "-m", "cvm.cli", "monthly", "--data", str(data), "--as-of", as_of, "--out", str(out)]
    with measure() as m, by_role() as roles:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        log.error("cvm monthly failed:\n%s", proc.stderr[-3000:])
    res = {
        "customers": n,
        "seconds": m.seconds,
        "peak_rss_gb": m.peak_rss_gb,
        "ok": proc.returncode == 0,
        **{k: v for k, v in roles.items() if not k.startswith("_")},
    }
    res["notebook_peaks_gb"] = notebook_peaks(out, as_of, roles["_samples"])
    metrics = out / pd.Timestamp(as_of).strftime("%Y-%m") / "metrics.json"
    if metrics.exists():
        mj = json.loads(metrics.read_text())
        res["notebooks"] = {k.replace(".ipynb", ""): v for k, v in mj["timings_seconds"].items()}
        res["churn_oot_auc"] = (mj.get("churn") or {}).get("auc")
        res["value_oot_gini"] = (mj.get("value") or {}).get("normalized_gini")
    log.info(
        "cvm monthly %s: %.0f s, %.2f GB, ok=%s", f"{n:,}", m.seconds, m.peak_rss_gb, res["ok"]
    )
    return res


@contextlib.contextmanager
def by_role(interval: float = 0.5):
    """Peak RSS (GB) of this process's children by kind while the block runs: the ``cvm``
    driver process (``driver_peak_gb``) and the largest notebook kernel (``kernel_peak_gb``),
    the driver's RSS while a kernel ran (``driver_during_kernels_gb``), and the machine's mean
    1-minute load average (``load_avg``: the other jobs sharing the cores)."""
    out: dict[str, Any] = {}
    samples: list[tuple[float, float, float]] = []  # (epoch s, driver GB, kernels' GB)
    out["_samples"] = samples
    stop = threading.Event()
    me = psutil.Process()
    loads: list[float] = []

    def sample() -> None:
        while not stop.is_set():
            try:
                kids = me.children(recursive=True)
                drivers = [k for k in kids if k.ppid() == me.pid]
                kernels = [k for k in kids if "ipykernel" in " ".join(k.cmdline())]
                d = sum(k.memory_info().rss for k in drivers) / 2**30
                ks = [k.memory_info().rss / 2**30 for k in kernels]
                out["driver_peak_gb"] = round(max(out.get("driver_peak_gb", 0.0), d), 3)
                if ks:
                    out["kernel_peak_gb"] = round(max(out.get("kernel_peak_gb", 0.0), *ks), 3)
                samples.append((time.time(), d, sum(ks)))
                if any(k > 0.5 for k in ks):  # a kernel at work (an idle warm one: ~0.3 GB)
                    out["driver_during_kernels_gb"] = round(
                        max(out.get("driver_during_kernels_gb", 0.0), d), 3
                    )
                loads.append(os.getloadavg()[0])
            except psutil.Error:
                pass
            stop.wait(interval)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        yield out
    finally:
        stop.set()
        t.join()
        if loads:
            out["load_avg"] = round(sum(loads) / len(loads), 1)


def notebook_peaks(out: Path, as_of: str, samples: list) -> dict[str, float]:
    """Peak RSS (GB) of each notebook's kernel: run.log's own figure (``cvm.runner``), else
    the kernels' samples of ``by_role`` between its start / done lines (notebooks that overlap
    then share their peaks)."""
    log_file = out / pd.Timestamp(as_of).strftime("%Y-%m") / "run.log"
    if not log_file.exists() or not samples:
        return {}
    spans: dict[str, list[float]] = {}
    pat = re.compile(r"^(\S+ \S+) INFO cvm.runner: step (\S+)\.ipynb: (start|done)")
    for line in log_file.read_text(encoding="utf-8").splitlines():
        m = pat.match(line)
        if m:
            when = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            spans.setdefault(m.group(2), []).append(when)
    peaks = {}
    for name, span in spans.items():
        if len(span) == 2:
            inside = [k for t, _, k in samples if span[0] <= t <= span[1]]
            if inside:
                peaks[name] = round(max(inside), 3)
    # the runner's own figure, the notebook's kernel alone (also when notebooks overlap)
    own = re.compile(r"step (\S+)\.ipynb: done in .* peak ([\d.]+) GB\)")
    for line in log_file.read_text(encoding="utf-8").splitlines():
        m = own.search(line)
        if m:
            peaks[m.group(1)] = float(m.group(2))
    return peaks


def per_10x(sizes: list[int], values: list[float]) -> str:
    """Growth per 10× customers between consecutive sizes: (t2/t1)^(1/log10(n2/n1))."""
    out = []
    for (n1, v1), (n2, v2) in pairwise(zip(sizes, values, strict=True)):
        if v1 and v2 and v1 > 0 and n2 > n1:
            out.append(f"×{(v2 / v1) ** (1 / math.log10(n2 / n1)):.1f}")
    return ", ".join(out)


def _fragment(results: dict) -> str:
    sizes = sorted(int(n) for n in results)
    intro = (
        "Simulated dealers (`cvm simulate --years 5`, seed 42), as of the last month, "
        "12-month horizon, default profile. Each step runs in its own process (as each "
        "notebook runs in its own kernel) and reads the run's validated copy of the tables "
        "(`cvm.data.table_cache`), as in `cvm monthly`. Where sampling stands in for every "
        "customer, and why that is sound: [docs/scale.md](../scale.md). The load average "
        "while each whole run ran is in its table (2 cores: above 2, other jobs shared them).\n"
    )
    body = [intro, "### Wall time and peak memory by step\n"]
    rows = []
    for step in STEPS:
        r = {"step": STEP_LABEL[step]}
        secs, gbs = [], []
        for n in sizes:
            hit = [x for x in results[str(n)]["steps"] if x["step"] == step]
            s = hit[0]["seconds"] if hit else None
            g = hit[0]["peak_rss_gb"] if hit else None
            r[f"{n:,}: s"] = s
            r[f"{n:,}: GB"] = g
            secs.append(s)
            gbs.append(g)
        r["time per 10× customers"] = per_10x(sizes, secs)
        r["memory per 10×"] = per_10x(sizes, gbs)
        rows.append(r)
    body.append(md_table(rows))
    body.append("\nSeconds of each phase inside the steps (the same runs):\n")
    prow = []
    for step in ("features", "churn", "value", "uplift", "campaigns"):
        phases: list[str] = []
        for n in sizes:
            for x in results[str(n)]["steps"]:
                if x["step"] == step:
                    phases += [p for p in x.get("phases", {}) if p not in phases]
        for p in phases:
            r = {"phase": f"{step}: {p}"}
            vals = []
            for n in sizes:
                hit = [
                    x.get("phases", {}).get(p)
                    for x in results[str(n)]["steps"]
                    if x["step"] == step
                ]
                v = hit[0] if hit else None
                r[f"{n:,}: s"] = v
                vals.append(v)
            r["time per 10×"] = per_10x(sizes, vals)
            prow.append(r)
    body.append(md_table(prow))
    body.append("\n### Whole steps and the whole `cvm monthly`\n")
    trow = []
    for n in sizes:
        res = results[str(n)]
        st = res["steps"]
        full = res.get("full") or {}
        trow.append(
            {
                "customers": f"{n:,}",
                "sum of steps (s)": sum(x["seconds"] for x in st),
                "largest step peak GB": max(x["peak_rss_gb"] for x in st),
                "all steps ok": all(x["ok"] for x in st),
                "`cvm monthly` (s)": full.get("seconds"),
                "`cvm monthly` peak GB": full.get("peak_rss_gb"),
                "driver peak GB": full.get("driver_peak_gb"),
                "driver GB while a kernel works": full.get("driver_during_kernels_gb"),
                "largest kernel GB": full.get("kernel_peak_gb"),
                "load avg": full.get("load_avg"),
                "`cvm monthly` ok": full.get("ok"),
                "measured": res.get("measured"),
            }
        )
    body.append(md_table(trow))
    big = max((n for n in sizes if (results[str(n)].get("full") or {}).get("ok")), default=None)
    if big:
        f = results[str(big)]["full"]
        body.append(
            f"\n**{big:,} customers: the whole `cvm monthly` in {f['seconds']:.0f} s "
            f"({f['seconds'] / 60:.1f} min), peak {f['peak_rss_gb']:.1f} GB** "
            f"(target, issue 21: at most 240 s and 4 GB).\n"
        )
    body.append(
        "\n`cvm monthly` peak memory is the whole process tree (the `cvm` process and the "
        "notebook kernel running). Target for 1,000,000 customers (issue 21): at most "
        "240 s and 4 GB.\n"
    )
    body.append("\n### Model quality by size (the run's own out-of-time holdout)\n")
    qrow = []
    for n in sizes:
        q = results[str(n)].get("quality") or {}
        qrow.append(
            {
                "customers": f"{n:,}",
                **{
                    k: q.get(k)
                    for k in (
                        "churn_train_rows",
                        "churn_holdout_rows",
                        "churn_oot_auc",
                        "churn_oot_ece",
                        "churn_grade",
                        "value_oot_gini",
                        "value_oot_total_ratio",
                        "uplift_contacts",
                    )
                },
            }
        )
    body.append(md_table(qrow))
    body.append(
        "\nTraining snapshots are sampled to `training.max_rows_per_snapshot` customers "
        "each before their features are built, so above ~60,000 customers every size "
        "trains on the same number of rows: quality holds, and training time stops "
        "growing with the base.\n"
    )
    fulls = {n: results[str(n)].get("full") for n in sizes if results[str(n)].get("full")}
    nb = {n: f["notebooks"] for n, f in fulls.items() if f.get("notebooks")}
    if nb:
        body.append("\nSeconds per notebook in the whole `cvm monthly`:\n")
        names = list(next(iter(nb.values())))
        peaks = {n: f.get("notebook_peaks_gb") or {} for n, f in fulls.items()}
        body.append(
            md_table(
                [
                    {
                        "notebook": k,
                        **{f"{n:,}: s": v.get(k) for n, v in nb.items()},
                        **{f"{n:,}: kernels' GB": peaks[n].get(k) for n in nb if peaks[n]},
                    }
                    for k in names
                ]
            )
        )
    return "\n".join(body)


def _results_file(label: str | None) -> Path:
    return RESULTS if not label else CACHE / f"bench_monthly_{label}.json"


def _compare(before: dict, after: dict) -> str:
    """Seconds and peak GB of each step before and after, at the sizes both measured."""
    rows = []
    for n in sorted({int(k) for k in before} & {int(k) for k in after}):
        b = {x["step"]: x for x in before[str(n)].get("steps", [])}
        a = {x["step"]: x for x in after[str(n)].get("steps", [])}
        for step in STEPS:
            if step in b and step in a:
                rows.append(
                    {
                        "customers": f"{n:,}",
                        "step": STEP_LABEL[step],
                        "before: s": b[step]["seconds"],
                        "after: s": a[step]["seconds"],
                        "before: GB": b[step]["peak_rss_gb"],
                        "after: GB": a[step]["peak_rss_gb"],
                    }
                )
        fb, fa = before[str(n)].get("full") or {}, after[str(n)].get("full") or {}
        if fb.get("ok") and fa.get("ok"):
            rows.append(
                {
                    "customers": f"{n:,}",
                    "step": "**whole `cvm monthly`**",
                    "before: s": fb["seconds"],
                    "after: s": fa["seconds"],
                    "before: GB": fb["peak_rss_gb"],
                    "after: GB": fa["peak_rss_gb"],
                }
            )
    return md_table(rows) if rows else ""


def _profiles(label: str, results: dict) -> str:
    """The top functions of every profiled step (``--profile``), from its saved statistics
    when they are still in data/bench/profiles."""
    body = []
    for n in sorted(int(k) for k in results):
        for x in results[str(n)].get("steps", []):
            if n < 100_000 and x["step"] not in ("uplift", "campaigns"):  # small: imports dominate
                continue
            saved = PROFILES / f"{label}_{n}_{x['step']}.prof"
            prof = profile_top(saved) if x.get("profile") and saved.exists() else x.get("profile")
            if not prof:
                continue
            body.append(
                f"\n**{label}, {n:,} customers, {STEP_LABEL[x['step']]}** "
                f"({x['seconds']:.0f} s under cProfile): cvm functions by cumulative "
                f"time, then all functions by own time\n"
            )
            body.append(md_table(prof["cvm_cumulative"][:7]))
            body.append(md_table(prof["own"][:6]))
    return "\n".join(body)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[20000])
    ap.add_argument(
        "--full",
        type=int,
        nargs="*",
        default=None,
        help="sizes to time the whole `cvm monthly` at (default: every size)",
    )
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-steps", action="store_true", help="only the whole `cvm monthly`")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="run every step under cProfile and keep its top functions",
    )
    ap.add_argument(
        "--label",
        default=None,
        help="keep these results apart (e.g. `before`: the code before a change)",
    )
    ap.add_argument(
        "--note", default=None, help="a sentence kept with the results and printed under the tables"
    )
    ap.add_argument(
        "--fragment-only",
        action="store_true",
        help="measure nothing: rewrite the fragment from data/bench/bench_monthly.json",
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    path = _results_file(args.label)
    results = json.loads(path.read_text()) if path.exists() else {}
    if "steps" in results:  # the old single-run format
        results = {}
    full_sizes = args.sizes if args.full is None else args.full
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    for n in [] if args.fragment_only else args.sizes:
        entry = results.get(str(n), {})
        if not args.no_steps:
            rows, q = run_steps(n, args.seed, (args.label or "after") if args.profile else None)
            entry.update(steps=rows, quality=q, measured=stamp)
        if n in full_sizes:
            entry["full"] = run_full(n, args.seed)
        results[str(n)] = entry
        path.write_text(json.dumps(results, indent=1))
        _print(n, entry)
    notes_file = CACHE / "bench_monthly_notes.txt"
    if args.note:
        notes_file.write_text(args.note.strip() + "\n", encoding="utf-8")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results = {k: v for k, v in results.items() if v.get("steps")}
    if not results:
        return
    sizes = sorted(int(n) for n in results)
    cmd = "python benchmarks/bench_monthly.py --sizes " + " ".join(map(str, sizes))
    body = _fragment(results)
    before_file = _results_file("before")
    if before_file.exists():
        before = json.loads(before_file.read_text())
        cmp = _compare(before, results)
        if cmp:
            body += (
                "\n### Before and after the speed work (issue 21)\n\n"
                "`--label before` ran the code before the change, on the same data. Wall "
                "seconds: on a machine shared with other jobs they compare only runs "
                "made at the same load (see the notes at the end).\n\n" + cmp
            )
        body += _profiles("before", before)
    body += _profiles("after", results)
    if NOTES.exists():  # the committed notes (what changed, how it was measured)
        body += "\n" + NOTES.read_text(encoding="utf-8")
    if notes_file.exists():
        body += "\n" + notes_file.read_text(encoding="utf-8")
    write_fragment("monthly", "Monthly run by step and size", cmd, body)


ROLE_KEYS = ("driver_peak_gb", "driver_during_kernels_gb", "kernel_peak_gb", "load_avg")


def _print(n: int, entry: dict) -> None:
    """Per-step seconds and peak GB of one size, on stdout."""
    print(f"\n{n:,} customers")
    for x in entry.get("steps", []):
        cpu = f"{x['cpu_seconds']:8.1f} CPU s" if x.get("cpu_seconds") is not None else ""
        print(
            f"  {STEP_LABEL[x['step']]:<42} {x['seconds']:8.1f} s {x['peak_rss_gb']:6.2f} GB {cpu}"
        )
    full = entry.get("full")
    if full:
        print(f"  {'whole cvm monthly':<42} {full['seconds']:8.1f} s {full['peak_rss_gb']:6.2f} GB")
        roles = {k: full[k] for k in ROLE_KEYS if k in full}
        if roles:
            print("  " + ", ".join(f"{k} {v}" for k, v in roles.items()))
        for k, v in (full.get("notebook_peaks_gb") or {}).items():
            print(f"  {k:<42} {full.get('notebooks', {}).get(k, float('nan')):8.1f} s {v:6.2f} GB")


if __name__ == "__main__":
    main()
