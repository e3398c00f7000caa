"""A dealer group's pages: the league table in the group report, one report per store.

The group report (``reports/YYYY-MM/report.html``, the usual notebook report) gains a
section "门店排名 / Stores" after the summary: the group summary and the league table
(``cvm.group.league``). Each store gets ``reports/YYYY-MM/stores/<dealer_id>/report.html``:
a static page (no scripts, opens offline) with the store's figures and their rank in the
group, its own value-tag thresholds, its budget and capacities, its plan, its department
lists (``stores/<dealer_id>/campaigns/``) and its customers most at risk (ids only, no
personal data). A store with too little data says so at the top.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cvm.group.league import GROUP, group_summary
from cvm.i18n import label
from cvm.reporting import fmt

LABELS = {
    "dealer_id": ("门店", "Store"),
    "customers": ("客户数", "Customers"),
    "active": ("活跃客户", "Active"),
    "retention_2nd_service": ("二保留存(排名)", "2nd-service retention (rank)"),
    "retention_after_warranty": ("保修期后留存(排名)", "After-warranty retention (rank)"),
    "ab_share": ("A+B占比(排名)", "A+B share (rank)"),
    "churn_risk": ("流失风险客户占比(排名)", "Churn risk (rank)"),
    "value_at_risk": ("风险价值(排名)", "Value at risk (rank)"),
    "budget": ("预算", "Budget"),
    "plan_targets": ("计划客户", "Plan: customers"),
    "plan_spend": ("计划花费", "Plan: spend"),
    "plan_value": ("预期增量价值(排名)", "Plan: expected value (rank)"),
    "measured_response_lift": ("上月实测提升(排名)", "Last month's measured lift (rank)"),
    "measured_incremental_revenue": ("上月增量收入", "Last month's incremental revenue"),
}
PCT = ("retention_2nd_service", "retention_after_warranty", "ab_share", "churn_risk")
MONEY = ("value_at_risk", "budget", "plan_spend", "plan_value", "measured_incremental_revenue")
RANKED = (
    "retention_2nd_service",
    "retention_after_warranty",
    "ab_share",
    "churn_risk",
    "value_at_risk",
    "plan_value",
    "measured_response_lift",
)
CSS = """body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",
sans-serif;max-width:1180px;margin:24px auto;padding:0 16px;color:#222}h1{font-size:22px}
h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #ddd;
padding:4px 8px}td.n{text-align:right}th{background:#f4f4f4}.warn{background:#fff4e5;
border-left:4px solid #e08a00;padding:8px}.note{color:#555;font-size:12px}"""


def _lab(col: str, lang: str) -> str:
    if col in LABELS:
        return LABELS[col][0 if lang == "zh" else 1]
    return label("column", col, lang)


def _cell(col: str, v: Any, rank: Any, lang: str) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)) or pd.isna(v):
        text = "–"
    elif col in PCT:
        text = fmt.pct(float(v))
    elif col == "measured_response_lift":
        text = fmt.points(float(v), lang)
    elif col in MONEY:
        text = fmt.money(float(v), lang)
    else:
        text = fmt.count(v)
    if col in RANKED and rank is not None and not pd.isna(rank):
        text += f" (#{int(rank)})"
    return text


def league_frame(league: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The league table with formatted cells (headers in ``lang``), stores then the group."""
    cols = [c for c in LABELS if c != "dealer_id" and c in league.columns]
    rows = []
    for dealer, r in league.iterrows():
        name = ("集团合计" if lang == "zh" else "Group") if dealer == GROUP else str(dealer)
        row = {_lab("dealer_id", lang): name}
        for c in cols:
            row[_lab(c, lang)] = _cell(c, r[c], r.get(f"rank_{c}"), lang)
        rows.append(row)
    return pd.DataFrame(rows)


def _table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"t" if i == 0 else "n"}">{html.escape(str(v))}</td>'
            for i, v in enumerate(r)
        )
        + "</tr>"
        for r in df.itertuples(index=False)
    )
    return f'<table class="tbl"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


LEAGUE_PARTS = (
    (
        "customers",
        "active",
        "retention_2nd_service",
        "retention_after_warranty",
        "ab_share",
        "churn_risk",
        "value_at_risk",
    ),
    (
        "budget",
        "plan_targets",
        "plan_spend",
        "plan_value",
        "measured_response_lift",
        "measured_incremental_revenue",
    ),
)
"""The league table in two tables that fit the page: the customers, then plan and results."""


def league_html(league: pd.DataFrame, lang: str) -> str:
    """The group report's stores section: the group summary, then the league table (in two
    parts: customers and risk; plan and last month's results)."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in group_summary(league, lang))
    full = league_frame(league, lang)
    store_col = _lab("dealer_id", lang)
    tables = "".join(
        _table(full[[store_col, *[_lab(c, lang) for c in part if c in league.columns]]])
        for part in LEAGUE_PARTS
    )
    note = (
        "排名:1 为集团内最好(流失风险越低越好;风险价值 1 为最多)。各门店按其门店页面查看"
        "明细:stores/<门店>/report.html。"
        if lang == "zh"
        else "Rank 1 = best in the group (lower churn risk is better; value at risk: 1 = the "
        "most at stake). Each store's page: stores/<store>/report.html."
    )
    return f'<ol class="summary">{items}</ol>' + tables + f'<p class="note">{html.escape(note)}</p>'


def _page(title: str, subtitle: str, body: str, lang: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        f'<meta charset="utf-8"><title>{html.escape(title)}</title><style>{CSS}</style>'
        f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p>"
        f"{body}</body></html>"
    )


def mask_id(value: object) -> str:
    """A customer id as the group report shows it (``cvm.reporting.report.mask_id``)."""
    from cvm.reporting.report import mask_id as _mask

    return _mask(value)


def store_report_html(
    dealer: str,
    league: pd.DataFrame,
    scores: pd.DataFrame,
    plan: pd.DataFrame,
    thresholds: dict[str, float] | None,
    budget: dict[str, Any] | None,
    lists: dict[str, int],
    as_of: str,
    lang: str,
    top_rows: int,
) -> str:
    """One store's report page (see the module docstring)."""
    zh = lang == "zh"
    r = league.loc[dealer]
    n_stores = int((league.index != GROUP).sum())
    parts = []
    if bool(r.get("thin", False)):
        parts.append(
            '<p class="warn">'
            + html.escape(
                f"本店活跃客户仅{int(r['active'])}人,数据不足以单独建模:客户按集团模型评分,"
                f"各项数字波动较大,请谨慎解读。"
                if zh
                else f"This store has only {int(r['active'])} active customers: too little data for "
                f"a model of its own. Its customers are scored by the group's model; its figures "
                f"are noisy."
            )
            + "</p>"
        )
    # the store's figures with their rank, next to the group's
    rows = []
    for c in [c for c in LABELS if c not in ("dealer_id",) and c in league.columns]:
        rows.append(
            {
                ("指标" if zh else "Figure"): _lab(c, lang)
                .replace("(排名)", "")
                .replace(" (rank)", ""),
                ("本店" if zh else "Store"): _cell(c, r[c], None, lang),
                (f"排名(共{n_stores}家)" if zh else f"Rank of {n_stores}"): ""
                if c not in RANKED or pd.isna(r.get(f"rank_{c}"))
                else str(int(r[f"rank_{c}"])),
                ("集团" if zh else "Group"): _cell(c, league.loc[GROUP, c], None, lang),
            }
        )
    parts.append(
        f"<h2>{'本店与集团' if zh else 'The store and the group'}</h2>" + _table(pd.DataFrame(rows))
    )
    # value tags with the store's own thresholds
    mine = scores[scores["dealer_id"] == dealer]
    tags = mine["value_tag"].value_counts().reindex(["A", "B", "C", "D"], fill_value=0)
    thr = thresholds or {}
    head = "客户价值标签(本店阈值)" if zh else "Value tags (the store's own thresholds)"
    parts.append(
        f"<h2>{head}</h2>"
        + "<p>"
        + html.escape(
            (
                f"高频:每年进厂≥{thr.get('visits_per_year', float('nan')):.2f}次;"
                f"高消费:单次付费≥{thr.get('spend_per_visit', float('nan')):,.0f}元"
                f"(本店客户的中位数)。"
            )
            if zh
            else (
                f"High frequency: ≥ {thr.get('visits_per_year', float('nan')):.2f} visits "
                f"a year; high spend: ≥ {thr.get('spend_per_visit', float('nan')):,.0f} CNY "
                f"a visit (the medians of this store's customers)."
            )
        )
        + "</p>"
        + _table(
            pd.DataFrame(
                {
                    ("标签" if zh else "Tag"): tags.index,
                    ("客户数" if zh else "Customers"): [fmt.count(x) for x in tags.to_numpy()],
                }
            )
        )
    )
    # budget, capacities and the plan
    b = budget or {}
    cap = b.get("capacity") or {}
    head = "本月计划" if zh else "This month's plan"
    parts.append(
        f"<h2>{head}</h2><p>"
        + html.escape(
            (
                f"预算{fmt.money(b.get('budget', 0), lang)}元;各部门月度产能:"
                + "、".join(f"{label('department', k, lang)} {int(v):,}" for k, v in cap.items())
            )
            if zh
            else (
                f"Budget {fmt.money(b.get('budget', 0), lang)} CNY; department capacities: "
                + ", ".join(f"{label('department', k, lang)} {int(v):,}" for k, v in cap.items())
            )
        )
        + "</p>"
    )
    p = plan[plan["dealer_id"] == dealer] if len(plan) else plan
    if len(p):
        g = p.groupby(["campaign", "group"]).size().unstack(fill_value=0)
        cost = p[p["group"] == "target"].groupby("campaign")["cost"].sum()
        val = p[p["group"] == "target"].groupby("campaign")["expected_incremental_value"].sum()
        t = pd.DataFrame(
            {
                label("column", "campaign_label", lang): [
                    label("campaign", c, lang) for c in g.index
                ],
                label("column", "n_target", lang): [
                    fmt.count(x) for x in g.get("target", 0 * g.iloc[:, 0])
                ],
                label("column", "n_control", lang): [
                    fmt.count(x) for x in g.get("control", 0 * g.iloc[:, 0])
                ],
                label("column", "cost", lang): [fmt.money(cost.get(c, 0.0), lang) for c in g.index],
                label("column", "expected_incremental_value", lang): [
                    fmt.money(val.get(c, 0.0), lang) for c in g.index
                ],
            }
        )
        parts.append(_table(t))
    else:
        parts.append(
            "<p>" + ("本月无计划客户。" if zh else "No customers planned this month.") + "</p>"
        )
    if lists:
        items = "".join(
            f'<li><a href="campaigns/{html.escape(d)}.csv">{html.escape(label("department", d, lang))}'
            f'</a> ({n:,}) · <a href="campaigns/{html.escape(d)}.xlsx">xlsx</a></li>'
            for d, n in sorted(lists.items())
        )
        parts.append(f"<h2>{'部门名单' if zh else 'Department lists'}</h2><ul>{items}</ul>")
    # the store's customers most at risk (ids only)
    risky = (
        mine[mine["churn_probability"].notna()]
        .sort_values("churn_probability", ascending=False, kind="stable")
        .head(top_rows)
    )
    if len(risky):
        t = pd.DataFrame(
            {
                label("column", "customer_id", lang): [mask_id(c) for c in risky["customer_id"]],
                label("column", "churn_probability", lang): [
                    fmt.pct(x) for x in risky["churn_probability"]
                ],
                label("column", "predicted_value", lang): [
                    fmt.money(x, lang) for x in risky["predicted_value"]
                ],
                label("column", "reason_1", lang): risky["reason_1"].fillna("").astype(str),
            }
        )
        parts.append(
            f"<h2>{'流失风险最高的客户' if zh else 'Customers most at risk'}</h2>" + _table(t)
        )
    title = f"门店 {dealer} · 客户价值管理月报" if zh else f"Store {dealer} — monthly report"
    # ids masked as in the group report; the department lists carry the full ids
    sub = f"截至 {as_of}" if zh else f"As of {as_of}"
    return _page(title, sub, "".join(parts), lang)


def write_store_reports(run_dir: Path, as_of: str, lang: str, cfg: dict[str, Any]) -> list[Path]:
    """``stores/<dealer_id>/report.html`` for every store of the league table."""
    from cvm import graph

    league = pd.read_parquet(graph.path(run_dir, "store_league"))
    scores = pd.read_parquet(graph.path(run_dir, "scores"))
    plan_f = graph.path(run_dir, "campaign_plan")
    plan = pd.read_parquet(plan_f) if plan_f.exists() else pd.DataFrame(columns=["dealer_id"])
    thr_f = graph.path(run_dir, "store_value_thresholds")
    thresholds = json.loads(thr_f.read_text(encoding="utf-8")) if thr_f.exists() else {}
    summ_f = graph.path(run_dir, "campaign_summary")
    budgets = (
        (json.loads(summ_f.read_text(encoding="utf-8")).get("stores") or {})
        if summ_f.exists()
        else {}
    )
    top = int(cfg["report"]["top_rows"])
    out = []
    for dealer in [d for d in league.index if d != GROUP]:
        folder = Path(run_dir) / "stores" / str(dealer)
        folder.mkdir(parents=True, exist_ok=True)
        lists = {}
        for f in sorted((folder / "campaigns").glob("*.csv")):
            lists[f.stem] = int(max(sum(1 for _ in f.open(encoding="utf-8-sig")) - 1, 0))
        page = store_report_html(
            str(dealer),
            league,
            scores,
            plan,
            thresholds.get(dealer),
            budgets.get(dealer),
            lists,
            as_of,
            lang,
            top,
        )
        path = folder / "report.html"
        path.write_text(page, encoding="utf-8")
        out.append(path)
    return out
