"""A published run's files are read-only; --force still replaces the month as a whole."""

from __future__ import annotations

import stat
from pathlib import Path

from cvm.publishing import publish, work_dir_for


def _work(final: Path, text: str) -> Path:
    work = work_dir_for(final)
    (work / "artifacts").mkdir()
    (work / "artifacts" / "a.json").write_text(text)
    (work / "report.html").write_text(text)
    return work


def test_published_files_lose_their_write_bits_and_force_replaces(tmp_path: Path):
    final = tmp_path / "reports" / "2024-06"
    publish(_work(final, "one"), final, force=False)
    for f in (final / "report.html", final / "artifacts" / "a.json"):
        assert not f.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), f
    publish(_work(final, "two"), final, force=True)
    assert (final / "report.html").read_text() == "two"
    assert not list(final.parent.glob(".2024-06*"))
