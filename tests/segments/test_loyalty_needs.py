from __future__ import annotations

import pandas as pd

from cvm.segments.loyalty import loyalty_type
from cvm.segments.needs import NEEDS, needs_tags

AS_OF = pd.Timestamp("2024-06-30")


def _tables() -> dict[str, pd.DataFrame]:
    visits = pd.DataFrame(
        {
            "customer_id": ["t", "t", "l", "i", "i", "n", "u"],
            "vehicle_id": ["vt", "vt", "vl", "vi", "vi", "vn", "vu"],
            # 2024-06-01 and 2024-06-08 are Saturdays
            "visit_date": pd.to_datetime(
                [
                    "2024-06-01",
                    "2024-06-08",
                    "2024-01-03",
                    "2024-02-05",
                    "2024-04-02",
                    "2023-12-12",
                    "2024-05-05",
                ]
            ),
            "amount": 500.0,
            "mileage_km": [10000, 10500, 5000, 20000, 40000, None, 1000],
            "quote_items_offered": [2, 2, 0, 3, 3, 0, 0],
            "quote_items_accepted": [2, 2, 0, 0, 1, 0, 0],
        }
    )
    surveys = pd.DataFrame(
        {
            "survey_id": ["s1", "s2", "s3", "s4"],
            "customer_id": ["t", "l", "i", "t"],
            "survey_date": pd.to_datetime(["2024-06-02", "2024-01-04", "2024-02-06", "2024-08-01"]),
            "satisfaction": [5.0, 4.5, 2.0, 1.0],
        }
    )
    complaints = pd.DataFrame(
        {
            "complaint_id": ["k1", "k2"],
            "customer_id": ["n", "i"],
            "complaint_date": pd.to_datetime(["2023-12-13", "2024-04-03"]),
            "category": ["wait", "price"],
            "severity": [2, 1],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["t", "l", "i", "n", "u"],
            "customer_type": ["individual", "individual", "individual", "company", "individual"],
            "has_children": [True, None, False, None, None],
            "household_size": [2, 4, 4, None, None],
            "birth_year": [1980, 1990, 1990, None, None],
        }
    )
    return {"visits": visits, "surveys": surveys, "complaints": complaints, "customers": customers}


def test_loyalty_quadrants_and_unknown():
    s = loyalty_type(_tables(), AS_OF)
    # t: happy + 2 visits; l: happy, 1 visit; i: unhappy + 2; n: complaint, 1; u: unobserved
    assert s.to_dict() == {
        "i": "inertia",
        "l": "latent",
        "n": "non_loyal",
        "t": "true",
        "u": "unknown",
    }


def test_loyalty_without_attitude_tables_and_fallback():
    t = {"visits": _tables()["visits"]}
    assert set(loyalty_type(t, AS_OF)) == {"unknown"}
    s = loyalty_type(t, AS_OF, {"segments": {"loyalty": {"unobserved_attitude": "high"}}})
    assert s["t"] == "true" and s["l"] == "latent"


def test_needs_rules():
    n = needs_tags(_tables(), AS_OF)
    assert list(n.columns) == list(NEEDS) and n.dtypes.eq(bool).all()
    assert n["young_family"].to_dict() == {"i": False, "l": True, "n": False, "t": True, "u": False}
    assert n.loc["t", "time_sensitive"] and n.loc["n", "time_sensitive"]  # weekends; wait
    assert n.loc["i", "price_sensitive"] and not n.loc["t", "price_sensitive"]
    # i: 20,000 km in 57 days is below min_span_days; n is a company
    assert n.loc["n", "high_mileage_commercial"] and not n.loc["i", "high_mileage_commercial"]


def test_needs_visits_only_skips_rules():
    v = _tables()["visits"][["customer_id", "visit_date", "amount"]]
    n = needs_tags({"visits": v}, AS_OF)
    assert set(n.attrs["skipped"]) == {"young_family", "price_sensitive", "high_mileage_commercial"}
    assert not n[["young_family", "price_sensitive"]].any().any()
