"""Execute the monthly notebooks (``cvm.graph.STEPS``) with papermill into a run folder."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from cvm import graph
from cvm.config import NOTEBOOK_DIR, CvmError, home

log = logging.getLogger(__name__)

MONTHLY_NOTEBOOKS = graph.notebooks()
"""The notebooks of the monthly run, in execution order (``cvm.graph.STEPS``)."""

MONTHLY_DEFAULTS = {"research": False}
"""Parameters the monthly run gives every notebook unless the caller sets them: the analysts'
research cells (challengers, extra charts) are skipped, so the run's outputs stay the same."""


class StepFailed(CvmError):
    """A notebook of the run failed; names the step and keeps the previous months untouched."""

    exit_code = 1


PRELOAD = (
    "numpy",
    "pandas",
    "pyarrow.parquet",
    "scipy.stats",
    "sklearn.metrics",
    "lightgbm",
    "cvm.steps",
    "cvm.run_context",
)
"""Modules a warm kernel imports before it is given a notebook: what nearly every notebook of
the run imports first (``lightgbm`` alone brings scikit-learn and SciPy, ~2 s a kernel).
Imports only: nothing enters the notebook's namespace, and a module's state after its import
is the one the notebook's own import would give."""


START_TIMEOUT_S = 60
"""Seconds a warm kernel may take to start and to import ``PRELOAD`` (papermill's own
kernel start timeout); past it the notebook gets a kernel papermill starts."""


class KernelPool:
    """Kernels started (in the run's working folder, as papermill starts them) and warmed up
    (``PRELOAD`` imported) in the background while other notebooks run, each given to one
    notebook and shut down after it: a kernel's start-up and imports then overlap the
    previous step instead of preceding the next. ``size`` 0: papermill starts each kernel."""

    def __init__(self, size: int, total: int) -> None:
        import threading

        self._size, self._left = max(0, size), total  # kernels still to hand out
        self._lock = threading.Lock()
        self._ready: list[Any] = []  # futures of warm kernel managers
        self._stops: list[Any] = []
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=max(1, self._size), thread_name_prefix="kernel")
        self._stopper = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kernel-stop")
        self._fill()

    def _fill(self) -> None:
        while len(self._ready) < min(self._size, self._left):
            self._ready.append(self._pool.submit(_warm_kernel))

    def take(self) -> Any:
        """A warm kernel manager, or None (papermill then starts its own)."""
        with self._lock:
            self._left -= 1
            fut = self._ready.pop(0) if self._ready else None
            self._fill()
        if fut is None:
            return None
        try:
            return fut.result()
        except Exception as err:  # a kernel that would not start: papermill tries its own
            log.warning("warm kernel failed to start (%s); starting one for the notebook", err)
            return None

    def release(self, km: Any) -> None:
        """Shut ``km`` down in the background (its notebook is saved)."""
        if km is not None:
            self._stops.append(self._stopper.submit(_shutdown, km))

    def close(self) -> None:
        """Shut down the kernels not handed out and wait for every shutdown."""
        with self._lock:
            self._left = 0
            spare, self._ready = self._ready, []
        for fut in spare:
            with contextlib.suppress(Exception):  # one that never started: nothing to stop
                self.release(fut.result())
        for fut in list(self._stops):
            fut.result()
        self._pool.shutdown(wait=True)
        self._stopper.shutdown(wait=True)


def _warm_kernel() -> Any:
    from jupyter_client.manager import KernelManager

    class _Manager(KernelManager):
        """Keeps the clients it makes (nbclient's among them), to stop them at shutdown:
        papermill leaves the client of a kernel it did not start open."""

        def client(self, **kwargs: Any) -> Any:
            kc = super().client(**kwargs)
            self.__dict__.setdefault("_cvm_clients", []).append(kc)
            return kc

    km = _Manager(kernel_name="python3")
    # as nbclient starts a kernel for papermill: the run's working folder, history in memory
    km.start_kernel(cwd=str(home()), extra_arguments=["--HistoryManager.hist_file=:memory:"])
    kc = km.client()
    try:
        kc.start_channels()
        kc.wait_for_ready(timeout=START_TIMEOUT_S)
        code = (
            f"import importlib as _i\nfor _m in {PRELOAD!r}:\n    _i.import_module(_m)\ndel _i, _m"
        )
        msg = kc.execute(code, silent=True, store_history=False)
        while True:
            reply = kc.get_shell_msg(timeout=START_TIMEOUT_S)
            if reply["parent_header"].get("msg_id") == msg:
                break
        if reply["content"].get("status") != "ok":
            raise RuntimeError(f"preload failed: {reply['content'].get('evalue')}")
    except BaseException:
        kc.stop_channels()
        _shutdown(km)
        raise
    kc.stop_channels()
    return km


def _shutdown(km: Any) -> None:
    for kc in km.__dict__.get("_cvm_clients", []):
        kc.stop_channels()
    try:
        km.shutdown_kernel(now=False)
    except Exception as err:  # already gone
        log.debug("kernel shutdown: %s", err)


def _execute_one(
    name: str,
    out_dir: Path,
    parameters: dict[str, Any],
    notebook_dir: Path,
    kernels: KernelPool | None = None,
) -> float:
    """Run notebook ``name`` with papermill into ``out_dir`` (in a warm kernel of ``kernels``
    when it has one); its wall seconds."""
    import papermill as pm

    src = notebook_dir / name
    if not src.exists():
        raise StepFailed(
            f"notebook {src} is missing; reinstall cvm or restore notebooks/ from the repository"
        )
    start = time.perf_counter()
    log.info("step %s: start", name)
    km = kernels.take() if kernels is not None else None
    cpu0 = _kernel_cpu(km)
    peak = _PeakRss(km)
    try:
        pm.execute_notebook(
            str(src),
            str(out_dir / name),
            parameters=parameters,
            cwd=str(home()),
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            **({"km": km} if km is not None else {}),
        )
    except pm.PapermillExecutionError as err:
        raise StepFailed(
            f"step {name} failed at cell {err.exec_count}: {err.ename}: {err.evalue} "
            f"(the executed notebook with the traceback is kept with the failed run)"
        ) from None
    finally:
        cpu = _kernel_cpu(km) - cpu0
        gb = peak.stop()
        if kernels is not None:
            kernels.release(km)
    seconds = round(time.perf_counter() - start, 2)
    if km is not None:  # the notebook's own CPU seconds: on a shared machine, the work
        log.info(
            "step %s: done in %.1f s (%.1f CPU s in its kernel, peak %.2f GB)",
            name,
            seconds,
            cpu,
            gb,
        )
    else:
        log.info("step %s: done in %.1f s", name, seconds)
    return seconds


class _PeakRss:
    """The peak resident memory (GB) of ``km``'s kernel process while its notebook runs,
    sampled every ``interval`` seconds in a thread (``engine.kernel_peak_gb`` is calibrated
    from these figures in run.log); 0 without a kernel manager."""

    def __init__(self, km: Any, interval: float = 0.25) -> None:
        import threading

        self.peak = 0.0
        self._stop = threading.Event()
        self._proc: Any = None
        try:
            import psutil

            self._proc = psutil.Process(km.provisioner.process.pid) if km is not None else None
        except Exception:  # no process to watch
            self._proc = None
        self._thread = None
        if self._proc is not None:
            self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
            self._thread.start()

    def _run(self, interval: float) -> None:
        proc = self._proc
        while proc is not None and not self._stop.is_set():
            try:
                self.peak = max(self.peak, proc.memory_info().rss / 2**30)
            except Exception:  # the kernel exited
                return
            self._stop.wait(interval)

    def stop(self) -> float:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return round(self.peak, 2)


def _kernel_cpu(km: Any) -> float:
    """CPU seconds (user + system, its threads and children) of ``km``'s kernel so far."""
    if km is None:
        return 0.0
    try:
        import psutil

        t = psutil.Process(km.provisioner.process.pid).cpu_times()
        return float(t.user + t.system + t.children_user + t.children_system)
    except Exception:  # no process to ask (it exited): nothing to add
        return 0.0


def execute_notebooks(
    work_dir: Path,
    parameters: dict[str, Any],
    notebooks: tuple[str, ...] = MONTHLY_NOTEBOOKS,
    notebook_dir: Path = NOTEBOOK_DIR,
    progress: bool = True,
) -> dict[str, float]:
    """Run each notebook with papermill into ``work_dir/notebooks``, one after the other;
    returns seconds per step.

    Every notebook receives the same ``parameters`` (over ``MONTHLY_DEFAULTS``); a failure
    raises :class:`StepFailed` naming the step (the executed notebook with the traceback is
    kept for audit).
    """
    parameters = {**MONTHLY_DEFAULTS, **parameters}
    out_dir = work_dir / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    bar = tqdm(notebooks, desc="monthly run", unit="step", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
        timings[name] = _execute_one(name, out_dir, parameters, notebook_dir)
    return timings


def _downstream(deps: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """How many notebooks wait (directly or not) on each: the scheduler starts the ready
    notebook with the most first, so the longest chain (features, models, segments,
    campaigns, report) never waits for a side step (data quality, leads)."""
    users: dict[str, set[str]] = {n: set() for n in deps}
    for n, ds in deps.items():
        for d in ds:
            users.setdefault(d, set()).add(n)

    def below(n: str, seen: set[str]) -> set[str]:
        for u in users.get(n, ()):
            if u not in seen:
                seen.add(u)
                below(u, seen)
        return seen

    return {n: len(below(n, set())) for n in deps}


def _next(
    pending: list[str],
    deps: dict[str, tuple[str, ...]],
    done: set[str],
    running: set[str],
    rank: dict[str, int],
    order: dict[str, int],
    memory: dict[str, float] | None = None,
    budget_gb: float | None = None,
) -> str | None:
    """The notebook to start now, or None: the ready one first in (most downstream, graph
    order), unless notebooks before it in that order only wait for running ones, more of them
    than the running ones they wait for: the core is then kept for them, so a side step
    (leads) never delays the main chain.

    With ``memory`` (each notebook's estimated kernel peak, GB) and ``budget_gb``, a notebook
    starts beside running ones only while their estimates together stay within the budget; one
    that does not fit is passed over for a ready one that does (a lighter side step)."""
    key = {n: (-rank.get(n, 0), order[n]) for n in pending}
    gb = memory or {}
    held = sum(gb.get(n, 0.0) for n in running)
    waiting: str | None = None  # a notebook about to be ready that will run alone
    soon: list[str] = []  # notebooks about to be ready (ahead in the order) ...
    awaited: set[str] = set()  # ... and the running ones they wait for
    for name in sorted(pending, key=key.__getitem__):
        unmet = [d for d in deps.get(name, ()) if d not in done]
        if not unmet:
            fits = budget_gb is None or held + gb.get(name, 0.0) <= budget_gb
            if running and memory is not None and not fits:
                continue  # would pass the memory budget beside what runs: not now
            if (
                waiting is not None
                and budget_gb is not None
                and gb.get(name, 0.0) + gb.get(waiting, 0.0) > budget_gb
            ):
                continue  # it would hold up the notebook about to be ready
            return name
        if all(d in running for d in unmet):
            # about to be ready: keep the core for it, unless the memory lets it run only
            # alone once its inputs are done (nothing else running then could stay beside
            # it): then a light ready notebook that fits beside it may use the core now
            others = [n for n in running if n not in unmet]
            beside = held + gb.get(name, 0.0) - sum(gb.get(d, 0.0) for d in unmet)
            bounded = memory is not None and budget_gb is not None
            if budget_gb is not None and bounded and others and beside > budget_gb:
                return None
            if (
                budget_gb is not None
                and bounded
                and not others
                and all(
                    sum(gb.get(x, 0.0) for x in (name, d)) > budget_gb for d in deps.get(name, ())
                )
            ):
                waiting = waiting or name
                continue
            # the core is needed only if more notebooks are about to be ready than the
            # running ones they wait for will free (churn and value both wait for the
            # features); one waiting for one (the campaigns for the uplift fit) gets the core
            # its input frees, so a side step may use this one meanwhile
            soon.append(name)
            awaited.update(unmet)
            if len(soon) > len(awaited):
                return None
            waiting = waiting or name  # what starts now must fit beside it, memory-wise
    return None


def execute_graph(
    work_dir: Path,
    parameters: dict[str, Any],
    parallel: int = 1,
    notebooks: tuple[str, ...] = MONTHLY_NOTEBOOKS,
    notebook_dir: Path = NOTEBOOK_DIR,
    before: Callable[[str], None] | None = None,
    progress: bool = True,
    warm_kernels: int = 0,
    kernels: KernelPool | None = None,
    memory: dict[str, float] | None = None,
    budget_gb: float | None = None,
) -> dict[str, float]:
    """Run ``notebooks`` as ``execute_notebooks`` does, up to ``parallel`` at once: a notebook
    starts when every notebook it reads from (``cvm.graph.notebook_dependencies``) is done
    and, given ``memory`` (each notebook's estimated kernel peak, GB) and ``budget_gb``, when
    its estimate and the running notebooks' together stay within the budget.

    Each notebook runs in its own kernel and reads only its declared inputs, so the outputs are
    the ones of the sequential run; what changes is that a kernel's start-up and a side step
    (data quality, leads) use the second core while the main chain runs. ``before(name)`` is
    called just before a notebook starts. On a failure no new notebook starts, the running
    ones finish, and the first failure is raised. Returns each notebook's wall seconds (with
    ``parallel`` > 1 they overlap). ``warm_kernels``: kernels kept started and warmed up
    ahead of the notebooks (:class:`KernelPool`), or the caller's ``kernels`` (which the
    caller closes)."""
    parameters = {**MONTHLY_DEFAULTS, **parameters}
    out_dir = work_dir / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    own = kernels is None and warm_kernels > 0
    if own:
        kernels = KernelPool(warm_kernels, len(notebooks))
    try:
        if parallel <= 1:
            timings: dict[str, float] = {}
            for name in tqdm(notebooks, desc="monthly run", unit="step", disable=not progress):
                if before is not None:
                    before(name)
                timings[name] = _execute_one(name, out_dir, parameters, notebook_dir, kernels)
            return timings
        return _execute_parallel(
            out_dir,
            parameters,
            parallel,
            notebooks,
            notebook_dir,
            before,
            progress,
            kernels,
            memory,
            budget_gb,
        )
    finally:
        if own and kernels is not None:
            kernels.close()


def _execute_parallel(
    out_dir: Path,
    parameters: dict[str, Any],
    parallel: int,
    notebooks: tuple[str, ...],
    notebook_dir: Path,
    before: Callable[[str], None] | None,
    progress: bool,
    kernels: KernelPool | None,
    memory: dict[str, float] | None = None,
    budget_gb: float | None = None,
) -> dict[str, float]:
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    deps = {
        n: tuple(d for d in ds if d in notebooks)
        for n, ds in graph.notebook_dependencies().items()
        if n in notebooks
    }
    order = {n: i for i, n in enumerate(notebooks)}
    rank = _downstream(deps)
    pending = list(notebooks)
    done: set[str] = set()
    timings: dict[str, float] = {}
    running: dict[Future[float], str] = {}
    failure: BaseException | None = None
    bar = tqdm(total=len(notebooks), desc="monthly run", unit="step", disable=not progress)
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="notebook") as pool:
        while pending or running:
            while failure is None and len(running) < parallel:
                name = _next(
                    pending, deps, done, set(running.values()), rank, order, memory, budget_gb
                )
                if name is None:
                    break
                pending.remove(name)
                if before is not None:
                    before(name)
                running[
                    pool.submit(_execute_one, name, out_dir, parameters, notebook_dir, kernels)
                ] = name
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in sorted(finished, key=lambda f: order[running[f]]):
                name = running.pop(fut)
                try:
                    timings[name] = fut.result()
                    done.add(name)
                    bar.update(1)
                    bar.set_postfix_str(name)
                except BaseException as err:  # the first failure wins; the others finish
                    failure = failure or err
    bar.close()
    if failure is not None:
        raise failure
    return {n: timings[n] for n in notebooks if n in timings}
