"""The per-customer incremental margin learner, its calibration slope, and what a campaign's
value counts (referred sales, insurance renewal commission)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.campaigns.measurement import contact_margin
from cvm.campaigns.uplift_learners import fit_margin_learner, heterogeneity_slope


def _world(n: int = 40000, seed: int = 0, slope: float = 60.0):
    """Two campaigns, 20 % control; true effect a_c + slope * x (CNY), plus outcome noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    X = pd.DataFrame({"x": x, "noise": rng.normal(size=n)})
    camp = rng.choice(["a", "b"], n)
    t = rng.random(n) > 0.2
    tau = np.where(camp == "a", 50.0, 10.0) + slope * x
    y = 300 + 80 * X["noise"].to_numpy() + t * tau + rng.normal(0, 400, n)
    e = pd.Series(t).groupby(camp).transform("mean").to_numpy(float)
    mhat = 300 + 80 * X["noise"].to_numpy()  # a perfect outcome model, for clarity
    return X, y, t, e, camp, mhat, tau


def test_the_margin_learner_recovers_a_shared_slope() -> None:
    X, y, t, e, camp, mhat, tau = _world()
    m = fit_margin_learner(
        X, y - mhat, t, e, camp, ["x", "noise"], [], alpha=10.0, campaign_alpha=1000.0
    )
    pred = m.predict(X, camp)
    assert np.corrcoef(pred, tau)[0, 1] > 0.9
    assert abs(pred[camp == "a"].mean() - 50) < 15 and abs(pred[camp == "b"].mean() - 10) < 15
    # an unknown (custom) campaign gets the shared part only, no error
    assert np.isfinite(m.predict(X.iloc[:5], np.array(["new"] * 5))).all()


def test_the_slope_says_whether_the_spread_is_real() -> None:
    _, y, t, e, _, mhat, tau = _world(seed=1)
    res = y - mhat
    dev = tau - tau.mean()
    beta, se = heterogeneity_slope(dev, res, t, e)
    assert abs(beta - 1.0) < 3 * se and beta - 2 * se > 0  # a calibrated prediction
    beta, se = heterogeneity_slope(2 * dev, res, t, e)
    assert abs(beta - 0.5) < 3 * se  # twice too spread: halved
    noise = np.random.default_rng(5).normal(size=len(y)) * dev.std()
    beta, se = heterogeneity_slope(noise, res, t, e)
    assert abs(beta) < 3 * se  # pure noise: about 0


def test_no_heterogeneity_gives_no_weight() -> None:
    """fit_uplift on a world whose effect is the same for everyone keeps no per-customer part."""
    X, y, t, e, camp, mhat, _ = _world(slope=0.0, seed=2)
    res = y - mhat
    cf = np.zeros(len(y))
    fold = np.arange(len(y)) % 2
    for k in (0, 1):
        m = fit_margin_learner(
            X[fold != k],
            res[fold != k],
            t[fold != k],
            e[fold != k],
            camp[fold != k],
            ["x", "noise"],
            [],
            10.0,
            1000.0,
        )
        cf[fold == k] = m.predict(X[fold == k], camp[fold == k])
    for c in ("a", "b"):  # within each campaign, as fit_uplift measures it
        m = camp == c
        beta, se = heterogeneity_slope(cf[m] - cf[m].mean(), res[m], t[m], e[m])
        assert beta - 1.96 * se <= 0


def test_contact_margin_counts_own_and_referred_sales() -> None:
    contacts = pd.DataFrame(
        {"customer_id": ["C1", "C2", "C3"], "contact_date": pd.to_datetime(["2025-01-10"] * 3)}
    )
    visits = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "visit_date": pd.to_datetime(["2025-02-01", "2025-09-01"]),
            "amount": [800.0, 500.0],
        }
    )
    sales = pd.DataFrame(
        {
            "sale_id": ["S1", "S2", "S3"],
            "customer_id": ["C2", "N1", "N2"],
            "sale_date": pd.to_datetime(["2025-03-01", "2025-04-01", "2026-01-01"]),
            "price": [200000.0, 100000.0, 100000.0],
            "referred_by_customer_id": [None, "C3", "C3"],
        }
    )
    cfg = {"influence": {"new_car_margin": 0.05}}
    got = contact_margin(contacts, {"visits": visits, "vehicle_sales": sales}, 180, value_cfg=cfg)
    # C1: a visit in the window; C2: its own purchase (the visit is after the window);
    # C3: one referred buyer in the window (the second is after it)
    assert got.tolist() == pytest.approx([800.0, 10000.0, 5000.0])


def test_the_insurance_renewal_earns_its_commission(catalogue) -> None:
    from cvm.campaigns.targeting import renewal_commission

    scored = pd.DataFrame(
        {
            "campaign": ["insurance_renewal", "service_reminder", "insurance_renewal"],
            "uplift": [0.05, 0.05, -0.01],
        }
    )
    got = renewal_commission(scored, catalogue, {"influence": {"insurance_commission": 400}})
    assert got.tolist() == pytest.approx([20.0, 0.0, 0.0])
