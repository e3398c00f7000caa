"""Faults leave nothing behind: a monthly run SIGKILLed at its step boundaries publishes nothing,
its temporary folder holds no personal data and is removed by the next start, and a --force
publishing cut between its two renames is completed at the next start. The run is on thin data
(1-2 visits per customer over 15 months, horizon 3), so it also checks that the run degrades:
the churn and value models are skipped, with the reason in metrics.json and the report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("faults")]

MONTH = "2026-09"
AS_OF = "2026-09-30"


@pytest.fixture(scope="module")
def thin(tmp_path_factory) -> Path:
    """400 simulated customers, cut to the first 1-2 visits each in the last 15 months."""
    from cvm.data.simulator import simulate

    base = tmp_path_factory.mktemp("faults")
    sim = base / "sim"
    simulate(n_customers=400, seed=3, out=sim, years=3, end=pd.Timestamp(AS_OF).date())
    data = base / "thin"
    data.mkdir()
    for f in sim.glob("*.parquet"):
        if f.stem not in ("surveys", "complaints"):  # they point at the visits cut below
            shutil.copy(f, data / f.name)
    v = pd.read_parquet(sim / "visits.parquet")
    v = v[v["visit_date"] >= "2025-07-01"].sort_values("visit_date")
    v.groupby("customer_id").head(2).to_parquet(data / "visits.parquet", index=False)
    return data


def _monthly(data: Path, out: Path, *extra: str, kill: str | None = None):
    env = {k: v for k, v in os.environ.items() if k != "CVM_TEST_KILL_AT"}
    if kill:
        env["CVM_TEST_KILL_AT"] = kill
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cvm.cli",
            "monthly",
            "--data",
            str(data),
            "--as-of",
            AS_OF,
            "--out",
            str(out),
            "--horizon-months",
            "3",
            "--profile",
            "demo",
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def _leftovers(out: Path, kind: str = "tmp") -> list[Path]:
    return sorted(out.glob(f".{MONTH}.{kind}-*"))


def _no_personal_data(folder: Path, data: Path) -> None:
    cust = pd.read_parquet(data / "customers.parquet")
    secrets = [
        str(v).encode()
        for c in ("name", "phone", "address", "wechat_id", "email")
        if c in cust
        for v in cust[c].dropna().head(100)
    ]
    raw = b"".join(f.read_bytes() for f in folder.rglob("*") if f.is_file())
    assert secrets and not [s for s in secrets if s in raw]


def test_sigkill_at_step_boundaries_then_recovery(thin: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    previous: Path | None = None
    # the boundaries: the validated copy written, between notebooks (every notebook boundary is
    # the same state: a temporary folder of a dead run; one stands for all, to keep the test
    # cheap), then between the two publish renames
    for boundary in ("tables", "before:03_churn_model.ipynb"):
        r = _monthly(thin, out, kill=boundary)
        assert r.returncode == -9, (boundary, r.stderr[-2000:])
        assert not (out / MONTH).exists()  # nothing published
        left = _leftovers(out)
        assert len(left) == 1, (boundary, left)  # the previous killed run's folder is gone
        if previous is not None:
            assert left[0] != previous and f"removed {previous}" in r.stderr
        assert (left[0] / ".tables").is_dir() or boundary != "tables"
        _no_personal_data(left[0], thin)
        previous = left[0]

    # a month is published (a stand-in), replaced with --force, killed between the renames
    final = out / MONTH
    final.mkdir()
    (final / "marker.txt").write_text("the previous month")
    r = _monthly(thin, out, "--force", kill="publish")
    assert r.returncode == -9, r.stderr[-2000:]
    assert not final.exists()
    old, new = _leftovers(out, "old"), _leftovers(out)
    assert len(old) == 1 and (old[0] / "marker.txt").exists()
    assert (
        len(new) == 1 and (new[0] / "manifest.json").exists() and not (new[0] / ".tables").exists()
    )

    # the next start completes the publishing (then finds the month published: exit 2)
    r = _monthly(thin, out)
    assert r.returncode == 2 and "completed publishing" in r.stderr, r.stderr[-2000:]
    assert "already published; pass --force" in r.stderr and "Traceback" not in r.stderr
    assert (final / "report.html").exists() and not (final / "marker.txt").exists()
    assert _leftovers(out, "old") == [] and _leftovers(out) == []
    _no_personal_data(final, thin)

    # the published run degraded instead of dying: models skipped with the reason, plan made
    metrics = json.loads((final / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["skipped"]) == {"churn", "value"}
    assert "min_class_rows" in metrics["skipped"]["churn"]
    assert metrics["campaigns"]["n_target"] > 0
    html = (final / "report.html").read_text(encoding="utf-8")
    assert "churn model skipped" in html
    scores = pd.read_parquet(final / "scores.parquet")
    # only owners without a visit yet are scored (by the new-owner cells, not the churn model)
    new_owners = metrics["coverage"]["no_visit_yet"]["churn_probability"]
    assert scores["churn_probability"].notna().sum() == new_owners
    assert scores["value_tag"].notna().any()
