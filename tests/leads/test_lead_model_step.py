import json

import numpy as np
import pandas as pd
import pytest

from cvm.data.ids import day_number
from cvm.data.simulator.io import write_dataset
from cvm.leads.features import features_at, prepare
from cvm.leads.model import LeadModel, train_leads
from cvm.leads.step import LIST_COLUMNS, leads_step
from cvm.reporting.leads_section import leads_html
from cvm.run_context import RunContext

pytestmark = pytest.mark.xdist_group("leads_sim")


def test_model_trains_out_of_time_and_round_trips(tables):
    m = train_leads(tables, "2026-09-30", seed=0)
    assert 0.5 < m.metrics["auc"] <= 1
    assert set(m.metrics["grades"]) == {"A", "B", "C"}
    v = m.validation
    assert v["snapshot_day"].min() > 0 and set(np.unique(v["y_true"])) <= {0, 1}
    m2 = LeadModel.from_dict(json.loads(json.dumps(m.to_dict())))
    X = features_at(prepare(tables), day_number("2026-09-30"))
    assert len(X) and np.allclose(m.predict_proba(X), m2.predict_proba(X))
    assert len(m2.predict_proba(X.head(0))) == 0


@pytest.fixture(scope="module")
def run(sim, tmp_path_factory):
    root = tmp_path_factory.mktemp("leads")
    data = root / "data"
    write_dataset(data, sim.tables, sim.truth, sim.meta, "parquet", True)
    ctx = RunContext.open(str(data), sim.meta["end"], root / "run", lang="en")
    return ctx, leads_step(ctx), data


def test_step_writes_lead_list_without_pii(run):
    ctx, metrics, _ = run
    lst = pd.read_csv(ctx.run_dir / "leads" / "sales_leads.csv")
    assert list(lst.columns) == LIST_COLUMNS
    assert not {"name", "phone", "customer_id"} & set(lst.columns)
    assert set(lst["grade"]) <= {"A", "B", "C"}
    assert lst["conversion_probability"].is_monotonic_decreasing
    assert metrics["open_leads"] == len(lst)
    for name in ("lead_scores", "lead_metrics", "defeat_by_reason", "lead_sources", "lead_orders"):
        assert ctx.has(name)


def test_funnel_section_and_evaluation(run):
    ctx, _, data = run
    h = leads_html(ctx)
    assert "<img" in h and "Lead sources" in h and "What it means" in h
    from cvm.leads.evaluate import evaluate_leads

    ev = evaluate_leads(ctx.run_dir, data / "truth")
    assert ev is not None and 0 <= ev["auc"] <= 1 and "oracle_auc" in ev


def test_step_skips_without_leads(tmp_path, sim):
    data = tmp_path / "data"
    tabs = {k: v for k, v in sim.tables.items() if k not in ("leads", "lead_followups")}
    write_dataset(data, tabs, sim.truth, sim.meta, "parquet", True)
    ctx = RunContext.open(str(data), sim.meta["end"], tmp_path / "run", lang="zh")
    out = leads_step(ctx)
    assert "skipped" in out
    assert "没有线索数据" in leads_html(ctx)
