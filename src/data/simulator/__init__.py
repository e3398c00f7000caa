"""A realistic dealer data simulator with ground truth.

``simulate`` writes every contract table to OUT and the ground truth to OUT/truth/;
``generate`` returns the same in memory. See docs/simulator.md for the generating model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from cvm.config import CvmError
from cvm.data.simulator.history import run_history
from cvm.data.simulator.io import check_out, write_dataset
from cvm.data.simulator.oracle import compute_oracle
from cvm.data.simulator.params import load_params
from cvm.data.simulator.regimes import (
    param_overrides,
    parse_regimes,
    regime_settings,
    rewrite_tables,
    years_for,
)
from cvm.data.simulator.tables import build_tables, ids
from cvm.data.simulator.timeline import Timeline, default_end
from cvm.data.simulator.truth import meta, oracle_campaigns, oracle_customers, store_truth
from cvm.data.simulator.world import build_world

__all__ = ["SimResult", "generate", "simulate", "default_end"]
log = logging.getLogger("cvm.simulator")


@dataclass
class SimResult:
    """Contract tables and ground truth of one simulation (pyarrow; ``df`` gives pandas)."""

    tables: dict[str, pa.Table]
    truth: dict[str, pa.Table]
    meta: dict[str, Any] = field(default_factory=dict)

    def df(self, name: str) -> pd.DataFrame:
        """A contract table (or ``truth/<name>``) as a pandas DataFrame."""
        if name.startswith("truth/"):
            return self.truth[name[6:]].to_pandas()
        return self.tables[name].to_pandas()


def _resolve_end(end: date | None, p: dict[str, Any]) -> date:
    if end is not None:
        return end
    ref = p["reference_date"]
    return default_end(ref if isinstance(ref, date) else date.fromisoformat(str(ref)))


def generate(
    n_customers: int,
    seed: int,
    end: date | None = None,
    years: float = 5,
    dealers: int = 1,
    horizon_months: int = 12,
    oracle_paths: int | None = None,
    overrides: dict[str, Any] | None = None,
    progress: bool = False,
    regimes: str | tuple[str, ...] | None = None,
) -> SimResult:
    """Simulate in memory: contract tables up to ``end`` plus the truth tables and meta.

    ``regimes``: names from ``regimes.REGIMES`` (comma-separated or a tuple; default standard)."""
    if n_customers < 1 or dealers < 1:
        raise CvmError("--customers and --dealers must be at least 1")
    reg = parse_regimes(regimes)
    rs = regime_settings()
    years = years_for(reg, years, rs)
    # the regime's overrides are the simulator's own (not a user's settings): merged after
    p = _deep_merge(load_params(overrides), param_overrides(reg, rs))
    tl = Timeline.build(_resolve_end(end, p), years, int(p["burn_in_months"]), horizon_months)
    w = build_world(n_customers, seed, tl, dealers, p)
    h = run_history(w, progress=progress)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 301]))
    tables, truth_visits, truth_leads, truth_bau = build_tables(w, h, rng)
    tables = rewrite_tables(reg, tables, seed, rs)
    op = p["oracle"]
    paths = int(oracle_paths or op["paths"])
    p_paths = min(paths, int(op["p_paths"]))
    cpaths = min(paths, int(op["campaign_paths"]))
    sample = None
    if n_customers > int(op["max_customers"]):
        srng = np.random.default_rng(np.random.SeedSequence([seed, 203]))
        sample = np.sort(srng.choice(n_customers, int(op["sample_customers"]), replace=False))
    o = compute_oracle(
        w,
        h.snapshot,
        paths,
        int(op["chunk_customers"]),
        progress,
        cpaths,
        carry=None
        if h.carry_at_end is None
        else (h.carry_at_end, float(p["campaigns"]["carryover"])),
        customers=sample,
        p_paths=p_paths,
        sale_margin=float(p["sale_margin"]),
        commission=float(p["insurance_commission"]),
    )
    width = max(7, len(str(n_customers * 10)))
    cid = ids("C", np.arange(n_customers), width)
    truth = {
        "visits": truth_visits,
        "oracle_customers": oracle_customers(w, h.snapshot, o, cid),
        "oracle_campaigns": oracle_campaigns(w, o, width),
        "leads": truth_leads,
    }
    if truth_bau is not None:
        truth["visits_business_as_usual"] = truth_bau
    stores = store_truth(w, truth["oracle_customers"], truth_visits)
    if stores is not None:  # a dealer group: the truth by store and for the group
        truth["stores"] = stores
    args = {
        "n_customers": n_customers,
        "seed": seed,
        "end": tl.end.isoformat(),
        "years": years,
        "dealers": dealers,
        "horizon_months": horizon_months,
        "regimes": list(reg),
    }
    return SimResult(tables=tables, truth=truth, meta=meta(w, o, p, (paths, p_paths, cpaths), args))


def simulate(
    n_customers: int,
    seed: int,
    out: Path,
    end: date | None = None,
    years: float = 5,
    dealers: int = 1,
    horizon_months: int = 12,
    fmt: str = "parquet",
    force: bool = False,
    regimes: str | tuple[str, ...] | None = None,
) -> Path:
    """Write a simulated dealer data set to ``out`` and its ground truth to ``out/truth``."""
    out = Path(out)
    if fmt not in ("parquet", "csv"):
        raise CvmError(f"--format must be parquet or csv, not {fmt!r}")
    parse_regimes(regimes)  # an unknown regime fails before any work
    check_out(out, force)
    res = generate(
        n_customers,
        seed,
        end=end,
        years=years,
        dealers=dealers,
        horizon_months=horizon_months,
        progress=True,
        regimes=regimes,
    )
    return write_dataset(out, res.tables, res.truth, res.meta, fmt, force)


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` over ``base`` (nested dicts merge; a copy)."""
    out = dict(base)
    for k, v in extra.items():
        out[k] = (
            _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        )
    return out
