"""The lead-conversion model: LightGBM on weekly point-in-time snapshots of open leads.

Rows are (lead, date) pairs: every lead open at a snapshot date, with the features known then
and the label "won within ``label_months``". The latest ``validation_months`` of snapshot
dates are the out-of-time fold; leads seen there are dropped from training. Half of the fold's
leads (by lead) tune the early stopping and the calibration, the other half measure the model
against a naive rule (the source's past conversion rate). Saved as JSON, no pickle.
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

from cvm.config import CvmError, load_config
from cvm.data.ids import DAYS_PER_MONTH
from cvm.leads.features import CATEGORICAL, LeadData, feature_names, prepare, training_rows
from cvm.leads.grades import grade, grade_table
from cvm.models import metrics as M
from cvm.models import trainer
from cvm.models.calibration import Calibrator

log = logging.getLogger(__name__)


@dataclass
class LeadModel:
    """A fitted lead model: booster, calibrator, columns and categories it expects."""

    booster: lgb.Booster
    calibrator: Calibrator
    feature_names: list[str]
    categories: dict[str, list[str]]
    num_threads: int = 1
    metrics: dict[str, Any] = field(default_factory=dict)
    validation: pd.DataFrame | None = None

    def prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        """X restricted and ordered to the model's columns, categories aligned."""
        out = X.reindex(columns=self.feature_names)
        for col in self.feature_names:
            if col in self.categories:
                out[col] = pd.Categorical(
                    out[col].astype("object"), categories=self.categories[col]
                )
            else:
                out[col] = pd.to_numeric(out[col], errors="coerce").astype(np.float32)
        return out

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        if len(X) == 0:
            return np.zeros(0)
        return np.asarray(
            self.booster.predict(self.prepare(X), num_threads=self.num_threads), float
        )

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated P(won within the label window) per row."""
        return np.clip(self.calibrator(self.predict_raw(X)), 0.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "booster": self.booster.model_to_string(),
            "calibrator": self.calibrator.to_dict(),
            "feature_names": list(self.feature_names),
            "categories": {k: list(v) for k, v in self.categories.items()},
            "metrics": self.metrics,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LeadModel:
        return cls(
            lgb.Booster(model_str=d["booster"]),
            Calibrator.from_dict(d["calibrator"]),
            list(d["feature_names"]),
            {k: list(v) for k, v in d["categories"].items()},
            metrics=d.get("metrics", {}),
        )


def leads_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """``configs/leads.yaml`` with overrides merged in."""
    return load_config("leads", overrides)


def _params(cfg: Mapping[str, Any], point: Mapping[str, Any], seed: int) -> dict[str, Any]:
    return trainer.booster_params(
        "binary",
        seed=seed,
        num_threads=int(cfg["num_threads"]),
        extra={"metric": "binary_logloss", "force_col_wise": True},
        point=point,
    )


def source_rate(train: pd.DataFrame, X: pd.DataFrame) -> np.ndarray:
    """Naive rule: the conversion rate of the lead's source in the training rows."""
    rate = train.groupby("source", observed=True)["y"].mean()
    return X["source"].astype("object").map(rate).fillna(train["y"].mean()).to_numpy(dtype=float)


def split_fold(
    rows: pd.DataFrame, cfg: dict[str, Any], seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(train, tune, holdout): out-of-time by snapshot date, tune/holdout by lead."""
    cut = rows["snapshot_day"].max() - float(cfg["validation_months"]) * DAYS_PER_MONTH
    valid = rows[rows["snapshot_day"] > cut]
    train = rows[(rows["snapshot_day"] <= cut) & ~rows.index.isin(valid.index.unique())]
    leads = np.sort(valid.index.unique().to_numpy().astype(str))
    rng = np.random.default_rng([seed, 11])
    tune_ids = set(leads[rng.random(len(leads)) < float(cfg["calibration_share"])])
    is_tune = valid.index.isin(list(tune_ids))
    return train, valid[is_tune], valid[~is_tune]


def train_leads(
    tables: dict[str, pd.DataFrame] | LeadData, as_of, cfg: dict | None = None, seed: int = 0
) -> LeadModel:
    """Train, calibrate and evaluate the lead model on snapshots before ``as_of``."""
    cfg = cfg or leads_config()
    t0 = time.perf_counter()
    data = tables if isinstance(tables, LeadData) else prepare(tables)
    rows = training_rows(data, as_of, cfg)
    if rows.empty:
        raise CvmError(
            "no lead was open at any training date: the leads history is too short "
            f"(needs more than {cfg['label_months']} months before the as-of date)"
        )
    train, tune, hold = split_fold(rows, cfg, seed)
    for name, part in (("training", train), ("tuning", tune), ("holdout", hold)):
        if part["y"].nunique() < 2:
            raise CvmError(
                f"lead outcomes have a single class in the {name} rows; "
                "too few leads to learn conversion"
            )
    feats = feature_names(rows)
    cats = {c: list(rows[c].cat.categories) for c in CATEGORICAL if c in feats}
    log.info("leads: %d training rows, %d tuning, %d holdout", len(train), len(tune), len(hold))
    dtrain = trainer.dataset(train[feats], train["y"].to_numpy(), pre_filter=False)
    dtune = trainer.dataset(tune[feats], tune["y"].to_numpy(), reference=dtrain)
    threads = int(cfg["num_threads"])
    best = trainer.tune(
        cfg["tuning"],
        lambda point: _params(cfg, point, seed),
        dtrain,
        dtune,
        tune[feats],
        lambda p: M.auc(tune["y"], p),
        rounds=int(cfg["num_boost_round"]),
        early_stopping_rounds=int(cfg["early_stopping_rounds"]),
        num_threads=threads,
        name="leads",
    )
    booster, point = best.booster, best.point
    model = LeadModel(booster, Calibrator(), feats, cats, int(cfg["num_threads"]))
    model.calibrator = Calibrator.fit(
        model.predict_raw(tune), tune["y"].to_numpy(), cfg["calibration"]
    )
    p = model.predict_proba(hold)
    y = hold["y"].to_numpy()
    naive = source_rate(train, hold)
    grades = grade(p, cfg["grades"])
    gt = grade_table(y, grades)
    model.metrics = {
        **M.classification_report(y, p),
        "n_train": len(train),
        "n_tune": len(tune),
        "n_holdout": len(hold),
        "n_holdout_leads": int(hold.index.nunique()),
        "baselines": {"source_rate": M.auc(y, naive)},
        "grades": gt.to_dict(orient="index"),
        "a_to_c_ratio": _ratio(gt),
        "followup_events": data.has_followups,
        "best_params": dict(point),
        "best_iteration": int(booster.num_trees()),
        "label_months": float(cfg["label_months"]),
        "train_seconds": round(time.perf_counter() - t0, 1),
    }
    model.validation = pd.DataFrame(
        {
            "snapshot_day": hold["snapshot_day"].to_numpy(),
            "y_true": y,
            "p": p,
            "source_rate": naive,
            "grade": grades,
        },
        index=hold.index,
    )
    log.info(
        "leads: holdout AUC %.4f (source rate %.4f), A/C conversion ratio %.2f",
        model.metrics["auc"],
        model.metrics["baselines"]["source_rate"],
        model.metrics["a_to_c_ratio"] or float("nan"),
    )
    return model


def _ratio(gt: pd.DataFrame) -> float | None:
    if "A" not in gt.index or "C" not in gt.index or not gt.loc["C", "conversion"] > 0:
        return None
    return float(gt.loc["A", "conversion"] / gt.loc["C", "conversion"])
