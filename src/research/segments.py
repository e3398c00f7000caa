"""What-if value tags: other frequency / spend thresholds and the migration they give."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cvm.config import CvmError
from cvm.segments.value_tags import migration_matrix, value_tags


def check_thresholds(frequency_threshold: float | str, spend_threshold: float | str) -> None:
    """Each threshold a non-negative number or ``"median"`` (a clear error otherwise)."""
    for name, v in (
        ("frequency_threshold", frequency_threshold),
        ("spend_threshold", spend_threshold),
    ):
        if isinstance(v, str):
            if v == "median":
                continue
            try:
                v = float(v)
            except ValueError:
                raise CvmError(f'{name} must be a number or "median", got {v!r}') from None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise CvmError(f'{name} must be a number >= 0 or "median", got {v!r}')


def _threshold(v: float | str) -> float | str:
    return v if v == "median" else float(v)


def value_tag_whatif(
    visits: pd.DataFrame,
    as_of: Any,
    prev_as_of: Any,
    frequency_threshold: float | str,
    spend_threshold: float | str,
    cfg: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Value tags now and a month earlier under the given thresholds (a number, or
    ``"median"``): the month-over-month migration matrix they give, the tag counts, the
    thresholds used, and how customers move from the configured tags to these."""
    cfg = dict(cfg or {})
    seg = dict(cfg.get("segments") or {})
    over = {
        **cfg,
        "segments": {
            **seg,
            "value_tags": {
                **(seg.get("value_tags") or {}),
                "frequency_threshold": _threshold(frequency_threshold),
                "spend_threshold": _threshold(spend_threshold),
            },
        },
    }
    now, prev = value_tags(visits, as_of, over), value_tags(visits, prev_as_of, over)
    configured = value_tags(visits, as_of, cfg)
    versus = pd.crosstab(
        configured["value_tag"].rename("configured"),
        now["value_tag"].reindex(configured.index).rename("what_if"),
    )
    return {
        "thresholds": now.attrs["thresholds"],
        "configured_thresholds": configured.attrs["thresholds"],
        "counts": now["value_tag"].value_counts().sort_index(),
        "migration": migration_matrix(prev["value_tag"], now["value_tag"]),
        "versus_configured": versus,
    }
