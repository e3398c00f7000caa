"""The value definition's margin table: gross margin per payer and visit type
(``configs/value.yaml`` ``margin``), validated. Used by the value label
(``cvm.features.margin``) and by the simulator's truth and oracle, so both count value alike."""

from __future__ import annotations

from typing import Any

import numpy as np

from cvm.config import CvmError, load_config
from cvm.data.contract import VISIT_TYPES

MARGIN_PAYERS = ("customer", "insurer", "warranty")
MARGIN_TYPES = (*VISIT_TYPES, "unknown")


def margin_table(cfg: dict[str, Any] | None = None) -> dict[str, dict[str, float]]:
    """The validated ``margin`` table of ``configs/value.yaml`` (the run's ``value`` merged in).

    A missing payer/visit-type pair or a margin outside [0, 1] is a ``CvmError`` (exit 2)
    naming the key."""
    v = load_config("value", (cfg or {}).get("value"))
    m = v.get("margin")
    if not isinstance(m, dict):
        raise CvmError(
            "configs/value.yaml: `margin` is missing; give the gross margin per payer "
            f"({', '.join(MARGIN_PAYERS)}) and visit type ({', '.join(MARGIN_TYPES)})"
        )
    out: dict[str, dict[str, float]] = {}
    for payer in MARGIN_PAYERS:
        row = m.get(payer)
        for vt in MARGIN_TYPES:
            key = f"margin.{payer}.{vt}"
            if not isinstance(row, dict) or vt not in row or row[vt] is None:
                raise CvmError(
                    f"configs/value.yaml: {key} is missing; every payer "
                    f"({', '.join(MARGIN_PAYERS)}) needs a gross margin for every "
                    f"visit type ({', '.join(MARGIN_TYPES)})"
                )
            try:
                x = float(row[vt])
            except (TypeError, ValueError):
                raise CvmError(
                    f"configs/value.yaml: {key} = {row[vt]!r} is not a number; "
                    f"give a share in [0, 1]"
                ) from None
            if not 0.0 <= x <= 1.0 or np.isnan(x):
                raise CvmError(
                    f"configs/value.yaml: {key} = {x} is outside [0, 1]; a gross "
                    f"margin is the share of the revenue the store keeps"
                )
            out.setdefault(payer, {})[vt] = x
    return out


def unknown_payer_rates(cfg: dict[str, Any] | None = None) -> dict[str, float]:
    """Gross margin per visit type of a visit whose payer the data does not record (no
    ``payer`` column, e.g. a visits-only export): the ``margin`` of each payer blended over
    ``unknown_payer_mix`` (the assumed revenue share of each payer, validated: every payer
    of ``margin``, shares in [0, 1] summing to 1; else a ``CvmError`` naming the key)."""
    table = margin_table(cfg)
    mix = load_config("value", (cfg or {}).get("value")).get("unknown_payer_mix")
    if not isinstance(mix, dict) or set(mix) != set(MARGIN_PAYERS):
        raise CvmError(
            "configs/value.yaml: unknown_payer_mix must give the revenue share of every payer "
            f"({', '.join(MARGIN_PAYERS)}), got {mix!r}"
        )
    shares = {}
    for payer in MARGIN_PAYERS:
        try:
            x = float(mix[payer])
        except (TypeError, ValueError):
            x = float("nan")
        if not 0.0 <= x <= 1.0:
            raise CvmError(
                f"configs/value.yaml: unknown_payer_mix.{payer} = {mix[payer]!r} is not a "
                f"share in [0, 1]"
            )
        shares[payer] = x
    if abs(sum(shares.values()) - 1.0) > 1e-6:
        raise CvmError(
            f"configs/value.yaml: the shares of unknown_payer_mix sum to "
            f"{sum(shares.values()):g}; they are the revenue mix by payer and must sum to 1"
        )
    return {vt: sum(shares[p] * table[p][vt] for p in MARGIN_PAYERS) for vt in MARGIN_TYPES}
