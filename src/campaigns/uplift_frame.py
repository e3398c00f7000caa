"""The uplift training frame: past contacts with point-in-time features and their outcomes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from cvm.campaigns.measurement import contact_outcomes
from cvm.data.ids import day_number, days, ids, isin, to_timestamp

log = logging.getLogger(__name__)

FeaturesFn = Callable[[dict[str, pd.DataFrame], pd.Timestamp], pd.DataFrame]
_CONTACT_COLUMNS = ("customer_id", "campaign", "contact_date", "group")


def training_frame(
    tables: dict[str, pd.DataFrame],
    features_fn: FeaturesFn,
    as_of: Any,
    window_days: int,
    run_cfg: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Past contacts with a complete outcome window before ``as_of``: (X, info).

    ``X``: features at the month end before each contact (one ``features_fn`` call per
    contact month); ``info``: customer_id, campaign, contact_date, treated, responded, revenue.
    """
    contacts = tables.get("campaign_contacts")
    if contacts is None or contacts.empty:
        return pd.DataFrame(), pd.DataFrame()
    as_of = to_timestamp(as_of)
    # only the columns the frame and the outcomes read (at a million customers the contacts'
    # ids, channels and costs alone are ~0.25 GB a copy)
    contacts = contacts[[k for k in _CONTACT_COLUMNS if k in contacts.columns]]
    d = days(contacts["contact_date"])
    c = contacts[d + window_days <= day_number(as_of)].reset_index(drop=True)
    if c.empty:
        return pd.DataFrame(), pd.DataFrame()
    c["customer_id"] = ids(c["customer_id"]).to_numpy()
    dates = pd.to_datetime(c["contact_date"])
    c["snapshot"] = dates.dt.to_period("M").dt.start_time - pd.Timedelta(days=1)
    # features first: only the contacts whose customer has features at the snapshot are kept
    # (``features_fn`` may build a sample of them), so the outcome pass over the visits reads
    # those contacts only; an outcome is a function of its own contact row, so the rows kept
    # are the same as when every contact's outcome is computed first
    xs, keep = [], []
    for snap, g in c.groupby("snapshot", sort=True):
        feats = features_fn(tables, pd.Timestamp(snap))
        feats.index = ids(pd.Series(feats.index)).to_numpy()
        g = g[isin(g["customer_id"], feats.index)]
        xs.append(feats.reindex(g["customer_id"].to_numpy()).reset_index(drop=True))
        keep.append(g.index.to_numpy())
        log.debug("uplift training snapshot %s: %d contacts", pd.Timestamp(snap).date(), len(g))
    X = pd.concat(xs, ignore_index=True)
    info = contact_outcomes(
        c.take(np.concatenate(keep)), tables["visits"], window_days, cut_at=as_of, run_cfg=run_cfg
    ).reset_index(drop=True)
    info["treated"] = (info["group"] == "target").to_numpy()
    info["contact_date"] = pd.to_datetime(info["contact_date"])
    return X, info[["customer_id", "campaign", "contact_date", "treated", "responded", "revenue"]]
