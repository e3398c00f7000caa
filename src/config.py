"""Paths and settings: YAML files in ``configs/``, overridable by notebook parameters and CLI flags."""

from __future__ import annotations

import copy
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = Path(os.environ.get("CVM_CONFIG_DIR", PROJECT_ROOT / "configs"))

log = logging.getLogger("cvm")


class CvmError(Exception):
    """An error the user can fix; the CLI prints it and exits with ``exit_code``."""

    exit_code = 2


class InsufficientData(CvmError):
    """The data is too thin to learn one model; the monthly run can go on without it."""


@lru_cache(maxsize=None)
def _read_yaml(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def load_config(name: str = "default", overrides: dict[str, Any] | None = None,
                profile: str | None = None) -> dict[str, Any]:
    """Settings from ``configs/<name>.yaml``, then the profile ``configs/<profile>.yaml``
    (e.g. ``demo``: faster training), then ``overrides`` (nested dicts merge).

    Profiles chain with ``+``: ``demo+churn_v2`` overlays ``configs/demo.yaml``, then
    ``configs/churn_v2.yaml`` (e.g. a challenger an analyst saved, see docs/notebooks.md)."""
    path = CONFIG_DIR / f"{name}.yaml"
    if not path.exists():
        raise CvmError(f"config file {path} not found; set CVM_CONFIG_DIR or restore configs/")
    cfg = copy.deepcopy(_read_yaml(str(path)))
    if profile and profile != name:
        for part in profile.split("+"):
            ppath = CONFIG_DIR / f"{part}.yaml"
            if part in (name, "default"):
                continue
            if not part or not ppath.exists():
                raise CvmError(f"config profile {part!r} (of {profile!r}) not found: no {ppath}")
            _merge(cfg, copy.deepcopy(_read_yaml(str(ppath))))
        cfg["profile"] = profile
    return _merge(cfg, overrides or {})


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if value is None:
            continue
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def setup_logging(verbose: bool = False) -> None:
    """Plain, timestamped log lines on stderr."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
