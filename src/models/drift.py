"""The level of a model's predictions across successive out-of-time folds (issue 15, item 4).

A model's total is set by one scalar fitted out of time (``cvm.models.value``: realized /
predicted total of the held-out customers). One fold is noisy (a few thousand customers and a
heavy-tailed margin) and sits H months before the as-of date, so it cannot see the base drift
in between. Every training snapshot date is a fold too for the customers kept out of training
(``cvm.features.split``): their rows at every date are out of sample. ``fold_level`` fits the
level on all of them:

- ``pooled``: the recency-weighted ratio of sums over the folds (``half_life_months``);
- ``trend``: a weighted least-squares line through the folds' log ratios against their date
  (weights: recency x the inverse delta-method variance of each fold's ratio), extrapolated to
  the as-of date. The slope is shrunk towards 0 by its own noise (positive-part James-Stein:
  ``slope x max(0, 1 - (min_t / t)^2)``, ``t`` = slope / its standard error), so a trend the
  folds do not show is not extrapolated: without drift the result is the pooled level.

Pure functions of per-row arrays; ``docs/value.md`` ("Drift") records what was measured.
``fold_shift`` is the churn model's counterpart on the logit scale (``churn.drift``,
``docs/churn.md`` "Drift (issue 15)").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cvm.config import CvmError

METHODS = ("latest", "pooled", "trend")


@dataclass(frozen=True)
class FoldLevel:
    """The fitted level (``scale``) and the evidence it came from."""

    method: str
    scale: float
    latest: float  # the latest fold's ratio alone (what ``latest`` returns)
    pooled: float
    slope_per_year: float  # of log(ratio), before shrinkage
    slope_t: float
    slope_used_per_year: float
    folds: list[dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fold_stats(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """(ratio Σy / Σp, delta-method variance of its log)."""
    sy, sp = float(y.sum()), float(p.sum())
    if sy <= 0 or sp <= 0:
        return float("nan"), float("inf")
    r = sy / sp
    var = float(np.sum((y - r * p) ** 2)) / sy**2
    return r, max(var, 1e-12)


def shrunk_slope(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, min_t: float
) -> tuple[float, float, float]:
    """The weighted least-squares slope of ``y`` on ``x`` (weights ``w``), its t-ratio (with the
    fit's own scatter where it exceeds the weights' variances: overdispersion) and the slope
    shrunk by its noise, ``slope * max(0, 1 - (min_t / t)^2)``: (slope, t, shrunk slope). The
    trend of both drift corrections (value ``fold_level``, churn ``fold_shift``)."""
    X = np.column_stack([np.ones_like(x), x])
    W = np.diag(w)
    cov = np.linalg.pinv(X.T @ W @ X)
    beta = cov @ X.T @ W @ y
    resid = y - X @ beta
    phi = max(1.0, float(np.sum(w * resid**2)) / max(len(x) - 2, 1))
    se = float(np.sqrt(cov[1, 1] * phi))
    slope = float(beta[1])
    slope_t = slope / se if se > 0 else 0.0
    shrink = max(0.0, 1.0 - (min_t / slope_t) ** 2) if slope_t != 0 else 0.0
    return slope, slope_t, slope * shrink


def fold_level(
    y: np.ndarray,
    p: np.ndarray,
    months_back: np.ndarray,
    method: str,
    half_life_months: float,
    min_t: float,
) -> FoldLevel:
    """The scale that makes ``p`` match ``y`` at the as-of date, from rows of several folds.

    ``y``: the rows' realized target (e.g. margin minus contact-induced margin), ``p``: the
    raw predictions, ``months_back``: months between each row's fold date and the as-of date
    (> 0; the latest fold is the smallest). ``method``: ``latest`` (the latest fold only, the
    single-fold rule), ``pooled`` or ``trend`` (module docstring)."""
    if method not in METHODS:
        raise CvmError(f"value.drift.method must be one of {', '.join(METHODS)}, not {method!r}")
    y, p, m = (np.asarray(a, dtype=float) for a in (y, p, months_back))
    ts = np.unique(m)
    stats = []
    for tk in ts:
        sel = m == tk
        rk, vk = _fold_stats(y[sel], p[sel])
        stats.append((float(tk), rk, vk, int(sel.sum())))
    ok = [s for s in stats if np.isfinite(s[1])]
    if not ok:
        return FoldLevel(method, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, [])
    t = np.array([s[0] for s in ok])
    r = np.array([s[1] for s in ok])
    var = np.array([s[2] for s in ok])
    latest = float(r[np.argmin(t)])
    rec = 0.5 ** ((t - t.min()) / float(half_life_months)) if half_life_months > 0 else 1.0
    rec = np.broadcast_to(rec, t.shape)
    # pooled: the recency-weighted ratio of sums (each fold's sums weighted alike)
    num = sum(w * float(y[m == tk].sum()) for w, tk in zip(rec, t, strict=True))
    den = sum(w * float(p[m == tk].sum()) for w, tk in zip(rec, t, strict=True))
    pooled = float(num / den) if den > 0 else 1.0
    slope = slope_t = used = 0.0
    scale = {"latest": latest, "pooled": pooled}.get(method, pooled)
    if len(t) >= 3:
        w = rec / var
        x = -t / 12.0  # years relative to the as-of date (folds are in the past: x < 0)
        slope, slope_t, used = shrunk_slope(x, np.log(r), w, min_t)
        if method == "trend":
            # the level at the folds' weighted centre, moved along the shrunk slope to x = 0
            xc = float(np.sum(w * x) / np.sum(w))
            level_c = float(np.sum(w * (np.log(r) - slope * (x - xc))) / np.sum(w))
            scale = float(np.exp(level_c + used * (0.0 - xc)))
    folds = [
        {"months_back": s[0], "ratio": s[1], "log_se": float(np.sqrt(s[2])), "rows": s[3]}
        for s in ok
    ]
    return FoldLevel(method, float(scale), latest, pooled, slope, slope_t, used, folds)


# ------------------------------------------------------------------ churn: a logit shift
SHIFT_METHODS = ("none", "level", "trend", "anchored")
_NEWTON_STEPS = 50  # intercept_shift converges in a handful; a cap, not a setting


@dataclass(frozen=True)
class FoldShift:
    """The churn model's logit-intercept shift at the as-of date (``shift``) and its evidence.

    Each fold's ``shift`` is the δ that makes Σ sigmoid(logit p + δ) = Σ y on its rows (the
    calibration-in-the-large of the calibrated model there, on the logit scale)."""

    method: str
    shift: float
    latest: float  # the latest fold's δ alone
    level: float  # the folds' weighted mean δ
    slope_per_year: float  # of δ against the fold date, before shrinkage
    slope_t: float
    slope_used_per_year: float
    folds: list[dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def intercept_shift(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """(δ with Σ sigmoid(logit p + δ) = Σ y, the variance of δ: 1 / Σ q(1 − q) at the root).

    Newton on a monotone function; nan when every label is the same."""
    y, z = np.asarray(y, float), _logit(np.asarray(p, float))
    sy, n = float(y.sum()), len(y)
    if n == 0 or sy <= 0 or sy >= n:
        return float("nan"), float("inf")
    d = 0.0
    for _ in range(_NEWTON_STEPS):
        q = 1.0 / (1.0 + np.exp(-(z + d)))
        g = float(q.sum()) - sy
        h = float(np.sum(q * (1 - q)))
        step = g / max(h, 1e-12)
        d -= step
        if abs(step) < 1e-10:
            break
    q = 1.0 / (1.0 + np.exp(-(z + d)))
    return float(d), 1.0 / max(float(np.sum(q * (1 - q))), 1e-12)


def fold_shift(
    y: np.ndarray,
    p: np.ndarray,
    months_back: np.ndarray,
    method: str,
    half_life_months: float,
    min_t: float,
) -> FoldShift:
    """The logit shift that makes the calibrated churn probabilities ``p`` match ``y`` at the
    as-of date, from the rows of several out-of-time folds (``months_back``: months between a
    row's fold date and the as-of date; the latest fold is the smallest).

    A weighted least-squares line through the folds' δ against their date (weights: recency
    ``half_life_months`` × 1 / var δ, overdispersion from the fit's scatter), its slope shrunk
    towards 0 by its own noise (``slope × max(0, 1 − (min_t / t)²)``, as ``fold_level``):

    - ``none``: no shift (the evidence is still recorded);
    - ``level``: the folds' weighted mean δ (no extrapolation);
    - ``trend``: the line's level at the folds' weighted centre, moved along the shrunk slope
      to the as-of date;
    - ``anchored``: the latest fold's δ, moved along the shrunk slope from the latest fold's
      date to the as-of date."""
    if method not in SHIFT_METHODS:
        raise CvmError(
            f"churn.drift.method must be one of {', '.join(SHIFT_METHODS)}, not {method!r}"
        )
    y, p, m = (np.asarray(a, dtype=float) for a in (y, p, months_back))
    stats = []
    for tk in np.unique(m):
        sel = m == tk
        dk, vk = intercept_shift(y[sel], p[sel])
        stats.append(
            (float(tk), dk, vk, int(sel.sum()), float(y[sel].mean()), float(p[sel].mean()))
        )
    ok = [s for s in stats if np.isfinite(s[1])]
    folds = [
        {
            "months_back": s[0],
            "shift": s[1],
            "se": float(np.sqrt(s[2])),
            "rows": s[3],
            "mean_y": s[4],
            "mean_p": s[5],
        }
        for s in ok
    ]
    if not ok:
        return FoldShift(method, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, folds)
    t = np.array([s[0] for s in ok])
    d = np.array([s[1] for s in ok])
    var = np.array([s[2] for s in ok])
    latest = float(d[np.argmin(t)])
    rec = 0.5 ** ((t - t.min()) / float(half_life_months)) if half_life_months > 0 else 1.0
    w = np.broadcast_to(rec, t.shape) / var
    level = float(np.sum(w * d) / np.sum(w))
    slope = slope_t = used = 0.0
    x = -t / 12.0  # years relative to the as-of date (folds are in the past: x < 0)
    xc = float(np.sum(w * x) / np.sum(w))
    if len(t) >= 3:
        slope, slope_t, used = shrunk_slope(x, d, w, min_t)
    if method == "trend":
        level_c = float(np.sum(w * (d - slope * (x - xc))) / np.sum(w))
        shift = level_c + used * (0.0 - xc)
    elif method == "level":
        shift = level
    elif method == "anchored":
        shift = latest + used * float(t.min()) / 12.0
    else:
        shift = 0.0
    return FoldShift(method, float(shift), latest, level, slope, slope_t, used, folds)
