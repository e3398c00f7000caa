"""Save trained models as bundles other systems can load without this repository's training code.

``save_bundle(model, name, out_dir, …)`` writes ``out_dir/<name>/<version>/`` (layout in
``cvm.models.bundle_loader`` and docs/model-bundles.md). The version is deterministic:
``<as-of month>-<first 10 hex of the sha256 of the model files and feature spec>``, so the same
data and code give the same version and the same bytes (no timestamps; timings are left out of
the saved metrics). Loading lives in ``bundle_loader`` (no training imports).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import platform
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from cvm import __version__
from cvm.config import load_config
from cvm.data.hashing import tables_hash
from cvm.features.asof_version import ASOF_LOGIC_VERSION, feature_source_hash
from cvm.fileio import dumps, write_bytes
from cvm.models.bundle_loader import (
    CHECKSUM_FILE,
    FORMAT_VERSION,
    MANIFEST_FILE,
    SIGNATURE_FILE,
    SPEC_FILE,
    BundleError,
    bundle_key,
    load_bundle,
    sha256_bytes,
    sign,
    verify_files,
)

log = logging.getLogger(__name__)

PACKAGES = (
    "lightgbm",
    "numpy",
    "pandas",
    "scikit-learn",
    "pyarrow",
    "onnxmltools",
    "onnxruntime",
    "onnx",
)


# ----------------------------------------------------------------------------- helpers
def _dumps(obj: Any) -> bytes:
    return (dumps(obj, sort_keys=True) + "\n").encode("utf-8")


def _strip_timings(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics without wall-clock timings (bundles are byte-for-byte deterministic)."""
    return {
        k: (_strip_timings(v) if isinstance(v, dict) else v)
        for k, v in metrics.items()
        if "seconds" not in k
    }


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a bundle depends on (None when absent)."""
    out: dict[str, str | None] = {"cvm": __version__, "python": platform.python_version()}
    for pkg in PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


# ----------------------------------------------------------------------------- model parts
def _churn_parts(model: Any) -> tuple[dict[str, bytes], dict[str, Any], dict[str, list[str]]]:
    files = {
        "churn.lgb.txt": model.booster.model_to_string().encode("utf-8"),
        "calibrator.json": _dumps(model.calibrator.to_dict()),
    }
    spec = {
        "type": "churn",
        "kind": "binary_calibrated",
        "boosters": {"churn": "churn.lgb.txt"},
        "calibrator": "calibrator.json",
        "output": "P(no paid visit within the horizon)",
    }
    return files, spec, {k: list(v) for k, v in model.categories.items()}


def _value_parts(model: Any) -> tuple[dict[str, bytes], dict[str, Any], dict[str, list[str]]]:
    from cvm.features.snapshot import CATEGORIES

    if model.kind == "tweedie":
        parts = {"spend": model.boosters[0], "occurrence": model.occurrence}
    else:  # two_part: boosters = [occurrence (binary), spend | visit]
        parts = {"occurrence": model.boosters[0], "spend": model.boosters[1]}
    if getattr(model, "paid_booster", None) is not None:
        parts["customer_paid"] = model.paid_booster
    files = {f"{p}.lgb.txt": b.model_to_string().encode("utf-8") for p, b in parts.items()}
    spec = {
        "type": "value",
        "kind": model.kind,
        "boosters": {p: f"{p}.lgb.txt" for p in parts},
        "scale": float(model.scale),
        "horizon_months": int(model.horizon_months),
        "lifetime": dict(model.lifetime),
        "output": "expected gross margin over the horizon (every payer's revenue x the "
        "margin of its payer and visit type), CNY",
    }
    if "customer_paid" in parts:
        spec["customer_paid_scale"] = float(model.paid_scale)
    from cvm.features.registry import REGISTRY

    # the built categoricals and the store's own declared ones (cvm.features.extra), whose
    # levels come from the data and are read back from the booster
    names = [
        c
        for c in model.feature_names
        if c in CATEGORIES or (c in REGISTRY and REGISTRY[c].categorical)
    ]
    saved = [list(map(str, c)) for c in (model.boosters[0].pandas_categorical or [])]
    cats = {c: list(CATEGORIES[c]) if c in CATEGORIES else [] for c in names}
    if saved and len(saved) == len(names):
        cats = {c: (cats[c] or s) for c, s in zip(names, saved, strict=True)}
    if saved and saved != list(cats.values()):
        raise BundleError("value model: the booster's categories differ from the feature spec's")
    return files, spec, cats


def feature_spec(
    names: list[str], categories: dict[str, list[str]], cfg: dict[str, Any]
) -> dict[str, Any]:
    """Names in order, dtypes, categories and the as-of logic that builds them."""
    feats = [
        {"name": n, "dtype": "category", "categories": list(categories[n])}
        if n in categories
        else {"name": n, "dtype": "float32"}
        for n in names
    ]
    return {
        "features": feats,
        "asof_logic_version": ASOF_LOGIC_VERSION,
        "asof_logic_source_sha256": feature_source_hash(),
        "builder": "cvm.features.snapshot.build_features(tables, as_of, cfg)",
        "rows": "one per customer with a visit on or before as_of; rows dated after as_of "
        "are cut before any feature is computed",
        "scored_rows": {
            "churn": "customers active at as_of (cvm.definitions.active_customers)",
            "value": "every row",
        },
        "config": {"features": cfg.get("features", {}), "definitions": cfg.get("definitions", {})},
    }


def window_from_metrics(metrics: dict[str, Any], as_of: Any, horizon: int) -> dict[str, Any]:
    """First/last training snapshot and the out-of-time snapshot(s), from the model's metrics."""
    train = list(metrics.get("train_dates") or [])
    valid = list(metrics.get("valid_dates") or [])
    if not train and metrics.get("snapshots"):
        snaps = list(metrics["snapshots"])
        train, valid = snaps[:-1], snaps[-1:]
    return {
        "as_of": str(pd.Timestamp(as_of).date()),
        "horizon_months": int(horizon),
        "train_snapshots": train,
        "validation_snapshots": valid,
        "labels_observed_until": str(pd.Timestamp(as_of).date()),
    }


# ----------------------------------------------------------------------------- save
def save_bundle(
    model: Any,
    name: str,
    out_dir: str | Path,
    *,
    as_of: Any,
    data_hash: str,
    metrics: dict[str, Any] | None = None,
    training_window: dict[str, Any] | None = None,
    cfg: dict[str, Any] | None = None,
    onnx: bool | None = None,
    new_owner_rates: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` (ChurnModel or ValueModel) to ``out_dir/name/<version>``; its path.

    ``onnx``: also export the boosters to ONNX (None = when onnxmltools is installed). An
    existing bundle of the same version is verified and reused (the version is a content hash).
    ``new_owner_rates`` (``cvm.models.new_owners.fit_new_owner_rates``): saved as
    ``new_owners.json``, so ``cvm score`` scores owners without a visit yet as the run does.
    """
    cfg = cfg or load_config()
    as_of = pd.Timestamp(as_of)
    metrics = _strip_timings(dict(metrics if metrics is not None else model.metrics))
    is_churn = hasattr(model, "calibrator")
    files, mspec, cats = (_churn_parts if is_churn else _value_parts)(model)
    spec = feature_spec(list(model.feature_names), cats, cfg)
    files[SPEC_FILE] = _dumps(spec)
    if new_owner_rates and new_owner_rates.get("n"):
        files["new_owners.json"] = _dumps(new_owner_rates)
        mspec["new_owners"] = "new_owners.json"
    h = hashlib.sha256()
    for fname in sorted(files):
        h.update(fname.encode() + b"\0" + files[fname])
    version = f"{as_of:%Y-%m}-{h.hexdigest()[:10]}"
    target = Path(out_dir) / name / version
    key = bundle_key()
    if target.exists():
        verify_files(target)  # raises if it was tampered with
        if key is not None and not (target / SIGNATURE_FILE).exists():
            _sign_existing(target, key)
        load_bundle(target)
        log.info("bundle %s %s already saved at %s", name, version, target)
        return target
    window = training_window or window_from_metrics(
        metrics,
        as_of,
        int(mspec.get("horizon_months") or metrics.get("horizon_months") or cfg["horizon_months"]),
    )
    from cvm.models.bundle_card import model_card

    if onnx is None:
        onnx = importlib.util.find_spec("onnxmltools") is not None
    if onnx:
        from cvm.models.bundle_onnx import booster_to_onnx

        mspec["onnx"] = {}
        for part, fname in mspec["boosters"].items():
            booster = _booster(model, part)
            oname = fname.replace(".lgb.txt", ".onnx")
            files[oname] = booster_to_onnx(booster, len(model.feature_names), f"cvm_{name}_{part}")
            mspec["onnx"][part] = oname
    meta = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "version": version,
        "model": mspec,
        "as_of": str(as_of.date()),
        "training_window": window,
        "data_hash": data_hash,
        "packages": package_versions(),
        "files": sorted([*files, "metrics.json", "MODEL_CARD.md"]),
    }
    files["metrics.json"] = _dumps(metrics)
    files[MANIFEST_FILE] = _dumps(meta)
    files["MODEL_CARD.md"] = model_card(meta, spec, metrics).encode("utf-8")
    files[CHECKSUM_FILE] = "".join(
        f"{sha256_bytes(files[f])}  {f}\n" for f in sorted(files)
    ).encode("utf-8")
    if key is not None:  # who made it: HMAC-SHA256 of SHA256SUMS (docs/model-bundles.md)
        files[SIGNATURE_FILE] = sign(files[CHECKSUM_FILE], key)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=target.parent))
    try:
        for fname, data in files.items():
            (tmp / fname).write_bytes(data)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("saved bundle %s %s to %s", name, version, target)
    return target


def _sign_existing(target: Path, key: str) -> None:
    """Sign a verified bundle of the same version saved earlier without a key."""
    sig = target / SIGNATURE_FILE
    write_bytes(sig, sign((target / CHECKSUM_FILE).read_bytes(), key))
    log.info("signed the existing bundle %s", target)


def _booster(model: Any, part: str) -> Any:
    if part == "churn":
        return model.booster
    if part == "customer_paid":
        return model.paid_booster
    if model.kind == "tweedie":
        return model.boosters[0] if part == "spend" else model.occurrence
    return model.boosters[0] if part == "occurrence" else model.boosters[1]


def save_run_bundle(ctx: Any, name: str, model: Any) -> Path:
    """Monthly run: save ``model`` under ``ctx.run_dir/models`` and record its folder name in
    the ``<name>_bundle`` artifact (the manifest lists them)."""
    onnx = bool((ctx.cfg.get("bundles") or {}).get("onnx_in_monthly_run", False))
    # the run's table copy records the hash of the validated tables (computed once per run)
    cached = getattr(ctx, "cached", None)
    data_hash = (cached("tables_hash") if cached else None) or tables_hash(ctx.tables)
    path = save_bundle(
        model,
        name,
        ctx.run_dir / "models",
        as_of=ctx.as_of,
        data_hash=data_hash,
        cfg=ctx.cfg,
        onnx=onnx,
        new_owner_rates=ctx.load_json("new_owner_rates") if ctx.has("new_owner_rates") else None,
    )
    ctx.save_json(f"{name}_bundle", path.name)
    return path
