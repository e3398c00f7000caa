"""Research charts: champion against challenger, calibration, SHAP dependence and waterfall,
value deciles, Qini curves, the budget curve and plan sensitivity.

Every function takes ``ax=None`` (or ``axes=None`` for a row of charts) and returns the Axes;
none writes files. Labels are English: these are analysts' working charts, not the report.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from cvm.models import metrics as M
from cvm.reporting.plots import figure_of

COLORS = ("#17324d", "#f17300", "#3e7cb1", "#6a994e", "#b42318", "#81a4cd", "#7b2cbf")


def _ax(ax: Axes | None, size: tuple[float, float] = (5, 3.8)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _axes(axes: Any, n: int, size: tuple[float, float] = (4.2, 3.4)) -> np.ndarray:
    if axes is None:
        _, axes = plt.subplots(1, n, figsize=(size[0] * n, size[1]), squeeze=False)
    return np.asarray(axes).ravel()


# ----------------------------------------------------------------------------- models
def plot_roc(y: np.ndarray, scores: dict[str, np.ndarray], ax: Axes | None = None) -> Axes:
    """ROC curves of several scores on the same labels (AUC in the legend)."""
    from sklearn.metrics import roc_curve

    ax = _ax(ax)
    for i, (name, s) in enumerate(scores.items()):
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, color=COLORS[i % len(COLORS)], label=f"{name} ({M.auc(y, s):.3f})")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_gain(
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    ax: Axes | None = None,
    ylabel: str = "share of churners",
) -> Axes:
    """Cumulative gain: share of ``y``'s total captured by the top share ranked by each score."""
    ax = _ax(ax)
    for i, (name, s) in enumerate(scores.items()):
        g = M.gain_curve(y, s)
        ax.plot(g["share_customers"], g["share_value"], color=COLORS[i % len(COLORS)], label=name)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8, label="random")
    ax.set(xlabel="share of customers (highest score first)", ylabel=ylabel, title="gain")
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_comparison(cmp: Any, axes: Any = None) -> np.ndarray:
    """ROC and gain charts of a ``Comparison``, side by side (value: ROC of a paid return)."""
    axes = _axes(axes, 2)
    y = cmp.y if cmp.model == "churn" else (cmp.y > 0).astype(float)
    plot_roc(y, cmp.scores, axes[0])
    plot_gain(
        cmp.y,
        cmp.scores,
        axes[1],
        ylabel="share of churners" if cmp.model == "churn" else "share of realized value",
    )
    if cmp.model == "value":
        axes[0].set_title("ROC of a paid return")
    return axes


def plot_calibration(
    y: np.ndarray, scores: dict[str, np.ndarray], bins: int, ax: Axes | None = None
) -> Axes:
    """Reliability diagram: observed rate against mean predicted probability in equal-width
    bins, marker size by customers."""
    ax = _ax(ax)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8, label="perfect")
    for i, (name, p) in enumerate(scores.items()):
        t = M.calibration_table(y, p, bins)
        ax.plot(
            t["mean_p"],
            t["observed"],
            marker="o",
            color=COLORS[i % len(COLORS)],
            label=f"{name} (ECE {M.ece(y, p, bins):.3f})",
            lw=1,
        )
        ax.scatter(
            t["mean_p"],
            t["observed"],
            s=10 + 200 * t["n"] / t["n"].sum(),
            color=COLORS[i % len(COLORS)],
            alpha=0.4,
        )
    ax.set(
        xlabel="predicted probability",
        ylabel="observed rate",
        title="calibration",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(loc="upper left", fontsize=8)
    return ax


def plot_deciles(
    y: np.ndarray, scores: dict[str, np.ndarray], bins: int, ax: Axes | None = None
) -> Axes:
    """Mean realized value per prediction decile (1 = highest predictions) of each score:
    the steeper the better the ranking."""
    ax = _ax(ax, (7, 3.8))
    width = 0.8 / max(len(scores), 1)
    for i, (name, s) in enumerate(scores.items()):
        t = M.decile_table(y, s, bins)
        ax.bar(
            t["decile"] + (i - (len(scores) - 1) / 2) * width,
            t["mean_realized"],
            width,
            color=COLORS[i % len(COLORS)],
            label=name,
        )
    ax.set(
        xlabel="decile of the prediction (1 = highest)",
        ylabel="mean realized value (CNY)",
        title="value by decile: model against baselines",
    )
    ax.set_xticks(range(1, bins + 1))
    ax.legend(fontsize=8)
    return ax


# ----------------------------------------------------------------------------- SHAP
def top_features(contribs: pd.DataFrame, n: int) -> list[str]:
    """The ``n`` features with the largest mean |SHAP value|."""
    from cvm.models.explain import importance

    return list(importance(contribs).head(n).index)


def plot_dependence(
    contribs: pd.DataFrame, X: pd.DataFrame, n: int, axes: Any = None, ylabel: str = "SHAP value"
) -> np.ndarray:
    """SHAP dependence plots (feature value against its contribution) of the ``n`` most
    important features, in a grid of three columns."""
    from cvm.reporting.plots import plot_dependence as one

    feats = top_features(contribs, n)
    if axes is None:
        cols = min(3, max(len(feats), 1))
        rows = int(np.ceil(len(feats) / cols)) or 1
        _, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False)
    axes = np.asarray(axes).ravel()
    for ax, f in zip(axes, feats, strict=False):
        one(contribs, X, f, ax=ax)
        ax.set_ylabel(ylabel)
        ax.set_title(f, fontsize=9)
    for ax in axes[len(feats) :]:
        ax.set_visible(False)
    axes[0].figure.tight_layout()
    return axes


def plot_waterfall(
    contrib: pd.Series, values: pd.Series, max_display: int, ax: Axes | None = None, title: str = ""
) -> Axes:
    """One customer's SHAP waterfall: from the model's base value (``bias``) through the
    largest contributions (the rest summed) to the customer's raw score."""
    from cvm.models.explain import BIAS

    base = float(contrib[BIAS])
    c = contrib.drop(BIAS)
    c = c.reindex(c.abs().sort_values(ascending=False).index)
    shown, rest = c.iloc[: max_display - 1], c.iloc[max_display - 1 :]
    labels = [f"{f} = {_fmt(values.get(f))}" for f in shown.index]
    vals = list(shown.to_numpy(float))
    if len(rest):
        labels.append(f"{len(rest)} other features")
        vals.append(float(rest.sum()))
    ax = _ax(ax, (7, 0.35 * len(vals) + 1.5))
    start = base + np.r_[0.0, np.cumsum(vals)[:-1]]
    y = np.arange(len(vals))[::-1]
    ax.barh(y, vals, left=start, color=[COLORS[4] if v > 0 else COLORS[2] for v in vals])
    for yi, s, v in zip(y, start, vals, strict=True):
        ax.text(s + v, yi, f" {v:+.3f}", va="center", ha="left" if v > 0 else "right", fontsize=7)
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(base, color="grey", lw=0.8, ls="--")
    ax.set(
        xlabel=f"raw score (base {base:.3f} → {base + sum(vals):.3f})",
        title=title or "SHAP waterfall",
    )
    return ax


def _fmt(v: Any) -> str:
    if v is None or (np.ndim(v) == 0 and pd.isna(v)):
        return "missing"
    if isinstance(v, (float, np.floating)):
        return f"{v:,.2f}"
    return str(v)


# ----------------------------------------------------------------------------- campaigns
def plot_qini(curves: dict[str, pd.DataFrame], axes: Any = None) -> np.ndarray:
    """Qini curve per campaign (incremental responders against share targeted, model ranking
    against random), one chart each, four to a row."""
    if axes is None:
        cols = min(4, max(len(curves), 1))
        rows = int(np.ceil(max(len(curves), 1) / cols))
        _, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows), squeeze=False)
    axes = np.asarray(axes).ravel()
    for ax in axes[len(curves) :]:
        ax.set_visible(False)
    for ax, (camp, q) in zip(axes, curves.items(), strict=False):
        ax.plot(q["share"], q["qini"], color=COLORS[0], label="model")
        ax.plot([0, 1], [0, q["qini"].iloc[-1]], ls="--", color="grey", lw=0.8, label="random")
        ax.set_title(f"{camp} (Qini {q.attrs.get('coefficient', np.nan):.4f})", fontsize=9)
        ax.set_xlabel("share contacted")
        ax.set_ylabel("incremental responders", fontsize=8)
    axes[0].legend(fontsize=7)
    return axes


def plot_budget_curve(curve: pd.DataFrame, budget: float, ax: Axes | None = None) -> Axes:
    """Expected incremental value of the plan against its budget (this month's marked), with its
    95 % interval when the curve has one (the ``campaign_budget_curve`` artifact)."""
    ax = _ax(ax)
    ax.plot(curve["budget"], curve["expected_incremental_value"], marker="o", color=COLORS[0])
    if {"expected_incremental_value_low", "expected_incremental_value_high"} <= set(curve.columns):
        ax.fill_between(
            curve["budget"],
            curve["expected_incremental_value_low"],
            curve["expected_incremental_value_high"],
            color=COLORS[0],
            alpha=0.15,
            label="95 % interval",
        )
    ax.axvline(budget, color=COLORS[1], ls="--", lw=1, label="this month's budget")
    ax.set(xlabel="budget (CNY)", ylabel="expected incremental value (CNY)", title="budget curve")
    ax.legend(fontsize=8)
    return ax


def plot_sensitivity(
    table: pd.DataFrame, x: str, ax: Axes | None = None, by: str | None = None, title: str = ""
) -> Axes:
    """Expected incremental value of the plan against a setting (one line per ``by``)."""
    ax = _ax(ax)
    groups = table.groupby(by) if by else [("plan", table)]
    for i, (name, g) in enumerate(groups):
        ax.plot(
            g[x],
            g["expected_incremental_value"],
            marker="o",
            color=COLORS[i % len(COLORS)],
            label=str(name),
        )
    ax.set(xlabel=x, ylabel="expected incremental value (CNY)", title=title)
    ax.legend(fontsize=8)
    return ax


def plot_value_calibration(
    y: np.ndarray, scores: dict[str, np.ndarray], bins: int, ax: Axes | None = None
) -> Axes:
    """Mean predicted against mean realized value per prediction decile (diagonal = calibrated)."""
    ax = _ax(ax)
    hi = 0.0
    for i, (name, s) in enumerate(scores.items()):
        t = M.decile_table(y, s, bins)
        ax.plot(
            t["mean_predicted"],
            t["mean_realized"],
            marker="o",
            color=COLORS[i % len(COLORS)],
            label=name,
        )
        hi = max(hi, float(t[["mean_predicted", "mean_realized"]].to_numpy().max()))
    ax.plot([0, hi], [0, hi], ls="--", color="grey", lw=0.8, label="calibrated")
    ax.set(
        xlabel="mean predicted value (CNY)",
        ylabel="mean realized value (CNY)",
        title="value calibration by decile",
    )
    ax.legend(fontsize=8)
    return ax


def show(axes: Any) -> None:
    """Display the figure of ``axes`` (an Axes or an array of them) as a PNG in the notebook,
    then close it; works whatever matplotlib backend is active."""
    from IPython.display import Image, display

    ax = np.asarray(axes).ravel()[0] if not isinstance(axes, Axes) else axes
    fig = figure_of(ax)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    display(Image(data=buf.getvalue(), format="png"))
