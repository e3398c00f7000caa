"""One raw table → contract names and types (the step shared by loading and validation)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cvm.data.coerce import AMBIGUOUS_DECIMAL, coerce_column
from cvm.data.contract import TABLES
from cvm.data.mapping import map_columns


@dataclass
class Conformed:
    """A table renamed and coerced, with what could not be read.

    ``bad`` maps a contract column to the mask of cells that held an unreadable value;
    ``raw`` keeps those columns as read so validation can quote examples.
    """

    frame: pd.DataFrame
    bad: dict[str, pd.Series] = field(default_factory=dict)
    raw: dict[str, pd.Series] = field(default_factory=dict)
    clashes: list[tuple[str, list[str]]] = field(default_factory=list)
    checks: dict[str, str] = field(default_factory=dict)  # column → a specific check id
    ambiguous: dict[str, pd.Series] = field(default_factory=dict)  # "1.234": 1.234 or 1234?


def conform_table(table: str, frame: pd.DataFrame) -> Conformed:
    """Rename headers to contract names and coerce contract columns; extra columns are kept."""
    spec = TABLES[table]
    renames, clashes = map_columns(table, list(frame.columns))
    frame = frame.rename(columns=renames)
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0:
        frame = frame.reset_index(drop=True)
    out: dict[object, pd.Series] = {}
    bad: dict[str, pd.Series] = {}
    raw: dict[str, pd.Series] = {}
    checks: dict[str, str] = {}
    ambiguous: dict[str, pd.Series] = {}
    seen: set[object] = set()
    for pos, name in enumerate(frame.columns):
        series = frame.iloc[:, pos]
        if name in seen:  # a clashing duplicate header: keep it under a distinct name
            name = f"{name}.{pos}"
        seen.add(name)
        if name in spec.names:
            coerced, mask = coerce_column(series, spec.column(str(name)))
            amb = coerced.attrs.pop(AMBIGUOUS_DECIMAL, None)
            if amb is not None:
                ambiguous[str(name)] = amb
                raw[str(name)] = series
            out[name] = coerced
            if bool(mask.any()):
                bad[str(name)] = mask
                raw[str(name)] = series
                if mask.attrs.get("check"):
                    checks[str(name)] = str(mask.attrs["check"])
        else:
            out[name] = series
    result = pd.DataFrame(out, index=frame.index) if out else pd.DataFrame(index=frame.index)
    return Conformed(result, bad, raw, clashes, checks, ambiguous)
