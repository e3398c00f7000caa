"""Uplift learners on LightGBM, pooled over campaigns (the campaign is a categorical feature).

- ``fit_meta_learner``: T- or X-learner (Kuenzel et al. 2019) on the response;
- ``fit_margin_learner``: a linear R-learner (Nie & Wager 2021) of the incremental margin over
  each campaign's effect window on a few state features, pooled over campaigns (shared slopes,
  ridge-shrunk campaign-specific deviations); ``heterogeneity_slope`` measures, on held-out
  customers, how much of its per-customer spread is real.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from cvm.models import trainer

CAMPAIGN_FEATURE = "_campaign"
LGB_BIN_SAMPLE_ROWS = 200_000
"""LightGBM's default ``bin_construct_sample_cnt`` (a fact of the library, not a setting)."""


def design(
    X: pd.DataFrame, campaign: np.ndarray, features: list[str], categories: dict[str, list[Any]]
) -> pd.DataFrame:
    """Model matrix: numeric features as float, categoricals with fixed categories.

    float32 features (``build_features``') stay float32: LightGBM then receives a float32
    matrix, half the memory and copying of float64, with the same values, hence the same
    bins, trees and predictions."""
    M = X.reindex(columns=[f for f in features if f != CAMPAIGN_FEATURE]).copy()
    M[CAMPAIGN_FEATURE] = campaign
    for col in M.columns:
        if col in categories:
            M[col] = pd.Categorical(M[col].astype(object), categories=categories[col])
        else:
            num = pd.to_numeric(M[col], errors="coerce")
            M[col] = num.astype(np.float32 if num.dtype == np.float32 else float)
    return M[features]


def schema(X: pd.DataFrame, campaigns: list[str]) -> tuple[list[str], dict[str, list[Any]]]:
    """Usable columns of ``X`` (numeric, or categorical with at most 50 levels) plus the
    campaign, and the fixed category levels of the categorical ones."""
    feats, cats = [], {}
    for col in X.columns:
        s = X[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            feats.append(col)
        elif (
            isinstance(s.dtype, pd.CategoricalDtype)
            or pd.api.types.is_string_dtype(s)
            or s.dtype == object
        ):
            vals = sorted(str(v) for v in s.dropna().unique())
            if 0 < len(vals) <= 50:
                feats.append(col)
                cats[col] = vals
    feats.append(CAMPAIGN_FEATURE)
    cats[CAMPAIGN_FEATURE] = sorted(campaigns)
    return feats, cats


def train_booster(
    M: pd.DataFrame,
    y: np.ndarray,
    params: dict[str, Any],
    rounds: int,
    objective: str,
    seed: int,
    weight: np.ndarray | None = None,
) -> lgb.Booster:
    """One deterministic LightGBM fit through the shared trainer (``cvm.models.trainer``);
    categoricals from the frame's dtypes, optional row weights."""
    ds = _dataset(M, y, free_raw_data=True)
    if weight is not None:
        ds.set_weight(np.asarray(weight, float))
    return trainer.fit_booster(_params(params, objective, seed), ds, rounds)


def _params(params: dict[str, Any], objective: str, seed: int) -> dict[str, Any]:
    p = trainer.booster_params(objective, seed=seed, base=params, extra={"force_row_wise": True})
    if objective != "binary":
        p.pop("is_unbalance", None)
    return p


def _dataset(M: pd.DataFrame, y: np.ndarray, free_raw_data: bool) -> lgb.Dataset:
    cats = [c for c in M.columns if isinstance(M[c].dtype, pd.CategoricalDtype)]
    return trainer.dataset(M, y, categorical=cats, free_raw_data=free_raw_data)


def _refit_same_rows(
    ds: lgb.Dataset,
    M: pd.DataFrame,
    y: np.ndarray,
    params: dict[str, Any],
    rounds: int,
    objective: str,
    seed: int,
) -> lgb.Booster:
    """``train_booster(M, y, ...)`` on the Dataset ``ds`` already binned from the same rows
    ``M`` (a new label only): the same booster, without binning the rows again. LightGBM bins
    from every row up to ``bin_construct_sample_cnt`` rows, so the bins do not depend on the
    seed there; above it they would (a seeded sample), and the rows are binned anew."""
    cap = int(params.get("bin_construct_sample_cnt", LGB_BIN_SAMPLE_ROWS))
    if len(M) > cap:
        return train_booster(M, y, params, rounds, objective, seed)
    ds.set_label(np.asarray(y))
    return trainer.fit_booster(_params(params, objective, seed), ds, rounds)


def fit_meta_learner(
    X: pd.DataFrame,
    info: pd.DataFrame,
    campaigns: list[str],
    u: Any,
    seed: int,
    columns: tuple[list[str], dict[str, list[Any]]] | None = None,
) -> tuple[dict[str, lgb.Booster], dict[str, float], list[str], dict[str, list[Any]]]:
    """T- or X-learner of the response (``u['learner']``): boosters, target shares, schema.
    ``columns``: ``schema(X, campaigns)`` when the caller has it already."""
    feats, cats = columns if columns is not None else schema(X, campaigns)
    M = design(X, info["campaign"].astype(str).to_numpy(object), feats, cats)
    y = info["responded"].to_numpy(float)
    t = info["treated"].to_numpy(bool)
    params = {k: v for k, v in u.lgb.items() if k != "objective"}
    rounds = u.num_boost_round
    M0, M1 = M[~t], M[t]
    x = u.learner == "x"  # the X-learner's second stage refits on the same rows: keep the bins
    ds0, ds1 = _dataset(M0, y[~t], free_raw_data=not x), _dataset(M1, y[t], free_raw_data=not x)
    b = {
        "mu0": trainer.fit_booster(_params(params, "binary", seed), ds0, rounds),
        "mu1": trainer.fit_booster(_params(params, "binary", seed + 1), ds1, rounds),
    }
    prop = info.groupby("campaign")["treated"].mean().to_dict()
    if x:
        d1 = y[t] - b["mu0"].predict(M1)
        d0 = b["mu1"].predict(M0) - y[~t]
        b["tau1"] = _refit_same_rows(ds1, M1, d1, params, rounds, "regression", seed + 2)
        b["tau0"] = _refit_same_rows(ds0, M0, d0, params, rounds, "regression", seed + 3)
    return b, {k: float(v) for k, v in prop.items()}, feats, cats


def cross_fitted_outcome(
    M: pd.DataFrame,
    y: np.ndarray,
    customer: np.ndarray,
    params: dict[str, Any],
    rounds: int,
    seed: int,
) -> np.ndarray:
    """``m(x)``, the outcome ignoring treatment, predicted for each row by a LightGBM fitted on
    the other fold (two folds by customer, so a customer's own outcomes never predict them)."""
    y = np.asarray(y, float)
    fold = (pd.util.hash_array(np.asarray(customer).astype(str).astype(object)) % 2).astype(int)
    mhat = np.full(len(y), float(np.mean(y)) if len(y) else 0.0)
    for k in (0, 1):
        tr = fold != k
        if tr.sum() >= 100 and (~tr).sum() > 0:
            mhat[~tr] = train_booster(M[tr], y[tr], params, rounds, "regression", seed + k).predict(
                M[~tr]
            )
    return mhat


@dataclass
class StateScaler:
    """Numeric state features made comparable: log1p of the heavy-tailed ones, missing values
    at the median, clipped to the 1st-99th percentiles, standardized."""

    columns: list[str]
    logged: list[str]
    median: np.ndarray
    low: np.ndarray
    high: np.ndarray
    mean: np.ndarray
    sd: np.ndarray

    @staticmethod
    def _raw(X: pd.DataFrame, columns: list[str], logged: list[str]) -> np.ndarray:
        cols = []
        for c in columns:
            v = (
                pd.to_numeric(X[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
                if c in X.columns
                else np.full(len(X), np.nan)
            )
            cols.append(np.log1p(np.clip(v, 0, None)) if c in logged else v)
        return np.column_stack(cols) if cols else np.zeros((len(X), 0))

    @classmethod
    def fit(cls, X: pd.DataFrame, columns: list[str], logged: list[str]) -> StateScaler:
        Z = cls._raw(X, columns, logged)
        ok = ~np.isnan(Z).all(0)
        Z = Z[:, ok]
        columns = [c for c, k in zip(columns, ok, strict=True) if k]
        med = np.nanmedian(Z, 0)
        Z = np.where(np.isnan(Z), med, Z)
        lo, hi = np.percentile(Z, 1, 0), np.percentile(Z, 99, 0)
        Z = np.clip(Z, lo, hi)
        sd = Z.std(0)
        return cls(
            columns,
            [c for c in logged if c in columns],
            med,
            lo,
            hi,
            Z.mean(0),
            np.where(sd > 0, sd, 1.0),
        )

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        Z = self._raw(X, self.columns, self.logged)
        Z = np.where(np.isnan(Z), self.median, Z)
        return (np.clip(Z, self.low, self.high) - self.mean) / self.sd


@dataclass
class MarginLearner:
    """tau(x, c) = a_c + z(x) . (b + d_c): incremental margin per contact over the effect
    window; ``b`` shared by all campaigns, ``d_c`` each campaign's deviation (ridge-shrunk)."""

    campaigns: list[str]
    scaler: StateScaler
    coef: np.ndarray

    def _phi(self, Z: np.ndarray, campaign: np.ndarray) -> np.ndarray:
        k, p = len(self.campaigns), Z.shape[1]
        code = pd.Index(self.campaigns).get_indexer(np.asarray(campaign).astype(str))
        oh = np.zeros((len(Z), k))
        known = code >= 0
        oh[np.flatnonzero(known), code[known]] = 1.0
        return np.hstack([oh, Z, (oh[:, :, None] * Z[:, None, :]).reshape(len(Z), k * p)])

    def predict(self, X: pd.DataFrame, campaign: np.ndarray) -> np.ndarray:
        """tau for each row of ``X`` under its ``campaign`` (unknown campaigns: shared part):
        ``a_c + z . (b + d_c)``, the product ``_phi(z, c) @ coef`` without building ``_phi``."""
        Z = self.scaler.transform(X)
        k, p = len(self.campaigns), Z.shape[1]
        code = pd.Index(self.campaigns).get_indexer(np.asarray(campaign).astype(str))
        a = np.r_[self.coef[:k], 0.0]  # code -1 (unknown): no intercept, no deviation
        d = np.vstack([self.coef[k + p :].reshape(k, p), np.zeros((1, p))])
        return a[code] + Z @ self.coef[k : k + p] + np.einsum("ij,ij->i", Z, d[code])


def fit_margin_learner(
    X: pd.DataFrame,
    residual: np.ndarray,
    treated: np.ndarray,
    propensity: np.ndarray,
    campaign: np.ndarray,
    columns: list[str],
    logged: list[str],
    alpha: float,
    campaign_alpha: float,
    chunk: int = 100_000,
) -> MarginLearner:
    """Linear R-learner: minimizes ``sum ((Y - m) - (T - e) tau(x))^2 + penalties`` with
    ``residual = Y - m(x)`` (cross-fitted, ``cross_fitted_outcome``) and ``e`` each campaign's
    target share (assignment is random within a campaign). Ridge penalties: ``alpha`` on the
    shared slopes, ``campaign_alpha`` on the campaign-specific deviations (large = campaigns
    borrow the shared shape), none to speak of on the campaign intercepts. Solved through its
    normal equations, accumulated in chunks (memory stays flat at any history size).

    A row of campaign ``c`` has the features ``[e_c, z, e_c (x) z]``: its one-hot, its state and
    the state again in campaign ``c``'s block. So the normal equations are sums, over
    campaigns, of the small Gram matrix of ``[1, z]`` on that campaign's rows, placed at the
    campaign's positions: ``(p + 1)^2`` numbers a row instead of ``(k + p + kp)^2`` (the same
    system, up to the order of floating-point sums; ``tests/test_speed_equivalence.py``)."""
    campaigns = sorted(set(np.asarray(campaign).astype(str)))
    scaler = StateScaler.fit(X, columns, logged)
    model = MarginLearner(campaigns, scaler, np.zeros(0))
    r = np.asarray(treated, float) - np.asarray(propensity, float)
    res = np.asarray(residual, float)
    k, p = len(campaigns), len(scaler.columns)
    q = k + p + k * p
    code = pd.Index(campaigns).get_indexer(np.asarray(campaign).astype(str))
    G, g = np.zeros((k, p + 1, p + 1)), np.zeros((k, p + 1))
    for s in range(0, len(res), chunk):
        sl = slice(s, s + chunk)
        U = np.hstack([np.ones((len(res[sl]), 1)), scaler.transform(X.iloc[sl])]) * r[sl, None]
        cs = code[sl]
        for c in np.unique(cs):
            m = cs == c
            G[c] += U[m].T @ U[m]
            g[c] += U[m].T @ res[sl][m]
    A, b = np.zeros((q, q)), np.zeros(q)
    j = np.arange(p)
    for c in range(k):
        E = np.zeros((q, p + 1))  # [1, z] -> the positions of campaign c's features
        E[c, 0] = 1.0
        E[k + j, 1 + j] = 1.0
        E[k + p + c * p + j, 1 + j] = 1.0
        A += E @ G[c] @ E.T
        b += E @ g[c]
    pen = np.r_[
        np.full(k, 1e-6 * max(alpha, 1.0)), np.full(p, alpha), np.full(k * p, campaign_alpha)
    ]
    model.coef = np.linalg.solve(A + np.diag(pen), b)
    return model


def heterogeneity_slope(
    deviation: np.ndarray, residual: np.ndarray, treated: np.ndarray, propensity: np.ndarray
) -> tuple[float, float]:
    """How much of a predicted per-customer deviation is real, on contacts the prediction did
    not see: the least-squares ``beta`` in ``Y - m = (T - e)(a + beta * deviation)`` and its
    sandwich standard error. 1 = calibrated, 0 = the spread is noise."""
    r = np.asarray(treated, float) - np.asarray(propensity, float)
    D = np.column_stack([r, r * np.asarray(deviation, float)])
    res = np.asarray(residual, float)
    A = D.T @ D
    if len(res) < 3 or np.linalg.cond(A) > 1e12:
        return float("nan"), float("nan")
    Ai = np.linalg.inv(A)
    coef = Ai @ (D.T @ res)
    u = res - D @ coef
    V = Ai @ ((D * u[:, None] ** 2).T @ D) @ Ai
    return float(coef[1]), float(np.sqrt(max(V[1, 1], 0.0)))
