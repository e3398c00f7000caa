"""Action lists per department (the ``campaigns/<department>.csv`` output contract).

Contact details are masked (138****5678) and names left out unless ``reveal_contacts=True``.
Lists are for people and CRM imports alike: the column names are the contract's (plus
``campaign_label``, the campaign's name in the run's language), amounts are whole CNY, the
reasons are plain words in the run's language (no codes), and ``write_department_lists``
writes each department's CSV (UTF-8 with a BOM) and an .xlsx beside it (headers in the run's
language, frozen header row), text cells safe from formula injection (``campaigns.files``).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from cvm.campaigns.catalogue import Campaign
from cvm.config import CvmError

log = logging.getLogger(__name__)

LIST_COLUMNS = [
    "customer_id",
    "campaign",
    "campaign_label",
    "channel",
    "expected_incremental_value",
    "cost",
    "group",
    "reasons",
]
MONEY_COLUMNS = ("expected_incremental_value", "cost")
"""Written as whole CNY."""
XLSX_WIDTHS = {
    "customer_id": 14,
    "campaign": 22,
    "campaign_label": 18,
    "channel": 9,
    "expected_incremental_value": 16,
    "cost": 10,
    "group": 10,
    "reasons": 90,
    "phone": 15,
    "name": 12,
}
"""Column widths (characters) of the department .xlsx files."""

_WORDS = ("uplift", "pts", "stake", "cost", "yuan", "stage", "tag", "churn", "control")
"""The words of a list's reasons (``list_<word>`` in cvm.i18n.TEXT)."""


def mask_phone(phone: Any) -> str:
    """``13812345678`` -> ``138****5678``; short or missing values -> ``****`` / ``''``."""
    if phone is None or (isinstance(phone, float) and np.isnan(phone)) or phone is pd.NA:
        return ""
    s = "".join(ch for ch in str(phone) if ch.isalnum())
    if len(s) < 8:
        return "****"
    return f"{s[:3]}****{s[-4:]}"


def reasons(
    plan: pd.DataFrame, lang: str = "zh", catalogue: dict[str, Campaign] | None = None
) -> pd.Series:
    """One short text per plan row: campaign, uplift and its source, value at stake, cost,
    and the segment facts present (stage, value tag, churn risk)."""
    from cvm.i18n import label
    from cvm.i18n import t as text

    t = {w: text(f"list_{w}", lang) for w in _WORDS}
    sep = " "
    parts: list[pd.Series] = []
    parts.append(campaign_labels(plan["campaign"], lang, catalogue))
    if "uplift" in plan.columns:
        src = (
            plan["uplift_source"]
            .map(lambda v: label("uplift_source", v, lang))
            .fillna("")
            .astype(str)
            if "uplift_source" in plan.columns
            else pd.Series("", index=plan.index)
        )
        parts.append(
            t["uplift"]
            + " "
            + (plan["uplift"] * 100).map("{:+.1f}".format)
            + " "
            + t["pts"]
            + np.where(src != "", sep + "(" + src + ")", "")
        )
    if "value_at_stake" in plan.columns:
        parts.append(
            t["stake"] + " " + plan["value_at_stake"].map("{:,.0f}".format) + sep + t["yuan"]
        )
    if "cost" in plan.columns:
        parts.append(t["cost"] + " " + plan["cost"].map("{:,.0f}".format) + sep + t["yuan"])
    for col, key, kind in (
        ("lifecycle_stage", "stage", "stage"),
        ("value_tag", "tag", None),
        ("churn_probability", "churn", None),
    ):
        if col in plan.columns:
            if kind:
                shown = plan[col].map(lambda x, k=kind: label(k, x, lang) if pd.notna(x) else "?")
            elif col == "churn_probability":
                shown = plan[col].map(lambda x: f"{x:.0%}" if pd.notna(x) else "?")
            else:
                shown = plan[col].map(lambda x: str(x) if pd.notna(x) else "?")
            parts.append(t[key] + " " + shown)
    if not parts:
        return pd.Series("", index=plan.index, dtype=str)
    out = parts[0].astype(str)
    for p in parts[1:]:
        out = out + "; " + p.astype(str)
    if "group" in plan.columns:
        out = out.where(plan["group"] != "control", t["control"] + "; " + out)
    return out


def campaign_labels(
    campaigns: pd.Series, lang: str = "zh", catalogue: dict[str, Campaign] | None = None
) -> pd.Series:
    """Each campaign id's name in ``lang`` (the catalogue's, else the id in words)."""
    from cvm.i18n import label

    names = {k: c.name(lang) for k, c in (catalogue or {}).items()}
    return campaigns.map(lambda c: names.get(c) or label("campaign", c, lang)).astype(str)


def department_lists(
    plan: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    reveal_contacts: bool = False,
    lang: str = "zh",
    catalogue: dict[str, Campaign] | None = None,
    departments: list[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """One list per department: the contract columns, plus ``phone`` (masked unless
    ``reveal_contacts``) and, only with ``reveal_contacts``, ``name``.

    Control rows are listed (``group = control``, cost 0) so the store records them, and are
    never to be contacted. Rows are sorted target first, then by expected incremental value.
    """
    need = [
        "customer_id",
        "campaign",
        "department",
        "channel",
        "cost",
        "expected_incremental_value",
        "group",
    ]
    missing = [c for c in need if c not in plan.columns]
    if missing:
        raise CvmError(f"department_lists needs plan columns {missing} (assign_control first)")
    df = plan.copy()
    df["reasons"] = reasons(df, lang, catalogue)
    df["campaign_label"] = campaign_labels(df["campaign"], lang, catalogue)
    df["cost"] = np.where(df["group"] == "control", 0.0, df["cost"].astype(float))
    cols = list(LIST_COLUMNS)
    if customers is not None:
        prof = customers.reset_index() if customers.index.name == "customer_id" else customers
        if "customer_id" not in prof.columns:
            raise CvmError("customers frame needs customer_id (index or column)")
        prof = prof.drop_duplicates("customer_id").set_index("customer_id")
        if "phone" in prof.columns:
            phone = df["customer_id"].map(prof["phone"])
            df["phone"] = phone.astype(object) if reveal_contacts else phone.map(mask_phone)
            df["phone"] = df["phone"].fillna("").astype(str)
            cols.append("phone")
        if reveal_contacts and "name" in prof.columns:
            df["name"] = df["customer_id"].map(prof["name"]).fillna("").astype(str)
            cols.append("name")
    if reveal_contacts:
        log.warning("department lists carry unmasked contact details (reveal_contacts=True)")
    df["_order"] = (df["group"] == "control").astype(int)
    df = df.sort_values(
        ["_order", "expected_incremental_value"], ascending=[True, False], kind="stable"
    )
    out: dict[str, pd.DataFrame] = {}
    for col in MONEY_COLUMNS:  # whole CNY (after sorting on the exact values)
        df[col] = df[col].astype(float).round(0).astype("int64")
    for dept in departments or sorted(df["department"].unique()):
        out[dept] = df.loc[df["department"] == dept, cols].reset_index(drop=True)
    return out


def write_department_lists(lists: dict[str, pd.DataFrame], out_dir, lang: str = "zh") -> list:
    """``<department>.csv`` (UTF-8 with a BOM, contract column names) and ``<department>.xlsx``
    (headers in ``lang``, frozen header row, column widths) for each list; returns the paths."""
    from pathlib import Path

    from cvm.campaigns.files import write_csv, write_xlsx
    from cvm.i18n import label

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for dept, df in lists.items():
        paths.append(write_csv(df, out_dir / f"{dept}.csv"))
        shown = df.copy()
        if "channel" in shown:
            shown["channel"] = shown["channel"].map(lambda v: label("channel", v, lang))
        if "group" in shown:
            shown["group"] = shown["group"].map(lambda v: label("group", v, lang))
        headers = [label("column", c, lang) for c in df.columns]
        paths.append(
            write_xlsx(
                shown,
                out_dir / f"{dept}.xlsx",
                headers,
                XLSX_WIDTHS,
                sheet=label("department", dept, lang),
            )
        )
    return paths
