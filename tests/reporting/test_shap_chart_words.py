"""shap's beeswarm draws English words; the Chinese report shows them in Chinese once drawn."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cvm.i18n import t
from cvm.reporting.plots import plot_beeswarm
from cvm.reporting.report import _translate_texts


def _drawn_texts(fig) -> set[str]:
    fig.canvas.draw()  # tick labels are set again from their formatters here
    return {x.get_text() for x in fig.findobj(matplotlib.text.Text) if x.get_text()}


def test_beeswarm_words_are_chinese_after_drawing() -> None:
    rng = np.random.default_rng(0)
    cols = [f"特征{i}" for i in range(20)]
    X = pd.DataFrame(rng.normal(size=(200, 20)), columns=cols)
    sv = pd.DataFrame(rng.normal(size=(200, 20)) * np.linspace(2, 0.1, 20), columns=cols)
    sv["bias"] = 0.0  # the SHAP frames carry the base value (cvm.models.explain)
    fig, ax = plt.subplots()
    plot_beeswarm(sv, X, max_display=5, ax=ax, seed=0)
    before = _drawn_texts(fig)
    assert {"High", "Low", "Sum of 16 other features"} <= before  # shap's own words
    keys = ("shap_feature_value", "shap_high", "shap_low", "shap_value_axis")
    _translate_texts(fig, {t(k, "en"): t(k, "zh") for k in keys})
    after = _drawn_texts(fig)
    plt.close(fig)
    assert not {"High", "Low", "Feature value", "Sum of 16 other features"} & after
    assert {t("shap_high", "zh"), t("shap_low", "zh")} <= after
    assert t("shap_other_features", "zh", n="16") in after
