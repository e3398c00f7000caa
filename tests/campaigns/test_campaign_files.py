"""Files for people: BOM, whole CNY, campaign labels, readable reasons, xlsx, no formula injection."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd
import pytest

from cvm.campaigns.files import neutralize, write_csv
from cvm.campaigns.lists import LIST_COLUMNS, department_lists, write_department_lists

HOSTILE = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def _plan() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["C0000", "C0001", "C0002"],
            "campaign": ["win_back", "win_back", "referral_invitation"],
            "department": ["marketing", "marketing", "sales"],
            "channel": ["phone", "phone", "wechat"],
            "cost": [300.0, 300.0, 20.0],
            "expected_incremental_value": [51.01155383256109, 200.4, 30.6],
            "group": ["target", "control", "target"],
            "uplift": [0.1, 0.05, 0.02],
            "uplift_source": ["learned", "learned", "prior"],
            "value_at_stake": [8000.0, 10000, 2500],
            "lifecycle_stage": ["won_back", "at_risk", "active_owner"],
            "value_tag": ["A", "B", "C"],
            "churn_probability": [0.4, 0.7, 0.1],
        }
    )


def test_neutralize_prefixes_text_cells_only():
    df = pd.DataFrame({"text": HOSTILE + ["ok", "13 8"], "amount": [-5, 1, 2, 3, 4, 5, 6, -7]})
    out = neutralize(df)
    assert all(
        v.startswith("'") and v[1:] == h for v, h in zip(out["text"][:6], HOSTILE, strict=True)
    )
    assert list(out["text"][6:]) == ["ok", "13 8"]
    assert out["amount"].tolist() == df["amount"].tolist()  # numbers untouched


def test_csv_has_bom_and_neutralized_cells(tmp_path):
    p = write_csv(
        pd.DataFrame({"customer_id": ["=1+1", "C1"], "cost": [-3, 4]}), tmp_path / "x.csv"
    )
    raw = p.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(p, encoding="utf-8-sig")
    assert back["customer_id"].tolist() == ["'=1+1", "C1"] and back["cost"].tolist() == [-3, 4]
    assert not list(tmp_path.glob(".*"))  # no temporary file left


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_department_lists_for_excel(tmp_path, customers, catalogue, lang):
    from openpyxl import load_workbook

    plan = _plan()
    plan.loc[0, "customer_id"] = '=HYPERLINK("http://evil")'
    lists = department_lists(plan, customers, catalogue=catalogue, lang=lang)
    m = lists["marketing"]
    assert list(m.columns) == LIST_COLUMNS + ["phone"]
    assert m["expected_incremental_value"].dtype.kind == "i"  # whole CNY
    assert m["expected_incremental_value"].tolist() == [51, 200]
    assert set(m["campaign_label"]) == {catalogue["win_back"].name(lang)}
    if lang == "zh":
        assert not re.search(r"[A-Za-z]{2,}", " ".join(m["reasons"])), m["reasons"].tolist()
        assert "阶段 已召回" in m["reasons"].iloc[0] and "元" in m["reasons"].iloc[0]
    else:
        assert "stage Won back" in m["reasons"].iloc[0] and "_" not in " ".join(m["reasons"])
    paths = write_department_lists(lists, tmp_path, lang)
    assert sorted(p.name for p in paths) == [
        "marketing.csv",
        "marketing.xlsx",
        "sales.csv",
        "sales.xlsx",
    ]
    csv = pd.read_csv(tmp_path / "marketing.csv", encoding="utf-8-sig")
    assert list(csv.columns) == LIST_COLUMNS + ["phone"]  # the contract's names, for CRM imports
    assert (tmp_path / "marketing.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert csv["customer_id"].iloc[0].startswith("'=")
    ws = load_workbook(tmp_path / "marketing.xlsx").active
    head = [c.value for c in ws[1]]
    assert head[0] == ("客户编号" if lang == "zh" else "Customer")
    assert not any("_" in h for h in head)
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["H"].width >= 60  # reasons
    assert ws["A2"].value.startswith("'=")  # no formula in Excel either
    phones = [r[len(head) - 1].value for r in ws.iter_rows(min_row=2)]
    assert all(p is None or re.fullmatch(r"\d{3}\*{4}\d{4}", p) for p in phones)


def test_lead_list_has_bom_and_neutralized_cells(tmp_path):
    from cvm.leads.step import LIST_COLUMNS as LEAD_COLUMNS
    from cvm.leads.step import write_lead_list

    scores = pd.DataFrame(
        {
            "grade": ["A", "B"],
            "conversion_probability": [0.9, 0.4],
            "order_class": ["B", "C"],
            "expected_delivery_month": ["2026-10"] * 2,
            "source": ["walk_in", "online"],
            "model_of_interest": ["@evil", "晨风 S3"],
            "sales_consultant_id": ["+1", "SC1"],
            "reasons": ["-x", "已试驾"],
        },
        index=pd.Index(["L1", "L2"], name="lead_id"),
    )
    write_lead_list(SimpleNamespace(run_dir=tmp_path), scores)
    path = tmp_path / "leads" / "sales_leads.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert list(back.columns) == LEAD_COLUMNS
    row = back.iloc[0]
    assert (row["model_of_interest"], row["sales_consultant_id"], row["reasons"]) == (
        "'@evil",
        "'+1",
        "'-x",
    )
    assert back["conversion_probability"].tolist() == [0.9, 0.4]
