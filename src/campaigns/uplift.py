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
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from cvm.campaigns.catalogue import Campaign, campaigns_config, load_catalogue
from cvm.campaigns.measurement import contact_outcomes, contact_sales, posterior_uplift
from cvm.config import CvmError, load_config
from cvm.features.pit import day_number, days, ids, to_timestamp
from cvm.models import trainer

log = logging.getLogger(__name__)

FeaturesFn = Callable[[dict[str, pd.DataFrame], pd.Timestamp], pd.DataFrame]
CAMPAIGN_FEATURE = "_campaign"


# ---------------------------------------------------------------- uplift metrics
def qini_curve(uplift: np.ndarray, y: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Cumulative incremental responders when targeting by descending ``uplift``:
    ``Y_t(k) - Y_c(k) * N_t(k) / N_c(k)`` for k = 1..n (ties in stable input order)."""
    order = np.argsort(-np.asarray(uplift, float), kind="stable")
    y = np.asarray(y, float)[order]
    t = np.asarray(treated, bool)[order]
    n_t, n_c = np.cumsum(t), np.cumsum(~t)
    y_t, y_c = np.cumsum(y * t), np.cumsum(y * ~t)
    return y_t - np.divide(y_c * n_t, n_c, out=np.zeros(len(y)), where=n_c > 0)


def qini_coefficient(uplift: np.ndarray, y: np.ndarray, treated: np.ndarray) -> float:
    """Area between the Qini curve and the random-targeting line, per customer (0 = random)."""
    q = qini_curve(uplift, y, treated)
    if len(q) == 0:
        return float("nan")
    frac = np.arange(1, len(q) + 1) / len(q)
    return float(np.mean(q - frac * q[-1]) / len(q))


def auuc(uplift: np.ndarray, y: np.ndarray, treated: np.ndarray) -> float:
    """Area under the uplift curve: mean over k of (rate_t(k) - rate_c(k)) * k / n.
    Random targeting gives about ATE / 2."""
    order = np.argsort(-np.asarray(uplift, float), kind="stable")
    y = np.asarray(y, float)[order]
    t = np.asarray(treated, bool)[order]
    n_t, n_c = np.cumsum(t), np.cumsum(~t)
    ok = (n_t > 0) & (n_c > 0)
    gap = np.divide(np.cumsum(y * t), n_t, out=np.zeros(len(y)), where=n_t > 0) - np.divide(
        np.cumsum(y * ~t), n_c, out=np.zeros(len(y)), where=n_c > 0)
    frac = np.arange(1, len(y) + 1) / max(len(y), 1)
    return float(np.mean(np.where(ok, gap * frac, 0.0))) if len(y) else float("nan")


def uplift_deciles(uplift: np.ndarray, y: np.ndarray, treated: np.ndarray,
                   bins: int) -> list[dict[str, float]]:
    """Predicted against measured uplift by decile of the prediction: per bin the mean
    prediction and the target-minus-control response rate with its standard error (a
    calibrated model's points lie on the diagonal; a model that ranks has rising points)."""
    u = np.asarray(uplift, float)
    y = np.asarray(y, float)
    t = np.asarray(treated, bool)
    if len(u) < bins:
        return []
    order = np.argsort(u, kind="stable")
    out = []
    for k, idx in enumerate(np.array_split(order, bins)):
        yt, yc = y[idx][t[idx]], y[idx][~t[idx]]
        if len(yt) < 2 or len(yc) < 2:
            continue
        out.append({"decile": k + 1, "n": int(len(idx)), "predicted": float(u[idx].mean()),
                    "measured": float(yt.mean() - yc.mean()),
                    "measured_se": float(np.sqrt(yt.var(ddof=1) / len(yt)
                                                 + yc.var(ddof=1) / len(yc)))})
    return out


# ---------------------------------------------------------------- training data
def training_frame(
    tables: dict[str, pd.DataFrame],
    features_fn: FeaturesFn,
    as_of: Any,
    window_days: int,
    run_cfg: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Past contacts with a complete outcome window before ``as_of``: (X, info).

    ``X``: features at the month end before each contact (one ``features_fn`` call per
    contact month); ``info``: customer_id, campaign, contact_date, treated, responded, revenue.
    """
    contacts = tables.get("campaign_contacts")
    if contacts is None or contacts.empty:
        return pd.DataFrame(), pd.DataFrame()
    as_of = to_timestamp(as_of)
    d = days(contacts["contact_date"])
    c = contacts[d + window_days <= day_number(as_of)].copy()
    if c.empty:
        return pd.DataFrame(), pd.DataFrame()
    c = contact_outcomes(c, tables["visits"], window_days, cut_at=as_of, run_cfg=run_cfg)
    c["customer_id"] = ids(c["customer_id"]).to_numpy()
    dates = pd.to_datetime(c["contact_date"])
    c["snapshot"] = dates.dt.to_period("M").dt.start_time - pd.Timedelta(days=1)
    xs, infos = [], []
    for snap, g in c.groupby("snapshot", sort=True):
        feats = features_fn(tables, pd.Timestamp(snap))
        feats.index = ids(pd.Series(feats.index)).to_numpy()
        g = g[g["customer_id"].isin(feats.index)]
        xs.append(feats.reindex(g["customer_id"].to_numpy()).reset_index(drop=True))
        infos.append(g.reset_index(drop=True))
        log.debug("uplift training snapshot %s: %d contacts", pd.Timestamp(snap).date(), len(g))
    X = pd.concat(xs, ignore_index=True)
    info = pd.concat(infos, ignore_index=True)
    info["treated"] = (info["group"] == "target").to_numpy()
    info["contact_date"] = pd.to_datetime(info["contact_date"])
    return X, info[["customer_id", "campaign", "contact_date", "treated", "responded",
                    "revenue"]]


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

    def predict(self, X: pd.DataFrame, campaign: str) -> np.ndarray:
        """Uplift for every row of ``X`` (features, as from ``features_fn``) under ``campaign``."""
        if campaign not in self.source:
            raise CvmError(f"uplift model knows no campaign {campaign!r}")
        if self.source[campaign] != "learned":
            return np.full(len(X), self.prior[campaign])
        cate = self._cate(X, np.full(len(X), campaign, dtype=object))
        return self._finish(cate, campaign)

    def predict_pairs(self, X: pd.DataFrame, pairs: pd.DataFrame,
                      customer_col: str = "customer_id") -> np.ndarray:
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
        M = _design(X, campaign, self.features, self.categories)
        b = self.boosters
        if self.learner == "t":
            return b["mu1"].predict(M) - b["mu0"].predict(M)
        g = pd.Series(campaign).map(self.propensity).fillna(0.5).to_numpy(float)
        return g * b["tau0"].predict(M) + (1 - g) * b["tau1"].predict(M)

    def _finish(self, cate: np.ndarray, campaign: str) -> np.ndarray:
        # the campaign's measured mean plus the shrunk per-customer deviation, clipped
        w = (1 - self.shrink) * self.heterogeneity.get(campaign, 1.0)
        out = self.ate[campaign] + w * (cate - self.cate_mean.get(campaign, 0.0))
        return np.clip(out, -self.max_uplift, self.max_uplift)


def _design(X: pd.DataFrame, campaign: np.ndarray, features: list[str],
            categories: dict[str, list[Any]]) -> pd.DataFrame:
    """Model matrix: numeric features as float, categoricals with fixed categories."""
    M = X.reindex(columns=[f for f in features if f != CAMPAIGN_FEATURE]).copy()
    M[CAMPAIGN_FEATURE] = campaign
    for col in M.columns:
        if col in categories:
            M[col] = pd.Categorical(M[col].astype(object), categories=categories[col])
        else:
            M[col] = pd.to_numeric(M[col], errors="coerce").astype(float)
    return M[features]


def _schema(X: pd.DataFrame, campaigns: list[str]) -> tuple[list[str], dict[str, list[Any]]]:
    feats, cats = [], {}
    for col in X.columns:
        s = X[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            feats.append(col)
        elif isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s) \
                or s.dtype == object:
            vals = sorted(str(v) for v in s.dropna().unique())
            if 0 < len(vals) <= 50:
                feats.append(col)
                cats[col] = vals
    feats.append(CAMPAIGN_FEATURE)
    cats[CAMPAIGN_FEATURE] = sorted(campaigns)
    return feats, cats


def _train(M: pd.DataFrame, y: np.ndarray, params: dict[str, Any], rounds: int,
           objective: str, seed: int) -> lgb.Booster:
    p = trainer.booster_params(objective, seed=seed, base=params, extra={"force_row_wise": True})
    if objective != "binary":
        p.pop("is_unbalance", None)
    cats = [c for c in M.columns if isinstance(M[c].dtype, pd.CategoricalDtype)]
    return trainer.fit_booster(p, trainer.dataset(M, y, categorical=cats, free_raw_data=True),
                               rounds)


def _fit_learner(X: pd.DataFrame, info: pd.DataFrame, campaigns: list[str], u: dict[str, Any],
                 seed: int) -> tuple[dict[str, lgb.Booster], dict[str, float], list[str],
                                     dict[str, list[Any]]]:
    feats, cats = _schema(X, campaigns)
    M = _design(X, info["campaign"].astype(str).to_numpy(object), feats, cats)
    y = info["responded"].to_numpy(float)
    t = info["treated"].to_numpy(bool)
    params = {k: v for k, v in (u.get("lgb") or {}).items() if k != "objective"}
    rounds = int(u.get("num_boost_round", 200))
    b = {"mu0": _train(M[~t], y[~t], params, rounds, "binary", seed),
         "mu1": _train(M[t], y[t], params, rounds, "binary", seed + 1)}
    prop = info.groupby("campaign")["treated"].mean().to_dict()
    if str(u.get("learner", "x")) == "x":
        d1 = y[t] - b["mu0"].predict(M[t])
        d0 = b["mu1"].predict(M[~t]) - y[~t]
        b["tau1"] = _train(M[t], d1, params, rounds, "regression", seed + 2)
        b["tau0"] = _train(M[~t], d0, params, rounds, "regression", seed + 3)
    return b, {k: float(v) for k, v in prop.items()}, feats, cats


def _ate(info: pd.DataFrame) -> dict[str, float]:
    g = info.groupby(["campaign", "treated"])["responded"].mean().unstack()
    return {str(k): float(r.get(True, np.nan) - r.get(False, np.nan)) for k, r in g.iterrows()}


def _ate_se(info: pd.DataFrame) -> dict[str, float]:
    """Standard error of each campaign's difference in response rates (Welch, normal)."""
    g = info.groupby(["campaign", "treated"])["responded"].agg(["mean", "size"]).unstack()
    out = {}
    for k, r in g.iterrows():
        v = 0.0
        for t in (True, False):
            p, n = float(r[("mean", t)]), float(r[("size", t)])
            v += max(p * (1 - p), 1e-4) / max(n, 1.0)
        out[str(k)] = float(np.sqrt(v))
    return out


def shrink_ate(ate: dict[str, float], se: dict[str, float], prior: dict[str, float],
               prior_sd: float, transport_sd: float) -> dict[str, float]:
    """Empirical-Bayes campaign means: precision-weighted prior and measured mean.

    The measured mean's variance is its sampling variance ``se^2`` plus ``transport_sd^2``: the
    history measures a response within the outcome window on past campaigns' populations, the
    plan needs the 12-month uplift on this month's eligible customers, so even a precise
    historical mean is only a noisy measure of what the plan needs.
    """
    out = {}
    for c, a in ate.items():
        if c not in prior or not np.isfinite(a):
            out[c] = a
            continue
        w0 = 1.0 / max(prior_sd, 1e-9) ** 2
        w1 = 1.0 / (se.get(c, 0.0) ** 2 + transport_sd ** 2 + 1e-12)
        out[c] = float((w0 * prior[c] + w1 * a) / (w0 + w1))
    return out


def spend_effects(X: pd.DataFrame, spend: np.ndarray, treated: np.ndarray,
                  campaign: np.ndarray, customer: np.ndarray, params: dict[str, Any],
                  rounds: int = 200, seed: int = 0) -> tuple[dict[str, float], dict[str, float]]:
    """Per campaign: incremental paid spend per contact, target vs control, and its standard error.

    Robinson / R-learner residualization: a cross-fitted outcome model ``m(x)`` (two folds by
    customer, LightGBM, treatment not a feature) removes what the features explain of each
    contact's spend, and the effect is ``sum (T - e)(Y - m) / sum (T - e)^2`` with ``e`` the
    campaign's target share. Assignment is random within a campaign, so this is unbiased
    whatever ``m`` is; a good ``m`` only shrinks the standard error (sandwich formula), which
    matters because spend is heavy-tailed. ``X`` is the design matrix (see ``_design``).
    """
    y = np.asarray(spend, float)
    t = np.asarray(treated, bool)
    camp = np.asarray(campaign).astype(str)
    fold = (pd.util.hash_array(np.asarray(customer).astype(str).astype(object)) % 2).astype(int)
    mhat = np.full(len(y), float(np.mean(y)) if len(y) else 0.0)
    for k in (0, 1):
        tr = fold != k
        if tr.sum() >= 100 and (~tr).sum() > 0:
            mhat[~tr] = _train(X[tr], y[tr], params, rounds, "regression", seed + k).predict(X[~tr])
    e = pd.Series(t).groupby(camp).transform("mean").to_numpy(float)
    r, res = t - e, y - mhat
    eff, se = {}, {}
    for c in np.unique(camp):
        m = camp == c
        rr = r[m]
        den = float((rr ** 2).sum())
        if den <= 0 or t[m].all() or (~t[m]).all():
            continue
        a = float((rr * res[m]).sum() / den)
        eff[c] = a
        se[c] = float(np.sqrt(((rr * (res[m] - rr * a)) ** 2).sum()) / den)
    return eff, se


def calibrate_spend(mean_pred: dict[str, float], effect: dict[str, float],
                    se: dict[str, float], prior_rel_sd: float, prior_min_sd: float,
                    transport_sd: float) -> dict[str, float]:
    """Empirical-Bayes campaign means of incremental spend per contact.

    Prior: the model's own mean over this month's eligible pairs (uplift x value at stake),
    sd ``max(prior_rel_sd * |prior|, prior_min_sd)``. Measurement: the history's incremental
    spend (``spend_effects``, scaled to the horizon), variance ``se^2 + transport_sd^2`` (other
    populations, later campaigns in both groups). Campaigns without a measurement keep the prior.
    """
    return {c: m for c, (m, _) in spend_posterior(mean_pred, effect, se, prior_rel_sd,
                                                   prior_min_sd, transport_sd).items()}


def spend_posterior(mean_pred: dict[str, float], effect: dict[str, float],
                    se: dict[str, float], prior_rel_sd: float, prior_min_sd: float,
                    transport_sd: float) -> dict[str, tuple[float, float]]:
    """``calibrate_spend``'s posterior per campaign as ``(mean, sd)``: the sd gives the
    intervals of a pair's expected value and of the plan's total (normal-normal update)."""
    out = {}
    for c, prior in mean_pred.items():
        sd0 = max(prior_rel_sd * abs(prior), prior_min_sd, 1e-9)
        if c not in effect or not np.isfinite(effect[c]):
            out[c] = (float(prior), float(sd0))
            continue
        w0 = 1.0 / sd0 ** 2
        w1 = 1.0 / (se.get(c, 0.0) ** 2 + transport_sd ** 2 + 1e-12)
        out[c] = (float((w0 * prior + w1 * effect[c]) / (w0 + w1)), float((w0 + w1) ** -0.5))
    return out


def _build(X: pd.DataFrame, info: pd.DataFrame, catalogue: dict[str, Campaign],
           u: dict[str, Any], measurements: pd.DataFrame | None, seed: int,
           cfg: dict[str, Any] | None) -> UpliftModel:
    counts = info.groupby("campaign")["treated"].agg(["size", "sum"])
    counts["control"] = counts["size"] - counts["sum"]
    learned = sorted(c for c, r in counts.iterrows()
                     if c in catalogue and r["size"] >= int(u.get("min_contacts", 300))
                     and r["control"] >= int(u.get("min_control", 50)) and r["sum"] > 0)
    prior = posterior_uplift(catalogue, measurements, cfg=cfg)
    source = {c: ("learned" if c in learned else "prior") for c in catalogue}
    model = UpliftModel(learner=str(u.get("learner", "x")), features=[], categories={},
                        learned=learned, source=source, prior=prior, ate={},
                        shrink=float(u.get("shrink_to_ate", 0.5)),
                        max_uplift=float(u.get("max_uplift", 0.5)),
                        window_days=int(u.get("outcome_window_days", 90)))
    if not learned:
        return model
    keep = info["campaign"].isin(learned).to_numpy()
    Xl, il = X[keep].reset_index(drop=True), info[keep].reset_index(drop=True)
    b, prop, feats, cats = _fit_learner(Xl, il, learned, u, seed)
    model.boosters, model.propensity, model.features, model.categories = b, prop, feats, cats
    model.ate_measured = _ate(il)
    model.ate_se = _ate_se(il)
    if str(u.get("ate_shrinkage", "empirical_bayes")) == "empirical_bayes":
        model.ate = shrink_ate(model.ate_measured, model.ate_se, prior,
                               float(u.get("ate_prior_sd", 0.02)),
                               float(u.get("ate_transport_sd", 0.05)))
    else:
        model.ate = dict(model.ate_measured)
    cate = model._cate(Xl, il["campaign"].astype(str).to_numpy(object))
    model.cate_mean = pd.Series(cate).groupby(il["campaign"].to_numpy()).mean().to_dict()
    return model


def _validate(X: pd.DataFrame, info: pd.DataFrame, catalogue: dict[str, Campaign],
              u: dict[str, Any], seed: int, cfg: dict[str, Any] | None
              ) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Out-of-time: fit on contacts before the last ``validation_months``, score those.

    Returns the metrics and the scored fold (``UpliftModel.validation``)."""
    last = info["contact_date"].max()
    cut = last.to_period("M").start_time - pd.DateOffset(months=int(u.get("validation_months",
                                                                         3)) - 1)
    tr = (info["contact_date"] < cut).to_numpy()
    if tr.sum() == 0 or (~tr).sum() == 0:
        return {"note": "not enough history for an out-of-time fold"}, None
    model = _build(X[tr].reset_index(drop=True), info[tr].reset_index(drop=True), catalogue, u,
                   None, seed, cfg)
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
    from cvm.models.metrics import bootstrap_ci

    ev = dict(u["validation_bootstrap"])
    boot = (int(ev["reps"]), float(ev["confidence"]), seed)
    per = {}
    for cid, g in iv.groupby("campaign"):
        m = (iv["campaign"] == cid).to_numpy()
        if m.sum() < 50 or t[m].all() or (~t[m]).all():
            continue
        per[str(cid)] = {
            "n": int(m.sum()), "source": model.source.get(str(cid), "prior"),
            "qini": qini_coefficient(pred[m], y[m], t[m]),
            "qini_ci": bootstrap_ci(qini_coefficient, (pred[m], y[m], t[m]), *boot),
            "auuc": auuc(pred[m], y[m], t[m]),
            "auuc_random": auuc(shuffle[m].astype(float), y[m], t[m]),
            "observed_ate": float(y[m][t[m]].mean() - y[m][~t[m]].mean()),
            "predicted_mean": float(pred[m].mean()),
        }
    out = {
        "fold": {"train_until": str(cut.date()), "valid_from": str(cut.date()),
                 "valid_until": str(last.date()), "n_train": int(tr.sum()),
                 "n_valid": len(iv)},
        "pooled": {"qini": qini_coefficient(pred, y, t), "auuc": auuc(pred, y, t),
                   "qini_campaign_mean_only": qini_coefficient(const + 1e-9 * shuffle, y, t),
                   "auuc_campaign_mean_only": auuc(const + 1e-9 * shuffle, y, t),
                   "auuc_random": auuc(shuffle.astype(float), y, t)},
        "per_campaign": per,
        "calibration_deciles": uplift_deciles(pred, y, t, int(ev["deciles"])),
    }
    out["pooled"]["qini_ci"] = bootstrap_ci(qini_coefficient, (pred, y, t), *boot)
    fold = iv[["customer_id", "campaign", "contact_date", "treated", "responded"]].assign(
        uplift=pred)
    return out, fold


def _fit_spend(model: UpliftModel, X: pd.DataFrame, info: pd.DataFrame,
               tables: dict[str, pd.DataFrame], as_of: Any, sc: dict[str, Any],
               u: dict[str, Any], seed: int, run_cfg: dict[str, Any] | None,
               metrics: dict[str, Any]) -> None:
    """The history's incremental paid spend per campaign (``spend_effects``), scaled from the
    spend window to the value horizon; stored on ``model`` and in ``metrics``."""
    window = int(sc.get("window_days", 180))
    horizon_days = 365.0 * float((run_cfg or {}).get("horizon_months", 12)) / 12.0
    done = (info["contact_date"] + pd.Timedelta(days=window) <= to_timestamp(as_of)).to_numpy()
    if done.sum() < int(u.get("min_contacts", 300)):
        metrics["spend_effect"] = {}
        return
    Xs, inf = X[done].reset_index(drop=True), info[done].reset_index(drop=True)
    out = contact_outcomes(inf[["customer_id", "contact_date"]], tables["visits"], window,
                           cut_at=as_of, run_cfg=run_cfg)
    y = out["revenue"].to_numpy(float)
    # a campaign's value counts the vehicle sales it brings (trade-in, upgrade) at the store's
    # margin: one definition, the value model's (configs/value.yaml influence.new_car_margin)
    margin = float(load_config("value")["influence"]["new_car_margin"])
    y = y + margin * contact_sales(inf[["customer_id", "contact_date"]],
                                   tables.get("vehicle_sales"), window, cut_at=as_of)
    cap = float(sc.get("outcome_cap_quantile", 0.995))
    if len(y) and cap < 1:
        y = np.minimum(y, np.quantile(y, cap))
    campaigns = sorted(inf["campaign"].astype(str).unique())
    feats, cats = (model.features, model.categories) if model.features else _schema(Xs, campaigns)
    cats = {**cats, CAMPAIGN_FEATURE: sorted(set(cats.get(CAMPAIGN_FEATURE, [])) | set(campaigns))}
    M = _design(Xs, inf["campaign"].astype(str).to_numpy(object), feats, cats)
    params = {k: v for k, v in (sc.get("lgb") or u.get("lgb") or {}).items() if k != "objective"}
    eff, se = spend_effects(M, y, inf["treated"].to_numpy(bool),
                            inf["campaign"].astype(str).to_numpy(), inf["customer_id"].to_numpy(),
                            params, int(sc.get("num_boost_round", 200)), seed + 7)
    scale = horizon_days / window
    model.spend_effect = {c: v * scale for c, v in eff.items()}
    model.spend_se = {c: v * scale for c, v in se.items()}
    metrics.update(spend_window_days=window, spend_effect=model.spend_effect,
                   spend_se=model.spend_se, n_spend_contacts=int(done.sum()))


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
    u = dict(cfg.get("uplift") or {})
    window = int(u.get("outcome_window_days", 90))
    X, info = training_frame(tables, features_fn, as_of, window, run_cfg)
    if info.empty:
        log.warning("uplift: no past campaigns with control groups; every campaign uses its prior")
        model = _build(X, pd.DataFrame(columns=["campaign", "treated", "responded"]),
                       catalogue, u, measurements, seed, cfg)
        model.metrics = {"note": "no campaign history: catalogue priors only"}
        return model
    keep = info["campaign"].isin(list(catalogue)).to_numpy()
    X, info = X[keep].reset_index(drop=True), info[keep].reset_index(drop=True)
    model = _build(X, info, catalogue, u, measurements, seed, cfg)
    metrics: dict[str, Any] = {"n_contacts": len(info), "window_days": window,
                               "learned": model.learned,
                               "ate_shrinkage": str(u.get("ate_shrinkage", "empirical_bayes")),
                               "ate_measured": model.ate_measured, "ate_se": model.ate_se,
                               "ate_used": dict(model.ate),
                               "prior": sorted(c for c, s in model.source.items() if s == "prior")}
    sc = dict(u.get("spend_calibration") or {})
    if sc.get("enabled", True):
        _fit_spend(model, X, info, tables, as_of, sc, u, seed, run_cfg, metrics)
    if validate and model.learned:
        metrics["out_of_time"], model.validation = _validate(X, info, catalogue, u, seed, cfg)
        if u.get("require_validated_heterogeneity", True):
            per = metrics["out_of_time"].get("per_campaign", {})
            model.heterogeneity = {c: float(per.get(c, {}).get("qini", 0.0) > 0)
                                   for c in model.learned}
            metrics["heterogeneity_used"] = sorted(c for c, w in model.heterogeneity.items()
                                                   if w > 0)
    model.metrics = metrics
    log.info("uplift: learned %s; priors for %s", model.learned, metrics["prior"])
    return model
