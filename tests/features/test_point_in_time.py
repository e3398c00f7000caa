"""Property: rows dated after as_of, in any table, never change any feature."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cvm.config import load_config
from cvm.data.contract import TABLES
from cvm.data.ids import day_number, days
from cvm.features.snapshot import build_features
from support.toy import toy_tables

AS_OF = ["2022-03-31", "2023-06-30", "2024-01-15"]


@cache
def _tables() -> dict[str, pd.DataFrame]:
    return toy_tables(40, seed=3)


@cache
def _cfg() -> dict:
    return load_config()


def _perturb(df: pd.DataFrame, name: str, as_of: str, rng: np.random.Generator) -> pd.DataFrame:
    """Drop, change and add rows dated after ``as_of``; rows on or before it stay as they are."""
    date_col = TABLES[name].date_column
    asof = day_number(as_of)
    after = days(df[date_col]) > asof
    before_rows, after_rows = df.loc[~after], df.loc[after].copy()
    # remove some
    after_rows = after_rows.loc[rng.random(len(after_rows)) < 0.6]
    # change some values in the remaining later rows (never their date)
    for col in after_rows.columns:
        if col == date_col or len(after_rows) == 0 or rng.random() < 0.5:
            continue
        after_rows[col] = rng.permutation(after_rows[col].to_numpy())
    # add copies of random rows, moved after as_of, some for existing customers, some new
    k = int(rng.integers(0, 6))
    if k and len(df):
        new = df.iloc[rng.integers(0, len(df), k)].copy()
        new[date_col] = pd.Timestamp(as_of) + pd.to_timedelta(rng.integers(1, 400, k), unit="D")
        if "customer_id" in new.columns and rng.random() < 0.5:
            new["customer_id"] = [f"NEW{i}" for i in range(k)]
        after_rows = pd.concat([after_rows, new])
    out = pd.concat([before_rows, after_rows])
    return out.iloc[rng.permutation(len(out))] if rng.random() < 0.3 else out


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    as_of=st.sampled_from(AS_OF),
    keep=st.sets(st.sampled_from(sorted(set(TABLES) - {"visits"}))),
)
def test_rows_after_as_of_never_change_features(seed: int, as_of: str, keep: set[str]) -> None:
    rng = np.random.default_rng(seed)
    base = {k: v for k, v in _tables().items() if k == "visits" or k in keep}
    changed = {k: _perturb(v, k, as_of, rng) for k, v in base.items()}
    x0 = build_features(base, as_of, _cfg())
    x1 = build_features(changed, as_of, _cfg())
    pd.testing.assert_frame_equal(x0, x1)


def test_only_customers_with_a_visit_by_as_of() -> None:
    t = _tables()
    x = build_features(t, "2022-03-31", _cfg())
    v = t["visits"]
    seen = set(v.loc[v["visit_date"] <= "2022-03-31", "customer_id"])
    assert set(x.index) == seen
    assert x.index.is_monotonic_increasing and x.index.name == "customer_id"
