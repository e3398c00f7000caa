"""build_features: dates inside kept rows read as of as_of; absent tables are skipped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.config import load_config
from cvm.features.snapshot import build_features

AS_OF = "2024-06-30"


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    visits = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "visit_date": pd.to_datetime(["2023-06-01", "2024-03-01", "2024-01-15"]),
            "amount": [600.0, 800.0, 0.0],
            "payer": ["customer", "customer", "warranty"],
            "service_advisor_id": ["s1", "s1", "s2"],
            "mileage_km": [10000.0, 19000.0, np.nan],
        }
    )
    staff = pd.DataFrame(
        {
            "staff_id": ["s1", "s2"],
            "hire_date": pd.to_datetime(["2020-01-01"] * 2),
            "leave_date": pd.to_datetime(["2024-07-15", "2024-05-01"]),
        }
    )
    complaints = pd.DataFrame(
        {
            "complaint_id": ["q1", "q2"],
            "customer_id": ["a", "b"],
            "complaint_date": pd.to_datetime(["2024-05-01", "2024-02-01"]),
            "resolved_date": pd.to_datetime(["2024-08-01", "2024-03-01"]),
            "severity": [2, 1],
        }
    )
    leads = pd.DataFrame(
        {
            "lead_id": ["l1"],
            "customer_id": ["a"],
            "created_date": pd.to_datetime(["2024-06-01"]),
            "closed_date": pd.to_datetime(["2024-07-01"]),
            "status": ["won"],
        }
    )
    return {"visits": visits, "staff": staff, "complaints": complaints, "leads": leads}


def test_dates_after_as_of_read_as_not_yet(tables) -> None:
    x = build_features(tables, AS_OF, load_config())
    # s1 leaves after as_of: still employed; s2 left before
    assert x.loc["a", "last_advisor_left"] == 0 and x.loc["b", "last_advisor_left"] == 1
    # a's complaint is resolved after as_of: still open; b's was resolved before
    assert x.loc["a", "n_open_complaints"] == 1 and x.loc["b", "n_open_complaints"] == 0
    # the lead closes after as_of: open at as_of
    assert x.loc["a", "has_open_lead"] == 1 and x.loc["b", "has_open_lead"] == 0


def test_visit_features(tables) -> None:
    x = build_features(tables, AS_OF, load_config())
    assert x.loc["a", "n_paid_visits_12m"] == 1 and x.loc["a", "n_paid_visits_24m"] == 2
    assert x.loc["b", "n_paid_visits_24m"] == 0
    assert np.isnan(x.loc["b", "months_since_last_paid_visit"])
    assert x.loc["a", "paid_spend_3m"] == 0 and x.loc["a", "paid_spend_6m"] == 800
    assert x.loc["a", "mileage_rate_km_month"] == pytest.approx(
        9000 / (274 / (365.25 / 12)), rel=1e-3
    )
    assert x.loc["b", "warranty_spend_24m"] == 0


def test_visits_only_three_columns(tables) -> None:
    v = tables["visits"][["customer_id", "visit_date", "amount"]]
    x = build_features({"visits": v}, AS_OF, load_config())
    assert list(x.index) == ["a", "b"]
    assert "last_advisor_left" not in x and "months_since_last_visit" in x
    assert all(x[c].dtype == np.float32 for c in x.columns)


def test_a_build_reads_only_the_columns_feature_columns_names() -> None:
    """``build_features`` prunes the tables to ``feature_columns`` first: the features equal
    a build over every column of every table (so the list misses nothing it reads), and
    columns or tables outside the list change nothing."""
    from cvm.config import load_config
    from cvm.features.snapshot import (
        build_part,
        feature_columns,
        feature_figures,
        finish_features,
    )
    from support.toy import toy_tables

    cfg = load_config()
    t = toy_tables(300, seed=4)
    as_of = pd.Timestamp("2023-06-30")
    whole = finish_features([build_part(t, as_of, cfg, feature_figures(t, as_of, cfg))], as_of)
    pd.testing.assert_frame_equal(build_features(t, as_of, cfg), whole)
    cols = feature_columns(cfg)
    read = {k: df for k, df in t.items() if k in cols}
    assert any(set(df.columns) - set(cols[k]) for k, df in read.items())  # others exist
    junk = {
        k: df.assign(junk=1.0)[[c for c in df.columns if c in cols[k]] + ["junk"]]
        for k, df in read.items()
    }
    junk["lead_followups"] = pd.DataFrame({"lead_id": ["x"], "followup_date": [as_of]})
    pd.testing.assert_frame_equal(build_features(junk, as_of, cfg), whole)
