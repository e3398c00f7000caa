"""Uplift per customer and campaign, learned from past campaigns with control groups.

Meta-learners on LightGBM (T- or X-learner; Kuenzel et al. 2019), pooled over campaigns with the
campaign as a categorical feature so small campaigns borrow strength. Features are point-in-time
snapshots at the month end before each contact. Campaigns with too little history (or no control
group) fall back to the catalogue prior, updated by measured lifts (``posterior_uplift``);
``UpliftModel.source`` says which. Quality is measured out-of-time (the last months of contacts)
with the Qini coefficient and AUUC, then the model is refit on all history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from cvm.campaigns.catalogue import Campaign, campaigns_config, load_catalogue
from cvm.campaigns.measurement import contact_margin, posterior_uplift
from cvm.campaigns.uplift_effects import (  # noqa: F401  (re-exported: the public API)
    calibrate_spend,
    response_ate,
    response_ate_se,
    shrink_ate,
    spend_effects,
    spend_posterior,
)
from cvm.campaigns.uplift_frame import FeaturesFn, training_frame
from cvm.campaigns.uplift_learners import (
    CAMPAIGN_FEATURE,
    MarginLearner,
    cross_fitted_outcome,
    design,
    fit_margin_learner,
    fit_meta_learner,
    heterogeneity_slope,
    schema,
)
from cvm.campaigns.uplift_metrics import (  # noqa: F401
    auuc,
    qini_ci,
    qini_coefficient,
    qini_curve,
    uplift_deciles,
)
from cvm.config import CvmError, load_config
from cvm.data.ids import ids, to_timestamp
from cvm.settings import CampaignSettings, Margin, SpendCalibration, Uplift, run_settings, typed

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- the model
@dataclass
class UpliftModel:
    """Uplift in P(paid return within the outcome window) per customer and campaign."""

    learner: str
    features: list[str]
    categories: dict[str, list[Any]]
    learned: list[str]
    source: dict[str, str]
    prior: dict[str, float]
    ate: dict[str, float]
    shrink: float
    max_uplift: float
    window_days: int
    boosters: dict[str, lgb.Booster] = field(default_factory=dict)
    propensity: dict[str, float] = field(default_factory=dict)
    cate_mean: dict[str, float] = field(default_factory=dict)
    # weight of the per-customer part per campaign: 0 where it did not validate out-of-time
    heterogeneity: dict[str, float] = field(default_factory=dict)
    # the history's raw campaign means and their standard errors (``ate`` may be shrunk)
    ate_measured: dict[str, float] = field(default_factory=dict)
    ate_se: dict[str, float] = field(default_factory=dict)
    # measured incremental paid spend per contact over the value horizon (history, R-learner)
    # and its standard error; empty when the history has no complete spend window
    spend_effect: dict[str, float] = field(default_factory=dict)
    spend_se: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    # the out-of-time fold: customer_id, campaign, contact_date, treated, responded, uplift
    validation: pd.DataFrame | None = None
    # per-customer incremental margin over the effect window (CNY per contact), the weight of
    # its deviation from the campaign mean per campaign (0 = not learned: the measured mean),
    # and each campaign's factor from its effect window to the value horizon
    margin: MarginLearner | None = None
    margin_weight: dict[str, float] = field(default_factory=dict)
    margin_scale: dict[str, float] = field(default_factory=dict)

    def margin_pairs(
        self, X: pd.DataFrame, pairs: pd.DataFrame, customer_col: str = "customer_id"
    ) -> np.ndarray:
        """Predicted incremental margin over the horizon for each (customer, campaign) row of
        ``pairs`` (``X`` indexed by customer); NaN without a margin model."""
        if self.margin is None or not len(pairs):
            return np.full(len(pairs), np.nan)
        Xi = X.copy()
        Xi.index = ids(pd.Series(X.index)).to_numpy()
        rows = Xi.reindex(ids(pairs[customer_col]).to_numpy()).reset_index(drop=True)
        camp = pairs["campaign"].astype(str).to_numpy()
        scale = pd.Series(camp).map(self.margin_scale).fillna(1.0).to_numpy(float)
        return self.margin.predict(rows, camp) * scale

    def predict(self, X: pd.DataFrame, campaign: str) -> np.ndarray:
        """Uplift for every row of ``X`` (features, as from ``features_fn``) under ``campaign``."""
        if campaign not in self.source:
            raise CvmError(f"uplift model knows no campaign {campaign!r}")
        if self.source[campaign] != "learned":
            return np.full(len(X), self.prior[campaign])
        cate = self._cate(X, np.full(len(X), campaign, dtype=object))
        return self._finish(cate, campaign)

    def predict_pairs(
        self, X: pd.DataFrame, pairs: pd.DataFrame, customer_col: str = "customer_id"
    ) -> np.ndarray:
        """Uplift for each (customer, campaign) row of ``pairs``; ``X`` indexed by customer."""
        out = np.zeros(len(pairs))
        cust = ids(pairs[customer_col]).to_numpy()
        Xi = X.copy()
        Xi.index = ids(pd.Series(X.index)).to_numpy()
        for cid in pairs["campaign"].unique():
            m = (pairs["campaign"] == cid).to_numpy()
            out[m] = self.predict(Xi.reindex(cust[m]), str(cid))
        return out

    def _cate(self, X: pd.DataFrame, campaign: np.ndarray) -> np.ndarray:
        M = design(X, campaign, self.features, self.categories)
        b = self.boosters
        if self.learner == "t":
            return _predict(b["mu1"], M) - _predict(b["mu0"], M)
        g = pd.Series(campaign).map(self.propensity).fillna(0.5).to_numpy(float)
        return g * _predict(b["tau0"], M) + (1 - g) * _predict(b["tau1"], M)

    def _finish(self, cate: np.ndarray, campaign: str) -> np.ndarray:
        # the campaign's measured mean plus the shrunk per-customer deviation, clipped
        w = (1 - self.shrink) * self.heterogeneity.get(campaign, 1.0)
        out = self.ate[campaign] + w * (cate - self.cate_mean.get(campaign, 0.0))
        return np.clip(out, -self.max_uplift, self.max_uplift)


def _predict(booster: Any, M: Any) -> np.ndarray:
    return np.asarray(booster.predict(M), float)


def _learnable(info: pd.DataFrame, catalogue: dict[str, Campaign], u: Uplift) -> list[str]:
    """The campaigns whose history is enough to learn from (contacts, control rows, targets)."""
    counts = info.groupby("campaign")["treated"].agg(["size", "sum"])
    counts["control"] = counts["size"] - counts["sum"]
    return sorted(
        c
        for c, r in counts.iterrows()
        if c in catalogue
        and r["size"] >= u.min_contacts
        and r["control"] >= u.min_control
        and r["sum"] > 0
    )


def _build(
    X: pd.DataFrame,
    info: pd.DataFrame,
    catalogue: dict[str, Campaign],
    u: Uplift,
    measurements: pd.DataFrame | None,
    seed: int,
    cfg: dict[str, Any] | None,
    columns: tuple[list[str], dict[str, list[Any]]] | None = None,
) -> UpliftModel:
    """The response learner on ``(X, info)`` (``columns``: its schema, when known)."""
    learned = _learnable(info, catalogue, u)
    prior = posterior_uplift(catalogue, measurements, cfg=cfg)
    source = {c: ("learned" if c in learned else "prior") for c in catalogue}
    model = UpliftModel(
        learner=u.learner,
        features=[],
        categories={},
        learned=learned,
        source=source,
        prior=prior,
        ate={},
        shrink=u.shrink_to_ate,
        max_uplift=u.max_uplift,
        window_days=u.outcome_window_days,
    )
    if not learned:
        return model
    keep = info["campaign"].isin(learned).to_numpy()
    Xl, il = X[keep].reset_index(drop=True), info[keep].reset_index(drop=True)
    b, prop, feats, cats = fit_meta_learner(Xl, il, learned, u, seed, columns)
    model.boosters, model.propensity, model.features, model.categories = b, prop, feats, cats
    model.ate_measured = response_ate(il)
    model.ate_se = response_ate_se(il)
    if u.ate_shrinkage == "empirical_bayes":
        target = (
            {c: k.prior_uplift for c, k in catalogue.items()}
            if u.ate_shrink_target == "catalogue"
            else prior
        )
        model.ate = shrink_ate(
            model.ate_measured, model.ate_se, target, u.ate_prior_sd, u.ate_transport_sd
        )
    else:
        model.ate = dict(model.ate_measured)
    cate = model._cate(Xl, il["campaign"].astype(str).to_numpy(object))
    model.cate_mean = pd.Series(cate).groupby(il["campaign"].to_numpy()).mean().to_dict()
    return model


def _validate(
    X: pd.DataFrame,
    info: pd.DataFrame,
    catalogue: dict[str, Campaign],
    u: Uplift,
    seed: int,
    cfg: dict[str, Any] | None,
) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Out-of-time: fit on contacts before the last ``validation_months``, score those.

    Returns the metrics and the scored fold (``UpliftModel.validation``)."""
    last = info["contact_date"].max()
    cut = last.to_period("M").start_time - pd.DateOffset(months=u.validation_months - 1)
    tr = (info["contact_date"] < cut).to_numpy()
    if tr.sum() == 0 or (~tr).sum() == 0:
        return {"note": "not enough history for an out-of-time fold"}, None
    model = _build(
        X[tr].reset_index(drop=True), info[tr].reset_index(drop=True), catalogue, u, None, seed, cfg
    )
    Xv, iv = X[~tr].reset_index(drop=True), info[~tr].reset_index(drop=True)
    pred = np.zeros(len(iv))
    for cid in iv["campaign"].unique():
        m = (iv["campaign"] == cid).to_numpy()
        if cid in model.source:
            pred[m] = model.predict(Xv[m], str(cid))
    y, t = iv["responded"].to_numpy(float), iv["treated"].to_numpy(bool)
    const = iv["campaign"].map(model.ate).fillna(iv["campaign"].map(model.prior)).to_numpy(float)
    rng = np.random.default_rng(seed)
    shuffle = rng.permutation(len(iv))  # random tie order for the constant rankings

    ev = u.validation_bootstrap
    boot = (ev.reps, ev.confidence, seed)
    per = {}
    for cid, _rows in iv.groupby("campaign"):  # in groupby's (sorted) order
        m = (iv["campaign"] == cid).to_numpy()
        if m.sum() < 50 or t[m].all() or (~t[m]).all():
            continue
        per[str(cid)] = {
            "n": int(m.sum()),
            "source": model.source.get(str(cid), "prior"),
            "qini": qini_coefficient(pred[m], y[m], t[m]),
            "qini_ci": qini_ci(pred[m], y[m], t[m], *boot),
            "auuc": auuc(pred[m], y[m], t[m]),
            "auuc_random": auuc(shuffle[m].astype(float), y[m], t[m]),
            "observed_ate": float(y[m][t[m]].mean() - y[m][~t[m]].mean()),
            "predicted_mean": float(pred[m].mean()),
        }
    out: dict[str, Any] = {
        "fold": {
            "train_until": str(cut.date()),
            "valid_from": str(cut.date()),
            "valid_until": str(last.date()),
            "n_train": int(tr.sum()),
            "n_valid": len(iv),
        },
        "pooled": {
            "qini": qini_coefficient(pred, y, t),
            "auuc": auuc(pred, y, t),
            "qini_campaign_mean_only": qini_coefficient(const + 1e-9 * shuffle, y, t),
            "auuc_campaign_mean_only": auuc(const + 1e-9 * shuffle, y, t),
            "auuc_random": auuc(shuffle.astype(float), y, t),
        },
        "per_campaign": per,
        "calibration_deciles": uplift_deciles(pred, y, t, ev.deciles),
    }
    out["pooled"]["qini_ci"] = qini_ci(pred, y, t, *boot)
    fold = iv[["customer_id", "campaign", "contact_date", "treated", "responded"]].assign(
        uplift=pred
    )
    return out, fold


def effect_windows(
    campaigns: np.ndarray, catalogue: dict[str, Campaign], default: int
) -> np.ndarray:
    """Each row's effect window in days: its campaign's ``effect_window_days`` or ``default``."""
    w = {c: (k.effect_window_days or default) for c, k in catalogue.items()}
    return pd.Series(np.asarray(campaigns).astype(str)).map(w).fillna(default).to_numpy(int)


def _fit_spend(
    model: Any,
    X: pd.DataFrame,
    info: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    as_of: Any,
    sc: SpendCalibration,
    u: Uplift,
    seed: int,
    run_cfg: dict[str, Any] | None,
    metrics: dict[str, Any],
    catalogue: dict[str, Campaign],
) -> None:
    """The history's incremental margin per campaign (``spend_effects``) and per customer
    (``_fit_margin``), each contact measured over its campaign's effect window (paid spend plus
    the margin of the vehicle sales it brings, ``measurement.contact_margin``) and scaled from
    the window to the value horizon; stored on ``model`` and in ``metrics``. ``model`` gives
    the response learner's schema (``features``, ``categories``; empty: this frame's) and takes
    ``spend_effect``, ``spend_se``, ``margin_scale``, ``margin`` and ``margin_weight``: the
    uplift model, or a namespace whose attributes are copied onto it (``fit_uplift`` fits this
    beside the response learner)."""
    default = sc.window_days
    horizon_days = 365.0 * run_settings(run_cfg).horizon_months / 12.0
    camp_all = info["campaign"].astype(str).to_numpy()
    win = effect_windows(camp_all, catalogue, default)
    done = (info["contact_date"] + pd.to_timedelta(win, unit="D") <= to_timestamp(as_of)).to_numpy()
    if done.sum() < u.min_contacts:
        metrics["spend_effect"] = {}
        return
    Xs, inf, win = X[done].reset_index(drop=True), info[done].reset_index(drop=True), win[done]
    y = np.zeros(len(inf))
    vc = load_config("value")
    for w in np.unique(win):
        m = win == w
        y[m] = contact_margin(
            inf.loc[m, ["customer_id", "contact_date"]],
            tables,
            int(w),
            cut_at=as_of,
            run_cfg=run_cfg,
            value_cfg=vc,
        )
    cap = sc.outcome_cap_quantile
    if len(y) and cap < 1:
        y = np.minimum(y, np.quantile(y, cap))
    camp = inf["campaign"].astype(str).to_numpy()
    campaigns = sorted(set(camp))
    feats, cats = (model.features, model.categories) if model.features else schema(Xs, campaigns)
    cats = {**cats, CAMPAIGN_FEATURE: sorted(set(cats.get(CAMPAIGN_FEATURE, [])) | set(campaigns))}
    M = design(Xs, camp.astype(object), feats, cats)
    params = {k: v for k, v in sc.lgb.items() if k != "objective"}
    t = inf["treated"].to_numpy(bool)
    mhat = cross_fitted_outcome(
        M, y, inf["customer_id"].to_numpy(), params, sc.num_boost_round, seed + 7
    )
    eff, se = spend_effects(
        M, y, t, camp, inf["customer_id"].to_numpy(), params, sc.num_boost_round, seed + 7, mhat
    )
    scale = {c: horizon_days / float(win[camp == c][0]) for c in campaigns}
    model.spend_effect = {c: v * scale[c] for c, v in eff.items()}
    model.spend_se = {c: v * scale[c] for c, v in se.items()}
    model.margin_scale = scale
    metrics.update(
        spend_window_days={c: int(win[camp == c][0]) for c in campaigns},
        spend_effect=model.spend_effect,
        spend_se=model.spend_se,
        n_spend_contacts=int(done.sum()),
    )
    mc = u.margin
    if mc.enabled:
        metrics["margin"] = _fit_margin(model, Xs, inf, y, mhat, mc, u, seed)


def _fit_margin(
    model: Any,
    X: pd.DataFrame,
    info: pd.DataFrame,
    y: np.ndarray,
    mhat: np.ndarray,
    mc: Margin,
    u: Uplift,
    seed: int,
) -> dict[str, Any]:
    """Per-customer incremental margin (``fit_margin_learner``) and, per campaign, whether its
    per-customer part is real:

    - out-of-time: fitted on contacts before the last ``validation_months`` (of those with a
      complete effect window), the Qini of the margin on those months, with its interval;
    - calibration: cross-fitted over two folds of customers, the slope of the measured
      incremental margin on the predicted deviation from the campaign mean
      (``heterogeneity_slope``; 1 = calibrated, 0 = noise).

    A campaign's weight (``model.margin_weight``) is that slope, clipped to
    [0, ``max_weight``], where the out-of-time Qini interval lies above 0; else 0, and the plan
    uses the campaign's measured mean for every customer."""

    camp = info["campaign"].astype(str).to_numpy()
    t = info["treated"].to_numpy(bool)
    e = pd.Series(t).groupby(camp).transform("mean").to_numpy(float)
    res = y - mhat
    cols = [str(c) for c in mc.state_features]
    logged = [str(c) for c in mc.log_features]
    alpha, calpha = mc.alpha, mc.campaign_alpha

    def fit(rows: np.ndarray):
        return fit_margin_learner(
            X[rows].reset_index(drop=True),
            res[rows],
            t[rows],
            e[rows],
            camp[rows],
            cols,
            logged,
            alpha,
            calpha,
        )

    # cross-fitted calibration slope per campaign
    fold = (pd.util.hash_array(info["customer_id"].astype(str).to_numpy(object)) % 2).astype(int)
    tau_cf = np.zeros(len(y))
    for k in (0, 1):
        m = fold == k
        if (~m).sum() and m.sum():
            tau_cf[m] = fit(~m).predict(X[m].reset_index(drop=True), camp[m])
    # out-of-time Qini of the margin
    last = info["contact_date"].max()
    cut = last.to_period("M").start_time - pd.DateOffset(months=u.validation_months - 1)
    tr = (info["contact_date"] < cut).to_numpy()
    pred = np.full(len(y), np.nan)
    if tr.sum() and (~tr).sum():
        pred[~tr] = fit(tr).predict(X[~tr].reset_index(drop=True), camp[~tr])
    ev = u.validation_bootstrap
    boot = (ev.reps, ev.confidence, seed)
    z = 1.959963984540054
    per: dict[str, dict[str, Any]] = {}
    weight: dict[str, float] = {}
    for c in sorted(set(camp)):
        m = camp == c
        dev = tau_cf[m] - tau_cf[m].mean()
        beta, beta_se = heterogeneity_slope(dev, res[m], t[m], e[m])
        row: dict[str, Any] = {"n": int(m.sum()), "slope": beta, "slope_se": beta_se}
        v = m & ~tr
        if v.sum() >= 50 and t[v].any() and (~t[v]).any():
            row.update(
                n_out_of_time=int(v.sum()),
                qini=qini_coefficient(pred[v], y[v], t[v]),
                qini_ci=qini_ci(pred[v], y[v], t[v], *boot),
            )
        ok = bool(
            row.get("qini_ci")
            and row["qini_ci"][0] > 0
            and np.isfinite(beta)
            and beta - z * beta_se > 0
        )
        weight[c] = float(np.clip(beta, 0.0, mc.max_weight)) if ok else 0.0
        row["weight"] = weight[c]
        row["learned"] = ok
        per[c] = row
    model.margin = fit(np.ones(len(y), dtype=bool))
    model.margin_weight = weight
    v = ~tr
    out: dict[str, Any] = {
        "per_campaign": per,
        "learned": sorted(c for c, w in weight.items() if w > 0),
        "state_features": model.margin.scaler.columns,
    }
    if v.sum() >= 50:
        out["pooled"] = {
            "qini": qini_coefficient(pred[v], y[v], t[v]),
            "qini_ci": qini_ci(pred[v], y[v], t[v], *boot),
        }
        out["calibration_deciles"] = uplift_deciles(pred[v], y[v], t[v], ev.deciles)
    log.info("margin uplift: per-customer part kept for %s", out["learned"])
    return out


def fit_uplift(
    tables: dict[str, pd.DataFrame],
    features_fn: FeaturesFn,
    as_of: Any,
    cfg: dict[str, Any] | None = None,
    catalogue: dict[str, Campaign] | None = None,
    measurements: pd.DataFrame | None = None,
    seed: int = 0,
    validate: bool = True,
    run_cfg: dict[str, Any] | None = None,
) -> UpliftModel:
    """Fit uplift models from ``campaign_contacts`` up to ``as_of``.

    ``features_fn(tables, date)`` returns point-in-time features indexed by customer_id (e.g.
    ``lambda t, d: build_features(t, d, run_cfg)``). ``measurements`` (from
    ``measure_campaigns``) update the priors of campaigns without enough history. With
    ``validate``, ``.metrics`` holds the out-of-time Qini / AUUC per campaign and pooled.
    """
    cfg = campaigns_config(cfg)
    catalogue = catalogue or load_catalogue(cfg)
    u = typed(CampaignSettings, cfg).uplift
    window = u.outcome_window_days
    X, info = training_frame(tables, features_fn, as_of, window, run_cfg)
    if info.empty:
        log.warning("uplift: no past campaigns with control groups; every campaign uses its prior")
        model = _build(
            X,
            pd.DataFrame(columns=["campaign", "treated", "responded"]),
            catalogue,
            u,
            measurements,
            seed,
            cfg,
        )
        model.metrics = {"note": "no campaign history: catalogue priors only"}
        return model
    keep = info["campaign"].isin(list(catalogue)).to_numpy()
    X, info = X[keep].reset_index(drop=True), info[keep].reset_index(drop=True)
    # three independent parts: the response learner, the spend and margin learner (it needs
    # only the response learner's schema), the out-of-time check (its own fit)
    learned = _learnable(info, catalogue, u)
    columns = schema(X[info["campaign"].isin(learned).to_numpy()], learned) if learned else None
    spend = SimpleNamespace(features=[], categories={})
    if columns is not None:
        spend.features, spend.categories = columns
    spend_metrics: dict[str, Any] = {}
    parts: dict[str, Callable[[], Any]] = {
        "response": lambda: _build(X, info, catalogue, u, measurements, seed, cfg, columns)
    }
    if u.spend_calibration.enabled:
        parts["spend"] = lambda: _fit_spend(
            spend,
            X,
            info,
            tables,
            as_of,
            u.spend_calibration,
            u,
            seed,
            run_cfg,
            spend_metrics,
            catalogue,
        )
    if validate and learned:
        parts["out_of_time"] = lambda: _validate(X, info, catalogue, u, seed, cfg)
    done = _run_parts(parts, 0 < len(info) <= u.parallel_max_contacts)
    model = done["response"]
    for k, v in vars(spend).items():
        if k not in ("features", "categories"):
            setattr(model, k, v)
    metrics: dict[str, Any] = {
        "n_contacts": len(info),
        "window_days": window,
        "learned": model.learned,
        "ate_shrinkage": u.ate_shrinkage,
        "ate_measured": model.ate_measured,
        "ate_se": model.ate_se,
        "ate_used": dict(model.ate),
        "prior": sorted(c for c, s in model.source.items() if s == "prior"),
    }
    metrics.update(spend_metrics)
    if "out_of_time" in done:
        metrics["out_of_time"], model.validation = done["out_of_time"]
        if u.require_validated_heterogeneity:
            per = metrics["out_of_time"].get("per_campaign", {})
            model.heterogeneity = {
                c: float(per.get(c, {}).get("qini", 0.0) > 0) for c in model.learned
            }
            metrics["heterogeneity_used"] = sorted(
                c for c, w in model.heterogeneity.items() if w > 0
            )
    model.metrics = metrics
    log.info("uplift: learned %s; priors for %s", model.learned, metrics["prior"])
    return model


def _run_parts(parts: dict[str, Callable[[], Any]], parallel: bool) -> dict[str, Any]:
    """Each part's result, the parts one after another or each in its own thread.

    Every part is deterministic and reads only what the others do not write, so both ways give
    the same model, to the bit (each LightGBM fit keeps its ``num_threads``: a regression's leaf
    values are not bit-identical across thread counts). Side by side, one part's LightGBM fit
    keeps the cores busy while another runs numpy and pandas on one core (cvm sets
    ``OMP_WAIT_POLICY=PASSIVE``: waiting OpenMP threads yield their core)."""
    if not parallel or len(parts) < 2:
        return {k: f() for k, f in parts.items()}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="uplift") as pool:
        futures = {k: pool.submit(f) for k, f in parts.items()}
        return {k: f.result() for k, f in futures.items()}
