"""Action lists per department (the ``campaigns/<department>.csv`` output contract).

Contact details are masked (138****5678) and names left out unless ``reveal_contacts=True``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from cvm.campaigns.catalogue import Campaign
from cvm.config import CvmError

log = logging.getLogger(__name__)

LIST_COLUMNS = ["customer_id", "campaign", "channel", "expected_incremental_value", "cost",
                "group", "reasons"]

_TEXT = {
    "zh": {"uplift": "提升", "pts": "个百分点", "learned": "历史学习", "prior": "目录先验",
           "stake": "价值", "cost": "成本", "stage": "阶段", "tag": "价值标签",
           "churn": "流失概率", "control": "对照组：本月不联系"},
    "en": {"uplift": "uplift", "pts": "pts", "learned": "learned", "prior": "catalogue prior",
           "stake": "value at stake", "cost": "cost", "stage": "stage", "tag": "value tag",
           "churn": "churn risk", "control": "control group: do not contact this month"},
}


def mask_phone(phone: Any) -> str:
    """``13812345678`` -> ``138****5678``; short or missing values -> ``****`` / ``''``."""
    if phone is None or (isinstance(phone, float) and np.isnan(phone)) or phone is pd.NA:
        return ""
    s = "".join(ch for ch in str(phone) if ch.isalnum())
    if len(s) < 8:
        return "****"
    return f"{s[:3]}****{s[-4:]}"


def reasons(plan: pd.DataFrame, lang: str = "zh",
            catalogue: dict[str, Campaign] | None = None) -> pd.Series:
    """One short text per plan row: campaign, uplift and its source, value at stake, cost,
    and the segment facts present (stage, value tag, churn risk)."""
    t = _TEXT.get(lang, _TEXT["en"])
    parts: list[pd.Series] = []
    if catalogue:
        parts.append(plan["campaign"].map({k: c.name(lang) for k, c in catalogue.items()})
                     .fillna(plan["campaign"]).astype(str))
    if "uplift" in plan.columns:
        src = (plan["uplift_source"].map({"learned": t["learned"], "prior": t["prior"]})
               .fillna("").astype(str) if "uplift_source" in plan.columns
               else pd.Series("", index=plan.index))
        parts.append(t["uplift"] + " " + (plan["uplift"] * 100).map("{:+.1f}".format)
                     + " " + t["pts"] + np.where(src != "", " (" + src + ")", ""))
    if "value_at_stake" in plan.columns:
        parts.append(t["stake"] + " " + plan["value_at_stake"].map("{:,.0f}".format) + " CNY")
    if "cost" in plan.columns:
        parts.append(t["cost"] + " " + plan["cost"].map("{:,.0f}".format) + " CNY")
    for col, key, fmt in (("lifecycle_stage", "stage", "{}"), ("value_tag", "tag", "{}"),
                          ("churn_probability", "churn", "{:.0%}")):
        if col in plan.columns:
            parts.append(t[key] + " " + plan[col].map(
                lambda x, f=fmt: f.format(x) if pd.notna(x) else "?"))
    if not parts:
        return pd.Series("", index=plan.index, dtype=str)
    out = parts[0].astype(str)
    for p in parts[1:]:
        out = out + "; " + p.astype(str)
    if "group" in plan.columns:
        out = out.where(plan["group"] != "control", t["control"] + "; " + out)
    return out


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
    need = ["customer_id", "campaign", "department", "channel", "cost",
            "expected_incremental_value", "group"]
    missing = [c for c in need if c not in plan.columns]
    if missing:
        raise CvmError(f"department_lists needs plan columns {missing} (assign_control first)")
    df = plan.copy()
    df["reasons"] = reasons(df, lang, catalogue)
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
    df = df.sort_values(["_order", "expected_incremental_value"], ascending=[True, False],
                        kind="stable")
    out: dict[str, pd.DataFrame] = {}
    for dept in departments or sorted(df["department"].unique()):
        out[dept] = df.loc[df["department"] == dept, cols].reset_index(drop=True)
    return out
