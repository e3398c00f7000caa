"""One customer's explanation: SHAP contributions of a booster for a chosen customer_id."""

from __future__ import annotations

import pandas as pd

from cvm.config import CvmError


def pick_customer(scores: pd.Series, customer_id: str = "") -> str:
    """``customer_id`` when it is among the scored customers, else (empty) the highest score."""
    if not customer_id:
        if scores.empty:
            raise CvmError("no scored customers to explain")
        return str(scores.sort_values(ascending=False, kind="stable").index[0])
    ids = scores.index.astype(str)
    if str(customer_id) not in set(ids):
        raise CvmError(
            f"customer_id {customer_id!r} is not among the {len(ids):,} scored "
            f"customers (e.g. {', '.join(ids[:5])}); leave it empty for the highest"
        )
    return str(customer_id)


def customer_contributions(
    booster, features: pd.DataFrame, customer_id: str, num_threads: int = 1
) -> tuple[pd.Series, pd.Series]:
    """(SHAP contributions incl. ``bias``, feature values) of one customer."""
    from cvm.models.explain import contributions

    idx = features.index.astype(str)
    row = features.loc[idx == str(customer_id)].iloc[:1]
    if row.empty:
        raise CvmError(f"customer_id {customer_id!r} has no features at this as-of date")
    c = contributions(booster, row, num_threads).iloc[0]
    return c, row.reindex(columns=booster.feature_name()).iloc[0]
