"""A dealer group's monthly run: group report with the league table, one report per store,
per-store budgets, plans, controls and lists; --engine dask on a real LocalCluster gives the
same outputs as --engine local; an unreachable scheduler is exit 2 with nothing created."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dealer_groups")]

CUSTOMERS, DEALERS, SEED = 3000, 3, 11


@pytest.fixture(scope="module")
def group_data(tmp_path_factory) -> tuple[Path, object]:
    from cvm.data.simulator import simulate

    out = tmp_path_factory.mktemp("group") / "dealer"
    simulate(n_customers=CUSTOMERS, seed=SEED, out=out, years=5, dealers=DEALERS)
    meta = json.loads((out / "truth" / "meta.json").read_text(encoding="utf-8"))
    return out, pd.Timestamp(meta["end"]).date()


def _run(group_data, tmp_path_factory, engine: str) -> Path:
    from cvm.pipeline import run_monthly

    data, end = group_data
    reports = tmp_path_factory.mktemp(f"reports_{engine}")
    return run_monthly(
        str(data), end, out=reports, lang="en", progress=False, profile="demo", engine=engine
    ).parent


@pytest.fixture(scope="module")
def local_run(group_data, tmp_path_factory) -> Path:
    return _run(group_data, tmp_path_factory, "local")


@pytest.fixture(scope="module")
def dask_run(group_data, tmp_path_factory) -> Path:
    return _run(group_data, tmp_path_factory, "dask")


@pytest.fixture(scope="module")
def dask_scatter_run(group_data, tmp_path_factory) -> Path:
    """``engine.workers_read_parts: false`` (a cluster without shared storage): the kernel
    scatters the parts, through a home's config overlay the notebook kernels read too."""
    home = tmp_path_factory.mktemp("home_scatter")
    (home / "configs").mkdir()
    (home / "configs" / "default.yaml").write_text(
        "engine:\n  workers_read_parts: false\n", encoding="utf-8"
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CVM_HOME", str(home))
        return _run(group_data, tmp_path_factory, "dask")


def test_group_report_has_the_league_table(local_run: Path) -> None:
    html = (local_run / "report.html").read_text(encoding="utf-8")
    assert '<section id="stores">' in html
    for d in ("D01", "D02", "D03"):
        assert f'<td class="t">{d}</td>' in html
    league = pd.read_parquet(local_run / "artifacts" / "store_league.parquet")
    assert list(league.index) == ["D01", "D02", "D03", "GROUP"]
    stores = league.drop(index="GROUP")
    assert stores["customers"].sum() == league.loc["GROUP", "customers"] == CUSTOMERS
    assert sorted(stores["rank_ab_share"].astype(int)) == [1, 2, 3]
    assert (stores["thin"] == (stores["active"] < 300)).all()


def test_each_store_has_its_report_budget_plan_controls_and_lists(local_run: Path) -> None:
    summary = json.loads((local_run / "artifacts" / "campaign_summary.json").read_text())
    budgets = {d: s["budget"] for d, s in summary["stores"].items()}
    assert sum(budgets.values()) == pytest.approx(summary["budget"])
    plan = pd.read_parquet(local_run / "artifacts" / "campaign_plan.parquet")
    scores = pd.read_parquet(local_run / "scores.parquet").set_index("customer_id")
    assert (plan["customer_id"].map(scores["dealer_id"]) == plan["dealer_id"]).all()
    thresholds = json.loads((local_run / "artifacts" / "store_value_thresholds.json").read_text())
    assert len({t["spend_per_visit"] for t in thresholds.values()}) == DEALERS  # own medians
    for d in ("D01", "D02", "D03"):
        mine = plan[plan["dealer_id"] == d]
        target = mine[mine["group"] == "target"]
        assert target["cost"].sum() <= budgets[d] + 1e-6
        cap = summary["stores"][d]["capacity"]
        for dept, n in mine.groupby("department").size().items():
            assert n <= cap[dept]
        assert (mine["group"] == "control").any()  # controls drawn within the store
        page = (local_run / "stores" / d / "report.html").read_text(encoding="utf-8")
        assert f"Store {d}" in page and "High frequency" in page
        thin = bool(
            pd.read_parquet(local_run / "artifacts" / "store_league.parquet").loc[d, "thin"]
        )
        assert ("too little data" in page) == thin  # a thin store's report says so
        assert "<script" not in page
        lists = sorted((local_run / "stores" / d / "campaigns").glob("*.csv"))
        assert lists
        listed = pd.concat(pd.read_csv(f, encoding="utf-8-sig") for f in lists)
        assert set(listed["customer_id"]) == set(mine["customer_id"])


def test_each_store_lists_its_own_open_leads(local_run: Path, group_data) -> None:
    data, _ = group_data
    store = pd.read_parquet(data / "leads.parquet", columns=["lead_id", "dealer_id"])
    store = store.drop_duplicates("lead_id").set_index("lead_id")["dealer_id"]
    group = pd.read_csv(local_run / "leads" / "sales_leads.csv", encoding="utf-8-sig")
    parts = []
    for d in ("D01", "D02", "D03"):
        mine = pd.read_csv(
            local_run / "stores" / d / "leads" / "sales_leads.csv", encoding="utf-8-sig"
        )
        assert (mine["lead_id"].map(store) == d).all()
        assert list(mine.columns) == list(group.columns)
        parts.append(mine)
    every = pd.concat(parts)
    assert sorted(every["lead_id"]) == sorted(group["lead_id"])  # each open lead in one store


def test_store_pages_carry_no_personal_data(local_run: Path, group_data) -> None:
    data, _ = group_data
    cust = pd.read_parquet(data / "customers.parquet", columns=["name", "phone"])
    text = "".join(
        (local_run / "stores" / d / "report.html").read_text(encoding="utf-8")
        for d in ("D01", "D02", "D03")
    )
    assert not any(p in text for p in cust["phone"].dropna().head(300))
    assert not any(n in text for n in cust["name"].dropna().head(300) if len(n) >= 2)


def test_dask_engine_gives_identical_scores_plans_and_lists(
    local_run: Path, dask_run: Path
) -> None:
    pd.testing.assert_frame_equal(
        pd.read_parquet(local_run / "scores.parquet"),
        pd.read_parquet(dask_run / "scores.parquet"),
        check_exact=True,
    )
    for name in ("campaign_plan", "campaign_pairs"):  # exactly: no rounding left to chance
        pd.testing.assert_frame_equal(
            pd.read_parquet(local_run / "artifacts" / f"{name}.parquet"),
            pd.read_parquet(dask_run / "artifacts" / f"{name}.parquet"),
            check_exact=True,
        )
    files = sorted(p.relative_to(local_run) for p in local_run.glob("**/campaigns/*.csv"))
    assert files
    for f in files:
        assert (local_run / f).read_bytes() == (dask_run / f).read_bytes(), f
    # features and segments too: one task per store, the same frames as the local build
    for name in ("features", "segments", "customer_stores", "value_scores", "churn_scores"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(local_run / "artifacts" / f"{name}.parquet"),
            pd.read_parquet(dask_run / "artifacts" / f"{name}.parquet"),
            check_exact=True,
        )
    for name in ("store_value_thresholds", "kpis", "ab_share_trend"):
        assert json.loads((local_run / "artifacts" / f"{name}.json").read_text()) == json.loads(
            (dask_run / "artifacts" / f"{name}.json").read_text()
        ), name
    tasks = json.loads((dask_run / "artifacts" / "engine_tasks.json").read_text())
    for task in ("plan_store", "_proba", "_contrib", "_value_scores"):
        assert tasks.get(task), task
    # per store, not per block of rows: the stores are known from the features step on
    # engine.workers_read_parts (the default): each task gets its part's folder in the run's
    # copy of the tables and the worker reads it; nothing of it is left once the run is done
    for task in ("segment_part_at", "_proba", "_value_scores"):
        assert tasks.get(task) == DEALERS, (task, tasks)
    assert tasks.get("build_part_at") == 2 * DEALERS, tasks  # the as-of date and a month earlier
    assert "build_part" not in tasks and "segment_part" not in tasks, tasks  # nothing scattered
    assert not (dask_run / ".tables").exists()
    assert not (local_run / "artifacts" / "engine_tasks.json").exists()  # local: no tasks
    assert not (dask_run / "artifacts" / "engine.json").exists()
    assert json.loads((dask_run / "manifest.json").read_text())["parameters"]["engine"] == "dask"


def test_scattered_parts_give_the_same_outputs(local_run: Path, dask_scatter_run: Path) -> None:
    for name in ("features", "segments"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(local_run / "artifacts" / f"{name}.parquet"),
            pd.read_parquet(dask_scatter_run / "artifacts" / f"{name}.parquet"),
            check_exact=True,
        )
    pd.testing.assert_frame_equal(
        pd.read_parquet(local_run / "scores.parquet"),
        pd.read_parquet(dask_scatter_run / "scores.parquet"),
        check_exact=True,
    )
    tasks = json.loads((dask_scatter_run / "artifacts" / "engine_tasks.json").read_text())
    assert tasks.get("build_part") == 2 * DEALERS and tasks.get("segment_part") == DEALERS, tasks
    assert "build_part_at" not in tasks and "segment_part_at" not in tasks, tasks


def test_unreachable_scheduler_is_exit_2_with_the_address(group_data, tmp_path: Path) -> None:
    data, end = group_data
    out = tmp_path / "reports"
    r = subprocess.run(
        [
            str(Path(sys.executable).parent / "cvm"),
            "monthly",
            "--data",
            str(data),
            "--as-of",
            str(end),
            "--out",
            str(out),
            "--engine",
            "dask",
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr
    assert "tcp://127.0.0.1:9" in r.stderr and "dask scheduler" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()


def test_evaluate_reports_each_store_in_both_views(local_run: Path, group_data) -> None:
    from cvm.evaluate import evaluate

    data, _ = group_data
    ev = evaluate(local_run, data / "truth", max_oracle_paths=0)
    assert set(ev["stores"]) == {"D01", "D02", "D03"}
    for s in ev["stores"].values():
        c = s["churn"]
        # losing a customer to a sister store counts against the store, not the group
        assert c["observed_churn_rate_store_view"] >= c["observed_churn_rate"]
        assert c["auc"] > 0.6 and s["value"]["normalized_gini"] > 0.3
    assert sum(s["churn"]["moved_within_group"] for s in ev["stores"].values()) > 0
