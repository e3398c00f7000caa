"""Customer value: expected paid spend over the next H months (LightGBM) and lifetime value.

Training follows the churn scheme: point-in-time snapshots every ``snapshot_step_months`` whose
H-month label window has closed by ``as_of``; the latest one is the out-of-time fold. That fold
is split by customer (seeded): one half for early stopping, the model choice (``model: auto``)
and the total calibration, the other half measures the reported metrics. With
``refit_all`` the final booster(s) are refit on every snapshot with the chosen number of rounds
(off by default: the total calibration is fitted on the booster it is applied to).

Level: a Tweedie booster under-predicts the total (its gradient balances ``(y-mu) mu^(1-p)``,
not ``y-mu``, and regularization shrinks the heavy tail), so predictions are scaled so their
total matches the early-stopping half. With ``baseline: no_contact`` the target of that scale is
the spend the fold would have had without campaign contacts: the fold's realized spend minus the
spend the contacts induced, estimated per campaign from the randomized control groups of
``campaign_contacts`` (target − control mean paid spend in the ``contact_window_days`` after the
contact, × the fold's target contacts). The prediction is then the business-as-usual spend
*without* contacts, which is what campaign targeting adds its incremental value to (and what
the simulator's truth horizon, run without campaigns, realizes).

Models (``configs/value.yaml``):

- ``tweedie``: one booster, Tweedie objective (log link), zero-inflated spend handled natively;
- ``two_part``: P(paid visit in H) (binary) × E[spend | paid visit] (gamma objective).

An occurrence classifier is always trained: its P(paid visit) gives the yearly retention of
the lifetime value ``a · Σ_{y=1..Y} r^(y-1) / (1+d)^y`` with ``a`` the predicted spend scaled
to a year, ``r = min(P(return in a year), max_retention)``, ``d`` the discount rate and ``Y``
``clv_years``: a geometric-retention approximation, not a second model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from cvm.config import CvmError, load_config
from cvm.data.ids import to_timestamp
from cvm.features.labels import future_paid_spend
from cvm.features.margin import future_margin, margin_table, margin_visits
from cvm.features.split import keep_rows
from cvm.features.training import snapshot_dates, training_frame
from cvm.models import trainer
from cvm.models.baselines import fit_rfm_gbm, predict_rfm_gbm
from cvm.models.btyd import bgnbd_gamma_gamma, historical_average, recency_frequency
from cvm.models.metrics import normalized_gini, regression_report
from cvm.settings import run_settings

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- settings
def value_settings(cfg: dict[str, Any] | None) -> dict[str, Any]:
    """``configs/value.yaml`` with the run's ``cfg["value"]`` merged in."""
    return load_config("value", (cfg or {}).get("value"))


# ----------------------------------------------------------------------------- snapshots
def feature_columns(X: pd.DataFrame) -> list[str]:
    """Numeric, boolean and categorical columns (the model's inputs)."""
    return [
        c
        for c in X.columns
        if pd.api.types.is_numeric_dtype(X[c])
        or pd.api.types.is_bool_dtype(X[c])
        or isinstance(X[c].dtype, pd.CategoricalDtype)
    ]


# ----------------------------------------------------------------------------- model
@dataclass
class ValueModel:
    """A trained value model: horizon spend (CNY) and lifetime value per customer."""

    kind: str
    boosters: list[lgb.Booster]
    occurrence: lgb.Booster
    feature_names: list[str]
    horizon_months: int
    scale: float
    lifetime: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    validation: pd.DataFrame = field(default_factory=pd.DataFrame)
    rfm_gbm: lgb.Booster | None = None  # the lightgbm_rfm baseline (not bundled)
    rfm_scale: float = 1.0
    paid_booster: lgb.Booster | None = None  # customer-paid revenue over the horizon (Tweedie)
    paid_scale: float = 1.0

    @property
    def booster(self) -> lgb.Booster | None:
        """The single booster of a Tweedie model (SHAP in log space is exact); None for two-part."""
        return self.boosters[0] if self.kind == "tweedie" else None

    def _X(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self.feature_names if c not in X.columns]
        if missing:
            raise CvmError(f"value model: features missing from the input: {missing[:10]}")
        return X[self.feature_names]

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Expected gross margin over the next ``horizon_months`` (CNY, zero-inflated mean):
        every payer's revenue x the margin of its payer and visit type (``value.margin``)."""
        return _raw_predict(self.kind, self.boosters, self._X(X)) * self.scale

    def predict_customer_paid(self, X: pd.DataFrame) -> np.ndarray:
        """Expected customer-paid revenue over the horizon (CNY): the old value definition,
        kept beside ``predict`` for comparison (NaN without ``value.customer_paid_model``)."""
        if self.paid_booster is None:
            return np.full(len(X), np.nan)
        return np.asarray(self.paid_booster.predict(self._X(X)), dtype=float) * self.paid_scale

    def return_probability(self, X: pd.DataFrame) -> np.ndarray:
        """P(at least one paid visit in the next ``horizon_months``)."""
        return np.asarray(self.occurrence.predict(self._X(X)), dtype=float)

    def lifetime_value(self, X: pd.DataFrame) -> np.ndarray:
        """Discounted spend over ``clv_years`` (CNY); see the module docstring."""
        from cvm.models.bundle_loader import discounted_lifetime_value

        return discounted_lifetime_value(
            self.predict(X), self.return_probability(X), self.horizon_months, self.lifetime
        )


def _params(s: dict[str, Any], objective: str) -> dict[str, Any]:
    extra = (
        {"tweedie_variance_power": float(s["tweedie_variance_power"])}
        if objective == "tweedie"
        else None
    )
    return trainer.booster_params(
        objective,
        seed=int(s["seed"]),
        num_threads=int(s["num_threads"]),
        base=s["params"],
        extra=extra,
    )


def _fit(
    s: dict[str, Any],
    objective: str,
    X: pd.DataFrame,
    y: np.ndarray,
    Xv: pd.DataFrame | None = None,
    yv: np.ndarray | None = None,
    rounds: int | None = None,
) -> lgb.Booster:
    """One booster; early stopping on (Xv, yv) when given, else exactly ``rounds`` rounds."""
    train = trainer.dataset(X, y)
    if Xv is None:
        return trainer.fit_booster(_params(s, objective), train, int(rounds or 1))
    return trainer.fit_booster(
        _params(s, objective),
        train,
        int(s["num_boost_round"]),
        trainer.dataset(Xv, yv, reference=train),
        int(s["early_stopping_rounds"]),
    )


def _fit_kind(
    kind: str,
    s: dict[str, Any],
    X: pd.DataFrame,
    y: np.ndarray,
    Xv: pd.DataFrame | None,
    yv: np.ndarray | None,
    rounds: list[int] | None = None,
) -> list[lgb.Booster]:
    r: list[int | None] = list(rounds) if rounds else [None, None]
    if kind == "tweedie":
        return [_fit(s, "tweedie", X, y, Xv, yv, r[0])]
    pos, pos_v = y > 0, (yv > 0 if yv is not None else None)
    occ = _fit(
        s, "binary", X, pos.astype(float), Xv, None if pos_v is None else pos_v.astype(float), r[0]
    )
    spend = _fit(
        s,
        s["two_part"]["spend_objective"],
        X.loc[pos],
        y[pos],
        None if Xv is None or pos_v is None else Xv.loc[pos_v],
        None if yv is None or pos_v is None else yv[pos_v],
        r[1],
    )
    return [occ, spend]


def _raw_predict(kind: str, boosters: list[lgb.Booster], X: pd.DataFrame) -> np.ndarray:
    def predict(b: lgb.Booster) -> np.ndarray:
        return np.asarray(b.predict(X), dtype=float)

    if kind == "tweedie":
        return predict(boosters[0])
    return predict(boosters[0]) * predict(boosters[1])


@dataclass
class ValueFrames:
    """The rows a value model is trained, early-stopped and measured on, with what the fold
    needs besides (contact-induced spend, the baselines of the evaluation rows).

    Built once by ``value_frames``; ``fit_value`` trains on them. A challenger fitted on the
    same frames is measured on exactly the champion's evaluation rows.
    """

    X_all: pd.DataFrame
    y_all: np.ndarray
    snap: pd.Series
    is_va: np.ndarray
    is_eval: np.ndarray  # within the out-of-time rows: the evaluation half
    induced: pd.Series  # contact-induced margin per customer (baseline: no_contact)
    uplift: dict[str, float]
    baselines: dict[str, np.ndarray]  # of the evaluation rows
    train_dates: list[pd.Timestamp]
    valid_dates: list[pd.Timestamp]
    horizon_months: int
    y_paid: np.ndarray | None = None  # customer-paid revenue of the same rows
    induced_paid: pd.Series | None = None  # contact-induced customer-paid revenue

    @property
    def feature_names(self) -> list[str]:
        """Every built model input (before ``value.exclude_features``)."""
        return list(self.X_all.columns)


def value_frames(
    tables: dict[str, pd.DataFrame], as_of: Any, cfg: dict[str, Any] | None = None
) -> ValueFrames:
    """Snapshots before ``as_of``, the customer-disjoint out-of-time fold and its halves."""
    cfg = cfg or load_config()
    s = value_settings(cfg)
    as_of = to_timestamp(as_of)
    H = run_settings(cfg).horizon_months
    if tables.get("visits") is None:
        raise CvmError("the value model needs the visits table")
    train_dates, valid_dates = snapshot_dates(tables["visits"], as_of, H, cfg)
    dates = train_dates + valid_dates
    seed = int(s["seed"])
    margin_table(cfg)  # a bad margin table stops here, before any work
    X_all, y_all_s, snap = training_frame(tables, dates, H, cfg, future_margin)
    X_all = X_all[feature_columns(X_all)]
    is_va = snap.isin(valid_dates).to_numpy()
    # training and out-of-time rows from disjoint customers (cvm.features.split says why)
    keep = keep_rows(X_all.index, is_va, cfg)
    X_all, y_all_s, snap, is_va = X_all.loc[keep], y_all_s[keep], snap[keep], is_va[keep]
    y_paid = None
    if s.get("customer_paid_model", True):  # the customer-paid revenue of the same rows
        y_paid = np.zeros(len(X_all))
        sv = snap.to_numpy()
        for d in pd.unique(sv):
            m = sv == d
            y_paid[m] = future_paid_spend(
                tables["visits"], d, H, cfg, customers=pd.Index(X_all.index[m])
            ).to_numpy()
    X_va = X_all.loc[is_va]
    rng = np.random.default_rng(seed)
    is_eval = rng.random(len(X_va)) < float(s["eval_share"])
    induced, induced_paid = pd.Series(dtype=float), None
    uplift: dict[str, float] = {}
    if s["baseline"] == "no_contact":
        # campaign measurement (randomized control groups) says what the contacts added
        from cvm.campaigns.measurement import contact_induced_spend

        who = _sampled(X_va.index, tables, cfg)
        window, min_group = int(s["contact_window_days"]), int(s["contact_min_group"])

        def induced_by_contacts(measure: str) -> tuple[pd.Series, dict[str, float]]:
            return contact_induced_spend(
                tables, valid_dates[-1], H, cfg, window, min_group, customers=who, measure=measure
            )

        induced, uplift = induced_by_contacts("margin")
        if y_paid is not None:
            induced_paid, _ = induced_by_contacts("paid")
    ev_ids = pd.Index(X_va.index[is_eval], name="customer_id")
    base = value_baselines(tables["visits"], snap.to_numpy()[is_va][is_eval], ev_ids, H, cfg)
    return ValueFrames(
        X_all,
        y_all_s.to_numpy(),
        snap,
        is_va,
        is_eval,
        induced,
        uplift,
        base,
        list(train_dates),
        list(valid_dates),
        H,
        y_paid,
        induced_paid,
    )


def train_value(
    tables: dict[str, pd.DataFrame], as_of: Any, cfg: dict[str, Any] | None = None
) -> ValueModel:
    """Train the value model on snapshots before ``as_of``; metrics on the out-of-time fold."""
    cfg = cfg or load_config()
    return fit_value(value_frames(tables, as_of, cfg), cfg)


def fit_value(frames: ValueFrames, cfg: dict[str, Any]) -> ValueModel:
    """Train (``value.model``, ``value.params``), calibrate the total and measure a value model
    on ``frames``; the features are the built ones minus ``value.exclude_features``."""
    s = value_settings(cfg)
    H = frames.horizon_months
    drop = set(s.get("exclude_features") or [])
    feats = [c for c in frames.X_all.columns if c not in drop]
    X_all, snap, is_va, is_eval = frames.X_all[feats], frames.snap, frames.is_va, frames.is_eval
    y_all = frames.y_all
    train_dates, valid_dates = frames.train_dates, frames.valid_dates
    dates = train_dates + valid_dates
    X_tr, y_tr = X_all.loc[~is_va], y_all[~is_va]
    X_va, y_va = X_all.loc[is_va], y_all[is_va]
    X_st, y_st = X_va.loc[~is_eval], y_va[~is_eval]
    log.info(
        "value: %d training rows (%d snapshots), out-of-time %s: %d stop / %d eval rows",
        len(X_tr),
        len(train_dates),
        valid_dates[-1].date(),
        len(X_st),
        int(is_eval.sum()),
    )

    kinds = ["tweedie", "two_part"] if s["model"] == "auto" else [s["model"]]
    if not set(kinds) <= {"tweedie", "two_part"}:
        raise CvmError(f"value.model must be tweedie, two_part or auto, got {s['model']!r}")
    fitted = {k: _fit_kind(k, s, X_tr, y_tr, X_st, y_st) for k in kinds}
    stop_gini = {k: normalized_gini(y_st, _raw_predict(k, b, X_st)) for k, b in fitted.items()}
    kind = max(stop_gini, key=lambda k: stop_gini[k])
    boosters = fitted[kind]
    occurrence = (
        boosters[0]
        if kind == "two_part"
        else _fit(s, "binary", X_tr, (y_tr > 0).astype(float), X_st, (y_st > 0).astype(float))
    )
    p_st = _raw_predict(kind, boosters, X_st)
    induced, uplift = frames.induced, frames.uplift
    induced_st = float(induced.reindex(X_st.index).fillna(0.0).sum()) if len(induced) else 0.0
    target_total = max(float(y_st.sum()) - induced_st, 0.0)
    scale = float(target_total / p_st.sum()) if s["calibrate_total"] and p_st.sum() > 0 else 1.0
    if s["calibrate_total"] and s.get("calibration_rows", "stop") == "out_of_time":
        # the whole out-of-time fold (both halves): half the variance of the early-stopping
        # half alone; heavy-tailed margins (insurer accidents) make that half's total noisy
        p_va = _raw_predict(kind, boosters, X_va)
        ind_va = float(induced.reindex(X_va.index).fillna(0.0).sum()) if len(induced) else 0.0
        if p_va.sum() > 0:
            scale = float(max(float(y_va.sum()) - ind_va, 0.0) / p_va.sum())

    # metrics on the evaluation half
    X_ev, y_ev = X_va.loc[is_eval], y_va[is_eval]
    pred_ev = _raw_predict(kind, boosters, X_ev) * scale
    metrics = regression_report(y_ev, pred_ev, int(s["calibration_bins"]))
    ev_ids = pd.Index(X_ev.index, name="customer_id")
    base = frames.baselines
    paid_booster, paid_scale = _fit_customer_paid(s, frames, X_tr, X_st, is_va, is_eval)
    if paid_booster is not None and frames.y_paid is not None:  # a booster only with y_paid
        yp_ev = frames.y_paid[is_va][is_eval]
        pp_ev = np.asarray(paid_booster.predict(X_va.loc[is_eval]), float) * paid_scale
        metrics_paid = {
            "normalized_gini": normalized_gini(yp_ev, pp_ev),
            "total_ratio": float(pp_ev.sum() / max(yp_ev.sum(), 1e-12)),
            "scale": paid_scale,
        }
    else:
        metrics_paid = None
    rfm_gbm = fit_rfm_gbm(X_tr, y_tr, "tweedie", cfg, X_st, y_st)
    rfm_st = predict_rfm_gbm(rfm_gbm, X_st, cfg)
    rfm_scale = float(target_total / rfm_st.sum()) if rfm_st.sum() > 0 else 1.0
    base = {**base, "lightgbm_rfm": predict_rfm_gbm(rfm_gbm, X_ev, cfg) * rfm_scale}
    metrics["baselines"] = {k: normalized_gini(y_ev, v) for k, v in base.items()}
    metrics["baseline_total_ratio"] = {
        k: float(v.sum() / max(y_ev.sum(), 1e-12)) for k, v in base.items()
    }
    ind_ev = float(induced.reindex(X_ev.index).fillna(0.0).sum()) if len(induced) else 0.0
    metrics["contact_induced_share"] = float(induced_st / max(float(y_st.sum()), 1e-12))
    metrics["total_ratio_no_contact"] = float(
        pred_ev.sum() / max(float(y_ev.sum()) - ind_ev, 1e-12)
    )
    metrics["contact_uplift"] = uplift
    metrics["definition"] = (
        "gross margin over the horizon: every payer's revenue (customer, "
        "insurer, warranty) x the margin of its payer and visit type"
    )
    if metrics_paid is not None:
        metrics["customer_paid"] = metrics_paid
    metrics.update(
        model=kind,
        stop_normalized_gini=stop_gini,
        scale=scale,
        horizon_months=H,
        snapshots=[str(d.date()) for d in dates],
        rounds=[b.best_iteration or b.current_iteration() for b in boosters],
    )
    validation = pd.DataFrame(
        {
            "realized": y_ev,
            "predicted": pred_ev,
            "snapshot_date": snap.to_numpy()[is_va][is_eval],
            **base,
        },
        index=ev_ids,
    )

    if s["refit_all"]:
        rounds = [b.best_iteration or b.current_iteration() for b in boosters]
        boosters = _fit_kind(kind, s, X_all, y_all, None, None, rounds)
        occ_rounds = occurrence.best_iteration or occurrence.current_iteration()
        occurrence = (
            boosters[0]
            if kind == "two_part"
            else _fit(s, "binary", X_all, (y_all > 0).astype(float), rounds=occ_rounds)
        )
    log.info(
        "value model %s: normalized Gini %.3f (baselines %s), total ratio %.3f",
        kind,
        metrics["normalized_gini"],
        metrics["baselines"],
        metrics["total_ratio"],
    )
    return ValueModel(
        kind=kind,
        boosters=boosters,
        occurrence=occurrence,
        feature_names=feats,
        horizon_months=H,
        scale=scale,
        lifetime=dict(s["lifetime"]),
        metrics=metrics,
        validation=validation,
        rfm_gbm=rfm_gbm,
        rfm_scale=rfm_scale,
        paid_booster=paid_booster,
        paid_scale=paid_scale,
    )


def _fit_customer_paid(
    s: dict[str, Any],
    frames: ValueFrames,
    X_tr: pd.DataFrame,
    X_st: pd.DataFrame,
    is_va: np.ndarray,
    is_eval: np.ndarray,
) -> tuple[lgb.Booster | None, float]:
    """The customer-paid revenue model (Tweedie, the value model's settings), its total
    scaled on the early-stopping half like the value model's (no-contact baseline)."""
    if frames.y_paid is None:
        return None, 1.0
    y_tr, y_va = frames.y_paid[~is_va], frames.y_paid[is_va]
    y_st = y_va[~is_eval]
    b = _fit(s, "tweedie", X_tr, y_tr, X_st, y_st)
    p_st = np.asarray(b.predict(X_st), float)
    ind = frames.induced_paid
    ind_st = (
        float(ind.reindex(X_st.index).fillna(0.0).sum()) if ind is not None and len(ind) else 0.0
    )
    target = max(float(y_st.sum()) - ind_st, 0.0)
    scale = float(target / p_st.sum()) if s["calibrate_total"] and p_st.sum() > 0 else 1.0
    return b, scale


def _sampled(
    index: pd.Index, tables: dict[str, pd.DataFrame], cfg: dict[str, Any]
) -> pd.Index | None:
    """``index`` when the training snapshots were sampled (the base is larger than the cap),
    else None (every customer)."""
    cap = run_settings(cfg).training.max_rows_per_snapshot
    return pd.Index(index) if cap and len(index) >= cap else None


def value_baselines(
    visits: pd.DataFrame, snap: np.ndarray, customers: pd.Index, H: int, cfg: dict[str, Any]
) -> dict[str, np.ndarray]:
    """The visit-only value baselines on the visits' gross margin (``margin_visits``), each
    fitted at its row's snapshot date: historical
    average, BG/NBD + Gamma-Gamma, and the recency/frequency heuristic
    (``cvm.models.btyd.recency_frequency``). ``lightgbm_rfm`` needs training rows: ``fit_value``
    fits it (``ValueModel.rfm_gbm``)."""
    out = {
        "historical_average": np.zeros(len(customers)),
        "bgnbd_gamma_gamma": np.zeros(len(customers)),
        "recency_frequency": np.zeros(len(customers)),
    }
    visits = margin_visits(visits, cfg)  # the baselines predict the same value: gross margin
    for d in pd.unique(snap):
        m = snap == d
        ids_d = customers[m]
        out["historical_average"][m] = historical_average(visits, d, H, cfg, ids_d).to_numpy()
        out["bgnbd_gamma_gamma"][m] = _safe_btyd(visits, d, H, cfg, ids_d).to_numpy()
        out["recency_frequency"][m] = recency_frequency(visits, d, H, cfg, ids_d).to_numpy()
    return out


def _safe_btyd(
    visits: pd.DataFrame, as_of: pd.Timestamp, H: int, cfg: dict[str, Any], customers: pd.Index
) -> pd.Series:
    """The BG/NBD + Gamma-Gamma baseline, or zeros (logged) when the fit fails."""
    try:
        return bgnbd_gamma_gamma(visits, as_of, H, cfg, customers)
    except Exception as exc:  # lifetimes raises bare ConvergenceError / ValueError
        log.warning("BG/NBD + Gamma-Gamma baseline failed: %s", exc)
        return pd.Series(0.0, index=customers)
