"""Simulator regimes (`cvm simulate --regime`): each changes what docs/simulator.md says, in
any combination; an unknown name exits 2 listing the regimes and creates nothing."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from cvm.cli import app
from cvm.config import CvmError
from cvm.data.simulator import generate
from cvm.data.simulator.regimes import REGIMES, parse_regimes

N, SEED = 1500, 11


@pytest.fixture(scope="module")
def standard():
    return generate(N, SEED, oracle_paths=2)


def test_parse_orders_and_defaults():
    assert parse_regimes(None) == ("standard",)
    assert parse_regimes("visits-only, closed-cohort") == ("closed-cohort", "visits-only")
    assert parse_regimes("standard,opaque") == ("opaque",)


def test_unknown_regime_exits_2_listing_the_regimes_and_creates_nothing(tmp_path):
    out = tmp_path / "sim"
    res = CliRunner().invoke(
        app,
        ["simulate", "--customers", "50", "--out", str(out), "--regime", "closed-cohort,nosuch"],
    )
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert "'nosuch'" in res.output and all(r in res.output for r in REGIMES)
    assert not out.exists()
    with pytest.raises(CvmError, match="unknown regime"):
        generate(10, 1, regimes="cliff")


def test_closed_cohort_and_visits_only_combined(standard):
    r = generate(N, SEED, oracle_paths=2, regimes="closed-cohort,visits-only")
    assert list(r.tables) == ["visits"]
    assert r.tables["visits"].column_names == ["customer_id", "visit_date", "amount"]
    assert r.meta["arguments"]["regimes"] == ["closed-cohort", "visits-only"]
    # nobody enters after the first 3 months: first visits (the free service 3 months after a
    # store sale, a visit when a car bought elsewhere comes in) fall in the first months
    v = r.df("visits")
    first = v.groupby("customer_id")["visit_date"].min()
    start = v["visit_date"].min()
    assert (first < start + pd.DateOffset(months=10)).mean() > 0.95
    assert len(r.df("truth/oracle_customers")) == N
    # the standard world keeps entering customers until the end
    sv = standard.df("visits").groupby("customer_id")["visit_date"].min()
    assert (sv > sv.min() + pd.DateOffset(months=24)).mean() > 0.2


def test_short_history_has_15_months():
    r = generate(N, SEED, oracle_paths=2, regimes="short-history")
    v = r.df("visits")["visit_date"]
    months = (v.max().year - v.min().year) * 12 + v.max().month - v.min().month + 1
    assert months == 15


def test_opaque_leaves_weak_proxies_only(standard):
    r = generate(N, SEED, oracle_paths=2, regimes="opaque")
    c, c0 = r.df("customers"), standard.df("customers")
    assert set(c["distance_km"].dropna().unique()) <= {3.0, 8.0, 18.0, 35.0}
    assert c["occupation"].isna().all() and c0["occupation"].notna().mean() > 0.7
    assert c["income_band"].isna().mean() > 0.8
    assert len(r.df("surveys")) < 0.4 * len(standard.df("surveys"))
    # the truth is the same world
    pd.testing.assert_frame_equal(
        r.df("truth/oracle_customers"), standard.df("truth/oracle_customers")
    )


def test_confounded_campaigns_have_small_or_no_control_groups(standard):
    r = generate(N, SEED, oracle_paths=2, regimes="confounded")
    k = r.df("campaign_contacts")
    ctrl = k.groupby("campaign")["group"].apply(lambda g: (g == "control").mean())
    assert ctrl.get("service_reminder", 0.0) == 0.0
    assert ctrl.min() == 0.0 and ctrl.max() > 0.1
    k0 = standard.df("campaign_contacts")
    assert ((k0["group"] == "control").mean() - 0.18) ** 2 < 0.02**2
    # the store's ranking picks the recent visitors first
    last = r.df("visits").groupby("customer_id")["visit_date"].max()
    last0 = standard.df("visits").groupby("customer_id")["visit_date"].max()

    def since(kk, lv):
        s = kk.loc[kk["campaign"] == "value_activation"]
        return (s["contact_date"] - lv.reindex(s["customer_id"]).to_numpy()).dt.days.median()

    assert since(k, last) < since(k0, last0)


def test_gradual_warranty_removes_the_cliff(standard):
    r = generate(N, SEED, oracle_paths=2, regimes="gradual-warranty")
    assert r.meta["parameters"]["churn"]["post_warranty_spread"]["months"] == 24

    def share_returning(res):
        veh = res.df("vehicles")
        v = res.df("visits")
        v = v.loc[v["payer"] == "customer"].merge(veh[["vehicle_id", "warranty_end_date"]])
        end = v["visit_date"].max()
        w = veh.loc[veh["warranty_end_date"] < end - pd.DateOffset(months=12), "vehicle_id"]
        after = v.loc[
            (v["visit_date"] > v["warranty_end_date"])
            & (v["visit_date"] <= v["warranty_end_date"] + pd.DateOffset(months=12))
        ]
        return after["vehicle_id"].isin(w).sum() and after.loc[
            after["vehicle_id"].isin(w), "vehicle_id"
        ].nunique() / len(w)

    # without the cliff, more owners still come in the year after the warranty ends
    assert share_returning(r) > share_returning(standard) + 0.05


def test_lead_stage_comes_from_visible_events_only(standard):
    lead = standard.df("leads")
    open_ = lead.loc[lead["status"] != "won"]  # open and lost: what the consultant saw
    cold = open_.loc[~open_["test_drive"] & (open_["followups"] < 2)]
    warm = open_.loc[open_["test_drive"] & (open_["followups"] >= 3)]
    assert len(cold) > 50 and len(warm) > 20
    assert (cold["order_stage"] == "potential").all()
    assert (warm["order_stage"] == "intent").all()
