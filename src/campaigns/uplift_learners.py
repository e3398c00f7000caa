"""Uplift learners on LightGBM, pooled over campaigns (the campaign is a categorical feature).

- ``fit_meta_learner``: T- or X-learner (Kuenzel et al. 2019) on the response;
- ``fit_margin_learner``: an R-learner (Nie & Wager 2021) of the incremental margin over each
  campaign's effect window, see its docstring.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

CAMPAIGN_FEATURE = "_campaign"


def design(X: pd.DataFrame, campaign: np.ndarray, features: list[str],
           categories: dict[str, list[Any]]) -> pd.DataFrame:
    """Model matrix: numeric features as float, categoricals with fixed categories."""
    M = X.reindex(columns=[f for f in features if f != CAMPAIGN_FEATURE]).copy()
    M[CAMPAIGN_FEATURE] = campaign
    for col in M.columns:
        if col in categories:
            M[col] = pd.Categorical(M[col].astype(object), categories=categories[col])
        else:
            M[col] = pd.to_numeric(M[col], errors="coerce").astype(float)
    return M[features]


def schema(X: pd.DataFrame, campaigns: list[str]) -> tuple[list[str], dict[str, list[Any]]]:
    """Usable columns of ``X`` (numeric, or categorical with at most 50 levels) plus the
    campaign, and the fixed category levels of the categorical ones."""
    feats, cats = [], {}
    for col in X.columns:
        s = X[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            feats.append(col)
        elif isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s) \
                or s.dtype == object:
            vals = sorted(str(v) for v in s.dropna().unique())
            if 0 < len(vals) <= 50:
                feats.append(col)
                cats[col] = vals
    feats.append(CAMPAIGN_FEATURE)
    cats[CAMPAIGN_FEATURE] = sorted(campaigns)
    return feats, cats


def train_booster(M: pd.DataFrame, y: np.ndarray, params: dict[str, Any], rounds: int,
                  objective: str, seed: int, weight: np.ndarray | None = None) -> lgb.Booster:
    """One deterministic LightGBM fit (categoricals from the frame's dtypes)."""
    p = {**params, "objective": objective, "seed": seed, "deterministic": True,
         "force_row_wise": True}
    if objective != "binary":
        p.pop("is_unbalance", None)
    ds = lgb.Dataset(M, label=y, weight=weight, categorical_feature=[c for c in M.columns
                                                      if isinstance(M[c].dtype, pd.CategoricalDtype)],
                     free_raw_data=True)
    return lgb.train(p, ds, num_boost_round=rounds)


def fit_meta_learner(X: pd.DataFrame, info: pd.DataFrame, campaigns: list[str],
                     u: dict[str, Any], seed: int
                     ) -> tuple[dict[str, lgb.Booster], dict[str, float], list[str],
                                dict[str, list[Any]]]:
    """T- or X-learner of the response (``u['learner']``): boosters, target shares, schema."""
    feats, cats = schema(X, campaigns)
    M = design(X, info["campaign"].astype(str).to_numpy(object), feats, cats)
    y = info["responded"].to_numpy(float)
    t = info["treated"].to_numpy(bool)
    params = {k: v for k, v in (u.get("lgb") or {}).items() if k != "objective"}
    rounds = int(u.get("num_boost_round", 200))
    b = {"mu0": train_booster(M[~t], y[~t], params, rounds, "binary", seed),
         "mu1": train_booster(M[t], y[t], params, rounds, "binary", seed + 1)}
    prop = info.groupby("campaign")["treated"].mean().to_dict()
    if str(u.get("learner", "x")) == "x":
        d1 = y[t] - b["mu0"].predict(M[t])
        d0 = b["mu1"].predict(M[~t]) - y[~t]
        b["tau1"] = train_booster(M[t], d1, params, rounds, "regression", seed + 2)
        b["tau0"] = train_booster(M[~t], d0, params, rounds, "regression", seed + 3)
    return b, {k: float(v) for k, v in prop.items()}, feats, cats
