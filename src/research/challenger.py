"""Challenger models: the champion's settings with features dropped or kept and LightGBM
parameters overridden, trained on the champion's own frames and compared with it on the same
out-of-time rows (paired bootstrap intervals of AUC, ECE and Gini).

A challenger's settings are a YAML overlay of the run config (``churn:`` or ``value:``); saved
with its comparison (``save_challenger``), a later monthly run adopts it as a profile:
``cvm monthly ... --profile <name>`` once the overlay is copied to ``configs/<name>.yaml``.
"""

from __future__ import annotations

import copy
import difflib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from cvm.config import CvmError, load_config
from cvm.fileio import write_json
from cvm.models import metrics as M

log = logging.getLogger(__name__)

MODELS = ("churn", "value")


def research_settings(cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """``configs/research.yaml`` with the run's ``cfg["research"]`` merged in."""
    return load_config("research", (cfg or {}).get("research"))


def lightgbm_parameters() -> set[str]:
    """Every LightGBM parameter name and alias (from the library itself)."""
    from lightgbm.basic import _ConfigAliases

    names: set[str] = set()
    for canonical, aliases in _ConfigAliases._get_all_param_aliases().items():
        names.add(canonical)
        names.update(aliases)
    return names


# ----------------------------------------------------------------------------- checks
def _unknown(kind: str, bad: list[str], valid: list[str], what: str) -> CvmError:
    hints = {b: difflib.get_close_matches(b, valid, n=3) for b in bad}
    hint = "; ".join(f"{b!r}: did you mean {', '.join(h)}?" for b, h in hints.items() if h)
    return CvmError(
        f"{kind}: unknown {what} {bad}"
        + (f" ({hint})" if hint else "")
        + f". Valid {what}s: {', '.join(valid)}"
    )


def check_overrides(
    model: str,
    features: list[str],
    features_drop: list[str] | tuple = (),
    features_only: list[str] | tuple = (),
    model_params: dict | None = None,
    cfg: dict[str, Any] | None = None,
) -> None:
    """Raise a CvmError naming the valid names when ``features_drop`` / ``features_only``
    name a feature not in ``features`` or ``model_params`` a key neither LightGBM nor the
    trainer knows. Cheap: call it before any training."""
    if model not in MODELS:
        raise CvmError(f"model must be one of {MODELS}, got {model!r}")
    valid = sorted(features)
    for name, given in (("features_drop", features_drop), ("features_only", features_only)):
        if isinstance(given, str):
            raise CvmError(f"{name} must be a list of feature names, e.g. [{given!r}]")
        bad = [f for f in given if f not in set(valid)]
        if bad:
            raise _unknown(name, bad, valid, "feature")
    keep = [
        f
        for f in valid
        if (not features_only or f in features_only) and f not in set(features_drop)
    ]
    if not keep:
        raise CvmError("features_drop / features_only leave no feature to train on")
    params = dict(model_params or {})
    ch = research_settings(cfg)["challenger"]
    trainer = list(ch["trainer_keys"][model])
    fixed = set(ch["fixed_keys"])
    lgb_names = lightgbm_parameters()
    bad = [k for k in params if k not in lgb_names and k not in trainer]
    if bad:
        raise _unknown("model_params", bad, sorted(trainer) + sorted(lgb_names - fixed), "key")
    blocked = [k for k in params if k in fixed]
    if blocked:
        raise CvmError(
            f"model_params: {blocked} are set by the {model} model and cannot be "
            f"overridden; tunable: {', '.join(trainer)} and LightGBM's other parameters"
        )


def overlay(
    model: str,
    cfg: dict[str, Any],
    features: list[str],
    best_params: dict[str, Any],
    features_drop: list[str] | tuple = (),
    features_only: list[str] | tuple = (),
    model_params: dict | None = None,
) -> dict[str, Any]:
    """The challenger's settings as a config overlay (``{"churn": {...}}`` or ``{"value":
    {...}}``): merged over the run config it reproduces the challenger exactly."""
    from cvm.models.value import value_settings

    params = dict(model_params or {})
    trainer = set(research_settings(cfg)["challenger"]["trainer_keys"][model])
    lgb_over = {k: v for k, v in params.items() if k not in trainer}
    train_over = {k: v for k, v in params.items() if k in trainer}
    base = cfg["churn"] if model == "churn" else value_settings(cfg)
    exclude = set(base.get("exclude_features") or [])
    if features_only:
        exclude = {f for f in features if f not in set(features_only)}
    exclude |= set(features_drop)
    out: dict[str, Any] = {"exclude_features": sorted(exclude), **train_over}
    if model == "churn":
        out["tuning"] = [{**best_params, **lgb_over}]
    elif lgb_over:
        out["params"] = {**base.get("params", {}), **lgb_over}
    return {model: out}


def apply_overlay(cfg: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``cfg`` with ``over`` merged in (lists replaced, dicts merged)."""
    from cvm.config import _merge

    return _merge(copy.deepcopy(cfg), copy.deepcopy(over))


# ----------------------------------------------------------------------------- comparison
def _auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC AUC by the Mann-Whitney statistic (ties averaged); NaN with a single class."""
    from scipy.stats import rankdata

    pos = y > 0
    n1 = int(pos.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(p)
    return float((r[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _metrics(model: str, y: np.ndarray, p: np.ndarray, bins: int) -> dict[str, float]:
    if model == "churn":
        auc = _auc(y, p)
        return {"auc": auc, "ece": M.ece(y, p, bins), "gini": 2 * auc - 1}
    return {
        "auc": _auc((y > 0).astype(float), p),
        "ece": decile_calibration_error(y, p, bins),
        "gini": M.normalized_gini(y, p),
    }


def decile_calibration_error(y, p, bins: int) -> float:
    """Amounts: count-weighted mean |mean predicted − mean realized| over prediction deciles,
    relative to the mean realized amount (0 = calibrated in every decile)."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    mean = float(np.mean(y)) if len(y) else float("nan")
    if not mean > 0:
        return float("nan")
    rank = np.empty(len(p), dtype=np.int64)  # deciles as in metrics.decile_table
    rank[np.argsort(-p, kind="stable")] = np.arange(len(p))
    dec = rank * bins // len(p)
    gap = np.bincount(dec, weights=p - y, minlength=bins)  # n x (mean predicted - realized)
    return float(np.abs(gap).sum() / len(p) / mean)


def compare(
    model: str,
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    cfg: dict[str, Any] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """AUC, ECE and Gini of each score on the same rows, with paired bootstrap intervals and,
    for two scores, the difference (second − first) with its interval.

    Churn: AUC and ECE of the probability, Gini = 2·AUC − 1. Value: AUC of a paid return
    ranked by predicted value, ECE = ``decile_calibration_error``, Gini = normalized Gini.
    """
    rs = research_settings(cfg)
    rounds, level = int(rs["bootstrap"]["rounds"]), float(rs["bootstrap"]["level"])
    bins = int(rs["calibration_bins"] if model == "churn" else rs["value_deciles"])
    y = np.asarray(y, float)
    S = {k: np.asarray(v, float) for k, v in scores.items()}
    rng = np.random.default_rng([seed, 18])
    draws = rng.integers(0, len(y), size=(rounds, len(y)))
    names = list(S)
    point = {n: _metrics(model, y, S[n], bins) for n in names}
    boot = {n: pd.DataFrame([_metrics(model, y[d], S[n][d], bins) for d in draws]) for n in names}
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    rows = []
    for metric in ("auc", "ece", "gini"):
        row: dict[str, Any] = {"metric": metric}
        for n in names:
            row[n] = point[n][metric]
            row[f"{n}_low"], row[f"{n}_high"] = np.nanquantile(boot[n][metric], [lo_q, hi_q])
        if len(names) == 2:
            a, b = names
            diff = boot[b][metric].to_numpy() - boot[a][metric].to_numpy()
            row["difference"] = point[b][metric] - point[a][metric]
            row["difference_low"], row["difference_high"] = np.nanquantile(diff, [lo_q, hi_q])
        rows.append(row)
    out = pd.DataFrame(rows).set_index("metric")
    out.attrs.update(n=len(y), rounds=rounds, level=level)
    return out


@dataclass
class Comparison:
    """A challenger against the champion on the champion's out-of-time rows."""

    model: str
    name: str
    overlay: dict[str, Any]
    table: pd.DataFrame
    y: np.ndarray
    scores: dict[str, np.ndarray]  # {"champion": ..., "challenger": ...}
    challenger: Any = field(repr=False, default=None)
    request: dict[str, Any] = field(default_factory=dict)

    def summary(self, digits: int = 3) -> pd.DataFrame:
        """The table as ``value [low, high]`` per model and for the difference."""
        t = self.table
        cols = [c for c in ("champion", "challenger", "difference") if c in t.columns]
        return pd.DataFrame(
            {
                c: [
                    f"{r[c]:.{digits}f} [{r[c + '_low']:.{digits}f}, {r[c + '_high']:.{digits}f}]"
                    for _, r in t.iterrows()
                ]
                for c in cols
            },
            index=t.index,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: what was asked, the overlay, the table and the fold size."""
        return {
            "model": self.model,
            "name": self.name,
            "request": self.request,
            "overlay": self.overlay,
            "n_rows": len(self.y),
            "bootstrap": {
                "rounds": self.table.attrs.get("rounds"),
                "level": self.table.attrs.get("level"),
            },
            "table": json.loads(self.table.to_json(orient="index")),
        }


def _request(features_drop, features_only, model_params) -> dict[str, Any]:
    return {
        "features_drop": list(features_drop),
        "features_only": list(features_only),
        "model_params": dict(model_params or {}),
    }


def churn_challenger(
    ctx: Any,
    champion: Any,
    features_drop: list[str] | tuple = (),
    features_only: list[str] | tuple = (),
    model_params: dict | None = None,
    name: str = "challenger",
) -> Comparison:
    """Train a churn challenger on the champion's frames and compare on its holdout rows."""
    from cvm.models.churn import churn_frames, fit_churn

    frames = ctx.memo.get("churn_frames") or churn_frames(ctx.tables, ctx.as_of, ctx.cfg)
    return _challenge(
        ctx,
        "churn",
        champion,
        frames,
        fit_churn,
        champion.metrics["best_params"],
        _request(features_drop, features_only, model_params),
        name,
        ("y_true", "p", "holdout rows"),
    )


def value_challenger(
    ctx: Any,
    champion: Any,
    features_drop: list[str] | tuple = (),
    features_only: list[str] | tuple = (),
    model_params: dict | None = None,
    name: str = "challenger",
) -> Comparison:
    """Train a value challenger on the champion's frames and compare on its evaluation rows."""
    from cvm.models.value import fit_value, value_frames

    frames = ctx.memo.get("value_frames") or value_frames(ctx.tables, ctx.as_of, ctx.cfg)
    return _challenge(
        ctx,
        "value",
        champion,
        frames,
        fit_value,
        {},
        _request(features_drop, features_only, model_params),
        name,
        ("realized", "predicted", "evaluation rows"),
    )


def _challenge(
    ctx: Any,
    model: str,
    champion: Any,
    frames: Any,
    fit: Any,
    best_params: dict,
    req: dict[str, Any],
    name: str,
    columns: tuple[str, str, str],
) -> Comparison:
    """Fit the challenger ``req`` asks for (:func:`_request`) on the champion's frames and
    compare the two on the same rows. ``columns``: the validation frame's truth and prediction
    columns, and what its rows are called in the error when they differ."""
    drop, only, params = req["features_drop"], req["features_only"], req["model_params"]
    check_overrides(model, frames.feature_names, drop, only, params, ctx.cfg)
    over = overlay(model, ctx.cfg, frames.feature_names, best_params, drop, only, params)
    challenger = fit(frames, apply_overlay(ctx.cfg, over))
    truth, pred, rows = columns
    a, b = champion.validation, challenger.validation
    if not (a.index.equals(b.index) and np.array_equal(a[truth], b[truth])):
        raise CvmError(f"champion and challenger {rows} differ; re-run the {model} cell")
    y = b[truth].to_numpy(float)
    scores = {"champion": a[pred].to_numpy(float), "challenger": b[pred].to_numpy(float)}
    table = compare(model, y, scores, ctx.cfg, ctx.seed)
    return Comparison(model, name, over, table, y, scores, challenger, req)


def check_notebook_overrides(
    ctx: Any,
    model: str,
    features_drop: list[str] | tuple = (),
    features_only: list[str] | tuple = (),
    model_params: dict | None = None,
) -> bool:
    """The notebook's first check, before any training: the names against the run's built
    features (the ``features`` artifact's columns). True when a challenger was asked for.

    On a bad name the scratch run just opened is removed again (nothing is left behind)."""
    import pyarrow.parquet as pq

    try:
        path = ctx.artifacts / "features.parquet"
        if not path.exists():
            ctx.load_frame("features")  # raises the clear "run 02_features first" error
        schema = pq.read_schema(path)
        index = {
            c for c in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)
        }
        names = [n for n in schema.names if n not in index and not n.startswith("__")]
        check_overrides(model, names, features_drop, features_only, model_params, ctx.cfg)
    except CvmError:
        ctx.discard_scratch()
        raise
    return bool(features_drop or features_only or model_params)


def save_challenger(ctx: Any, cmp: Comparison) -> Path:
    """Write ``<run_dir>/challengers/<model>-<name>/``: ``profile.yaml`` (the overlay) and
    ``comparison.json``; returns the folder. Adopt: copy profile.yaml to configs/<name>.yaml
    and run ``cvm monthly ... --profile <profile>+<name>``."""
    out = ctx.run_dir / "challengers" / f"{cmp.model}-{cmp.name}"
    out.mkdir(parents=True, exist_ok=True)
    profile = ctx.cfg.get("profile", "default")
    chain = cmp.name if profile == "default" else f"{profile}+{cmp.name}"
    header = (
        f"# {cmp.model} challenger {cmp.name!r} from {ctx.run_dir.name} (as of "
        f"{ctx.as_of.date()}, profile {profile}). Adopt it: copy this file to "
        f"configs/{cmp.name}.yaml, then\n#   cvm monthly --data ... --as-of ... "
        f"--profile {chain}\n"
    )
    (out / "profile.yaml").write_text(
        header + yaml.safe_dump(cmp.overlay, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    doc = {
        **cmp.to_dict(),
        "as_of": str(ctx.as_of.date()),
        "base_profile": profile,
        "adopt": f"cp {out / 'profile.yaml'} configs/{cmp.name}.yaml && cvm monthly "
        f"--data ... --as-of ... --profile {chain}",
    }
    write_json(out / "comparison.json", doc)
    log.info("challenger saved to %s", out)
    return out
