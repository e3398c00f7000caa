"""The report's verdicts on last month's campaigns and the plan's interval, from artifacts."""

from __future__ import annotations

import pandas as pd
import pytest

from cvm.config import load_config
from cvm.reporting import report
from cvm.run_context import RunContext


@pytest.fixture
def ctx(tmp_path) -> RunContext:
    c = RunContext(
        data="unused",
        as_of=pd.Timestamp("2026-09-30"),
        run_dir=tmp_path,
        horizon_months=12,
        budget=100000.0,
        lang="zh",
        seed=1,
        cfg=load_config("default"),
    )
    c.artifacts.mkdir(parents=True)
    return c


def _measurement(
    campaigns: list[str], lift: list[float], se: list[float], cost: list[float], **extra
) -> pd.DataFrame:
    """Last month's measurement of three campaigns, 100 target and 20 control contacts each."""
    return pd.DataFrame(
        {
            "campaign": campaigns,
            "n_target": [100] * 3,
            "n_control": [20] * 3,
            "observed_days": [28.0] * 3,
            "response_target": [0.3, 0.2, 0.1],
            "response_control": [0.1, 0.2, 0.2],
            "response_lift": [0.2, 0.0, -0.1],
            "revenue_lift": lift,
            "revenue_lift_se": se,
            "cost": cost,
            **extra,
        }
    )


def test_results_verdicts_follow_the_interval_of_the_net(ctx):
    ctx.save_frame(
        "campaign_measurement",
        _measurement(
            ["win_back", "service_reminder", "value_activation"],
            [500.0, 1.0, -300.0],
            [100.0, 100.0, 50.0],
            [1000.0, 100.0, 1000.0],
        ),
    )
    m = report.results_table(ctx).set_index("campaign")
    assert m.loc["win_back", "net"] == pytest.approx(500 * 100 - 1000)
    assert m.loc["win_back", "verdict"] == "sure_gain"  # 49,000 ± 19,600
    assert m.loc["service_reminder", "verdict"] == "unclear"  # 0 ± 19,600
    assert m.loc["value_activation", "verdict"] == "sure_loss"  # -31,000 ± 9,800
    assert "佣金要到保单到期" not in report.results_html(ctx)  # no renewal campaign measured


def test_a_renewal_campaign_without_a_gain_waits_for_its_policies(ctx):
    """An insurance renewal call earns its commission when the policy ends, after the
    measurement window: a loss on its service revenue alone is not a verdict."""
    ctx.save_frame(
        "campaign_measurement",
        _measurement(
            ["insurance_renewal", "value_activation", "win_back"],
            [-300.0, -300.0, 500.0],
            [50.0, 50.0, 100.0],
            [1000.0] * 3,
            renewal_commission=[True, False, True],
        ),
    )
    m = report.results_table(ctx).set_index("campaign")
    assert m.loc["insurance_renewal", "verdict"] == "renewal_pending"
    assert m.loc["value_activation", "verdict"] == "sure_loss"
    assert m.loc["win_back", "verdict"] == "sure_gain"  # a gain is shown as measured
    ctx.save_json("campaign_summary", {"uplift_metrics": {}})  # no renewal measured yet
    html = report.results_html(ctx)
    assert "待保单到期后判断" in html and "1 项亏损" in html and "佣金要到保单到期" in html
    assert "按已到期的保单衡量" not in html
    # the calls of earlier months whose policies have ended: their measured renewal uplift
    renewals = {
        "insurance_renewal": {
            "uplift": 0.046,
            "low": 0.040,
            "high": 0.052,
            "n_target": 124951,
            "n_control": 27630,
        }
    }
    ctx.save_json("campaign_summary", {"uplift_metrics": {"renewals": renewals}})
    html = report.results_html(ctx)
    assert "按已到期的保单衡量" in html and "124,951 次电话" in html
    assert "+4.6 个百分点" in html and "+4.0 至 +5.2 个百分点" in html
    assert "每单佣金 400 元" in html and "约带来 18 元佣金" in html


def test_plan_interval_grows_with_the_measurement_error(ctx):
    plan = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(12)],
            "campaign": ["win_back"] * 10 + ["sms"] * 2,
            "department": ["marketing"] * 10 + ["customer_service"] * 2,
            "channel": ["phone"] * 12,
            "cost": [10.0] * 12,
            "expected_incremental_value": [100.0] * 12,
            "group": ["target"] * 9 + ["control"] + ["target"] * 2,
        }
    )
    ctx.save_frame("campaign_plan", plan)

    def interval(se: float) -> float:
        ctx.save_json(
            "campaign_summary",
            {
                "uplift_metrics": {
                    "spend_calibration": {"win_back": {"model_mean": 100.0, "se": se}}
                }
            },
        )
        p = report.plan_facts(ctx)
        assert p.n_target == 11 and p.n_control == 1 and p.value == pytest.approx(1100)
        assert p.low < p.value < p.high
        return p.high - p.low

    assert interval(10.0) < interval(1000.0)  # a precise history narrows the interval


def test_lifecycle_counts_reuse_the_segments_stages(ctx, tables):
    """This month's stages come from the segments artifact; the counts equal those computed
    from the tables (what the report did before), now and a month ago."""
    from cvm.segments.lifecycle import lifecycle_entities, lifecycle_stage

    anon = tables["leads"].iloc[[1]].assign(lead_id="l10", customer_id=None)
    tables = {**tables, "leads": pd.concat([tables["leads"], anon], ignore_index=True)}
    ctx._tables = tables
    ctx.as_of = pd.Timestamp("2024-06-30")
    want_now = lifecycle_entities(tables, ctx.as_of, ctx.cfg)
    want_prev = lifecycle_entities(tables, ctx.prev_as_of, ctx.cfg)
    assert want_now.index.str.startswith("lead:").any()  # the anonymous leads are counted too
    seg = pd.DataFrame({"lifecycle_stage": lifecycle_stage(tables, ctx.as_of, ctx.cfg)})
    ctx.save_frame("segments", seg)
    # a month ago: the segments step's stages (artifact lifecycle_prev), as it saves them
    before = lifecycle_stage(tables, ctx.prev_as_of, ctx.cfg)
    ctx.save_frame("lifecycle_prev", before.rename("lifecycle_stage").to_frame())
    now, prev = report.lifecycle_counts(ctx)
    pd.testing.assert_series_equal(now, want_now)
    pd.testing.assert_series_equal(prev, want_prev)
    # without the artifacts (a report notebook opened alone): computed from the tables
    ctx.path("segments").unlink()
    ctx.path("lifecycle_prev").unlink()
    alone, alone_prev = report.lifecycle_counts(ctx)
    pd.testing.assert_series_equal(alone, want_now)
    pd.testing.assert_series_equal(alone_prev, want_prev)
