"""The state one monthly run shares between its notebooks: parameters, tables, artifacts."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cvm.config import PROJECT_ROOT, load_config

log = logging.getLogger(__name__)


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

    @classmethod
    def open(cls, data: str, as_of: str | date, run_dir: str | Path, horizon_months: int | None = None,
             budget: float | None = None, lang: str = "zh", seed: int | None = None,
             profile: str = "default") -> "RunContext":
        cfg = load_config("default", {"horizon_months": horizon_months, "budget": budget,
                                      "lang": lang, "seed": seed}, profile=profile)
        run = Path(run_dir)
        if not run.is_absolute():
            run = PROJECT_ROOT / run
        src = str(data)
        if "://" not in src and not Path(src).is_absolute():
            src = str(PROJECT_ROOT / src)
        ctx = cls(data=src, as_of=pd.Timestamp(as_of).normalize(), run_dir=run,
                  horizon_months=int(cfg["horizon_months"]), budget=float(cfg["budget"]),
                  lang=cfg["lang"], seed=int(cfg["seed"]), cfg=cfg)
        ctx.artifacts.mkdir(parents=True, exist_ok=True)
        return ctx

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
    def month(self) -> str:
        return self.as_of.strftime("%Y-%m")

    # --- artifacts ----------------------------------------------------------------------
    @property
    def artifacts(self) -> Path:
        return self.run_dir / "artifacts"

    def save_frame(self, name: str, frame: pd.DataFrame) -> Path:
        path = self.artifacts / f"{name}.parquet"
        tmp = path.with_suffix(".parquet.tmp")
        frame.to_parquet(tmp)
        tmp.replace(path)
        return path

    def load_frame(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.artifacts / f"{name}.parquet")

    def has(self, name: str) -> bool:
        return (self.artifacts / f"{name}.parquet").exists() or (
            self.artifacts / f"{name}.json").exists()

    def save_json(self, name: str, obj: Any) -> Path:
        path = self.artifacts / f"{name}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2, default=_jsonable),
                       encoding="utf-8")
        tmp.replace(path)
        return path

    def load_json(self, name: str) -> Any:
        return json.loads((self.artifacts / f"{name}.json").read_text(encoding="utf-8"))


def month_shift(ts: pd.Timestamp, months: int) -> pd.Timestamp:
    """``ts`` moved by whole months; month ends stay month ends."""
    ts = pd.Timestamp(ts)
    if ts.is_month_end:
        return (ts + pd.offsets.MonthEnd(months)) if months else ts
    return ts + pd.DateOffset(months=months)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return None if np.isnan(obj) else float(obj)
    if isinstance(obj, (np.ndarray,)):
        return obj.tolist()
    if isinstance(obj, (pd.Timestamp, date)):
        return obj.isoformat()[:10]
    return str(obj)
