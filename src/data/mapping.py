"""Name mapping: dealer exports' table, column and category-value names → contract names.

The aliases live in ``configs/columns.yaml`` so a new DMS export is supported by editing YAML,
not code. Names are compared after :func:`normalize_name`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import Any

from cvm.config import CvmError, load_config
from cvm.data.contract import TABLES, Table

_BRACKETED_SUFFIX = re.compile(r"\s*[(\[{][^()\[\]{}]*[)\]}]\s*$")
_SEPARATORS = re.compile(r"[\s_\-.]+")


def normalize_name(name: object) -> str:
    """A header / file name folded for matching: NFKC, no unit suffix, case and separators ignored."""
    text = unicodedata.normalize("NFKC", str(name)).strip()
    text = _BRACKETED_SUFFIX.sub("", text) or text
    return _SEPARATORS.sub("", text).casefold()


def normalize_value(value: object) -> str:
    """A category cell folded for matching (NFKC, stripped, case ignored)."""
    return unicodedata.normalize("NFKC", str(value)).strip().casefold()


@lru_cache(maxsize=1)
def column_config() -> dict[str, Any]:
    """The parsed ``configs/columns.yaml`` (cached: it is read on every load)."""
    return load_config("columns")


def parsing() -> dict[str, Any]:
    """The ``parsing`` section of ``configs/columns.yaml``."""
    return column_config()["parsing"]


@lru_cache(maxsize=1)
def table_aliases() -> dict[str, str]:
    """Normalised file / sheet / SQL table name → contract table name."""
    cfg = column_config().get("tables", {})
    out: dict[str, str] = {}
    for name in TABLES:
        for alias in [name, *cfg.get(name, {}).get("names", [])]:
            key = normalize_name(alias)
            if out.get(key, name) != name:
                raise CvmError(f"configs/columns.yaml: table alias {alias!r} names two tables")
            out[key] = name
    return out


@cache
def column_aliases(table: str) -> dict[str, str]:
    """Normalised header → contract column name, for one table."""
    spec: Table = TABLES[table]
    cfg = column_config()
    common = cfg.get("common", {})
    own = cfg.get("tables", {}).get(table, {}).get("columns", {})
    out: dict[str, str] = {}
    for col in spec.names:
        for alias in [col, *common.get(col, []), *own.get(col, [])]:
            key = normalize_name(alias)
            if out.get(key, col) != col:
                raise CvmError(
                    f"configs/columns.yaml: header alias {alias!r} names two columns of {table}"
                )
            out[key] = col
    unknown = set(own) - set(spec.names)
    if unknown:
        raise CvmError(f"configs/columns.yaml: {table} has no columns {sorted(unknown)}")
    return out


@cache
def value_aliases(column: str) -> dict[str, str]:
    """Normalised category value → contract value, for a column name (any table)."""
    return {
        normalize_value(k): str(v)
        for k, v in column_config().get("values", {}).get(column, {}).items()
    }


def table_for_name(name: str) -> str | None:
    """The contract table a file stem / sheet / SQL table name stands for, or None."""
    return table_aliases().get(normalize_name(name))


def map_columns(
    table: str, headers: list[object]
) -> tuple[dict[object, str], list[tuple[str, list[str]]]]:
    """Renames for ``headers`` (source → contract) and the contract columns claimed twice.

    The first header claiming a contract column wins; later ones keep their own name and are
    returned as ``(contract column, [headers…])`` so validation can report them.
    """
    aliases = column_aliases(table)
    renames: dict[object, str] = {}
    claimed: dict[str, list[str]] = {}
    for header in headers:
        target = aliases.get(normalize_name(header))
        if target is None:
            continue
        claimed.setdefault(target, []).append(str(header))
        if len(claimed[target]) == 1 and header != target:
            renames[header] = target
    clashes = [(col, hs) for col, hs in claimed.items() if len(hs) > 1]
    # a later header that already *is* the contract name must not collide with a rename
    for col, hs in clashes:
        if col in [str(h) for h in headers] and hs[0] != col:
            renames = {k: v for k, v in renames.items() if v != col}
    return renames, clashes
