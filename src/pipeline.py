"""The monthly job, step by step: validate → notebooks (papermill) → report.html → publish.

The run is built in a hidden folder beside ``reports/YYYY-MM`` and renamed into place only when
every step succeeded, so a failed run leaves the published months untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import platform
import shutil
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from cvm import __version__, graph
from cvm.config import CvmError, in_home
from cvm.fileio import write_json
from cvm.i18n import t
from cvm.reporting.html import notebook_to_html
from cvm.runner import MONTHLY_NOTEBOOKS, execute_graph

log = logging.getLogger(__name__)

VERSIONED_PACKAGES = (
    "pandas",
    "numpy",
    "lightgbm",
    "shap",
    "scikit-learn",
    "papermill",
    "pandera",
    "pyarrow",
    "matplotlib",
)


def run_monthly(
    data: str,
    as_of: date | None,
    out: Path = Path("reports"),
    budget: float | None = None,
    horizon_months: int | None = None,
    lang: str = "zh",
    force: bool = False,
    seed: int | None = None,
    progress: bool = True,
    profile: str = "default",
    engine: str = "local",
    scheduler: str | None = None,
) -> Path:
    """Run the whole monthly job for ``as_of`` and publish it to ``out/YYYY-MM``: the steps of
    ``cvm.graph.STEPS`` in order (:func:`prepare_run`, the notebooks, :func:`finish_run`).

    Everything is checked before anything is created (parameters, ``out``, the data, the as-of
    date, data sufficiency: ``cvm.run_checks``); a failure there is a CvmError (exit 2) and
    leaves no folder behind. Models the data cannot teach are skipped, with the reason in
    ``metrics.json`` and the report.

    ``engine``: where the per-store work runs (``local`` or ``dask``: a LocalCluster, or the
    scheduler at ``scheduler``; ``cvm.engine``), checked before any work as well.
    """
    from cvm.engine import Cluster, check_scheduler
    from cvm.publishing import boundary, publish
    from cvm.settings import run_settings

    cfg = _default_cfg(profile)
    cluster = Cluster(engine, scheduler, cfg)  # bad --engine / --scheduler: exit 2 here
    if scheduler:  # unreachable: exit 2 before any work
        check_scheduler(scheduler, cluster.settings.connect_timeout_s)
    from cvm.runner import KernelPool

    kernels: list[KernelPool] = []  # warm kernels start once the data are checked and copied

    def warm_up() -> None:
        kernels.append(KernelPool(run_settings(cfg).engine.warm_kernels, len(MONTHLY_NOTEBOOKS)))

    try:
        final, work, params = prepare_run(
            data, as_of, out, budget, horizon_months, lang, force, seed, profile, warm_up
        )
    except BaseException:
        for k in kernels:
            k.close()
        raise
    started = time.perf_counter()
    log_handler = _file_log(work / "run.log")
    try:
        timings: dict[str, float] = {}
        cluster.start().record(work)  # the notebooks' per-store work runs where this says
        parallel, memory, budget_gb = _parallel_notebooks(cfg, work, data)
        try:
            timings.update(
                execute_graph(
                    work,
                    params,
                    parallel=parallel,
                    before=lambda name: boundary(f"before:{name}"),
                    progress=progress,
                    kernels=kernels[0] if kernels else None,
                    memory=memory,
                    budget_gb=budget_gb,
                )
            )
        finally:
            for k in kernels:
                k.close()
        boundary("report")
        cluster.close()
        (work / "artifacts" / "engine.json").unlink(missing_ok=True)  # this run's scheduler only
        if engine != "local":
            params["engine"] = engine
        finish_run(work, params, data, timings, started)
    except BaseException as err:
        from cvm.data import table_cache

        table_cache.drop(work)
        cluster.close()
        if isinstance(err, OSError) and err.filename is None:
            err.filename = str(work)
        if not isinstance(
            err, (CvmError, OSError)
        ):  # an internal error: its traceback goes to run.log
            if log_handler.stream is not None:
                log_handler.stream.write(traceback.format_exc())
            log_handler.flush()
        logging.getLogger().removeHandler(log_handler)
        log_handler.close()
        failed = final.with_name(f".{final.name}.failed")
        shutil.rmtree(failed, ignore_errors=True)
        work.rename(failed)
        err.cvm_log = failed / "run.log"  # type: ignore[attr-defined]
        log.error(
            "run failed; published months are untouched; the partial run is kept at %s "
            "(see notebooks/ and run.log there)",
            failed,
        )
        raise
    logging.getLogger().removeHandler(log_handler)
    log_handler.close()
    published = publish(work, final, force)
    log.info("published %s in %.0f s", published, timings["total"])
    return published / graph.artifact("report").relpath


def prepare_run(
    data: str,
    as_of: date | None,
    out: Path,
    budget: float | None,
    horizon_months: int | None,
    lang: str,
    force: bool,
    seed: int | None,
    profile: str,
    checked: Callable[[], None] | None = None,
) -> tuple[Path, Path, dict[str, Any]]:
    """The ``prepare`` step: check everything, validate the source once, copy the validated
    tables (``tables``) and the sufficiency assessment (``run_checks``) into a new work folder.
    ``checked()`` is called once the data have passed their checks and been copied, and this
    process has handed their memory back (the run warms its notebook kernels up from there:
    started beside the load, an idle kernel added to the run's peak).
    Returns (the month's final folder, the work folder, the notebooks' parameters)."""
    from cvm import run_checks
    from cvm.data import table_cache
    from cvm.data.loaders import load_with_report
    from cvm.publishing import boundary, recover, work_dir_for

    cfg = run_checks.check_parameters(
        as_of=as_of,
        horizon_months=horizon_months,
        budget=budget,
        lang=lang,
        profile=profile,
        seed=seed,
        need_budget=True,
    )
    as_of_ts = pd.Timestamp(as_of)
    out = Path(out).resolve()
    run_checks.check_output_dir(out)
    final = out / as_of_ts.strftime("%Y-%m")
    recover(out)  # what killed runs left: temporary folders, a --force cut between renames
    if final.exists() and not force:
        raise CvmError(f"{final} is already published; pass --force to replace it")
    _check_source(data)
    # validate first, in memory: bad input stops here with exit 2 and nothing created.
    # Rows after the run's as-of date are fine (a back-dated run); after today they are not
    frames, report = load_with_report(data)
    if not report.ok:
        raise CvmError("the input data has problems; fix them and run again:\n" + report.render())
    run_checks.check_as_of(frames, as_of_ts)
    # the validated tables are copied into the run folder (work/.tables, without personal
    # data) once, so the notebooks read them without loading and checking the source again.
    # The copy is written (Arrow, hashing: mostly outside the GIL) while the data's
    # sufficiency is assessed (pandas); when the assessment stops the run, the folder goes
    new_out, assessed = not out.exists(), False
    work = work_dir_for(final)
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="table-copy") as pool:
            copy = pool.submit(table_cache.write_run_tables, work, data, frames, report)
            try:
                sufficiency = run_checks.assess(frames, as_of_ts, cfg)
                assessed = True
            finally:
                wait([copy])
            copy.result()
        del frames
        table_cache.release_memory()  # the notebooks read the copy: this process needs none
        if checked is not None:  # kernels warm up now: an idle one beside the load adds to
            checked()  # its peak (the run's peak at a million customers), for ~3 s saved
        (work / "artifacts").mkdir(exist_ok=True)
        write_json(graph.path(work, "run_checks"), sufficiency.to_dict())
    except BaseException as err:
        shutil.rmtree(work, ignore_errors=True)
        if new_out and not assessed:  # the data stopped the run: nothing is left behind
            with contextlib.suppress(OSError):
                out.rmdir()
        if isinstance(err, OSError) and err.filename is None:  # pyarrow names no path
            err.filename = str(work)
        raise
    for why in sufficiency.skipped.values():
        log.warning("%s", why)
    boundary("tables")
    params = {
        "data": str(Path(data).resolve()) if "://" not in str(data) else str(data),
        "as_of": as_of_ts.strftime("%Y-%m-%d"),
        "run_dir": str(work),
        "horizon_months": int(cfg["horizon_months"]),
        "budget": float(cfg["budget"]),
        "lang": lang,
        "seed": int(cfg["seed"]),
        "profile": profile,
    }
    return final, work, params


def finish_run(
    work: Path, params: dict[str, Any], data: str, timings: dict[str, float], started: float
) -> None:
    """The ``publish`` step: ``report.html`` from the executed report notebook, ``metrics.json``,
    then ``manifest.json`` (last: it marks the work folder complete); the table copy goes."""
    from cvm.data import table_cache

    lang = params["lang"]
    title = t("title", lang)
    subtitle = t("subtitle", lang, as_of=params["as_of"], h=params["horizon_months"])
    notebook_to_html(
        work / "notebooks" / MONTHLY_NOTEBOOKS[-1],
        graph.path(work, "report"),
        title,
        subtitle,
        lang,
    )
    if graph.path(work, "store_league").exists():  # a dealer group
        from cvm.reporting.stores import write_store_reports

        pages = write_store_reports(work, params["as_of"], lang, _default_cfg(params["profile"]))
        log.info("wrote %d store reports under %s", len(pages), work / "stores")
    timings["total"] = round(time.perf_counter() - started, 2)
    _write_metrics(work, timings)
    table_cache.drop(work)
    _write_manifest(work, params, data)  # last: marks the run folder complete


def _parallel_notebooks(
    cfg: dict[str, Any], work: Path, data: str
) -> tuple[int, dict[str, float], float]:
    """How the notebooks share the machine: how many run at once (``engine.parallel_notebooks``),
    each notebook's estimated kernel peak (GB) at this run's number of customers, and the
    budget their estimates may reach together (:func:`kernel_estimates`)."""
    from cvm.data import table_cache
    from cvm.settings import run_settings

    e = run_settings(cfg).engine
    rows = (table_cache.manifest(work, data) or {}).get("rows", {})
    memory = kernel_estimates(e.kernel_peak_gb, int(rows.get("customers", 0)))
    # side by side only within the budget, or within the peak the heaviest notebook reaches
    # alone anyway: pairing never raises the run's peak above the larger of the two
    budget = max([float(e.memory_budget_gb), *memory.values()])
    return max(1, int(e.parallel_notebooks)), memory, budget


def kernel_estimates(points: dict[str, list[list[float]]], customers: int) -> dict[str, float]:
    """Each notebook's kernel peak (GB) at ``customers``: interpolated between the measured
    ``[customers, GB]`` points of ``engine.kernel_peak_gb``, extended along the last two points'
    slope beyond them (docs/benchmarks/monthly.md has the measurements)."""
    import numpy as np

    out: dict[str, float] = {}
    for key, pts in points.items():
        name = key if key.endswith(".ipynb") else f"{key}.ipynb"
        xy = sorted((float(x), float(y)) for x, y in pts)
        xs, ys = np.array([x for x, _ in xy]), np.array([y for _, y in xy])
        if len(xs) > 1 and customers > xs[-1]:
            slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
            out[name] = float(ys[-1] + slope * (customers - xs[-1]))
        else:
            out[name] = float(np.interp(customers, xs, ys))
    return out


def _default_cfg(profile: str) -> dict[str, Any]:
    from cvm.config import load_config

    try:
        return load_config("default", profile=profile)
    except CvmError:  # a bad --profile is reported by the parameter checks
        return load_config("default")


def run_demo(
    data: Path = Path("data/demo"),
    customers: int | None = None,
    out: Path = Path("reports"),
    lang: str = "zh",
    seed: int | None = None,
) -> Path:
    """Simulate the demo data if missing, then run the month of its last day (re-runs replace it).
    ``customers`` and ``seed`` default to configs/simulator.yaml and configs/default.yaml."""
    from cvm.config import load_config
    from cvm.data.simulator import simulate

    if customers is None:
        customers = int(load_config("simulator")["customers"])
    if seed is None:
        seed = int(load_config()["seed"])

    data = in_home(data)
    if not (data / "visits.parquet").exists():
        log.info("simulating %s demo customers into %s", f"{customers:,}", data)
        simulate(n_customers=customers, seed=seed, out=data, force=True)
    as_of = _last_visit_month_end(data)
    out = in_home(out)
    return run_monthly(str(data), as_of, out=out, lang=lang, force=True, seed=seed, profile="demo")


def _last_visit_month_end(data: Path) -> date:
    d = pd.read_parquet(data / "visits.parquet", columns=["visit_date"])["visit_date"].max()
    return (pd.Timestamp(d) + pd.offsets.MonthEnd(0)).date()


def _check_source(data: str) -> None:
    if "://" in str(data):
        return
    p = Path(data)
    if not p.exists():
        raise CvmError(
            f"data directory {p} does not exist; run `cvm simulate --out {p}` "
            f"for demo data or point --data at your export"
        )


def _file_log(path: Path) -> logging.FileHandler:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    if logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)
    return handler


def _write_metrics(work: Path, timings: dict[str, float]) -> None:
    metrics: dict[str, Any] = {"timings_seconds": timings}
    for key, name in graph.METRICS:
        f = graph.path(work, name)
        if f.exists():
            metrics[key] = json.loads(f.read_text(encoding="utf-8"))
    # what the run skipped and why ({} when it did everything)
    metrics["skipped"] = {
        k: metrics[k]["skipped"]
        for k in graph.MODELS_SKIPPABLE
        if isinstance(metrics.get(k), dict) and "skipped" in metrics[k]
    }
    if metrics["skipped"]:
        metrics["notices"] = list(metrics["skipped"].values())
    write_json(graph.path(work, "metrics"), metrics)


def _write_manifest(work: Path, params: dict[str, Any], data: str) -> None:
    versions: dict[str, str | None] = {}
    for pkg in VERSIONED_PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    manifest = {
        "cvm_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": {**params, "run_dir": None},
        "inputs": input_hashes(data),
        "python": platform.python_version(),
        "packages": versions,
        "notebooks": list(MONTHLY_NOTEBOOKS),
    }
    bundles = {
        m: json.loads(graph.path(work, f"{m}_bundle").read_text(encoding="utf-8"))
        for m in graph.MODELS_SKIPPABLE
        if graph.path(work, f"{m}_bundle").exists()
    }
    if bundles:
        manifest["model_bundles"] = bundles
    write_json(graph.path(work, "manifest"), manifest)


def input_hashes(data: str) -> dict[str, str]:
    """sha256 of every input file directly in the data directory (truth/ is not an input)."""
    if "://" in str(data):
        return {"url": str(data).split("@")[-1]}
    out = {}
    for f in sorted(Path(data).iterdir()):
        if f.is_file():
            h = hashlib.sha256()
            with open(f, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            out[f.name] = h.hexdigest()
    return out
