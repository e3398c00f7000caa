"""Explanations: per-customer SHAP contributions, reason sentences, global importance.

Contributions come from LightGBM's exact TreeSHAP (``pred_contrib``), in the model's raw
log-odds space, computed in chunks so a million customers fit in memory. Reason codes keep
only features that push risk *up* and whose value is known, worded by the feature registry.
The global plots (``cvm.reporting.plots``) take a sample: explaining every customer is not needed there.
"""

from __future__ import annotations

import logging

import lightgbm as lgb
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from cvm.features.registry import describe

log = logging.getLogger(__name__)

BIAS = "bias"
CHUNK_ROWS = 200_000
"""Rows per pred_contrib call: bounds the float64 buffer LightGBM allocates."""


def contributions(booster: lgb.Booster, X: pd.DataFrame, num_threads: int = 1) -> pd.DataFrame:
    """SHAP contributions (raw score units) per row and feature, plus the ``bias`` column."""
    names = booster.feature_name()
    X = X.reindex(columns=names)
    for col in X.columns:  # text columns (e.g. after a CSV round trip) back to categories
        if not (
            pd.api.types.is_numeric_dtype(X[col])
            or pd.api.types.is_bool_dtype(X[col])
            or isinstance(X[col].dtype, pd.CategoricalDtype)
        ):
            X[col] = X[col].astype("object").astype("category")
    parts = []
    starts = range(0, max(len(X), 1), CHUNK_ROWS)
    for s in tqdm(starts, desc="contributions", leave=False, disable=len(starts) < 2):
        chunk = X.iloc[s : s + CHUNK_ROWS]
        parts.append(
            np.asarray(
                booster.predict(chunk, pred_contrib=True, num_threads=num_threads), dtype=np.float32
            )
        )
    arr = np.vstack(parts) if parts else np.zeros((0, len(names) + 1), np.float32)
    return pd.DataFrame(arr[: len(X)], index=X.index, columns=[*names, BIAS])


def reason_codes(contribs: pd.DataFrame, X: pd.DataFrame, lang: str, top_k: int) -> pd.DataFrame:
    """Top ``top_k`` risk-raising features per row as sentences (``reason_1`` …) and names.

    Features with a non-positive contribution or an unknown value are never given as reasons;
    rows with fewer such features get empty (None) reasons.
    """
    feats = [c for c in contribs.columns if c != BIAS]
    C = contribs[feats].to_numpy(dtype=np.float64, copy=True)
    for j, f in enumerate(feats):
        if f in X.columns:
            C[X[f].isna().to_numpy(dtype=bool), j] = -np.inf
    C[~(C > 0)] = -np.inf
    k = min(top_k, len(feats))
    top = np.argsort(-C, axis=1, kind="stable")[:, :k]
    rows = np.arange(len(C))[:, None]
    valid = np.isfinite(C[rows, top])
    out: dict[str, np.ndarray] = {}
    for r in range(k):
        sentence = np.full(len(C), None, dtype=object)
        name = np.full(len(C), None, dtype=object)
        for j in np.unique(top[valid[:, r], r]):
            m = valid[:, r] & (top[:, r] == j)
            f = feats[j]
            vals = X[f].to_numpy()[m] if f in X.columns else np.full(m.sum(), np.nan)
            sentence[m] = [describe(f, v, lang) for v in vals]
            name[m] = f
        out[f"reason_{r + 1}"] = sentence
        out[f"reason_{r + 1}_feature"] = name
    cols = [f"reason_{r + 1}" for r in range(k)] + [f"reason_{r + 1}_feature" for r in range(k)]
    return pd.DataFrame(out, index=contribs.index)[cols]


def importance(contribs: pd.DataFrame) -> pd.Series:
    """Mean |contribution| per feature, largest first (global importance)."""
    return contribs.drop(columns=BIAS, errors="ignore").abs().mean().sort_values(ascending=False)


def explanation(contribs: pd.DataFrame, X: pd.DataFrame):
    """A ``shap.Explanation`` from contributions (categoricals shown by their codes)."""
    import shap

    feats = [c for c in contribs.columns if c != BIAS]
    data = X.reindex(index=contribs.index, columns=feats).copy()
    for c in feats:
        if isinstance(data[c].dtype, pd.CategoricalDtype):
            data[c] = data[c].cat.codes.astype(float).where(data[c].notna())
    return shap.Explanation(
        values=contribs[feats].to_numpy(dtype=float),
        base_values=contribs[BIAS].to_numpy(dtype=float),
        data=data.to_numpy(dtype=float),
        feature_names=feats,
    )
