"""The monthly run end to end: its output contract, safety against overwrites and failures."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cvm.cli import app
from cvm.config import CvmError

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]


def test_run_folder_follows_the_output_contract(monthly_run: Path):
    for name in ("report.html", "scores.parquet", "metrics.json", "manifest.json", "run.log"):
        assert (monthly_run / name).is_file(), name
    executed = sorted(p.name for p in (monthly_run / "notebooks").glob("*.ipynb"))
    assert executed == sorted(p.name for p in Path("notebooks").glob("*.ipynb"))
    scores = pd.read_parquet(monthly_run / "scores.parquet")
    for col in (
        "customer_id",
        "lifecycle_stage",
        "value_tag",
        "churn_probability",
        "predicted_value",
        "loyalty_type",
        "reason_1",
    ):
        assert col in scores.columns, col
    assert scores["customer_id"].is_unique
    p = scores["churn_probability"].dropna()
    assert len(p) > 0 and p.between(0, 1).all()
    assert (scores["predicted_value"].dropna() >= 0).all()
    lists = list((monthly_run / "campaigns").glob("*.csv"))
    assert lists, "no department lists"
    for f in lists:
        df = pd.read_csv(f)
        assert {
            "customer_id",
            "campaign",
            "channel",
            "expected_incremental_value",
            "cost",
            "group",
        } <= set(df.columns)
        assert set(df["group"]) <= {"target", "control"}
    cand = pd.read_parquet(monthly_run / "campaigns" / "candidates.parquet")
    assert not cand.duplicated(["customer_id", "campaign"]).any()
    chosen = pd.concat([pd.read_csv(f, dtype={"customer_id": str}) for f in lists])
    assert cand["chosen"].sum() == len(chosen)
    assert set(cand.loc[~cand["chosen"], "reason_not_chosen"]) <= {
        "contact_gap",
        "yearly_contact_cap",
        "cool_down",
        "campaign_yearly_cap",
        "negative_value",
        "other_campaign",
        "capacity",
        "budget",
    }
    manifest = json.loads((monthly_run / "manifest.json").read_text())
    assert manifest["inputs"] and all(len(h) == 64 for h in manifest["inputs"].values())
    assert "lightgbm" in manifest["packages"]
    metrics = json.loads((monthly_run / "metrics.json").read_text())
    assert 0.5 < metrics["churn"]["auc"] <= 1


def test_published_month_is_not_overwritten_without_force(monthly_run: Path, sim_dir, sim_end):
    before = (monthly_run / "report.html").stat().st_mtime_ns
    result = CliRunner().invoke(
        app,
        [
            "monthly",
            "--data",
            str(sim_dir),
            "--as-of",
            sim_end.isoformat(),
            "--out",
            str(monthly_run.parent),
        ],
    )
    assert result.exit_code == 2
    assert "--force" in result.output
    assert (monthly_run / "report.html").stat().st_mtime_ns == before


def test_failed_step_leaves_published_months_untouched(tmp_path: Path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from cvm.runner import StepFailed, execute_notebooks

    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("raise ValueError('boom')")])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(nb_dir / "bad.ipynb"))
    with pytest.raises(StepFailed, match=r"bad.ipynb failed.*ValueError.*boom"):
        execute_notebooks(
            tmp_path / "work", {}, notebooks=("bad.ipynb",), notebook_dir=nb_dir, progress=False
        )


def test_bad_input_stops_before_anything_is_written(tmp_path: Path):
    from cvm.pipeline import run_monthly

    data = tmp_path / "data"
    data.mkdir()
    (data / "visits.csv").write_text("customer_id,visit_date,amount\nC1,2024-01-05,-10\n")
    out = tmp_path / "reports"
    with pytest.raises(CvmError, match="visits"):
        run_monthly(str(data), pd.Timestamp("2024-06-30").date(), out=out, progress=False)
    assert not out.exists() or not any(out.iterdir())


def test_the_run_folder_holds_what_the_step_graph_declares(monthly_run: Path):
    """Every output the graph declares (bar the optional ones and the table copy, dropped at
    the end) is in the published month, and every file in artifacts/ is declared."""
    from cvm import graph

    missing = [
        a
        for s in graph.STEPS
        for a in s.outputs
        if a not in s.optional
        and a != "tables"
        and not list(monthly_run.glob(graph.artifact(a).relpath))
    ]
    assert not missing, missing
    undeclared = [
        p.name
        for p in (monthly_run / "artifacts").iterdir()
        if p.stem not in graph.ARTIFACTS or graph.artifact(p.stem).relpath != f"artifacts/{p.name}"
    ]
    assert not undeclared, undeclared
