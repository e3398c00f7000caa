"""Analysts' notebooks after a monthly run: every notebook runs headless with its defaults
(research cells on, no run_dir) into a scratch run, the published month stays byte-identical,
a challenger is trained and saved, and bad challenger settings stop in the first cell."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cvm.runner import MONTHLY_NOTEBOOKS, NOTEBOOK_DIR

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

ROOT = NOTEBOOK_DIR.parent


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _execute(name: str, out: Path, **parameters) -> dict:
    import papermill as pm

    pm.execute_notebook(
        str(NOTEBOOK_DIR / name),
        str(out / name),
        parameters=parameters,
        cwd=str(ROOT),
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,
    )
    return json.loads((out / name).read_text(encoding="utf-8"))


def _scratch_runs(reports: Path) -> set[Path]:
    return set((reports / "scratch").glob("*")) if (reports / "scratch").exists() else set()


def _analyst(sim_dir: Path, sim_end, reports: Path) -> dict:
    """The parameters an analyst would change to point the notebooks at this data; run_dir,
    research and every research parameter keep their defaults."""
    return {"data": str(sim_dir), "as_of": sim_end.isoformat(), "reports": str(reports)}


def test_every_notebook_runs_with_its_defaults_and_the_published_month_is_untouched(
    monthly_run: Path, sim_dir: Path, sim_end, tmp_path: Path
):
    reports = monthly_run.parent
    before = _hashes(monthly_run)
    executed = {}
    for name in MONTHLY_NOTEBOOKS:
        known = _scratch_runs(reports)
        executed[name] = _execute(name, tmp_path, **_analyst(sim_dir, sim_end, reports))
        new = _scratch_runs(reports) - known
        assert len(new) == 1, f"{name} should make exactly one scratch run"
        run = new.pop()
        assert re.fullmatch(rf"{monthly_run.name}-\d{{8}}-\d{{6}}(-\d+)?", run.name), run.name
    assert _hashes(monthly_run) == before, "a notebook changed the published month"

    # the research cells ran and showed their charts and tables
    def outputs(nb: dict) -> list[dict]:
        return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]

    def pngs(nb: dict) -> int:
        return sum("image/png" in o.get("data", {}) for o in outputs(nb))

    charts = {"03_churn_model": 3, "04_value_model": 3, "06_campaigns": 2, "06a_uplift": 1}
    for name, n in charts.items():  # 06a: the uplift model's Qini curves
        assert pngs(executed[f"{name}.ipynb"]) >= n, f"{name}: research charts missing"
    seg = json.dumps(outputs(executed["05_segments.ipynb"]))
    assert "what-if" in seg and "gone" in seg  # thresholds and the migration matrix
    # nothing personal in what the analysts' notebooks show
    customers = pd.read_parquet(sim_dir / "customers.parquet", columns=["name", "phone"])
    names, phones = set(customers["name"].dropna()), set(customers["phone"].dropna())
    for name, nb in executed.items():
        text = json.dumps(outputs(nb), ensure_ascii=False)
        assert not set(re.findall(r"[\u4e00-\u9fff]{2,4}", text)) & names, name
        assert not set(re.findall(r"1[3-9]\d{9}", text)) & phones, name


def test_challengers_are_compared_on_the_same_fold_and_saved(
    monthly_run: Path, sim_dir: Path, sim_end, tmp_path: Path
):
    reports = monthly_run.parent
    base = _analyst(sim_dir, sim_end, reports)
    known = _scratch_runs(reports)
    _execute(
        "03_churn_model.ipynb",
        tmp_path,
        **base,
        features_drop=["months_since_last_visit"],
        model_params={"num_leaves": 7, "num_boost_round": 200},
        challenger_name="no_recency",
    )
    run = (_scratch_runs(reports) - known).pop()
    saved = run / "challengers" / "churn-no_recency"
    overlay = yaml.safe_load((saved / "profile.yaml").read_text(encoding="utf-8"))
    assert "months_since_last_visit" in overlay["churn"]["exclude_features"]
    assert overlay["churn"]["tuning"][0]["num_leaves"] == 7
    assert overlay["churn"]["num_boost_round"] == 200
    cmp = json.loads((saved / "comparison.json").read_text(encoding="utf-8"))
    assert set(cmp["table"]) == {"auc", "ece", "gini"}
    champion_auc = json.loads((monthly_run / "metrics.json").read_text())["churn"]["auc"]
    auc = cmp["table"]["auc"]
    assert auc["champion"] == pytest.approx(champion_auc, abs=1e-9)  # the published model's fold
    assert auc["champion_low"] <= auc["champion"] <= auc["champion_high"]
    assert auc["difference_low"] <= auc["difference"] <= auc["difference_high"]
    assert "--profile no_recency" in cmp["adopt"]
    # the value model's challenger: a feature subset and a LightGBM parameter
    known = _scratch_runs(reports)
    keep = ["n_visits_12m", "paid_spend_12m", "months_since_last_paid_visit"]
    _execute(
        "04_value_model.ipynb",
        tmp_path,
        **base,
        features_only=keep,
        model_params={"learning_rate": 0.05},
    )
    run = (_scratch_runs(reports) - known).pop()
    saved = run / "challengers" / "value-challenger"
    overlay = yaml.safe_load((saved / "profile.yaml").read_text(encoding="utf-8"))["value"]
    assert not set(keep) & set(overlay["exclude_features"]) and overlay["exclude_features"]
    assert overlay["params"]["learning_rate"] == 0.05
    cmp = json.loads((saved / "comparison.json").read_text(encoding="utf-8"))
    gini = json.loads((monthly_run / "metrics.json").read_text())["value"]["normalized_gini"]
    assert cmp["table"]["gini"]["champion"] == pytest.approx(gini, abs=1e-9)


def test_unknown_challenger_names_stop_in_the_first_cell(
    monthly_run: Path, sim_dir: Path, sim_end, tmp_path: Path
):
    import papermill as pm

    base = _analyst(sim_dir, sim_end, monthly_run.parent)
    known = _scratch_runs(monthly_run.parent)
    with pytest.raises(pm.PapermillExecutionError) as err:
        _execute(
            "03_churn_model.ipynb", tmp_path, **base, features_drop=["months_since_last_visiz"]
        )
    msg = str(err.value)
    assert "unknown feature ['months_since_last_visiz']" in msg and "months_since_last_visit" in msg
    assert "check_notebook_overrides" in err.value.source  # the first cell, before training
    # (unknown model_params keys: tests/research/test_challenger.py, the same check)
    assert _scratch_runs(monthly_run.parent) == known  # nothing left behind


def test_writing_into_the_published_month_is_refused(
    monthly_run: Path, sim_dir: Path, sim_end, tmp_path: Path
):
    import papermill as pm

    base = _analyst(sim_dir, sim_end, monthly_run.parent)
    with pytest.raises(pm.PapermillExecutionError, match="is a published month"):
        _execute("02_features.ipynb", tmp_path, **base, run_dir=str(monthly_run))
