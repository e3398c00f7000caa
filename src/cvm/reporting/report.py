"""The manager's report: one HTML section per topic, built from the run's artifacts.

Each ``*_html`` function returns an HTML fragment (charts as inline PNG) so the report
notebook stays one loop and the analysts' notebooks can show the same charts.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from typing import Callable

import numpy as np
import pandas as pd

from cvm.reporting.fonts import plt, use_cjk_font
from cvm.reporting.i18n import TEXT, t
from cvm.reporting.kpis import retention_by_milestone
from cvm.reporting.plots import (fig_to_img, plot_bars, plot_calibration, plot_gain, plot_line,
                                 plot_roc)
from cvm.run_context import RunContext

log = logging.getLogger(__name__)

SECTION_IDS = ("kpis", "lifecycle", "value", "retention", "models", "drivers", "at_risk",
               "campaigns", "measurement", "leads", "quality")
"""Every section of the report, in order (the browser test checks each is present)."""
CHURN_BASELINES = ("recency", "rfm_logistic")
LOWER_IS_BETTER = {"at_risk_n", "lost", "yearly_loss"}
"""KPIs whose rise is bad news (shown red when they go up)."""
VALUE_BASELINES = ("historical_average", "bgnbd_gamma_gamma")


def _section(sid: str, lang: str, body: str) -> str:
    key = f"section_{sid}" if f"section_{sid}" in TEXT else sid
    return f'<section id="{sid}"><h2>{html.escape(t(key, lang))}</h2>{body}</section>'


def _skipped(lang: str, why: str) -> str:
    return f'<p class="note">{html.escape(t("skipped", lang, why=why))}</p>'


def _table(df: pd.DataFrame, floatfmt: str = "{:,.2f}") -> str:
    return df.to_html(border=0, float_format=lambda v: floatfmt.format(v), na_rep="",
                      classes="tbl", escape=True)


def sections(ctx: RunContext) -> Iterator[str]:
    """All report sections in order; a section that fails says so instead of breaking the report."""
    builders: dict[str, Callable[[RunContext], str]] = {
        "kpis": kpis_html, "lifecycle": lifecycle_html, "value": value_tags_html,
        "retention": retention_html, "models": models_html, "drivers": drivers_html,
        "at_risk": at_risk_html, "campaigns": campaigns_html, "measurement": measurement_html,
        "quality": quality_html, "leads": _leads_html,
    }
    if ctx.has("notices"):  # what the run skipped and why (cvm.steps._skip)
        notes = "".join(_skipped(ctx.lang, str(n)) for n in ctx.load_json("notices"))
        yield f'<section id="notices">{notes}</section>'
    for sid in SECTION_IDS:
        try:
            body = builders[sid](ctx)
        except FileNotFoundError as err:
            body = _skipped(ctx.lang, f"{type(err).__name__}: {err.filename}")
        yield _section(sid, ctx.lang, body)


# --- sections ---------------------------------------------------------------------------------
def kpis_html(ctx: RunContext) -> str:
    k = ctx.load_json("kpis")
    cur, prev = k["current"], k["previous"]
    cards = []
    for key, pct in (("base", False), ("active", False), ("at_risk_n", False), ("lost", False),
                     ("return_rate", True), ("yearly_loss", True), ("ab_share", True)):
        src = "at_risk" if key == "at_risk_n" else key
        v, p = cur.get(src), prev.get(src)
        val = "–" if pd.isna(v) else (f"{v:.1%}" if pct else f"{v:,.0f}")
        delta = ""
        if not pd.isna(v) and not pd.isna(p):
            d = v - p
            good = (d < 0) if key in LOWER_IS_BETTER else (d > 0)
            arrow = "good" if good else ("bad" if d != 0 else "")
            delta = (f'<div class="d {arrow}">{t("mom", ctx.lang)} '
                     f'{d:+.1%}</div>' if pct else
                     f'<div class="d {arrow}">{t("mom", ctx.lang)} {d:+,.0f}</div>')
        cards.append(f'<div class="kpi"><div class="l">{t(key, ctx.lang)}</div>'
                     f'<div class="v">{val}</div>{delta}</div>')
    return f'<div class="kpis">{"".join(cards)}</div>'


def lifecycle_html(ctx: RunContext) -> str:
    seg = ctx.load_frame("segments")
    order = ["lead", "prospect", "ordered", "active_owner", "won_back", "at_risk", "lost"]
    counts = seg["lifecycle_stage"].value_counts().reindex(order, fill_value=0)
    counts.index = [t(s, ctx.lang) for s in counts.index]
    funnel = fig_to_img(plot_bars(counts, horizontal=True, title=t("lifecycle", ctx.lang)),
                        "lifecycle funnel")
    return funnel + _transitions_img(ctx, "lifecycle_transitions")


def value_tags_html(ctx: RunContext) -> str:
    seg = ctx.load_frame("segments")
    mix = seg["value_tag"].value_counts().reindex(list("ABCD"), fill_value=0)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    plot_bars(mix, ax=axes[0], title=t("value", ctx.lang))
    trend = pd.Series(ctx.load_json("ab_share_trend"))
    plot_line(trend, ax=axes[1], title=t("ab_share", ctx.lang), percent=True)
    return fig_to_img(fig, "value tags") + _transitions_img(ctx, "value_migration")


def _transitions_img(ctx: RunContext, artifact: str) -> str:
    """A heat map of a from→to count matrix (empty rows and columns dropped)."""
    from cvm.segments.value_tags import plot_migration

    m = ctx.load_frame(artifact)
    m = m.loc[m.sum(axis=1) > 0, m.sum(axis=0) > 0]
    ax = plot_migration(m, lang=ctx.lang)
    ax.set_title(t(artifact, ctx.lang))
    return fig_to_img(ax, artifact.replace("_", " "))


def retention_html(ctx: RunContext) -> str:
    ret = retention_by_milestone(ctx.tables, ctx.as_of)
    if ret is None:
        return _skipped(ctx.lang, "vehicles table or an old-enough sales cohort is absent")
    labels = {"1": "1st", "2": "2nd", "3": "3rd", "4": "4th", "after_warranty": "after warranty"}
    if ctx.lang == "zh":
        labels = {"1": "首保", "2": "二保", "3": "三保", "4": "四保", "after_warranty": "保修期后"}
    ret.index = [labels[i] for i in ret.index]
    ax = plot_bars(ret, title=f'{t("retention", ctx.lang)} ({ret.name})', fmt="{:.0%}")
    ax.set_ylim(0, 1.05)
    return fig_to_img(ax, "retention by milestone")


def churn_quality_html(ctx: RunContext) -> str:
    m = ctx.load_json("churn_metrics")
    if "skipped" in m:
        return _skipped(ctx.lang, m["skipped"])
    val = ctx.load_frame("churn_validation")
    y = val["y_true"].to_numpy()
    scores = {t("model", ctx.lang): val["p"].to_numpy()}
    for c in CHURN_BASELINES:
        if c in val:
            scores[c] = val[c].to_numpy()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    plot_roc(y, scores, ax=axes[0], lang=ctx.lang)
    plot_calibration(y, val["p"].to_numpy(), ax=axes[1], lang=ctx.lang)
    plot_gain(y, scores, ax=axes[2], lang=ctx.lang)
    keys = ["auc", "pr_auc", "brier", "ece", "top_decile_lift", "grade", "n_train", "n_valid"]
    summary = pd.DataFrame({"churn": {k: _fmt(m.get(k)) for k in keys if k in m}})
    naive = m.get("naive_rule")
    if isinstance(naive, dict):
        summary.loc[t("naive_rule", ctx.lang), "churn"] = f"{naive['name']} (AUC {naive['auc']:.3f})"
    base = m.get("baselines", {})
    for name, auc in base.items():
        summary.loc[f"baseline AUC: {name}", "churn"] = _fmt(auc)
    return fig_to_img(fig, "churn model quality") + summary.to_html(border=0)


def value_quality_html(ctx: RunContext) -> str:
    m = ctx.load_json("value_metrics")
    if "skipped" in m:
        return _skipped(ctx.lang, m["skipped"])
    val = ctx.load_frame("value_validation")
    y = val["realized"].to_numpy()
    scores = {t("model", ctx.lang): val["predicted"].to_numpy()}
    for c in VALUE_BASELINES:
        if c in val:
            scores[c] = val[c].to_numpy()
    ax = plot_gain(y, scores, lang=ctx.lang, ylabel_key="share_value",
                   xlabel_key="share_customers_value")
    keys = ["normalized_gini", "spearman", "top_decile_capture", "total_ratio", "n_train", "n_valid"]
    summary = pd.DataFrame({"value": {k: _fmt(m.get(k)) for k in keys if k in m}})
    for name, g in m.get("baselines", {}).items():
        summary.loc[f"baseline gini: {name}", "value"] = _fmt(g)
    return fig_to_img(ax, "value model quality") + summary.to_html(border=0)


def models_html(ctx: RunContext) -> str:
    parts = []
    for name, fn in (("churn_metrics", churn_quality_html), ("value_metrics", value_quality_html)):
        parts.append(fn(ctx) if ctx.has(name) else _skipped(ctx.lang, f"{name} missing"))
    return "".join(parts)


def shap_html(ctx: RunContext, model: str) -> str:
    """Global SHAP importance and beeswarm for ``model`` ('churn' or 'value')."""
    from cvm.models.explain import plot_beeswarm, plot_importance

    if not ctx.has(f"{model}_shap_values"):
        return _skipped(ctx.lang, f"{model} model not trained")
    sv = ctx.load_frame(f"{model}_shap_values")
    X = ctx.load_frame(f"{model}_shap_features")
    use_cjk_font()
    fig, axes = plt.subplots(1, 2, figsize=(14, 5))
    plot_importance(sv, top_n=12, ax=axes[0])
    axes[0].set_title({"churn": t("churn_drivers", ctx.lang),
                       "value": t("value_drivers", ctx.lang)}[model])
    plt.sca(axes[1])
    plot_beeswarm(sv, X, max_display=12, ax=axes[1])
    return fig_to_img(fig, f"{model} drivers")


def driver_sentences(sv: pd.DataFrame, X: pd.DataFrame, lang: str, top_n: int = 5) -> list[str]:
    """The top drivers in plain words: each feature's typical value among the customers it
    pushes up most (the top quarter of its SHAP values), as the registry's sentence."""
    from cvm.features.registry import describe

    sv = sv.drop(columns=[c for c in sv.columns if c.lower() in ("bias", "base", "_bias")])
    out = []
    for f in sv.abs().mean().sort_values(ascending=False).index[:top_n]:
        pushed = sv[f] >= sv[f].quantile(0.75)
        x = X.loc[pushed[pushed].index, f] if f in X else pd.Series(dtype=float)
        if isinstance(x.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(x):
            value = x.mode().iloc[0] if x.notna().any() else None
        else:
            value = float(x.median()) if x.notna().any() else None
        try:
            out.append(describe(f, value, lang))
        except (KeyError, ValueError, TypeError):
            out.append(str(f))
    return out


def drivers_html(ctx: RunContext) -> str:
    parts = []
    for model in ("churn", "value"):
        if not ctx.has(f"{model}_shap_values"):
            parts.append(_skipped(ctx.lang, f"{model} model not trained"))
            continue
        sv = ctx.load_frame(f"{model}_shap_values")
        X = ctx.load_frame(f"{model}_shap_features")
        items = "".join(f"<li>{html.escape(s)}</li>"
                        for s in driver_sentences(sv, X, ctx.lang))
        intro = {"churn": ("流失风险高的客户通常:", "Customers at high churn risk typically show:"),
                 "value": ("高价值客户通常:", "High-value customers typically show:")}[model]
        parts.append(f"<h3>{t(model + '_drivers', ctx.lang)}</h3>"
                     f"<p>{intro[0] if ctx.lang == 'zh' else intro[1]}</p><ol>{items}</ol>")
        parts.append(shap_html(ctx, model))
    return "".join(parts)


def at_risk_html(ctx: RunContext) -> str:
    scores = pd.read_parquet(ctx.run_dir / "scores.parquet")
    hv = scores[scores["value_tag"].isin(["A", "B"]) & scores["churn_probability"].notna()]
    top = hv.sort_values(["churn_probability", "predicted_value"], ascending=False).head(20)
    cols = ["customer_id", "value_tag", "lifecycle_stage", "churn_probability", "predicted_value",
            "reason_1", "reason_2"]
    top = top[[c for c in cols if c in top]].copy()
    top["customer_id"] = top["customer_id"].map(mask_id)
    n = len(hv[hv["churn_probability"] >= 0.5])
    note = ("高价值(A/B)客户中流失概率≥50%的人数:" if ctx.lang == "zh"
            else "High-value (A/B) customers with churn probability ≥ 50 %: ")
    return f"<p>{note}<b>{n:,}</b></p>" + _table(top.set_index("customer_id"))


def campaigns_html(ctx: RunContext) -> str:
    if not ctx.has("campaign_plan"):
        return _skipped(ctx.lang, "campaign plan not produced")
    plan = ctx.load_frame("campaign_plan")
    target = plan[plan["group"] == "target"]
    by = plan.groupby(["department", "campaign", "group"]).size().unstack("group", fill_value=0)
    money = target.groupby(["department", "campaign"])[["cost", "expected_incremental_value"]].sum()
    summary = by.join(money).fillna(0)
    dep_value = target.groupby("department")["expected_incremental_value"].sum()
    dep_value.index = [t(d, ctx.lang) for d in dep_value.index]
    img = fig_to_img(plot_bars(dep_value, title=t("expected_value", ctx.lang)), "plan by department")
    info = ctx.load_json("campaign_summary") if ctx.has("campaign_summary") else {}
    head = (f"<p>{t('budget', ctx.lang)}: {ctx.budget:,.0f} · {t('cost', ctx.lang)}: "
            f"{target['cost'].sum():,.0f} · {t('expected_value', ctx.lang)}: "
            f"{target['expected_incremental_value'].sum():,.0f}</p>")
    notes = "".join(f'<p class="note">{html.escape(str(n))}</p>' for n in info.get("notes", []))
    return head + img + _table(summary, "{:,.0f}") + notes


def measurement_html(ctx: RunContext) -> str:
    if not ctx.has("campaign_measurement"):
        return _skipped(ctx.lang, "no campaign contacts last month")
    m = ctx.load_frame("campaign_measurement")
    if m.empty:
        return _skipped(ctx.lang, "no campaign contacts last month")
    return _table(m.set_index(m.columns[0]), "{:,.3f}")


def quality_html(ctx: RunContext) -> str:
    dq = ctx.load_json("data_quality")
    parts = []
    comp = pd.Series(dq.get("profile_completeness", {}), dtype=float)
    if len(comp):
        ax = plot_bars(comp.sort_values(), horizontal=True, fmt="{:.0%}",
                       title=("客户档案完整度(17项)" if ctx.lang == "zh"
                              else "Profile completeness (17 fields)"))
        ax.figure.set_size_inches(6, 4.5)
        parts.append(fig_to_img(ax, "profile completeness"))
    warnings = dq.get("warnings", [])
    parts.append("<ul>" + "".join(f'<li class="warn">{html.escape(w)}</li>' for w in warnings)
                 + "</ul>" if warnings else "")
    if dq.get("absent_tables"):
        parts.append(f'<p class="note">absent tables: {", ".join(dq["absent_tables"])}</p>')
    if ctx.has("drift"):
        drift = ctx.load_frame("drift")
        flagged = drift[drift["warning"]]
        title = "特征漂移(PSI>0.2)" if ctx.lang == "zh" else "Feature drift (PSI > 0.2)"
        parts.append(f"<h3>{title}</h3>" + (_table(flagged.set_index("feature"), "{:.3f}")
                                            if len(flagged) else f"<p>{t('none', ctx.lang)}</p>"))
    return "".join(parts)


def _leads_html(ctx: RunContext) -> str:
    from cvm.leads.step import leads_html

    return leads_html(ctx)


def mask_id(value: object) -> str:
    """Customer ids are shown with their middle masked in the report."""
    s = str(value)
    return s if len(s) <= 4 else s[:2] + "*" * (len(s) - 4) + s[-2:]


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return "–" if np.isnan(v) else f"{v:.3f}"
    return str(v)
