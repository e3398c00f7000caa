"""Uplift metrics: Qini curve and coefficient, AUUC, predicted-vs-measured deciles.

Plain numpy on (prediction, outcome, treated) arrays; the outcome may be a response (0/1) or an
amount (incremental margin in CNY), the formulas are the same.
"""

from __future__ import annotations

import numpy as np


def qini_curve(uplift: np.ndarray, y: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Cumulative incremental responders when targeting by descending ``uplift``:
    ``Y_t(k) - Y_c(k) * N_t(k) / N_c(k)`` for k = 1..n (ties in stable input order)."""
    order = np.argsort(-np.asarray(uplift, float), kind="stable")
    return _curve(np.asarray(y, float)[order], np.asarray(treated, bool)[order])


def _curve(y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The Qini curve of rows already in targeting order."""
    n_t, n_c = np.cumsum(t), np.cumsum(~t)
    y_t, y_c = np.cumsum(y * t), np.cumsum(y * ~t)
    return y_t - np.divide(y_c * n_t, n_c, out=np.zeros(len(y)), where=n_c > 0)


def qini_coefficient(uplift: np.ndarray, y: np.ndarray, treated: np.ndarray) -> float:
    """Area between the Qini curve and the random-targeting line, per customer (0 = random)."""
    return _area(qini_curve(uplift, y, treated))


def _area(q: np.ndarray) -> float:
    if len(q) == 0:
        return float("nan")
    frac = np.arange(1, len(q) + 1) / len(q)
    return float(np.mean(q - frac * q[-1]) / len(q))


def qini_ci(
    uplift: np.ndarray,
    y: np.ndarray,
    treated: np.ndarray,
    reps: int,
    confidence: float,
    seed: int,
) -> list[float] | None:
    """``bootstrap_ci(qini_coefficient, (uplift, y, treated), reps, confidence, seed)``, the
    same interval to the bit, without sorting every resample.

    When no two predictions are equal, a resample sorted by descending uplift is each row of
    the whole data's order repeated as often as the resample drew it (copies of a row are
    alike, so their order among themselves does not matter): a count and a repeat instead of
    a sort. With ties (their order in a resample follows the draw), each resample is sorted."""
    from cvm.models.metrics import bootstrap_ci

    u = np.asarray(uplift, float)
    y = np.asarray(y, float)
    t = np.asarray(treated, bool)
    order = np.argsort(-u, kind="stable")
    s = u[order]
    by_rows = None
    if len(u) > 1 and not np.isnan(s).any() and bool(np.all(s[1:] != s[:-1])):

        def by_rows(i: np.ndarray) -> float:
            rows = np.repeat(order, np.bincount(i, minlength=len(u))[order])
            return _area(_curve(y[rows], t[rows]))

    return bootstrap_ci(qini_coefficient, (u, y, t), reps, confidence, seed, by_rows=by_rows)


def auuc(uplift: np.ndarray, y: np.ndarray, treated: np.ndarray) -> float:
    """Area under the uplift curve: mean over k of (rate_t(k) - rate_c(k)) * k / n.
    Random targeting gives about ATE / 2."""
    order = np.argsort(-np.asarray(uplift, float), kind="stable")
    y = np.asarray(y, float)[order]
    t = np.asarray(treated, bool)[order]
    n_t, n_c = np.cumsum(t), np.cumsum(~t)
    ok = (n_t > 0) & (n_c > 0)
    gap = np.divide(np.cumsum(y * t), n_t, out=np.zeros(len(y)), where=n_t > 0) - np.divide(
        np.cumsum(y * ~t), n_c, out=np.zeros(len(y)), where=n_c > 0
    )
    frac = np.arange(1, len(y) + 1) / max(len(y), 1)
    return float(np.mean(np.where(ok, gap * frac, 0.0))) if len(y) else float("nan")


def uplift_deciles(
    uplift: np.ndarray, y: np.ndarray, treated: np.ndarray, bins: int
) -> list[dict[str, float]]:
    """Predicted against measured uplift by decile of the prediction: per bin the mean
    prediction and the target-minus-control response rate with its standard error (a
    calibrated model's points lie on the diagonal; a model that ranks has rising points)."""
    u = np.asarray(uplift, float)
    y = np.asarray(y, float)
    t = np.asarray(treated, bool)
    if len(u) < bins:
        return []
    order = np.argsort(u, kind="stable")
    out = []
    for k, idx in enumerate(np.array_split(order, bins)):
        yt, yc = y[idx][t[idx]], y[idx][~t[idx]]
        if len(yt) < 2 or len(yc) < 2:
            continue
        out.append(
            {
                "decile": k + 1,
                "n": len(idx),
                "predicted": float(u[idx].mean()),
                "measured": float(yt.mean() - yc.mean()),
                "measured_se": float(np.sqrt(yt.var(ddof=1) / len(yt) + yc.var(ddof=1) / len(yc))),
            }
        )
    return out
