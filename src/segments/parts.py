"""The segments of a part of the customers, and the segments of the whole from its parts.

Lifecycle stage, loyalty type and needs are functions of one customer's own rows; a value
tag is a customer's own frequency and spend per visit against thresholds that are figures
across customers (the store's or the group's medians). So a part (one store's customers, or
a block of them: ``cvm.features.snapshot.split_tables``) computes everything but the
thresholds (:func:`segment_part`, one task on a Dask engine), and the driver, once every
part is in, takes the medians over all customers and tags (``cvm.steps.segments``): the same
rows as the whole computed at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cvm.features.stores import customer_stores
from cvm.segments.lifecycle import lifecycle_stage
from cvm.segments.loyalty import loyalty_type
from cvm.segments.needs import needs_tags
from cvm.segments.value_tags import encode_visits, value_figures

TABLES_READ = ("visits", "customers", "vehicles", "vehicle_sales", "leads", "surveys", "complaints")
"""The tables :func:`segment_part` reads (the others are not sent with its tasks)."""


def segment_part(
    tables: dict[str, pd.DataFrame],
    now: Any,
    prev: Any,
    cfg: dict[str, Any] | None,
    group: bool = False,
) -> dict[str, pd.Series | pd.DataFrame]:
    """Per customer of ``tables`` (every row of each of its customers): the lifecycle stage
    now and a month ago, the value-tag figures now and a month ago, the loyalty type and the
    needs tags (each indexed by ``customer_id``, sorted); for a dealer ``group``, also each
    customer's store a month ago (``stores_prev``: the store thresholds of last month's
    tags)."""
    enc = encode_visits(tables["visits"], cfg)
    out: dict[str, pd.Series | pd.DataFrame] = {
        "stage": lifecycle_stage(tables, now, cfg),
        "stage_prev": lifecycle_stage(tables, prev, cfg),
        "value": value_figures(enc, now, cfg),
        "value_prev": value_figures(enc, prev, cfg),
        "loyalty": loyalty_type(tables, now, cfg),
        "needs": needs_tags(tables, now, cfg),
    }
    if group:
        out["stores_prev"] = customer_stores(tables, prev, cfg)
    return out


def segment_part_at(
    path: str, now: Any, prev: Any, cfg: dict[str, Any] | None, group: bool = False
) -> dict[str, pd.Series | pd.DataFrame]:
    """:func:`segment_part` on the part in folder ``path`` (a Dask task: the worker reads its
    part, ``cvm.features.part_files``)."""
    from cvm.features.part_files import read_part

    return segment_part(read_part(path), now, prev, cfg, group)


def combine_parts(
    parts: list[dict[str, pd.Series | pd.DataFrame]],
) -> dict[str, pd.Series | pd.DataFrame]:
    """The parts of :func:`segment_part` as one: each output's rows in customer order."""
    if len(parts) == 1:
        return parts[0]
    out: dict[str, pd.Series | pd.DataFrame] = {}
    for key in parts[0]:
        pieces = [p[key] for p in parts if len(p[key])] or [parts[0][key]]
        whole = pd.concat(pieces) if len(pieces) > 1 else pieces[0]
        idx = whole.index.to_numpy(dtype=object)
        order = np.argsort(idx, kind="stable")
        whole = whole.iloc[order]
        whole.index = pd.Index(idx[order], name="customer_id", dtype="str")
        whole.attrs = dict(parts[0][key].attrs)
        out[key] = whole
    return out
