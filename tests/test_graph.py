"""The declared step graph (cvm.graph): sound, the one list everything reads, and current docs."""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from pathlib import Path

import pytest

from cvm import graph

ROOT = Path(__file__).resolve().parents[1]


def test_the_graph_is_sound():
    assert graph.problems() == []


def test_a_read_before_any_write_and_a_second_writer_are_caught(monkeypatch):
    steps = list(graph.STEPS)
    i = next(k for k, s in enumerate(steps) if s.name == "features")
    j = next(k for k, s in enumerate(steps) if s.name == "segments")
    # features reads the campaign plan (written later); segments writes features again
    steps[i] = replace(steps[i], inputs=(*steps[i].inputs, "campaign_plan"))
    steps[j] = replace(steps[j], outputs=(*steps[j].outputs, "features"))
    monkeypatch.setattr(graph, "STEPS", tuple(steps))
    bad = graph.problems()
    assert any(
        "features reads 'campaign_plan'" in p and "written later by ['campaigns']" in p for p in bad
    ), bad
    assert any("'features' is written by both features and segments" in p for p in bad), bad


def test_every_step_function_resolves_and_its_notebook_calls_it():
    for s in graph.STEPS:
        fn = s.resolve()
        assert callable(fn), s.function
        if s.notebook:
            assert (ROOT / "notebooks" / s.notebook).is_file(), s.notebook
            source = (ROOT / "notebooks" / s.notebook).with_suffix(".py").read_text("utf-8")
            assert re.search(rf"\b{fn.__name__}\(ctx\)", source), (s.notebook, fn.__name__)


def test_the_runner_the_manifest_and_the_benchmark_read_the_graph():
    import sys

    from cvm.runner import MONTHLY_NOTEBOOKS

    assert graph.notebooks() == MONTHLY_NOTEBOOKS
    assert sorted(MONTHLY_NOTEBOOKS) == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_monthly
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    assert len(bench_monthly.STEPS) == len(graph.notebooks())
    for code in bench_monthly.STEP_CODE.values():
        name = re.search(r"graph\.step\('(\w+)'\)", code).group(1)
        assert graph.step(name).notebook


def test_the_campaigns_step_reads_an_artifact_not_the_published_scores():
    camp = graph.step("campaigns")
    assert "customer_scores" in camp.inputs and "scores" not in camp.inputs
    assert not graph.artifact("customer_scores").published and graph.artifact("scores").published
    src = (ROOT / "src" / "steps.py").read_text("utf-8")
    body = src[src.index("def campaigns(ctx") :]
    assert "scores.parquet" not in body and 'load_frame("customer_scores")' in body


_CALLS = {"save_frame", "load_frame", "save_json", "load_json", "has", "path"}


def _artifact_literals(path: Path) -> set[str]:
    """Artifact names passed as literals (or f-string prefixes) to ctx.save_/load_/has/path."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _CALLS
            and node.args
        ):
            arg = node.args[0] if node.func.attr != "path" or len(node.args) == 1 else node.args[1]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out.add(arg.value)
    return out


def test_every_artifact_named_in_code_is_declared():
    files = [*(ROOT / "src").rglob("*.py"), *(ROOT / "notebooks").glob("*.py")]
    named = {n: f for f in files for n in _artifact_literals(f)}
    # graph.path(run, "x") and ctx.path("x") both count; plain Path.has/.path calls do not occur
    unknown = {n: str(f.relative_to(ROOT)) for n, f in named.items() if n not in graph.ARTIFACTS}
    assert not unknown, unknown
    assert {"features", "customer_scores", "scores", "campaign_plan"} <= set(named)


def test_run_context_refuses_an_undeclared_artifact(tmp_path):
    import pandas as pd

    from cvm.run_context import RunContext

    ctx = RunContext.open(data=str(tmp_path), as_of="2026-01-31", run_dir=tmp_path / "run")
    with pytest.raises(KeyError, match="not declared in cvm.graph.ARTIFACTS"):
        ctx.save_frame("my_scratch_table", pd.DataFrame({"x": [1]}))
    with pytest.raises(TypeError, match="declared as parquet"):
        ctx.save_json("features", {})
    ctx.save_json("kpis", {"n": float("nan")})
    assert ctx.load_json("kpis") == {"n": None}  # the one JSON rule: NaN is null
    assert not list(ctx.artifacts.glob("*.tmp"))


def test_the_architecture_page_shows_the_current_graph():
    doc = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    assert graph.render_into(doc) == doc, "run `python -m cvm.graph --write`"
    for s in graph.STEPS:
        assert f"**{s.name}**" in doc
