"""Publishing a monthly run into ``reports/YYYY-MM`` so that no crash loses or half-writes a month.

A run is built in ``reports/.YYYY-MM.tmp-<pid>/``. Publishing a new month is one rename;
replacing one (``--force``) is two: the published month to ``.YYYY-MM.old-<pid>``, then the new
run into place. :func:`recover`, called when the next run starts, repairs what a killed run
(SIGKILL, power loss) left: it completes a publishing cut between the two renames when the new
run is complete, or restores the previous month; it removes the temporary folders of dead runs
(they may hold a copy of the input tables). Each repair is logged.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
from pathlib import Path

from cvm.config import CvmError

log = logging.getLogger(__name__)

_LEFTOVER = re.compile(r"^\.(?P<month>\d{4}-\d{2})\.(?P<kind>tmp|old)-(?P<pid>\d+)$")
COMPLETE_MARKER = "manifest.json"
"""Written last before publishing: a temporary run folder holding it is complete."""
KILL_ENV = "CVM_TEST_KILL_AT"
"""Tests only: SIGKILL the process at the named boundary (see :func:`boundary`)."""


def boundary(name: str) -> None:
    """A point where a crash must leave a consistent tree; tests kill the run here."""
    if os.environ.get(KILL_ENV) == name:
        log.warning("test hook: killing the run at %s", name)
        logging.shutdown()
        os.kill(os.getpid(), signal.SIGKILL)


def publish(work_dir: Path, final_dir: Path, force: bool) -> Path:
    """Move a finished run into place; an existing month needs ``force`` (two renames, repaired
    by :func:`recover` if the process dies between them)."""
    if final_dir.exists():
        if not force:
            raise CvmError(f"{final_dir} is already published; pass --force to replace it")
        trash = final_dir.with_name(f".{final_dir.name}.old-{os.getpid()}")
        final_dir.rename(trash)
        boundary("publish")
        work_dir.rename(final_dir)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        work_dir.rename(final_dir)
    _read_only(final_dir)
    return final_dir


def _read_only(run: Path) -> None:
    """Published files lose their write bits (folders keep theirs, so ``--force`` can still
    replace the month as a whole); the notebooks refuse the folder too (``run_context``)."""
    for p in run.rglob("*"):
        if p.is_file() and not p.is_symlink():
            p.chmod(p.stat().st_mode & ~0o222)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(out: Path) -> list[str]:
    """Repair what killed runs left in the reports root ``out``; the actions, as log lines."""
    out = Path(out)
    if not out.is_dir():
        return []
    actions: list[str] = []
    found = sorted(
        (m.group("kind"), m.group("month"), int(m.group("pid")), p)
        for p in out.iterdir()
        if p.is_dir() and (m := _LEFTOVER.match(p.name))
    )
    # "old" before "tmp": completing an interrupted --force needs its temporary folder
    for kind, month, pid, path in found:
        if _alive(pid):
            actions.append(
                f"left {path} alone: process {pid} is still running (if no cvm run is "
                f"in progress, remove it with: rm -rf '{path}')"
            )
            continue
        final = out / month
        tmp = out / f".{month}.tmp-{pid}"
        if not path.exists():
            continue
        if kind == "old":
            if final.exists():
                shutil.rmtree(path, ignore_errors=True)
                actions.append(f"removed {path}, the replaced month a killed run (pid {pid}) left")
            elif (tmp / COMPLETE_MARKER).is_file() and not (tmp / ".tables").exists():
                tmp.rename(final)
                shutil.rmtree(path, ignore_errors=True)
                actions.append(
                    f"completed publishing {final}: run {pid} was killed between "
                    f"its two renames; the month it replaced is removed"
                )
            else:
                path.rename(final)
                actions.append(
                    f"restored {final} from {path.name}: run {pid} was killed while replacing it"
                )
        else:
            shutil.rmtree(path, ignore_errors=True)
            actions.append(
                f"removed {path}, the temporary folder of killed run {pid} (it may "
                f"hold a copy of the input tables)"
            )
    for a in actions:
        log.warning("%s", a)
    return actions


def work_dir_for(final_dir: Path) -> Path:
    """A fresh temporary folder beside ``final_dir`` (same file system, so rename is atomic)."""
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    work = final_dir.with_name(f".{final_dir.name}.tmp-{os.getpid()}")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    return work
