"""Naive churn baselines the model must beat: recency alone, and an RFM logistic regression.

Both read columns of ``build_features`` output, so they work on visits-only data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression


def recency_score(X: pd.DataFrame) -> np.ndarray:
    """Months since the last paid visit (never paid: months since the first visit); higher = riskier."""
    r = X["months_since_last_paid_visit"].to_numpy(dtype=float)
    return np.where(np.isnan(r), X["tenure_months"].to_numpy(dtype=float), r)


def at_risk_rule(X: pd.DataFrame, months: float) -> np.ndarray:
    """The common rule of thumb: 1 when no visit in the last ``months`` months."""
    return (X["months_since_last_visit"].to_numpy(dtype=float) > months).astype(float)


def _rfm(X: pd.DataFrame) -> np.ndarray:
    rec = recency_score(X)
    freq = (
        X["n_paid_visits_24m"].to_numpy(dtype=float)
        if "n_paid_visits_24m" in X
        else X["n_paid_visits_total"].to_numpy(dtype=float)
    )
    mon = (
        X["paid_spend_24m"].to_numpy(dtype=float)
        if "paid_spend_24m" in X
        else X["paid_spend_total"].to_numpy(dtype=float)
    )
    return np.nan_to_num(np.column_stack([np.log1p(rec), np.log1p(freq), np.log1p(mon)]))


@dataclass
class RfmLogistic:
    """Logistic regression on log recency, frequency and monetary value (standardized)."""

    mean: np.ndarray = field(default_factory=lambda: np.zeros(3))
    scale: np.ndarray = field(default_factory=lambda: np.ones(3))
    coef: np.ndarray = field(default_factory=lambda: np.zeros(3))
    intercept: float = 0.0

    def fit(self, X: pd.DataFrame, y) -> RfmLogistic:
        z = _rfm(X)
        self.mean, self.scale = z.mean(0), z.std(0) + 1e-9
        lr = LogisticRegression(max_iter=1000).fit((z - self.mean) / self.scale, np.asarray(y))
        self.coef, self.intercept = lr.coef_[0], float(lr.intercept_[0])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """P(churn) for each row of X."""
        s = ((_rfm(X) - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-s))

    def to_dict(self) -> dict:
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, d: dict) -> RfmLogistic:
        return cls(
            np.asarray(d["mean"]),
            np.asarray(d["scale"]),
            np.asarray(d["coef"]),
            float(d["intercept"]),
        )


def _gbm_cfg(cfg: dict) -> dict:
    """``baselines.lightgbm_rfm`` of the run's settings (else configs/default.yaml's)."""
    from cvm.config import load_config

    return (cfg.get("baselines") or load_config()["baselines"])["lightgbm_rfm"]


def rfm_gbm_columns(cfg: dict) -> list[str]:
    """The columns of the ``lightgbm_rfm`` baselines (``baselines.lightgbm_rfm.columns``)."""
    return list(_gbm_cfg(cfg)["columns"])


def fit_rfm_gbm(
    X: pd.DataFrame,
    y: np.ndarray,
    objective: str,
    cfg: dict,
    Xv: pd.DataFrame | None = None,
    yv: np.ndarray | None = None,
):
    """LightGBM on recency, frequency, monetary value and tenure only (``baselines.lightgbm_rfm``):
    the baseline that shows what the rest of the features add. Early-stopped on (Xv, yv)."""
    import lightgbm as lgb

    b = _gbm_cfg(cfg)
    cols = [c for c in rfm_gbm_columns(cfg) if c in X.columns]  # a challenger may drop some
    params = {**b["params"], "objective": objective}
    if objective == "tweedie":
        params["tweedie_variance_power"] = float(b["tweedie_variance_power"])
    train = lgb.Dataset(X[cols], np.asarray(y, float), free_raw_data=False)
    if Xv is None:
        return lgb.train(params, train, num_boost_round=int(b["num_boost_round"]))
    valid = lgb.Dataset(Xv[cols], np.asarray(yv, float), reference=train)
    return lgb.train(
        params,
        train,
        num_boost_round=int(b["num_boost_round"]),
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(int(b["early_stopping_rounds"]), verbose=False)],
    )


def predict_rfm_gbm(booster, X: pd.DataFrame, cfg: dict) -> np.ndarray:
    """The ``lightgbm_rfm`` baseline's prediction for the rows of X."""
    return np.asarray(booster.predict(X[booster.feature_name()]), dtype=float)
