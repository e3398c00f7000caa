import numpy as np
import pandas as pd
import pytest

from cvm.leads.defeat import defeat_tables
from cvm.leads.grades import grade, grade_table
from cvm.leads.model import leads_config
from cvm.leads.orders import order_classes, stock_plan
from cvm.leads.sources import source_effectiveness


def _L() -> pd.DataFrame:
    def day(s: str) -> float:
        return float(pd.Timestamp(s).value // 86_400_000_000_000)

    return pd.DataFrame(
        {
            "created": [day("2024-05-01"), day("2024-05-02"), day("2024-05-03"), day("2024-06-10")],
            "closed": [day("2024-06-01"), day("2024-05-20"), day("2024-06-05"), np.nan],
            "status": ["won", "lost", "lost", "open"],
            "won": [True, False, False, False],
            "source": ["walk_in", "online", "online", "walk_in"],
            "model_of_interest": ["M1", "M1", "M2", "M2"],
            "defeat_reason": [None, "价格", "价格", None],
            "sales_consultant_id": ["SC1", "SC1", "SC2", "SC2"],
            "order_stage": ["contract", "potential", "intent", "intent"],
        },
        index=pd.Index(["L1", "L2", "L3", "L4"], name="lead_id"),
    )


def test_grades():
    g = grade(np.array([0.9, 0.3, 0.1]), {"A": 0.5, "B": 0.2})
    assert g.tolist() == ["A", "B", "C"]
    t = grade_table(np.array([1, 0, 0]), g)
    assert t.loc["A", "conversion"] == 1 and t["leads"].sum() == 3
    with pytest.raises(ValueError):
        grade(np.array([0.1]), {"A": 0.1, "B": 0.2})


def test_defeat_tables():
    out = defeat_tables(_L(), "2024-06-30", 12)
    assert out["defeat_by_reason"].loc["价格", "lost"] == 2
    src = out["defeat_by_source"]
    assert src.loc["online", "loss_rate"] == 1.0 and src.loc["walk_in", "lost"] == 0
    assert out["defeat_trend"].to_numpy().sum() == 2


def test_source_effectiveness_cost_per_sale():
    sales = pd.DataFrame({"lead_id": ["L1"], "price": [150_000.0]})
    s = source_effectiveness(_L(), sales, "2024-06-30", 12, {"walk_in": 100, "online": 50})
    assert s.loc["walk_in", "won"] == 1 and s.loc["walk_in", "revenue"] == 150_000
    assert s.loc["walk_in", "cost_per_sale"] == 200  # 2 leads × 100 / 1 sale
    assert np.isnan(s.loc["online", "cost_per_sale"])  # no sale
    assert s.loc["walk_in", "conversion"] == 1.0  # the open lead is not closed


def test_order_classes_and_stock_plan():
    L = _L()
    scored = pd.DataFrame({"age_days": [20.0], "p": [0.8]}, index=pd.Index(["L4"], name="lead_id"))
    cfg = leads_config()
    o = order_classes(scored, L, "2024-06-30", cfg)
    assert o.loc["L4", "order_class"] in ("B", "C")
    assert o.loc["L4", "expected_delivery_month"] >= "2024-06"
    L.loc["L4", "order_stage"] = "contract"
    assert order_classes(scored, L, "2024-06-30", cfg).loc["L4", "order_class"] == "A"
    plan = stock_plan(order_classes(scored, L, "2024-06-30", cfg))
    assert plan.loc["M2", "total"] == 1.0
