"""The one LightGBM trainer of cvm: churn, value, leads and uplift all fit their boosters here.

What every model shares lives in one place: parameters assembled the same way (the settings'
section, then the fixed keys, then a tuning grid point), deterministic training (``seed``,
``deterministic``, an explicit ``num_threads``), ``lgb.train`` with callbacks for early
stopping, and the small tuning loop (best grid point by a score on a tuning set, the winner
cut to its best iteration). The models keep only what is their own: the objective, the frames
and the score they tune on.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

LIGHTGBM_TWEEDIE_VARIANCE_POWER = 1.5
"""LightGBM's default ``tweedie_variance_power`` (a fact of LightGBM, not a setting of cvm: the
value model sets its own from ``configs/value.yaml``)."""


def booster_params(
    objective: str,
    *,
    seed: int,
    num_threads: int | None = None,
    base: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    point: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """LightGBM parameters: ``base`` (a settings section's ``params``), then the objective, the
    seed, ``deterministic``, silence and ``num_threads``, then ``extra`` (model-specific fixed
    keys), then ``point`` (a tuning grid point), each overriding the previous."""
    p: dict[str, Any] = {
        **(base or {}),
        "objective": objective,
        "seed": int(seed),
        "deterministic": True,
        "verbosity": -1,
    }
    if num_threads is not None:
        p["num_threads"] = int(num_threads)
    p.update(extra or {})
    p.update(point or {})
    return p


def dataset(
    X: pd.DataFrame,
    y: Any,
    *,
    reference: lgb.Dataset | None = None,
    categorical: list[str] | None = None,
    pre_filter: bool = True,
    free_raw_data: bool = False,
) -> lgb.Dataset:
    """A LightGBM Dataset of ``(X, y)``. ``pre_filter=False`` keeps every feature binned so a
    tuning grid may vary ``min_data_in_leaf`` on one Dataset; ``categorical`` names the
    categorical columns (default: the pandas categoricals, LightGBM's ``auto``)."""
    kwargs: dict[str, Any] = {"free_raw_data": free_raw_data}
    if reference is not None:
        kwargs["reference"] = reference
    if categorical is not None:
        kwargs["categorical_feature"] = categorical
    if not pre_filter:
        kwargs["params"] = {"feature_pre_filter": False, "verbosity": -1}
    return lgb.Dataset(X, np.asarray(y), **kwargs)


def fit_booster(
    params: Mapping[str, Any],
    train: lgb.Dataset,
    rounds: int,
    valid: lgb.Dataset | None = None,
    early_stopping_rounds: int | None = None,
) -> lgb.Booster:
    """``lgb.train`` for ``rounds`` rounds, or early-stopped on ``valid`` when it is given.

    On a Dask engine (``cvm monthly --engine dask``) a training frame larger than
    ``engine.train_memory_budget_mb`` trains through ``lightgbm.dask`` on the cluster instead
    (:func:`fit_on_dask`)."""
    from cvm.engine import training_client

    raw = getattr(train, "data", None)
    client = (
        training_client(int(raw.memory_usage(deep=True).sum()))
        if isinstance(raw, pd.DataFrame)
        else None
    )
    if client is not None and str(params.get("objective")) in _DASK_LOSSES:
        return fit_on_dask(
            client, params, raw, np.asarray(train.label), rounds, valid, early_stopping_rounds
        )
    if valid is None:
        return lgb.train(dict(params), train, num_boost_round=max(int(rounds), 1))
    with warnings.catch_warnings():  # "overriding the parameters from reference dataset"
        warnings.simplefilter("ignore", UserWarning)
        return lgb.train(
            dict(params),
            train,
            num_boost_round=int(rounds),
            valid_sets=[valid],
            callbacks=[
                lgb.early_stopping(int(early_stopping_rounds or rounds), verbose=False),
                lgb.log_evaluation(0),
            ],
        )


def _logloss(y: np.ndarray, raw: np.ndarray, p: Mapping[str, Any]) -> float:
    q = np.clip(1.0 / (1.0 + np.exp(-raw)), 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def _l2(y: np.ndarray, raw: np.ndarray, p: Mapping[str, Any]) -> float:
    return float(np.mean((y - raw) ** 2))


def _tweedie(y: np.ndarray, raw: np.ndarray, p: Mapping[str, Any]) -> float:
    # the loss must be the one LightGBM trained: its own default when the params leave it out
    rho = float(p.get("tweedie_variance_power", LIGHTGBM_TWEEDIE_VARIANCE_POWER))
    return float(
        np.mean(-y * np.exp((1 - rho) * raw) / (1 - rho) + np.exp((2 - rho) * raw) / (2 - rho))
    )


_DASK_LOSSES = {"binary": _logloss, "regression": _l2, "tweedie": _tweedie}
"""Objectives :func:`fit_on_dask` trains (and the validation loss it picks the best round by)."""


def fit_on_dask(
    client: Any,
    params: Mapping[str, Any],
    X: pd.DataFrame,
    y: np.ndarray,
    rounds: int,
    valid: lgb.Dataset | None = None,
    early_stopping_rounds: int | None = None,
) -> lgb.Booster:
    """Train on the Dask cluster (``lightgbm.dask``: data-parallel histograms across the
    workers) from ``X`` split into one partition per worker; with ``valid``, the best round is
    the one with the lowest validation loss (what early stopping picks, without stopping
    early), recorded as the booster's ``best_iteration``. The result
    is an ordinary booster (a LightGBM text model like every other)."""
    import dask.dataframe as dd
    import lightgbm.dask as lgbd

    workers = max(1, len(client.scheduler_info().get("workers", {})))
    p = {k: v for k, v in params.items() if k not in ("num_threads", "deterministic")}
    est = (lgbd.DaskLGBMClassifier if p["objective"] == "binary" else lgbd.DaskLGBMRegressor)(
        client=client, n_estimators=max(int(rounds), 1), **p
    )
    dX = dd.from_pandas(X.reset_index(drop=True), npartitions=workers)
    dy = dd.from_pandas(pd.Series(y), npartitions=workers)
    log.info("training on dask: %d rows, %d partitions", len(X), workers)
    with client.as_current():  # the dask collections compute on this client
        booster = est.fit(dX, dy).booster_
    if valid is not None:
        loss = _DASK_LOSSES[p["objective"]]
        Xv, yv = valid.data, np.asarray(valid.label, float)
        raw = np.zeros(len(yv))
        losses = []
        for k in range(booster.num_trees()):
            raw = raw + booster.predict(Xv, start_iteration=k, num_iteration=1, raw_score=True)
            losses.append(loss(yv, raw, p))
        booster.best_iteration = int(np.argmin(losses)) + 1
    return booster


def truncated(booster: lgb.Booster) -> lgb.Booster:
    """The booster cut to its best iteration (a fresh Booster with only those trees)."""
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=booster.best_iteration))


@dataclass
class Tuned:
    """The winner of :func:`tune`: the booster cut to its best iteration, its grid point and
    its score on the tuning set."""

    booster: lgb.Booster
    point: dict[str, Any]
    score: float


def tune(
    grid: Iterable[Mapping[str, Any]],
    params_for: Callable[[Mapping[str, Any]], dict],
    train: lgb.Dataset,
    valid: lgb.Dataset,
    X_valid: pd.DataFrame,
    score: Callable[[np.ndarray], float],
    *,
    rounds: int,
    early_stopping_rounds: int,
    num_threads: int,
    name: str,
) -> Tuned:
    """Train one early-stopped booster per grid point (``params_for(point)``) on ``train``, score
    each on ``X_valid`` at its best iteration (higher is better) and return the best, the first
    on ties."""
    best: tuple[float, lgb.Booster, dict[str, Any]] | None = None
    for point in grid:
        booster = fit_booster(params_for(point), train, rounds, valid, early_stopping_rounds)
        p = booster.predict(X_valid, num_iteration=booster.best_iteration, num_threads=num_threads)
        s = score(np.asarray(p, float))
        log.info(
            "%s tuning %s: %d trees, tune score %.4f", name, dict(point), booster.best_iteration, s
        )
        if best is None or s > best[0]:
            best = (s, booster, dict(point))
    if best is None:
        raise ValueError(f"{name}: the tuning grid is empty")
    return Tuned(truncated(best[1]), best[2], best[0])
