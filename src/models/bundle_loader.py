"""Load and use a model bundle: verified files, LightGBM text models, JSON, no training code.

This module needs only the standard library, numpy, pandas and lightgbm: it imports nothing
from the rest of ``cvm`` except the error base class (optional), so other systems can vendor
this one file. ``load_bundle(path)`` checks ``SHA256SUMS`` (every file listed, none missing,
none added, none changed), the bundle ``format_version`` and the LightGBM major version, then
returns a :class:`Bundle` with scikit-learn-style ``predict`` / ``predict_proba``.

Layout (see docs/model-bundles.md)::

    models/<name>/<version>/
        bundle.json         format_version, name, version, model (how to combine the files),
                            as_of, training_window, data_hash, packages
        feature_spec.json   feature names in order, dtypes, categories, asof_logic_version
        metrics.json        validation metrics (out-of-time)
        *.lgb.txt           LightGBM text models
        calibrator.json     churn: raw probability -> calibrated probability
        new_owners.json     optional: past rates of owners without a visit yet, per cell
                            (months since purchase x price band): ``Bundle.new_owner_scores``
        *.onnx              optional: the same boosters in ONNX (raw outputs)
        MODEL_CARD.md       the model card
        SHA256SUMS          sha256 of every other file (``sha256sum -c SHA256SUMS`` works)
        SHA256SUMS.sig      optional: HMAC-SHA256 of SHA256SUMS with the key in CVM_BUNDLE_KEY

Bundles hold regular files only: a symbolic link, or a listed path that resolves outside the
bundle folder, is refused. With ``CVM_BUNDLE_KEY`` set, ``load_bundle`` also refuses a bundle
that is unsigned or signed with another key (who made it, not only what it holds).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

try:  # inside cvm the CLI maps CvmError to exit code 2; vendored copies need no cvm
    from cvm.config import CvmError as _Base
except ImportError:  # pragma: no cover - vendored use
    _Base = Exception  # type: ignore[misc,assignment]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Bundle layout version this loader reads; bumped on incompatible layout changes."""
CHECKSUM_FILE = "SHA256SUMS"
SIGNATURE_FILE = "SHA256SUMS.sig"
KEY_ENV = "CVM_BUNDLE_KEY"
MANIFEST_FILE = "bundle.json"
SPEC_FILE = "feature_spec.json"


class BundleError(_Base):
    """A bundle is missing, tampered with or incompatible; the message names the file."""

    exit_code = 2


# ----------------------------------------------------------------------------- checksums
def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def read_checksums(path: Path) -> dict[str, str]:
    """``SHA256SUMS`` of bundle folder ``path`` as {relative file: hex digest}."""
    f = Path(path) / CHECKSUM_FILE
    if not f.is_file():
        raise BundleError(f"{path} is not a model bundle: {CHECKSUM_FILE} is missing")
    sums: dict[str, str] = {}
    for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name:
            raise BundleError(f"{f}: line {n} is not '<sha256>  <file>'")
        sums[name.strip()] = digest.lower()
    return sums


def sign(checksums: bytes, key: str) -> bytes:
    """The content of ``SHA256SUMS.sig``: ``hmac-sha256 <hex>`` of the ``SHA256SUMS`` bytes."""
    mac = hmac.new(key.encode("utf-8"), checksums, hashlib.sha256).hexdigest()
    return f"hmac-sha256 {mac}\n".encode("ascii")


def bundle_key() -> str | None:
    """The signing key from ``CVM_BUNDLE_KEY`` (None when unset or empty)."""
    return os.environ.get(KEY_ENV) or None


def verify_signature(path: Path, key: str | None) -> None:
    """With a key: ``SHA256SUMS.sig`` must exist and match; without one it is not checked."""
    sig = Path(path) / SIGNATURE_FILE
    if key is None:
        if sig.exists():
            log.info(
                "bundle %s is signed; %s is not set, so the signature is not checked", path, KEY_ENV
            )
        return
    if not sig.is_file() or sig.is_symlink():
        raise BundleError(
            f"bundle {path} is not signed ({SIGNATURE_FILE} is missing) and "
            f"{KEY_ENV} is set, so only bundles signed with that key are accepted; "
            f"retrain with `cvm train` with {KEY_ENV} set, or unset {KEY_ENV}"
        )
    expected = sign((Path(path) / CHECKSUM_FILE).read_bytes(), key)
    if not hmac.compare_digest(sig.read_bytes().strip(), expected.strip()):
        raise BundleError(
            f"bundle {path}: {SIGNATURE_FILE} does not match {CHECKSUM_FILE} with "
            f"the key in {KEY_ENV}: the bundle was changed after signing or was "
            f"signed with another key; do not use it (retrain with `cvm train`)"
        )


def _no_links(path: Path) -> None:
    """Refuse symbolic links anywhere in the bundle folder (they can point outside it)."""
    for root, dirs, files in os.walk(path, followlinks=False):
        for name in dirs + files:
            p = Path(root) / name
            if p.is_symlink():
                raise BundleError(
                    f"bundle {path}: {p.relative_to(path).as_posix()} is a symbolic "
                    f"link (to {os.readlink(p)}); a bundle holds regular files only: "
                    f"replace it with the file itself or retrain"
                )


def _inside(path: Path, name: str) -> Path:
    """The file ``name`` of ``SHA256SUMS`` inside the bundle; refused when it resolves outside."""
    rel = Path(name)
    target = (path / rel).resolve()
    if rel.is_absolute() or ".." in rel.parts or not target.is_relative_to(path.resolve()):
        raise BundleError(
            f"bundle {path}: {CHECKSUM_FILE} lists {name!r}, which resolves outside "
            f"the bundle folder ({target}); the bundle was tampered with: restore "
            f"it or retrain"
        )
    return path / rel


def verify_files(path: Path, key: str | None = None) -> dict[str, bytes]:
    """Every file of the bundle, verified against ``SHA256SUMS`` (and its signature when
    ``key`` is given); {name: bytes}. Symbolic links and paths outside the folder are refused."""
    path = Path(path)
    _no_links(path)
    sums = read_checksums(path)
    verify_signature(path, key)
    present = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}
    present -= {CHECKSUM_FILE, SIGNATURE_FILE}
    extra = sorted(present - set(sums))
    if extra:
        raise BundleError(
            f"bundle {path}: {extra[0]} is not listed in {CHECKSUM_FILE} "
            f"(files were added after the bundle was saved: {extra})"
        )
    out: dict[str, bytes] = {}
    for name, digest in sorted(sums.items()):
        f = _inside(path, name)
        if not f.is_file():
            raise BundleError(f"bundle {path}: {name} is listed in {CHECKSUM_FILE} but missing")
        data = f.read_bytes()
        found = sha256_bytes(data)
        if found != digest:
            raise BundleError(
                f"bundle {path}: {f} has been modified or corrupted "
                f"(sha256 {found[:12]}… expected {digest[:12]}…); "
                f"restore the bundle or retrain"
            )
        out[name] = data
    return out


def _json(files: dict[str, bytes], name: str, path: Path) -> dict[str, Any]:
    if name not in files:
        raise BundleError(f"bundle {path}: {name} is missing")
    try:
        return json.loads(files[name].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"bundle {path}: {name} is not valid JSON ({exc})") from exc


def _major(version: str | None) -> int | None:
    try:
        return int(str(version).split(".")[0])
    except (TypeError, ValueError):
        return None


def check_versions(meta: dict[str, Any], path: Path) -> None:
    """Raise BundleError when the bundle's format or LightGBM major version is incompatible."""
    fmt = meta.get("format_version")
    if not isinstance(fmt, int):
        raise BundleError(f"bundle {path}: {MANIFEST_FILE} has no integer format_version")
    if fmt != FORMAT_VERSION:
        newer = "newer than" if fmt > FORMAT_VERSION else "older than"
        raise BundleError(
            f"bundle {path}: {MANIFEST_FILE} format_version {fmt} is {newer} the "
            f"version this loader reads ({FORMAT_VERSION}); "
            + ("upgrade cvm" if fmt > FORMAT_VERSION else "retrain the model")
        )
    trained = (meta.get("packages") or {}).get("lightgbm")
    if _major(trained) != _major(lgb.__version__):
        raise BundleError(
            f"bundle {path}: trained with lightgbm {trained}, this environment has "
            f"lightgbm {lgb.__version__}; install lightgbm {_major(trained)}.x "
            f"or retrain the model"
        )
    if trained != lgb.__version__:
        log.warning(
            "bundle %s: trained with lightgbm %s, loading with %s", path, trained, lgb.__version__
        )


# ----------------------------------------------------------------------------- the bundle
@dataclass
class Bundle:
    """A verified model bundle; ``predict`` / ``predict_proba`` take a feature frame."""

    path: Path
    meta: dict[str, Any]
    spec: dict[str, Any]
    metrics: dict[str, Any]
    boosters: dict[str, lgb.Booster]
    calibrator: dict[str, Any] | None = None
    num_threads: int = 1
    _cats: dict[str, list[str]] = field(default_factory=dict, repr=False)
    new_owners: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return str(self.meta["name"])

    @property
    def version(self) -> str:
        return str(self.meta["version"])

    @property
    def model_type(self) -> str:
        """``churn`` (classifier) or ``value`` (regressor)."""
        return str(self.meta["model"]["type"])

    @property
    def feature_names(self) -> list[str]:
        return [f["name"] for f in self.spec["features"]]

    @property
    def classes_(self) -> np.ndarray:
        """scikit-learn style: column order of ``predict_proba`` (1 = churns)."""
        return np.array([0, 1])

    # --- inputs ---------------------------------------------------------------------------
    def prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` as the model's columns, in order, with the spec's dtypes and categories.

        Raises BundleError when a feature is missing; extra columns are ignored; a category
        the model never saw becomes missing (logged).
        """
        missing = [c for c in self.feature_names if c not in X.columns]
        if missing:
            raise BundleError(
                f"bundle {self.path}: the input lacks features {missing[:10]}"
                f"{' …' if len(missing) > 10 else ''} (see {SPEC_FILE})"
            )
        out = pd.DataFrame(index=X.index)
        for f in self.spec["features"]:
            col = X[f["name"]]
            if f["dtype"] == "category":
                cats = f["categories"]
                cat = pd.Categorical(col.astype("object"), categories=cats)
                unseen = int((pd.isna(cat) & col.notna().to_numpy()).sum())
                if unseen:
                    log.warning(
                        "%s: %d values of %s are not among the model's categories",
                        self.name,
                        unseen,
                        f["name"],
                    )
                out[f["name"]] = cat
            else:
                out[f["name"]] = pd.to_numeric(col, errors="coerce").astype(np.float32)
        return out

    def to_matrix(self, X: pd.DataFrame) -> np.ndarray:
        """float32 matrix for the ONNX models: categories as their codes, missing as NaN."""
        P = self.prepare(X)
        cols = []
        for f in self.spec["features"]:
            s = P[f["name"]]
            if f["dtype"] == "category":
                codes = s.cat.codes.to_numpy().astype(np.float32)
                codes[codes < 0] = np.nan
                cols.append(codes)
            else:
                cols.append(s.to_numpy(dtype=np.float32, na_value=np.nan))
        return (
            np.column_stack(cols).astype(np.float32) if cols else np.empty((len(P), 0), np.float32)
        )

    def raw(self, part: str, X: pd.DataFrame, prepared: bool = False) -> np.ndarray:
        """The output of one booster (``bundle.json`` ``model.boosters``) on ``X``."""
        P = X if prepared else self.prepare(X)
        return np.asarray(self.boosters[part].predict(P, num_threads=self.num_threads), float)

    # --- outputs --------------------------------------------------------------------------
    def churn_probability(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated P(no paid visit within the horizon) per row of ``X``."""
        self._need("churn")
        p = self.raw("churn", X)
        return np.clip(calibrate(self.calibrator or {"method": "identity"}, p), 0.0, 1.0)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """scikit-learn style (n, 2): [P(stays), P(churns)] (churn bundles)."""
        p = self.churn_probability(X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Churn: 0/1 at probability 0.5. Value: expected paid spend over the horizon (CNY)."""
        if self.model_type == "churn":
            return (self.churn_probability(X) >= 0.5).astype(np.int64)
        self._need("value")
        m = self.meta["model"]
        P = self.prepare(X)
        if m["kind"] == "tweedie":
            raw = self.raw("spend", P, prepared=True)
        else:
            raw = self.raw("occurrence", P, prepared=True) * self.raw("spend", P, prepared=True)
        return raw * float(m["scale"])

    def predict_customer_paid(self, X: pd.DataFrame) -> np.ndarray:
        """Value bundles: expected customer-paid revenue over the horizon (CNY); NaN when the
        bundle has no customer-paid booster (older bundles)."""
        self._need("value")
        m = self.meta["model"]
        if "customer_paid" not in self.boosters:
            return np.full(len(X), np.nan)
        # cvm.models.bundle writes the scale with the booster: a bundle has both or neither
        return self.raw("customer_paid", X) * float(m["customer_paid_scale"])

    def return_probability(self, X: pd.DataFrame) -> np.ndarray:
        """Value bundles: P(at least one paid visit within the horizon)."""
        self._need("value")
        return self.raw("occurrence", X)

    def lifetime_value(self, X: pd.DataFrame) -> np.ndarray:
        """Value bundles: discounted spend over ``lifetime.clv_years`` (CNY)."""
        self._need("value")
        m = self.meta["model"]
        return discounted_lifetime_value(
            self.predict(X), self.return_probability(X), int(m["horizon_months"]), m["lifetime"]
        )

    def new_owner_scores(self, owners: pd.DataFrame) -> np.ndarray:
        """Owners without a visit yet (``months_since_purchase``, ``price_band``; from
        ``cvm.models.new_owners.no_visit_owners``): churn bundles give P(no paid visit in the
        horizon), value bundles the horizon gross margin, from the past rates of the owner's
        cell saved with the bundle; NaN when the bundle has none (older bundles)."""
        if not self.new_owners:
            return np.full(len(owners), np.nan)
        return new_owner_rate(
            self.new_owners,
            "churn" if self.model_type == "churn" else "value",
            owners["months_since_purchase"].to_numpy(float),
            owners["price_band"],
        )

    def _need(self, kind: str) -> None:
        if self.model_type != kind:
            raise BundleError(f"bundle {self.path} is a {self.model_type} model, not {kind}")


def new_owner_rate(
    rates: dict[str, Any], measure: str, months_since_purchase: np.ndarray, price_band: Any
) -> np.ndarray:
    """An owner without a visit yet: the past rate of its cell (months-since-purchase bin x
    price band), else of its months bin, else the overall rate; ``measure`` ``churn`` (P(no
    paid visit in the horizon)) or ``value`` (horizon gross margin). The one lookup of the
    monthly run and of ``cvm score`` (rates: ``cvm.models.new_owners.fit_new_owner_rates``)."""
    months = np.asarray(months_since_purchase, float)
    if not rates.get("n") or not len(months):
        return np.full(len(months), np.nan)
    bins = np.digitize(months, np.asarray(rates["edges"], float))
    overall = float(rates["overall"][measure])
    by_bin = {int(b): float(r[measure]) for b, r in rates["by_bin"].items()}
    cells = {k: float(r[measure]) for k, r in rates["cells"].items()}
    return np.asarray(
        [
            cells.get(f"{b}|{band}", by_bin.get(b, overall))
            for b, band in zip(bins.tolist(), list(price_band), strict=True)
        ],
        float,
    )


def calibrate(cal: dict[str, Any], p_raw: np.ndarray) -> np.ndarray:
    """Apply a calibrator saved as JSON (isotonic: linear interpolation; platt: sigmoid of the
    logit; beta: sigmoid of a·ln p − c·ln(1 − p) + b), then its drift ``shift`` if any
    (added to the logit of the calibrated probability, ``churn.drift``)."""
    p = _calibrate(cal, p_raw)
    shift = float(cal.get("shift", 0.0))
    if shift == 0.0:
        return p
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return 1.0 / (1.0 + np.exp(-(np.log(q / (1 - q)) + shift)))


def _calibrate(cal: dict[str, Any], p_raw: np.ndarray) -> np.ndarray:
    p_raw = np.asarray(p_raw, float)
    method = cal.get("method", "identity")
    if method == "isotonic":
        return np.interp(p_raw, cal["x"], cal["y"])
    if method == "platt":
        q = np.clip(p_raw, 1e-6, 1 - 1e-6)
        z = float(cal["a"]) * np.log(q / (1 - q)) + float(cal["b"])
        return 1.0 / (1.0 + np.exp(-z))
    if method == "beta":
        q = np.clip(p_raw, 1e-6, 1 - 1e-6)
        z = float(cal["a"]) * np.log(q) - float(cal["c"]) * np.log1p(-q) + float(cal["b"])
        return 1.0 / (1.0 + np.exp(-z))
    if method == "identity":
        return p_raw
    raise BundleError(f"unknown calibration method {method!r}")


def discounted_lifetime_value(
    horizon_spend: np.ndarray, p_return: np.ndarray, horizon_months: int, lifetime: dict[str, Any]
) -> np.ndarray:
    """Discounted spend over ``lifetime['clv_years']``: yearly spend from the horizon spend,
    retained each year with P(return) (capped at ``max_retention``), discounted yearly.

    The one formula for the value model and for its bundles, so scores cannot drift apart.
    """
    per_year = 12.0 / horizon_months
    a = np.asarray(horizon_spend, dtype=float) * per_year
    r = np.minimum(np.asarray(p_return, dtype=float) ** per_year, float(lifetime["max_retention"]))
    years = np.arange(1, int(lifetime["clv_years"]) + 1)
    factor = (
        r[:, None] ** (years - 1)[None, :]
        / (1.0 + float(lifetime["discount_rate"])) ** years[None, :]
    ).sum(axis=1)
    return a * factor


_FROM_ENV = object()


def load_bundle(path: str | Path, num_threads: int = 1, key: Any = _FROM_ENV) -> Bundle:
    """Verify and load the bundle in folder ``path``; BundleError names the offending file.

    ``key``: the signing key (default: ``CVM_BUNDLE_KEY``); when set, an unsigned or wrongly
    signed bundle is refused."""
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"model bundle {path} does not exist (train with `cvm train`)")
    files = verify_files(path, bundle_key() if key is _FROM_ENV else key)
    meta = _json(files, MANIFEST_FILE, path)
    check_versions(meta, path)
    spec = _json(files, SPEC_FILE, path)
    metrics = _json(files, "metrics.json", path) if "metrics.json" in files else {}
    boosters: dict[str, lgb.Booster] = {}
    for part, fname in meta["model"]["boosters"].items():
        if fname not in files:
            raise BundleError(f"bundle {path}: {fname} is missing")
        try:
            boosters[part] = lgb.Booster(model_str=files[fname].decode("utf-8"))
        except Exception as exc:  # LightGBMError on a malformed model
            raise BundleError(f"bundle {path}: {fname} is not a LightGBM model ({exc})") from exc
    cal_file = meta["model"].get("calibrator")
    calibrator = _json(files, cal_file, path) if cal_file else None
    no_file = meta["model"].get("new_owners")
    new_owners = _json(files, no_file, path) if no_file else None
    bundle = Bundle(
        path, meta, spec, metrics, boosters, calibrator, num_threads, new_owners=new_owners
    )
    for part, b in boosters.items():
        if b.feature_name() != bundle.feature_names:
            raise BundleError(
                f"bundle {path}: {meta['model']['boosters'][part]} expects "
                f"features other than {SPEC_FILE} lists"
            )
    log.info("loaded bundle %s %s (%s)", bundle.name, bundle.version, path)
    return bundle
