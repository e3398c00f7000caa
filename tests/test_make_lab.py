"""`make lab`: JupyterLab on notebooks/ with a `cvm` kernel, headless, printing its URL."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("lab")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_serves_the_notebooks_with_the_cvm_kernel(tmp_path: Path):
    port = _free_port()
    log = tmp_path / "lab.log"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            ["make", "lab", f"LAB_PORT={port}"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        url = None
        for _ in range(120):
            m = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=(\w+)", log.read_text())
            if m:
                url = m
                break
            assert proc.poll() is None, log.read_text()
            time.sleep(0.5)
        assert url, log.read_text()
        token = url.group(1)
        base = f"http://127.0.0.1:{port}/api"
        # on a loaded machine the server may print its URL a moment before it accepts
        specs = None
        for _ in range(60):
            try:
                specs = json.load(
                    urllib.request.urlopen(f"{base}/kernelspecs?token={token}", timeout=30)
                )
                break
            except urllib.error.URLError:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.5)
        assert specs is not None, log.read_text()
        assert "cvm" in specs["kernelspecs"]
        contents = json.load(urllib.request.urlopen(f"{base}/contents?token={token}", timeout=30))
        names = {c["name"] for c in contents["content"]}
        assert {"03_churn_model.ipynb", "03_churn_model.py"} <= names  # rooted at notebooks/
        assert "--no-browser" in log.read_text()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
