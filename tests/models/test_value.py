"""Value model on small synthetic data (toy tables), baselines and the customer value types."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.config import load_config
from cvm.features.snapshot import build_features
from cvm.features.toy import toy_tables
from cvm.models.btyd import bgnbd_gamma_gamma, historical_average, rfm_summary
from cvm.models.value import customer_value, train_value

AS_OF = "2024-12-31"


@pytest.fixture(scope="module")
def toy() -> dict[str, pd.DataFrame]:
    return toy_tables(250, seed=3)


def _cfg(**value) -> dict:
    over = {"training": {"max_snapshots": 3},
            "value": {"num_boost_round": 80, "params": {"min_data_in_leaf": 20}, **value}}
    return load_config(overrides=over)


@pytest.fixture(scope="module")
def model(toy):
    return train_value(toy, AS_OF, _cfg(model="auto"))


def test_model_predicts_nonnegative_spend_and_reports_metrics(toy, model):
    X = build_features(toy, AS_OF, load_config())
    p = model.predict(X)
    assert p.shape == (len(X),) and np.isfinite(p).all() and (p >= 0).all()
    m = model.metrics
    for key in ("normalized_gini", "spearman", "top_decile_capture", "total_ratio", "deciles",
                "baselines"):
        assert key in m
    assert set(m["baselines"]) == {"historical_average", "bgnbd_gamma_gamma", "recency_frequency",
                                   "lightgbm_rfm"}
    assert m["model"] in m["stop_normalized_gini"] and m["model"] in ("tweedie", "two_part")
    assert len(m["deciles"]) == 10
    # learns something on the toy data: better than random ranking
    assert m["normalized_gini"] > 0.2
    assert {"realized", "predicted", "historical_average"} <= set(model.validation.columns)
    assert model.feature_names and set(model.feature_names) <= set(X.columns)


def test_lifetime_value_discounts_and_exceeds_one_year(toy, model):
    X = build_features(toy, AS_OF, load_config())
    ltv = model.lifetime_value(X)
    year = model.predict(X) * 12 / model.horizon_months
    lt = model.lifetime
    assert (ltv >= year / (1 + lt["discount_rate"]) - 1e-9).all()
    # bounded by every year retained with max_retention
    cap = sum(lt["max_retention"] ** (y - 1) / (1 + lt["discount_rate"]) ** y
              for y in range(1, lt["clv_years"] + 1))
    assert (ltv <= year * cap + 1e-6).all()
    r = model.return_probability(X)
    assert ((r >= 0) & (r <= 1)).all()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["tweedie", "two_part"])
def test_each_model_kind_trains(toy, kind):
    m = train_value(toy, AS_OF, _cfg(model=kind, refit_all=False))
    assert m.metrics["model"] == kind
    assert (m.booster is None) == (kind == "two_part")
    assert len(m.boosters) == (1 if kind == "tweedie" else 2)


def test_rfm_and_baselines_point_in_time():
    visits = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "c"],
                           "visit_date": pd.to_datetime(["2023-01-01", "2023-01-29",
                                                         "2023-03-26", "2023-02-01",
                                                         "2024-01-01"]),
                           "amount": [100.0, 300.0, 500.0, 0.0, 999.0],
                           "payer": ["customer", "customer", "customer", "warranty",
                                     "customer"]})
    r = rfm_summary(visits, "2023-04-23")
    assert list(r.index) == ["a", "b"]             # c comes after as_of
    assert r.loc["a", "frequency"] == 2 and r.loc["a", "recency"] == pytest.approx(12)
    assert r.loc["a", "T"] == pytest.approx(16) and r.loc["a", "monetary_value"] == 400
    assert r.loc["b", "frequency"] == 0
    h = historical_average(visits, "2023-04-23", 12)
    assert h["b"] == 0 and h["a"] > 0


def test_bgnbd_baseline_ranks_frequent_buyers_first(toy):
    ids = pd.Index(sorted(toy["visits"]["customer_id"].unique()))
    pred = bgnbd_gamma_gamma(toy["visits"], "2023-12-31", 12, customers=ids)
    assert pred.index.equals(ids) and (pred >= 0).all() and pred.sum() > 0


def test_customer_value_types():
    visits = pd.DataFrame({"customer_id": ["r", "b1", "b1", "b2", "x"],
                           "visit_date": pd.to_datetime(["2024-01-01", "2024-02-01",
                                                         "2024-03-01", "2024-04-01",
                                                         "2024-05-01"]),
                           "amount": [500.0, 200.0, 300.0, 1000.0, 50.0],
                           "payer": ["customer", "customer", "insurer", "customer",
                                     "customer"]})
    sales = pd.DataFrame({"sale_id": ["s1", "s2", "s3"], "customer_id": ["b1", "b2", "b3"],
                          "sale_date": pd.to_datetime(["2023-12-01", "2024-03-01",
                                                       "2024-09-01"]),
                          "price": [200000.0, 100000.0, 300000.0],
                          "referred_by_customer_id": ["r", "r", "r"]})
    pred = pd.Series({"r": 10.0, "b1": 20.0})
    cv = customer_value({"visits": visits, "vehicle_sales": sales}, "2024-06-30", pred)
    margin = load_config("value")["influence"]["new_car_margin"]
    assert cv.loc["r", "realized_value"] == 500 and cv.loc["b1", "realized_value"] == 200
    # b3's sale is after as_of; b1's insurer-paid visit does not count
    assert cv.loc["r", "referrals"] == 2
    assert cv.loc["r", "influence_value"] == pytest.approx(margin * 300000 + 200 + 1000)
    assert cv.loc["r", "potential_value"] == 10.0 and np.isnan(cv.loc["x", "potential_value"])
    assert cv.loc["b1", "influence_value"] == 0.0


def test_contact_induced_spend_uses_control_groups():
    from cvm.models.value import contact_induced_spend
    n = 40
    cust = [f"t{i}" for i in range(n)] + [f"c{i}" for i in range(n)]
    contacts = pd.DataFrame({"customer_id": cust, "campaign": "reminder",
                             "contact_date": pd.Timestamp("2024-02-01"),
                             "group": ["target"] * n + ["control"] * n})
    # targets spend 300 within the window, controls 100; a later visit (outside) is ignored
    visits = pd.DataFrame({"customer_id": cust + ["t0"],
                           "visit_date": [pd.Timestamp("2024-02-10")] * (2 * n)
                           + [pd.Timestamp("2024-09-01")],
                           "amount": [300.0] * n + [100.0] * n + [5000.0],
                           "payer": "customer"})
    induced, uplift = contact_induced_spend({"visits": visits, "campaign_contacts": contacts},
                                            "2023-12-31", 12, None, window_days=61)
    assert uplift == {"reminder": pytest.approx(200.0)}
    assert induced.sum() == pytest.approx(200.0 * n) and set(induced.index) == set(cust[:n])
    # no contact table: nothing induced
    assert contact_induced_spend({"visits": visits}, "2023-12-31", 12, None)[0].empty
