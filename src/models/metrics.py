"""Model-quality metrics shared by the churn and value models (pure numpy functions).

Classification: auc, pr_auc, brier, ece, top_decile_lift, calibration_table.
Ranking of amounts: gain_curve, gini, normalized_gini (ZILN paper, Wang, Liu, Miao 2019:
Gini of the gain curve ranked by prediction over the Gini ranked by the truth, ties averaged).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

RANDOM_AUC = 0.5
"""The AUC of a random ranking: what a model is graded against when no baseline was scored."""


def _xy(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.shape != p.shape:
        raise ValueError(f"y and p differ in shape: {y.shape} vs {p.shape}")
    return y, p


def auc(y, p) -> float:
    """ROC AUC; NaN when only one class is present."""
    y, p = _xy(y, p)
    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


def pr_auc(y, p) -> float:
    """Area under the precision-recall curve (average precision)."""
    y, p = _xy(y, p)
    return float(average_precision_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


def brier(y, p) -> float:
    """Mean squared error of probabilities."""
    y, p = _xy(y, p)
    return float(np.mean((p - y) ** 2))


def calibration_table(y, p, bins: int = 10) -> pd.DataFrame:
    """Equal-width probability bins: n, mean predicted, observed rate (empty bins dropped)."""
    y, p = _xy(y, p)
    b = np.clip((p * bins).astype(int), 0, bins - 1)
    n = np.bincount(b, minlength=bins)
    sp = np.bincount(b, weights=p, minlength=bins)
    sy = np.bincount(b, weights=y, minlength=bins)
    ok = n > 0
    return pd.DataFrame(
        {
            "bin_low": np.arange(bins)[ok] / bins,
            "bin_high": (np.arange(bins)[ok] + 1) / bins,
            "n": n[ok],
            "mean_p": sp[ok] / n[ok],
            "observed": sy[ok] / n[ok],
        }
    )


def ece(y, p, bins: int = 10) -> float:
    """Expected calibration error: count-weighted mean |observed − predicted| over bins."""
    t = calibration_table(y, p, bins)
    return float(np.sum(t["n"] * np.abs(t["observed"] - t["mean_p"])) / max(t["n"].sum(), 1))


def top_decile_lift(y, p, share: float = 0.1) -> float:
    """Positive rate among the top ``share`` by score over the overall positive rate."""
    y, p = _xy(y, p)
    k = max(1, int(round(len(y) * share)))
    top = np.argsort(-p, kind="stable")[:k]
    base = y.mean()
    return float(y[top].mean() / base) if base > 0 else float("nan")


def gain_curve(y, score) -> pd.DataFrame:
    """Cumulative share of the total of ``y`` captured when ranking by ``score`` (descending).

    One point per distinct score (ties form one linear segment = the average over tie orders),
    starting at (0, 0).
    """
    y, s = _xy(y, score)
    order = np.argsort(-s, kind="stable")
    ys, ss = y[order], s[order]
    ends = np.r_[np.nonzero(ss[1:] != ss[:-1])[0], len(ss) - 1]
    cum = np.cumsum(ys)[ends]
    total = ys.sum()
    return pd.DataFrame(
        {
            "share_customers": np.r_[0.0, (ends + 1) / len(ys)],
            "share_value": np.r_[0.0, cum / total if total else cum * 0],
        }
    )


def gini(y, score) -> float:
    """Gini of the gain curve: 2 × area between it and the diagonal."""
    g = gain_curve(y, score)
    area = np.trapezoid(g["share_value"], g["share_customers"])
    return float(2 * area - 1)


def normalized_gini(y, score) -> float:
    """Gini ranked by ``score`` over Gini ranked by ``y`` itself (1 = perfect ranking)."""
    best = gini(y, y)
    return float(gini(y, score) / best) if best > 0 else float("nan")


def classification_report(y, p, bins: int = 10) -> dict[str, float]:
    """auc, pr_auc, brier, ece, top_decile_lift, n and base rate in one dict."""
    y, p = _xy(y, p)
    return {
        "auc": auc(y, p),
        "pr_auc": pr_auc(y, p),
        "brier": brier(y, p),
        "ece": ece(y, p, bins),
        "top_decile_lift": top_decile_lift(y, p),
        "n": int(len(y)),
        "base_rate": float(y.mean()) if len(y) else float("nan"),
    }


# --- amounts (value model) ------------------------------------------------------------------
def top_decile_capture(y, p, share: float = 0.1) -> float:
    """Share of the realized total of ``y`` held by the top ``share`` of rows by ``p``."""
    y, p = _xy(y, p)
    k = max(1, int(round(len(y) * share)))
    top = np.argsort(-p, kind="stable")[:k]
    return float(y[top].sum() / y.sum()) if y.sum() > 0 else float("nan")


def decile_table(y, p, bins: int = 10) -> pd.DataFrame:
    """Mean predicted vs realized amount per prediction decile (1 = highest predictions)."""
    y, p = _xy(y, p)
    rank = np.empty(len(p), dtype=np.int64)
    rank[np.argsort(-p, kind="stable")] = np.arange(len(p))
    dec = rank * bins // max(len(p), 1) + 1
    df = pd.DataFrame({"decile": dec, "predicted": p, "realized": y})
    out = df.groupby("decile").agg(
        customers=("predicted", "size"),
        mean_predicted=("predicted", "mean"),
        mean_realized=("realized", "mean"),
        total_realized=("realized", "sum"),
    )
    out["share_of_realized"] = out.pop("total_realized") / y.sum() if y.sum() > 0 else np.nan
    return out.reset_index()


def regression_report(y, p, bins: int = 10) -> dict:
    """normalized_gini, spearman, top_decile_capture, total_ratio (predicted / realized total),
    n and the decile table (as records) of predicted amounts."""
    from scipy.stats import spearmanr

    y, p = _xy(y, p)
    return {
        "normalized_gini": normalized_gini(y, p),
        "spearman": float(spearmanr(y, p).statistic) if len(y) > 1 else float("nan"),
        "top_decile_capture": top_decile_capture(y, p),
        "total_ratio": float(p.sum() / y.sum()) if y.sum() > 0 else float("nan"),
        "n": int(len(y)),
        "deciles": decile_table(y, p, bins).to_dict(orient="records"),
    }


def excess_ratio(auc_model: float, auc_oracle: float) -> float:
    """AUC over the oracle's on the excess scale: ``(auc - 0.5) / (oracle - 0.5)`` (chance
    taken out of both; 1 = as good as the oracle, 0 = no better than chance)."""
    den = auc_oracle - 0.5
    return float((auc_model - 0.5) / den) if den > 0 else float("nan")


def bootstrap_ci(
    stat,
    arrays: tuple[np.ndarray, ...],
    reps: int,
    confidence: float,
    seed: int,
    max_rows: int | None = None,
    by_rows: Callable[[np.ndarray], float] | None = None,
) -> list[float] | None:
    """Percentile interval of ``stat(*arrays)`` over ``reps`` resamples of the rows (the same
    rows for every array, so paired statistics stay paired); None when too few finite draws.
    ``by_rows(i)``, when given, is ``stat`` of the resample of rows ``i``, computed faster
    (e.g. ``uplift_metrics.qini_ci``: one sort of the whole data for every resample).

    Above ``max_rows`` rows each resample draws ``m = max_rows`` rows and the spread of the
    draws around their median is scaled by ``sqrt(m / n)`` around the full-data estimate (the
    standard error of a smooth statistic shrinks as ``1 / sqrt(n)``), so a million rows cost
    what ``max_rows`` do."""
    n = len(arrays[0])
    if n < 2 or reps < 2:
        return None
    m = n if not max_rows or n <= max_rows else int(max_rows)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(reps):
        i = rng.integers(0, n, m)
        v = by_rows(i) if by_rows is not None else stat(*(a[i] for a in arrays))
        if np.isfinite(v):
            draws.append(v)
    if len(draws) < max(2, reps // 2):
        return None
    a = (1.0 - confidence) / 2
    lo, hi = float(np.quantile(draws, a)), float(np.quantile(draws, 1 - a))
    if m == n:
        return [lo, hi]
    full, mid, k = float(stat(*arrays)), float(np.median(draws)), float(np.sqrt(m / n))
    return [full + k * (lo - mid), full + k * (hi - mid)]
