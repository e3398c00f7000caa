"""`cvm evaluate`: a monthly run on simulated data against the simulator's ground truth.

This module and the simulator's own tests are the only code that reads ``truth/``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from cvm import graph
from cvm.config import CvmError, load_config
from cvm.data.ids import ids
from cvm.definitions import paid_mask
from cvm.fileio import dumps
from cvm.models import metrics as M

log = logging.getLogger(__name__)


def evaluate_run(run: Path, truth: Path, max_oracle_paths: int | None = None) -> str:
    """The evaluation JSON of the design (keys present for the parts the run produced)."""
    return dumps(evaluate(Path(run), Path(truth), max_oracle_paths))


def evaluate(run: Path, truth: Path, max_oracle_paths: int | None = None) -> dict[str, Any]:
    """``max_oracle_paths``: cap of the pair oracle's paths per campaign (None: the config's;
    0: no pair oracle, the simulator's own oracle values judge the plans)."""
    for need in (
        graph.path(run, "scores"),
        graph.path(run, "manifest"),
        truth / "meta.json",
        truth / "visits.parquet",
        truth / "oracle_customers.parquet",
    ):
        if not need.exists():
            raise CvmError(
                f"{need} is missing: --run must be a monthly run folder and --truth "
                f"the simulator's truth folder"
            )
    manifest = json.loads(graph.path(run, "manifest").read_text(encoding="utf-8"))
    meta = json.loads((truth / "meta.json").read_text(encoding="utf-8"))
    as_of = manifest["parameters"]["as_of"]
    if as_of != meta["end"]:
        raise CvmError(
            f"the run is as of {as_of} but the truth starts after {meta['end']}; "
            f"evaluate the run of the simulation's last month"
        )
    h_run = int(manifest["parameters"]["horizon_months"])
    h_truth = int(meta.get("horizon_months", h_run))
    if h_run != h_truth:
        raise CvmError(f"the run's horizon is {h_run} months but the truth covers {h_truth}")

    scores = pd.read_parquet(graph.path(run, "scores"))
    scores["customer_id"] = ids(scores["customer_id"]).to_numpy()
    scores = scores.set_index("customer_id")
    future = pd.read_parquet(truth / "visits.parquet")
    paid = future.loc[paid_mask(future)]
    spend = (
        paid.assign(customer_id=ids(paid["customer_id"]).to_numpy())
        .groupby("customer_id")["amount"]
        .sum()
    )
    # value = every payer's revenue x its margin (cvm.features.margin), as the model predicts
    from cvm.features.margin import visit_margin

    margin = (
        pd.Series(visit_margin(future), index=ids(future["customer_id"]).to_numpy())
        .groupby(level=0)
        .sum()
    )
    oracle = pd.read_parquet(truth / "oracle_customers.parquet")
    oracle = oracle.assign(customer_id=ids(oracle["customer_id"]).to_numpy()).set_index(
        "customer_id"
    )
    out: dict[str, Any] = {"as_of": as_of, "horizon_months": h_run}
    ecfg = load_config("default")["evaluation"]
    ev = (
        int(ecfg["bootstrap"]),
        float(ecfg["confidence"]),
        int(manifest["parameters"]["seed"]),
        int(ecfg["bootstrap_max_rows"]),
    )

    churn = scores["churn_probability"].dropna()
    if len(churn):
        y = (~churn.index.isin(spend.index)).astype(int)
        p = churn.to_numpy()
        res = {
            "n": len(y),
            "auc": M.auc(y, p),
            "pr_auc": M.pr_auc(y, p),
            "brier": M.brier(y, p),
            "ece": M.ece(y, p),
            "top_decile_lift": M.top_decile_lift(y, p),
            "observed_churn_rate": float(y.mean()),
            "predicted_churn_rate": float(p.mean()),
        }
        bau = truth / "visits_business_as_usual.parquet"
        if bau.exists():
            res.update(_business_as_usual(churn, y, p, pd.read_parquet(bau)))
        # above 100k customers the simulator's oracle covers a random sample (meta.json):
        # the oracle comparison is then made on that sample
        o_p = oracle["p_no_paid_visit"].reindex(churn.index).to_numpy()
        has = ~np.isnan(o_p)
        res["oracle_auc"] = M.auc(y[has], o_p[has])
        res["auc_vs_oracle"] = (res["auc"] if has.all() else M.auc(y[has], p[has])) / res[
            "oracle_auc"
        ]
        res["auc_excess_vs_oracle"] = M.excess_ratio(
            res["auc"] if has.all() else M.auc(y[has], p[has]), res["oracle_auc"]
        )
        res["auc_ci"] = M.bootstrap_ci(M.auc, (y, p), *ev)
        res["auc_excess_vs_oracle_ci"] = M.bootstrap_ci(
            lambda yy, pp, oo: M.excess_ratio(M.auc(yy, pp), M.auc(yy, oo)),
            (y[has], p[has], o_p[has]),
            *ev,
        )
        if not has.all():
            res["oracle_n"] = int(has.sum())
        if graph.path(run, "churn_baselines").exists():
            b = pd.read_parquet(graph.path(run, "churn_baselines")).reindex(churn.index)
            # the baselines score the customers with a history (not owners without a visit
            # yet): they and the model are compared on those rows (auc_baseline_rows)
            ok = b.notna().all(axis=1).to_numpy()
            res["baselines"] = {c: M.auc(y[ok], b[c].to_numpy()[ok]) for c in b.columns}
            res["auc_baseline_rows"] = M.auc(y[ok], p[ok])
            res["n_baseline_rows"] = int(ok.sum())
        out["churn"] = res

    value = scores["predicted_value"].dropna()
    if len(value):
        realized = margin.reindex(value.index).fillna(0.0).to_numpy()
        pred = value.to_numpy()
        col = "expected_value" if "expected_value" in oracle.columns else "expected_spend"
        orc = oracle[col].reindex(value.index).to_numpy()
        has = ~np.isnan(orc)
        orc = np.nan_to_num(orc)
        res = {
            "n": len(pred),
            "normalized_gini": M.normalized_gini(realized, pred),
            "oracle_normalized_gini": M.normalized_gini(realized[has], orc[has]),
            "spearman": float(spearmanr(realized, pred).statistic),
            "top_decile_capture": M.top_decile_capture(realized, pred),
            "total_ratio": float(pred.sum() / max(realized.sum(), 1e-9)),
            "oracle_total_ratio": float(orc[has].sum() / max(realized[has].sum(), 1e-9)),
        }
        # the total is judged against the future of what the model was calibrated to
        # (value_metrics.calibration_target): spend as observed = the future with the store's
        # campaigns going on (truth/visits_business_as_usual); no_contact = truth/visits
        target, level_realized = _value_target(run, truth, value.index)
        res["target"] = target
        res["total_ratio_no_contact"] = res["total_ratio"]
        if level_realized is not None:
            res["total_ratio"] = float(pred.sum() / max(level_realized.sum(), 1e-9))
        gini = res["normalized_gini"] if has.all() else M.normalized_gini(realized[has], pred[has])
        res["gini_vs_oracle"] = gini / res["oracle_normalized_gini"]
        res["normalized_gini_ci"] = M.bootstrap_ci(M.normalized_gini, (realized, pred), *ev)
        res["gini_vs_oracle_ci"] = M.bootstrap_ci(
            lambda r, q, o: M.normalized_gini(r, q) / M.normalized_gini(r, o),
            (realized[has], pred[has], orc[has]),
            *ev,
        )
        res["total_ratio_ci"] = M.bootstrap_ci(
            lambda r, q: q.sum() / max(r.sum(), 1e-9),
            (realized if level_realized is None else level_realized, pred),
            *ev,
        )
        res["active"] = _active_value(
            run, value.index, realized, pred, orc, has, ev, int(ecfg["active_months"])
        )
        if not has.all():
            res["oracle_n"] = int(has.sum())
        if graph.path(run, "value_baselines").exists():
            b = pd.read_parquet(graph.path(run, "value_baselines")).reindex(value.index).fillna(0.0)
            res["baselines"] = {c: M.normalized_gini(realized, b[c].to_numpy()) for c in b.columns}
        res["deciles"] = M.decile_table(realized, pred).round(2).to_dict(orient="records")
        res["definition"] = (
            "gross margin over the horizon: every payer's revenue (customer, "
            "insurer, warranty) x the margin of its payer and visit type"
        )
        if "predicted_customer_paid" in scores.columns:
            res["customer_paid"] = _customer_paid(scores, spend, oracle, ev)
        out["value"] = res

    if (
        "dealer_id" in scores.columns
    ):  # a dealer group: each store, the store's and the group's view
        out["stores"] = _by_store(scores, paid, oracle)
    camp = _evaluate_campaigns(run, truth, max_oracle_paths)
    if camp:
        out["campaigns"] = camp
    from cvm.leads.evaluate import evaluate_leads

    leads = evaluate_leads(run, truth)
    if leads:
        out["leads"] = leads
    return out


def _value_target(run: Path, truth: Path, customers: pd.Index) -> tuple[str, np.ndarray | None]:
    """(the value model's calibration target, the realized margin of that target when it is
    not the no-contact future ``truth/visits``, else None)."""
    path = graph.path(run, "value_metrics")
    target = "no_contact"
    if path.exists():
        target = str(json.loads(path.read_text(encoding="utf-8")).get("calibration_target", target))
    bau = truth / "visits_business_as_usual.parquet"
    if target != "as_observed" or not bau.exists():
        return target, None
    from cvm.features.margin import visit_margin

    f = pd.read_parquet(bau)
    m = pd.Series(visit_margin(f), index=ids(f["customer_id"]).to_numpy()).groupby(level=0).sum()
    return target, m.reindex(customers).fillna(0.0).to_numpy()


def _customer_paid(
    scores: pd.DataFrame, spend: pd.Series, oracle: pd.DataFrame, ev: tuple[int, float, int, int]
) -> dict[str, Any] | None:
    """``predicted_customer_paid`` (the old value definition) against customer-paid spend."""
    q = scores["predicted_customer_paid"].dropna()
    if not len(q):
        return None
    r = spend.reindex(q.index).fillna(0.0).to_numpy()
    pred = q.to_numpy()
    o = oracle["expected_spend"].reindex(q.index).to_numpy()
    has = ~np.isnan(o)
    out = {
        "n": len(r),
        "normalized_gini": M.normalized_gini(r, pred),
        "total_ratio": float(pred.sum() / max(r.sum(), 1e-9)),
        "oracle_normalized_gini": M.normalized_gini(r[has], o[has]),
    }
    out["gini_vs_oracle"] = M.normalized_gini(r[has], pred[has]) / out["oracle_normalized_gini"]
    out["total_ratio_ci"] = M.bootstrap_ci(
        lambda a, b: b.sum() / max(a.sum(), 1e-9), (r, pred), *ev
    )
    return out


def _active_value(
    run: Path,
    index: pd.Index,
    realized: np.ndarray,
    pred: np.ndarray,
    orc: np.ndarray,
    has: np.ndarray,
    ev: tuple[int, float, int, int],
    months: int,
) -> dict[str, Any] | None:
    """The value figures again on active customers: a paid visit within ``months``
    (``evaluation.active_months``) before the as-of date (from the run's features)."""
    path = graph.path(run, "features")
    if not path.exists():
        return None
    f = pd.read_parquet(path, columns=["months_since_last_paid_visit"])
    f.index = ids(pd.Series(f.index)).to_numpy()
    act = (f["months_since_last_paid_visit"].reindex(index) <= months).to_numpy()
    if act.sum() < 2:
        return None
    r, q, o, h = realized[act], pred[act], orc[act], has[act]
    return {
        "n": int(act.sum()),
        "definition": f"paid visit in the last {months} months",
        "normalized_gini": M.normalized_gini(r, q),
        "normalized_gini_ci": M.bootstrap_ci(M.normalized_gini, (r, q), *ev),
        "oracle_normalized_gini": M.normalized_gini(r[h], o[h]),
        "gini_vs_oracle": M.normalized_gini(r[h], q[h]) / M.normalized_gini(r[h], o[h]),
        "spearman": float(spearmanr(r, q).statistic),
        "top_decile_capture": M.top_decile_capture(r, q),
        "total_ratio": float(q.sum() / max(r.sum(), 1e-9)),
        "total_ratio_ci": M.bootstrap_ci(lambda a, b: b.sum() / max(a.sum(), 1e-9), (r, q), *ev),
    }


def _business_as_usual(
    churn: pd.Series, y_no_contact: np.ndarray, p: np.ndarray, future: pd.DataFrame
) -> dict[str, Any]:
    """Churn calibration against the future in which the store keeps contacting as it did.

    The churn model learns P(no paid visit in H months) from history in which the store ran its
    campaigns, so its probabilities describe that world; the simulator's main truth horizon runs
    without any contact (the counterfactual the oracle and the campaign values need), where
    more customers leave. ``ece`` is measured in the model's world, ``ece_no_contact`` in the
    other; ranking (AUC against the oracle) is measured on the no-contact future as before.
    """
    paid = future.loc[paid_mask(future)]
    back = set(ids(paid["customer_id"]).to_numpy())
    y = (~churn.index.isin(list(back))).astype(int)
    return {
        "ece": M.ece(y, p),
        "ece_no_contact": M.ece(y_no_contact, p),
        "brier": M.brier(y, p),
        "brier_no_contact": M.brier(y_no_contact, p),
        "observed_churn_rate_business_as_usual": float(y.mean()),
        "auc_business_as_usual": M.auc(y, p),
    }


def _evaluate_campaigns(
    run: Path, truth: Path, max_oracle_paths: int | None = None
) -> dict[str, Any] | None:
    oracle_path = truth / "oracle_campaigns.parquet"
    if not graph.path(run, "campaign_plan").exists() or not oracle_path.exists():
        return None
    from cvm.campaigns.catalogue import campaigns_config
    from cvm.campaigns.evaluate import evaluate_plans

    plan = pd.read_parquet(graph.path(run, "campaign_plan"))
    pairs = pd.read_parquet(graph.path(run, "campaign_pairs"))
    # the baselines rank by the run's scores and by plain features (store rules)
    scores = pd.read_parquet(graph.path(run, "scores"), columns=["customer_id", "predicted_value"])
    extra = scores.set_index(ids(scores["customer_id"]).rename("customer_id"))[["predicted_value"]]
    cfg = campaigns_config()
    if graph.path(run, "features").exists():
        want = {str(r["order_by"]) for r in cfg.get("store_rules") or []}
        want.add("paid_spend_12m")
        feats = pd.read_parquet(graph.path(run, "features"))
        feats.index = ids(pd.Series(feats.index)).to_numpy()
        extra = extra.join(feats[[c for c in sorted(want) if c in feats.columns]], how="outer")
    pairs["customer_id"] = ids(pairs["customer_id"]).to_numpy()
    pairs = pairs.join(
        extra[[c for c in extra.columns if c not in pairs.columns]], on="customer_id"
    )
    summary = json.loads(graph.path(run, "campaign_summary").read_text(encoding="utf-8"))
    oracle = pd.read_parquet(oracle_path)
    settings = dict(cfg["evaluation"]["pair_oracle"])
    if max_oracle_paths is not None:
        settings["max_paths"] = int(max_oracle_paths)
    info = None
    if int(settings["max_paths"]) > 0 and len(pairs):
        from cvm.data.simulator.pair_oracle import pair_oracle

        known = set(ids(oracle["customer_id"]).unique())  # a sampled oracle: its customers
        sub = pairs.loc[pairs["customer_id"].isin(known), ["customer_id", "campaign"]]
        settings["pilot_paths"] = min(int(settings["pilot_paths"]), int(settings["max_paths"]))
        oracle, info = pair_oracle(truth, sub, settings)
    out = evaluate_plans(plan, pairs, oracle, budget=float(summary["budget"]))
    out["oracle_source"] = "pair_oracle" if info is not None else "simulator_oracle"
    if info is not None:
        out["pair_oracle"] = info
    return out


def _by_store(scores: pd.DataFrame, paid: pd.DataFrame, oracle: pd.DataFrame) -> dict[str, Any]:
    """Per store of the run (``scores.dealer_id``): churn and value quality on its customers,
    in two views. The group's: a customer is retained when they have a paid visit at any store
    of the group in the horizon. The store's: only a paid visit at their own store counts, so
    a customer who moved to (or now services at) a sister store is lost to the store and
    retained for the group (``moved_within_group`` counts them). Value: the horizon's paid
    spend at any store (group) or at their store (store)."""
    fut = paid.assign(
        customer_id=ids(paid["customer_id"]).to_numpy(),
        dealer_id=paid["dealer_id"].astype(str).to_numpy(),
    )
    any_spend = fut.groupby("customer_id")["amount"].sum()
    at = fut.groupby(["customer_id", "dealer_id"])["amount"].sum()
    store = scores["dealer_id"].astype(str)
    key = pd.MultiIndex.from_arrays([store.index, store.to_numpy()])
    own_spend = pd.Series(at.reindex(key).to_numpy(), index=store.index).fillna(0.0)
    out: dict[str, Any] = {}
    for dealer in sorted(store.unique()):
        mine = store.index[(store == dealer).to_numpy()]
        res: dict[str, Any] = {"customers": int(len(mine))}
        churn = scores.loc[mine, "churn_probability"].dropna()
        if len(churn):
            y_group = (~churn.index.isin(any_spend.index)).astype(int)
            y_store = (own_spend.reindex(churn.index).to_numpy() <= 0).astype(int)
            p = churn.to_numpy()
            o = oracle["p_no_paid_visit"].reindex(churn.index).to_numpy()
            has = ~np.isnan(o)
            res["churn"] = {
                "n": int(len(p)),
                "auc": M.auc(y_group, p) if 0 < y_group.sum() < len(y_group) else None,
                "auc_store_view": M.auc(y_store, p) if 0 < y_store.sum() < len(y_store) else None,
                "observed_churn_rate": float(y_group.mean()),
                "observed_churn_rate_store_view": float(y_store.mean()),
                "moved_within_group": int(((y_store == 1) & (y_group == 0)).sum()),
                "predicted_churn_rate": float(p.mean()),
                "oracle_auc": (
                    M.auc(y_group[has], o[has])
                    if has.sum() > 1 and 0 < y_group[has].sum() < has.sum()
                    else None
                ),
            }
        value = scores.loc[mine, "predicted_value"].dropna()
        if len(value):
            r_group = any_spend.reindex(value.index).fillna(0.0).to_numpy()
            r_store = own_spend.reindex(value.index).fillna(0.0).to_numpy()
            q = value.to_numpy()
            res["value"] = {
                "n": len(q),
                "normalized_gini": M.normalized_gini(r_group, q) if r_group.sum() > 0 else None,
                "normalized_gini_store_view": (
                    M.normalized_gini(r_store, q) if r_store.sum() > 0 else None
                ),
                "total_ratio": float(q.sum() / max(r_group.sum(), 1e-9)),
                "total_ratio_store_view": float(q.sum() / max(r_store.sum(), 1e-9)),
            }
        out[str(dealer)] = res
    return out
