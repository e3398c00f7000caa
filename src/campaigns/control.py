"""Control groups: a seeded, stratified random share of each campaign's selection, held out."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from cvm.campaigns.catalogue import defaults
from cvm.config import CvmError

log = logging.getLogger(__name__)


def assign_control(
    plan: pd.DataFrame,
    share: float | None = None,
    seed: int = 0,
    strata: Sequence[str] | None = None,
    min_per_stratum: int | None = None,
    cfg: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """The plan with a ``group`` column: ``control`` (held out, never contacted) or ``target``.

    In each stratum (default ``campaign`` x ``value_tag``) of n rows, ``floor(share*n + u)``
    rows are drawn at random for control, u ~ U(0,1) seeded, so the expected share is exact
    even in small strata; at least ``min_per_stratum`` when n >= 2. Same seed, same groups.
    """
    d = defaults(cfg)
    share = float(d.control_share if share is None else share)
    strata = list(d.control_strata if strata is None else strata)
    min_per = int(d.min_control_per_stratum if min_per_stratum is None else min_per_stratum)
    if not 0.0 <= share < 1.0:
        raise CvmError(f"control share must be in [0, 1), got {share}")
    missing = [s for s in strata if s not in plan.columns]
    if missing:
        raise CvmError(f"control strata columns missing from the plan: {missing}")
    out = plan.copy()
    out["group"] = pd.Series("target", index=out.index, dtype=object)
    if out.empty:
        out["group"] = out["group"].astype(str)
        return out
    rng = np.random.default_rng(seed)
    keys = pd.Series("", index=out.index, dtype=object)
    for i, col in enumerate(strata):  # "campaign|value_tag", built column-wise (not row-wise)
        part = out[col].astype(str).fillna("nan").astype(object)
        keys = part if i == 0 else keys + "|" + part
    # stable stratum order so the draw does not depend on row order of equal plans
    for key in sorted(keys.unique()):
        idx = out.index[(keys == key).to_numpy()]
        idx = idx[np.argsort(out.loc[idx, "customer_id"].astype(str).to_numpy(), kind="stable")]
        n = len(idx)
        k = int(np.floor(share * n + rng.random()))
        if n >= 2:
            k = max(k, min(min_per, n - 1))
        k = min(k, n)
        if k:
            out.loc[rng.choice(idx, size=k, replace=False), "group"] = "control"
    out["group"] = out["group"].astype(str)
    log.info(
        "control groups: %d of %d held out (share %.3f)",
        int((out["group"] == "control").sum()),
        len(out),
        share,
    )
    return out


def contact_records(
    plan: pd.DataFrame,
    contact_date: date | pd.Timestamp | str,
    id_prefix: str = "",
) -> pd.DataFrame:
    """Rows for the ``campaign_contacts`` table: target and control alike, control cost 0.

    Appending these to the store's contact history is what lets next month's measurement and
    uplift fit see this month's campaigns.
    """
    for col in ("customer_id", "campaign", "channel", "group", "cost"):
        if col not in plan.columns:
            raise CvmError(f"contact_records needs plan column {col!r}")
    day = pd.Timestamp(contact_date)
    prefix = id_prefix or day.strftime("%Y%m")
    return pd.DataFrame(
        {
            "contact_id": [f"{prefix}-{i:07d}" for i in range(len(plan))],
            "customer_id": plan["customer_id"].to_numpy(),
            "campaign": plan["campaign"].astype(str).to_numpy(),
            "contact_date": day,
            "channel": plan["channel"].astype(str).to_numpy(),
            "group": plan["group"].astype(str).to_numpy(),
            "cost": np.where(
                plan["group"].to_numpy() == "control", 0.0, plan["cost"].to_numpy(float)
            ),
        }
    )
