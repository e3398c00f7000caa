"""The steps of the monthly run; each notebook calls one of these and displays what it returns.

Every step reads its inputs from the run context (tables, earlier artifacts) and saves its
outputs as artifacts, so a notebook can be re-run alone. Steps whose input tables are absent
are skipped with a reason the report shows.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from cvm.data.contract import PROFILE_FIELDS
from cvm.data.ids import day_number, days, reindex
from cvm.fileio import write_atomic
from cvm.i18n import t
from cvm.reporting.kpis import drift_table, yearly_return
from cvm.run_context import RunContext, month_shift
from cvm.settings import CampaignSettings, typed

log = logging.getLogger(__name__)

REASON_COLUMNS = ("reason_1", "reason_2", "reason_3")


class _Phases:
    """Seconds per phase of a step (training, scoring, SHAP …), saved as ``<step>_phases``."""

    def __init__(self, ctx: RunContext, step: str) -> None:
        self.ctx, self.step = ctx, step
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = round(self.seconds.get(phase, 0.0) + now - self._t, 2)
        self._t = now

    def save(self) -> None:
        self.ctx.save_json(f"{self.step}_phases", self.seconds)


def _sample_index(index: pd.Index, n: int, seed: int) -> pd.Index:
    """A seeded uniform sample of at most ``n`` of ``index`` (all of it when smaller)."""
    if n <= 0 or len(index) <= n:
        return index
    rng = np.random.default_rng([seed, 11])
    return index[np.sort(rng.choice(len(index), n, replace=False))]


def _sample_visits(visits: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """The visits of a seeded uniform sample of ``n`` customers (all of them when fewer)."""
    from cvm.data.ids import ids, isin

    cid = ids(visits["customer_id"])
    who = pd.Index(cid.unique()).dropna().sort_values()
    keep = _sample_index(who, n, seed)
    return visits if len(keep) == len(who) else visits.loc[isin(cid, keep)]


def _on_parts(ctx: RunContext, fn: Any, X: pd.DataFrame, *shared: Any) -> Any:
    """``fn(X, *shared)`` for a row-wise ``fn`` (scoring, SHAP): in this process with the
    local engine; with ``--engine dask``, one task per store (a dealer group) or per
    ``engine.partition_rows`` customers, results concatenated in ``X``'s order — the same
    rows, the same numbers (``cvm.engine``)."""
    from cvm.engine import engine_of, map_stores

    if engine_of(ctx.run_dir).get("engine") != "dask" or len(X) == 0:
        return fn(X, *shared)
    if ctx.has("customer_stores"):
        store = ctx.load_frame("customer_stores")["dealer_id"].reindex(X.index).fillna("")
        parts = [X.loc[(store == d).to_numpy()] for d in sorted(store.unique())]
    else:
        size = max(1, ctx.settings.engine.partition_rows)
        parts = [X.iloc[i : i + size] for i in range(0, len(X), size)]
    out = map_stores(ctx.run_dir, fn, [p for p in parts if len(p)], *shared)
    if isinstance(out[0], pd.DataFrame | pd.Series):
        return pd.concat(out).reindex(X.index)
    whole = pd.Series(
        np.concatenate([np.asarray(o) for o in out]),
        index=pd.Index(np.concatenate([p.index.to_numpy() for p in parts if len(p)])),
    )
    return whole.reindex(X.index).to_numpy()


def _proba(X: pd.DataFrame, model: Any) -> np.ndarray:
    return model.predict_proba(X)


def _value_scores(X: pd.DataFrame, model: Any) -> pd.DataFrame:
    """The value model's three per-customer figures (row-wise: one task per store or part)."""
    return pd.DataFrame(
        {
            "predicted_value": model.predict(X),
            "lifetime_value": model.lifetime_value(X),
            "predicted_customer_paid": model.predict_customer_paid(X),
        },
        index=X.index,
    )


def _contrib(X: pd.DataFrame, booster: Any, threads: int) -> pd.DataFrame:
    from cvm.models.explain import contributions

    return contributions(booster, X, threads)


# --- 01 data quality ------------------------------------------------------------------------
def data_quality(ctx: RunContext) -> dict[str, Any]:
    """Validation warnings, tables present, profile completeness of the 17 fields."""
    from cvm.data.validate import validate_tables

    tables = ctx.tables
    warnings = ctx.cached("warnings")  # the run validated the source once, before this step
    if warnings is None:
        warnings = [w.message for w in validate_tables(tables, as_of=None).warnings]
    completeness: dict[str, float] = {}
    cust = tables.get("customers")
    if cust is not None and len(cust):
        for f in PROFILE_FIELDS:
            completeness[f] = float(cust[f].notna().mean()) if f in cust else 0.0
    rows = ctx.cached("rows") or {name: len(df) for name, df in tables.items()}
    dq = {
        "tables": {name: int(n) for name, n in rows.items()},
        "absent_tables": sorted(set(_all_tables()) - set(tables)),
        "warnings": list(warnings),
        "profile_completeness": completeness,
        "profile_complete_share": float(np.mean(list(completeness.values())))
        if completeness
        else None,
    }
    ctx.save_json("data_quality", dq)
    return dq


def _all_tables() -> list[str]:
    from cvm.data.contract import TABLES

    return list(TABLES)


# --- 02 features ----------------------------------------------------------------------------
def _customer_stores(ctx: RunContext) -> pd.Series | None:
    """A dealer group's store of each customer at the as-of date (artifact
    ``customer_stores``, computed once, by the features step); None for one-store data."""
    from cvm.features.stores import customer_stores, is_multi_store

    if not is_multi_store(ctx.tables):
        return None
    if not ctx.has("customer_stores"):
        stores = customer_stores(ctx.tables, ctx.as_of, ctx.cfg)
        ctx.save_frame("customer_stores", stores.to_frame())
        return stores
    return ctx.load_frame("customer_stores")["dealer_id"]


def _table_parts(
    ctx: RunContext,
    referrals: bool,
    names: tuple[str, ...] | None = None,
    customers: pd.Index | None = None,
) -> list[dict[str, pd.DataFrame]] | None:
    """The tables split by customer for per-part work on a Dask engine: one part per store
    of a dealer group (``customer_stores``), else per ``engine.partition_rows`` customers
    (sorted ids); customers named by neither (lead-only prospects) form one more part
    (``cvm.features.snapshot.split_tables``); ``names``: only those tables; ``customers``:
    only their rows (``restrict_tables``). None on the local engine: the whole is one part,
    computed here."""
    from cvm.engine import engine_of
    from cvm.features.snapshot import restrict_tables, split_tables

    if engine_of(ctx.run_dir).get("engine") != "dask":
        return None
    tables = {k: ctx.tables[k] for k in ctx.tables if names is None or k in names}
    if customers is not None:
        tables = restrict_tables(tables, customers)
    part_of, n = _part_plan(ctx, tables["visits"])
    return split_tables(tables, part_of, n, referrals=referrals)


def _part_plan(ctx: RunContext, visits: pd.DataFrame) -> tuple[pd.Series, int]:
    """Each customer's part (customer id -> part number) and the number of parts: one per
    store of a dealer group (``customer_stores``), else per ``engine.partition_rows`` of the
    customers of ``visits`` (sorted ids)."""
    from cvm.data.ids import ids

    if ctx.has("customer_stores"):
        store = ctx.load_frame("customer_stores")["dealer_id"].astype("str")
        dealers = pd.Index(sorted(store.unique()))
        return pd.Series(dealers.get_indexer(store), index=store.index), len(dealers)
    who = pd.Index(pd.unique(ids(visits["customer_id"]).dropna())).sort_values()
    size = max(1, ctx.settings.engine.partition_rows)
    return pd.Series(np.arange(len(who)) // size, index=who), max(1, -(-len(who) // size))


def _part_files(
    ctx: RunContext,
    kind: str,
    referrals: bool,
    names: tuple[str, ...] | None = None,
    columns: dict[str, list[str]] | None = None,
) -> list[str] | None:
    """The folders of the parts of ``kind`` the workers read themselves
    (``cvm.features.part_files``; written once a run, cut like :func:`_table_parts`), on a
    Dask engine with ``engine.workers_read_parts``; else None (the parts are scattered)."""
    from cvm.data.table_cache import select
    from cvm.engine import engine_of
    from cvm.features.part_files import write_parts

    if engine_of(ctx.run_dir).get("engine") != "dask" or not ctx.settings.engine.workers_read_parts:
        return None
    memo = f"part_files:{kind}"
    if memo not in ctx.memo:
        part_of, n = _part_plan(ctx, select(ctx.tables, "visits", ["customer_id"]))
        ctx.memo[memo] = write_parts(
            ctx.run_dir, kind, ctx.tables, part_of, n, referrals, columns, list(names or ctx.tables)
        )
    return ctx.memo[memo]


def _build_features(ctx: RunContext, as_of: Any, customers: pd.Index | None = None) -> pd.DataFrame:
    """``build_features(ctx.tables, as_of, ctx.cfg, customers)``: here, or one task per part
    on a Dask engine (the figures across customers computed once here, on the whole data, and
    sent with the tasks; the mileage fill over every customer built: the same rows)."""
    from cvm.engine import map_stores
    from cvm.features.part_files import build_part_at
    from cvm.features.snapshot import (
        build_features,
        build_part,
        feature_columns,
        feature_figures,
        feature_tables,
        finish_features,
    )

    files = _part_files(ctx, "features", referrals=True, columns=feature_columns(ctx.cfg))
    if files is not None:  # each worker reads its part (and cuts it to ``customers``)
        figures = feature_figures(feature_tables(ctx.tables, ctx.cfg), as_of, ctx.cfg)
        done = map_stores(ctx.run_dir, build_part_at, files, as_of, ctx.cfg, figures, customers)
        return finish_features(done, as_of)
    key = "feature_parts" if customers is None else None  # every customer: cut once a step
    parts = ctx.memo.get(key) if key else None
    if parts is None:
        parts = _table_parts(ctx, referrals=True, customers=customers)
    if parts is None:
        chunk = ctx.settings.engine.local_chunk_customers
        if customers is None and chunk > 0:
            chunks = _chunked_build(ctx, as_of, chunk)
            if chunks is not None:
                return finish_features(chunks, as_of)
        return build_features(ctx.tables, as_of, ctx.cfg, customers=customers)
    if key:
        ctx.memo[key] = parts
    figures = feature_figures(ctx.tables, as_of, ctx.cfg)
    done = map_stores(ctx.run_dir, build_part, parts, as_of, ctx.cfg, figures)
    return finish_features(done, as_of)


def _chunked_build(ctx: RunContext, as_of: Any, chunk: int) -> list[Any] | None:
    """Every customer's features built ``chunk`` customers at a time on the local engine (in
    customer order; ``cvm.features.snapshot.iter_split`` gathers each chunk's rows only when
    it is built), with the whole data's figures: the same rows as one build (a build over
    any split of the customers equals the whole, ``split_tables``), at a peak that follows
    the chunk, not the base (issue 21). None when the base fits in one chunk."""
    from cvm.data.ids import ids
    from cvm.features.snapshot import build_part, feature_figures, feature_tables, iter_split

    ft = feature_tables(ctx.tables, ctx.cfg)
    v = ft.get("visits")
    if v is None:
        return None
    who = pd.unique(ids(v["customer_id"]).dropna().to_numpy(dtype=object))
    if len(who) <= chunk:
        return None
    who = np.sort(who.astype(str))
    n = -(-len(who) // chunk)
    part_of = pd.Series(np.arange(len(who)) // chunk, index=pd.Index(who, dtype="str"))
    figures = feature_figures(ft, as_of, ctx.cfg)
    parts = iter_split(ft, part_of, n, referrals=True)
    return [
        build_part(p, as_of, ctx.cfg, figures)
        for p in tqdm(parts, total=n, desc="feature chunks", leave=False)
    ]


def features(ctx: RunContext) -> pd.DataFrame:
    """Point-in-time features at the as-of date, and their drift against one month earlier."""
    ph = _Phases(ctx, "features")
    _customer_stores(ctx)
    ph.mark("stores")
    feats = _build_features(ctx, ctx.as_of)
    ctx.save_frame("features", feats)
    ph.mark("features")
    _fit_new_owner_rates(ctx)
    ph.mark("new_owner_rates")
    # drift (PSI of binned distributions) needs a month-earlier reference, not every customer:
    # a seeded uniform sample of the base (sampling.drift_customers) estimates it closely
    n = ctx.settings.sampling.drift_customers
    who = _sample_index(feats.index, n, ctx.seed)
    prev = _build_features(ctx, ctx.prev_as_of, who if len(who) < len(feats) else None)
    ctx.memo.pop("feature_parts", None)
    r = ctx.settings.report
    drift = drift_table(prev, feats, r.drift_psi_warning, r.drift_psi_bins)
    ph.mark("drift")
    ph.save()
    ctx.save_frame("drift", drift)
    return feats


# --- models the data cannot teach -------------------------------------------------------------
class Skipped:
    """A model the data could not teach; ``metrics`` says why (what the notebooks display)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.metrics = {"skipped": reason}


def _skip_reason(ctx: RunContext, model: str) -> str | None:
    """Why ``model`` cannot be learned from this data (``cvm.run_checks.assess``), or None.
    The monthly run assessed it before the notebooks (artifact ``run_checks``)."""
    from cvm.run_checks import assess

    if ctx.has("run_checks"):
        return ctx.load_json("run_checks")["skipped"].get(model)
    return assess(ctx.tables, ctx.as_of, ctx.cfg).skipped.get(model)


def _skip(ctx: RunContext, model: str, reason: str) -> Skipped:
    """Record a skipped model: its metrics say why, a notice for the report, empty scores."""
    log.warning("%s", reason)
    ctx.save_json(f"{model}_metrics", {"skipped": reason})  # the report's notices read it
    if model == "churn":
        empty = pd.DataFrame(
            {
                c: pd.Series(dtype="float64" if c == "churn_probability" else "str")
                for c in ("churn_probability", *REASON_COLUMNS)
            }
        )
        empty.index = pd.Index([], dtype="str", name="customer_id")
        ctx.save_frame("churn_scores", empty)
    return Skipped(reason)


def _train_or_skip(ctx: RunContext, model: str, frames_fn: Any, fit_fn: Any) -> Any:
    """Build ``model``'s training frames and fit it, or a :class:`Skipped` with the reason when
    the data cannot teach it (assessed up front, or found while building the frames)."""
    from cvm.config import InsufficientData

    reason = _skip_reason(ctx, model)
    if reason:
        return _skip(ctx, model, reason)
    try:
        frames = frames_fn(ctx.tables, ctx.as_of, ctx.cfg)
        if ctx.research:  # a challenger (cvm.research) trains on the very same rows
            ctx.memo[f"{model}_frames"] = frames
        return fit_fn(frames, ctx.cfg)
    except InsufficientData as err:
        return _skip(ctx, model, f"{model} model skipped: {err}")


# --- 03 churn -------------------------------------------------------------------------------
def _scoring_features(ctx: RunContext) -> pd.DataFrame:
    """The as-of features the churn and value models score: on a short history, rebuilt on
    the out-of-time fold's lookback (``cvm.features.lookback``); else the step's artifact."""
    from cvm.features.lookback import scoring_features

    feats = ctx.load_frame("features")
    return scoring_features(ctx.tables, ctx.as_of, ctx.horizon_months, ctx.cfg, feats)


def churn(ctx: RunContext) -> Any:
    """Train the churn model out-of-time, score active customers, explain whom the lists need.

    When the data cannot teach it (``cvm.run_checks``) the step is skipped with the reason."""
    from cvm.definitions import active_customers
    from cvm.models.churn import churn_frames, fit_churn
    from cvm.models.explain import contributions, reason_codes

    ph = _Phases(ctx, "churn")
    model = _train_or_skip(ctx, "churn", churn_frames, fit_churn)
    if isinstance(model, Skipped):
        return model
    ph.mark("training")
    feats = _scoring_features(ctx)
    active = active_customers(ctx.tables["visits"], ctx.as_of, ctx.cfg)
    X = feats.loc[feats.index.intersection(active)]
    p = pd.Series(_on_parts(ctx, _proba, X, model), index=X.index, name="churn_probability")
    ph.mark("scoring")
    s = ctx.settings
    n_explain = s.explain.max_rows
    threads = s.churn.num_threads
    who = p.sort_values(ascending=False, kind="stable").index[:n_explain]
    contrib = _on_parts(ctx, _contrib, X.loc[who], model.booster, threads)
    reasons = reason_codes(contrib, X.loc[who], lang=ctx.lang, top_k=len(REASON_COLUMNS))
    scores = pd.DataFrame({"churn_probability": p}).join(reasons)
    ph.mark("shap")
    # the baselines' scores of the same customers, for `cvm evaluate`
    from cvm.models.baselines import predict_rfm_gbm, recency_score
    from cvm.models.btyd import bgnbd_no_purchase

    base = {"recency": recency_score(X), "rfm_logistic": model.rfm.predict_proba(X)}
    if getattr(model, "rfm_gbm", None) is not None:
        base["lightgbm_rfm"] = predict_rfm_gbm(model.rfm_gbm, X, ctx.cfg)
    try:
        base["bgnbd_p_alive"] = bgnbd_no_purchase(
            ctx.tables["visits"], ctx.as_of, ctx.horizon_months, ctx.cfg, X.index
        ).to_numpy()
    except Exception as exc:  # noqa: BLE001 lifetimes raises bare ConvergenceError / ValueError
        log.warning("BG/NBD churn baseline failed: %s", exc)
    ctx.save_frame("churn_baselines", pd.DataFrame(base, index=X.index))
    ctx.save_frame("churn_scores", scores)
    ctx.save_frame("churn_validation", model.validation)
    ph.mark("scoring")
    # a seeded sample for the global SHAP plots
    n_sample = min(len(X), s.explain.global_sample)
    sample = X.sample(n=n_sample, random_state=ctx.seed) if n_sample else X
    ctx.save_frame("churn_shap_values", contributions(model.booster, sample, threads))
    ctx.save_frame("churn_shap_features", sample)
    ph.mark("shap")
    ctx.save_json("churn_metrics", model.metrics)
    from cvm.models.bundle import save_run_bundle  # run_dir/models/churn/<version>

    save_run_bundle(ctx, "churn", model)
    ph.mark("bundle")
    ph.save()
    return model


# --- 04 value -------------------------------------------------------------------------------
def value(ctx: RunContext) -> Any:
    """Train the value model out-of-time; predicted horizon spend and lifetime value per customer.

    When the data cannot teach it (``cvm.run_checks``) the step is skipped with the reason."""
    from cvm.models.explain import contributions
    from cvm.models.value import fit_value, value_frames
    from cvm.segments.customer_value import customer_value

    ph = _Phases(ctx, "value")
    model = _train_or_skip(ctx, "value", value_frames, fit_value)
    if isinstance(model, Skipped):
        return model
    ph.mark("training")
    feats = _scoring_features(ctx)
    out = _on_parts(ctx, _value_scores, feats, model)
    pred = out["predicted_value"]
    out = out.join(customer_value(ctx.tables, ctx.as_of, pred), rsuffix="_cv")
    ctx.save_frame("value_scores", out)
    ph.mark("scoring")
    from cvm.models.baselines import predict_rfm_gbm
    from cvm.models.value import value_baselines

    # the BG/NBD + Gamma-Gamma baseline's four population parameters are fitted on a seeded
    # sample of customers (sampling.btyd_fit_customers), then applied to every customer
    base = value_baselines(
        ctx.tables["visits"],
        np.full(len(feats), ctx.as_of),
        feats.index,
        ctx.horizon_months,
        ctx.cfg,
    )
    if model.rfm_gbm is not None:
        base["lightgbm_rfm"] = predict_rfm_gbm(model.rfm_gbm, feats, ctx.cfg) * model.rfm_scale
    ctx.save_frame("value_baselines", pd.DataFrame(base, index=feats.index))
    ctx.save_frame("value_validation", model.validation)
    ctx.save_json("value_metrics", model.metrics)
    ph.mark("baselines")
    n_sample = min(len(feats), ctx.settings.explain.global_sample)
    sample = feats.sample(n=n_sample, random_state=ctx.seed)
    booster = getattr(model, "booster", None) or model.boosters[0]
    ctx.save_frame("value_shap_values", contributions(booster, sample[model.feature_names]))
    ctx.save_frame("value_shap_features", sample[model.feature_names])
    ph.mark("shap")
    from cvm.models.bundle import save_run_bundle  # run_dir/models/value/<version>

    save_run_bundle(ctx, "value", model)
    ph.mark("bundle")
    ph.save()
    return model


# --- 05 segments ----------------------------------------------------------------------------
def _segment_parts(ctx: RunContext, group: bool) -> dict[str, Any]:
    """Each customer's lifecycle stage, value-tag figures, loyalty and needs (now and a
    month ago where the step needs both): here, or one task per part on a Dask engine
    (``cvm.segments.parts``; the same rows)."""
    from cvm.engine import map_stores
    from cvm.segments.parts import TABLES_READ, combine_parts, segment_part, segment_part_at

    files = _part_files(ctx, "segments", referrals=False, names=TABLES_READ)
    if files is not None:  # each worker reads its part
        done = map_stores(
            ctx.run_dir, segment_part_at, files, ctx.as_of, ctx.prev_as_of, ctx.cfg, group
        )
        return combine_parts(done)
    parts = _table_parts(ctx, referrals=False, names=TABLES_READ)
    if parts is None:
        return segment_part(ctx.tables, ctx.as_of, ctx.prev_as_of, ctx.cfg, group)
    done = map_stores(ctx.run_dir, segment_part, parts, ctx.as_of, ctx.prev_as_of, ctx.cfg, group)
    return combine_parts(done)


def segments(ctx: RunContext) -> pd.DataFrame:
    """Lifecycle stage, value tag, loyalty and needs now and a month ago; KPIs; scores.parquet."""
    from cvm.segments.lifecycle import lifecycle_transitions
    from cvm.segments.value_tags import (
        ab_share,
        encode_visits,
        migration_matrix,
        tag_customers,
        value_figures,
        value_tags_by_store,
    )

    ph = _Phases(ctx, "segments")
    t, now, prev, cfg = ctx.tables, ctx.as_of, ctx.prev_as_of, ctx.cfg
    stores = _customer_stores(ctx)
    part = _segment_parts(ctx, group=stores is not None)
    ph.mark("per_customer")
    stage, stage_prev = part["stage"], part["stage_prev"]
    # the value-tag thresholds are figures across customers: taken here, over every customer
    tags = tag_customers(part["value"], now, cfg)
    tags_prev = tag_customers(part["value_prev"], prev, cfg)
    if stores is not None:  # a dealer group: each store's own value-tag thresholds
        tags = value_tags_by_store(tags, stores, cfg)
        tags_prev = value_tags_by_store(tags_prev, part["stores_prev"], cfg)
        ctx.save_json("store_value_thresholds", tags.attrs["thresholds"])
    seg = pd.DataFrame({"lifecycle_stage": stage}).join(tags, how="left")
    if stores is not None:
        seg["dealer_id"] = reindex(stores, seg.index).astype("str")
    seg["loyalty_type"] = reindex(part["loyalty"], seg.index)
    seg = seg.join(part["needs"], how="left")
    ctx.save_frame("lifecycle_transitions", lifecycle_transitions(stage_prev, stage))
    ctx.save_frame("lifecycle_prev", stage_prev.rename("lifecycle_stage").to_frame())
    ctx.save_frame("value_migration", migration_matrix(tags_prev["value_tag"], tags["value_tag"]))
    ph.mark("tags")
    # A+B share over the last 12 month ends; the earlier months on a seeded uniform sample of
    # customers (sampling.trend_customers): a share estimated from 100,000 customers is within
    # ±0.3 points (95 %), and its own median thresholds are estimated as closely
    trend = {}
    v_trend = encode_visits(
        _sample_visits(t["visits"], ctx.settings.sampling.trend_customers, ctx.seed), cfg
    )
    trend_stores = None if stores is None else stores.reindex(v_trend.index)  # once, not 11 times
    for k in range(11, -1, -1):
        d = month_shift(now, -k)
        tg = tags if k == 0 else tag_customers(value_figures(v_trend, d, cfg), d, cfg)
        if k and trend_stores is not None:
            tg = value_tags_by_store(tg, trend_stores, cfg)
        trend[d.strftime("%Y-%m")] = ab_share(tg["value_tag"], cfg)
    ctx.save_json("ab_share_trend", trend)
    ph.mark("trend")
    ctx.save_json(
        "kpis",
        {"current": _kpis(t, now, stage, tags), "previous": _kpis(t, prev, stage_prev, tags_prev)},
    )
    ph.mark("kpis")
    scores = _assemble_scores(ctx, seg, _new_owner_scores(ctx))
    ph.mark("new_owners")
    ctx.save_frame("customer_scores", scores)  # what the campaigns step reads
    write_atomic(ctx.path("scores"), lambda tmp: scores.to_parquet(tmp, index=False))
    ctx.save_json("coverage", coverage(ctx, scores))
    ctx.save_frame("segments", seg)
    ph.mark("scores")
    ph.save()
    return seg


def _fit_new_owner_rates(ctx: RunContext) -> None:
    """Past rates of owners without a visit yet, per cell (``cvm.models.new_owners``; artifact
    ``new_owner_rates``): fitted once, saved with the churn and value bundles (so ``cvm
    score`` scores new owners as the run does) and used by the segments step."""
    from cvm.models.new_owners import fit_new_owner_rates_at

    rates = fit_new_owner_rates_at(ctx.tables, ctx.as_of, ctx.horizon_months, ctx.cfg)
    if rates is not None:
        ctx.save_json("new_owner_rates", rates)


def _new_owner_scores(ctx: RunContext) -> pd.DataFrame:
    """Churn probability and predicted value of owners without a visit yet, from the features
    step's ``new_owner_rates`` (``cvm.models.new_owners``; artifact ``new_owner_scores``)."""
    from cvm.models.new_owners import no_visit_owners, score_new_owners

    out = pd.DataFrame(
        {"churn_probability": pd.Series(dtype=float), "predicted_value": pd.Series(dtype=float)}
    )
    if ctx.has("new_owner_rates"):
        owners = no_visit_owners(ctx.tables, ctx.as_of)
        if len(owners):
            out = score_new_owners(owners, ctx.load_json("new_owner_rates"))
    out.index.name = "customer_id"
    ctx.save_frame("new_owner_scores", out)
    return out


def coverage(ctx: RunContext, scores: pd.DataFrame) -> dict[str, Any]:
    """Who got a score: owners (a visit, or a vehicle / sale without a visit yet) with a churn
    probability and a predicted value, by kind; open leads with a conversion probability.

    Churn is scored for owners active in the last ``definitions.active_window_months`` and for
    owners without a visit yet; an owner whose last visit is older has already left by the churn
    label's definition (``lapsed``) and gets a predicted value only."""
    from cvm.data.ids import ids
    from cvm.definitions import active_customers

    sc = scores.set_index(ids(scores["customer_id"]).rename("customer_id"))
    v = ctx.tables["visits"]
    seen = pd.Index(ids(v["customer_id"])[days(v["visit_date"]) <= day_number(ctx.as_of)].unique())
    active = active_customers(v, ctx.as_of, ctx.cfg)
    new = ctx.load_frame("new_owner_scores").index if ctx.has("new_owner_scores") else pd.Index([])
    groups = {
        "active": active,
        "lapsed": seen.difference(active),
        "no_visit_yet": pd.Index(new).difference(seen),
    }
    out: dict[str, Any] = {}
    for name, idx in groups.items():
        rows = reindex(sc, idx)
        n = len(idx)
        out[name] = {
            "owners": n,
            "churn_probability": int(rows["churn_probability"].notna().sum()),
            "predicted_value": int(rows["predicted_value"].notna().sum()),
        }
    owners = sum(g["owners"] for g in out.values())
    out["owners"] = owners
    scored_c = out["active"]["churn_probability"] + out["no_visit_yet"]["churn_probability"]
    out["churn_share_of_active_and_new"] = scored_c / max(
        out["active"]["owners"] + out["no_visit_yet"]["owners"], 1
    )
    out["value_share_of_owners"] = sum(
        g["predicted_value"] for g in out.values() if isinstance(g, dict)
    ) / max(owners, 1)
    return out


def _kpis(
    tables: dict[str, pd.DataFrame], as_of: pd.Timestamp, stage: pd.Series, tags: pd.DataFrame
) -> dict[str, float]:
    from cvm.segments.value_tags import ab_share

    counts = stage.value_counts()
    owners = counts.reindex(["active_owner", "won_back", "at_risk", "lost"], fill_value=0)
    yr = yearly_return(tables["visits"], as_of)
    return {
        "base": int(owners.sum()),
        "active": int(owners["active_owner"] + owners["won_back"]),
        "at_risk": int(owners["at_risk"]),
        "lost": int(owners["lost"]),
        "return_rate": yr["return_rate"],
        "yearly_loss": yr["yearly_loss"],
        "ab_share": ab_share(tags["value_tag"]),
    }


def _assemble_scores(
    ctx: RunContext, seg: pd.DataFrame, new: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The contract's scores.parquet: one row per customer. Owners without a visit yet take
    their churn probability and predicted value from ``new`` (``cvm.models.new_owners``)."""
    out = seg[
        ["lifecycle_stage", "value_tag", "loyalty_type"]
        + (["dealer_id"] if "dealer_id" in seg.columns else [])
    ].copy()
    if ctx.has("churn_scores"):
        out = out.join(ctx.load_frame("churn_scores"), how="left")
    if ctx.has("value_scores"):
        vs = ctx.load_frame("value_scores")
        out = out.join(
            vs[
                [
                    c
                    for c in ("predicted_value", "lifetime_value", "predicted_customer_paid")
                    if c in vs.columns
                ]
            ],
            how="left",
        )
    for c in ("churn_probability", "predicted_value", *REASON_COLUMNS):
        if c not in out:
            out[c] = np.nan if not c.startswith("reason") else None
    if new is not None and len(new):
        for c in ("churn_probability", "predicted_value"):
            fill = reindex(new[c], out.index)
            out[c] = out[c].where(out[c].notna(), fill)
    out.index.name = "customer_id"
    out = out.reset_index()
    lead = [
        "customer_id",
        "lifecycle_stage",
        "value_tag",
        "churn_probability",
        "predicted_value",
        "loyalty_type",
        *REASON_COLUMNS,
    ]
    return (
        out[lead + [c for c in out.columns if c not in lead]]
        .sort_values("customer_id", kind="stable")
        .reset_index(drop=True)
    )


# --- 06 campaigns ---------------------------------------------------------------------------
def _contacted_features(ctx: RunContext):
    """``features_fn`` for the uplift training frame: features at a contact month's snapshot
    (the day before the month) only for customers contacted in that month.

    The uplift frame keeps the contacts whose customer has features, so building them for the
    contacted customers alone gives the same rows at a fraction of the cost. Above
    ``sampling.uplift_customers_per_month`` contacted customers a month, a seeded uniform
    sample of them is kept: sampling customers independently of their group (target or
    control) and outcome leaves the treated/control comparison, hence the uplift, unbiased.
    """
    from cvm.data.ids import ids
    from cvm.features.snapshot import CustomerRows, build_features, feature_tables

    c = ctx.tables.get("campaign_contacts")
    by_snap: dict[pd.Timestamp, pd.Index] = {}
    if c is not None and len(c):
        dates = pd.to_datetime(c["contact_date"])
        snap = dates.dt.to_period("M").dt.start_time - pd.Timedelta(days=1)
        frame = pd.DataFrame({"snap": snap.to_numpy(), "cid": ids(c["customer_id"]).to_numpy()})
        cap = ctx.settings.sampling.uplift_customers_per_month
        for d, g in frame.dropna().groupby("snap", sort=True):
            who = pd.Index(pd.unique(g["cid"].to_numpy())).sort_values()
            by_snap[pd.Timestamp(d)] = _sample_index(
                who, cap, ctx.seed + int(pd.Timestamp(d).value // 86_400_000_000_000)
            )

    # each month's rows gathered from the tables a feature build reads (``feature_tables``:
    # only its columns) through one index of the rows of every customer some month keeps; the
    # tables are not copied cut to those customers first (at a million customers that copy
    # held ~0.9 GB, the uplift kernel's peak)
    rows: CustomerRows | None = None
    at: dict[pd.Timestamp, np.ndarray] = {}
    if by_snap:
        every = np.concatenate([w.to_numpy(dtype=object) for w in by_snap.values()]).astype(str)
        rows = CustomerRows(
            feature_tables(ctx.tables, ctx.cfg), customers=pd.Index(np.unique(every))
        )
        # each month's customers found in the rows' index in one lookup, not one a month
        pos = rows.positions(pd.Index(every))
        if pos is not None:
            ends = np.cumsum([len(w) for w in by_snap.values()])
            at = dict(zip(by_snap, np.split(pos, ends[:-1]), strict=True))

    def features_fn(tables: dict[str, pd.DataFrame], date: Any) -> pd.DataFrame:
        who = by_snap.get(pd.Timestamp(date))
        # the figures across customers (store levels) come from the whole tables, the rows
        # from the cut ones
        return build_features(
            tables,
            date,
            ctx.cfg,
            customers=who,
            rows_from=(
                rows.cut(who, at.get(pd.Timestamp(date)))
                if who is not None and rows is not None
                else None
            ),
        )

    return features_fn


def _candidates_and_curve(
    ctx: RunContext,
    scored: pd.DataFrame,
    plan: pd.DataFrame,
    blocked: pd.DataFrame | None,
    catalogue: dict[str, Any],
    source: dict[str, str],
    frame: pd.DataFrame,
    camp_cfg: dict[str, Any],
) -> dict[str, Any]:
    """``campaigns/candidates.parquet`` (every pair, chosen or not, and why) and the
    ``campaign_budget_curve`` artifact (the plan at multiples of the budget); returns what
    they add to ``campaign_summary`` (the plan's interval, reasons counted by campaign)."""
    from cvm.campaigns.budget_curve import budget_curve
    from cvm.campaigns.candidates import build_candidates, reason_counts
    from cvm.campaigns.catalogue import defaults

    d = defaults(camp_cfg)
    z = float(camp_cfg["intervals"]["z"])
    cand = build_candidates(
        scored,
        plan,
        blocked
        if blocked is not None
        else pd.DataFrame(columns=["customer_id", "campaign", "reason"]),
        catalogue,
        source,
        dict(d.capacity),
        float(camp_cfg["planner"]["min_expected_value"]),
        z,
    )
    path = ctx.path("campaign_candidates")
    path.parent.mkdir(exist_ok=True)
    write_atomic(path, lambda tmp: cand.to_parquet(tmp, index=False))
    curve = budget_curve(
        scored,
        ctx.budget,
        dict(d.capacity),
        camp_cfg["budget_curve"]["multipliers"],
        ctx.seed,
        z,
        tags=frame["value_tag"] if "value_tag" in frame.columns else None,
        current=plan,
        threads=int(camp_cfg["budget_curve"]["threads"]),
    )
    ctx.save_frame("campaign_budget_curve", curve)
    one = curve.loc[curve["budget_multiplier"] == 1.0].iloc[0]
    return {
        "expected_incremental_value_low": float(one["expected_incremental_value_low"]),
        "expected_incremental_value_high": float(one["expected_incremental_value_high"]),
        "candidates": reason_counts(cand),
    }


def _campaign_settings(ctx: RunContext) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run's campaign settings (configs/campaigns.yaml with the profile's ``campaigns:``
    overlay) and the catalogue, the store's declared columns registered first (eligibility
    rules and custom campaigns may name them)."""
    from cvm.campaigns.catalogue import load_catalogue
    from cvm.config import load_config
    from cvm.features.extra import from_config

    camp_cfg = load_config("campaigns", ctx.cfg.get("campaigns"))
    from_config(ctx.cfg)
    return camp_cfg, load_catalogue(camp_cfg)


def uplift(ctx: RunContext) -> dict[str, Any]:
    """Measure last month's campaigns against their control groups and fit the uplift model
    from every past contact (``uplift_model``, read by the campaigns step).

    It reads only the tables (the contacts, and the features at each contact's month), not
    this month's scores, so the run fits it beside churn and value (notebook 06a)."""
    from cvm.campaigns.measurement import measure_campaigns
    from cvm.campaigns.uplift import fit_uplift
    from cvm.campaigns.uplift_store import to_json
    from cvm.data.table_cache import narrow

    ph = _Phases(ctx, "uplift")
    camp_cfg, catalogue = _campaign_settings(ctx)
    # the step reads the contacts and visits whole but never their ids or the contacts'
    # channels: left out of its reads (~0.3 GB at a million customers; the same model)
    narrow(ctx.tables, "campaign_contacts", ["contact_id", "channel"])
    narrow(ctx.tables, "visits", ["visit_id"])
    measured = measure_campaigns(ctx.tables, ctx.as_of, run_cfg=ctx.cfg)
    if "campaign" in measured.columns:  # the report waits for a renewal campaign's policies
        renewal = {c for c, k in catalogue.items() if k.renewal_commission}
        measured["renewal_commission"] = measured["campaign"].astype(str).isin(renewal)
    ctx.save_frame("campaign_measurement", measured)
    ph.mark("measurement")
    model = fit_uplift(
        ctx.tables,
        _contacted_features(ctx),
        ctx.as_of,
        cfg=camp_cfg,
        catalogue=catalogue,
        measurements=measured,
        seed=ctx.seed,
        run_cfg=ctx.cfg,
    )
    if model.validation is not None:  # out-of-time contacts: Qini curves (cvm.research)
        ctx.save_frame("uplift_validation", model.validation)
    ctx.save_json("uplift_model", to_json(model))
    ph.mark("uplift")
    ph.save()
    return model.metrics


def campaigns(ctx: RunContext) -> pd.DataFrame:
    """Plan this month's campaigns under the budget with the uplift step's model, control
    groups, candidates, the budget curve, department lists."""
    from cvm.campaigns.catalogue import defaults
    from cvm.campaigns.control import assign_control
    from cvm.campaigns.eligibility import eligible_pairs
    from cvm.campaigns.lists import department_lists
    from cvm.campaigns.measurement import renewal_uplift
    from cvm.campaigns.targeting import (
        calibrate_values,
        plan_campaigns,
        renewal_commission,
        score_pairs,
        value_at_stake,
    )
    from cvm.campaigns.uplift_store import from_json

    ph = _Phases(ctx, "campaigns")
    tables, notes = ctx.tables, []
    camp_cfg, catalogue = _campaign_settings(ctx)
    uplift = from_json(ctx.load_json("uplift_model"))
    ph.mark("load_uplift_model")
    priors = sorted(c for c, s in uplift.source.items() if s == "prior")
    if priors:
        notes.append(
            t(
                "note_prior_uplift",
                ctx.lang,
                campaigns=", ".join(catalogue[c].name(ctx.lang) for c in priors),
            )
        )
    feats = ctx.load_frame("features")
    scores = ctx.load_frame("customer_scores").set_index("customer_id")
    frame = feats.join(scores[[c for c in scores.columns if c not in feats.columns]], how="left")
    pairs = eligible_pairs(frame, tables.get("campaign_contacts"), catalogue, ctx.as_of)
    for cid, why in pairs.attrs.get("skipped", {}).items():
        notes.append(f"{catalogue[cid].name(ctx.lang)}: {why}")
    value_now = frame["predicted_value"]
    if value_now.isna().all() and len(frame):  # value model skipped: the planner values
        from cvm.models.btyd import historical_average  # customers at their past spend rate

        value_now = historical_average(
            tables["visits"], ctx.as_of, ctx.horizon_months, ctx.cfg, frame.index
        ).reindex(frame.index)
        notes.append(t("note_value_skipped", ctx.lang))
    risk_now = frame["churn_probability"].fillna(
        frame["churn_probability"].median() if frame["churn_probability"].notna().any() else 0.5
    )
    stake = value_at_stake(
        frame.assign(churn_probability=risk_now, predicted_value=value_now.fillna(0.0))
    )
    scored = score_pairs(pairs, uplift.predict_pairs(feats, pairs), stake, catalogue)
    recent = typed(CampaignSettings, camp_cfg).measurement.renewal_recent_months
    renewals = renewal_uplift(  # what renewal campaigns' past contacts renewed, vs control
        tables,
        ctx.as_of,
        [c for c, k in catalogue.items() if k.renewal_commission],
        int(ctx.cfg["features"]["insurance_term_months"]),
        int(camp_cfg["uplift"]["min_control"]),
        float(camp_cfg["measurement"]["confidence"]),
        recent_months=recent,
        run_cfg=ctx.cfg,
    )
    if typed(CampaignSettings, camp_cfg).uplift.spend_calibration.enabled:
        scored = calibrate_values(
            scored,
            uplift.spend_effect,
            uplift.spend_se,
            camp_cfg,
            margin=(uplift.margin_pairs(feats, pairs) if uplift.margin is not None else None),
            margin_weight=uplift.margin_weight,
            extra_value=renewal_commission(
                scored,
                catalogue,
                measured=renewals,
                months_left=scored["customer_id"].map(frame["insurance_months_left"])
                if "insurance_months_left" in frame.columns
                else None,
                months_since_paid=scored["customer_id"].map(frame["months_since_last_paid_visit"])
                if "months_since_last_paid_visit" in frame.columns
                else None,
                recent_months=recent,
            ),
            flat=[c for c, k in catalogue.items() if k.spread == "flat"],
            at_risk=[c for c, k in catalogue.items() if k.spread == "at_risk"],
            by_value=[c for c, k in catalogue.items() if k.spread == "value"],
            risk=scored["customer_id"].map(risk_now).to_numpy(float),
        )
        uplift.metrics["renewals"] = renewals
        uplift.metrics["spend_calibration"] = scored.attrs.get("calibration", {})
        flat = sorted(
            c
            for c in pairs["campaign"].astype(str).unique()
            if uplift.source.get(c) == "learned"
            and uplift.margin is not None
            and uplift.margin_weight.get(c, 0.0) <= 0
        )
        if flat:
            names = ", ".join(catalogue[c].name(ctx.lang) for c in flat)
            notes.append(t("note_flat_uplift", ctx.lang, campaigns=names))
    scored["uplift_source"] = scored["campaign"].map(uplift.source)
    ctx.save_frame("campaign_pairs", scored.join(frame[["churn_probability"]], on="customer_id"))
    ph.mark("pairs")
    d = defaults(camp_cfg)
    stores = ctx.load_frame("customer_stores")["dealer_id"] if ctx.has("customer_stores") else None
    budgets = None
    if stores is None:
        plan = plan_campaigns(scored, ctx.budget, dict(d.capacity), seed=ctx.seed, cfg=camp_cfg)
        plan = plan.join(
            frame[["lifecycle_stage", "value_tag", "churn_probability"]], on="customer_id"
        )
        plan = assign_control(plan, seed=ctx.seed, cfg=camp_cfg)
    else:  # a dealer group: each store's plan under its own budget and capacities
        plan, budgets, capacities = _plan_by_store(ctx, scored, frame, stores, camp_cfg)
    ctx.save_frame("campaign_plan", plan)
    ph.mark("plan")
    extra = _candidates_and_curve(
        ctx, scored, plan, pairs.attrs.get("blocked"), catalogue, uplift.source, frame, camp_cfg
    )
    by_store = (
        {}
        if budgets is None
        else {
            "stores": {
                dealer: {"budget": float(budgets[dealer]), "capacity": capacities[dealer]}
                for dealer in budgets.index
            }
        }
    )
    ctx.save_json(
        "campaign_summary",
        {
            "method": plan.attrs.get("method"),
            "budget": ctx.budget if budgets is None else float(budgets.sum()),
            **by_store,
            "spend": float(plan.loc[plan["group"] == "target", "cost"].sum()),
            "expected_incremental_value": float(
                plan.loc[plan["group"] == "target", "expected_incremental_value"].sum()
            ),
            "n_target": int((plan["group"] == "target").sum()),
            "n_control": int((plan["group"] == "control").sum()),
            "uplift_source": uplift.source,
            "uplift_metrics": uplift.metrics,
            "notes": notes,
            **extra,
        },
    )
    ph.mark("candidates")
    lists = (
        department_lists(
            plan, tables.get("customers"), reveal_contacts=False, lang=ctx.lang, catalogue=catalogue
        )
        if len(plan)
        else {}
    )
    from cvm.campaigns.lists import write_department_lists

    write_department_lists(lists, ctx.run_dir / "campaigns", ctx.lang)
    if stores is not None:  # each store's own department lists, and the league table
        for dealer, p in plan.groupby("dealer_id", sort=True):
            write_department_lists(
                department_lists(
                    p.reset_index(drop=True),
                    tables.get("customers"),
                    reveal_contacts=False,
                    lang=ctx.lang,
                    catalogue=catalogue,
                ),
                ctx.run_dir / "stores" / str(dealer) / "campaigns",
                ctx.lang,
            )
        _store_league(ctx, plan, budgets, stores, camp_cfg)
    ph.mark("lists")
    ph.save()
    return plan


# --- dealer groups --------------------------------------------------------------------------
def _plan_by_store(
    ctx: RunContext,
    scored: pd.DataFrame,
    frame: pd.DataFrame,
    stores: pd.Series,
    camp_cfg: dict[str, Any],
):
    """One plan per store (``cvm.group.plan``) on the run's engine; control groups drawn over
    the union, stratified by store. Returns the plan, the budgets and the capacities."""
    from cvm.campaigns.catalogue import defaults
    from cvm.campaigns.control import assign_control
    from cvm.engine import map_stores
    from cvm.group.budgets import store_budgets, store_capacities
    from cvm.group.plan import control_strata, plan_store, union

    known = [str(k) for k in (ctx.cfg.get("stores") or {}).get("known") or []]
    names = sorted(set(stores.dropna().astype(str)) | set(known))
    is_active = frame["lifecycle_stage"].isin(["active_owner", "won_back"])
    active = frame.loc[is_active, "dealer_id"].value_counts().reindex(names, fill_value=0)
    budgets = store_budgets(ctx.budget, active, ctx.cfg)
    capacities = store_capacities(dict(defaults(camp_cfg).capacity), budgets, ctx.cfg)
    where = scored["customer_id"].map(stores).to_numpy()
    bare = scored.copy(deep=False)
    bare.attrs = {}  # the calibration tables stay with the group's frame
    items = [
        (d, bare.loc[where == d].reset_index(drop=True), float(budgets[d]), capacities[d])
        for d in names
    ]
    plan = union(map_stores(ctx.run_dir, plan_store, items, ctx.seed, camp_cfg))
    plan = plan.join(frame[["lifecycle_stage", "value_tag", "churn_probability"]], on="customer_id")
    plan = assign_control(plan, seed=ctx.seed, cfg=camp_cfg, strata=control_strata(camp_cfg))
    return plan, budgets, capacities


def _store_league(
    ctx: RunContext,
    plan: pd.DataFrame,
    budgets: pd.Series,
    stores: pd.Series,
    camp_cfg: dict[str, Any],
) -> pd.DataFrame:
    """The league table of the stores (``cvm.group.league``), saved as ``store_league``."""
    from cvm.group.league import league_table, measured_lift, milestone_retention

    scores = ctx.load_frame("customer_scores")  # the rows of the published scores table
    retention = milestone_retention(
        ctx.tables, ctx.as_of, float(ctx.cfg["report"]["milestone_min_age_years"])
    )
    lift = measured_lift(ctx.tables, ctx.as_of, stores, ctx.cfg, camp_cfg)
    league = league_table(scores, plan, budgets, retention, lift, ctx.cfg)
    ctx.save_frame("store_league", league)
    return league
