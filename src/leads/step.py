"""The monthly leads step (``leads`` in ``cvm.graph.STEPS``).

``leads_step`` trains the lead model out of time, scores the leads open at the as-of date,
grades them, writes the sales lead list ``leads/sales_leads.csv`` (no names or phones)
and saves the defeat, source and order tables as artifacts; the report's leads section
(``cvm.reporting.leads_section``) renders them.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from cvm.config import CvmError
from cvm.data.ids import DAYS_PER_MONTH, day_number
from cvm.run_context import RunContext

log = logging.getLogger(__name__)

LIST_COLUMNS = [
    "lead_id",
    "grade",
    "conversion_probability",
    "order_class",
    "expected_delivery_month",
    "source",
    "model_of_interest",
    "sales_consultant_id",
    "reasons",
]


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
    ctx.save_frame(
        "lead_sources",
        source_effectiveness(
            L, ctx.tables.get("vehicle_sales"), ctx.as_of, months, cfg["source_cost_per_lead"]
        ),
    )
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
    scores = pd.DataFrame(
        {
            "grade": g,
            "conversion_probability": p,
            "order_class": orders["order_class"],
            "expected_delivery_month": orders["expected_delivery_month"],
            "source": X["source"].astype("object"),
            "model_of_interest": X["model_of_interest"].astype("object"),
            "sales_consultant_id": L["sales_consultant_id"].reindex(X.index),
            "reasons": reasons,
        },
        index=X.index,
    )
    scores.index.name = "lead_id"
    ctx.save_frame("lead_scores", scores)
    t = day_number(ctx.as_of)
    closed = L["closed"].to_numpy(dtype=float)
    lead_coverage(
        ctx, scores, int(((L["created"].to_numpy(dtype=float) <= t) & ~(closed <= t)).sum())
    )
    ctx.save_frame("lead_orders", orders)
    ctx.save_frame("lead_stock_plan", stock_plan(orders))
    ctx.save_frame("lead_validation", model.validation)
    ctx.save_frame("lead_grades_now", grade_table(None, g, p))
    metrics = {
        **model.metrics,
        "open_leads": len(X),
        "grade_counts": pd.Series(g).value_counts().to_dict(),
    }
    ctx.save_json("lead_metrics", metrics)
    ctx.save_json("lead_model", model.to_dict())
    write_store_lead_lists(ctx, write_lead_list(ctx, scores))
    return metrics


def write_lead_list(ctx: RunContext, scores: pd.DataFrame) -> pd.DataFrame:
    """``leads/sales_leads.csv``: open leads, best first; ids and scores only, no PII."""
    path = ctx.run_dir / "leads" / "sales_leads.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    lst = scores.reset_index()[LIST_COLUMNS].sort_values(
        ["conversion_probability", "lead_id"], ascending=[False, True], kind="stable"
    )
    lst["conversion_probability"] = lst["conversion_probability"].round(4)
    from cvm.campaigns.files import write_csv

    write_csv(lst, path)  # UTF-8 with a BOM, text cells safe from formula injection
    return lst


def write_store_lead_lists(ctx: RunContext, lst: pd.DataFrame) -> None:
    """A dealer group's data: each store's own open leads, ``stores/<dealer_id>/leads/
    sales_leads.csv`` (same columns and order as the group's list), by the lead's
    ``dealer_id``. Leads without a store stay on the group's list only."""
    from cvm.campaigns.files import write_csv
    from cvm.data.table_cache import select
    from cvm.features.stores import is_multi_store

    leads = ctx.tables["leads"]
    if "dealer_id" not in leads.columns:
        return
    # the visits' and customers' stores only: not the whole tables (a million customers'
    # visits are ~1.5 GB in the leads kernel, for one column)
    stores = {name: select(ctx.tables, name, ["dealer_id"]) for name in ("visits", "customers")}
    if not is_multi_store({k: v for k, v in stores.items() if v is not None}):
        return
    store = leads.drop_duplicates("lead_id").set_index("lead_id")["dealer_id"]
    dealer = store.reindex(lst["lead_id"]).astype("str").to_numpy()
    for d in sorted({x for x in dealer if x and x not in ("nan", "<NA>", "None")}):
        path = ctx.run_dir / "stores" / d / "leads" / "sales_leads.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(lst.loc[dealer == d], path)


def funnel(tables: dict[str, pd.DataFrame], L: pd.DataFrame, as_of, months: float) -> pd.Series:
    """Leads created in the last ``months``: all, followed up, test drive, won, delivered."""
    end = day_number(as_of)
    c = L["created"].to_numpy()
    win = L[(c <= end) & (c > end - months * DAYS_PER_MONTH)]
    out = {"leads": len(win)}
    ev = tables.get("lead_followups")
    if ev is not None:
        from cvm.data.ids import days, ids, isin

        seen = ids(ev["lead_id"])[days(ev["followup_date"]) <= end]
        out["followed_up"] = int(isin(ids(pd.Series(win.index)), seen).sum())
    out["test_drive"] = int((win["td_day"].to_numpy() <= end).sum())
    won = win["won"].to_numpy() & (win["closed"].to_numpy() <= end)
    out["won"] = int(won.sum())
    sales = tables.get("vehicle_sales")
    if sales is not None and "lead_id" in sales:
        from cvm.data.ids import ids, isin

        out["delivered"] = int(
            isin(ids(pd.Series(win.index[won])), ids(sales["lead_id"].dropna())).sum()
        )
    return pd.Series(out, name="leads").to_frame()


def lead_coverage(ctx: RunContext, lead_scores: pd.DataFrame, open_leads: int) -> None:
    """The open leads' coverage (``lead_coverage``; metrics.json ``lead_coverage``)."""
    ctx.save_json(
        "lead_coverage",
        {
            "open_leads": int(open_leads),
            "conversion_probability": int(lead_scores["conversion_probability"].notna().sum()),
        },
    )
