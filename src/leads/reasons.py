"""Reason codes for lead scores: the features that raise a lead's conversion most, in words."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvm.models.explain import BIAS


def sentence(feature: str, value: object, lang: str) -> str:
    """The reason sentence of one lead feature; codes (the lead source) shown in words."""
    from cvm.i18n import TEXT, label, t, words

    if feature == "source":
        value = label("source", value, lang)
    key = f"lead_reason_{feature}"
    if key not in TEXT:  # a store's own lead column: its name in words
        key = "lead_reason_other"
    try:
        return t(key, lang, v=value, name=words(feature))
    except (ValueError, TypeError):
        return f"{words(feature)}: {value}"


def lead_reasons(contribs: pd.DataFrame, X: pd.DataFrame, lang: str, top_k: int) -> pd.Series:
    """Per lead, the ``top_k`` known features with the largest positive contribution, joined by '; '."""
    feats = [c for c in contribs.columns if c != BIAS]
    C = contribs[feats].to_numpy(dtype=float, copy=True)
    for j, f in enumerate(feats):
        if f in X.columns:
            C[X[f].isna().to_numpy(), j] = -np.inf
        if f == "test_drive" and f in X.columns:
            C[(X[f] != 1).to_numpy(), j] = -np.inf
    C[~(C > 0)] = -np.inf
    top = np.argsort(-C, axis=1, kind="stable")[:, :top_k]
    # values column by column (``X.iloc[i]`` per row cost a minute for 27,000 open leads)
    cols = {
        f: (X[f].to_numpy(dtype=object) if f in X.columns else np.full(len(X), None)) for f in feats
    }
    out = []
    for i in range(len(C)):
        words = [
            sentence(feats[j], cols[feats[j]][i], lang) for j in top[i] if np.isfinite(C[i, j])
        ]
        out.append("; ".join(words))
    return pd.Series(out, index=contribs.index, name="reasons", dtype=object)
