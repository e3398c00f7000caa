"""The fitted uplift model as JSON (LightGBM text models inside), so that fitting it and using
it can be two steps of the run, each in its own kernel.

``fit_uplift`` needs only the tables (the contacts and the features at their months), not this
month's churn and value scores, so the run fits it in its own step (``uplift``, notebook
06a) beside churn and value; the campaigns step loads it. No pickle: the boosters are
LightGBM's text format, every other field plain JSON (floats written exactly, NaN as null and
read back as NaN), and the out-of-time fold is its own artifact (``uplift_validation``).
Loading gives the same predictions, to the bit, as the fitted model
(tests/campaigns/test_uplift_store.py).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import lightgbm as lgb
import numpy as np

from cvm.campaigns.uplift import UpliftModel
from cvm.campaigns.uplift_learners import MarginLearner, StateScaler

FORMAT = "cvm-uplift-model/1"
_SKIP = ("boosters", "margin", "validation")  # written their own way, or an artifact of its own
_SCALER_ARRAYS = ("median", "low", "high", "mean", "sd")


def _floats(values: dict[str, Any]) -> dict[str, float]:
    return {k: (np.nan if v is None else float(v)) for k, v in values.items()}


def to_json(model: UpliftModel) -> dict[str, Any]:
    """``model`` as plain JSON values (boosters as LightGBM text models)."""
    out: dict[str, Any] = {"format": FORMAT}
    for f in fields(model):
        if f.name not in _SKIP:
            out[f.name] = getattr(model, f.name)
    out["boosters"] = {k: b.model_to_string() for k, b in model.boosters.items()}
    m = model.margin
    out["margin"] = (
        None
        if m is None
        else {
            "campaigns": list(m.campaigns),
            "coef": m.coef.tolist(),
            "scaler": {
                "columns": list(m.scaler.columns),
                "logged": list(m.scaler.logged),
                **{a: getattr(m.scaler, a).tolist() for a in _SCALER_ARRAYS},
            },
        }
    )
    return out


def from_json(d: dict[str, Any]) -> UpliftModel:
    """The model :func:`to_json` wrote (its ``validation`` left None)."""
    if d.get("format") != FORMAT:
        raise ValueError(f"not an uplift model of this version of cvm: {d.get('format')!r}")
    kw = {f.name: d[f.name] for f in fields(UpliftModel) if f.name not in _SKIP and f.name in d}
    for name in (
        "prior",
        "ate",
        "propensity",
        "cate_mean",
        "heterogeneity",
        "ate_measured",
        "ate_se",
        "spend_effect",
        "spend_se",
        "margin_weight",
        "margin_scale",
    ):
        if name in kw:
            kw[name] = _floats(kw[name])
    model = UpliftModel(**kw)
    model.boosters = {k: lgb.Booster(model_str=s) for k, s in d.get("boosters", {}).items()}
    m = d.get("margin")
    if m is not None:
        sc = m["scaler"]
        model.margin = MarginLearner(
            campaigns=list(m["campaigns"]),
            scaler=StateScaler(
                columns=list(sc["columns"]),
                logged=list(sc["logged"]),
                **{a: np.asarray(sc[a], dtype=float) for a in _SCALER_ARRAYS},
            ),
            coef=np.asarray(m["coef"], dtype=float),
        )
    return model
