"""The feature registry covers every built feature and writes zh/en sentences."""

from __future__ import annotations

import numpy as np
import pytest

from cvm.config import load_config
from cvm.features.registry import describe, lookup
from cvm.features.snapshot import build_features
from support.toy import toy_tables


def test_every_built_feature_is_registered_and_describable() -> None:
    x = build_features(toy_tables(60, seed=1), "2023-06-30", load_config())
    for col in x.columns:
        lookup(col)
        v = x[col].dropna().iloc[0] if x[col].notna().any() else np.nan
        for lang in ("zh", "en"):
            assert isinstance(describe(col, v, lang), str)


def test_sentences_zh_en() -> None:
    assert describe("months_since_last_paid_visit", 14.2, "zh") == "距离上次付费进厂已14个月"
    assert (
        describe("months_since_last_paid_visit", 14.2, "en")
        == "14 months since the last paid visit"
    )
    assert describe("n_paid_visits_12m", 1, "en") == "1 paid visits in the last 12 months"
    assert describe("n_paid_visits_6m", 1, "zh") == "近6个月付费进厂1次"
    assert describe("last_visit_type", "repair", "en") == "last visit was repair"


def test_unknown_feature_and_lang() -> None:
    with pytest.raises(KeyError):
        describe("no_such_feature", 1.0, "en")
    with pytest.raises(ValueError):
        describe("tenure_months", 1.0, "fr")
