from __future__ import annotations

import pandas as pd
import pytest

from cvm.data.simulator import generate


@pytest.fixture(scope="session")
def sim():
    """A small simulated dealer (1,000 customers): contract tables and truth."""
    return generate(n_customers=1000, seed=11)


@pytest.fixture(scope="session")
def tables(sim) -> dict[str, pd.DataFrame]:
    return {k: v.to_pandas() for k, v in sim.tables.items()}
