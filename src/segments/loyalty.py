"""Loyalty type (忠诚类型): attitudinal × behavioural loyalty.

- Attitudinal (surveys and complaints in the last ``window_months``): high when the mean survey
  satisfaction is at least ``min_satisfaction`` and there is no complaint of severity
  ``>= complaint_min_severity``; a complaint alone makes it low; no survey and no complaint
  means the attitude is unobserved.
- Behavioural (visits): high with at least ``min_visits`` visits in the last
  ``behaviour_window_months``.

============  ==========  ===========
type          attitude    behaviour
============  ==========  ===========
true          high        high
latent        high        low
inertia       low         high
non_loyal     low         low
============  ==========  ===========

When the attitude is unobserved — or the store has neither a surveys nor a complaints table —
the type is ``unknown`` by default (``unobserved_attitude: unknown``); set it to ``high`` or
``low`` to assume an attitude instead (a documented fallback, reported as such).
Customers are those with a visit up to ``as_of``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cvm.config import CvmError
from cvm.data.ids import reindex
from cvm.segments._common import cut, log, months_before, settings, timestamp, visits_to

TYPES = ("true", "latent", "inertia", "non_loyal", "unknown")


def attitude(
    tables: dict[str, pd.DataFrame], as_of: pd.Timestamp, s: dict[str, Any], index: pd.Index
) -> pd.Series:
    """'high', 'low' or NaN (unobserved) per customer in ``index``."""
    start = months_before(as_of, s["window_months"])
    out = pd.Series(np.nan, index=index, dtype=object)
    surveys = cut(tables.get("surveys"), "survey_date", as_of, start=start)
    if surveys is not None and {"customer_id", "satisfaction"} <= set(surveys.columns):
        sat = pd.to_numeric(surveys["satisfaction"], errors="coerce")
        mean = reindex(sat.groupby(surveys["customer_id"]).mean().dropna(), index).dropna()
        out[mean.index] = np.where(mean >= s["min_satisfaction"], "high", "low")
    complaints = cut(tables.get("complaints"), "complaint_date", as_of, start=start)
    if complaints is not None and "customer_id" in complaints.columns:
        sev = pd.to_numeric(
            complaints.get("severity", pd.Series(1, index=complaints.index)), errors="coerce"
        ).fillna(1)
        who = complaints.loc[sev >= s["complaint_min_severity"], "customer_id"].unique()
        out[index.intersection(pd.Index(who))] = "low"
    return out


def loyalty_type(
    tables: dict[str, pd.DataFrame], as_of: Any, cfg: dict[str, Any] | None = None
) -> pd.Series:
    """Loyalty type per customer with a visit up to ``as_of`` (index ``customer_id``)."""
    as_of = timestamp(as_of)
    s = settings(cfg, "loyalty")
    visits = visits_to(tables, as_of)
    index = pd.Index(visits["customer_id"].unique(), name="customer_id").sort_values()
    recent = visits.loc[visits["visit_date"] > months_before(as_of, s["behaviour_window_months"])]
    n = reindex(recent.groupby("customer_id").size(), index, fill_value=0)
    behaviour = np.where(n >= s["min_visits"], "high", "low")
    att = attitude(tables, as_of, s, index)
    fallback = s["unobserved_attitude"]
    if fallback not in ("unknown", "high", "low"):
        raise CvmError(f"loyalty.unobserved_attitude must be unknown/high/low, got {fallback!r}")
    if tables.get("surveys") is None and tables.get("complaints") is None:
        log.warning(
            "loyalty: no surveys and no complaints table; attitude unobserved, "
            "using unobserved_attitude=%s",
            fallback,
        )
    if fallback != "unknown":
        att = att.fillna(fallback)
    kind = {
        ("high", "high"): "true",
        ("high", "low"): "latent",
        ("low", "high"): "inertia",
        ("low", "low"): "non_loyal",
    }
    out = pd.Series(
        [kind.get((a, b), "unknown") for a, b in zip(att.to_numpy(), behaviour, strict=True)],
        index=index,
        name="loyalty_type",
        dtype="str",
    )
    log.info("loyalty at %s: %s", as_of.date(), out.value_counts().to_dict())
    return out
