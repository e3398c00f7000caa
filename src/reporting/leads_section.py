"""The report's sales-leads section and the lead model's quality figures (appendix).

Built from the ``leads`` step's artifacts (``cvm.graph``): funnel, grades, defeat reasons,
sources, order classes and the delivery plan.
"""

from __future__ import annotations

import pandas as pd

from cvm.i18n import label, labels, t
from cvm.reporting import fmt
from cvm.reporting.fonts import plt
from cvm.reporting.plots import fig_to_img, plot_bars
from cvm.run_context import RunContext


def leads_html(ctx: RunContext) -> str:
    """The sales-leads section: funnel, grades, defeat reasons, sources, order classes and the
    delivery plan, with what it means and what to do. The lead model's quality is in the
    appendix (:func:`lead_quality_html`)."""
    from cvm.reporting.report import _box, _h3, _note, html_table

    lang = ctx.lang
    m = ctx.load_json("lead_metrics") if ctx.has("lead_metrics") else None
    if m is None or (m.get("skipped") and not ctx.has("lead_funnel")):
        return _note(t("no_leads", lang))
    top_n = int(ctx.cfg["report"]["top_rows"])
    parts = []
    fun = ctx.load_frame("lead_funnel")["leads"]
    reason = ctx.load_frame("defeat_by_reason")
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.4))
    f = fun.copy()
    f.index = [label("column", k, lang) for k in f.index]
    plot_bars(f, ax=axes[0], horizontal=True, title=t("funnel", lang))
    r = reason["lost"].head(top_n).copy()
    r.index = labels("defeat_reason", r.index, lang)
    plot_bars(r, ax=axes[1], horizontal=True, title=t("defeat", lang), color="#b42318")
    for ax in axes:
        ax.margins(x=0.18)
    img = fig_to_img(fig, "sales funnel")
    won = float(fun.get("won", 0))
    conv = won / float(fun["leads"]) if float(fun.get("leads", 0)) else float("nan")
    top_reason = label("defeat_reason", reason.index[0], lang) if len(reason) else "–"
    top_share = float(reason["share"].iloc[0]) if len(reason) else float("nan")
    ratio = m.get("a_to_c_ratio")
    means = t(
        "leads_means",
        lang,
        leads=fmt.count(fun["leads"]),
        won=fmt.count(won),
        conv=fmt.pct(conv),
        reason=top_reason,
        share=fmt.pct(top_share, 0),
    )
    if ratio:
        means += t("leads_grade_ratio", lang, ratio=fmt.num(ratio, 1))
    todo = t("leads_todo", lang)
    parts += [_box(ctx, means, todo), img]
    if not m.get("skipped") and ctx.has("lead_grades_now"):
        g = ctx.load_frame("lead_grades_now")
        hold = pd.DataFrame(m["grades"]).T.reindex(g.index)
        rows = pd.DataFrame(
            {
                "grade": labels("grade", g.index, lang),
                "leads": g["leads"].map(fmt.count).to_numpy() if "leads" in g else "–",
                "mean_probability": (
                    g["mean_probability"].map(lambda v: fmt.pct(v, 0)).to_numpy()
                    if "mean_probability" in g
                    else "–"
                ),
                "holdout_conversion": hold.get("conversion", pd.Series(index=g.index, dtype=float))
                .map(lambda v: fmt.pct(v, 0))
                .to_numpy(),
            }
        )
        parts.append(
            _h3(t("grades", lang))
            + html_table(rows, lang, numeric=("leads", "mean_probability", "holdout_conversion"))
        )
    src = ctx.load_frame("lead_sources").head(top_n)
    rows = pd.DataFrame(
        {
            "source": labels("source", src.index, lang),
            "leads": src["leads"].map(fmt.count).to_numpy(),
            "won": src["won"].map(fmt.count).to_numpy(),
            "conversion": src["conversion"].map(lambda v: fmt.pct(v, 0)).to_numpy(),
            "revenue": src["revenue"].map(lambda v: fmt.big(v, lang)).to_numpy(),
            "cost_per_sale": src["cost_per_sale"].map(fmt.yuan).to_numpy(),
        }
    )
    by_src = ctx.load_frame("defeat_by_source")
    rows["loss_rate"] = (
        by_src["loss_rate"].reindex(src.index).map(lambda v: fmt.pct(v, 0)).to_numpy()
    )
    rows["top_reason"] = [
        label("defeat_reason", x, lang) if isinstance(x, str) else "–"
        for x in by_src["top_reason"].reindex(src.index)
    ]
    parts.append(
        _h3(t("sources", lang))
        + html_table(
            rows,
            lang,
            numeric=("leads", "won", "conversion", "revenue", "cost_per_sale", "loss_rate"),
        )
    )
    if ctx.has("lead_orders"):
        orders = ctx.load_frame("lead_orders")
        tab = (
            orders.groupby(["order_class", "expected_delivery_month"])
            .size()
            .unstack("expected_delivery_month", fill_value=0)
        )
        months = list(tab.columns)
        rows = pd.DataFrame({"order_class": labels("order_class", tab.index, lang)})
        for mth in months:
            rows[mth] = tab[mth].map(fmt.count).to_numpy()
        rows["total"] = tab.sum(axis=1).map(fmt.count).to_numpy()
        parts.append(_h3(t("orders", lang)) + html_table(rows, lang, numeric=(*months, "total")))
        if ctx.has("lead_stock_plan"):
            parts.append(_h3(t("stock_plan", lang)))
            sp = ctx.load_frame("lead_stock_plan").head(top_n)
            rows = pd.DataFrame(
                {
                    "model_of_interest": [
                        label("source", x, lang) if x == "(unknown)" else str(x) for x in sp.index
                    ]
                }
            )
            for c in sp.columns:
                rows[str(c)] = sp[c].map(lambda v: fmt.num(v, 1)).to_numpy()
            parts.append(html_table(rows, lang, numeric=tuple(rows.columns[1:])))
    parts.append(_note(t("lead_list_pointer", lang)))
    return "".join(parts)


def lead_quality_html(ctx: RunContext) -> str:
    """The lead model's validation figures (for the appendix)."""
    from cvm.reporting.report import _h3, html_table

    m = ctx.load_json("lead_metrics") if ctx.has("lead_metrics") else None
    if not m or "auc" not in m:
        return ""
    lang = ctx.lang
    rows = pd.DataFrame(
        [
            (label("metric", "auc", lang), fmt.num(m["auc"], 3)),
            (
                f"{label('metric', 'baseline', lang)}: {label('naive', 'source_rate', lang)}",
                fmt.num((m.get("baselines") or {}).get("source_rate"), 3),
            ),
            (label("metric", "brier", lang), fmt.num(m.get("brier"), 3)),
            (label("metric", "ece", lang), fmt.num(m.get("ece"), 3)),
            (label("metric", "n_holdout", lang), fmt.count(m.get("n_holdout"))),
        ],
        columns=["metric", "value"],
    )
    return _h3(label("model", "leads", lang)) + html_table(rows, lang, numeric=("value",))
