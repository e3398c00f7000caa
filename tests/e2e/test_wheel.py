"""`pip install .` (not editable) gives a cvm that works anywhere: the wheel is built from the
checkout, installed into a fresh virtual environment offline, and run from an empty folder.

Offline on a fresh machine: the wheel is built without build isolation (setuptools and wheel
are dev requirements) and installed with ``--no-index --no-deps``; the new environment sees the
project's installed dependencies through a ``.pth`` line naming the .venv's site-packages
(a plain path line: the .venv's editable-install hook is not run, so ``cvm`` is the wheel's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from cvm.config import PROJECT_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wheel")]


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 600) -> str:
    res = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert res.returncode == 0, f"{' '.join(cmd)}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """(bin folder of a fresh venv holding the cvm wheel, environment to run it with)."""
    tmp = tmp_path_factory.mktemp("wheel")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CVM_HOME", "CVM_CONFIG_DIR", "PYTHONPATH", "VIRTUAL_ENV")
    }
    # the borrowed dependencies' data files (nbconvert's templates) stay in the .venv's prefix
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(tmp / "dist"),
            str(PROJECT_ROOT),
        ],
        tmp,
        env,
    )
    (wheel,) = (tmp / "dist").glob("cvm-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "cvm/configs/default.yaml" in names and "cvm/notebooks/07_report.ipynb" in names
    assert not any(n.startswith(("tests/", "data/", "src/")) for n in names)
    venv.create(tmp / "venv", with_pip=False)
    py = tmp / "venv" / "bin" / "python"
    site = _run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp, env
    ).strip()
    Path(site, "cvm-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    _run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], tmp, env)
    return tmp / "venv" / "bin", env


def test_the_installed_wheel_runs_from_an_empty_folder(installed, tmp_path: Path) -> None:
    bindir, env = installed
    home = tmp_path / "store"
    home.mkdir()
    where = _run(
        [
            str(bindir / "python"),
            "-c",
            "import cvm, cvm.config as c; print(cvm.__file__); print(c.CONFIG_DIR)",
        ],
        home,
        env,
    ).split()
    assert all(str(bindir.parent) in w for w in where), where  # the wheel's cvm, its configs
    cvm = str(bindir / "cvm")
    _run([cvm, "simulate", "--customers", "1500", "--years", "3", "--out", "data/demo"], home, env)
    end = json.loads((home / "data/demo/truth/meta.json").read_text(encoding="utf-8"))["end"]
    assert "no problems found" in _run([cvm, "validate", "--data", "data/demo"], home, env)
    out = _run(
        [cvm, "train", "--data", "data/demo", "--as-of", end, "--profile", "demo"], home, env
    )
    assert {Path(line).parts[1] for line in out.split()} == {"churn", "value"}
    assert (home / "models" / "churn").is_dir()
    _run(
        [
            cvm,
            "score",
            "--models",
            "models",
            "--data",
            "data/demo",
            "--as-of",
            end,
            "--out",
            "scores.parquet",
        ],
        home,
        env,
    )
    scores = pd.read_parquet(home / "scores.parquet")
    assert len(scores) > 1000 and scores["predicted_value"].notna().all()
    assert scores["churn_probability"].dropna().between(0, 1).all()  # active customers
    assert sorted(p.name for p in home.iterdir()) == ["data", "models", "scores.parquet"]


def test_a_configs_folder_in_the_home_overlays_the_wheels_defaults(
    installed, tmp_path: Path
) -> None:
    bindir, env = installed
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "default.yaml").write_text("explain:\n  max_row: 7\n", encoding="utf-8")
    res = subprocess.run(
        [
            str(bindir / "cvm"),
            "--home",
            str(tmp_path),
            "train",
            "--data",
            "data/demo",
            "--as-of",
            "2026-09-30",
        ],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 2
    assert "explain.max_row" in res.stderr and str(tmp_path / "configs") in res.stderr
