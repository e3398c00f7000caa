"""The layers run one way (pyproject.toml [tool.importlinter]); `make lint` runs the same check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_imports_follow_the_layer_contract():
    exe = Path(sys.executable).with_name("lint-imports")
    assert exe.exists(), "import-linter is missing: pip install -e '.[dev]'"
    res = subprocess.run(
        [str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "1 kept, 0 broken" in res.stdout
