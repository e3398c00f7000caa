"""scripts/compare_runs.py: two runs with the same published values pass, any change is named."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "compare_runs.py"


@pytest.fixture(scope="module")
def cr():
    spec = importlib.util.spec_from_file_location("compare_runs", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run(root: Path) -> Path:
    run = root / "reports" / "2026-09"
    (run / "campaigns").mkdir(parents=True)
    (run / "artifacts").mkdir()
    pd.DataFrame({"customer_id": ["C1", "C2"], "churn_probability": [0.25, np.nan]}).to_parquet(
        run / "scores.parquet"
    )
    (run / "campaigns" / "sales.csv").write_text(
        "customer_id,campaign\nC1,x\n", encoding="utf-8-sig"
    )
    (run / "metrics.json").write_text(json.dumps({"auc": 0.7, "seconds": 3.0}))
    return run


def test_the_same_values_pass_and_a_changed_one_is_named(cr, tmp_path, capsys):
    a, b = _run(tmp_path / "a"), _run(tmp_path / "b")
    (b / "metrics.json").write_text(json.dumps({"auc": 0.7, "seconds": 9.0}))  # a clock
    assert cr.main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--all"]) == 0
    assert "3 of 3 files" in capsys.readouterr().out

    pd.DataFrame({"customer_id": ["C1", "C2"], "churn_probability": [0.25, 0.5]}).to_parquet(
        b / "scores.parquet"
    )
    (b / "campaigns" / "sales.csv").write_text("customer_id,campaign\nC2,x\n", encoding="utf-8-sig")
    assert cr.main(["compare", str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert "DIFF  scores.parquet: churn_probability: max |diff| 0, 1 missing differ" in out
    assert "DIFF  campaigns/sales.csv: customer_id: 1 cells differ" in out
    assert "metrics.json" not in out  # not a published file: only with --all


def test_a_dtype_change_is_a_difference_and_a_tolerance_allows_small_ones(cr):
    x = pd.DataFrame({"v": [1, 2]})
    assert cr.compare_frames(x, x.astype(float)) is not None
    assert cr.compare_frames(x.astype(float), x.astype(float) + 1e-9, tol=1e-6) is None
    assert cr.compare_frames(x.astype(float), x.astype(float) + 1e-9) is not None


def test_a_file_in_one_run_only(cr, tmp_path):
    a, b = _run(tmp_path / "a"), _run(tmp_path / "b")
    shutil.copy(a / "campaigns" / "sales.csv", a / "campaigns" / "after_sales.csv")
    assert cr.compare_runs(a, b)["campaigns/after_sales.csv"].startswith("only in")
