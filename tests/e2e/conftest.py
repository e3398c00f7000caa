"""One small simulated dealer and one monthly run over it, shared by the end-to-end tests.

The tests that use these fixtures are marked ``slow`` and put in one xdist group so the
simulation and the run happen once per test session.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

E2E_CUSTOMERS = 3000
E2E_SEED = 7


@pytest.fixture(scope="session")
def sim_dir(tmp_path_factory) -> Path:
    from cvm.data.simulator import simulate

    out = tmp_path_factory.mktemp("sim") / "dealer"
    simulate(n_customers=E2E_CUSTOMERS, seed=E2E_SEED, out=out, years=5)
    return out


@pytest.fixture(scope="session")
def sim_end(sim_dir) -> date:
    meta = json.loads((sim_dir / "truth" / "meta.json").read_text(encoding="utf-8"))
    return date.fromisoformat(meta["end"])


@pytest.fixture(scope="session")
def monthly_run(sim_dir, sim_end, tmp_path_factory) -> Path:
    """The published run folder reports/YYYY-MM of a full `run_monthly`."""
    from cvm.pipeline import run_monthly

    reports = tmp_path_factory.mktemp("reports")
    report = run_monthly(str(sim_dir), sim_end, out=reports, lang="zh", progress=False)
    return report.parent


@pytest.fixture(scope="session")
def monthly_run_en(sim_dir, sim_end, tmp_path_factory) -> Path:
    """The same month run with ``lang="en"`` (the English report and lists)."""
    from cvm.pipeline import run_monthly

    reports = tmp_path_factory.mktemp("reports_en")
    report = run_monthly(str(sim_dir), sim_end, out=reports, lang="en", progress=False)
    return report.parent
