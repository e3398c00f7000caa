"""A visit, sale or lead at a store the group does not have: a warning naming store and rows."""

from __future__ import annotations

from datetime import date

import pytest

from cvm.data.simulator import generate
from cvm.data.validate import validate_tables


@pytest.fixture(scope="module")
def group_tables():
    r = generate(
        1500, 3, end=date(2025, 12, 31), years=3, dealers=3, horizon_months=3, oracle_paths=1
    )
    return {name: r.df(name) for name in r.tables}


def test_known_stores_pass(group_tables) -> None:
    rep = validate_tables(group_tables)
    assert rep.ok and not [w for w in rep.warnings if w.check == "unknown_store"]


def test_visit_at_an_unknown_store_is_named(group_tables) -> None:
    t = dict(group_tables)
    v = t["visits"].copy()
    v.loc[[4, 9, 11], "dealer_id"] = "D77"
    t["visits"] = v
    rep = validate_tables(t)
    hits = [w for w in rep.warnings if w.check == "unknown_store"]
    assert len(hits) == 1 and rep.ok
    w = hits[0]
    assert w.table == "visits" and w.n_rows == 3 and "D77 (3 rows)" in w.message
    assert w.examples[:3] == (5, 10, 12)  # 1-based data rows
    assert "stores.known" in w.fix


def test_unknown_store_as_error(group_tables, monkeypatch) -> None:
    import cvm.data.validate as val

    real = val.load_config

    def cfg(name="default", *a, **k):
        c = real(name, *a, **k)
        if name == "default":
            c["stores"] = {**c["stores"], "unknown_store": "error", "known": ["D01", "D02"]}
        return c

    monkeypatch.setattr(val, "load_config", cfg)
    rep = validate_tables(group_tables)
    bad = [e for e in rep.errors if e.check == "unknown_store"]
    assert {e.table for e in bad} >= {"visits"} and not rep.ok
    assert "D03" in bad[0].message
