"""A small simulated dealer group (three stores) for tests of the per-store paths.

One builder, so the tests of store features, feature parts, part files and the steps share
the shape of their data: ``dealer_group(customers, seed)`` is the simulator's output (tables
and truth) for three stores, four years to :data:`END`, a 3-month horizon and one oracle
path; each (customers, seed) is simulated once per test process.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

import pandas as pd

from cvm.data.simulator import generate

END = date(2025, 12, 31)
"""The last day of the group's history."""


@lru_cache(maxsize=4)
def _simulated(customers: int, seed: int) -> Any:
    return generate(customers, seed, end=END, years=4, dealers=3, horizon_months=3, oracle_paths=1)


def dealer_group(customers: int, seed: int) -> Any:
    """The simulator's result (``.tables``, ``.truth``, ``.meta``, ``.df(name)``)."""
    return _simulated(customers, seed)


def group_tables(customers: int, seed: int) -> dict[str, pd.DataFrame]:
    """The group's contract tables as frames (a fresh dict; the frames are shared)."""
    r = _simulated(customers, seed)
    return {name: r.df(name) for name in r.tables}
