"""Execute the monthly notebooks (``cvm.graph.STEPS``) with papermill into a run folder."""

from __future__ import annotations

import logging
import time
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


def execute_notebooks(
    work_dir: Path,
    parameters: dict[str, Any],
    notebooks: tuple[str, ...] = MONTHLY_NOTEBOOKS,
    notebook_dir: Path = NOTEBOOK_DIR,
    progress: bool = True,
) -> dict[str, float]:
    """Run each notebook with papermill into ``work_dir/notebooks``; returns seconds per step.

    Every notebook receives the same ``parameters`` (over ``MONTHLY_DEFAULTS``); a failure
    raises :class:`StepFailed` naming the step (the executed notebook with the traceback is
    kept for audit).
    """
    import papermill as pm

    parameters = {**MONTHLY_DEFAULTS, **parameters}
    out_dir = work_dir / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    bar = tqdm(notebooks, desc="monthly run", unit="step", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
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
        timings[name] = round(time.perf_counter() - start, 2)
        log.info("step %s: done in %.1f s", name, timings[name])
    return timings
