"""Small synthetic frames for the campaign mechanics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.campaigns.catalogue import load_catalogue


@pytest.fixture
def catalogue():
    return load_catalogue()


@pytest.fixture
def customers() -> pd.DataFrame:
    """A customer frame with the columns the catalogue's rules use."""
    rng = np.random.default_rng(3)
    n = 400
    stages = np.array(["active_owner", "won_back", "at_risk", "lost", "lead"])
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "lifecycle_stage": rng.choice(stages, n),
            "value_tag": rng.choice(list("ABCD"), n),
            "service_due_ratio": rng.uniform(0, 2, n),
            "n_paid_visits_total": rng.integers(0, 6, n).astype(float),
            "vehicle_age_months": rng.uniform(0, 100, n),
            "warranty_months_left": rng.uniform(-40, 36, n),
            "months_since_last_visit": rng.uniform(0, 40, n),
            "insurance_months_left": rng.uniform(0, 12, n),
            "churn_probability": rng.uniform(0, 1, n),
            "predicted_value": rng.lognormal(7, 1, n),
            "phone": [f"138{i:08d}" for i in range(n)],
            "name": [f"客户{i}" for i in range(n)],
        }
    ).set_index("customer_id")
