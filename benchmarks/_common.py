"""Shared helpers for benchmark scripts.

Each script measures one thing and writes its own fragment ``docs/benchmarks/<name>.md``
(machine, command, figures); ``benchmarks/run_all.py`` runs them all and assembles
``docs/benchmarks.md`` from the fragments.
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
FRAGMENTS = ROOT / "docs" / "benchmarks"


def machine() -> str:
    """One line describing the machine the figures were measured on."""
    mem = psutil.virtual_memory().total / 2**30
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{mem:.0f} GiB RAM, Python {platform.python_version()}, {platform.system()}"
    )


@dataclass
class Measure:
    seconds: float = 0.0
    peak_rss_gb: float = 0.0


@contextmanager
def measure():
    """Wall time and peak resident memory (this process and its children) of a block."""
    m = Measure()
    proc = psutil.Process()
    peak = [proc.memory_info().rss]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                rss = proc.memory_info().rss + sum(
                    c.memory_info().rss for c in proc.children(recursive=True)
                )
            except psutil.Error:
                rss = 0
            peak[0] = max(peak[0], rss)
            stop.wait(0.2)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    start = time.perf_counter()
    try:
        yield m
    finally:
        m.seconds = time.perf_counter() - start
        stop.set()
        t.join()
        m.peak_rss_gb = peak[0] / 2**30


def peak_rss_gb_self() -> float:
    """Peak RSS of this process so far (ru_maxrss), in GiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def write_fragment(name: str, title: str, command: str, body: str) -> Path:
    """Write ``docs/benchmarks/<name>.md`` with the machine, the command and the figures."""
    FRAGMENTS.mkdir(parents=True, exist_ok=True)
    path = FRAGMENTS / f"{name}.md"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"## {title}\n\n- Machine: {machine()}\n- Command: `{command}`\n"
        f"- Measured: {stamp}\n\n{body.strip()}\n"
    )
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def md_table(rows: list[dict]) -> str:
    """A markdown table from a list of dicts (keys of the first row are the columns)."""
    if not rows:
        return "_no rows_\n"
    cols = list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |")
    return "\n".join(out) + "\n"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 100 else f"{v:,.0f}"
    return "" if v is None else str(v)


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return (
        subprocess.run(
            cmd,
            check=True,
            text=True,
            capture_output=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            executable=None,
        )
        if cmd
        else subprocess.CompletedProcess([], 0)
    )


PY = sys.executable
