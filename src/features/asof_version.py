"""The version of the point-in-time feature logic that model bundles record.

A model bundle stores the ``ASOF_LOGIC_VERSION`` its features were built with; ``cvm score``
refuses a bundle whose version differs from the installed one, because the same as-of date
would then give the model different inputs than it was trained on. Bump it whenever
``build_features``, the table cut at as-of or ``active_customers`` change what they compute.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

ASOF_LOGIC_VERSION = "1"

FEATURE_SOURCE_MODULES = (
    "cvm.features.snapshot",
    "cvm.features.pit",
    "cvm.features.labels",
    "cvm.data.ids",
    "cvm.definitions",
)
"""Modules whose source hash bundles record (a mismatch is logged, not an error)."""


def feature_source_hash() -> str:
    """sha256 of the feature modules' source (bundles record it; a mismatch is logged)."""
    h = hashlib.sha256()
    for mod in FEATURE_SOURCE_MODULES:
        spec = importlib.util.find_spec(mod)
        if spec and spec.origin:
            h.update(Path(spec.origin).read_bytes())
    return h.hexdigest()
