"""``cvm train``: train the churn and value models at an as-of date and save their bundles."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from cvm.config import CvmError, load_config

log = logging.getLogger(__name__)


def train_bundles(data: str, as_of: date | None, out: str | Path,
                  cfg: dict | None = None) -> dict[str, Path]:
    """Load ``data``, train churn and value as of ``as_of``, save bundles under ``out``."""
    from cvm.data.loaders import load_tables
    from cvm.models.bundle import save_bundle, tables_hash
    from cvm.models.churn import train_churn
    from cvm.models.value import train_value

    if as_of is None:
        raise CvmError("--as-of is required (YYYY-MM-DD)")
    cfg = cfg or load_config()
    tables = load_tables(data)
    data_hash = tables_hash(tables)
    paths = {}
    for name, trainer in (("churn", train_churn), ("value", train_value)):
        model = trainer(tables, as_of, cfg)
        paths[name] = save_bundle(model, name, out, as_of=as_of, data_hash=data_hash, cfg=cfg)
    return paths
