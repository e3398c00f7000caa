"""`cvm score` with the monthly run's bundles gives the run's own scores; a fresh process with
only the bundle loader does too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cvm.cli import app

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

COLS = ("churn_probability", "predicted_value", "lifetime_value")


def test_run_records_its_bundles(monthly_run: Path) -> None:
    manifest = json.loads((monthly_run / "manifest.json").read_text())
    assert set(manifest["model_bundles"]) == {"churn", "value"}
    for name, version in manifest["model_bundles"].items():
        assert (monthly_run / "models" / name / version / "SHA256SUMS").is_file()


_SCORE = """
import sys, json
from cvm.cli import app
rc = 1
try:
    rc = app(sys.argv[1:], standalone_mode=False)
finally:
    bad = [m for m in ("cvm.models.churn", "cvm.models.value", "cvm.train")
           if m in sys.modules]
    print(json.dumps(bad))
sys.exit(rc or 0)
"""


def test_cvm_score_equals_the_monthly_run(monthly_run: Path, sim_dir, sim_end, tmp_path) -> None:
    out = tmp_path / "scores.parquet"
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            _SCORE,
            "score",
            "--models",
            str(monthly_run / "models"),
            "--data",
            str(sim_dir),
            "--as-of",
            sim_end.isoformat(),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout.strip().splitlines()[-1]) == []  # no training code loaded
    got = pd.read_parquet(out).set_index("customer_id")
    run = pd.read_parquet(monthly_run / "scores.parquet").set_index("customer_id")
    common = got.index.intersection(run.index)
    assert len(common) == len(got) > 0
    for c in COLS:
        np.testing.assert_array_equal(
            got.loc[common, c].to_numpy(float), run.loc[common, c].to_numpy(float), err_msg=c
        )
    # owners without a visit yet (no features) are scored too, from the past rates of their
    # cell (months since purchase x price band) saved with the bundles (new_owners.json), as
    # the run scores them (cvm.models.new_owners); no lifetime value
    new = pd.read_parquet(monthly_run / "artifacts" / "new_owner_scores.parquet").index
    assert len(new) > 0 and new.isin(got.index).all()
    assert got.loc[new, ["churn_probability", "predicted_value"]].notna().all().all()
    assert got.loc[new, "lifetime_value"].isna().all()
    # every customer the run scored, cvm score scored
    scored = run.index[run[["churn_probability", "predicted_value"]].notna().any(axis=1)]
    assert scored.isin(got.index).all()


_LOADER_ONLY = """
import sys, json
import numpy as np, pandas as pd
from cvm.models.bundle_loader import load_bundle
X = pd.read_parquet(sys.argv[1])
churn, value = load_bundle(sys.argv[2]), load_bundle(sys.argv[3])
active = pd.read_parquet(sys.argv[4]).index
out = pd.DataFrame({"predicted_value": value.predict(X)}, index=X.index)
out["churn_probability"] = pd.Series(churn.predict_proba(X.loc[active])[:, 1], index=active)
out.to_parquet(sys.argv[5])
print(json.dumps(sorted(m for m in sys.modules if m.startswith("cvm."))))
"""


def test_fresh_process_with_the_loader_only(monthly_run: Path, tmp_path) -> None:
    bundles = json.loads((monthly_run / "manifest.json").read_text())["model_bundles"]
    art = monthly_run / "artifacts"
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            _LOADER_ONLY,
            str(art / "features.parquet"),
            str(monthly_run / "models" / "churn" / bundles["churn"]),
            str(monthly_run / "models" / "value" / bundles["value"]),
            str(art / "churn_scores.parquet"),
            str(tmp_path / "s.parquet"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert set(json.loads(res.stdout.strip().splitlines()[-1])) <= {
        "cvm.config",
        "cvm.models",
        "cvm.models.bundle_loader",
    }
    got = pd.read_parquet(tmp_path / "s.parquet")
    run = pd.read_parquet(monthly_run / "scores.parquet").set_index("customer_id")
    for c in ("churn_probability", "predicted_value"):
        np.testing.assert_array_equal(
            got[c].to_numpy(float), run.loc[got.index, c].to_numpy(float), err_msg=c
        )


def test_tampered_bundle_stops_cvm_score(monthly_run: Path, sim_dir, sim_end, tmp_path) -> None:
    import shutil

    models = tmp_path / "models"
    shutil.copytree(monthly_run / "models", models)
    victim = next((models / "churn").glob("*/churn.lgb.txt"))
    victim.write_bytes(victim.read_bytes().replace(b"leaf_value=", b"leaf_value=9", 1))
    res = CliRunner().invoke(
        app,
        [
            "score",
            "--models",
            str(models),
            "--data",
            str(sim_dir),
            "--as-of",
            sim_end.isoformat(),
            "--out",
            str(tmp_path / "x.csv"),
        ],
    )
    assert res.exit_code == 2 and "churn.lgb.txt" in res.output
