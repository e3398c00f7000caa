"""Explanations: contributions add up, reasons only push risk up, plots return Axes."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from cvm.config import load_config
from cvm.features.labels import churn_labels
from cvm.features.snapshot import build_features
from cvm.models import explain
from cvm.reporting import plots
from support.toy import toy_tables


@pytest.fixture(scope="module")
def fitted() -> tuple[lgb.Booster, pd.DataFrame]:
    cfg = load_config()
    t = toy_tables(300, seed=4)
    X = build_features(t, "2023-06-30", cfg)
    y = churn_labels(t["visits"], "2023-06-30", 12, cfg)
    X = X.loc[y.index]
    b = lgb.train(
        {
            "objective": "binary",
            "verbosity": -1,
            "num_threads": 1,
            "seed": 0,
            "min_data_in_leaf": 10,
        },
        lgb.Dataset(X, y.to_numpy()),
        num_boost_round=20,
    )
    return b, X


def test_contributions_sum_to_raw_score(fitted) -> None:
    b, X = fitted
    c = explain.contributions(b, X)
    assert list(c.columns[-1:]) == ["bias"] and (c.index == X.index).all()
    raw = b.predict(X, raw_score=True)
    np.testing.assert_allclose(c.sum(axis=1).to_numpy(), raw, atol=1e-4)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_reason_codes_push_risk_up(fitted, lang: str) -> None:
    b, X = fitted
    c = explain.contributions(b, X)
    r = explain.reason_codes(c, X, lang=lang, top_k=3)
    assert list(r.columns[:3]) == ["reason_1", "reason_2", "reason_3"]
    for idx in r.index[:50]:
        for k in (1, 2, 3):
            f = r.at[idx, f"reason_{k}_feature"]
            if pd.notna(f):
                assert c.at[idx, f] > 0 and pd.notna(X.at[idx, f])
                assert isinstance(r.at[idx, f"reason_{k}"], str)
    s = r["reason_1"].dropna()
    assert len(s) > 0
    if lang == "zh":
        assert s.str.contains(r"[\u4e00-\u9fff]").all()
    else:
        assert not s.str.contains(r"[\u4e00-\u9fff]").any()


def test_reasons_ordered_by_contribution() -> None:
    c = pd.DataFrame(
        {"tenure_months": [0.5, -1.0], "months_since_last_visit": [1.0, 0.2], "bias": [0.0, 0.0]},
        index=["a", "b"],
    )
    X = pd.DataFrame(
        {"tenure_months": [30.0, 5.0], "months_since_last_visit": [9.0, 1.0]}, index=["a", "b"]
    )
    r = explain.reason_codes(c, X, lang="en", top_k=2)
    assert r.loc["a", "reason_1"] == "9 months since the last visit"
    assert r.loc["a", "reason_2"] == "customer for 30 months"
    assert r.loc["b", "reason_1"] == "1 months since the last visit"
    assert pd.isna(r.loc["b", "reason_2"])


def test_plots_return_axes(fitted) -> None:
    import matplotlib.pyplot as plt

    b, X = fitted
    xs = X.iloc[:100]
    c = explain.contributions(b, xs)
    for ax in (
        plots.plot_importance(c),
        plots.plot_beeswarm(c, xs, seed=1),
        plots.plot_dependence(c, xs, "months_since_last_visit"),
    ):
        assert isinstance(ax, plt.Axes)
    plt.close("all")


def test_beeswarm_draws_the_same_png_for_the_same_seed(fitted) -> None:
    """shap shuffles and jitters the dots with numpy's global state: seeded, a re-run's
    chart is byte-identical (the report's determinism), and the caller's state is kept."""
    import numpy as np

    b, X = fitted
    xs = X.iloc[:200]
    c = explain.contributions(b, xs)

    def png(seed: int) -> str:
        return plots.fig_to_img(plots.plot_beeswarm(c, xs, seed=seed))

    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    first = png(7)
    assert np.random.random() == before  # the global state is restored
    assert png(7) == first
    assert png(8) != first
