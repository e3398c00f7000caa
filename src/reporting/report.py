"""The manager's report: one HTML section per concept, built from the run's artifacts.

The report opens with 本月摘要 / Summary (what happened and what to do, with the month's
numbers), then one section per concept of the seeds — lifecycle of the five groups, value
(tags, A+B share, the value triad), loyalty, needs, this month's plan by department, last
month's results, sales leads — each with a chart and a short "what it means / what to do".
Model quality and the technical tables are in the appendix. Every header, value and code is
shown through the i18n table (``cvm.i18n``); numbers through ``cvm.reporting.fmt``.

Each ``*_html`` function returns an HTML fragment (charts as inline PNG), so the report
notebook stays one loop and the analysts' notebooks can show the same parts.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cvm.i18n import label, labels, t
from cvm.models.metrics import RANDOM_AUC
from cvm.reporting import fmt
from cvm.reporting.fonts import cjk_font_warning, plt, use_cjk_font
from cvm.reporting.kpis import retention_by_milestone
from cvm.reporting.plots import (
    PALETTE,
    fig_to_img,
    figure_of,
    plot_bars,
    plot_calibration,
    plot_gain,
    plot_groups,
    plot_intervals,
    plot_line,
    plot_matrix_2x2,
    plot_roc,
)
from cvm.run_context import RunContext

log = logging.getLogger(__name__)

SECTION_IDS = (
    "summary",
    "lifecycle",
    "value",
    "loyalty",
    "needs",
    "plan",
    "results",
    "leads",
    "appendix",
)
"""Every section of the report, in order (the browser test checks each heading)."""
CHURN_BASELINES = ("recency", "rfm_logistic")
VALUE_BASELINES = ("historical_average", "bgnbd_gamma_gamma")
LOWER_IS_BETTER = {"at_risk_n", "lost", "yearly_loss"}
"""KPIs whose rise is bad news (shown red when they go up)."""
NEEDS = ("young_family", "time_sensitive", "price_sensitive", "high_mileage_commercial")


def _cfg(ctx: RunContext) -> dict[str, Any]:
    return ctx.cfg["report"]


def _zh(ctx: RunContext) -> bool:
    return ctx.lang == "zh"


def _say(ctx: RunContext, key: str, **kw: Any) -> str:
    """Sentence ``key`` of the i18n table in the run's language (zh with Chinese punctuation)."""
    text = t(key, ctx.lang, **kw)
    return fmt.zh_punct(text) if _zh(ctx) else text


# --- html helpers -----------------------------------------------------------------------------
def _section(sid: str, lang: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{html.escape(t(sid, lang))}</h2>{body}</section>'


def _h3(text: str) -> str:
    return f"<h3>{html.escape(text)}</h3>"


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _skipped(lang: str, why: str) -> str:
    return _note(t("skipped", lang, why=why))


def _box(ctx: RunContext, means: str, todo: str) -> str:
    """The "what it means / what to do" box every section carries."""
    if _zh(ctx):
        means, todo = fmt.zh_punct(means), fmt.zh_punct(todo)
    return (
        f'<div class="take"><p><b>{t("means", ctx.lang)}</b>{html.escape(means)}</p>'
        f"<p><b>{t('todo', ctx.lang)}</b>{html.escape(todo)}</p></div>"
    )


def html_table(
    df: pd.DataFrame, lang: str, numeric: tuple[str, ...] = (), wide: tuple[str, ...] = ()
) -> str:
    """A table of already formatted cells; headers are column codes shown through the i18n
    table. ``numeric`` columns are right-aligned, ``wide`` ones may wrap."""
    head = "".join(
        f'<th class="{"n" if c in numeric else ""}">{html.escape(label("column", c, lang))}</th>'
        for c in df.columns
    )
    rows = []
    for _, r in df.iterrows():
        cells = []
        for c in df.columns:
            cls = "n" if c in numeric else ("w" if c in wide else "t")
            v = r[c]
            cells.append(f'<td class="{cls}">{html.escape("" if v is None else str(v))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="tbl"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def render(ctx: RunContext) -> list[str]:
    """The ``report`` step of ``cvm.graph.STEPS``: every section's HTML, in order."""
    return list(sections(ctx))


def skipped_models(ctx: RunContext) -> dict[str, str]:
    """The models this run skipped and why (``<model>_metrics`` of ``cvm.graph``)."""
    from cvm.graph import MODELS_SKIPPABLE

    out = {}
    for m in MODELS_SKIPPABLE:
        metrics = ctx.load_json(f"{m}_metrics") if ctx.has(f"{m}_metrics") else {}
        if isinstance(metrics, dict) and metrics.get("skipped"):
            out[m] = str(metrics["skipped"])
    return out


def sections(ctx: RunContext) -> Iterator[str]:
    """All report sections in order; a section that fails says so instead of breaking the report."""
    builders: dict[str, Callable[[RunContext], str]] = {
        "summary": summary_html,
        "lifecycle": lifecycle_html,
        "value": value_html,
        "loyalty": loyalty_html,
        "needs": needs_html,
        "plan": plan_html,
        "results": results_html,
        "leads": _leads_html,
        "appendix": appendix_html,
    }
    notices = skipped_models(ctx)  # what the run skipped and why (cvm.steps._skip)
    if notices:
        notes = "".join(_skipped(ctx.lang, str(n)) for n in notices.values())
        yield f'<section id="notices">{notes}</section>'
    for sid in SECTION_IDS:
        try:
            body = builders[sid](ctx)
        except FileNotFoundError as err:
            log.warning("report section %s: %s is missing", sid, err.filename)
            body = _skipped(ctx.lang, _say(ctx, "upstream_missing"))
        except Exception:  # one broken section must not cost the manager the whole report
            log.exception("report section %s failed", sid)
            body = f'<p class="warn">{html.escape(t("section_failed", ctx.lang))}</p>'
        if sid == "summary":
            warn = cjk_font_warning(ctx.lang)
            if warn:
                body = f'<p class="warn">{html.escape(warn)}</p>' + body
        yield _section(sid, ctx.lang, body)
        if sid == "summary" and ctx.has("store_league"):  # a dealer group: the league table
            yield stores_section(ctx)


def stores_section(ctx: RunContext) -> str:
    """The dealer group's league table and group summary (``cvm.reporting.stores``)."""
    from cvm.reporting.stores import league_html

    try:
        body = league_html(ctx.load_frame("store_league"), ctx.lang)
    except Exception:  # one broken section must not cost the manager the whole report
        log.exception("report section stores failed")
        body = f'<p class="warn">{html.escape(t("section_failed", ctx.lang))}</p>'
    title = t("store_league", ctx.lang)
    return f'<section id="stores"><h2>{html.escape(title)}</h2>{body}</section>'


# --- facts shared by the summary and the sections --------------------------------------------
@dataclass
class PlanFacts:
    n_target: int
    n_control: int
    cost: float
    value: float
    low: float
    high: float
    by_dept: pd.DataFrame


def plan_facts(ctx: RunContext) -> PlanFacts | None:
    """This month's plan: contacts, cost, expected incremental value with a 95 % interval,
    by department (with the capacity each department's lists use)."""
    if not ctx.has("campaign_plan"):
        return None
    plan = ctx.load_frame("campaign_plan")
    target = plan[plan["group"] == "target"]
    per = campaign_plan_table(ctx, plan)
    from cvm.campaigns.catalogue import defaults

    cap = pd.Series(defaults().capacity, dtype=float)
    g = plan.groupby("department")
    dept = pd.DataFrame(
        {
            "n_target": target.groupby("department").size(),
            "n_control": plan[plan["group"] == "control"].groupby("department").size(),
            "cost": target.groupby("department")["cost"].sum(),
            "value": target.groupby("department")["expected_incremental_value"].sum(),
            "campaigns": g["campaign"].agg(lambda s: sorted(set(s))),
        }
    )
    dept[["n_target", "n_control"]] = dept[["n_target", "n_control"]].fillna(0).astype(int)
    dept["capacity"] = cap.reindex(dept.index)
    dept["used"] = (dept["n_target"] + dept["n_control"]) / dept["capacity"]
    dept = dept.sort_values("value", ascending=False)
    se = float(np.sqrt((per["se"] ** 2).sum())) if len(per) else 0.0
    z = float(_cfg(ctx)["interval_z"])
    v = float(target["expected_incremental_value"].sum())
    return PlanFacts(
        int(len(target)),
        int((plan["group"] == "control").sum()),
        float(target["cost"].sum()),
        v,
        v - z * se,
        v + z * se,
        dept,
    )


def campaign_plan_table(ctx: RunContext, plan: pd.DataFrame) -> pd.DataFrame:
    """Per campaign of the plan: targets, controls, cost, expected value and its standard error.

    The error is the uncertainty of the campaign's mean effect per contact (the empirical-Bayes
    posterior of the spend calibration, ``campaigns.uplift.calibrate_spend``), times the
    number of targets: one campaign's customers share it, campaigns are independent.
    """
    target = plan[plan["group"] == "target"]
    out = pd.DataFrame(
        {
            "department": plan.groupby("campaign")["department"].first(),
            "channel": plan.groupby("campaign")["channel"].first(),
            "n_target": target.groupby("campaign").size(),
            "n_control": plan[plan["group"] == "control"].groupby("campaign").size(),
            "cost": target.groupby("campaign")["cost"].sum(),
            "value": target.groupby("campaign")["expected_incremental_value"].sum(),
        }
    ).fillna({"n_target": 0, "n_control": 0, "cost": 0.0, "value": 0.0})
    info = ctx.load_json("campaign_summary") if ctx.has("campaign_summary") else {}
    calib = (info.get("uplift_metrics") or {}).get("spend_calibration") or {}
    from cvm.config import load_config

    sc = (load_config("campaigns", ctx.cfg.get("campaigns")).get("uplift") or {}).get(
        "spend_calibration"
    ) or {}
    sd = {}
    for c in out.index:
        e = calib.get(c) or {}
        prior = abs(
            float(e.get("model_mean") or out.loc[c, "value"] / max(out.loc[c, "n_target"], 1))
        )
        w0 = 1.0 / max(float(sc["prior_rel_sd"]) * prior, float(sc["prior_min_sd"]), 1e-9) ** 2
        se = e.get("se")
        w1 = (
            1.0 / (float(se) ** 2 + float(sc["transport_sd"]) ** 2)
            if se is not None and np.isfinite(se)
            else 0.0
        )
        sd[c] = 1.0 / np.sqrt(w0 + w1)
    out["se"] = pd.Series(sd) * out["n_target"]
    return out.sort_values("value", ascending=False)


def _renewal_measured(ctx: RunContext, campaign: str) -> str:
    """The sentence on what ``campaign``'s earlier calls renewed once their policies ended
    (the campaigns step's renewal measurement over the contact history, target vs control,
    ``campaign_summary``), or "" when it has none: a renewal campaign pending in last month's
    window is judged on the calls whose outcome is known."""
    if not ctx.has("campaign_summary"):
        return ""
    r = ((ctx.load_json("campaign_summary").get("uplift_metrics") or {}).get("renewals") or {}).get(
        campaign
    )
    if not r:
        return ""
    from cvm.config import load_config

    fee = float(load_config("value")["influence"]["insurance_commission"])
    lang = ctx.lang
    name = label("campaign", campaign, lang)
    text = _say(
        ctx,
        "results_renewal_measured",
        c=name if _zh(ctx) else name[:1].lower() + name[1:],  # mid-sentence in English
        n=fmt.count(r["n_target"]),
        u=fmt.points(r["uplift"], lang),
        lo=f"{float(r['low']) * 100:+.1f}",  # "+4.0 to +5.2 pts": the unit once
        hi=fmt.points(r["high"], lang),
        fee=fmt.money(fee, lang),
        v=fmt.money(r["uplift"] * fee, lang),
    )
    return ("" if _zh(ctx) else " ") + text


def results_table(ctx: RunContext) -> pd.DataFrame | None:
    """Last month's campaigns against their control groups, with a verdict in words: the
    incremental revenue net of cost, its 95 % interval, and how sure we are it was positive.
    A campaign that sells insurance renewals and did not show a gain is ``renewal_pending``:
    its commission comes when the policies end, after the window measured here."""
    if not ctx.has("campaign_measurement"):
        return None
    m = ctx.load_frame("campaign_measurement")
    if m.empty or "revenue_lift" not in m.columns:
        return None
    from scipy.stats import norm

    c = _cfg(ctx)
    z = float(c["interval_z"])
    likely = float(c["likely_probability"])
    m = m.copy()
    n = m["n_target"].astype(float)
    cost = m["cost"].fillna(0.0).astype(float)
    m["net"] = m["revenue_lift"] * n - cost
    se = m["revenue_lift_se"] * n
    m["net_low"], m["net_high"] = m["net"] - z * se, m["net"] + z * se
    p_gain = pd.Series(norm.cdf(m["net"] / se.replace(0, np.nan)), index=m.index).fillna(0.5)
    m["verdict"] = np.select(
        [m["net_low"] > 0, p_gain >= likely, m["net_high"] < 0, 1 - p_gain >= likely],
        ["sure_gain", "likely_gain", "sure_loss", "likely_loss"],
        "unclear",
    )
    # an insurance renewal call earns its commission when the policy ends, after this
    # window: its service revenue alone does not show it lost money
    if "renewal_commission" in m.columns:
        wait = m["renewal_commission"].fillna(False).astype(bool) & ~m["verdict"].isin(
            ["sure_gain", "likely_gain"]
        )
        m.loc[wait, "verdict"] = "renewal_pending"
    m["p_gain"] = p_gain
    return m.sort_values("net", ascending=False).reset_index(drop=True)


def _risk(ctx: RunContext) -> dict[str, float] | None:
    path = ctx.path("scores")
    if not path.exists():
        return None
    s = pd.read_parquet(
        path, columns=["customer_id", "value_tag", "churn_probability", "predicted_value"]
    )
    thr = float(_cfg(ctx)["risk_probability"])
    hit = s[s["churn_probability"] >= thr]
    return {
        "n": int(len(hit)),
        "value": float((hit["churn_probability"] * hit["predicted_value"].fillna(0)).sum()),
        "n_ab": int(hit["value_tag"].isin(["A", "B"]).sum()),
        "threshold": thr,
        "scored": int(s["churn_probability"].notna().sum()),
    }


def _drifting(ctx: RunContext) -> int:
    if not ctx.has("drift"):
        return 0
    d = ctx.load_frame("drift")
    return int((d["psi"] > float(_cfg(ctx)["drift_psi_warning"])).sum())


# --- 本月摘要 / Summary --------------------------------------------------------------------------
def kpis_html(ctx: RunContext) -> str:
    k = ctx.load_json("kpis")
    cur, prev = k["current"], k["previous"]
    cards = []
    for key, pct in (
        ("base", False),
        ("active", False),
        ("at_risk_n", False),
        ("lost", False),
        ("return_rate", True),
        ("yearly_loss", True),
        ("ab_share", True),
    ):
        src = "at_risk" if key == "at_risk_n" else key
        v, p = cur.get(src), prev.get(src)
        val = fmt.pct(v) if pct else fmt.count(v)
        delta = ""
        if v is not None and p is not None and not (pd.isna(v) or pd.isna(p)):
            d = v - p
            if abs(d) < (0.0005 if pct else 0.5):  # shown as +0.0: no colour
                d = 0.0
            good = (d < 0) if key in LOWER_IS_BETTER else (d > 0)
            arrow = "good" if good else ("bad" if d != 0 else "")
            shown = fmt.points(d, ctx.lang) if pct else fmt.signed(d)
            delta = f'<div class="d {arrow}">{t("mom", ctx.lang)} {shown}</div>'
        cards.append(
            f'<div class="kpi"><div class="l">{t(key, ctx.lang)}</div>'
            f'<div class="v">{val}</div>{delta}</div>'
        )
    return f'<div class="kpis">{"".join(cards)}</div>'


def summary_sentences(ctx: RunContext) -> list[str]:
    """4–6 plain sentences: the base, who is slipping away, A+B against its target, this
    month's plan, last month's results, data quality."""
    lang, out = ctx.lang, []
    k = ctx.load_json("kpis")
    cur, prev = k["current"], k["previous"]
    out.append(
        _say(
            ctx,
            "summary_base",
            base=fmt.count(cur["base"]),
            d=fmt.signed(cur["base"] - prev["base"]),
            act=fmt.count(cur["active"]),
            risk=fmt.count(cur["at_risk"]),
            lost=fmt.count(cur["lost"]),
            rr=fmt.pct(cur.get("return_rate")),
        )
    )
    r = _risk(ctx)
    if r is not None and r["scored"]:
        out.append(
            _say(
                ctx,
                "summary_risk",
                n=fmt.count(r["n"]),
                thr=fmt.pct(r["threshold"], 0),
                h=ctx.horizon_months,
                v=fmt.money(r["value"], lang),
                ab=fmt.count(r["n_ab"]),
            )
        )
    target = float(_cfg(ctx)["ab_share_target"])
    ab, ab_prev = cur.get("ab_share"), prev.get("ab_share")
    if ab is not None and not pd.isna(ab):
        gap = ab - target
        out.append(
            _say(
                ctx,
                "summary_ab",
                ab=fmt.pct(ab),
                tg=fmt.pct(target, 0),
                mom=fmt.points(ab - ab_prev, lang),
                rel=(
                    _say(ctx, "summary_ab_short", g=fmt.points(-gap, lang).lstrip("+"))
                    if gap < 0
                    else _say(ctx, "summary_ab_on_target")
                ),
            )
        )
    p = plan_facts(ctx)
    if p is not None and p.n_target:
        depts = t("list_sep", lang).join(
            _say(
                ctx,
                "summary_plan_dept",
                d=label("department", d, lang),
                n=fmt.count(r_["n_target"]),
                v=fmt.money(r_["value"], lang),
            )
            for d, r_ in p.by_dept.iterrows()
        )
        out.append(
            _say(
                ctx,
                "summary_plan",
                n=fmt.count(p.n_target),
                c=fmt.count(p.n_control),
                cost=fmt.money(p.cost, lang),
                v=fmt.money(p.value, lang),
                lo=fmt.money(p.low, lang),
                hi=fmt.money(p.high, lang),
                d=depts,
            )
        )
    res = results_table(ctx)
    if res is not None:
        parts = [
            f"{label('campaign', r_['campaign'], lang)} "
            + _say(
                ctx,
                "summary_result_item",
                v=fmt.money(r_["net"], lang),
                w=label("confidence", r_["verdict"], lang),
            )
            for _, r_ in res.iterrows()
        ]
        out.append(
            _say(
                ctx,
                "summary_results",
                n=len(res),
                p=t("clause_sep", lang).join(parts),
            )
        )
    else:
        out.append(t("no_measurement", lang))
    dq = ctx.load_json("data_quality") if ctx.has("data_quality") else {}
    share = dq.get("profile_complete_share")
    out.append(
        _say(
            ctx,
            "summary_data_quality",
            w=fmt.count(len(dq.get("warnings", []))),
            c=fmt.pct(share, 0) if share is not None else "–",
            d=fmt.count(_drifting(ctx)),
        )
    )
    return out


def summary_html(ctx: RunContext) -> str:
    items = "".join(f"<li>{html.escape(s)}</li>" for s in summary_sentences(ctx))
    return kpis_html(ctx) + f'<ol class="summary">{items}</ol>'


# --- 客户生命周期 ---------------------------------------------------------------------------
def lifecycle_counts(ctx: RunContext) -> tuple[pd.Series, pd.Series]:
    """Stages of every known customer and open lead, now and a month ago. The customer
    stages are the segments step's (artifacts ``segments``, ``lifecycle_prev``), not
    computed again."""
    from cvm.segments.lifecycle import lifecycle_entities

    def stages(name: str, column: str = "lifecycle_stage") -> pd.Series | None:
        if not ctx.has(name):
            return None
        out = ctx.load_frame(name)[column].astype("str")
        out.index = out.index.astype("str").rename("customer_id")
        out.name = "lifecycle_stage"
        return out

    return (
        lifecycle_entities(ctx.tables, ctx.as_of, ctx.cfg, stage=stages("segments")),
        lifecycle_entities(ctx.tables, ctx.prev_as_of, ctx.cfg, stage=stages("lifecycle_prev")),
    )


def lifecycle_html(ctx: RunContext) -> str:
    from cvm.reporting.plots import plot_migration
    from cvm.segments._common import crosstab_with_flows
    from cvm.segments.lifecycle import GROUPS, OWNER_STAGES, STAGES, lifecycle_group

    lang = ctx.lang
    now, prev = lifecycle_counts(ctx)
    groups = lifecycle_group(now).value_counts().reindex(list(GROUPS), fill_value=0)
    parts = now.value_counts().reindex(list(OWNER_STAGES), fill_value=0)
    names = {g: label("stage", g, lang) for g in (*GROUPS, *OWNER_STAGES)}
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.9), gridspec_kw={"width_ratios": [1.1, 1]})
    plot_groups(groups.to_dict(), parts.to_dict(), names, ax=axes[0], title=t("five_groups", lang))
    flow = crosstab_with_flows(prev, now, order=list(STAGES))
    flow = flow.loc[flow.sum(axis=1) > 0, flow.sum(axis=0) > 0]
    plot_migration(flow, ax=axes[1], lang=lang, kind="stage")
    axes[1].set_title(t("group_flow", lang))
    img = fig_to_img(fig, "lifecycle")

    def move(a: str, b: str) -> int:
        return int(flow.loc[a, b]) if a in flow.index and b in flow.columns else 0

    to_risk = move("active_owner", "at_risk") + move("won_back", "at_risk")
    to_lost = move("at_risk", "lost")
    back = sum(move(s, "won_back") for s in ("lost", "at_risk"))
    new_leads = sum(move("new", s) for s in ("lead", "prospect", "ordered"))
    means = _say(
        ctx,
        "lifecycle_means",
        l=fmt.count(groups["lead"]),
        p=fmt.count(groups["prospect"]),
        o=fmt.count(groups["ordered"]),
        w=fmt.count(groups["owner"]),
        r=fmt.count(parts["at_risk"]),
        b=fmt.count(parts["won_back"]),
        x=fmt.count(groups["lost"]),
        nl=fmt.count(new_leads),
        tr=fmt.count(to_risk),
        tl=fmt.count(to_lost),
        bk=fmt.count(back),
    )
    todo = _say(
        ctx,
        "lifecycle_todo",
    )
    out = [_box(ctx, means, todo), img, retention_html(ctx), at_risk_html(ctx)]
    return "".join(out)


def retention_html(ctx: RunContext) -> str:
    lang = ctx.lang
    ret = retention_by_milestone(ctx.tables, ctx.as_of, float(_cfg(ctx)["milestone_min_age_years"]))
    if ret is None:
        return _h3(t("retention", lang)) + _note(t("no_vehicles", lang))
    n = int(str(ret.name).removeprefix("n="))
    ret.index = labels("milestone", ret.index, lang)
    cohort = _say(
        ctx,
        "retention_cohort",
        n=fmt.count(n),
        y=float(_cfg(ctx)["milestone_min_age_years"]),
    )
    head = _h3(t("heading_with_note", lang, title=t("retention", lang), note=cohort))
    ax = plot_bars(ret, fmt="{:.0%}", title=t("retention", lang))
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    figure_of(ax).set_size_inches(5.6, 2.9)
    vals = ret.to_numpy()
    drop = int(np.argmax(-np.diff(vals))) if len(vals) > 1 else 0
    means = _say(
        ctx,
        "retention_means",
        a=ret.index[drop],
        x=fmt.pct(vals[drop], 0),
        b=ret.index[min(drop + 1, len(vals) - 1)],
        y=fmt.pct(vals[drop + 1], 0) if len(vals) > 1 else "–",
    )
    todo = _say(
        ctx,
        "retention_todo",
    )
    return head + fig_to_img(ax, "retention by milestone") + _box(ctx, means, todo)


def at_risk_html(ctx: RunContext) -> str:
    lang = ctx.lang
    n_top = int(_cfg(ctx)["top_rows"])
    scores = pd.read_parquet(ctx.path("scores"))
    hv = scores[scores["value_tag"].isin(["A", "B"]) & scores["churn_probability"].notna()]
    top = hv.sort_values(
        ["churn_probability", "predicted_value"], ascending=False, kind="stable"
    ).head(n_top)
    rows = pd.DataFrame(
        {
            "customer_id": top["customer_id"].map(mask_id),
            "value_tag": labels("value_tag", top["value_tag"], lang),
            "lifecycle_stage": labels("stage", top["lifecycle_stage"], lang),
            "churn_probability": top["churn_probability"].map(lambda v: fmt.pct(v, 0)),
            "predicted_value": top["predicted_value"].map(fmt.yuan),
            "reason_1": top["reason_1"].fillna("").map(lambda s: reason_text(s, lang)),
        }
    )
    return (
        _h3(t("at_risk_list", lang, n=len(rows)))
        + html_table(
            rows, lang, numeric=("churn_probability", "predicted_value"), wide=("reason_1",)
        )
        + _note(t("list_pointer", lang, files=_dept_files(ctx)))
    )


def _dept_files(ctx: RunContext) -> str:
    """The departments whose list files this run wrote, by name."""
    d = _departments(ctx)
    return t("list_sep", ctx.lang).join(labels("department", d, ctx.lang)) or "–"


def _departments(ctx: RunContext) -> list[str]:
    d = ctx.run_dir / "campaigns"
    return sorted(p.stem for p in d.glob("*.csv")) if d.exists() else []


# --- 客户价值 ------------------------------------------------------------------------------
def value_html(ctx: RunContext) -> str:
    from cvm.reporting.plots import plot_migration

    lang = ctx.lang
    seg = ctx.load_frame("segments")
    mix = seg["value_tag"].value_counts().reindex(list("ABCD"), fill_value=0)
    trend = pd.Series(ctx.load_json("ab_share_trend"))
    target = float(_cfg(ctx)["ab_share_target"])
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.6))
    m = mix.copy()
    m.index = labels("value_tag", m.index, lang)
    plot_bars(m, ax=axes[0], title=t("value_tags", lang))
    axes[0].tick_params(axis="x", labelsize=8)
    plot_line(
        trend,
        ax=axes[1],
        title=t("ab_trend", lang),
        percent=True,
        target=target,
        target_label=f"{t('ab_target', lang)} {fmt.pct(target, 0)}",
    )
    lo = min(trend.min(), target)
    hi = max(trend.max(), target)
    axes[1].set_ylim(max(0.0, lo - 0.05), min(1.0, hi + 0.05))
    parts = [fig_to_img(fig, "value tags")]
    mig = ctx.load_frame("value_migration")
    mig = mig.loc[mig.sum(axis=1) > 0, mig.sum(axis=0) > 0]

    def cell(a: str, b: str) -> int:
        return int(mig.loc[a, b]) if a in mig.index and b in mig.columns else 0

    down = sum(cell(a, b) for a in "AB" for b in "CD")
    up = sum(cell(a, b) for a in "CD" for b in "AB")
    k = ctx.load_json("kpis")
    ab, ab_prev = k["current"]["ab_share"], k["previous"]["ab_share"]
    means = _say(
        ctx,
        "value_means",
        ab=fmt.pct(ab),
        tg=fmt.pct(target, 0),
        mom=fmt.points(ab - ab_prev, lang),
        up=fmt.count(up),
        down=fmt.count(down),
        h=ctx.horizon_months,
    )
    todo = _say(
        ctx,
        "value_todo",
    )
    parts.insert(0, _box(ctx, means, todo))
    ax = plot_migration(mig, lang=lang, kind="value_tag")
    ax.set_title(t("value_migration", lang))
    figure_of(ax).set_size_inches(5.2, 3.6)
    parts.append(fig_to_img(ax, "value migration"))
    parts.append(triad_html(ctx, seg))
    return "".join(parts)


def triad_html(ctx: RunContext, seg: pd.DataFrame) -> str:
    """既成 / 潜在 / 影响价值 by value tag: per customer and in total."""
    lang = ctx.lang
    head = _h3(t("triad", lang))
    if not ctx.has("value_scores"):
        return head + _skipped(lang, _say(ctx, "value_model_skipped"))
    vs = ctx.load_frame("value_scores")
    cols = [c for c in ("realized_value", "potential_value", "influence_value") if c in vs]
    df = vs[cols + (["referrals"] if "referrals" in vs else [])].join(seg["value_tag"], how="inner")
    g = df.groupby("value_tag")
    mean = g[cols].mean().reindex(list("ABCD"))
    total = g[cols].sum().reindex(list("ABCD")).fillna(0) / fmt.scale(lang)
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    use_cjk_font()
    x = np.arange(4)
    w = 0.27
    for i, c in enumerate(cols):
        ax.bar(
            x + (i - 1) * w,
            total[c].to_numpy(),
            w,
            label=label("column", c, lang).split("(")[0],
            color=PALETTE[i + 1 if i < 2 else 4],
        )
    ax.set_xticks(x, labels("value_tag", total.index, lang), fontsize=8)
    ax.set_ylabel(t("wan_yuan", lang))
    ax.set_title(t("triad", lang))
    ax.legend(fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    rows = pd.DataFrame(
        {
            "value_tag": labels("value_tag", mean.index, lang),
            "customers": g.size().reindex(list("ABCD")).fillna(0).map(fmt.count).to_numpy(),
            **{c: mean[c].map(fmt.yuan).to_numpy() for c in cols},
        }
    )
    if "referrals" in df:
        rows["referrals"] = (
            (g["referrals"].mean().reindex(list("ABCD")) * 100)
            .map(lambda v: fmt.num(v, 1))
            .to_numpy()
        )
    share_a = total.loc["A"].sum() / max(total.to_numpy().sum(), 1e-9)
    means = _say(
        ctx,
        "triad_means",
        h=ctx.horizon_months,
        s=fmt.pct(share_a, 0),
    )
    todo = _say(
        ctx,
        "triad_todo",
    )
    return (
        head
        + fig_to_img(fig, "value triad")
        + html_table(rows, lang, numeric=tuple(c for c in rows.columns if c != "value_tag"))
        + _box(ctx, means, todo)
    )


# --- 忠诚度 --------------------------------------------------------------------------------
def loyalty_html(ctx: RunContext) -> str:
    from cvm.segments._common import crosstab_with_flows
    from cvm.segments.loyalty import TYPES, loyalty_type

    lang = ctx.lang
    now = ctx.load_frame("segments")["loyalty_type"].dropna()
    prev = loyalty_type(ctx.tables, ctx.prev_as_of, ctx.cfg)
    c_now = now.value_counts().reindex(list(TYPES), fill_value=0)
    c_prev = prev.value_counts().reindex(list(TYPES), fill_value=0)
    cells = {(0, 0): "latent", (0, 1): "true", (1, 0): "non_loyal", (1, 1): "inertia"}
    grid = {
        rc: (label("loyalty", k, lang), float(c_now[k]), float(c_now[k] - c_prev[k]))
        for rc, k in cells.items()
    }
    xl = (
        _say(ctx, "loyalty_behaviour_low"),
        _say(ctx, "loyalty_behaviour_high"),
    )
    yl = (_say(ctx, "loyalty_attitude_high"), _say(ctx, "loyalty_attitude_low"))
    ax = plot_matrix_2x2(grid, xl, yl, title=t("loyalty_matrix", lang), goal=(0, 1))
    img = fig_to_img(ax, "loyalty matrix")
    flow = crosstab_with_flows(prev, now, order=list(TYPES))
    into_true = int(flow["true"].drop("true", errors="ignore").sum()) if "true" in flow else 0
    out_true = (
        int(flow.loc["true"].drop("true", errors="ignore").sum()) if "true" in flow.index else 0
    )
    means = _say(
        ctx,
        "loyalty_means",
        t=fmt.count(c_now["true"]),
        l=fmt.count(c_now["latent"]),
        i=fmt.count(c_now["inertia"]),
        n=fmt.count(c_now["non_loyal"]),
        u=fmt.count(c_now["unknown"]),
        a=fmt.count(into_true),
        b=fmt.count(out_true),
    )
    todo = _say(
        ctx,
        "loyalty_todo",
    )
    rows = pd.DataFrame(
        {
            "loyalty_type": labels("loyalty", TYPES, lang),
            "last_month": c_prev.map(fmt.count).to_numpy(),
            "this_month": c_now.map(fmt.count).to_numpy(),
            "change": (c_now - c_prev).map(fmt.signed).to_numpy(),
        }
    )
    return (
        _box(ctx, means, todo)
        + f'<div class="row">{img}'
        + html_table(rows, lang, numeric=("last_month", "this_month", "change"))
        + "</div>"
    )


# --- 客户需求 ------------------------------------------------------------------------------
def needs_html(ctx: RunContext) -> str:
    lang = ctx.lang
    seg = ctx.load_frame("segments")
    have = [n for n in NEEDS if n in seg]
    if not have:
        return _skipped(lang, _say(ctx, "no_needs_tags"))
    seg = seg.assign(**{n: seg[n].astype("boolean").fillna(False).astype(bool) for n in have})
    base = len(seg)
    counts = pd.Series({n: int(seg[n].sum()) for n in have})
    risk = seg["lifecycle_stage"].isin(["at_risk"])
    ab = seg["value_tag"].isin(["A", "B"])
    rows = pd.DataFrame(
        {
            "need": labels("need", have, lang),
            "customers": counts.map(fmt.count).to_numpy(),
            "share": (counts / max(base, 1)).map(lambda v: fmt.pct(v, 0)).to_numpy(),
            "ab_share": [fmt.pct(ab[seg[n]].mean(), 0) if seg[n].any() else "–" for n in have],
            "at_risk_share": [
                fmt.pct(risk[seg[n]].mean(), 0) if seg[n].any() else "–" for n in have
            ],
            "service": labels("service", have, lang),
        }
    )
    c = counts.copy()
    c.index = labels("need", have, lang)
    ax = plot_bars(c, horizontal=True, title=t("needs_groups", lang))
    figure_of(ax).set_size_inches(6.5, 2.8)
    top = counts.idxmax()
    means = _say(
        ctx,
        "needs_means",
        g=label("need", top, lang),
        n=fmt.count(counts[top]),
    )
    todo = _say(
        ctx,
        "needs_todo",
    )
    return (
        _box(ctx, means, todo)
        + fig_to_img(ax, "needs groups")
        + html_table(
            rows,
            lang,
            numeric=("customers", "share", "ab_share", "at_risk_share"),
            wide=("service",),
        )
    )


# --- 本月营销计划 --------------------------------------------------------------------------
def plan_html(ctx: RunContext) -> str:
    lang = ctx.lang
    p = plan_facts(ctx)
    if p is None or not p.n_target:
        return _note(t("no_plan", lang))
    plan = ctx.load_frame("campaign_plan")
    per = campaign_plan_table(ctx, plan)
    z = float(_cfg(ctx)["interval_z"])
    d = p.by_dept
    dept_rows = pd.DataFrame(
        {
            "department": labels("department", d.index, lang),
            "campaigns": [
                t("list_sep", lang).join(labels("campaign", cs, lang)) for cs in d["campaigns"]
            ],
            "n_target": d["n_target"].map(fmt.count).to_numpy(),
            "n_control": d["n_control"].map(fmt.count).to_numpy(),
            "cost": d["cost"].map(fmt.yuan).to_numpy(),
            "expected_incremental_value": d["value"].map(fmt.yuan).to_numpy(),
            "capacity_used": [
                f"{fmt.pct(u, 0)} / {fmt.count(c)}" if pd.notna(c) else "–"
                for u, c in zip(d["used"], d["capacity"], strict=True)
            ],
        }
    )
    camp_rows = pd.DataFrame(
        {
            "campaign_label": labels("campaign", per.index, lang),
            "department": labels("department", per["department"], lang),
            "channel": labels("channel", per["channel"], lang),
            "n_target": per["n_target"].map(fmt.count).to_numpy(),
            "n_control": per["n_control"].map(fmt.count).to_numpy(),
            "cost": per["cost"].map(fmt.yuan).to_numpy(),
            "expected_incremental_value": per["value"].map(fmt.yuan).to_numpy(),
            "interval": [
                f"{fmt.yuan(v - z * s)} – {fmt.yuan(v + z * s)}"
                for v, s in zip(per["value"], per["se"], strict=True)
            ],
        }
    )
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    use_cjk_font()
    x = np.arange(len(d))
    ax.bar(
        x - 0.2,
        d["value"].to_numpy() / fmt.scale(lang),
        0.4,
        color=PALETTE[1],
        label=label("column", "expected_incremental_value", lang).split("(")[0],
    )
    ax.bar(
        x + 0.2,
        d["cost"].to_numpy() / fmt.scale(lang),
        0.4,
        color=PALETTE[4],
        label=label("column", "cost", lang).split("(")[0],
    )
    ax.set_xticks(x, labels("department", d.index, lang))
    ax.set_ylabel(t("wan_yuan", lang))
    ax.set_title(t("plan_by_dept", lang))
    ax.legend(fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    best = per.index[0]
    means = _say(
        ctx,
        "plan_means",
        b=fmt.money(ctx.budget, lang),
        c=fmt.money(p.cost, lang),
        v=fmt.money(p.value, lang),
        lo=fmt.money(p.low, lang),
        hi=fmt.money(p.high, lang),
        r=fmt.num(p.value / p.cost if p.cost else float("nan"), 1),
        best=label("campaign", best, lang),
    )
    todo = _say(
        ctx,
        "plan_todo",
    )
    info = ctx.load_json("campaign_summary") if ctx.has("campaign_summary") else {}
    notes = "".join(_note(str(n)) for n in info.get("notes", []))
    return (
        _box(ctx, means, todo)
        + fig_to_img(fig, "plan by department")
        + _h3(t("plan_by_dept", lang))
        + html_table(
            dept_rows,
            lang,
            numeric=(
                "n_target",
                "n_control",
                "cost",
                "expected_incremental_value",
                "capacity_used",
            ),
            wide=("campaigns",),
        )
        + _h3(t("plan_by_campaign", lang))
        + html_table(
            camp_rows,
            lang,
            numeric=("n_target", "n_control", "cost", "expected_incremental_value", "interval"),
        )
        + notes
        + _note(t("list_pointer", lang, files=_dept_files(ctx)))
        + budget_curve_html(ctx)
        + why_not_chosen_html(ctx)
    )


def budget_curve_html(ctx: RunContext) -> str:
    """The plan at multiples of the budget (``campaign_budget_curve``): a chart and a table."""
    if not ctx.has("campaign_budget_curve"):
        return ""
    lang = ctx.lang
    c = ctx.load_frame("campaign_budget_curve")
    if c.empty:
        return ""
    rows = pd.DataFrame(
        {
            "budget_multiplier": [f"{m:g}×" for m in c["budget_multiplier"]],
            "budget": c["budget"].map(fmt.yuan).to_numpy(),
            "n_target": c["n_target"].map(fmt.count).to_numpy(),
            "spend": c["spend"].map(fmt.yuan).to_numpy(),
            "expected_incremental_value": c["expected_incremental_value"].map(fmt.yuan).to_numpy(),
            "interval": [
                f"{fmt.yuan(lo)} – {fmt.yuan(hi)}"
                for lo, hi in zip(
                    c["expected_incremental_value_low"],
                    c["expected_incremental_value_high"],
                    strict=True,
                )
            ],
            "roi": c["roi"].map(lambda v: fmt.num(v, 1)).to_numpy(),
        }
    )
    sc = fmt.scale(lang)
    fig, ax = plt.subplots(figsize=(7.5, 3.0))
    use_cjk_font()
    ax.plot(c["budget"] / sc, c["expected_incremental_value"] / sc, marker="o", color=PALETTE[1])
    ax.fill_between(
        c["budget"] / sc,
        c["expected_incremental_value_low"] / sc,
        c["expected_incremental_value_high"] / sc,
        color=PALETTE[1],
        alpha=0.15,
    )
    ax.axvline(ctx.budget / sc, color=PALETTE[4], ls="--", lw=1)
    ax.set_xlabel(
        label("column", "budget", lang).split("(")[0].strip() + f" ({t('wan_yuan', lang)})"
    )
    ax.set_ylabel(t("wan_yuan", lang))
    ax.set_title(t("budget_curve", lang))
    ax.spines[["top", "right"]].set_visible(False)
    one = c.loc[c["budget_multiplier"] == 1.0]
    two = c.loc[c["budget_multiplier"] == 2.0]
    note = ""
    if len(one) and len(two):
        o, w = one.iloc[0], two.iloc[0]
        note = _note(
            t(
                "budget_curve_note",
                lang,
                v1=fmt.money(o["expected_incremental_value"], lang),
                v2=fmt.money(w["expected_incremental_value"], lang),
                r1=fmt.num(o["roi"], 1),
                r2=fmt.num(w["roi"], 1),
            )
        )
    return (
        _h3(t("budget_curve", lang))
        + fig_to_img(fig, "budget curve")
        + note
        + html_table(rows, lang, numeric=tuple(c for c in rows.columns))
    )


def why_not_chosen_html(ctx: RunContext) -> str:
    """Per campaign: eligible pairs, chosen, and the reasons the others were not chosen, most
    frequent first (``campaign_summary.candidates``, from campaigns/candidates.parquet)."""
    info = ctx.load_json("campaign_summary") if ctx.has("campaign_summary") else {}
    cand = info.get("candidates") or {}
    if not cand:
        return ""
    from cvm.campaigns.candidates import REASONS

    lang = ctx.lang
    # the reason codes "capacity" and "budget" are also column codes of other tables
    code = {"capacity": "over_capacity", "budget": "over_budget"}
    sep = t("clause_sep", lang)
    data: dict[str, list[str]] = {
        "campaign_label": [],
        "eligible": [],
        "chosen": [],
        "not_chosen_reasons": [],
    }
    for camp, counts in sorted(cand.items(), key=lambda kv: -kv[1].get("chosen", 0)):
        data["campaign_label"].append(label("campaign", camp, lang))
        data["eligible"].append(fmt.count(sum(counts.values())))
        data["chosen"].append(fmt.count(counts.get("chosen", 0)))
        why = sorted(((n, r) for r, n in counts.items() if r in REASONS and n), reverse=True)
        data["not_chosen_reasons"].append(
            sep.join(f"{label('column', code.get(r, r), lang)} {fmt.count(n)}" for n, r in why)
            or "–"
        )
    rows = pd.DataFrame(data)
    return (
        _h3(t("why_not_chosen", lang))
        + html_table(rows, lang, numeric=("eligible", "chosen"), wide=("not_chosen_reasons",))
        + _note(t("why_not_chosen_note", lang))
    )


# --- 上月活动效果 --------------------------------------------------------------------------
def results_html(ctx: RunContext) -> str:
    lang = ctx.lang
    m = results_table(ctx)
    if m is None:
        return _note(t("no_measurement", lang))
    names = labels("campaign", m["campaign"], lang)
    ax = plot_intervals(
        pd.Series(m["net"].to_numpy(), index=names),
        pd.Series(m["net_low"].to_numpy(), index=names),
        pd.Series(m["net_high"].to_numpy(), index=names),
        title=t("results", lang),
        xlabel=label("column", "net", lang),
    )
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    rows = pd.DataFrame(
        {
            "campaign_label": names,
            "n_target": m["n_target"].map(fmt.count),
            "n_control": m["n_control"].map(fmt.count),
            "response_target": m["response_target"].map(lambda v: fmt.pct(v, 0)),
            "response_control": m["response_control"].map(lambda v: fmt.pct(v, 0)),
            "response_lift": m["response_lift"].map(lambda v: fmt.points(v, lang, 0)),
            "cost": m["cost"].map(fmt.yuan),
            "net": m["net"].map(fmt.yuan),
            "interval": [
                f"{fmt.yuan(a)} – {fmt.yuan(b)}"
                for a, b in zip(m["net_low"], m["net_high"], strict=True)
            ],
            "verdict": labels("confidence", m["verdict"], lang),
        }
    )
    win = m[m["verdict"].isin(["sure_gain", "likely_gain"])]
    lose = m[m["verdict"].isin(["sure_loss", "likely_loss"])]
    days = float(m["observed_days"].mean()) if "observed_days" in m else float("nan")
    means = _say(
        ctx,
        "results_means",
        d=fmt.count(days),
        w=len(win),
        l=len(lose),
    )
    if (m["verdict"] == "renewal_pending").any():
        means += ("" if _zh(ctx) else " ") + _say(ctx, "results_renewal_pending")
        for c in m.loc[m["verdict"] == "renewal_pending", "campaign"].astype(str):
            means += _renewal_measured(ctx, c)
    todo = _say(
        ctx,
        "results_todo",
    )
    return (
        _box(ctx, means, todo)
        + fig_to_img(ax, "last month's results")
        + html_table(
            rows,
            lang,
            numeric=(
                "n_target",
                "n_control",
                "response_target",
                "response_control",
                "response_lift",
                "cost",
                "net",
                "interval",
            ),
        )
    )


# --- 销售线索 ------------------------------------------------------------------------------
def _leads_html(ctx: RunContext) -> str:
    from cvm.reporting.leads_section import leads_html

    return leads_html(ctx)


# --- 附录：模型质量 ------------------------------------------------------------------------
def _grade(gain: float, thresholds: dict[str, float]) -> str:
    from cvm.models.churn import grade

    return grade(gain, thresholds)


def grade_sentences(ctx: RunContext) -> list[str]:
    """One sentence per model: its grade against the best simple rule, in a manager's words."""
    lang, out = ctx.lang, []
    gt = _cfg(ctx)["grade_thresholds"]

    def verdict(grade: str) -> str:
        return t(f"grade_verdict_{grade}", lang)

    if ctx.has("churn_metrics"):
        m = ctx.load_json("churn_metrics")
        naive = m.get("naive_rule") or {}
        g = m.get("grade") or _grade(
            m["auc"] - naive.get("auc", RANDOM_AUC), ctx.cfg["churn"]["grade_thresholds"]
        )
        out.append(
            _say(
                ctx,
                "grade_churn",
                m=label("model", "churn", lang),
                g=g,
                a=fmt.num(m["auc"]),
                b=fmt.num(naive.get("auc")),
                r=label("naive", naive.get("name", ""), lang),
                v=verdict(g),
            )
        )
    if ctx.has("value_metrics"):
        m = ctx.load_json("value_metrics")
        base = m.get("baselines") or {}
        if base:
            name = max(base, key=lambda k: base[k])
            g = _grade(m["normalized_gini"] - base[name], gt["value"])
            out.append(
                _say(
                    ctx,
                    "grade_value",
                    m=label("model", "value", lang),
                    g=g,
                    a=fmt.num(m["normalized_gini"]),
                    b=fmt.num(base[name]),
                    r=label("naive", name, lang),
                    v=verdict(g),
                )
            )
    if ctx.has("lead_metrics"):
        m = ctx.load_json("lead_metrics")
        if "auc" in m:
            b = (m.get("baselines") or {}).get("source_rate", RANDOM_AUC)
            g = _grade(m["auc"] - b, gt["leads"])
            out.append(
                _say(
                    ctx,
                    "grade_leads",
                    m=label("model", "leads", lang),
                    g=g,
                    a=fmt.num(m["auc"]),
                    b=fmt.num(b),
                    v=verdict(g),
                )
            )
    return out


def appendix_html(ctx: RunContext) -> str:
    lang = ctx.lang
    items = "".join(f"<li>{html.escape(s)}</li>" for s in grade_sentences(ctx))
    parts = [
        _h3(t("model_grades", lang)),
        f"<ul>{items}</ul>",
        _note(
            _say(
                ctx,
                "appendix_grades",
            )
        ),
        f'<div class="tech">{_h3(t("technical", lang))}',
    ]
    for name, fn in (("churn_metrics", churn_quality_html), ("value_metrics", value_quality_html)):
        parts.append(fn(ctx) if ctx.has(name) else "")
    from cvm.reporting.leads_section import lead_quality_html

    parts.append(lead_quality_html(ctx))
    parts.append(drivers_html(ctx))
    parts.append(quality_html(ctx))
    parts.append("</div>")
    return "".join(parts)


def _metric_rows(pairs: list[tuple[str, str]], lang: str) -> str:
    df = pd.DataFrame(pairs, columns=["metric", "value"])
    return html_table(df, lang, numeric=("value",))


def churn_quality_html(ctx: RunContext) -> str:
    lang = ctx.lang
    m = ctx.load_json("churn_metrics")
    if "skipped" in m:
        return _skipped(ctx.lang, m["skipped"])
    val = ctx.load_frame("churn_validation")
    y = val["y_true"].to_numpy()
    scores = {t("model", lang): val["p"].to_numpy()}
    for c in CHURN_BASELINES:
        if c in val:
            scores[label("naive", c, lang)] = val[c].to_numpy()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    plot_roc(y, scores, ax=axes[0], lang=lang)
    plot_calibration(y, val["p"].to_numpy(), ax=axes[1], lang=lang)
    plot_gain(y, scores, ax=axes[2], lang=lang)
    pairs = [
        (
            label("metric", k, lang),
            fmt.num(m[k], 3)
            if isinstance(m[k], float)
            else fmt.count(m[k])
            if isinstance(m[k], int)
            else str(m[k]),
        )
        for k in (
            "auc",
            "pr_auc",
            "brier",
            "ece",
            "top_decile_lift",
            "n_train",
            "n_valid",
            "n_holdout",
        )
        if k in m
    ]
    for name, auc in (m.get("baselines") or {}).items():
        pairs.append(
            (f"{label('metric', 'baseline', lang)}: {label('naive', name, lang)}", fmt.num(auc, 3))
        )
    return (
        _h3(label("model", "churn", lang))
        + fig_to_img(fig, "churn model quality")
        + _metric_rows(pairs, lang)
    )


def value_quality_html(ctx: RunContext) -> str:
    lang = ctx.lang
    m = ctx.load_json("value_metrics")
    if "skipped" in m:
        return _skipped(ctx.lang, m["skipped"])
    val = ctx.load_frame("value_validation")
    y = val["realized"].to_numpy()
    scores = {t("model", lang): val["predicted"].to_numpy()}
    for c in VALUE_BASELINES:
        if c in val:
            scores[label("naive", c, lang)] = val[c].to_numpy()
    ax = plot_gain(
        y, scores, lang=lang, ylabel_key="share_value", xlabel_key="share_customers_value"
    )
    pairs = [
        (label("metric", k, lang), fmt.num(m[k], 3) if isinstance(m[k], float) else fmt.count(m[k]))
        for k in (
            "normalized_gini",
            "spearman",
            "top_decile_capture",
            "total_ratio",
            "n_train",
            "n_valid",
        )
        if k in m
    ]
    for name, g in (m.get("baselines") or {}).items():
        pairs.append(
            (f"{label('metric', 'baseline', lang)}: {label('naive', name, lang)}", fmt.num(g, 3))
        )
    return (
        _h3(label("model", "value", lang))
        + fig_to_img(ax, "value model quality")
        + _metric_rows(pairs, lang)
    )


def shap_html(ctx: RunContext, model: str) -> str:
    """Global SHAP importance and beeswarm for ``model`` ('churn' or 'value'), drawn once a
    run: the model's notebook draws it, the report reuses it (``figure_cache.once``)."""
    from cvm.reporting.figure_cache import once

    if not ctx.has(f"{model}_shap_values"):
        return _skipped(ctx.lang, label("model", model, ctx.lang))
    inputs = (f"{model}_shap_values", f"{model}_shap_features")
    return once(ctx, f"{model}_shap_figure", inputs, lambda: _shap_chart(ctx, model))


def _shap_chart(ctx: RunContext, model: str) -> str:
    from cvm.reporting.plots import plot_beeswarm, plot_importance

    if not ctx.has(f"{model}_shap_values"):
        return _skipped(ctx.lang, label("model", model, ctx.lang))
    lang = ctx.lang
    sv = ctx.load_frame(f"{model}_shap_values")
    X = ctx.load_frame(f"{model}_shap_features")
    names = {c: feature_name(c, lang) for c in X.columns}
    sv, X = sv.rename(columns=names), X.rename(columns=names)
    use_cjk_font()
    fig, axes = plt.subplots(1, 2, figsize=(14, 5))
    n = int(_cfg(ctx)["shap_features"])
    plot_importance(sv, top_n=n, ax=axes[0])
    axes[0].set_title(t(f"{model}_drivers", lang))
    axes[0].set_xlabel(_say(ctx, "shap_axis"))
    plt.sca(axes[1])
    plot_beeswarm(sv, X, max_display=n, ax=axes[1], seed=ctx.seed)
    if _zh(ctx):
        # shap draws its words in English: the table's en text of these keys is shap's own
        keys = ("shap_feature_value", "shap_high", "shap_low", "shap_value_axis")
        _translate_texts(fig, {t(k, "en"): t(k, "zh") for k in keys})
    return fig_to_img(fig, f"{model} drivers")


def _translate_texts(fig: Any, words_: dict[str, str]) -> None:
    """Replace a library's English chart words (shap's beeswarm) in every text of ``fig``.

    Tick labels are set again from their axis's formatter when the figure is drawn (shap
    gives fixed ones: the "Sum of … other features" row, the colour bar's High / Low), so
    they are replaced through the axis; other texts in place."""
    import re

    def say(s: str) -> str:
        if s in words_:
            return words_[s]
        if m := re.fullmatch(r"Sum of (\d+) other features", s):
            return t("shap_other_features", "zh", n=m.group(1))
        return s

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = [x.get_text() for x in axis.get_ticklabels()]
            said = [say(x) for x in labels]
            if said != labels:
                axis.set_ticks(axis.get_ticklocs(), said)
    for text in fig.findobj(lambda o: hasattr(o, "get_text") and hasattr(o, "set_text")):
        s = text.get_text()
        if say(s) != s:
            text.set_text(say(s))


def driver_sentences(sv: pd.DataFrame, X: pd.DataFrame, lang: str, top_n: int) -> list[str]:
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
            out.append(label("column", f, lang))
    return out


def drivers_html(ctx: RunContext) -> str:
    parts = []
    for model in ("churn", "value"):
        if not ctx.has(f"{model}_shap_values"):
            continue
        sv = ctx.load_frame(f"{model}_shap_values")
        X = ctx.load_frame(f"{model}_shap_features")
        top = int(_cfg(ctx)["driver_sentences"])
        items = "".join(
            f"<li>{html.escape(s)}</li>" for s in driver_sentences(sv, X, ctx.lang, top)
        )
        parts.append(
            _h3(t(model + "_drivers", ctx.lang))
            + f"<p>{t(model + '_drivers_intro', ctx.lang)}</p><ol>{items}</ol>"
        )
        parts.append(shap_html(ctx, model))
    return "".join(parts)


def quality_html(ctx: RunContext) -> str:
    lang = ctx.lang
    dq = ctx.load_json("data_quality")
    parts = [_h3(t("data_quality", lang))]
    comp = pd.Series(dq.get("profile_completeness", {}), dtype=float)
    if len(comp):
        comp.index = labels("profile", comp.index, lang)
        ax = plot_bars(
            comp.sort_values(), horizontal=True, fmt="{:.0%}", title=t("profile_completeness", lang)
        )
        figure_of(ax).set_size_inches(6, 4.5)
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        parts.append(fig_to_img(ax, "profile completeness"))
    warnings = dq.get("warnings", [])
    if warnings:
        parts.append(
            "<ul>" + "".join(f'<li class="warn">{html.escape(w)}</li>' for w in warnings) + "</ul>"
        )
    if dq.get("absent_tables"):
        parts.append(_note(_say(ctx, "missing_tables", t=", ".join(dq["absent_tables"]))))
    if ctx.has("drift"):
        thr = float(_cfg(ctx)["drift_psi_warning"])
        drift = ctx.load_frame("drift")
        flagged = drift[drift["psi"] > thr].head(int(_cfg(ctx)["top_rows"]))
        parts.append(_h3(t("drift", lang, thr=thr)))
        if len(flagged):
            rows = pd.DataFrame(
                {
                    "feature": [feature_name(f, lang) for f in flagged["feature"]],
                    "psi": flagged["psi"].map(lambda v: fmt.num(v, 2)),
                }
            )
            parts.append(html_table(rows, lang, numeric=("psi",)))
        else:
            parts.append(f"<p>{t('none', lang)}</p>")
    return "".join(parts)


def feature_name(feature: str, lang: str) -> str:
    """A feature's name in words: its registry sentence without the number."""
    from cvm.features.registry import feature_label

    return feature_label(feature, lang)


def reason_text(text: str, lang: str) -> str:
    """A reason sentence as stored (scores.parquet); empty stays empty."""
    return text or ""


def mask_id(value: object) -> str:
    """Customer ids are shown with their middle masked in the report."""
    s = str(value)
    return s if len(s) <= 4 else s[:2] + "*" * (len(s) - 4) + s[-2:]
