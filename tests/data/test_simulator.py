"""Fast tests of the dealer simulator: contract shape, keys, dates, determinism, truth."""

from __future__ import annotations

import ast
import hashlib
import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cvm.config import CvmError
from cvm.data import contract
from cvm.data.simulator import default_end, generate, simulate

END = date(2025, 12, 31)


@pytest.fixture(scope="module")
def small():
    return generate(600, 11, end=END, years=4, horizon_months=6, oracle_paths=2)


def test_default_end_is_fixed() -> None:
    assert default_end(date(2026, 10, 31)) == date(2026, 9, 30)
    assert default_end(date(2026, 1, 15)) == date(2025, 12, 31)


def test_every_contract_table_and_column(small) -> None:
    for name, t in contract.TABLES.items():
        df = small.df(name)
        assert list(df.columns) == t.names, name
        if t.primary_key:
            assert df[t.primary_key].notna().all() and df[t.primary_key].is_unique, name
        for c in t.columns:
            if c.kind == "date":
                assert pd.api.types.is_datetime64_any_dtype(df[c.name]), (name, c.name)
            if c.values is not None:
                assert set(df[c.name].dropna().unique()) <= set(c.values), (name, c.name)
            if c.min is not None and c.kind in ("float", "int"):
                assert (df[c.name].dropna() >= c.min).all(), (name, c.name)


def test_foreign_keys(small) -> None:
    cust = set(small.df("customers")["customer_id"])
    for name in contract.TABLES:
        df = small.df(name)
        if "customer_id" in df:
            assert set(df["customer_id"].dropna()) <= cust, name
    visits = set(small.df("visits")["visit_id"])
    assert set(small.df("surveys")["visit_id"].dropna()) <= visits
    assert set(small.df("complaints")["visit_id"].dropna()) <= visits
    assert set(small.df("visits")["vehicle_id"]) <= set(small.df("vehicles")["vehicle_id"])


def test_nothing_after_end(small) -> None:
    end = pd.Timestamp(END)
    contractual = {"warranty_end_date", "insurance_end_date"}  # known in advance, see docs
    for name, t in contract.TABLES.items():
        df = small.df(name)
        for c in t.columns:
            if c.kind == "date" and c.name not in contractual:
                assert (df[c.name].dropna() <= end).all(), (name, c.name)
    tv = small.df("truth/visits")
    assert (tv["visit_date"] > end).all()
    assert (tv["visit_date"] <= end + pd.DateOffset(months=6)).all()


def test_truth_shapes(small) -> None:
    oc = small.df("truth/oracle_customers")
    n = len(small.df("customers"))
    assert len(oc) == n and oc["customer_id"].is_unique
    assert oc["p_no_paid_visit"].between(0, 1).all()
    assert (oc["expected_spend"] >= 0).all()
    camp = small.df("truth/oracle_campaigns")
    assert len(camp) == n * len(small.meta["campaigns"])
    assert set(camp["campaign"].astype(str)) == set(small.meta["campaigns"])
    assert np.allclose(camp["uplift_p_return"].abs().max() <= 1, True)
    assert small.meta["oracle"]["method"] == "conditional_monte_carlo_crn"
    tl = small.df("truth/leads")
    assert set(tl["lead_id"]) <= set(small.df("leads").query("status == 'open'")["lead_id"])


def test_business_as_usual_future(small) -> None:
    """A second horizon, campaigns going on: same columns, dated after end, within H months."""
    bau, nc = small.df("truth/visits_business_as_usual"), small.df("truth/visits")
    assert list(bau.columns) == list(nc.columns) == list(small.df("visits").columns)
    end = pd.Timestamp(END)
    assert (bau["visit_date"] > end).all()
    assert (bau["visit_date"] <= end + pd.DateOffset(months=6) + pd.offsets.MonthEnd(0)).all()
    assert set(bau["customer_id"]) <= set(small.df("customers")["customer_id"])
    assert not bau.equals(nc)


def test_latent_traits_not_in_data(small) -> None:
    oc = small.df("truth/oracle_customers").set_index("customer_id")
    for name in contract.TABLES:
        df = small.df(name)
        assert not {"loyalty", "price_sensitivity", "satisfaction_latent", "defected"} & set(df)
    cust = small.df("customers").set_index("customer_id")
    # distance_km is a noisy proxy, not the latent distance itself
    both = cust["distance_km"].dropna()
    assert not np.allclose(both.to_numpy(), oc.loc[both.index, "distance"].round(1).to_numpy())


def test_profile_gaps_about_ten_percent(small) -> None:
    prof = small.df("customers")[list(contract.PROFILE_FIELDS)]
    assert 0.06 <= prof.isna().to_numpy().mean() <= 0.14
    phones = prof["phone"].dropna()
    assert phones.str.fullmatch(r"1[3-9]\d{9}").all()


def test_paid_definition_and_first_service(small) -> None:
    v = small.df("visits")
    assert (v.loc[v["visit_type"] == "first_service", "payer"] == "free").all()
    assert (v.loc[v["payer"] == "insurer", "visit_type"] == "accident").all()
    ins = v.loc[v["payer"] == "insurer", "amount"].mean()
    assert ins > v.loc[v["visit_type"] == "maintenance", "amount"].mean()
    assert (v["quote_items_accepted"] <= v["quote_items_offered"]).all()


def test_campaign_history_has_control_groups(small) -> None:
    c = small.df("campaign_contacts")
    share = (c["group"] == "control").mean()
    assert 0.12 <= share <= 0.25
    assert (c.loc[c["group"] == "control", "cost"] == 0).all()


def _hashes(d: Path) -> dict[str, str]:
    return {
        str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(d.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = simulate(300, 5, tmp_path / "a", end=END, years=2, horizon_months=3)
    b = simulate(300, 5, tmp_path / "b", end=END, years=2, horizon_months=3)
    ha, hb = _hashes(a), _hashes(b)
    assert ha == hb and "visits.parquet" in ha and "truth/meta.json" in ha
    c = simulate(300, 6, tmp_path / "c", end=END, years=2, horizon_months=3)
    assert _hashes(c)["visits.parquet"] != ha["visits.parquet"]
    json.loads((a / "truth" / "meta.json").read_text(encoding="utf-8"))


def test_refuses_non_empty_out_and_bad_end(tmp_path: Path) -> None:
    out = tmp_path / "x"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(CvmError):
        simulate(50, 1, out, end=END, years=1, horizon_months=1)
    with pytest.raises(CvmError):
        generate(50, 1, end=date(2025, 12, 15))
    simulate(50, 1, out, end=END, years=1, horizon_months=1, force=True, fmt="csv")
    assert (out / "visits.csv").exists() and not (out / "keep.txt").exists()
    head = (out / "visits.csv").read_text(encoding="utf-8").splitlines()[1]
    assert re.search(r"\d{4}-\d\d-\d\d", head)


def test_output_passes_validation(tmp_path: Path) -> None:
    validate = pytest.importorskip("cvm.data.validate")
    out = simulate(300, 2, tmp_path / "v", end=END, years=2, horizon_months=2)
    report = validate.validate_source(out, as_of=END)
    assert report.ok, report.render()


def _path_literals(path: Path) -> list[str]:
    """String constants of a module (docstrings excluded) that name a truth/ path."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(getattr(node.body[0], "value", None), ast.Constant)
        ):
            docs.add(id(node.body[0].value))
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and id(n) not in docs
        and re.search(r"(^|[/\\])truth([/\\]|$)", n.value)
    ]


def test_no_pipeline_module_reads_truth() -> None:
    """Only the simulator and evaluate.py may name the truth/ folder in code."""
    src = Path(__file__).resolve().parents[2] / "src"
    allowed = {src / "data" / "simulator", src / "evaluate.py"}
    offenders = {}
    for path in src.rglob("*.py"):
        if any(path == a or a in path.parents for a in allowed):
            continue
        hits = _path_literals(path)
        if hits:
            offenders[str(path.relative_to(src))] = hits
    assert not offenders, offenders
