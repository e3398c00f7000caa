"""Repairs at the next start: what killed runs leave beside the published months."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cvm.config import CvmError
from cvm.publishing import publish, recover, work_dir_for


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _folder(path: Path, *files: str) -> Path:
    path.mkdir(parents=True)
    for f in files:
        (path / f).parent.mkdir(parents=True, exist_ok=True)
        (path / f).write_text(f)
    return path


def test_an_interrupted_force_with_an_incomplete_new_run_restores_the_month(tmp_path):
    pid = _dead_pid()
    _folder(tmp_path / f".2026-09.old-{pid}", "report.html", "marker.txt")
    _folder(tmp_path / f".2026-09.tmp-{pid}", ".tables/customers.parquet")
    actions = recover(tmp_path)
    assert (tmp_path / "2026-09" / "marker.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-09"]
    assert any("restored" in a for a in actions) and any("removed" in a for a in actions)


def test_an_interrupted_force_with_a_complete_new_run_is_completed(tmp_path):
    pid = _dead_pid()
    _folder(tmp_path / f".2026-09.old-{pid}", "marker.txt")
    _folder(tmp_path / f".2026-09.tmp-{pid}", "report.html", "manifest.json")
    recover(tmp_path)
    assert (tmp_path / "2026-09" / "manifest.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-09"]


def test_a_crash_after_both_renames_only_removes_the_old_month(tmp_path):
    pid = _dead_pid()
    _folder(tmp_path / "2026-09", "manifest.json")
    _folder(tmp_path / f".2026-09.old-{pid}", "marker.txt")
    recover(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-09"]


def test_folders_of_a_running_process_are_left_alone_and_listed(tmp_path):
    live = _folder(tmp_path / f".2026-09.tmp-{os.getppid()}", "x")
    actions = recover(tmp_path)
    assert live.exists() and "still running" in actions[0] and f"rm -rf '{live}'" in actions[0]
    _folder(tmp_path / "2026-08.failed-not-ours")
    assert len(recover(tmp_path)) == 1  # other names are not touched


def test_publish_refuses_a_published_month_without_force(tmp_path):
    final = tmp_path / "2026-09"
    work = work_dir_for(final)
    (work / "a.txt").write_text("1")
    publish(work, final, force=False)
    again = work_dir_for(final)
    (again / "a.txt").write_text("2")
    with pytest.raises(CvmError, match="--force"):
        publish(again, final, force=False)
    publish(again, final, force=True)
    assert (final / "a.txt").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-09"]
