"""The monthly leads step and the report's funnel section.

``leads_step`` trains the lead model out of time, scores the leads open at the as-of date,
grades them, writes the sales lead list ``leads/sales_leads.csv`` (no names or phones)
and saves the defeat, source and order tables as artifacts. ``leads_html`` renders them.
"""

from __future__ import annotations

import html
import logging
from typing import Any

import pandas as pd

from cvm.config import CvmError
from cvm.features.pit import DAYS_PER_MONTH, day_number
from cvm.run_context import RunContext

log = logging.getLogger(__name__)

DEFEAT_TABLES = ("defeat_by_reason", "defeat_by_source", "defeat_by_model",
                 "defeat_by_consultant", "defeat_trend")
LIST_COLUMNS = ["lead_id", "grade", "conversion_probability", "order_class",
                "expected_delivery_month", "source", "model_of_interest", "sales_consultant_id",
                "reasons"]


def _cfg(ctx: RunContext) -> dict[str, Any]:
    from cvm.leads.model import leads_config

    return leads_config(ctx.cfg.get("leads"))


def leads_step(ctx: RunContext) -> dict[str, Any]:
    """Score, grade and list open leads; defeat, source and order tables. Skips without leads."""
    from cvm.leads.defeat import defeat_tables
    from cvm.leads.features import features_at, prepare
    from cvm.leads.grades import grade, grade_table
    from cvm.leads.model import train_leads
    from cvm.leads.orders import order_classes, stock_plan
    from cvm.leads.reasons import lead_reasons
    from cvm.leads.sources import source_effectiveness
    from cvm.models.explain import contributions

    cfg = _cfg(ctx)
    if "leads" not in ctx.tables or ctx.tables["leads"].empty:
        out = {"skipped": "the leads table is absent"}
        ctx.save_json("lead_metrics", out)
        return out
    data = prepare(ctx.tables)
    L = data.leads
    months = float(cfg["analysis_months"])
    for name, frame in defeat_tables(L, ctx.as_of, months).items():
        ctx.save_frame(name, frame)
    ctx.save_frame("lead_sources", source_effectiveness(
        L, ctx.tables.get("vehicle_sales"), ctx.as_of, months, cfg["source_cost_per_lead"]))
    ctx.save_frame("lead_funnel", funnel(ctx.tables, L, ctx.as_of, months))
    try:
        model = train_leads(data, ctx.as_of, cfg, seed=ctx.seed)
    except CvmError as err:
        out = {"skipped": str(err)}
        ctx.save_json("lead_metrics", out)
        return out
    X = features_at(data, day_number(ctx.as_of))
    p = model.predict_proba(X)
    g = grade(p, cfg["grades"])
    if len(X):
        contrib = contributions(model.booster, model.prepare(X), model.num_threads)
        reasons = lead_reasons(contrib, X, ctx.lang, int(cfg["reasons_top_k"]))
    else:
        reasons = pd.Series([], index=X.index, dtype=object)
    scored = pd.DataFrame({"age_days": X["age_days"], "p": p}, index=X.index)
    orders = order_classes(scored, L, ctx.as_of, cfg)
    scores = pd.DataFrame({"grade": g, "conversion_probability": p,
                           "order_class": orders["order_class"],
                           "expected_delivery_month": orders["expected_delivery_month"],
                           "source": X["source"].astype("object"),
                           "model_of_interest": X["model_of_interest"].astype("object"),
                           "sales_consultant_id": L["sales_consultant_id"].reindex(X.index),
                           "reasons": reasons}, index=X.index)
    scores.index.name = "lead_id"
    ctx.save_frame("lead_scores", scores)
    ctx.save_frame("lead_orders", orders)
    ctx.save_frame("lead_stock_plan", stock_plan(orders))
    ctx.save_frame("lead_validation", model.validation)
    ctx.save_frame("lead_grades_now", grade_table(None, g, p))
    metrics = {**model.metrics, "open_leads": len(X),
               "grade_counts": pd.Series(g).value_counts().to_dict()}
    ctx.save_json("lead_metrics", metrics)
    ctx.save_json("lead_model", model.to_dict())
    write_lead_list(ctx, scores)
    return metrics


def write_lead_list(ctx: RunContext, scores: pd.DataFrame) -> None:
    """``leads/sales_leads.csv``: open leads, best first; ids and scores only, no PII."""
    path = ctx.run_dir / "leads" / "sales_leads.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    lst = scores.reset_index()[LIST_COLUMNS].sort_values(
        ["conversion_probability", "lead_id"], ascending=[False, True], kind="stable")
    lst["conversion_probability"] = lst["conversion_probability"].round(4)
    tmp = path.with_suffix(".csv.tmp")
    lst.to_csv(tmp, index=False, encoding="utf-8-sig")
    tmp.replace(path)


def funnel(tables: dict[str, pd.DataFrame], L: pd.DataFrame, as_of, months: float) -> pd.Series:
    """Leads created in the last ``months``: all, followed up, test drive, won, delivered."""
    end = day_number(as_of)
    c = L["created"].to_numpy()
    win = L[(c <= end) & (c > end - months * DAYS_PER_MONTH)]
    out = {"leads": len(win)}
    ev = tables.get("lead_followups")
    if ev is not None:
        from cvm.features.pit import days, ids, isin

        seen = ids(ev["lead_id"])[days(ev["followup_date"]) <= end]
        out["followed_up"] = int(isin(ids(pd.Series(win.index)), seen).sum())
    out["test_drive"] = int((win["td_day"].to_numpy() <= end).sum())
    won = win["won"].to_numpy() & (win["closed"].to_numpy() <= end)
    out["won"] = int(won.sum())
    sales = tables.get("vehicle_sales")
    if sales is not None and "lead_id" in sales:
        from cvm.features.pit import ids, isin

        out["delivered"] = int(isin(ids(pd.Series(win.index[won])),
                                    ids(sales["lead_id"].dropna())).sum())
    return pd.Series(out, name="leads").to_frame()


# --- report section ---------------------------------------------------------------------------
_T = {
    "funnel": ("销售漏斗(近12个月新增线索)", "Sales funnel (leads of the last 12 months)"),
    "leads": ("线索", "Leads"), "followed_up": ("已跟进", "Followed up"),
    "test_drive": ("已试驾", "Test drive"), "won": ("成交", "Won"), "delivered": ("已交车", "Delivered"),
    "grades": ("在跟线索分级(A/B/C)", "Open leads by grade (A/B/C)"),
    "quality": ("线索模型(跨时间验证)", "Lead model (out-of-time validation)"),
    "defeat": ("战败原因", "Why deals were lost"),
    "trend": ("战败原因月度趋势", "Lost deals by month and reason"),
    "sources": ("线索来源效果", "Lead-source effectiveness"),
    "orders": ("订单分类与交车计划(预计台数)", "Order classes and expected deliveries (units)"),
    "consultant": ("按销售顾问", "By sales consultant"),
    "ratio": ("A级转化率是C级的 {r:.1f} 倍", "A-grade leads convert {r:.1f}× as often as C"),
}


def _t(key: str, lang: str, **kw: Any) -> str:
    zh, en = _T[key]
    return (zh if lang == "zh" else en).format(**kw)


def leads_html(ctx: RunContext) -> str:
    """The funnel section: funnel, grades, model quality, defeat reasons, sources, orders."""
    from cvm.reporting.fonts import plt
    from cvm.reporting.plots import fig_to_img, plot_bars

    lang = ctx.lang
    m = ctx.load_json("lead_metrics") if ctx.has("lead_metrics") else None
    if m is None or (m.get("skipped") and not ctx.has("lead_funnel")):
        why = (m or {}).get("skipped", "the leads step did not run")
        return f'<p class="note">{html.escape(("跳过:" if lang == "zh" else "Skipped: ") + why)}</p>'
    parts = []
    fun = ctx.load_frame("lead_funnel")["leads"]
    fun.index = [_t(k, lang) for k in fun.index]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    plot_bars(fun, ax=axes[0], horizontal=True, title=_t("funnel", lang))
    reason = ctx.load_frame("defeat_by_reason")["lost"]
    plot_bars(reason, ax=axes[1], horizontal=True, title=_t("defeat", lang))
    parts.append(fig_to_img(fig, "sales funnel"))
    if m.get("skipped"):
        parts.append(f'<p class="note">{html.escape(m["skipped"])}</p>')
    else:
        g = ctx.load_frame("lead_grades_now")
        hold = pd.DataFrame(m["grades"]).T.reindex(g.index)
        g["holdout_conversion"] = hold.get("conversion")
        parts.append(f"<h3>{_t('grades', lang)}</h3>" + _tbl(g, "{:,.3f}"))
        q = {"AUC": m["auc"], "AUC (source rate)": m["baselines"]["source_rate"],
             "Brier": m["brier"], "ECE": m["ece"], "n": m["n_holdout"]}
        ratio = (f"<p>{_t('ratio', lang, r=m['a_to_c_ratio'])}</p>"
                 if m.get("a_to_c_ratio") else "")
        parts.append(f"<h3>{_t('quality', lang)}</h3>" + _tbl(pd.Series(q).to_frame("value"),
                                                              "{:,.3f}") + ratio)
    trend = ctx.load_frame("defeat_trend")
    if len(trend):
        parts.append(f"<h3>{_t('trend', lang)}</h3>")
        fig, ax = plt.subplots(figsize=(8, 3))
        for col in trend.columns:
            ax.plot(trend.index, trend[col].to_numpy(), marker="o", label=str(col))
        ax.legend(fontsize=7, ncol=3)
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        parts.append(fig_to_img(fig, "defeat trend"))
    parts.append(_tbl(ctx.load_frame("defeat_by_source"), "{:,.2f}"))
    parts.append(_tbl(ctx.load_frame("defeat_by_model"), "{:,.2f}"))
    parts.append(f"<h3>{_t('consultant', lang)}</h3>"
                 + _tbl(ctx.load_frame("defeat_by_consultant").head(15), "{:,.2f}"))
    src = ctx.load_frame("lead_sources")
    parts.append(f"<h3>{_t('sources', lang)}</h3>")
    conv = src["conversion"].dropna().sort_values(ascending=False)
    if len(conv):
        parts.append(fig_to_img(plot_bars(conv, title=_t("sources", lang), fmt="{:.0%}"),
                                "source conversion"))
    parts.append(_tbl(src, "{:,.2f}"))
    if ctx.has("lead_stock_plan"):
        parts.append(f"<h3>{_t('orders', lang)}</h3>")
        orders = ctx.load_frame("lead_orders")
        parts.append(_tbl(orders.groupby(["order_class", "expected_delivery_month"]).size()
                          .rename("leads").to_frame(), "{:,.0f}"))
        parts.append(_tbl(ctx.load_frame("lead_stock_plan"), "{:,.1f}"))
    return "".join(parts)


def _tbl(df: pd.DataFrame, fmt: str) -> str:
    return df.to_html(border=0, float_format=lambda v: fmt.format(v), na_rep="", classes="tbl",
                      escape=True)
