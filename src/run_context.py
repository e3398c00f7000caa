"""The state one monthly run shares between its notebooks: parameters, tables, artifacts.

A notebook opened by an analyst without a ``run_dir`` works in a *scratch run*: a new folder
``reports/scratch/<YYYY-MM>-<YYYYmmdd-HHMMSS>/`` that starts as a copy of the published
month's artifacts (when that month is published), so any notebook runs alone and nothing it
writes reaches a published month. A published run folder (one holding ``manifest.json``, the
last file ``cvm monthly`` writes before publishing) is never opened for writing, and
``reports/YYYY-MM`` folders are made only by ``cvm monthly``.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from cvm.config import CvmError, in_home, load_config
from cvm.fileio import dumps, write_atomic
from cvm.settings import RunSettings, typed

log = logging.getLogger(__name__)

SCRATCH = "scratch"
"""Folder under the reports root that holds scratch runs."""
MANIFEST = "manifest.json"
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_SEED_FROM_PUBLISHED = ("artifacts", "scores.parquet")
"""What a scratch run copies from its published month: the step artifacts and the scores."""


@dataclass
class RunContext:
    """Parameters of a run and access to its input tables and saved artifacts.

    Notebooks of the monthly run each open the same context from their parameters cell;
    they exchange results through files in ``run_dir/artifacts`` so any notebook can be
    re-executed alone by an analyst.
    """

    data: str
    as_of: pd.Timestamp
    run_dir: Path
    horizon_months: int
    budget: float
    lang: str
    seed: int
    cfg: dict[str, Any] = field(default_factory=dict)
    _tables: dict[str, pd.DataFrame] | None = field(default=None, repr=False)

    research: bool = False
    scratch: bool = False  # run_dir is a scratch run this context created
    memo: dict[str, Any] = field(default_factory=dict, repr=False)
    """In-kernel results a later cell reuses (e.g. the churn training frames for a challenger)."""

    @classmethod
    def open(
        cls,
        data: str,
        as_of: str | date,
        run_dir: str | Path | None = None,
        horizon_months: int | None = None,
        budget: float | None = None,
        lang: str = "zh",
        seed: int | None = None,
        profile: str = "default",
        reports: str | Path = "reports",
        research: bool = False,
    ) -> RunContext:
        """The context of a run. ``run_dir`` empty or None: a new scratch run under
        ``reports/scratch/`` (see the module docstring); a published run folder is refused."""
        cfg = load_config(
            "default",
            {"horizon_months": horizon_months, "budget": budget, "lang": lang, "seed": seed},
            profile=profile,
        )
        as_of_ts = pd.Timestamp(as_of).normalize()
        root = _absolute(reports)
        if run_dir in (None, ""):
            run = scratch_run(root, as_of_ts.strftime("%Y-%m"))
        else:
            run = _absolute(run_dir)
            check_writable(run)
        src = str(data)
        if "://" not in src and not Path(src).is_absolute():
            src = str(in_home(src))
        ctx = cls(
            data=src,
            as_of=as_of_ts,
            run_dir=run,
            horizon_months=int(cfg["horizon_months"]),
            budget=float(cfg["budget"]),
            lang=cfg["lang"],
            seed=int(cfg["seed"]),
            cfg=cfg,
            research=bool(research),
            scratch=run_dir in (None, ""),
        )
        ctx.artifacts.mkdir(parents=True, exist_ok=True)
        from cvm.engine import activate, limit_blas_threads

        limit_blas_threads(ctx.settings.engine.blas_threads)
        activate(ctx.run_dir)  # --engine dask: large training frames train on the cluster
        return ctx

    def discard_scratch(self) -> None:
        """Remove the scratch run this context created (a notebook's parameters failed their
        check before any work: nothing is left behind). A no-op for any other run folder."""
        if self.scratch and SCRATCH in self.run_dir.parts and self.run_dir.exists():
            shutil.rmtree(self.run_dir)
            log.info("removed the unused scratch run %s", self.run_dir)

    # --- inputs -------------------------------------------------------------------------
    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The validated input tables (loaded once per notebook kernel).

        Read from the run's copy (``cvm.data.table_cache``, written by ``cvm monthly`` after
        its one validation) when it matches the source, else loaded and validated.
        """
        if self._tables is None:
            from cvm.data import table_cache

            self._tables = table_cache.read(self.run_dir, self.data)
            if self._tables is None:
                from cvm.data.loaders import load_tables

                self._tables = load_tables(self.data)
        return self._tables

    def cached(self, key: str) -> Any:
        """A figure the run's table copy recorded (``warnings``, ``tables_hash``), or None."""
        from cvm.data import table_cache

        m = table_cache.manifest(self.run_dir, self.data)
        return None if m is None else m.get(key)

    @property
    def prev_as_of(self) -> pd.Timestamp:
        """The same day one month earlier (month end when as_of is a month end)."""
        return month_shift(self.as_of, -1)

    @property
    def settings(self) -> RunSettings:
        """The typed view of ``cfg`` (:mod:`cvm.settings`)."""
        return typed(RunSettings, self.cfg)

    @property
    def month(self) -> str:
        return self.as_of.strftime("%Y-%m")

    # --- artifacts ----------------------------------------------------------------------
    @property
    def artifacts(self) -> Path:
        return self.run_dir / "artifacts"

    def path(self, name: str) -> Path:
        """Where the declared artifact ``name`` (``cvm.graph.ARTIFACTS``) lives in this run."""
        from cvm import graph

        return graph.path(self.run_dir, name)

    def _file(self, name: str, fmt: str) -> Path:
        from cvm import graph

        declared = graph.artifact(name)  # an undeclared name is a KeyError naming the registry
        if declared.format != fmt:
            raise TypeError(f"artifact {name!r} is declared as {declared.format}, not {fmt}")
        return graph.path(self.run_dir, name)

    def save_frame(self, name: str, frame: pd.DataFrame) -> Path:
        path = self._file(name, "parquet")
        write_atomic(path, lambda tmp: frame.to_parquet(tmp))
        return path

    def load_frame(self, name: str) -> pd.DataFrame:
        path = self._file(name, "parquet")
        if not path.exists():
            raise CvmError(_missing(name, self.run_dir))
        return pd.read_parquet(path)

    def has(self, name: str) -> bool:
        from cvm import graph

        return graph.path(self.run_dir, name).exists()

    def save_json(self, name: str, obj: Any) -> Path:
        path = self._file(name, "json")
        write_atomic(path, lambda tmp: tmp.write_text(dumps(obj), encoding="utf-8"))
        return path

    def load_json(self, name: str) -> Any:
        path = self._file(name, "json")
        if not path.exists():
            raise CvmError(_missing(name, self.run_dir))
        return json.loads(path.read_text(encoding="utf-8"))


def _missing(name: str, run_dir: Path) -> str:
    return (
        f"artifact {name!r} is not in {run_dir}: run the notebook that makes it first "
        f"(with this run_dir), or publish the month with `cvm monthly` so scratch runs "
        f"start from its artifacts"
    )


def _absolute(path: str | Path) -> Path:
    return in_home(path)


def published_run(path: Path) -> Path | None:
    """The published run folder ``path`` is in (itself or an ancestor holding the manifest)."""
    for p in (path, *path.parents):
        if (p / MANIFEST).is_file():
            return p
    return None


def check_writable(run: Path) -> None:
    """Refuse a published run folder (or one inside it) and new ``YYYY-MM`` folders: months
    are published by ``cvm monthly`` only, and once published they do not change."""
    pub = published_run(run)
    if pub is not None:
        raise CvmError(
            f"{pub} is a published month and cannot be written to; leave run_dir "
            f'empty ("") for a scratch run under reports/{SCRATCH}/, or re-run the '
            f"month with `cvm monthly --force`"
        )
    if _MONTH.match(run.name) and SCRATCH not in run.parts:
        raise CvmError(
            f"run_dir {run} is named like a published month; months are made by "
            f'`cvm monthly` only. Leave run_dir empty ("") for a scratch run under '
            f"reports/{SCRATCH}/"
        )


def scratch_run(reports: Path, month: str, now: datetime | None = None) -> Path:
    """A new scratch run ``reports/scratch/<month>-<YYYYmmdd-HHMMSS>`` seeded with the
    published month's artifacts and scores when ``reports/<month>`` is published."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = reports / SCRATCH / f"{month}-{stamp}"
    run, k = base, 1
    while True:
        try:
            run.mkdir(parents=True)
            break
        except FileExistsError:
            k += 1
            run = base.with_name(f"{base.name}-{k}")
    pub = reports / month
    if (pub / MANIFEST).is_file():
        for name in _SEED_FROM_PUBLISHED:
            src = pub / name
            if src.is_dir():
                shutil.copytree(src, run / name, copy_function=shutil.copyfile)  # writable
            elif src.is_file():
                shutil.copyfile(src, run / name)
        (run / "SEEDED_FROM").write_text(str(pub) + "\n", encoding="utf-8")
        log.info("scratch run %s, starting from the published %s", run, pub)
    else:
        log.info("scratch run %s (no published %s to start from)", run, pub)
    return run


def month_shift(ts: pd.Timestamp, months: int) -> pd.Timestamp:
    """``ts`` moved by whole months; month ends stay month ends."""
    ts = pd.Timestamp(ts)
    if ts.is_month_end:
        return (ts + pd.offsets.MonthEnd(months)) if months else ts
    return ts + pd.DateOffset(months=months)
