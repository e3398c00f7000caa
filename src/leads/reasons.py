"""Reason codes for lead scores: the features that raise a lead's conversion most, in words."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvm.models.explain import BIAS

TEXT: dict[str, tuple[str, str]] = {
    "age_days": ("首次接触后 {v:.0f} 天", "{v:.0f} days since first contact"),
    "budget": ("预算 {v:,.0f} 元", "budget {v:,.0f} CNY"),
    "model_price": ("意向车型成交均价 {v:,.0f} 元", "model's typical price {v:,.0f} CNY"),
    "budget_gap": ("预算与车价差 {v:+.0%}", "budget vs price {v:+.0%}"),
    "abs_budget_gap": ("预算与车价偏差 {v:.0%}", "budget off the price by {v:.0%}"),
    "test_drive": ("已试驾", "took a test drive"),
    "days_since_test_drive": ("{v:.0f} 天前试驾", "test drive {v:.0f} days ago"),
    "followups": ("已跟进 {v:.0f} 次", "{v:.0f} follow-ups so far"),
    "days_since_last_followup": ("{v:.0f} 天前最近跟进", "last follow-up {v:.0f} days ago"),
    "followups_per_30d": ("每月跟进 {v:.1f} 次", "{v:.1f} follow-ups a month"),
    "source": ("线索来源:{v}", "source: {v}"),
    "model_of_interest": ("意向车型:{v}", "model of interest: {v}"),
}


def sentence(feature: str, value: object, lang: str) -> str:
    """The reason sentence of one lead feature; codes (the lead source) shown in words."""
    from cvm.i18n import label, words

    if feature == "source":
        value = label("source", value, lang)
    zh, en = TEXT.get(feature, (f"{words(feature)}:{{v}}", f"{words(feature)}: {{v}}"))
    try:
        return (zh if lang == "zh" else en).format(v=value)
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
