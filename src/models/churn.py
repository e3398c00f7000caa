"""The churn-risk model: LightGBM on point-in-time snapshots, calibrated out of time.

``train_churn`` builds training snapshots up to ``as_of - H`` (``cvm.features.training``),
trains a small grid of LightGBM configurations with early stopping on half of the latest
(out-of-time) snapshot, calibrates on that same half (isotonic or Platt) and measures the
model and its naive baselines on the other half. Everything a saved bundle needs is plain
JSON (``to_dict``/``from_dict``): the booster's model string, calibration arrays, categories.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from cvm.config import InsufficientData, load_config
from cvm.data.ids import DAYS_PER_MONTH, to_timestamp
from cvm.features.labels import churn_labels
from cvm.features.split import keep_rows
from cvm.features.training import snapshot_dates, training_frame
from cvm.fileio import jsonable
from cvm.models import metrics as M
from cvm.models import trainer
from cvm.models.baselines import (
    RfmLogistic,
    at_risk_rule,
    fit_rfm_gbm,
    predict_rfm_gbm,
    recency_score,
)
from cvm.models.calibration import Calibrator
from cvm.models.drift import fold_shift
from cvm.settings import run_settings

log = logging.getLogger(__name__)


@dataclass
class ChurnModel:
    """A fitted churn model: booster + calibrator + the columns and categories it expects."""

    booster: lgb.Booster
    calibrator: Calibrator
    feature_names: list[str]
    categories: dict[str, list[str]]
    metrics: dict[str, Any] = field(default_factory=dict)
    validation: pd.DataFrame | None = None
    rfm: RfmLogistic | None = None
    rfm_gbm: Any = None  # the lightgbm_rfm baseline (lgb.Booster; not bundled)

    def prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        """X restricted and ordered to the model's columns; missing columns become NaN."""
        out = X.reindex(columns=self.feature_names)
        for col, cats in self.categories.items():
            out[col] = pd.Categorical(out[col].astype("object"), categories=cats)
        for col in self.feature_names:
            if col not in self.categories:
                out[col] = pd.to_numeric(out[col], errors="coerce").astype(np.float32)
        return out

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        """Uncalibrated booster probabilities."""
        return np.asarray(self.booster.predict(self.prepare(X), num_threads=_threads()), float)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated P(no paid visit within the horizon) per row of X."""
        return np.clip(self.calibrator(self.predict_raw(X)), 0.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to predict again, as JSON-friendly values (no pickle)."""
        return {
            "booster": self.booster.model_to_string(),
            "calibrator": self.calibrator.to_dict(),
            "feature_names": list(self.feature_names),
            "categories": {k: list(v) for k, v in self.categories.items()},
            "metrics": jsonable(self.metrics),
            "rfm": self.rfm.to_dict() if self.rfm else None,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChurnModel:
        return cls(
            booster=lgb.Booster(model_str=d["booster"]),
            calibrator=Calibrator.from_dict(d["calibrator"]),
            feature_names=list(d["feature_names"]),
            categories={k: list(v) for k, v in d["categories"].items()},
            metrics=d.get("metrics", {}),
            rfm=RfmLogistic.from_dict(d["rfm"]) if d.get("rfm") else None,
        )


def _threads(cfg: Mapping[str, Any] | None = None) -> int:
    return run_settings(cfg).churn.num_threads


def _params(cfg: Mapping[str, Any], grid_point: Mapping[str, Any]) -> dict[str, Any]:
    return trainer.booster_params(
        "binary",
        seed=run_settings(cfg).seed,
        num_threads=_threads(cfg),
        extra={"metric": "binary_logloss", "force_col_wise": True},
        point=grid_point,
    )


def grade(gain: float, thresholds: dict[str, float]) -> str:
    """A/B/C/D from the AUC gain over the best naive rule (thresholds in config)."""
    for letter in ("A", "B", "C"):
        if gain >= float(thresholds[letter]):
            return letter
    return "D"


def _split(n: int, share: float, seed: int) -> np.ndarray:
    """Boolean mask: True = tuning/calibration half of the out-of-time fold."""
    rng = np.random.default_rng([seed, 7])
    return rng.random(n) < share


@dataclass
class ChurnFrames:
    """The rows a churn model is trained, tuned and measured on (customer-disjoint, out of time).

    Built once by ``churn_frames``; ``fit_churn`` trains on them. A challenger fitted on the same
    frames is measured on exactly the champion's holdout rows.
    """

    Xtr: pd.DataFrame
    ytr: pd.Series
    Xt: pd.DataFrame  # tuning / calibration half of the out-of-time fold
    yt: pd.Series
    Xh: pd.DataFrame  # holdout half: the reported metrics
    yh: pd.Series
    dh: pd.Series  # snapshot date of each holdout row
    train_dates: list[pd.Timestamp]
    valid_dates: list[pd.Timestamp]
    n_valid: int
    # churn.drift's evidence (cvm.models.drift.fold_shift): the held-out customers' rows at the
    # training snapshot dates (out of sample: the booster never saw these customers), and the
    # months from each row's snapshot date (and from the out-of-time fold's) to the as-of date
    X_fold: pd.DataFrame | None = None
    y_fold: pd.Series | None = None
    months_back_fold: np.ndarray | None = None
    months_back_valid: np.ndarray | None = None  # per holdout row (Xh)

    @property
    def feature_names(self) -> list[str]:
        """Every built feature (before ``churn.exclude_features``)."""
        return list(self.Xtr.columns)


def churn_frames(tables: dict[str, pd.DataFrame], as_of, cfg: dict | None = None) -> ChurnFrames:
    """Training snapshots up to ``as_of - H`` and the out-of-time fold, split as ``train_churn``
    uses them."""
    cfg = cfg or load_config()
    cc = cfg["churn"]
    h = int(cfg["horizon_months"])
    seed = run_settings(cfg).seed
    train_dates, valid_dates = snapshot_dates(tables["visits"], as_of, h, cfg)
    Xtr, ytr, dtr = training_frame(tables, train_dates, h, cfg, churn_labels)
    Xva, yva, dva = training_frame(tables, valid_dates, h, cfg, churn_labels)
    # training and out-of-time rows from disjoint customers (cvm.features.split says why)
    tr = keep_rows(Xtr.index, np.zeros(len(Xtr), bool), cfg)
    va = keep_rows(Xva.index, np.ones(len(Xva), bool), cfg)
    as_of = to_timestamp(as_of)

    def back(dates: pd.Series) -> np.ndarray:
        days = (as_of - pd.to_datetime(dates.to_numpy())).days.to_numpy()
        return np.asarray(days / DAYS_PER_MONTH, dtype=float)

    # the rows keep_rows drops at the training dates: the held-out customers', out of sample
    X_fold, y_fold, back_fold = Xtr[~tr], ytr[~tr], back(dtr[~tr])
    Xtr, ytr, Xva, yva, dva = Xtr[tr], ytr[tr], Xva[va], yva[va], dva[va]
    if ytr.nunique() < 2 or yva.nunique() < 2:
        raise InsufficientData(
            "churn labels have a single class in the training or validation "
            "snapshots; the data is too small or too uniform to learn churn"
        )
    tune = _split(len(Xva), float(cc["calibration_share"]), seed)
    back_va = back(dva)
    return ChurnFrames(
        Xtr,
        ytr,
        Xva[tune],
        yva[tune],
        Xva[~tune],
        yva[~tune],
        dva[~tune],
        list(train_dates),
        list(valid_dates),
        len(Xva),
        X_fold,
        y_fold,
        back_fold,
        back_va[~tune],
    )


def train_churn(tables: dict[str, pd.DataFrame], as_of, cfg: dict | None = None) -> ChurnModel:
    """Train, calibrate and evaluate the churn model on snapshots before ``as_of``."""
    cfg = cfg or load_config()
    t0 = time.perf_counter()
    return fit_churn(churn_frames(tables, as_of, cfg), cfg, t0)


def _drift(
    frames: ChurnFrames,
    booster: lgb.Booster,
    calibrator: Calibrator,
    features: list[str],
    cfg: dict,
) -> dict[str, Any] | None:
    """``churn.drift``: the logit shift at the as-of date from every out-of-time fold (the
    held-out customers at each training date and the out-of-time fold's holdout half),
    calibrated as fitted (``cvm.models.drift.fold_shift``); None when the frames carry no fold rows."""
    if frames.X_fold is None or frames.y_fold is None or frames.months_back_fold is None:
        return None
    if frames.months_back_valid is None:
        return None
    d = run_settings(cfg).churn.drift
    # the out-of-time fold's holdout half only: its tuning half is where the calibrator was
    # fitted (its shift is 0 there by construction)
    raw = [
        np.asarray(booster.predict(X[features], num_threads=_threads(cfg)), float)
        for X in (frames.X_fold, frames.Xh)
    ]
    p = np.clip(calibrator(np.concatenate(raw)), 0, 1)
    y = np.concatenate([frames.y_fold.to_numpy(), frames.yh.to_numpy()])
    back = np.concatenate([frames.months_back_fold, frames.months_back_valid])
    level = fold_shift(y, p, back, d.method, d.half_life_months, d.min_t)
    log.info(
        "churn drift (%s): logit shift %.3f (latest fold %.3f, slope %.3f/yr, t %.1f)",
        d.method,
        level.shift,
        level.latest,
        level.slope_per_year,
        level.slope_t,
    )
    return level.to_dict()


def fit_churn(frames: ChurnFrames, cfg: dict, t0: float | None = None) -> ChurnModel:
    """Tune (``churn.tuning`` grid), early-stop, calibrate and measure a churn model on
    ``frames``; the features are the built ones minus ``churn.exclude_features``."""
    t0 = time.perf_counter() if t0 is None else t0
    cc = cfg["churn"]
    h = int(cfg["horizon_months"])
    Xtr, ytr, Xt, yt, Xh, yh = frames.Xtr, frames.ytr, frames.Xt, frames.yt, frames.Xh, frames.yh
    train_dates, valid_dates = frames.train_dates, frames.valid_dates
    drop = set(cc.get("exclude_features") or [])
    features = [c for c in Xtr.columns if c not in drop]
    cats = {
        c: list(Xtr[c].cat.categories)
        for c in features
        if isinstance(Xtr[c].dtype, pd.CategoricalDtype)
    }
    log.info(
        "churn: %d training rows (%d snapshots), %d tuning, %d holdout",
        len(Xtr),
        len(train_dates),
        len(Xt),
        len(Xh),
    )

    # feature_pre_filter off: the grid varies min_data_in_leaf on one Dataset
    dtrain = trainer.dataset(Xtr[features], ytr.to_numpy(), pre_filter=False)
    dtune = trainer.dataset(Xt[features], yt.to_numpy(), reference=dtrain)
    best = trainer.tune(
        cc["tuning"],
        lambda point: _params(cfg, point),
        dtrain,
        dtune,
        Xt[features],
        lambda p: M.auc(yt, p),
        rounds=int(cc["num_boost_round"]),
        early_stopping_rounds=int(cc["early_stopping_rounds"]),
        num_threads=_threads(cfg),
        name="churn",
    )
    booster, point = best.booster, best.point

    calibrator = Calibrator.fit(
        np.asarray(booster.predict(Xt[features], num_threads=_threads(cfg)), float),
        yt.to_numpy(),
        cc["calibration"],
        float(cc["calibration_lr_threshold"]),
    )
    drift = _drift(frames, booster, calibrator, features, cfg)
    model = ChurnModel(
        booster, calibrator.shifted(drift["shift"]) if drift else calibrator, features, cats
    )
    model.rfm = RfmLogistic().fit(Xtr, ytr)
    model.rfm_gbm = fit_rfm_gbm(Xtr, ytr.to_numpy(), "binary", cfg, Xt, yt.to_numpy())

    p_raw = model.predict_raw(Xh)
    p = np.clip(calibrator(p_raw), 0, 1)
    y = yh.to_numpy()
    rep = M.classification_report(y, p, int(cc["ece_bins"]))
    rec = recency_score(Xh)
    rfm = model.rfm.predict_proba(Xh)
    rule = at_risk_rule(Xh, float(cfg["definitions"]["at_risk_months"]))
    naive = {
        "recency": M.auc(y, rec),
        "rfm_logistic": M.auc(y, rfm),
        f"no_visit_{cfg['definitions']['at_risk_months']}m": M.auc(y, rule),
    }
    best_name = max(naive, key=lambda k: naive[k])
    gain = rep["auc"] - naive[best_name]
    model.metrics = {
        **rep,
        "n_train": len(Xtr),
        "n_valid": frames.n_valid,
        "n_holdout": len(Xh),
        "train_dates": [d.date().isoformat() for d in train_dates],
        "valid_dates": [d.date().isoformat() for d in valid_dates],
        "raw_auc": M.auc(y, p_raw),
        "raw_ece": M.ece(y, p_raw, int(cc["ece_bins"])),
        "baselines": {
            "recency": naive["recency"],
            "rfm_logistic": naive["rfm_logistic"],
            "lightgbm_rfm": M.auc(y, predict_rfm_gbm(model.rfm_gbm, Xh, cfg)),
        },
        "naive_rule": {"name": best_name, "auc": naive[best_name], "all": naive},
        "auc_gain": gain,
        "grade": grade(gain, cc["grade_thresholds"]),
        "best_params": dict(point),
        "best_iteration": int(booster.num_trees()),
        "calibration": calibrator.method,
        "drift": drift,
        "horizon_months": h,
        "train_seconds": round(time.perf_counter() - t0, 1),
    }
    model.validation = pd.DataFrame(
        {
            "snapshot_date": frames.dh.to_numpy(),
            "y_true": y,
            "p": p,
            "p_raw": p_raw,
            "recency": rec,
            "rfm_logistic": rfm,
        },
        index=Xh.index,
    )
    log.info(
        "churn: holdout AUC %.4f (best naive %s %.4f), ECE %.4f, grade %s",
        rep["auc"],
        best_name,
        naive[best_name],
        rep["ece"],
        model.metrics["grade"],
    )
    return model
