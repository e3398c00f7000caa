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
from cvm.i18n import LABELS, label, t
from cvm.reporting import fmt

LEAGUE_COLUMNS = tuple(LABELS["league"])
"""The league table's columns in the order shown (their headers: kind ``league`` of cvm.i18n)."""
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
    return label("league" if col in LABELS["league"] else "column", col, lang)


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
    cols = [c for c in LEAGUE_COLUMNS if c != "dealer_id" and c in league.columns]
    rows = []
    for dealer, r in league.iterrows():
        name = t("group_total", lang) if dealer == GROUP else str(dealer)
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
    note = t("league_note", lang)
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
    r = league.loc[dealer]
    n_stores = int((league.index != GROUP).sum())
    parts = []
    if bool(r.get("thin", False)):
        parts.append(
            '<p class="warn">' + html.escape(t("store_thin", lang, n=int(r["active"]))) + "</p>"
        )
    # the store's figures with their rank, next to the group's
    rows = []
    for c in [c for c in LEAGUE_COLUMNS if c not in ("dealer_id",) and c in league.columns]:
        rows.append(
            {
                t("store_figure", lang): _lab(c, lang).replace(t("rank_suffix", lang), ""),
                t("store_this", lang): _cell(c, r[c], None, lang),
                t("store_rank_of", lang, n=n_stores): ""
                if c not in RANKED or pd.isna(r.get(f"rank_{c}"))
                else str(int(r[f"rank_{c}"])),
                t("store_group", lang): _cell(c, league.loc[GROUP, c], None, lang),
            }
        )
    parts.append(f"<h2>{t('store_vs_group', lang)}</h2>" + _table(pd.DataFrame(rows)))
    # value tags with the store's own thresholds
    mine = scores[scores["dealer_id"] == dealer]
    tags = mine["value_tag"].value_counts().reindex(["A", "B", "C", "D"], fill_value=0)
    thr = thresholds or {}
    nan = float("nan")  # a store without thresholds (too few customers) shows "nan"
    parts.append(
        f"<h2>{t('store_value_tags', lang)}</h2>"
        + "<p>"
        + html.escape(
            t(
                "store_tag_thresholds",
                lang,
                visits=thr.get("visits_per_year", nan),
                spend=thr.get("spend_per_visit", nan),
            )
        )
        + "</p>"
        + _table(
            pd.DataFrame(
                {
                    t("store_tag", lang): tags.index,
                    t("customers", lang): [fmt.count(x) for x in tags.to_numpy()],
                }
            )
        )
    )
    # budget, capacities and the plan
    b = budget or {}
    cap = b.get("capacity") or {}
    capacities = t("list_sep", lang).join(
        f"{label('department', k, lang)} {int(v):,}" for k, v in cap.items()
    )
    budget_text = t(
        "store_budget", lang, budget=fmt.money(b.get("budget", 0), lang), capacities=capacities
    )
    parts.append(f"<h2>{t('store_plan', lang)}</h2><p>" + html.escape(budget_text) + "</p>")
    p = plan[plan["dealer_id"] == dealer] if len(plan) else plan
    if len(p):
        g = p.groupby(["campaign", "group"]).size().unstack(fill_value=0)
        cost = p[p["group"] == "target"].groupby("campaign")["cost"].sum()
        val = p[p["group"] == "target"].groupby("campaign")["expected_incremental_value"].sum()
        tab = pd.DataFrame(
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
        parts.append(_table(tab))
    else:
        parts.append("<p>" + t("store_no_plan", lang) + "</p>")
    if lists:
        items = "".join(
            f'<li><a href="campaigns/{html.escape(d)}.csv">{html.escape(label("department", d, lang))}'
            f'</a> ({n:,}) · <a href="campaigns/{html.escape(d)}.xlsx">xlsx</a></li>'
            for d, n in sorted(lists.items())
        )
        parts.append(f"<h2>{t('store_lists', lang)}</h2><ul>{items}</ul>")
    # the store's customers most at risk (ids only)
    risky = (
        mine[mine["churn_probability"].notna()]
        .sort_values("churn_probability", ascending=False, kind="stable")
        .head(top_rows)
    )
    if len(risky):
        tab = pd.DataFrame(
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
        parts.append(f"<h2>{t('store_most_at_risk', lang)}</h2>" + _table(tab))
    title = t("store_title", lang, dealer=dealer)
    # ids masked as in the group report; the department lists carry the full ids
    sub = t("as_of", lang, as_of=as_of)
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
