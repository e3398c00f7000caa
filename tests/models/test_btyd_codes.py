"""The visit-only value baselines group by integer customer codes (issue 21): the same numbers
as the group-bys on text ids they replaced (kept here as the reference), on toy data with paid
and unpaid visits, customers seen only after the date and customers never seen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.config import load_config
from cvm.data.ids import DAYS_PER_MONTH, day_number, days, ids
from cvm.definitions import paid_mask
from cvm.models.btyd import historical_average, recency_frequency
from cvm.settings import run_settings
from support.toy import toy_tables


def _historical_average_text(visits, as_of, horizon_months, cfg, customers):
    d = days(visits["visit_date"])
    keep = d <= day_number(as_of)
    cid = ids(visits["customer_id"])[keep].to_numpy()
    amount = np.where(
        paid_mask(visits.loc[keep], cfg),
        pd.to_numeric(visits["amount"][keep], errors="coerce").fillna(0.0),
        0.0,
    )
    df = pd.DataFrame({"customer_id": cid, "day": d[keep], "amount": amount})
    g = df.groupby("customer_id")
    months = np.maximum((day_number(as_of) - g["day"].min()) / DAYS_PER_MONTH, 1.0)
    out = (g["amount"].sum() / months * horizon_months).rename("historical_average")
    return out.reindex(customers).fillna(0.0)


def _recency_frequency_text(visits, as_of, horizon_months, cfg, customers):
    edges = np.asarray(run_settings(cfg).baselines.recency_frequency.recency_edges_months, float)
    d = days(visits["visit_date"])
    paid = paid_mask(visits, cfg)
    v = pd.DataFrame(
        {
            "c": ids(visits["customer_id"]).to_numpy(),
            "d": d,
            "a": np.where(paid, pd.to_numeric(visits["amount"], errors="coerce").fillna(0.0), 0.0),
            "p": paid,
        }
    )
    now = day_number(as_of)
    then = now - horizon_months * DAYS_PER_MONTH

    def state(t):
        seen = v.loc[v["d"] <= t]
        pv = seen.loc[seen["p"]]
        last = pv.groupby("c")["d"].max()
        out = pd.DataFrame(index=pd.Index(seen["c"].unique()))
        rec = ((t - last) / DAYS_PER_MONTH).reindex(out.index)
        out["bin"] = np.where(rec.isna(), -1, np.digitize(rec.fillna(0).to_numpy(), edges))
        out["spend12"] = (
            pv.loc[pv["d"] > t - 12 * DAYS_PER_MONTH]
            .groupby("c")["a"]
            .sum()
            .reindex(out.index)
            .fillna(0.0)
        )
        return out

    past = state(then)
    back = set(v.loc[v["p"] & (v["d"] > then) & (v["d"] <= now), "c"])
    past["back"] = past.index.isin(list(back))
    rate = past.groupby("bin")["back"].mean()
    cur = state(now)
    pred = cur["spend12"] * horizon_months / 12.0 * cur["bin"].map(rate).fillna(0.0)
    return pred.reindex(customers).fillna(0.0)


@pytest.fixture(scope="module")
def visits() -> pd.DataFrame:
    v = toy_tables(300, seed=5)["visits"].copy()
    # shuffled rows: the first-seen order of customers differs from their id order
    return v.sample(frac=1.0, random_state=1).reset_index(drop=True)


@pytest.mark.parametrize("as_of", ["2023-06-30", "2024-12-31"])
@pytest.mark.parametrize("fn", ["historical_average", "recency_frequency"])
def test_coded_baselines_equal_the_text_key_group_bys(visits, as_of, fn) -> None:
    cfg = load_config()
    cid = ids(visits["customer_id"])
    # every customer, one never seen, in an order that is neither sorted nor first-seen
    who = pd.Index(list(pd.unique(cid))[::-1] + ["never-seen"], dtype="str")
    new, ref = {
        "historical_average": (historical_average, _historical_average_text),
        "recency_frequency": (recency_frequency, _recency_frequency_text),
    }[fn]
    got = new(visits, as_of, 12, cfg, who)
    want = ref(visits, as_of, 12, cfg, who)
    assert (want > 0).sum() > 10  # the data exercises the baseline
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())  # bit-identical
    assert got.index.equals(who)
