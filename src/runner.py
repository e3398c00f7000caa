"""Execute the monthly notebooks (``cvm.graph.STEPS``) with papermill into a run folder."""

from __future__ import annotations

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


def _execute_one(name: str, out_dir: Path, parameters: dict[str, Any], notebook_dir: Path) -> float:
    """Run notebook ``name`` with papermill into ``out_dir``; its wall seconds."""
    import papermill as pm

    src = notebook_dir / name
    if not src.exists():
        raise StepFailed(
            f"notebook {src} is missing; reinstall cvm or restore notebooks/ from the repository"
        )
    start = time.perf_counter()
    log.info("step %s: start", name)
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
        )
    except pm.PapermillExecutionError as err:
        raise StepFailed(
            f"step {name} failed at cell {err.exec_count}: {err.ename}: {err.evalue} "
            f"(the executed notebook with the traceback is kept with the failed run)"
        ) from None
    seconds = round(time.perf_counter() - start, 2)
    log.info("step %s: done in %.1f s", name, seconds)
    return seconds


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
) -> str | None:
    """The notebook to start now, or None: the ready one first in (most downstream, graph
    order), unless a notebook before it in that order only waits for running ones: the core
    is then kept for it, so a side step (leads) never delays the main chain."""
    key = {n: (-rank.get(n, 0), order[n]) for n in pending}
    for name in sorted(pending, key=key.__getitem__):
        unmet = [d for d in deps.get(name, ()) if d not in done]
        if not unmet:
            return name
        if all(d in running for d in unmet):
            return None  # about to be ready: keep the core for it
    return None


def execute_graph(
    work_dir: Path,
    parameters: dict[str, Any],
    parallel: int = 1,
    notebooks: tuple[str, ...] = MONTHLY_NOTEBOOKS,
    notebook_dir: Path = NOTEBOOK_DIR,
    before: Callable[[str], None] | None = None,
    progress: bool = True,
) -> dict[str, float]:
    """Run ``notebooks`` as ``execute_notebooks`` does, up to ``parallel`` at once: a notebook
    starts when every notebook it reads from (``cvm.graph.notebook_dependencies``) is done.

    Each notebook runs in its own kernel and reads only its declared inputs, so the outputs are
    the ones of the sequential run; what changes is that a kernel's start-up and a side step
    (data quality, leads) use the second core while the main chain runs. ``before(name)`` is
    called just before a notebook starts. On a failure no new notebook starts, the running
    ones finish, and the first failure is raised. Returns each notebook's wall seconds (with
    ``parallel`` > 1 they overlap)."""
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    if parallel <= 1:
        timings: dict[str, float] = {}
        for name in tqdm(notebooks, desc="monthly run", unit="step", disable=not progress):
            if before is not None:
                before(name)
            timings.update(execute_notebooks(work_dir, parameters, (name,), notebook_dir, False))
        return timings
    parameters = {**MONTHLY_DEFAULTS, **parameters}
    out_dir = work_dir / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    deps = {
        n: tuple(d for d in ds if d in notebooks)
        for n, ds in graph.notebook_dependencies().items()
        if n in notebooks
    }
    order = {n: i for i, n in enumerate(notebooks)}
    rank = _downstream(deps)
    pending = list(notebooks)
    done: set[str] = set()
    timings = {}
    running: dict[Future[float], str] = {}
    failure: BaseException | None = None
    bar = tqdm(total=len(notebooks), desc="monthly run", unit="step", disable=not progress)
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="notebook") as pool:
        while pending or running:
            while failure is None and len(running) < parallel:
                name = _next(pending, deps, done, set(running.values()), rank, order)
                if name is None:
                    break
                pending.remove(name)
                if before is not None:
                    before(name)
                running[pool.submit(_execute_one, name, out_dir, parameters, notebook_dir)] = name
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
