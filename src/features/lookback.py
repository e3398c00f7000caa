"""Scoring on the lookback the models were calibrated on, when the history is short.

A store with a short history (a DMS changed a year ago) is *left-truncated*: at every training
snapshot the features see less of the past than at the as-of date. The out-of-time fold, on
which the churn probabilities and the value total are calibrated, sees ``history − H`` months;
the as-of date sees ``history``. A customer's visit counts, spend and recency then look richer
at scoring than any row the models learned from, and the value total runs high (issue 15:
short-history, H = 6, total 1.09× on average against the realized margin).

When the fold's lookback is shorter than the longest feature window, the customers seen in
that lookback are scored on features built from it only (the visits of the last
``history − H`` months), so they look like the rows of the fold. Customers seen only earlier
keep their full-history features: the fold has no rows like them (it could not see them), and
dropping them would leave them unscored. The frame is for scoring only; segments, eligibility
and lists keep the full-history features.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from cvm.data.ids import DAYS_PER_MONTH, add_months, day_number, days
from cvm.data.table_cache import select

log = logging.getLogger(__name__)


def longest_window_months(cfg: dict[str, Any]) -> int:
    """The longest look-back any feature takes (``features.windows_months``, the mix window,
    and the trend's two windows back to back)."""
    fc = cfg["features"]
    return int(
        max(
            max(int(w) for w in fc["windows_months"]),
            int(fc["mix_window_months"]),
            2 * int(fc["trend_window_months"]),
        )
    )


def fold_lookback_start(
    visit_dates: pd.Series, as_of: Any, horizon_months: int, cfg: dict[str, Any]
) -> int | None:
    """The first day (day number) of the as-of lookback that matches the latest out-of-time
    fold's, or None when scoring needs no cut (the setting is off, there are no visits, or
    the fold already sees the longest feature window)."""
    if not bool(cfg["training"]["equal_lookback"]):
        return None
    d = days(visit_dates)
    d = d[d <= day_number(as_of)]
    if len(d) == 0 or not np.isfinite(d).any():
        return None
    first = float(np.nanmin(d))
    fold = day_number(add_months(as_of, -int(horizon_months)))
    lookback = fold - first
    if lookback >= longest_window_months(cfg) * DAYS_PER_MONTH:
        return None
    return int(np.ceil(day_number(as_of) - lookback))


def scoring_features(
    tables: dict[str, pd.DataFrame],
    as_of: Any,
    horizon_months: int,
    cfg: dict[str, Any],
    feats: pd.DataFrame,
) -> pd.DataFrame:
    """``feats`` (the as-of features), with the rows of customers seen within the fold's
    lookback rebuilt from that lookback's visits when the history is short (module doc);
    ``feats`` itself otherwise. Same index and columns as ``feats``."""
    from cvm.features.snapshot import build_features

    visit_dates = select(tables, "visits", ["visit_date"])
    if visit_dates is None:
        return feats
    start = fold_lookback_start(visit_dates["visit_date"], as_of, horizon_months, cfg)
    if start is None:
        return feats
    visits = tables["visits"]
    recent = visits.loc[days(visits["visit_date"]) >= start]
    cut = build_features({**tables, "visits": recent}, as_of, cfg)
    cut = cut.loc[cut.index.intersection(feats.index)]
    out = feats.copy()
    cols = [c for c in feats.columns if c in cut.columns]
    out.loc[cut.index, cols] = cut[cols].astype(feats[cols].dtypes.to_dict())
    log.info(
        "short history: %d of %d customers scored on the fold's lookback (visits from day %d)",
        len(cut),
        len(feats),
        start,
    )
    return out
