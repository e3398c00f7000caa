"""The level across successive out-of-time folds (cvm.models.drift): it corrects a known drift
and leaves the level alone when there is none."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.config import CvmError
from cvm.models.calibration import Calibrator
from cvm.models.drift import fold_level, fold_shift, intercept_shift


def _folds(ratio_at, n=4000, months=(12, 15, 18, 21, 24, 27), seed=0):
    """Rows of six folds (months back from the as-of date): heavy-tailed realized values whose
    expectation is ``ratio_at(months_back) x`` the raw prediction."""
    rng = np.random.default_rng(seed)
    ys, ps, ms = [], [], []
    for m in months:
        p = rng.gamma(0.8, 500.0, n)
        y = ratio_at(m) * p * rng.gamma(2.0, 0.5, n)  # mean 1, noisy
        ys.append(y), ps.append(p), ms.append(np.full(n, float(m)))
    return np.concatenate(ys), np.concatenate(ps), np.concatenate(ms)


def test_no_drift_is_a_no_op():
    y, p, m = _folds(lambda m: 1.10)
    for method in ("latest", "pooled", "trend"):
        lv = fold_level(y, p, m, method, 12.0, 2.0)
        assert lv.scale == pytest.approx(1.10, rel=0.03), method
    lv = fold_level(y, p, m, "trend", 12.0, 2.0)
    assert abs(lv.slope_t) < 2.5 and abs(lv.slope_used_per_year) < 0.05
    assert lv.scale == pytest.approx(lv.pooled, rel=0.02)  # no trend: the pooled level


def test_trend_corrects_a_known_drift():
    # the ratio falls 10 % a year: 1.2 two years back ... 1.0 at the as-of date (0 months)
    truth = lambda m: 1.0 + 0.1 * m / 12.0  # noqa: E731
    y, p, m = _folds(truth, n=20000)
    lv = fold_level(y, p, m, "trend", 12.0, 2.0)
    latest = fold_level(y, p, m, "latest", 12.0, 2.0)
    assert latest.scale == pytest.approx(truth(12), rel=0.02)  # the single fold is a year stale
    assert lv.slope_t < -3
    assert abs(lv.scale - 1.0) < 0.5 * abs(latest.scale - 1.0)  # most of the drift corrected
    assert lv.scale == pytest.approx(1.0, abs=0.05)


def test_latest_uses_the_latest_fold_only_and_bad_method_is_refused():
    y, p, m = _folds(lambda m: 1.3 if m == 12 else 0.7)
    assert fold_level(y, p, m, "latest", 12.0, 2.0).scale == pytest.approx(1.3, rel=0.03)
    with pytest.raises(CvmError, match="value.drift.method"):
        fold_level(y, p, m, "newest", 12.0, 2.0)


def test_value_scale_is_the_realized_total_of_every_customer_at_the_latest_fold():
    """The adopted rule (value.drift: latest, all; baseline: as_observed) on toy tables: the
    scale is the realized / raw-predicted margin of every customer at the out-of-time date."""
    from cvm.config import load_config
    from cvm.features.margin import future_margin
    from cvm.features.training import training_frame
    from cvm.models.value import train_value
    from support.toy import toy_tables

    toy = toy_tables(250, seed=3)
    over = {
        "training": {"max_snapshots": 3},
        "value": {"num_boost_round": 60, "params": {"min_data_in_leaf": 20}},
    }
    cfg = load_config(overrides=over)
    m = train_value(toy, "2024-12-31", cfg)
    assert m.metrics["calibration_target"] == "as_observed"
    assert m.metrics["drift"]["method"] == "latest" and m.scale == m.metrics["drift"]["scale"]
    fold = max(pd.Timestamp(d) for d in m.metrics["snapshots"])
    X, y, _ = training_frame(toy, [fold], 12, cfg, future_margin)
    raw = m.boosters[0].predict(X[m.feature_names])
    assert m.scale == pytest.approx(float(y.sum() / raw.sum()), rel=1e-9)
    # held-out rows and the latest fold: the single-fold rule, no fold rows
    single = train_value(
        toy,
        "2024-12-31",
        load_config(overrides={**over, "value": {**over["value"], "drift": {"rows": "held_out"}}}),
    )
    assert single.metrics["drift"] is None


# ------------------------------------------------------------ churn: the logit shift
def _churn_folds(shift_at, n=6000, months=(12, 15, 18, 21, 24, 27), seed=0):
    """Calibrated probabilities p and labels drawn at sigmoid(logit p + shift_at(months back))."""
    rng = np.random.default_rng(seed)
    ys, ps, ms = [], [], []
    for m in months:
        p = rng.beta(2.0, 4.0, n)
        z = np.log(p / (1 - p)) + shift_at(m)
        ys.append((rng.random(n) < 1 / (1 + np.exp(-z))).astype(float))
        ps.append(p), ms.append(np.full(n, float(m)))
    return np.concatenate(ys), np.concatenate(ps), np.concatenate(ms)


def test_intercept_shift_matches_the_mean():
    rng = np.random.default_rng(1)
    p = rng.beta(2.0, 5.0, 5000)
    y = (rng.random(5000) < 0.4).astype(float)
    d, var = intercept_shift(y, p)
    q = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + d)))
    assert q.sum() == pytest.approx(y.sum(), rel=1e-9) and 0 < var < 1
    assert np.isnan(intercept_shift(np.zeros(10), p[:10])[0])


def test_churn_shift_removes_a_known_drift():
    # the calibrated model's logit falls behind by 0.4 a year: 0.4 at the latest fold (12
    # months back, where it was calibrated 0.4 too low) ... 0.8 at the as-of date
    truth = lambda m: 0.8 - 0.4 * m / 12.0 + 0.4  # noqa: E731
    y, p, m = _churn_folds(truth, n=20000)
    for method, want in (("trend", truth(0)), ("anchored", truth(0)), ("level", None)):
        lv = fold_shift(y, p, m, method, 12.0, 2.0)
        assert lv.slope_per_year == pytest.approx(0.4, abs=0.08) and lv.slope_t > 4
        if want is not None:
            assert lv.shift == pytest.approx(want, abs=0.1), method
    # the shift applied to the as-of probabilities removes the drift there
    y0, p0, m0 = _churn_folds(lambda m: truth(0), months=(0,), n=50000, seed=3)
    cal = Calibrator("identity").shifted(fold_shift(y, p, m, "trend", 12.0, 2.0).shift)
    before, after = p0.mean() - y0.mean(), cal(p0).mean() - y0.mean()
    assert abs(after) < 0.2 * abs(before)


def test_churn_shift_without_drift_and_none_is_a_no_op():
    y, p, m = _churn_folds(lambda m: 0.0)
    for method in ("level", "trend", "anchored"):
        assert abs(fold_shift(y, p, m, method, 12.0, 2.0).shift) < 0.05, method
    none = fold_shift(y, p, m, "none", 12.0, 2.0)
    assert none.shift == 0.0 and len(none.folds) == 6
    cal = Calibrator.fit(p, y, "platt")
    assert cal.shifted(none.shift) is cal  # exactly the calibrator as fitted
    assert "shift" not in cal.to_dict()  # bundles without drift are byte for byte as before
    with pytest.raises(CvmError, match="churn.drift.method"):
        fold_shift(y, p, m, "latest", 12.0, 2.0)


@pytest.mark.parametrize("method", ["isotonic", "platt", "beta"])
def test_shifted_calibrator_round_trips_and_the_bundle_loader_applies_it(method):
    from cvm.models.bundle_loader import calibrate

    rng = np.random.default_rng(0)
    raw = rng.uniform(0.01, 0.99, 500)
    cal = Calibrator.fit(raw, (rng.uniform(size=500) < raw).astype(float), method).shifted(0.3)
    q = np.clip(Calibrator.from_dict(cal.to_dict() | {"shift": 0.0})(raw), 1e-6, 1 - 1e-6)
    np.testing.assert_allclose(cal(raw), 1 / (1 + np.exp(-(np.log(q / (1 - q)) + 0.3))))
    back = Calibrator.from_dict(cal.to_dict())
    np.testing.assert_array_equal(back(raw), cal(raw))
    np.testing.assert_allclose(calibrate(cal.to_dict(), raw), cal(raw), rtol=1e-9)
