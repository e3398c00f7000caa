"""Checks a data source against the data contract and explains every problem with its fix.

Per-column rules (nullability, ranges, allowed values, unique keys) run through pandera
schemas built from :mod:`cvm.data.contract`; reading, parsing and cross-table rules (missing
tables, orphan keys, future dates, plausibility warnings) are plain pandas. Nothing is
written anywhere: validation only reads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa

from cvm.config import load_config
from cvm.data.coerce import text_bytes
from cvm.data.conform import Conformed, conform_table
from cvm.data.contract import TABLES, Column, Table
from cvm.data.mapping import table_for_name
from cvm.data.problems import (
    DataValidationError,
    Problem,
    ValidationReport,
    examples,
)
from cvm.data.readers import RawTable, read_source

__all__ = [
    "DataValidationError",
    "Problem",
    "ValidationReport",
    "check_raw",
    "validate_source",
    "validate_tables",
]

log = logging.getLogger(__name__)

_UNREADABLE = {
    "date": (
        "not_a_date",
        "cells that are not dates",
        "write dates as YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD (or as Excel date cells)",
    ),
    "float": (
        "not_a_number",
        "cells that are not numbers",
        "write plain numbers (e.g. 1234.5); remove text such as '待定' or 'n/a'",
    ),
    "int": (
        "not_a_whole_number",
        "cells that are not whole numbers",
        "write whole numbers (e.g. 3) without decimals or text",
    ),
    "bool": (
        "not_yes_no",
        "cells that are not yes/no values",
        "write 是/否, Y/N, 1/0 or true/false",
    ),
    "mixed_decimal": (
        "mixed_decimal",
        (
            "the column mixes decimal points (1,234.50) and decimal "
            "commas (1.234,50), so no reading of it is safe"
        ),
        "export every number of the column in one format, best 1234.50",
    ),
}
_CONTROL = r"[\x00-\x1f\x7f]"


@lru_cache(maxsize=1)
def _settings() -> dict[str, Any]:
    return load_config("validation")


def _as_of(as_of: date | None) -> pd.Timestamp:
    return pd.Timestamp(as_of or date.today()).normalize()


def _values_text(col: Column, values: Iterable[object]) -> str:
    """A few distinct example values, quoted; empty for personal-data columns."""
    if col.pii:
        return ""
    uniq: list[str] = []
    for v in values:
        text = str(v)
        if text not in uniq:
            uniq.append(text)
        if len(uniq) >= int(_settings()["example_values"]):
            break
    return " (values: " + ", ".join(repr(u) for u in uniq) + ")" if uniq else ""


# ---------------------------------------------------------------- pandera: per-column rules


@cache
def contract_schema(table: str) -> pa.DataFrameSchema:
    """The pandera schema of a contract table (applied after coercion to contract dtypes)."""
    spec = TABLES[table]
    columns: dict[str, pa.Column] = {}
    for col in spec.columns:
        checks = []
        if col.min is not None:
            checks.append(pa.Check.ge(col.min))
        if col.max is not None:
            checks.append(pa.Check.le(col.max))
        if col.values is not None:
            checks.append(pa.Check.isin(list(col.values)))
        # primary-key uniqueness is checked in pandas (_duplicate_key_problems): pandera's
        # unique check hashes the column twice, which costs seconds per million string keys
        columns[col.name] = pa.Column(
            nullable=col.nullable, required=False, checks=checks, coerce=False
        )
    return pa.DataFrameSchema(columns, strict=False, name=table)


def _describe_check(col: Column, check: str) -> tuple[str, str, str]:
    """(check id, message, fix) for a pandera failure of ``col``."""
    if check == "not_nullable":
        return "missing_value", "required value is empty", f"fill in {col.name} on every row"
    if check.startswith("greater_than_or_equal_to"):
        what = "negative" if col.min == 0 else f"below the minimum {col.min:g}"
        fix = (
            f"{col.name} must be >= {col.min:g}{' ' + col.unit if col.unit else ''}; "
            "correct the values (refunds and credit notes belong in separate rows or tables)"
        )
        return "below_min", f"values {what}", fix
    if check.startswith("less_than_or_equal_to"):
        return (
            "above_max",
            f"values above the maximum {col.max:g}",
            f"{col.name} must be <= {col.max:g}; check the unit or scale",
        )
    if check.startswith("isin"):
        return (
            "not_allowed",
            "values outside the allowed list",
            f"use one of {', '.join(col.values or ())} (Chinese aliases: configs/columns.yaml)",
        )
    return check, f"failed check {check}", "correct the values"


def _pandera_problems(
    table: str, frame: pd.DataFrame, skip: Mapping[str, pd.Series], origin: str
) -> list[Problem]:
    """Run the contract schema; one Problem per (column, check), unreadable cells excluded."""
    spec = TABLES[table]
    try:
        contract_schema(table).validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    problems: list[Problem] = []
    cases = cases[cases["column"].isin(spec.names)]
    for (column, check), group in cases.groupby(["column", "check"], sort=False):
        col = spec.column(str(column))
        rows = pd.to_numeric(group["index"], errors="coerce").dropna().astype("int64").to_numpy()
        if check == "not_nullable" and column in skip:  # already reported as unreadable
            rows = rows[~skip[column].to_numpy()[rows]]
        if len(rows) == 0:
            continue
        rows = np.unique(rows)
        cid, message, fix = _describe_check(col, str(check))
        if cid not in ("missing_value",):
            message += _values_text(col, group["failure_case"])
        problems.append(
            Problem(
                table, str(column), cid, len(rows), examples(rows), message, fix, "error", origin
            )
        )
    return problems


# ---------------------------------------------------------------- plain pandas: table rules


def _duplicate_key_problems(table: str, frame: pd.DataFrame, origin: str) -> list[Problem]:
    """Rows sharing a primary-key value (missing keys are not duplicates)."""
    key = TABLES[table].primary_key
    if key is None or key not in frame:
        return []
    s = frame[key]
    arr = _arrow(s)
    if arr is not None:  # fast path: Arrow counts distinct keys without a pandas factorize
        import pyarrow.compute as pc

        # keys exported in order (the usual export) are told unique by one comparison of
        # neighbours (~20x faster than hashing 3.7 M text keys); else pc.unique (a hash
        # table, ~5x faster than pc.count_distinct on a million keys)
        if not arr.null_count and len(arr) > 1:
            flat = arr.combine_chunks() if hasattr(arr, "combine_chunks") else arr
            if pc.all(pc.greater(flat[1:], flat[:-1])).as_py():
                return []
        distinct = len(pc.unique(arr)) - (1 if arr.null_count else 0)
        if distinct == len(arr) - arr.null_count:
            return []
    dup = (s.duplicated(keep=False) & s.notna()).to_numpy()
    if not dup.any():
        return []
    col = TABLES[table].column(key)
    return [
        Problem(
            table,
            key,
            "duplicate_key",
            int(dup.sum()),
            examples(dup),
            f"{key} is not unique (duplicate primary key)" + _values_text(col, s[dup].head(20)),
            f"keep one row per {key}; remove or renumber the duplicates",
            "error",
            origin,
        )
    ]


def _unreadable_problems(table: str, conf: Conformed, origin: str) -> list[Problem]:
    spec = TABLES[table]
    out: list[Problem] = []
    for name, mask in conf.bad.items():
        col = spec.column(name)
        cid, what, fix = _UNREADABLE[conf.checks.get(name, col.kind)]
        values = conf.raw[name][mask.to_numpy()].head(20)
        out.append(
            Problem(
                table,
                name,
                cid,
                int(mask.sum()),
                examples(mask.to_numpy()),
                f"{what}{_values_text(col, values)}",
                fix,
                "error",
                origin,
            )
        )
    for name, mask in conf.ambiguous.items():
        col = spec.column(name)
        m = mask.to_numpy()
        out.append(
            Problem(
                table,
                name,
                "ambiguous_decimal",
                int(m.sum()),
                examples(m),
                "values such as 1.234 read with '.' as the decimal point; no value of "
                "the column says whether '.' separates thousands"
                + _values_text(col, conf.raw[name][m].head(20)),
                "if '.' separates thousands here, export the numbers without it "
                "(1234) or with a decimal part (1.234,00)",
                "warning",
                origin,
            )
        )
    return out


def _date_problems(
    table: str, frame: pd.DataFrame, as_of: pd.Timestamp, origin: str
) -> list[Problem]:
    """Dates after ``as_of`` (errors) and implausibly old dates (warnings)."""
    cfg = _settings()
    oldest = pd.Timestamp(cfg["warnings"]["oldest_plausible_date"])
    out: list[Problem] = []
    for col in TABLES[table].columns:
        if col.kind != "date" or col.name not in frame:
            continue
        s = frame[col.name]
        if col.name not in cfg["future_date_exempt"]:
            future = (s > as_of).to_numpy()
            if future.any():
                out.append(
                    Problem(
                        table,
                        col.name,
                        "future_date",
                        int(future.sum()),
                        examples(future),
                        f"dates after the as-of date {as_of.date()}"
                        + _values_text(col, s[future].dt.date.head(20)),
                        "check the date format (day and month swapped?) or pass a later --as-of",
                        "error",
                        origin,
                    )
                )
        old = (s < oldest).to_numpy()
        if old.any():
            out.append(
                Problem(
                    table,
                    col.name,
                    "very_old_date",
                    int(old.sum()),
                    examples(old),
                    f"dates before {oldest.date()}" + _values_text(col, s[old].dt.date.head(20)),
                    "check for placeholder dates such as 1900-01-01 and clear them",
                    "warning",
                    origin,
                )
            )
    return out


def _hostile_value_problems(table: str, frame: pd.DataFrame, origin: str) -> list[Problem]:
    """Values that parse but cannot be right: non-finite numbers, amounts above the column's
    plausibility ceiling (``configs/validation.yaml`` ``ceilings``), control characters (NUL,
    tabs, line breaks …) inside ids and categories."""
    cfg = _settings()
    ceilings = cfg["ceilings"]
    out: list[Problem] = []
    for col in TABLES[table].columns:
        if col.name not in frame:
            continue
        s = frame[col.name]
        if col.kind in ("float", "int"):
            num = pd.to_numeric(s, errors="coerce").astype("float64").to_numpy(na_value=np.nan)
            inf = np.isinf(num)
            if inf.any():
                out.append(
                    Problem(
                        table,
                        col.name,
                        "not_finite",
                        int(inf.sum()),
                        examples(inf),
                        "infinite values (inf)" + _values_text(col, s[inf].head(20)),
                        f"write a real number in {col.name}, or leave the cell empty",
                        "error",
                        origin,
                    )
                )
            key = f"{table}.{col.name}"
            ceiling = ceilings.get(key, ceilings["default_cny"] if col.unit == "CNY" else None)
            if ceiling is not None:
                high = np.isfinite(num) & (num > float(ceiling))
                if high.any():
                    out.append(
                        Problem(
                            table,
                            col.name,
                            "implausible_value",
                            int(high.sum()),
                            examples(high),
                            f"values above the plausible ceiling {float(ceiling):,.0f}"
                            f"{' ' + col.unit if col.unit else ''}"
                            + _values_text(col, s[high].head(20)),
                            f"check the unit and the decimal separator; if such values are real, raise "
                            f"ceilings.{key} in configs/validation.yaml",
                            "error",
                            origin,
                        )
                    )
        elif col.kind in ("id", "category") and isinstance(s.dtype, pd.StringDtype):
            if not _may_hold_control(s):
                continue
            ctrl = s.str.contains(_CONTROL, regex=True).to_numpy(dtype=bool, na_value=False)
            if ctrl.any():
                out.append(
                    Problem(
                        table,
                        col.name,
                        "control_characters",
                        int(ctrl.sum()),
                        examples(ctrl),
                        "values with control characters (NUL, tab, line break …)"
                        + _values_text(col, s[ctrl].head(20)),
                        f"remove the hidden characters from {col.name} in the source system or export",
                        "error",
                        origin,
                    )
                )
    return out


def _share_warnings(table: str, frame: pd.DataFrame, origin: str) -> list[Problem]:
    """Suspicious but usable data: mostly empty optional columns, missing phones, zero amounts."""
    cfg = _settings()
    w = cfg["warnings"]
    n = len(frame)
    out: list[Problem] = []
    if n < int(w["min_rows_for_share"]):
        return out
    spec = TABLES[table]
    sparse = set(cfg["sparse_by_nature"])
    for col in spec.columns:
        if col.required or col.name not in frame or f"{table}.{col.name}" in sparse:
            continue
        missing = frame[col.name].isna().to_numpy()
        limit = w["missing_phone_share"] if col.name == "phone" else w["missing_optional_share"]
        if missing.mean() >= limit:
            out.append(
                Problem(
                    table,
                    col.name,
                    "mostly_missing",
                    int(missing.sum()),
                    examples(missing),
                    f"{missing.mean():.0%} of rows have no {col.name}",
                    f"collect {col.name} where possible; features that need it will be weak",
                    "warning",
                    origin,
                )
            )
    if table == "customers" and "phone" not in frame:
        out.append(
            Problem(
                table,
                "phone",
                "mostly_missing",
                n,
                (),
                "no phone column",
                "export the customers' mobile numbers so phone campaigns can run",
                "warning",
                origin,
            )
        )
    if table == "visits" and "amount" in frame:
        zero = (frame["amount"] == 0).to_numpy()
        if zero.mean() >= w["zero_amount_share"]:
            out.append(
                Problem(
                    table,
                    "amount",
                    "zero_amount_share",
                    int(zero.sum()),
                    examples(zero),
                    f"{zero.mean():.0%} of visits have amount 0",
                    "check that the settled amount (结算金额) was exported, not a blank field",
                    "warning",
                    origin,
                )
            )
    return out


def _table_problems(table: str, conf: Conformed, as_of: pd.Timestamp, origin: str) -> list[Problem]:
    """Every single-table problem of one conformed table."""
    spec: Table = TABLES[table]
    frame = conf.frame
    out: list[Problem] = []
    for col, headers in conf.clashes:
        out.append(
            Problem(
                table,
                col,
                "duplicate_column",
                0,
                (),
                f"several headers mean {col}: {', '.join(headers)}",
                "keep one of these columns (or rename the others)",
                "error",
                origin,
            )
        )
    missing = [c for c in spec.required_columns if c not in frame.columns]
    one = (
        "; only one column was found: if the file is delimited by something other than "
        "comma, semicolon, tab or '|', export it comma-separated"
        if len(frame.columns) == 1 and origin.lower().endswith((".csv", ".txt"))
        else ""
    )
    for c in missing:
        out.append(
            Problem(
                table,
                c,
                "missing_column",
                0,
                (),
                f"required column {c} is missing",
                f"add a column {c} (or a header alias from configs/columns.yaml); "
                f"columns found: {', '.join(map(str, frame.columns[:15]))}{one}",
                "error",
                origin,
            )
        )
    if len(frame) == 0:
        out.append(
            Problem(
                table,
                spec.primary_key or (spec.required_columns or [""])[0],
                "empty_table",
                0,
                (),
                "the table has a header but no rows",
                "export the table again with its data, or remove the file",
                "error",
                origin,
            )
        )
        return out
    out += _unreadable_problems(table, conf, origin)
    out += _pandera_problems(table, frame, conf.bad, origin)
    out += _duplicate_key_problems(table, frame, origin)
    out += _date_problems(table, frame, as_of, origin)
    out += _hostile_value_problems(table, frame, origin)
    out += _share_warnings(table, frame, origin)
    if table == "campaign_contacts":
        out += _unknown_campaigns(frame, origin)
    return out


def _unknown_campaigns(frame: pd.DataFrame, origin: str) -> list[Problem]:
    """Campaign ids the catalogue (configs/campaigns.yaml) does not declare: their contacts
    are kept for the contact limits but no uplift is learned from them."""
    if "campaign" not in frame.columns:
        return []
    known = set((load_config("campaigns").get("campaigns") or {}).keys())
    camp = frame["campaign"].astype("string")
    bad = (camp.notna() & ~camp.isin(sorted(known))).to_numpy(bool)
    if not bad.any():
        return []
    names = sorted(camp[bad].unique().tolist())
    shown = ", ".join(names[:10]) + (" …" if len(names) > 10 else "")
    return [
        Problem(
            "campaign_contacts",
            "campaign",
            "unknown_campaign",
            int(bad.sum()),
            examples(bad),
            f"campaign ids not in the catalogue: {shown}",
            "declare each under campaigns: in configs/campaigns.yaml (name, department, "
            "channel, unit_cost, eligibility, prior_uplift; see docs/campaigns.md) or "
            "map it to a catalogue id",
            "warning",
            origin,
        )
    ]


def _arrow(s: pd.Series):
    """The Arrow array behind an Arrow-backed string column, else None."""
    if isinstance(s.dtype, pd.StringDtype):
        arr = getattr(s.array, "_pa_array", None)
        if arr is not None:
            return arr
    return None


def _may_hold_control(s: pd.Series) -> bool:
    """Whether any value of a text column could hold a control character (0x00-0x1f, 0x7f),
    read off the bytes of its Arrow buffers at once (``coerce.text_bytes``): no such byte
    means no such character. The per-value regex (~0.5 s per million values) then runs only
    on a column that has one."""
    arr = _arrow(s)
    views = text_bytes(arr) if arr is not None else None
    if views is None:
        return True
    return any(((b < 0x20) | (b == 0x7F)).any() for b in views)


def _isin(s: pd.Series, ref: pd.Series, distinct: dict[int, Any] | None = None) -> np.ndarray:
    """``s.isin(ref)`` as a numpy mask; Arrow's hash lookup for string columns (15 M rows).
    ``distinct``: ``ref``'s distinct values kept across calls by the id of its Arrow array
    (every foreign key to ``customers.customer_id`` looks up the same million keys)."""
    if isinstance(s.dtype, pd.StringDtype) and isinstance(ref.dtype, pd.StringDtype):
        import pyarrow as pa
        import pyarrow.compute as pc

        a, r = _arrow(s), _arrow(ref)
        if a is not None and r is not None:
            values = None if distinct is None else distinct.get(id(r))
            if values is None:
                values = pc.unique(
                    r.combine_chunks().drop_null()
                    if hasattr(r, "combine_chunks")
                    else r.drop_null()
                )
                if distinct is not None:
                    distinct[id(r)] = values
            if values.type != a.type:
                values = values.cast(a.type)
            hits = pc.is_in(a, value_set=values)
            return np.asarray(hits.to_numpy(zero_copy_only=False), dtype=bool)
        values = pa.array(ref.dropna().unique(), type=pa.large_string())
        hits = pc.is_in(pa.array(s, type=pa.large_string()), value_set=values)
        return hits.to_numpy(zero_copy_only=False).astype(bool)
    return s.isin(ref.dropna().unique()).to_numpy()


def _foreign_key_problems(
    frames: Mapping[str, pd.DataFrame], origins: Mapping[str, str]
) -> list[Problem]:
    """Rows pointing at keys that the referenced table does not have."""
    out: list[Problem] = []
    # each referenced column (kept alive, so its Arrow array's id stays its own) and its
    # distinct values, hashed once for every foreign key that points at it
    keys: dict[tuple[str, str], pd.Series] = {}
    distinct: dict[int, Any] = {}
    for name, frame in frames.items():
        for fk in TABLES[name].foreign_keys:
            ref = frames.get(fk.table)
            if ref is None or fk.column not in frame or fk.ref_column not in ref:
                continue
            s = frame[fk.column]
            target = keys.setdefault((fk.table, fk.ref_column), ref[fk.ref_column])
            orphan = s.notna().to_numpy() & ~_isin(s, target, distinct)
            if orphan.any():
                col = TABLES[name].column(fk.column)
                out.append(
                    Problem(
                        name,
                        fk.column,
                        "orphan_key",
                        int(orphan.sum()),
                        examples(orphan),
                        f"{fk.column} not found in {fk.table}.{fk.ref_column}"
                        + _values_text(col, s[orphan].head(20)),
                        f"export the matching {fk.table} rows, or fix the {fk.column} values",
                        "error",
                        origins.get(name, ""),
                    )
                )
    return out


STORE_TABLES = ("visits", "vehicle_sales", "leads")
"""Tables whose ``dealer_id`` names the store that did the work (checked against the group)."""


def _store_problems(
    frames: Mapping[str, pd.DataFrame], origins: Mapping[str, str]
) -> list[Problem]:
    """Visits, sales and leads at a store the group does not have: ``stores.known`` in
    configs/default.yaml or, when that is empty, the customers' home stores. A warning (the
    rows are kept: a store of their own in the run) or, with ``stores.unknown_store: error``,
    an error (exit 2 before any work)."""
    st = load_config("default").get("stores") or {}
    known = [str(k) for k in st.get("known") or []]
    source = "stores.known in configs/default.yaml"
    cust = frames.get("customers")
    if not known and cust is not None and "dealer_id" in cust.columns:
        known = sorted(cust["dealer_id"].dropna().astype(str).unique().tolist())
        source = "the customers' home stores (customers.dealer_id)"
    if not known:
        return []
    severity: Literal["error", "warning"] = (
        "error" if str(st.get("unknown_store", "warning")) == "error" else "warning"
    )
    ref = pd.Series(
        known,
        dtype=cust["dealer_id"].dtype
        if cust is not None and "dealer_id" in cust.columns
        else "str",
    )
    out: list[Problem] = []
    for name in STORE_TABLES:
        frame = frames.get(name)
        if frame is None or "dealer_id" not in frame.columns:
            continue
        s = frame["dealer_id"]
        bad = s.notna().to_numpy() & ~_isin(s, ref)
        if not bad.any():
            continue
        counts = s[bad].astype(str).value_counts().sort_index()
        shown = ", ".join(f"{k} ({v} rows)" for k, v in list(counts.items())[:10])
        out.append(
            Problem(
                name,
                "dealer_id",
                "unknown_store",
                int(bad.sum()),
                examples(bad),
                f"stores not in the group ({source}): {shown}",
                "add the store to stores.known in configs/default.yaml (and its customers to "
                "customers), or fix the dealer_id values; stores.unknown_store: error makes this "
                "an error",
                severity,
                origins.get(name, ""),
            )
        )
    return out


def _conform_one(
    raw: RawTable,
    frames: dict[str, pd.DataFrame],
    origins: dict[str, str],
    report: ValidationReport,
    stamp: pd.Timestamp,
    run_checks: bool,
) -> None:
    """Conform one raw table into ``frames`` and add its single-table problems to ``report``."""
    if raw.table in frames:
        report.add(
            Problem(
                raw.table,
                "",
                "ambiguous_source",
                0,
                (),
                f"two sources for table {raw.table}: {origins[raw.table]} and {raw.origin}",
                "keep only one file per table",
                "error",
                raw.origin,
            )
        )
        return
    conf = conform_table(raw.table, raw.frame)
    frames[raw.table] = conf.frame
    origins[raw.table] = raw.origin
    report.tables[raw.table] = len(conf.frame)
    if run_checks:
        report.extend(_table_problems(raw.table, conf, stamp, raw.origin))


def check_raw(
    raws: Iterable[RawTable],
    read_problems: Iterable[Problem] = (),
    ignored: Iterable[str] = (),
    as_of: date | None = None,
    wanted: Iterable[str] | None = None,
    source: str = "",
    run_checks: bool = True,
) -> tuple[ValidationReport, dict[str, pd.DataFrame]]:
    """Conform raw tables and check them; returns the report and the conformed frames.

    With ``run_checks=False`` only conformation happens (fast path of ``load_tables``).
    """
    stamp = _as_of(as_of)
    wanted_set = set(TABLES) if wanted is None else set(wanted)
    report = ValidationReport(source=source)
    report.extend(list(read_problems))
    for name in ignored:
        report.add(
            Problem(
                "(source)",
                "",
                "unknown_file",
                0,
                (),
                f"{name} matches no contract table and is ignored",
                "rename it after its table (e.g. visits.csv) or add an alias in "
                "configs/columns.yaml",
                "warning",
                name,
            )
        )
    frames: dict[str, pd.DataFrame] = {}
    origins: dict[str, str] = {}
    failed_to_read = {p.table for p in report.errors}
    for item in raws:
        got, read_problems = item.open()  # a deferred table is read now: one raw at a time
        report.extend(read_problems)
        failed_to_read |= {p.table for p in read_problems if p.severity == "error"}
        while got:  # popped, so no reference to a raw frame outlives its conformation
            _conform_one(got.pop(0), frames, origins, report, stamp, run_checks)
    for spec in TABLES.values():
        if (
            spec.required
            and spec.name in wanted_set
            and spec.name not in frames
            and spec.name not in failed_to_read
        ):
            report.add(
                Problem(
                    spec.name,
                    ", ".join(spec.required_columns),
                    "missing_table",
                    0,
                    (),
                    f"required table {spec.name} not found",
                    f"add {spec.name}.csv / .parquet / .xlsx (or a sheet or SQL table "
                    f"named {spec.name}; Chinese names such as 维修记录 work too) with "
                    f"columns {', '.join(spec.required_columns)}",
                    "error",
                )
            )
    if run_checks:
        report.extend(_foreign_key_problems(frames, origins))
        report.extend(_store_problems(frames, origins))
    return report, frames


def validate_tables(raw: Mapping[str, pd.DataFrame], as_of: date | None = None) -> ValidationReport:
    """Check already-read tables (keys: contract or alias names; columns as in the source)."""
    raws: list[RawTable] = []
    ignored: list[str] = []
    for key, frame in raw.items():
        table = table_for_name(key)
        if table is None:
            ignored.append(key)
        else:
            raws.append(RawTable(table, frame.reset_index(drop=True), key))
    report, _ = check_raw(raws, (), ignored, as_of)
    return report


def validate_source(source: str | Path, as_of: date | None = None) -> ValidationReport:
    """Check a folder or SQL URL against the contract; raises CvmError only if it is not found."""
    raws, problems, ignored = read_source(source, defer=True)
    report, _ = check_raw(raws, problems, ignored, as_of, source=str(source))
    log.info(
        "validated %s: %d error(s), %d warning(s)", source, len(report.errors), len(report.warnings)
    )
    return report
