"""Training snapshots: which past as-of dates to learn from, and the stacked training frame.

Labels need H months of future, so every snapshot date is at most ``as_of - H``; the latest
``validation_snapshots`` of them form the out-of-time fold, the earlier ones the training set.
(Training label windows may overlap the validation date: that is what lets 2×H months of
history suffice; the validation rows themselves are never seen in training.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from cvm.config import InsufficientData
from cvm.data.ids import DAYS_PER_MONTH, add_months, day_number, days, isin, positions, to_timestamp
from cvm.engine import local_map, local_threads
from cvm.features.snapshot import build_features, feature_tables, restrict_tables
from cvm.settings import run_settings

log = logging.getLogger(__name__)

LabelFn = Callable[..., pd.Series]
HISTORY_TOLERANCE_DAYS = 16
"""Half a month of slack when checking that the data spans 2×H months (month lengths vary)."""


def history_months(visits: pd.DataFrame, as_of) -> float:
    """Months between the first visit and ``as_of`` (0 when there are no visits before it)."""
    d = days(visits["visit_date"])
    d = d[d <= day_number(as_of)]
    return 0.0 if len(d) == 0 else float((day_number(as_of) - np.nanmin(d)) / DAYS_PER_MONTH)


def snapshot_dates(
    visits: pd.DataFrame, as_of, horizon_months: int, cfg: dict[str, Any]
) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
    """(training dates, validation dates), ascending; validation strictly after training.

    Raises ``InsufficientData`` (a CvmError) when the data holds less than 2×H months of history before ``as_of``.
    """
    tc = cfg["training"]
    h = int(horizon_months)
    have = history_months(visits, as_of)
    need = 2 * h
    if have * DAYS_PER_MONTH < need * DAYS_PER_MONTH - HISTORY_TOLERANCE_DAYS:
        raise InsufficientData(
            f"training needs at least {need} months of visit history before {to_timestamp(as_of).date()}"
            f" (2 × the {h}-month horizon), but the data holds {have:.1f} months; "
            f"load more history or use a shorter --horizon-months"
        )
    first = day_number(as_of) - have * DAYS_PER_MONTH
    earliest = first + float(tc["min_history_months"]) * DAYS_PER_MONTH - HISTORY_TOLERANCE_DAYS
    dates: list[pd.Timestamp] = []
    for k in range(int(tc["max_snapshots"])):
        d = add_months(as_of, -h - k * int(tc["snapshot_step_months"]))
        if day_number(d) < earliest:
            break
        dates.append(d)
    dates.sort()
    n_valid = int(tc["validation_snapshots"])
    if len(dates) <= n_valid:
        raise InsufficientData(
            f"only {len(dates)} snapshot date(s) fit in {have:.1f} months of history; need more than "
            f"{n_valid} (training.snapshot_step_months={tc['snapshot_step_months']})"
        )
    return dates[:-n_valid], dates[-n_valid:]


def sample_customers(labelled: pd.Index, cap: int, seed: int, date) -> pd.Index:
    """At most ``cap`` of the ``labelled`` customers: a seeded uniform sample without
    replacement (order kept), the same for the same (labelled, cap, seed, date)."""
    if cap <= 0 or len(labelled) <= cap:
        return labelled
    rng = np.random.default_rng([int(seed), day_number(date)])
    return labelled[np.sort(rng.choice(len(labelled), cap, replace=False))]


def _union(indexes: list[pd.Index]) -> pd.Index:
    """The distinct ids of ``indexes``, as text."""
    if not indexes:
        return pd.Index([], dtype="str")
    return pd.Index(pd.unique(pd.concat([pd.Series(i, dtype="str") for i in indexes])))


def training_frame(
    tables: dict[str, pd.DataFrame],
    dates: list,
    horizon_months: int,
    cfg: dict[str, Any],
    label_fn: LabelFn,
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Features and labels of every snapshot stacked: (X, y, snapshot_date), same index.

    Rows are the customers ``label_fn(visits, date, H, cfg)`` labels that also have features.
    Beyond ``training.max_rows_per_snapshot`` labelled customers a snapshot takes a seeded
    uniform sample of them *before* its features are built, so the cost of a snapshot follows
    the sample, not the base (labels only read the visits; features only the sampled
    customers' rows, cut at the snapshot date). Sampling customers uniformly, independently of
    their features and label, leaves the joint distribution of (features, label) unchanged:
    the classifier and its calibration, and the value model's total scale (a ratio of sums
    over the same rows), stay unbiased; only their variance grows as 1/rows.
    """
    s = run_settings(cfg)
    cap, seed = s.training.max_rows_per_snapshot, s.seed
    xs, ys, ds = [], [], []
    threads = local_threads(cfg)  # snapshots' labels and features two at a time: the same rows
    visits = tables["visits"]
    labelled = local_map(lambda d: label_fn(visits, d, horizon_months, cfg), dates, threads)
    samples = [
        sample_customers(y.index, cap, seed, d) for y, d in zip(labelled, dates, strict=True)
    ]
    # the tables cut once to every sampled customer, not once per snapshot (the same rows)
    some = [k for k, y in zip(samples, labelled, strict=True) if len(k) < len(y)]
    sub = restrict_tables(feature_tables(tables, cfg), _union(some)) if len(some) > 1 else None
    snaps = list(zip(dates, labelled, samples, strict=True))
    feature_tables(tables, cfg)  # the tables read here, before the threads share them

    def build(snap: tuple[Any, pd.Series, pd.Index]) -> tuple[pd.DataFrame, pd.Series, pd.Index]:
        date, y, keep = snap
        part = len(keep) < len(y)
        x = build_features(
            tables, date, cfg, customers=keep if part else None, rows_from=sub if part else None
        )
        keep = keep[isin(keep, x.index)]
        return x.iloc[positions(keep, x.index)], y.iloc[positions(keep, y.index)], keep

    built = local_map(build, tqdm(snaps, desc="snapshots", leave=False), threads)
    for (date, y, _), (x, y_kept, keep) in zip(snaps, built, strict=True):
        xs.append(x)
        ys.append(y_kept)
        ds.append(pd.Series(to_timestamp(date), index=keep, name="snapshot_date"))
        log.info(
            "snapshot %s: %d rows of %d labelled, label mean %.3f",
            to_timestamp(date).date(),
            len(keep),
            len(y),
            float(y.loc[keep].mean()) if len(keep) else float("nan"),
        )
    if not xs:
        raise InsufficientData("no snapshot dates to build a training frame from")
    return pd.concat(xs), pd.concat(ys), pd.concat(ds)
