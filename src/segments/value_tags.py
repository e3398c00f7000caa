"""Value tags A/B/C/D (客户价值标签): return frequency × spend per visit.

Over the window ``(as_of - window_months, as_of]`` (default 24 months):

- ``visits_per_year`` = visits in the window / exposure in years, where exposure runs from the
  later of the window start and the customer's first visit ever to ``as_of``, at least
  ``min_exposure_months`` (so a customer seen once last month is not counted at 12 a year);
- ``spend_per_visit`` = paid spend in the window / visits in the window (``spend: paid``, the
  payer rules of ``definitions``) or total settled amount / visits (``spend: all``).

"High" means at or above a threshold; each threshold is a number or ``median``: the store's
own median over the customers with a visit in the window. The standard 2×2, frequency first
(returning is what keeps a customer in the base, the seeds' stores segmented on frequency
before adding spend):

=====  ==============  ==========
tag    frequency       spend
=====  ==============  ==========
A      high            high
B      high            low
C      low             high
D      low             low
=====  ==============  ==========

A and B are the "high value" tags whose share of the base should grow (``ab_share``). Every
customer with a visit up to ``as_of`` is tagged; those without a visit in the window are D.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cvm.config import CvmError
from cvm.segments._common import (
    crosstab_with_flows,
    log,
    months_before,
    paid_amount,
    settings,
    timestamp,
    visits_to,
)

TAGS = ("A", "B", "C", "D")
DAYS_PER_YEAR = 365.25


def _threshold(value: Any, series: pd.Series, name: str) -> float:
    """A numeric threshold, or the median of ``series`` for ``"median"``."""
    if isinstance(value, str):
        if value != "median":
            raise CvmError(f"value_tags.{name} must be a number or 'median', got {value!r}")
        return float(series.median()) if len(series) else 0.0
    return float(value)


def tag_from_flags(
    high_frequency: pd.Series, high_spend: pd.Series, mapping: dict[str, dict[str, bool]]
) -> pd.Series:
    """The tag of each customer from the two flags and the 2×2 ``mapping``."""
    out = pd.Series(None, index=high_frequency.index, dtype=object)
    for tag, rule in mapping.items():
        hit = (high_frequency == bool(rule["high_frequency"])) & (
            high_spend == bool(rule["high_spend"])
        )
        out[hit] = tag
    if out.isna().any():
        raise CvmError("value_tags.tags does not cover all four frequency × spend cells")
    return out


def value_tags(
    visits: pd.DataFrame,
    as_of: Any,
    cfg: dict[str, Any] | None = None,
    customer_col: str = "customer_id",
    date_col: str = "visit_date",
    amount_col: str = "amount",
) -> pd.DataFrame:
    """Value tag per customer (index ``customer_id``): ``visits_per_year``,
    ``spend_per_visit``, ``high_frequency``, ``high_spend``, ``value_tag``.

    The thresholds used are in ``.attrs["thresholds"]``.
    """
    as_of = timestamp(as_of)
    s = settings(cfg, "value_tags")
    v = visits_to(
        visits, as_of, date_col=date_col, customer_col=customer_col, columns=[amount_col, "payer"]
    )  # paid_amount reads the payer
    start = months_before(as_of, s["window_months"])
    if s["spend"] == "paid":
        v["_spend"] = paid_amount(v, s["definitions"], amount_col=amount_col)
    elif s["spend"] == "all":
        v["_spend"] = pd.to_numeric(v[amount_col], errors="coerce").fillna(0.0)
    else:
        raise CvmError(f"value_tags.spend must be 'paid' or 'all', got {s['spend']!r}")
    # one factorization of the ids, then integer group-bys (string group-bys and reindexes
    # cost seconds per call at a million customers, and the run calls this 13 times)
    codes, uniq = pd.factorize(v[customer_col], sort=True)
    index = pd.Index(uniq, name=customer_col)
    k = len(index)
    first = pd.Series(v[date_col].to_numpy()).groupby(codes).min()
    first = pd.Series(first.to_numpy(), index=index, name=date_col)
    inw = (v[date_col] > start).to_numpy()
    n = pd.Series(np.bincount(codes[inw], minlength=k).astype("int64"), index=index)
    spend = pd.Series(
        np.bincount(codes[inw], weights=v["_spend"].to_numpy(dtype=float)[inw], minlength=k),
        index=index,
    )
    # exposure: the whole window, or from the first visit (at least min_exposure_months)
    short = (as_of - first).dt.days.astype(float) / DAYS_PER_YEAR
    years = np.where(
        first <= start, s["window_months"] / 12, np.maximum(short, s["min_exposure_months"] / 12)
    )
    out = pd.DataFrame(
        {
            "visits_per_year": n / years,
            "spend_per_visit": (spend / n.where(n > 0)).fillna(0.0),
        }
    )
    seen = n > 0
    f_thr = _threshold(
        s["frequency_threshold"], out.loc[seen, "visits_per_year"], "frequency_threshold"
    )
    s_thr = _threshold(s["spend_threshold"], out.loc[seen, "spend_per_visit"], "spend_threshold")
    out["high_frequency"] = seen & (out["visits_per_year"] >= f_thr)
    out["high_spend"] = seen & (out["spend_per_visit"] >= s_thr)
    out["value_tag"] = tag_from_flags(out["high_frequency"], out["high_spend"], s["tags"]).astype(
        "str"
    )
    out.index.name = "customer_id"
    out.attrs["thresholds"] = {"visits_per_year": f_thr, "spend_per_visit": s_thr}
    log.info(
        "value tags at %s (thresholds %.2f visits/yr, %.0f CNY/visit): %s",
        as_of.date(),
        f_thr,
        s_thr,
        out["value_tag"].value_counts().to_dict(),
    )
    return out


def value_tags_by_store(
    tags: pd.DataFrame, stores: pd.Series, cfg: dict[str, Any] | None = None
) -> pd.DataFrame:
    """``tags`` (from :func:`value_tags` over the group's visits) re-tagged with each store's
    own thresholds: a ``median`` threshold becomes the median over the store's customers
    (``stores``: ``dealer_id`` per customer) with a visit in the window. Frequency and spend
    per visit stay the customer's own over the group's stores. ``attrs["thresholds"]`` maps
    each store to its two thresholds; customers without a store keep the group's."""
    s = settings(cfg, "value_tags")
    out = tags.copy()
    store = stores.reindex(out.index)
    seen = out["visits_per_year"] > 0
    thresholds: dict[str, dict[str, float]] = {}
    for dealer in sorted(store.dropna().unique()):
        mine = (store == dealer).to_numpy()
        f_thr = _threshold(
            s["frequency_threshold"], out.loc[mine & seen, "visits_per_year"], "frequency_threshold"
        )
        s_thr = _threshold(
            s["spend_threshold"], out.loc[mine & seen, "spend_per_visit"], "spend_threshold"
        )
        out.loc[mine, "high_frequency"] = seen[mine] & (out.loc[mine, "visits_per_year"] >= f_thr)
        out.loc[mine, "high_spend"] = seen[mine] & (out.loc[mine, "spend_per_visit"] >= s_thr)
        thresholds[str(dealer)] = {"visits_per_year": f_thr, "spend_per_visit": s_thr}
    out["value_tag"] = tag_from_flags(
        out["high_frequency"].astype(bool), out["high_spend"].astype(bool), s["tags"]
    ).astype("str")
    out.attrs["thresholds"] = thresholds
    return out


def migration_matrix(
    prev_tags: pd.Series | pd.DataFrame, cur_tags: pd.Series | pd.DataFrame
) -> pd.DataFrame:
    """Customers moving between tags (rows from, columns to, plus ``new`` / ``gone``); sums to
    the number of customers tagged in either period."""
    return crosstab_with_flows(tag_series(prev_tags), tag_series(cur_tags), order=list(TAGS))


def ab_share(tags: pd.Series | pd.DataFrame, cfg: dict[str, Any] | None = None) -> float:
    """Share of tagged customers whose tag is a high-value tag (A or B by default)."""
    t = tag_series(tags).dropna()
    if t.empty:
        return float("nan")
    high = settings(cfg, "value_tags")["high_value_tags"]
    return float(t.isin(high).mean())


def tag_series(tags: pd.Series | pd.DataFrame) -> pd.Series:
    if isinstance(tags, pd.DataFrame):
        if "value_tag" not in tags.columns:
            raise CvmError("expected a value_tag column (output of value_tags)")
        return tags["value_tag"]
    return tags
