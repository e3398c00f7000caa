"""Store-specific columns of ``customers`` and ``vehicles`` declared as features.

A dealer's export often carries columns the data contract does not name (a membership level,
the vehicle series, the insurer). Declared under ``features.extra_columns`` in the run config
(``configs/default.yaml``), with a type and a zh/en label, they become features of every
snapshot (so of churn, value and uplift), their reasons read by their label, and a campaign's
eligibility rule may use them. Undeclared extra columns are kept as read and ignored.

    features:
      extra_columns:
        customers:
          membership_level: {type: category, zh: 会员等级, en: membership level}
        vehicles:
          series: {type: category, zh: 车系, en: vehicle series}
          extended_warranty: {type: yes_no, zh: 延保, en: extended warranty}

Types: ``numeric`` (a number), ``category`` (a label; its levels are the sorted values of the
whole table, so every snapshot has the same levels), ``yes_no`` (1 / 0). A customer's
``vehicles`` value is that of the vehicle bought last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cvm.config import CvmError
from cvm.data.ids import days, ids

TABLES = ("customers", "vehicles")
TYPES = ("numeric", "category", "yes_no")
_YES = {"1", "true", "yes", "y", "是", "有", "t"}
_NO = {"0", "false", "no", "n", "否", "无", "f"}


@dataclass(frozen=True)
class ExtraColumn:
    """One declared column: where it comes from, its type and its words."""

    table: str
    name: str
    type: str
    zh: str
    en: str

    @property
    def categorical(self) -> bool:
        return self.type == "category"


def declared(cfg: dict[str, Any] | None) -> list[ExtraColumn]:
    """The declared extra columns of ``cfg['features']['extra_columns']``, validated; a bad
    declaration stops the run naming its key."""
    from cvm.data.contract import TABLES as CONTRACT
    from cvm.features.registry import lookup

    spec = ((cfg or {}).get("features") or {}).get("extra_columns") or {}
    if not isinstance(spec, dict):
        raise CvmError(
            "features.extra_columns must map a table (customers, vehicles) to its columns"
        )
    out = []
    for table, cols in spec.items():
        key = f"features.extra_columns.{table}"
        if table not in TABLES:
            raise CvmError(
                f"{key}: extra columns can be declared for {', '.join(TABLES)} only, not {table!r}"
            )
        for name, d in (cols or {}).items():
            k = f"{key}.{name}"
            if not isinstance(d, dict):
                raise CvmError(f"{k}: give {{type: numeric|category|yes_no, zh: ..., en: ...}}")
            typ = str(d.get("type", ""))
            if typ not in TYPES:
                raise CvmError(f"{k}.type: {typ!r} is not one of {', '.join(TYPES)}")
            for lang in ("zh", "en"):
                if not str(d.get(lang) or "").strip():
                    raise CvmError(f"{k}.{lang}: the column's label in {lang} is missing")
            taken = name in {c.name for c in CONTRACT[table].columns}
            if not taken and name not in _registered:
                try:
                    lookup(name)
                    taken = True
                except KeyError:
                    pass
            if taken:
                raise CvmError(
                    f"{k}: {name!r} is already a column of the contract or a built "
                    "feature; declare only the store's own columns"
                )
            out.append(ExtraColumn(table, str(name), typ, str(d["zh"]), str(d["en"])))
    return out


_registered: set[str] = set()


def from_config(cfg: dict[str, Any] | None) -> list[ExtraColumn]:
    """``declared`` and ``register``ed: what ``build_features`` calls."""
    extras = declared(cfg)
    register(extras)
    return extras


def register(extras: list[ExtraColumn]) -> None:
    """Make the declared columns known to the feature registry (labels, reason sentences,
    eligibility rules)."""
    from cvm.features import registry

    for x in extras:
        registry.add_extra(x.name, x.table, x.en, x.zh, x.categorical)
        _registered.add(x.name)


def levels(tables: dict[str, pd.DataFrame], x: ExtraColumn) -> list[str]:
    """A category column's levels: its sorted distinct values over the whole table."""
    df = tables.get(x.table)
    if df is None or x.name not in df.columns:
        return []
    return sorted(str(v) for v in df[x.name].dropna().unique())


def yes_no(s: pd.Series, x: ExtraColumn) -> np.ndarray:
    """1 / 0 / NaN from yes-no cells (1/0, true/false, yes/no, 是/否); other text is an error."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isnan(v) & ~np.isin(v, (0.0, 1.0))
    else:
        t = s.astype("string").str.strip().str.lower()
        v = np.where(
            t.isin(_YES).to_numpy(bool), 1.0, np.where(t.isin(_NO).to_numpy(bool), 0.0, np.nan)
        ).astype(float)
        bad = (t.notna() & (t != "") & ~t.isin(_YES | _NO)).to_numpy(bool, na_value=False)
    if bad.any():
        raise CvmError(
            f"{x.table}.{x.name} is declared yes_no (features.extra_columns."
            f"{x.table}.{x.name}.type) but {int(bad.sum())} rows hold something "
            f"else, e.g. {s[bad].iloc[0]!r}; use 1/0, yes/no or 是/否"
        )
    return np.array(v, dtype=float)


def extra_features(
    t: dict[str, pd.DataFrame], index: pd.Index, extras: list[ExtraColumn]
) -> dict[str, Any]:
    """One value per customer of ``index`` for each declared column present in the data
    (``t``: the tables cut at the snapshot date)."""
    out: dict[str, Any] = {}
    for x in extras:
        df = t.get(x.table)
        if df is None or x.name not in df.columns or "customer_id" not in df.columns:
            continue
        if x.table == "vehicles" and "purchase_date" in df.columns:
            df = df.iloc[
                np.argsort(np.nan_to_num(days(df["purchase_date"]), nan=-1e9), kind="stable")
            ]
        last = (
            df.assign(_cid=ids(df["customer_id"]).to_numpy())
            .drop_duplicates("_cid", keep="last")
            .set_index("_cid")[x.name]
        )
        col = last.reindex(pd.Index(index).astype(str))
        if x.type == "numeric":
            v = pd.to_numeric(col, errors="coerce")
            bad = col.notna() & v.isna()
            if bad.any():
                raise CvmError(
                    f"{x.table}.{x.name} is declared numeric (features.extra_columns."
                    f"{x.table}.{x.name}.type) but {int(bad.sum())} customers' "
                    f"values are not numbers, e.g. {col[bad].iloc[0]!r}"
                )
            out[x.name] = v.to_numpy(dtype=float, na_value=np.nan).copy()
        elif x.type == "yes_no":
            out[x.name] = yes_no(col, x)
        else:
            out[x.name] = col.astype(object).where(col.notna(), None).to_numpy(object)
    return out
