"""The notebook runner: which notebooks may run at once, in what order, and what a failure does
(real notebooks executed by papermill in real kernels)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cvm import graph
from cvm.runner import MONTHLY_NOTEBOOKS, StepFailed, _downstream, _next, execute_graph


def test_a_notebook_depends_on_the_notebooks_that_write_its_inputs():
    deps = graph.notebook_dependencies()
    assert set(deps) == set(MONTHLY_NOTEBOOKS)
    for step in graph.STEPS:
        if not step.notebook:
            continue
        for a in step.inputs:
            writer = graph.producer(a)
            if writer.notebook and writer.notebook != step.notebook:
                assert writer.notebook in deps[step.notebook], (step.name, a)
    # the side steps and the two models do not wait for each other
    assert deps["06b_leads.ipynb"] == ()
    assert "03_churn_model.ipynb" not in deps["04_value_model.ipynb"]
    assert set(deps["07_report.ipynb"]) == set(MONTHLY_NOTEBOOKS) - {"07_report.ipynb"}


def _schedule(
    durations: dict[str, float],
    parallel: int,
    memory: dict[str, float] | None = None,
    budget: float | None = None,
) -> tuple[list[tuple[float, str]], float]:
    """The runner's choices replayed on a clock with given notebook durations."""
    deps = graph.notebook_dependencies()
    rank, order = _downstream(deps), {n: i for i, n in enumerate(MONTHLY_NOTEBOOKS)}
    t, pending, done, running, starts = 0.0, list(MONTHLY_NOTEBOOKS), set(), {}, []
    while pending or running:
        while len(running) < parallel:
            n = _next(pending, deps, done, set(running), rank, order, memory, budget)
            if n is None:
                break
            pending.remove(n)
            running[n] = t + durations[n]
            starts.append((t, n))
        assert running, "deadlock"
        n = min(running, key=running.get)
        t = running.pop(n)
        done.add(n)
    return starts, t


def test_every_notebook_starts_after_what_it_reads_and_side_steps_wait_for_the_main_chain():
    # seconds of the demo run's notebooks (docs/benchmarks/monthly.md)
    # (the uplift model's fit, 25 s, was part of the campaigns notebook's 40 s until session 8)
    secs = dict(zip(MONTHLY_NOTEBOOKS, (4, 5, 25, 17, 17, 6, 15, 15, 14), strict=True))
    starts, end = _schedule(secs, parallel=2)
    at = {n: t for t, n in starts}
    deps = graph.notebook_dependencies()
    for n, ds in deps.items():
        for d in ds:
            assert at[n] >= at[d] + secs[d]
    # churn and value together, right after the features; leads never holds them up
    assert at["03_churn_model.ipynb"] == at["04_value_model.ipynb"] == 5
    assert at["06b_leads.ipynb"] >= at["05_segments.ipynb"]
    # the uplift fit needs only the tables: it runs beside segments, off the scores' chain
    assert at["06a_uplift.ipynb"] <= at["05_segments.ipynb"]
    # the campaigns wait for the uplift fit alone, which frees its core when it ends: the
    # side steps use the other core meanwhile instead of keeping it idle
    assert at["06b_leads.ipynb"] < at["06a_uplift.ipynb"] + secs["06a_uplift.ipynb"]
    assert end == 5 + 17 + 25 + 15 + 14  # the main chain alone sets the end
    assert end < 5 + 17 + 6 + 40 + 14  # the chain with the fit inside the campaigns
    assert _schedule(secs, parallel=1)[1] == sum(secs.values())


def test_notebooks_side_by_side_only_while_their_memory_estimates_fit_the_budget():
    secs = dict(zip(MONTHLY_NOTEBOOKS, (1, 37, 70, 50, 76, 47, 91, 28, 33), strict=True))
    # estimated kernel peaks (GB) of a large run: the two models together pass the budget,
    # leads fits beside any main-chain notebook but the uplift fit
    gb = dict(zip(MONTHLY_NOTEBOOKS, (0.8, 3.0, 3.4, 2.2, 2.6, 2.0, 2.8, 1.2, 1.8), strict=True))
    starts, end = _schedule(secs, parallel=2, memory=gb, budget=3.6)
    at = {n: t for t, n in starts}
    span = {n: (at[n], at[n] + secs[n]) for n in at}
    for a in MONTHLY_NOTEBOOKS:  # what overlaps in time fits the budget together
        for b in MONTHLY_NOTEBOOKS:
            if a < b and span[a][0] < span[b][1] and span[b][0] < span[a][1]:
                assert gb[a] + gb[b] <= 3.6, (a, b)
    # churn and value one after the other; leads beside one of them, off the main chain
    churn, value = "03_churn_model.ipynb", "04_value_model.ipynb"
    assert at[value] >= at[churn] + secs[churn] or at[churn] >= at[value] + secs[value]
    leads = span["06b_leads.ipynb"]
    assert leads[1] <= at["06_campaigns.ipynb"]
    # memory-bound, the main chain runs one at a time: the side step takes the second core
    # beside a model instead of waiting for the campaigns to end
    assert at["06b_leads.ipynb"] < at["05_segments.ipynb"]
    assert end <= sum(secs.values()) - secs["06b_leads.ipynb"]
    assert end < sum(secs.values())
    # without a memory figure every notebook is as light as can be: the two models together
    assert _schedule(secs, parallel=2)[0] != starts


def test_kernel_estimates_interpolate_the_measured_points_and_extend_the_last_slope():
    from cvm.pipeline import kernel_estimates

    pts = {"02_features": [[200000, 1.5], [20000, 0.6]], "x.ipynb": [[1000, 1.0]]}
    assert kernel_estimates(pts, 110000) == {"02_features.ipynb": 1.05, "x.ipynb": 1.0}
    assert kernel_estimates(pts, 10000)["02_features.ipynb"] == 0.6  # below: the first point
    assert kernel_estimates(pts, 1_000_000)["02_features.ipynb"] == pytest.approx(5.5)


def _notebook(path: Path, *cells: str) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))


@pytest.mark.slow
def test_two_notebooks_run_at_once_and_a_failure_stops_what_had_not_started(
    tmp_path: Path, monkeypatch
):
    """Real kernels: two independent notebooks overlap in time; after a failure the notebook
    waiting on a failed one never starts, and the failure is raised."""
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    stamp = "import json, time, pathlib; t0 = time.time(); time.sleep({s})\n" + (
        "pathlib.Path({f!r}).write_text(json.dumps([t0, time.time()]))"
    )
    _notebook(nbs / "a.ipynb", stamp.format(s=3, f=str(tmp_path / "a.json")))
    _notebook(nbs / "b.ipynb", stamp.format(s=3, f=str(tmp_path / "b.json")))
    _notebook(nbs / "c.ipynb", "raise ValueError('boom')")
    _notebook(nbs / "d.ipynb", f"import pathlib; pathlib.Path({str(tmp_path / 'd')!r}).touch()")
    monkeypatch.setattr(
        graph, "notebook_dependencies", lambda: {"a.ipynb": (), "b.ipynb": (), "c.ipynb": ()}
    )
    started: list[str] = []
    timings = execute_graph(
        tmp_path / "w1",
        {},
        parallel=2,
        notebooks=("a.ipynb", "b.ipynb"),
        notebook_dir=nbs,
        before=started.append,
        progress=False,
    )
    assert list(timings) == ["a.ipynb", "b.ipynb"] and started == ["a.ipynb", "b.ipynb"]
    a, b = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "ab")
    assert a[0] < b[1] and b[0] < a[1]  # their sleeps overlapped
    monkeypatch.setattr(
        graph,
        "notebook_dependencies",
        lambda: {"c.ipynb": (), "d.ipynb": ("c.ipynb",)},
    )
    with pytest.raises(StepFailed, match=r"c.ipynb failed.*ValueError.*boom"):
        execute_graph(
            tmp_path / "w2",
            {},
            parallel=2,
            notebooks=("c.ipynb", "d.ipynb"),
            notebook_dir=nbs,
            progress=False,
        )
    assert not (tmp_path / "d").exists()
    assert not (tmp_path / "w2" / "notebooks" / "d.ipynb").exists()
