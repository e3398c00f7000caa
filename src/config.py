"""Paths and settings: YAML files in ``configs/``, overridable by notebook parameters and CLI flags.

Where things are:

- the packaged defaults (``CONFIG_DIR``): ``cvm/configs`` inside an installed wheel, the
  checkout's ``configs/`` in an editable install (``CVM_CONFIG_DIR`` replaces them);
- the home (:func:`home`): ``CVM_HOME`` (``cvm --home``) or the working directory. It holds
  ``data/``, ``reports/`` and ``models/``; relative paths of the CLI and the notebooks resolve
  against it, and its ``configs/`` folder, when there is one, overlays the packaged defaults
  file by file and holds the user's profiles.

Every file is checked against its typed schema (:mod:`cvm.settings`): a key the schema does not
know is a :class:`CvmError` naming the key and the file.
"""

from __future__ import annotations

import copy
import logging
import os
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
"""The checkout root in an editable install (the package is its ``src/``); for dev tools only:
an installed cvm finds its files through ``CONFIG_DIR``, ``NOTEBOOK_DIR`` and :func:`home`."""


def _packaged(name: str) -> Path:
    """``cvm/<name>`` in a wheel (package data), else the checkout's top-level ``<name>/``."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PROJECT_ROOT / name


CONFIG_DIR = Path(os.environ.get("CVM_CONFIG_DIR") or _packaged("configs"))
NOTEBOOK_DIR = _packaged("notebooks")

log = logging.getLogger("cvm")


class CvmError(Exception):
    """An error the user can fix; the CLI prints it and exits with ``exit_code``."""

    exit_code = 2


class InsufficientData(CvmError):
    """The data is too thin to learn one model; the monthly run can go on without it."""


def home() -> Path:
    """The folder that holds data/, reports/, models/ and an optional configs/ overlay:
    ``CVM_HOME`` (set by ``cvm --home``), else the working directory (its parent when that is
    the checkout's notebooks/ folder: a kernel JupyterLab starts there works on the checkout)."""
    env = os.environ.get("CVM_HOME")
    if env:
        return Path(env).expanduser().resolve()
    cwd = Path.cwd().resolve()
    return cwd.parent if cwd == NOTEBOOK_DIR.resolve() else cwd


def in_home(path: str | Path) -> Path:
    """``path`` made absolute against :func:`home` (absolute paths are kept)."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else home() / p


def user_config_dir() -> Path | None:
    """``<home>/configs`` when it exists and is not the packaged defaults folder itself
    (a checkout's own ``configs/``)."""
    d = home() / "configs"
    if not d.is_dir() or d.resolve() == Path(CONFIG_DIR).resolve():
        return None
    return d


@cache
def _read_yaml(path: str, mtime: float) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        try:
            data = yaml.safe_load(fh)
        except yaml.YAMLError as err:
            raise CvmError(f"{path} is not valid YAML: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CvmError(f"{path} must hold a mapping of settings, not {type(data).__name__}")
    return data


def read_yaml(path: Path) -> dict[str, Any]:
    """A settings file as a fresh dict (cached until the file changes)."""
    return copy.deepcopy(_read_yaml(str(path), path.stat().st_mtime))


@cache
def _check_file(name: str, path: str, mtime: float, partial: bool) -> None:
    from cvm.settings import check_source

    check_source(name, _read_yaml(path, mtime), path, partial=partial)


def _checked(name: str, path: Path, partial: bool) -> dict[str, Any]:
    """``read_yaml(path)`` once it passed the schema of ``configs/<name>`` (checked once per
    version of the file)."""
    _check_file(name, str(path), path.stat().st_mtime, partial)
    return read_yaml(path)


def config_files(name: str) -> list[Path]:
    """The files that make ``configs/<name>.yaml``, base first: the packaged default, then the
    home's overlay. Empty when neither exists."""
    files = [p for p in (Path(CONFIG_DIR) / f"{name}.yaml",) if p.exists()]
    user = user_config_dir()
    if user is not None and (user / f"{name}.yaml").exists():
        files.append(user / f"{name}.yaml")
    return files


def load_config(
    name: str = "default", overrides: dict[str, Any] | None = None, profile: str | None = None
) -> dict[str, Any]:
    """Settings from ``configs/<name>.yaml`` (packaged default, then the home's overlay), then
    the profile ``configs/<profile>.yaml`` (e.g. ``demo``: faster training), then ``overrides``
    (nested dicts merge). Every source is checked against the typed schema of ``name``
    (:mod:`cvm.settings`); :func:`cvm.settings.typed` gives the typed view of the result.

    Profiles chain with ``+``: ``demo+churn_v2`` overlays ``configs/demo.yaml``, then
    ``configs/churn_v2.yaml`` (e.g. a challenger an analyst saved, see docs/notebooks.md)."""
    from cvm.settings import check_source

    files = config_files(name)
    if not files:
        raise CvmError(
            f"config file {Path(CONFIG_DIR) / f'{name}.yaml'} not found; set "
            f"CVM_CONFIG_DIR or reinstall cvm"
        )
    cfg: dict[str, Any] = {}
    for i, path in enumerate(files):
        _merge(cfg, _checked(name, path, partial=i > 0), keep_null=True)
    if profile and profile != name:
        for part in profile.split("+"):
            if part in (name, "default"):
                continue
            ppaths = config_files(part) if part else []
            if not ppaths:
                user = user_config_dir()
                raise CvmError(
                    f"config profile {part!r} (of {profile!r}) not found: no "
                    f"{Path(CONFIG_DIR) / f'{part}.yaml'}"
                    + (f" or {user / f'{part}.yaml'}" if user else "")
                )
            for ppath in ppaths:
                _merge(cfg, _checked(name, ppath, partial=True), keep_null=True)
        cfg["profile"] = profile
    if overrides:
        check_source(name, overrides, "the overrides", partial=True, types=False)
    return _merge(cfg, overrides or {})


def _merge(base: dict[str, Any], extra: dict[str, Any], keep_null: bool = False) -> dict[str, Any]:
    """``extra`` merged into ``base`` (nested dicts merge). A None in ``extra`` is "not given"
    (a CLI flag or notebook parameter left unset) unless ``keep_null``: in a config file or
    profile an explicit ``null`` is a setting (e.g. a feature turned off) and replaces the
    default."""
    for key, value in extra.items():
        if value is None and not keep_null:
            continue
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value, keep_null)
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
