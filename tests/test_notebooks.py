"""The committed notebooks: jupytext .py sources in step with their paired .ipynb, thin,
literal parameters, no outputs, and clean under ruff."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

from cvm.runner import MONTHLY_NOTEBOOKS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOURCES = sorted((ROOT / "notebooks").glob("*.py"))


def _cells(nb) -> list[tuple[str, str, list[str]]]:
    return [
        (
            c["cell_type"],
            "".join(c["source"]).strip(),
            sorted(c.get("metadata", {}).get("tags", [])),
        )
        for c in nb["cells"]
    ]


def test_every_monthly_notebook_is_committed_with_its_source():
    assert sorted(MONTHLY_NOTEBOOKS) == [p.name for p in NOTEBOOKS]
    assert [p.stem for p in SOURCES] == [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_ipynb_is_in_sync_with_its_py_source(path: Path):
    source = jupytext.read(path)
    paired = path.with_suffix(".ipynb")
    committed = json.loads(paired.read_text(encoding="utf-8"))
    assert _cells(source) == _cells(committed), (
        f"{paired.name} differs from {path.name}: run `make notebooks` and commit both"
    )
    assert source.metadata.get("jupytext", {}).get("formats") == "ipynb,py:percent"
    assert committed["metadata"]["kernelspec"]["name"] == "cvm"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin_and_has_literal_parameters(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), (
        "notebooks are committed without outputs (`make notebooks` strips them)"
    )
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1
    tree = ast.parse("".join(params[0]["source"]))
    for node in tree.body:
        assert isinstance(node, (ast.Assign, ast.AnnAssign)), ast.dump(node)
        ast.literal_eval(node.value)  # literals only (papermill replaces this cell)
    names = {(n.target if isinstance(n, ast.AnnAssign) else n.targets[0]).id for n in tree.body}
    assert {
        "data",
        "as_of",
        "run_dir",
        "reports",
        "horizon_months",
        "budget",
        "lang",
        "seed",
        "profile",
        "research",
    } <= names
    defaults = {
        (n.target if isinstance(n, ast.AnnAssign) else n.targets[0]).id: ast.literal_eval(n.value)
        for n in tree.body
    }
    assert defaults["run_dir"] == "" and defaults["research"] is True  # analysts: sandbox
    # thin: no function or class definitions, no loops beyond the report's one display loop
    for cell in code:
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.While)), path.name


def test_ruff_lints_the_notebook_sources():
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "notebooks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
