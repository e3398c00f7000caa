from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.config import CvmError
from cvm.reporting.plots import plot_migration
from cvm.segments.value_tags import ab_share, migration_matrix, tag_from_flags, value_tags

AS_OF = pd.Timestamp("2024-06-30")


def _visits() -> pd.DataFrame:
    # h*: 4 visits in the window (2/yr), l*: 1 visit (0.5/yr; first visit long ago)
    rows = []
    for cid, n, amt in (("hh", 4, 2000.0), ("hl", 4, 200.0), ("lh", 1, 3000.0), ("ll", 1, 100.0)):
        rows.append((cid, "2018-01-01", 0.0))
        for k in range(n):
            rows.append((cid, str(AS_OF - pd.DateOffset(months=3 + 5 * k))[:10], amt))
    return pd.DataFrame(rows, columns=["customer_id", "visit_date", "amount"])


def test_standard_two_by_two_with_numeric_thresholds():
    cfg = {"segments": {"value_tags": {"frequency_threshold": 1.0, "spend_threshold": 1000}}}
    t = value_tags(_visits(), AS_OF, cfg)
    assert t["value_tag"].to_dict() == {"hh": "A", "hl": "B", "lh": "C", "ll": "D"}
    assert t.loc["hh", "visits_per_year"] == pytest.approx(2.0, rel=1e-2)
    assert t.loc["lh", "spend_per_visit"] == pytest.approx(3000.0)
    assert t.attrs["thresholds"] == {"visits_per_year": 1.0, "spend_per_visit": 1000.0}


def test_threshold_is_inclusive_and_median_default():
    cfg = {"segments": {"value_tags": {"frequency_threshold": 2.0, "spend_threshold": 2000}}}
    assert value_tags(_visits(), AS_OF, cfg).loc["hh", "value_tag"] == "A"
    t = value_tags(_visits(), AS_OF)  # medians of 4 customers: between the two groups
    assert t["value_tag"].value_counts().to_dict() == {"A": 1, "B": 1, "C": 1, "D": 1}


def test_paid_only_spend_and_short_exposure():
    v = pd.DataFrame(
        {
            "customer_id": ["n", "n", "w"],
            "visit_date": ["2024-06-01", "2024-06-20", "2024-06-01"],
            "amount": [500.0, 700.0, 900.0],
            "payer": ["customer", "warranty", "insurer"],
        }
    )
    t = value_tags(v, AS_OF)
    assert t.loc["n", "spend_per_visit"] == pytest.approx(250.0)
    assert t.loc["w", "spend_per_visit"] == 0.0
    # exposure floored at 6 months: 2 visits -> 4 per year
    assert t.loc["n", "visits_per_year"] == pytest.approx(2 / (0.5), rel=1e-3)


def test_no_visit_in_window_is_d_and_future_ignored():
    v = pd.concat(
        [
            _visits(),
            pd.DataFrame(
                {
                    "customer_id": ["old", "fut"],
                    "visit_date": ["2019-01-01", "2024-07-02"],
                    "amount": [5000.0, 5000.0],
                }
            ),
        ]
    )
    t = value_tags(v, AS_OF)
    assert t.loc["old", "value_tag"] == "D" and "fut" not in t.index


def test_migration_matrix_sums_to_base():
    prev = pd.Series({"a": "A", "b": "B", "c": "D", "d": "C"})
    cur = pd.Series({"a": "B", "b": "B", "c": "A", "e": "D"})
    m = migration_matrix(prev, cur)
    assert m.to_numpy().sum() == 5
    assert m.loc["A", "B"] == 1 and m.loc["new", "D"] == 1 and m.loc["C", "gone"] == 1
    assert list(m.index) == ["A", "B", "C", "D", "new"]
    assert list(m.columns) == ["A", "B", "C", "D", "gone"]


def test_ab_share_and_bad_settings():
    assert ab_share(pd.Series(["A", "B", "C", "D"])) == 0.5
    assert np.isnan(ab_share(pd.Series([], dtype=object)))
    with pytest.raises(CvmError):
        value_tags(_visits(), AS_OF, {"segments": {"value_tags": {"spend": "net"}}})
    with pytest.raises(CvmError):
        tag_from_flags(
            pd.Series([True]),
            pd.Series([True]),
            {"A": {"high_frequency": False, "high_spend": False}},
        )


def test_plots_return_axes():
    import matplotlib

    matplotlib.use("Agg")
    t = value_tags(_visits(), AS_OF)
    ax = plot_migration(migration_matrix(t["value_tag"], t["value_tag"]), lang="en")
    assert len(ax.texts) == 25
