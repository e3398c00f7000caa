"""Score customers with saved bundles only (``cvm score``): no training code is imported.

Features come from ``cvm.features.snapshot.build_features`` with the feature settings each
bundle recorded; the bundle's ``asof_logic_version`` must equal the installed one. Churn is
scored for customers active at the as-of date, value for every customer with features, and
owners without a visit yet from the past rates of their cell saved with the bundles, as in
the monthly run (``cvm.steps``), so the numbers are the same.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cvm.config import load_config
from cvm.models.bundle_loader import MANIFEST_FILE, Bundle, BundleError, load_bundle

log = logging.getLogger(__name__)

MODEL_NAMES = ("churn", "value")
SCORE_COLUMNS = (
    "customer_id",
    "churn_probability",
    "predicted_value",
    "lifetime_value",
    "predicted_customer_paid",
    "as_of",
    "churn_bundle",
    "value_bundle",
)


def find_bundles(models: str | Path) -> dict[str, Path]:
    """Bundle folders under ``models``: a bundle itself, ``models/<name>`` or ``models/``.

    Per name the version with the latest as-of month is taken; two versions of that month
    are ambiguous (point ``--models`` at one of them).
    """
    root = Path(models)
    if not root.is_dir():
        raise BundleError(f"--models {root} does not exist (train with `cvm train --out {root}`)")
    if (root / MANIFEST_FILE).is_file():
        name = json.loads((root / MANIFEST_FILE).read_text(encoding="utf-8")).get(
            "name", root.parent.name
        )
        return {str(name): root}
    if any((d / MANIFEST_FILE).is_file() for d in root.iterdir() if d.is_dir()):
        return {root.name: _latest(root)}
    found = {
        d.name: _latest(d)
        for d in sorted(root.iterdir())
        if d.is_dir() and any((v / MANIFEST_FILE).is_file() for v in d.iterdir() if v.is_dir())
    }
    if not found:
        raise BundleError(
            f"no model bundles under {root} (expected {root}/<name>/<version>/{MANIFEST_FILE})"
        )
    return found


def _latest(name_dir: Path) -> Path:
    versions = sorted(
        d
        for d in name_dir.iterdir()
        if d.is_dir() and not d.name.startswith(".") and (d / MANIFEST_FILE).is_file()
    )
    month = max(v.name[:7] for v in versions)
    latest = [v for v in versions if v.name[:7] == month]
    if len(latest) > 1:
        raise BundleError(
            f"{name_dir}: several bundles for {month} "
            f"({', '.join(v.name for v in latest)}); point --models at one"
        )
    return latest[0]


def load_bundles(models: str | Path) -> dict[str, Bundle]:
    """Verified bundles found under ``models`` by name."""
    return {name: load_bundle(path) for name, path in find_bundles(models).items()}


def _feature_cfg(bundle: Bundle) -> dict[str, Any]:
    from cvm.features.asof_version import ASOF_LOGIC_VERSION, feature_source_hash

    spec = bundle.spec
    if str(spec.get("asof_logic_version")) != ASOF_LOGIC_VERSION:
        raise BundleError(
            f"bundle {bundle.path}: features were built with as-of logic version "
            f"{spec.get('asof_logic_version')}, this cvm builds version "
            f"{ASOF_LOGIC_VERSION}; retrain with `cvm train` or install the "
            f"cvm version that trained it ({bundle.meta['packages'].get('cvm')})"
        )
    if spec.get("asof_logic_source_sha256") != feature_source_hash():
        log.warning(
            "bundle %s: the feature code changed since training (same as-of logic version %s)",
            bundle.path,
            ASOF_LOGIC_VERSION,
        )
    return load_config("default", spec.get("config") or {})


def score_tables(
    tables: dict[str, pd.DataFrame], as_of: Any, bundles: dict[str, Bundle]
) -> pd.DataFrame:
    """One row per customer with features: churn probability (active customers), value."""
    from cvm.definitions import active_customers
    from cvm.features.snapshot import build_features

    as_of = pd.Timestamp(as_of).normalize()
    unknown = sorted(set(bundles) - set(MODEL_NAMES))
    if unknown:
        log.warning("ignoring bundles %s: cvm score uses %s", unknown, MODEL_NAMES)
    cache: dict[str, pd.DataFrame] = {}
    out: pd.DataFrame | None = None
    cols: dict[str, pd.Series] = {}
    for name in MODEL_NAMES:
        b = bundles.get(name)
        if b is None:
            log.warning("no %s bundle: its columns stay empty", name)
            continue
        if pd.Timestamp(b.meta["as_of"]) > as_of:
            log.warning(
                "bundle %s was trained as of %s, after the scoring date %s",
                b.version,
                b.meta["as_of"],
                as_of.date(),
            )
        cfg = _feature_cfg(b)
        key = json.dumps(cfg.get("features"), sort_keys=True) + json.dumps(
            cfg.get("definitions"), sort_keys=True
        )
        if key not in cache:
            cache[key] = build_features(tables, as_of, cfg)
        feats = cache[key]
        out = pd.DataFrame(index=feats.index) if out is None else out
        if name == "churn":
            active = active_customers(tables["visits"], as_of, cfg)
            X = feats.loc[feats.index.intersection(active)]
            cols["churn_probability"] = pd.Series(b.churn_probability(X), index=X.index)
        else:
            cols["predicted_value"] = pd.Series(b.predict(feats), index=feats.index)
            cols["lifetime_value"] = pd.Series(b.lifetime_value(feats), index=feats.index)
            cols["predicted_customer_paid"] = pd.Series(
                b.predict_customer_paid(feats), index=feats.index
            )
    if out is None:
        raise BundleError("no churn or value bundle to score with")
    out = out.reindex(out.index.union(_new_owner_columns(tables, as_of, bundles, cols)))
    for c in ("churn_probability", "predicted_value", "lifetime_value", "predicted_customer_paid"):
        out[c] = cols[c].reindex(out.index).astype(float) if c in cols else np.nan
    out["as_of"] = as_of.date().isoformat()
    for name in MODEL_NAMES:
        out[f"{name}_bundle"] = bundles[name].version if name in bundles else None
    out.index.name = "customer_id"
    return (
        out.reset_index()[list(SCORE_COLUMNS)]
        .sort_values("customer_id", kind="stable")
        .reset_index(drop=True)
    )


def _new_owner_columns(
    tables: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    bundles: dict[str, Bundle],
    cols: dict[str, pd.Series],
) -> pd.Index:
    """Owners without a visit yet (no features): churn probability and predicted value from
    the past rates of their cell saved with the bundles, as the monthly run scores them
    (``cvm.models.new_owners``); no lifetime value. Adds to ``cols``; returns their ids."""
    from cvm.models.new_owners import no_visit_owners

    with_rates = {n: b for n, b in bundles.items() if n in MODEL_NAMES and b.new_owners}
    if not with_rates:
        return pd.Index([])
    owners = no_visit_owners(tables, as_of)
    if not len(owners):
        return pd.Index([])
    for name, col in (("churn", "churn_probability"), ("value", "predicted_value")):
        if name in with_rates:
            new = pd.Series(with_rates[name].new_owner_scores(owners), index=owners.index)
            cols[col] = new if col not in cols else pd.concat([cols[col], new])
    return owners.index


def score_source(models: str | Path, data: str, as_of: Any) -> pd.DataFrame:
    """Load bundles and the data source (directory or SQLAlchemy URL), then score."""
    from cvm.data.loaders import load_tables
    from cvm.run_checks import check_as_of

    if as_of is None:
        raise BundleError("--as-of is required (YYYY-MM-DD)")
    tables = load_tables(data)
    check_as_of(tables, as_of)
    bundles = load_bundles(models)
    return score_tables(tables, as_of, bundles)
