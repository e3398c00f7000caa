"""The committed notebooks: thin, literal parameters, no outputs, in step with their builder."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cvm.reporting.runner import MONTHLY_NOTEBOOKS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_monthly_notebook_is_committed():
    assert sorted(MONTHLY_NOTEBOOKS) == [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin_and_has_literal_parameters(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), \
        "notebooks are committed without outputs"
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1
    tree = ast.parse("".join(params[0]["source"]))
    for node in tree.body:
        assert isinstance(node, (ast.Assign, ast.AnnAssign)), ast.dump(node)
        ast.literal_eval(node.value)  # literals only (papermill replaces this cell)
    names = {(n.target if isinstance(n, ast.AnnAssign) else n.targets[0]).id for n in tree.body}
    assert {"data", "as_of", "run_dir", "horizon_months", "budget", "lang", "seed"} <= names
    # thin: no function or class definitions, no loops beyond the report's one display loop
    for cell in code:
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.While)), path.name


def test_notebooks_match_their_builder(tmp_path: Path):
    code = ("import sys; sys.path.insert(0, 'scripts'); import build_notebooks as b; "
            f"b.build(__import__('pathlib').Path({str(tmp_path)!r}))")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    for path in NOTEBOOKS:
        assert (tmp_path / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), \
            f"{path.name} differs from scripts/build_notebooks.py: run it and commit"
