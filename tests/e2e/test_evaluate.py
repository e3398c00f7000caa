"""`cvm evaluate` on the shared monthly run: the design's JSON keys, sane values, and churn
calibration measured in the world the model describes (the store keeps contacting)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cvm.cli import app

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]


@pytest.fixture(scope="module")
def evaluation(monthly_run: Path, sim_dir: Path) -> dict:
    res = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--run",
            str(monthly_run),
            "--truth",
            str(sim_dir / "truth"),
            "--max-oracle-paths",
            "48",
        ],
    )
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)  # progress bars go to stderr


def test_contract_keys(evaluation: dict) -> None:
    c, v = evaluation["churn"], evaluation["value"]
    for k in ("auc", "oracle_auc", "pr_auc", "brier", "ece"):
        assert 0 <= c[k] <= 1, k
    assert set(c["baselines"]) >= {"recency", "rfm_logistic"}
    for k in (
        "normalized_gini",
        "oracle_normalized_gini",
        "spearman",
        "top_decile_capture",
        "total_ratio",
    ):
        assert k in v
    assert set(evaluation["campaigns"]) >= {
        "budget",
        "incremental_value",
        "oracle_incremental_value",
        "highest_risk_first_incremental_value",
        "campaign_means_incremental_value",
        "random_eligible_incremental_value",
        "store_rules_incremental_value",
        "value_at_risk_first_incremental_value",
        "per_campaign",
        "pair_oracle",
    }
    assert evaluation["campaigns"]["oracle_source"] == "pair_oracle"
    assert all(v["paths"] <= 48 for v in evaluation["campaigns"]["pair_oracle"].values())
    assert {"auc", "oracle_auc", "auc_excess_vs_oracle"} <= set(evaluation["leads"])
    # honest ratios: chance taken out, with intervals
    lo, hi = c["auc_ci"]
    assert lo < c["auc"] < hi
    assert c["auc_excess_vs_oracle"] == pytest.approx(
        (c["auc"] - 0.5) / (c["oracle_auc"] - 0.5), rel=1e-6
    )
    assert c["auc_excess_vs_oracle"] < c["auc_vs_oracle"]
    lo, hi = v["normalized_gini_ci"]
    assert lo < v["normalized_gini"] < hi
    lo, hi = v["total_ratio_ci"]
    assert lo < v["total_ratio"] < hi
    a = v["active"]
    assert 0 < a["n"] < v["n"] and "normalized_gini" in a and "total_ratio_ci" in a


def test_churn_model_beats_its_baselines_and_trails_the_oracle(evaluation: dict) -> None:
    c = evaluation["churn"]
    assert c["auc_baseline_rows"] > max(c["baselines"].values())
    assert c["auc"] < c["oracle_auc"]


def test_churn_calibrated_in_the_business_as_usual_future(evaluation: dict) -> None:
    """Campaigns kept going retain customers: fewer leave than without contact, and the
    model's mean probability (learned from a history with campaigns) matches that world."""
    c = evaluation["churn"]
    assert c["observed_churn_rate_business_as_usual"] < c["observed_churn_rate"]
    gap = abs(c["predicted_churn_rate"] - c["observed_churn_rate_business_as_usual"])
    assert gap < 0.05
    assert gap < c["observed_churn_rate"] - c["predicted_churn_rate"]


def test_new_baselines_and_value_definitions(evaluation: dict) -> None:
    c, v = evaluation["churn"], evaluation["value"]
    assert {"bgnbd_p_alive", "lightgbm_rfm"} <= set(c["baselines"])
    assert {"historical_average", "bgnbd_gamma_gamma", "recency_frequency", "lightgbm_rfm"} <= set(
        v["baselines"]
    )
    assert "gross margin" in v["definition"]
    cp = v["customer_paid"]  # the old definition, judged against customer-paid spend
    assert 0.5 < cp["total_ratio"] < 2 and 0 < cp["normalized_gini"] < 1


def test_every_owner_and_open_lead_is_scored(monthly_run: Path) -> None:
    import pandas as pd

    m = json.loads((monthly_run / "metrics.json").read_text(encoding="utf-8"))
    cov = m["coverage"]
    new = cov["no_visit_yet"]
    assert new["owners"] > 0  # the simulated store sells cars every month
    assert new["churn_probability"] == new["owners"] == new["predicted_value"]
    assert cov["active"]["churn_probability"] == cov["active"]["owners"]
    assert cov["value_share_of_owners"] == 1.0
    lc = m["lead_coverage"]
    assert lc["conversion_probability"] == lc["open_leads"] > 0
    s = pd.read_parquet(monthly_run / "scores.parquet")
    assert "predicted_customer_paid" in s.columns
    # owners without a visit get a margin value from the new-owner cells, no customer-paid one
    with_visits = s["predicted_value"].notna().sum() - new["predicted_value"]
    assert s["predicted_customer_paid"].notna().sum() > 0.9 * with_visits
