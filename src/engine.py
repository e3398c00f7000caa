"""Where the per-store / per-partition work runs: in this process, or on Dask distributed.

``cvm monthly --engine dask`` starts a ``distributed.LocalCluster`` (or connects to the
scheduler given by ``--scheduler``) and records its address in the run's
``artifacts/engine.json``; every step's per-store work then goes through :func:`map_stores`,
which sends one task per store to the cluster and gathers the results in store order. Tasks
are pure functions of their inputs (scoring, SHAP, value tags, per-store plans), so the same
seed gives the same outputs on either engine (a test asserts it on a real LocalCluster).
Settings: ``engine:`` in configs/default.yaml. docs/dealer-groups.md, "Distributed engine".
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from cvm.config import CvmError
from cvm.settings import run_settings

log = logging.getLogger(__name__)

ENGINES = ("local", "dask")
ENGINE_FILE = "engine.json"


def _dask():
    try:
        import distributed
    except ImportError:
        raise CvmError(
            "--engine dask needs dask and distributed: pip install -e '.[dask]' (or make setup)"
        ) from None
    return distributed


def local_map(fn: Callable[[Any], Any], items: Iterable[Any], threads: int) -> list[Any]:
    """``[fn(x) for x in items]`` with up to ``threads`` items in work at once, results in
    ``items``' order: for the independent pieces of one step on the local engine (the churn
    and value models' training snapshots, the uplift frame's contact months, the lead model's
    snapshots). pandas, NumPy and Arrow release the GIL in their heavy loops, so a second
    thread keeps the second core busy where a step would otherwise use one. Each piece must be
    a pure function of its item, so the result is the same for any ``threads``
    (``engine.local_threads``; 1: one after another, here). ``items`` is drawn lazily: the
    next item is made only once a thread is free, so at most ``threads`` pieces are held."""
    if threads <= 1:
        return [fn(x) for x in items]
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    results: dict[int, Any] = {}
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="cvm-local") as pool:
        running: dict[Any, int] = {}
        for k, x in enumerate(items):  # drawn only once a thread is free (below)
            running[pool.submit(fn, x)] = k
            if len(running) >= threads:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for f in finished:
                    results[running.pop(f)] = f.result()
        for f, k in running.items():
            results[k] = f.result()
    return [results[k] for k in range(len(results))]


def local_threads(cfg: dict[str, Any] | None) -> int:
    """``engine.local_threads`` of the run's settings (:func:`local_map`)."""
    return max(1, int(run_settings(cfg).engine.local_threads))


def check_scheduler(address: str, timeout_s: float) -> None:
    """Exit 2 (CvmError) when no Dask scheduler answers at ``address``."""
    distributed = _dask()
    try:
        client = distributed.Client(address, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise CvmError(
            f"no Dask scheduler answers at {address} ({type(err).__name__}): start one "
            f"(`dask scheduler` on that host, then `dask worker {address}` on each worker), "
            f"check the address and the firewall, or drop --scheduler to run on a "
            f"LocalCluster on this machine"
        ) from None
    client.close()


class Cluster:
    """A running engine for one monthly run: ``address`` is None for local."""

    def __init__(self, engine: str, scheduler: str | None, cfg: dict[str, Any]) -> None:
        if engine not in ENGINES:
            raise CvmError(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        if scheduler and engine != "dask":
            raise CvmError("--scheduler needs --engine dask")
        self.engine, self.address, self._cluster = engine, scheduler, None
        self.settings = run_settings(cfg).engine
        if engine == "dask":
            _dask()  # not installed: exit 2 with the fix, before any work

    def start(self) -> Cluster:
        if self.engine != "dask":
            return self
        if self.address:  # checked before any work (cvm.pipeline.run_monthly)
            return self
        distributed = _dask()
        # a nanny sets its workers' environment (distributed.nanny.pre-spawn-environ:
        # OMP_NUM_THREADS=1 …) in *this* process's os.environ; left there, the notebook kernels
        # would inherit one-thread BLAS and round a few sums differently from --engine local
        saved = dict(os.environ)
        try:
            cluster = distributed.LocalCluster(
                n_workers=self.settings.local_workers,
                threads_per_worker=self.settings.threads_per_worker,
                processes=True,
                dashboard_address=None,
                memory_limit=self.settings.worker_memory_limit,
            )
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self._cluster, self.address = cluster, cluster.scheduler_address
        log.info("dask LocalCluster at %s (%d workers)", self.address, len(cluster.workers))
        return self

    def record(self, run_dir: Path) -> None:
        (run_dir / "artifacts").mkdir(parents=True, exist_ok=True)
        (run_dir / "artifacts" / ENGINE_FILE).write_text(
            json.dumps({"engine": self.engine, "scheduler": self.address}), encoding="utf-8"
        )

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def engine_of(run_dir: Path) -> dict[str, Any]:
    """The engine a run uses (``artifacts/engine.json``; local when absent)."""
    f = Path(run_dir) / "artifacts" / ENGINE_FILE
    if f.exists():
        return json.loads(f.read_text(encoding="utf-8"))
    return {"engine": "local", "scheduler": None}


_CLIENTS: dict[str, Any] = {}


def _client(address: str) -> Any:
    """This process's client of the scheduler at ``address`` (one, kept). It talks to the
    workers directly (``direct_to_workers``): data and results do not pass the scheduler."""
    client = _CLIENTS.get(address)
    if client is None:
        client = _dask().Client(address, set_as_default=False, direct_to_workers=True)
        _CLIENTS[address] = client
    return client


def map_stores(
    run_dir: Path, fn: Callable[..., Any], items: Sequence[Any], *shared: Any
) -> list[Any]:
    """``[fn(item, *shared) for item in items]``, on the run's engine (results in order).

    On Dask the ``shared`` arguments are scattered once (broadcast to the workers), each item
    is scattered to one worker and is one task (an item may be just the folder of a part the
    worker reads itself: ``cvm.features.part_files``). Once gathered, the futures are
    released, so the workers drop the items and results of the call."""
    eng = engine_of(run_dir)
    if eng.get("engine") != "dask" or not items:
        return [fn(item, *shared) for item in items]
    client = _client(eng["scheduler"])
    futures_shared = [client.scatter(s, broadcast=True) for s in shared]
    # each item (a store's rows) goes to one worker as data, not inside the task graph
    data = client.scatter(list(items), hash=False)
    futures = client.map(fn, data, *[[f] * len(items) for f in futures_shared], pure=False)
    try:
        out = client.gather(futures)
    finally:
        client.cancel([*futures, *data])  # unique keys; the shared ones (content-hashed, a
        del futures, data, futures_shared  # later call may scatter them again) go with the del
    _count_tasks(Path(run_dir), getattr(fn, "__name__", "task"), len(items))
    return out


def _count_tasks(run_dir: Path, name: str, n: int) -> None:
    """Tasks sent to the cluster, by function (``artifacts/engine_tasks.json``, for audit)."""
    f = run_dir / "artifacts" / "engine_tasks.json"
    done = json.loads(f.read_text(encoding="utf-8")) if f.exists() else {}
    done[name] = int(done.get(name, 0)) + int(n)
    tmp = f.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(done, sort_keys=True), encoding="utf-8")
    tmp.replace(f)
    log.info("dask: %d %s tasks", n, name)


# --- training on the cluster --------------------------------------------------------------
_ACTIVE: dict[str, Any] = {}


def limit_blas_threads(n: int) -> None:
    """Cap numpy's BLAS thread pool in this process at ``n`` (``engine.blas_threads``; 0 leaves
    it as is). On a small machine OpenBLAS's threads and LightGBM's OpenMP threads contend:
    matrix products after a LightGBM fit ran ~5x slower with two BLAS threads than with one."""
    if n > 0:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n, user_api="blas")


def activate(run_dir: Path) -> None:
    """Make ``run_dir``'s engine the one this process trains on (``RunContext.open`` calls it):
    with ``--engine dask``, a training frame over ``engine.train_memory_budget_mb`` trains
    through ``lightgbm.dask`` on the cluster (:func:`training_client`)."""
    eng = engine_of(run_dir)
    _ACTIVE.clear()
    if eng.get("engine") == "dask" and eng.get("scheduler"):
        _ACTIVE.update(eng)


def training_client(nbytes: int) -> Any:
    """A Dask client when this process runs on a Dask engine and a training frame of
    ``nbytes`` exceeds ``engine.train_memory_budget_mb``; else None (train on the driver)."""
    if not _ACTIVE:
        return None
    from cvm.config import load_config

    budget = run_settings(load_config("default")).engine.train_memory_budget_mb
    if budget <= 0 or nbytes <= budget * 2**20:
        return None
    return _client(_ACTIVE["scheduler"])
