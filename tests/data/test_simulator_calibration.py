"""Calibration of the simulator against public industry figures (mid-size run, slow)."""

from __future__ import annotations

import pandas as pd
import pytest

from cvm.data.simulator import generate
from cvm.data.simulator.calibration import figures
from cvm.features.labels import churn_labels


@pytest.mark.slow
def test_calibration_targets() -> None:
    r = generate(15000, 7, oracle_paths=1)
    end = pd.Timestamp(r.meta["end"])
    start = end - pd.DateOffset(years=5) + pd.Timedelta(days=1)
    tabs = {k: r.df(k) for k in ("visits", "vehicles", "campaign_contacts")}
    f = figures(tabs, start, end)
    for k, target in (
        ("milestone_1", 0.94),
        ("milestone_2", 0.63),
        ("milestone_3", 0.42),
        ("milestone_4", 0.31),
        ("after_warranty", 0.18),
    ):
        assert abs(f[k] - target) <= 0.05, (k, f[k])
    assert 0.25 <= f["yearly_loss"] <= 0.40, f["yearly_loss"]
    assert 2.0 <= f["active_visits_per_year"] <= 4.0, f["active_visits_per_year"]
    assert abs(f["top_tier_visits_per_year"] - 4.7) <= 1.0, f["top_tier_visits_per_year"]
    assert abs(f["top_tier_ratio"] - 2.3) <= 0.5, f["top_tier_ratio"]
    assert abs(f["reactivation_180d_response"] - 0.22) <= 0.05, f["reactivation_180d_response"]
    assert f["reactivation_180d_response"] > f["reactivation_180d_control_response"]
    # the business-as-usual future continues the history: its churn matches the last complete
    # label window's; without any contact (the main truth horizon) more customers leave
    hist = churn_labels(tabs["visits"], end - pd.DateOffset(months=12), 12).mean()
    churn = {
        k: churn_labels(pd.concat([tabs["visits"], r.df(f"truth/{k}")]), end, 12).mean()
        for k in ("visits", "visits_business_as_usual")
    }
    assert abs(churn["visits_business_as_usual"] - hist) <= 0.03, (churn, hist)
    assert churn["visits"] - churn["visits_business_as_usual"] >= 0.03, churn
