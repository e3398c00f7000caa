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

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cvm.config import CvmError
from cvm.data.ids import ids, reindex
from cvm.segments._common import (
    crosstab_with_flows,
    log,
    months_before,
    paid_amount,
    require,
    settings,
    timestamp,
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
    cell = np.full((2, 2), None, dtype=object)  # [high_frequency][high_spend] -> tag
    for tag, rule in mapping.items():
        cell[int(bool(rule["high_frequency"])), int(bool(rule["high_spend"]))] = tag
    hf = np.asarray(high_frequency, dtype=bool).astype(np.intp)
    hs = np.asarray(high_spend, dtype=bool).astype(np.intp)
    out = cell[hf, hs]
    if len(out) and pd.isna(out).any():
        raise CvmError("value_tags.tags does not cover all four frequency × spend cells")
    return pd.Series(out, index=high_frequency.index, dtype=object)


@dataclass
class TagVisits:
    """The visits as value tags read them, encoded once: customer codes (sorted ids), visit
    times, the spend counted per visit. Tagging many month ends of the same visits (the A+B
    trend) reuses one encoding."""

    index: pd.Index  # customer ids, sorted; position = code
    code: np.ndarray
    time: np.ndarray  # datetime64[ns]; NaT never counts
    spend: np.ndarray


def encode_visits(
    visits: pd.DataFrame,
    cfg: dict[str, Any] | None = None,
    customer_col: str = "customer_id",
    date_col: str = "visit_date",
    amount_col: str = "amount",
) -> TagVisits:
    """:class:`TagVisits` of ``visits`` under the ``value_tags`` settings of ``cfg``."""
    s = settings(cfg, "value_tags")
    require(visits, [customer_col, date_col], "visits")
    if s["spend"] == "paid":
        spend = paid_amount(visits, s["definitions"], amount_col=amount_col)
    elif s["spend"] == "all":
        require(visits, [amount_col], "visits")
        spend = pd.to_numeric(visits[amount_col], errors="coerce").fillna(0.0)
    else:
        raise CvmError(f"value_tags.spend must be 'paid' or 'all', got {s['spend']!r}")
    time = pd.to_datetime(visits[date_col], errors="coerce").to_numpy(dtype="datetime64[ns]")
    code, uniq = pd.factorize(ids(visits[customer_col]), sort=True)
    return TagVisits(
        index=pd.Index(uniq, name="customer_id"),
        code=code,
        time=time,
        spend=spend.to_numpy(dtype=float),
    )


def value_figures(
    visits: pd.DataFrame | TagVisits, as_of: Any, cfg: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Each customer's own figures (index ``customer_id``: those with a visit up to
    ``as_of``): ``visits_per_year`` and ``spend_per_visit`` over the window. Row-wise: a
    build over any split of the customers gives the same rows."""
    as_of = timestamp(as_of)
    s = settings(cfg, "value_tags")
    enc = visits if isinstance(visits, TagVisits) else encode_visits(visits, cfg)
    t_asof = np.datetime64(as_of.to_datetime64(), "ns")
    start = np.datetime64(months_before(as_of, s["window_months"]).to_datetime64(), "ns")
    keep = (enc.time <= t_asof) & (enc.code >= 0)  # NaT compares False
    code, time = enc.code[keep], enc.time[keep]
    k = len(enc.index)
    seen_any = np.bincount(code, minlength=k) > 0
    first = np.full(k, np.datetime64("NaT", "ns"))
    if len(code):
        first_s = pd.Series(time).groupby(code).min()
        first[first_s.index.to_numpy()] = first_s.to_numpy(dtype="datetime64[ns]")
    inw = time > start
    n = np.bincount(code[inw], minlength=k).astype("int64")
    spend = np.bincount(code[inw], weights=enc.spend[keep][inw], minlength=k)
    # exposure: the whole window, or from the first visit (at least min_exposure_months)
    whole_days = np.asarray(t_asof - first).astype("timedelta64[D]").astype(np.int64)
    short = whole_days.astype(float) / DAYS_PER_YEAR
    years = np.where(
        first <= start, s["window_months"] / 12, np.maximum(short, s["min_exposure_months"] / 12)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        per_visit = np.where(n > 0, spend / np.where(n > 0, n, 1).astype(float), 0.0)
    out = pd.DataFrame(
        {"visits_per_year": n / years, "spend_per_visit": per_visit}, index=enc.index
    ).iloc[np.flatnonzero(seen_any)]
    out.index.name = "customer_id"
    return out


def tag_customers(
    figures: pd.DataFrame, as_of: Any = None, cfg: dict[str, Any] | None = None
) -> pd.DataFrame:
    """The value tags of :func:`value_figures` (``as_of`` only for the log): the thresholds,
    a number or the median over the customers with a visit in the window, are figures
    across customers, taken over every customer given. Adds ``high_frequency``,
    ``high_spend``, ``value_tag``; the thresholds in ``.attrs["thresholds"]``."""
    s = settings(cfg, "value_tags")
    out = figures[["visits_per_year", "spend_per_visit"]].copy()
    vpy = out["visits_per_year"].to_numpy(dtype=float)
    spv = out["spend_per_visit"].to_numpy(dtype=float)
    seen = vpy > 0
    f_thr = _threshold(s["frequency_threshold"], pd.Series(vpy[seen]), "frequency_threshold")
    s_thr = _threshold(s["spend_threshold"], pd.Series(spv[seen]), "spend_threshold")
    out["high_frequency"] = seen & (vpy >= f_thr)
    out["high_spend"] = seen & (spv >= s_thr)
    out["value_tag"] = tag_from_flags(out["high_frequency"], out["high_spend"], s["tags"]).astype(
        "str"
    )
    out.index.name = "customer_id"
    out.attrs["thresholds"] = {"visits_per_year": f_thr, "spend_per_visit": s_thr}
    log.info(
        "value tags%s (thresholds %.2f visits/yr, %.0f CNY/visit): %s",
        f" at {timestamp(as_of).date()}" if as_of is not None else "",
        f_thr,
        s_thr,
        out["value_tag"].value_counts().to_dict(),
    )
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

    The thresholds used are in ``.attrs["thresholds"]``. The same as
    ``tag_customers(value_figures(...))``: each customer's figures, then the thresholds
    across customers.
    """
    enc = encode_visits(visits, cfg, customer_col, date_col, amount_col)
    return tag_customers(value_figures(enc, as_of, cfg), as_of, cfg)


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
    store = reindex(stores, out.index)
    code, names = pd.factorize(store, sort=True)  # -1: no store
    vpy = out["visits_per_year"].to_numpy(dtype=float)
    spv = out["spend_per_visit"].to_numpy(dtype=float)
    seen = vpy > 0
    f_thr = np.full(len(names), np.nan)
    s_thr = np.full(len(names), np.nan)
    thresholds: dict[str, dict[str, float]] = {}
    order = np.argsort(code, kind="stable")
    bounds = np.searchsorted(code[order], np.arange(len(names) + 1))
    for j, dealer in enumerate(names):
        rows = order[bounds[j] : bounds[j + 1]]
        rows = rows[seen[rows]]
        f_thr[j] = _threshold(s["frequency_threshold"], pd.Series(vpy[rows]), "frequency_threshold")
        s_thr[j] = _threshold(s["spend_threshold"], pd.Series(spv[rows]), "spend_threshold")
        thresholds[str(dealer)] = {
            "visits_per_year": float(f_thr[j]),
            "spend_per_visit": float(s_thr[j]),
        }
    mine = code >= 0
    c = np.maximum(code, 0)
    hf = out["high_frequency"].to_numpy(dtype=bool).copy()
    hs = out["high_spend"].to_numpy(dtype=bool).copy()
    if len(names):
        hf[mine] = (seen & (vpy >= f_thr[c]))[mine]
        hs[mine] = (seen & (spv >= s_thr[c]))[mine]
    out["high_frequency"], out["high_spend"] = hf, hs
    out["value_tag"] = tag_from_flags(out["high_frequency"], out["high_spend"], s["tags"]).astype(
        "str"
    )
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
