"""The baselines of issue 15: the recency/frequency heuristic (hand-computed), BG/NBD's
P(no paid visit) and LightGBM on R, F, M and tenure only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvm.config import load_config
from cvm.models.baselines import fit_rfm_gbm, predict_rfm_gbm, rfm_gbm_columns
from cvm.models.btyd import bgnbd_no_purchase, recency_frequency


def _visits() -> pd.DataFrame:
    rows = [  # customer, date, amount
        ("A", "2023-02-01", 100),
        ("A", "2023-11-01", 300),
        ("A", "2024-05-01", 500),
        ("B", "2023-03-01", 200),
        ("B", "2023-12-01", 400),  # recent a year ago, not since
        ("C", "2022-01-01", 900),  # long gone
        ("D", "2023-10-01", 50),
        ("D", "2024-06-15", 150),
    ]
    return pd.DataFrame(rows, columns=["customer_id", "visit_date", "amount"]).assign(
        visit_date=lambda d: pd.to_datetime(d["visit_date"])
    )


def test_recency_frequency_is_the_documented_one_line_heuristic():
    cfg = load_config()
    p = recency_frequency(_visits(), "2024-06-30", 6, cfg)
    # 6 months earlier (2023-12-31): A (last paid 2023-11, bin 0-3 m), B (2023-12, 0-3 m) and
    # D (2023-10, 0-3 m) in one bin, of whom A and D came back in the 6 months: rate 2/3.
    # Now: A last paid 2024-05 (bin 0-3 m), 12-month spend 300 + 500 = 800
    assert np.isclose(p["A"], 800 * 6 / 12 * 2 / 3)
    assert np.isclose(p["D"], 200 * 6 / 12 * 2 / 3)
    # C: no paid spend in the last 12 months
    assert p["C"] == 0.0
    # B: last paid 2023-12 (6-9 m): nobody was in that bin a half-year earlier -> 0
    assert p["B"] == 0.0


def test_bgnbd_p_no_purchase_is_a_probability_ranking_the_gone_riskier():
    rng = np.random.default_rng(3)
    rows = []
    for i in range(400):
        k = rng.integers(1, 8)
        last = 700 if i % 2 else 100  # half last came long ago
        for d in np.sort(rng.integers(0, last, k)):
            rows.append((f"C{i}", pd.Timestamp("2022-01-01") + pd.Timedelta(days=int(d)), 300.0))
    v = pd.DataFrame(rows, columns=["customer_id", "visit_date", "amount"])
    p = bgnbd_no_purchase(v, "2024-01-31", 12, load_config())
    assert p.between(0, 1).all()
    gone = p[[f"C{i}" for i in range(0, 400, 2)]].mean()
    recent = p[[f"C{i}" for i in range(1, 400, 2)]].mean()
    assert gone > recent + 0.1


def test_lightgbm_rfm_reads_only_its_columns():
    cfg = load_config()
    cols = rfm_gbm_columns(cfg)
    assert cols == [
        "months_since_last_paid_visit",
        "n_paid_visits_total",
        "paid_spend_total",
        "tenure_months",
    ]
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.random((2000, 4)) * 10, columns=cols).assign(noise=rng.random(2000))
    y = (X["months_since_last_paid_visit"] > 5).astype(float).to_numpy()
    b = fit_rfm_gbm(X, y, "binary", cfg)
    assert b.feature_name() == cols
    p = predict_rfm_gbm(b, X.assign(noise=0.0), cfg)
    assert p[y == 1].mean() > p[y == 0].mean() + 0.5
