"""Shared metrics: known values on tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest

from cvm.models import metrics as m


def test_classification_metrics() -> None:
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    assert m.auc(y, p) == pytest.approx(0.75)
    assert m.brier(y, p) == pytest.approx(np.mean((p - y) ** 2))
    assert m.pr_auc(y, p) == pytest.approx(0.8333, abs=1e-3)
    assert np.isnan(m.auc([1, 1], [0.2, 0.3]))


def test_ece_and_calibration_table() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(size=200_000)
    y = (rng.uniform(size=p.size) < p).astype(float)
    assert m.ece(y, p) < 0.01
    assert m.ece(y, np.clip(p + 0.2, 0, 1)) > 0.1
    t = m.calibration_table(y, p, bins=5)
    assert len(t) == 5 and t["n"].sum() == p.size


def test_top_decile_lift() -> None:
    y = np.r_[np.ones(10), np.zeros(90)]
    p = np.r_[np.ones(10), np.zeros(90)]
    assert m.top_decile_lift(y, p) == pytest.approx(10.0)


def test_normalized_gini() -> None:
    y = np.array([0.0, 0.0, 10.0, 30.0, 60.0])
    assert m.normalized_gini(y, y) == pytest.approx(1.0)
    assert m.normalized_gini(y, y * 2 + 1) == pytest.approx(1.0)
    # a constant prediction = random order on average = Gini 0
    assert m.normalized_gini(y, np.zeros(5)) == pytest.approx(0.0)
    assert m.normalized_gini(y, -y) < 0
    g = m.gain_curve(y, y)
    assert g["share_value"].iloc[-1] == pytest.approx(1.0)


def test_excess_ratio_and_bootstrap_intervals() -> None:
    from cvm.models.metrics import bootstrap_ci, excess_ratio

    assert excess_ratio(0.75, 1.0) == pytest.approx(0.5)
    assert excess_ratio(0.5, 0.9) == 0.0
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 4000)
    p = y + rng.normal(0, 1.5, 4000)
    est = m.auc(y, p)
    lo, hi = bootstrap_ci(m.auc, (y, p), 200, 0.95, 1)
    assert lo < est < hi and hi - lo < 0.06
    # resamples of fewer rows, spread scaled back: about the same interval
    lo2, hi2 = bootstrap_ci(m.auc, (y, p), 200, 0.95, 1, max_rows=1000)
    assert lo2 < est < hi2 and abs((hi2 - lo2) - (hi - lo)) < 0.4 * (hi - lo)
    # a constant score has no spread; a single row has no interval
    assert bootstrap_ci(m.auc, (y[:1], p[:1]), 50, 0.95, 1) is None
