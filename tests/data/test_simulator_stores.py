"""Dealer groups in the simulator (`--dealers N`): one store unchanged, several stores differ."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from cvm.data.simulator import generate
from cvm.data.validate import validate_tables

END = date(2025, 12, 31)

# content digests (updated when issue 15 changed the lead stages and the oracle's value, and when
# issue 16 added insurance renewals: vehicles.insurance_end_date, the oracle's commission, and
# in session 13 the store's rules' rest month after a contact) of the one-store world (800 customers, seed 5, 3 years, H = 3) made by the
# simulator before dealer groups existed: --dealers 1 must keep today's data exactly
ONE_STORE = {
    "campaign_contacts": 2218811019931821377,
    "complaints": 419241887862037478,
    "customers": 1279665347856361479,
    "lead_followups": 719006460606646318,
    "leads": 1374305256566386013,
    "staff": 1765848425608014547,
    "surveys": 1160903232491742922,
    "vehicle_sales": 55902596117644312,
    "vehicles": 1232247270550796961,
    "visits": 2179002550433029885,
    "truth/leads": 190626756029856427,
    "truth/oracle_campaigns": 1381312400815045949,
    "truth/oracle_customers": 1149932362385134813,
    "truth/visits": 1680134906753426024,
    "truth/visits_business_as_usual": 2047059240942166500,
}


def _digest(df: pd.DataFrame) -> int:
    return int(pd.util.hash_pandas_object(df, index=False).sum()) % (1 << 61)


def test_one_store_world_is_unchanged() -> None:
    r = generate(800, 5, end=END, years=3, horizon_months=3, oracle_paths=1)
    got = {name: _digest(r.df(name)) for name in ONE_STORE}
    assert got == ONE_STORE
    assert "stores" not in r.truth and "dealer_group" not in r.meta


@pytest.fixture(scope="module")
def group():
    return generate(5000, 7, end=END, years=4, dealers=4, horizon_months=6, oracle_paths=2)


def test_stores_differ_in_size_price_and_waits(group) -> None:
    st = group.df("truth/stores").set_index("dealer_id")
    stores = st.drop(index="GROUP")
    assert list(stores.index) == ["D01", "D02", "D03", "D04"]
    assert stores["weight"].is_monotonic_decreasing and stores["weight"].sum() == pytest.approx(1)
    cust = group.df("customers")
    share = cust["dealer_id"].value_counts(normalize=True).reindex(stores.index)
    assert np.abs(share - stores["weight"]).max() < 0.04  # sizes follow the weights
    v = group.df("visits")
    paid = v[(v["payer"] == "customer") & (v["visit_type"] == "maintenance")]
    med = paid.groupby("dealer_id")["amount"].median().reindex(stores.index)
    # the dearest store's maintenance tickets are dearer than the cheapest store's
    assert med[stores["price_level"].idxmax()] > med[stores["price_level"].idxmin()]
    wait = v[v["visit_type"] == "maintenance"].groupby("dealer_id")["wait_minutes"].median()
    assert wait[stores["wait_factor"].idxmax()] > wait[stores["wait_factor"].idxmin()]
    assert stores["turnover"].std() > 0 and stores["quality_shift"].std() > 0
    assert st.loc["GROUP", "customers_at_end"] == len(cust)


def test_movers_and_cross_store_service_and_purchase(group) -> None:
    v, cust = group.df("visits"), group.df("customers")
    home = v["customer_id"].map(cust.set_index("customer_id")["dealer_id"])
    away = (v["dealer_id"] != home).mean()
    assert 0.03 < away < 0.2  # movers' later visits plus one-off visits at sister stores
    st = group.df("truth/stores").set_index("dealer_id")
    assert st.loc["GROUP", "movers_out"] > 100
    assert 0.02 < st.loc["GROUP", "horizon_cross_store_share"] < 0.12
    sales = group.df("vehicle_sales")
    ti = sales[sales["trade_in_vehicle_id"].notna()]
    bought_away = (
        ti["dealer_id"] != ti["customer_id"].map(cust.set_index("customer_id")["dealer_id"])
    ).mean()
    assert 0.1 < bought_away < 0.5  # service at one store, buy at another
    # each visit's advisor works at the store of the visit
    staff = group.df("staff").set_index("staff_id")["dealer_id"]
    assert (v["service_advisor_id"].map(staff) == v["dealer_id"]).all()
    oc = group.df("truth/oracle_customers")
    assert {"dealer_id", "home_dealer_id"} <= set(oc.columns)
    assert (oc["dealer_id"] != oc["home_dealer_id"]).mean() > 0.01


def test_group_data_meets_the_contract(group) -> None:
    tables = {name: group.df(name) for name in group.tables}
    rep = validate_tables(tables, as_of=None)
    assert rep.ok, rep.render()
