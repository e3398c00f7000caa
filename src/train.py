"""``cvm train``: train the churn and value models at an as-of date and save their bundles."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from cvm.config import CvmError

log = logging.getLogger(__name__)


def train_bundles(
    data: str,
    as_of: date | None,
    out: str | Path,
    cfg: dict | None = None,
    horizon_months: int | None = None,
    profile: str = "default",
) -> dict[str, Path]:
    """Load ``data``, train churn and value as of ``as_of``, save bundles under ``out``.

    Parameters, ``out``, the as-of date and data sufficiency are checked first
    (``cvm.run_checks``); a model the data cannot teach is skipped with a warning, and when
    neither can be trained it is a CvmError (exit 2) naming why. Nothing is written before.
    """
    from cvm import run_checks
    from cvm.data.hashing import tables_hash
    from cvm.data.loaders import load_tables
    from cvm.models.bundle import save_bundle
    from cvm.models.churn import train_churn
    from cvm.models.value import train_value

    checked = run_checks.check_parameters(
        as_of=as_of, horizon_months=horizon_months, profile=profile
    )
    cfg = cfg or checked
    run_checks.check_output_dir(Path(out))
    tables = load_tables(data)
    run_checks.check_as_of(tables, as_of)
    skipped = run_checks.assess(tables, as_of, cfg).skipped
    if len(skipped) == len(run_checks.MODELS):
        raise CvmError("nothing to train:\n" + "\n".join(f"  - {why}" for why in skipped.values()))
    data_hash = tables_hash(tables)
    from cvm.models.new_owners import fit_new_owner_rates_at

    rates = fit_new_owner_rates_at(tables, as_of, int(cfg["horizon_months"]), cfg)
    paths = {}
    for name, trainer in (("churn", train_churn), ("value", train_value)):
        if name in skipped:
            log.warning("%s", skipped[name])
            continue
        model = trainer(tables, as_of, cfg)
        paths[name] = save_bundle(
            model, name, out, as_of=as_of, data_hash=data_hash, cfg=cfg, new_owner_rates=rates
        )
    return paths
