"""Simulator regimes: worlds of a different shape than the standard one.

A regime changes one thing that real dealer data differs in (who enters the base and when,
which tables exist, how long the history is, how the warranty end plays out, how campaigns were
targeted, how much of the customers' traits the tables reveal). Each regime is a set of
parameter overrides (applied before the world is drawn), an entry plan (``closed-cohort``) or a
rewrite of the finished contract tables (``visits-only``, ``opaque``); the ground truth is
always computed from the same world, so it stays exact. Settings: ``configs/regimes.yaml``;
documentation: docs/simulator.md ("Regimes").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cvm.config import CvmError

STANDARD = "standard"
REGIMES = (
    STANDARD,
    "closed-cohort",
    "visits-only",
    "short-history",
    "gradual-warranty",
    "confounded",
    "opaque",
)


def parse_regimes(text: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """``"a,b"`` -> ``("a", "b")`` in canonical order; ``standard`` alone is the default.

    Unknown names raise a ``CvmError`` (exit 2) listing the regimes."""
    parts = text.split(",") if isinstance(text, str) else list(text or [])
    names = [p.strip() for p in parts if p and p.strip()]
    bad = [n for n in names if n not in REGIMES]
    if bad:
        raise CvmError(
            f"unknown regime {', '.join(map(repr, bad))}; the regimes are: "
            f"{', '.join(REGIMES)} (combine them with commas, e.g. "
            f"--regime closed-cohort,visits-only)"
        )
    chosen = {n for n in names if n != STANDARD}
    return tuple(r for r in REGIMES if r in chosen) or (STANDARD,)


def regime_settings() -> dict[str, Any]:
    """``configs/regimes.yaml`` (regime names are its keys, so it is read as plain YAML)."""
    from cvm.config import CONFIG_DIR, read_yaml

    return dict(read_yaml(CONFIG_DIR / "regimes.yaml"))


def years_for(regimes: tuple[str, ...], years: float, rs: dict[str, Any]) -> float:
    """The history length: ``short-history`` overrides ``--years``."""
    if "short-history" in regimes:
        return float(rs["short-history"]["months"]) / 12.0
    return years


def param_overrides(regimes: tuple[str, ...], rs: dict[str, Any]) -> dict[str, Any]:
    """Overrides of ``configs/simulator.yaml`` that the regimes need (merged into the params)."""
    o: dict[str, Any] = {"regimes": list(regimes)}
    if "closed-cohort" in regimes:
        o["population"] = {"pre_window_share": 0.0}
        o["closed_cohort_months"] = int(rs["closed-cohort"]["entry_months"])
    if "gradual-warranty" in regimes:
        g = rs["gradual-warranty"]
        o["churn"] = {
            "stage_logit": {"first_post_warranty": float(g["first_post_warranty_logit"])},
            "post_warranty_spread": {
                "months": int(g["spread_months"]),
                "logit": float(g["spread_logit"]),
            },
        }
    if "confounded" in regimes:
        c = rs["confounded"]
        o["campaigns"] = {
            "selection": str(c["selection"]),
            "rank_noise": float(c["rank_noise"]),
            "control_share_by_campaign": dict(c["control_share"] or {}),
        }
    return o


def closed_cohort_entry(
    rng: np.random.Generator, p: dict[str, Any], n: int, start_month: int
) -> tuple[np.ndarray, np.ndarray]:
    """Kinds and entry months of a closed cohort: everyone enters in the first
    ``closed_cohort_months`` of the window (store-sold in ``store_sold_share``), nobody after."""
    months = int(p["closed_cohort_months"])
    kind = np.where(rng.random(n) < p["population"]["store_sold_share"], 0, 1).astype(np.int8)
    entry = (start_month + rng.integers(0, months, size=n)).astype(np.int32)
    return kind, entry


def rewrite_tables(
    regimes: tuple[str, ...], tables: dict[str, pa.Table], seed: int, rs: dict[str, Any]
) -> dict[str, pa.Table]:
    """The contract tables as the regime's store would record them (``opaque``,
    ``visits-only``); the other regimes leave them as simulated."""
    out = dict(tables)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 415]))
    if "opaque" in regimes:
        out = _opaque(out, rng, rs["opaque"])
    if "visits-only" in regimes:
        cols = list(rs["visits-only"]["columns"])
        out = {"visits": out["visits"].select(cols)}
    return out


def _opaque(
    t: dict[str, pa.Table], rng: np.random.Generator, o: dict[str, Any]
) -> dict[str, pa.Table]:
    cust = t["customers"]
    n = cust.num_rows
    dist = cust["distance_km"].to_numpy(zero_copy_only=False).astype(float)
    noisy = dist * np.exp(float(o["district_noise"]) * rng.standard_normal(n))
    ring = np.digitize(noisy, np.asarray(o["district_km"], float)[1:])
    district = np.asarray(o["district_value_km"], float)[ring]
    cust = cust.set_column(
        cust.schema.get_field_index("distance_km"),
        "distance_km",
        pa.array(np.where(np.isnan(dist), np.nan, district), pa.float64(), from_pandas=True),
    )
    for col, share in (
        ("income_band", o["income_missing"]),
        ("occupation", o["occupation_missing"]),
    ):
        if col in cust.column_names:
            drop = pa.array(rng.random(n) < float(share))
            i = cust.schema.get_field_index(col)
            cust = cust.set_column(i, col, pc.if_else(drop, pa.nulls(n, cust[col].type), cust[col]))
    t["customers"] = cust
    s = t.get("surveys")
    if s is not None:
        t["surveys"] = s.filter(pa.array(rng.random(s.num_rows) < float(o["survey_keep"])))
    return t
