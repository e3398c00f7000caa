"""The sandbox: scratch runs for analysts, published months never written to."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from cvm import config
from cvm.config import CvmError
from cvm.run_context import RunContext, check_writable, scratch_run


def _data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir(parents=True)
    pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "visit_date": ["2024-01-05", "2024-03-01"],
            "amount": [100.0, 200.0],
        }
    ).to_csv(data / "visits.csv", index=False)
    return data


def _publish(reports: Path, month: str) -> Path:
    run = reports / month
    (run / "artifacts").mkdir(parents=True)
    pd.DataFrame({"x": [1.0]}).to_parquet(run / "artifacts" / "features.parquet")
    pd.DataFrame({"customer_id": ["C1"]}).to_parquet(run / "scores.parquet")
    (run / "report.html").write_text("<html></html>")
    (run / "manifest.json").write_text(json.dumps({"cvm_version": "test"}))
    return run


def test_no_run_dir_opens_a_scratch_run_seeded_from_the_published_month(tmp_path: Path):
    reports = tmp_path / "reports"
    pub = _publish(reports, "2024-06")
    ctx = RunContext.open(str(_data(tmp_path)), "2024-06-30", reports=reports)
    assert ctx.run_dir.parent == reports / "scratch"
    assert ctx.run_dir.name.startswith("2024-06-")
    assert ctx.load_frame("features")["x"].tolist() == [1.0]  # the published artifacts
    assert (ctx.run_dir / "scores.parquet").exists() and not (ctx.run_dir / "report.html").exists()
    ctx.save_frame("features", pd.DataFrame({"x": [2.0]}))
    assert pd.read_parquet(pub / "artifacts" / "features.parquet")["x"].tolist() == [1.0]
    other = RunContext.open(str(_data(tmp_path / "b")), "2024-06-30", run_dir="", reports=reports)
    assert other.run_dir != ctx.run_dir  # every session its own scratch run


def test_scratch_names_are_month_and_time_and_never_collide(tmp_path: Path):
    now = datetime(2026, 10, 3, 9, 5, 7)
    a = scratch_run(tmp_path, "2026-09", now)
    b = scratch_run(tmp_path, "2026-09", now)
    assert a.name == "2026-09-20261003-090507" and b.name == "2026-09-20261003-090507-2"
    assert not (a / "artifacts").exists()  # nothing published to start from


def test_a_published_month_is_refused(tmp_path: Path):
    reports = tmp_path / "reports"
    pub = _publish(reports, "2024-06")
    before = {p: p.read_bytes() for p in pub.rglob("*") if p.is_file()}
    for target in (pub, pub / "artifacts", pub / "stores" / "D1"):
        with pytest.raises(CvmError, match="is a published month and cannot be written to"):
            RunContext.open(str(_data(tmp_path / target.name)), "2024-06-30", run_dir=target)
    assert {p: p.read_bytes() for p in pub.rglob("*") if p.is_file()} == before
    assert not (pub / "stores").exists()


def test_month_named_folders_are_left_to_cvm_monthly(tmp_path: Path):
    with pytest.raises(CvmError, match="named like a published month"):
        check_writable(tmp_path / "reports" / "2024-07")
    check_writable(tmp_path / "reports" / ".2024-07.tmp-123")  # the monthly run's work folder
    check_writable(tmp_path / "reports" / "scratch" / "2024-07")
    check_writable(tmp_path / "my-run")


def test_a_missing_artifact_says_which_notebook_to_run(tmp_path: Path):
    ctx = RunContext.open(str(_data(tmp_path)), "2024-06-30", reports=tmp_path / "reports")
    with pytest.raises(CvmError, match="artifact 'features' is not in .*run the notebook"):
        ctx.load_frame("features")


def test_profiles_chain_with_plus(tmp_path: Path, monkeypatch):
    cfgs = tmp_path / "configs"
    cfgs.mkdir()
    for f in config.CONFIG_DIR.glob("*.yaml"):
        (cfgs / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (cfgs / "churn_v2.yaml").write_text("churn:\n  num_boost_round: 77\n", encoding="utf-8")
    monkeypatch.setattr(config, "CONFIG_DIR", cfgs)
    cfg = config.load_config(profile="demo+churn_v2")
    assert cfg["churn"]["num_boost_round"] == 77
    assert cfg["explain"]["global_sample"] == 500  # demo's setting kept
    assert cfg["profile"] == "demo+churn_v2"
    with pytest.raises(CvmError, match="'nope' .*not found"):
        config.load_config(profile="demo+nope")


def test_a_failed_parameter_check_leaves_no_scratch_run(tmp_path: Path):
    from cvm.research.challenger import check_notebook_overrides

    reports = tmp_path / "reports"
    _publish(reports, "2024-06")
    ctx = RunContext.open(str(_data(tmp_path)), "2024-06-30", reports=reports)
    assert check_notebook_overrides(ctx, "churn", features_only=["x"]) is True  # known
    with pytest.raises(CvmError, match="unknown feature"):
        check_notebook_overrides(ctx, "churn", ["nope"])
    assert not ctx.run_dir.exists()
    mine = tmp_path / "my-run"
    ctx = RunContext.open(str(_data(tmp_path / "b")), "2024-06-30", run_dir=mine)
    with pytest.raises(CvmError, match="artifact 'features'"):
        check_notebook_overrides(ctx, "churn", ["nope"])
    assert mine.exists()  # an explicit run_dir is never removed
