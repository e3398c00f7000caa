"""Charts of model quality and KPIs; every ``plot_*`` takes ``ax=None`` and returns the Axes."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import cast

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cvm.i18n import label, t
from cvm.reporting.fonts import plt, use_cjk_font

PALETTE = ("#17324d", "#3e7cb1", "#81a4cd", "#dbe4ee", "#f17300", "#b42318")


def _ax(ax: Axes | None, size: tuple[float, float] = (5, 3.6)) -> Axes:
    use_cjk_font()
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def roc_points(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, score)
    return fpr, tpr


def plot_roc(
    y: np.ndarray, scores: dict[str, np.ndarray], ax: Axes | None = None, lang: str = "zh"
) -> Axes:
    """ROC curves of several scores on the same labels, AUC in the legend."""
    from sklearn.metrics import roc_auc_score

    ax = _ax(ax)
    for i, (name, s) in enumerate(scores.items()):
        fpr, tpr = roc_points(y, s)
        ax.plot(
            fpr,
            tpr,
            color=PALETTE[i % len(PALETTE)],
            label=f"{name} (AUC {roc_auc_score(y, s):.3f})",
        )
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8)
    ax.set(xlabel=t("fpr", lang), ylabel=t("tpr", lang), title=t("roc", lang))
    ax.legend(loc="lower right", fontsize=8)
    return ax


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean predicted vs observed rate in quantile bins of the prediction."""
    df = pd.DataFrame({"y": y, "p": p})
    df["bin"] = pd.qcut(df["p"].rank(method="first"), bins, labels=False)
    return (
        df.groupby("bin")
        .agg(predicted=("p", "mean"), observed=("y", "mean"), n=("y", "size"))
        .reset_index(drop=True)
    )


def plot_calibration(
    y: np.ndarray, p: np.ndarray, ax: Axes | None = None, lang: str = "zh"
) -> Axes:
    """Reliability diagram in deciles of the predicted probability."""
    ax = _ax(ax)
    tab = calibration_table(y, p)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8)
    ax.plot(tab["predicted"], tab["observed"], marker="o", color=PALETTE[1])
    ax.set(xlabel=t("predicted", lang), ylabel=t("observed", lang), title=t("calibration", lang))
    return ax


def gain_curve(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of the total of ``y`` captured by the top share of customers ranked by score."""
    order = np.argsort(-np.asarray(score), kind="stable")
    ys = np.asarray(y, dtype=float)[order]
    total = ys.sum()
    captured = np.concatenate([[0.0], np.cumsum(ys) / (total if total > 0 else 1.0)])
    share = np.linspace(0, 1, len(captured))
    return share, captured


def plot_gain(
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    ax: Axes | None = None,
    lang: str = "zh",
    ylabel_key: str = "share_churners",
    xlabel_key: str = "share_customers",
) -> Axes:
    """Cumulative gain curves (model against baselines and random)."""
    ax = _ax(ax)
    for i, (name, s) in enumerate(scores.items()):
        x, g = gain_curve(y, s)
        ax.plot(x, g, color=PALETTE[i % len(PALETTE)], label=name)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8, label=t("random", lang))
    ax.set(xlabel=t(xlabel_key, lang), ylabel=t(ylabel_key, lang), title=t("gain", lang))
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_bars(
    values: pd.Series,
    ax: Axes | None = None,
    title: str = "",
    fmt: str = "{:,.0f}",
    horizontal: bool = False,
    color: str = PALETTE[1],
) -> Axes:
    """Labelled bars of a Series (index = labels)."""
    ax = _ax(ax)
    labels = [str(i) for i in values.index]
    if horizontal:
        bars = ax.barh(labels[::-1], values.to_numpy()[::-1], color=color)
    else:
        bars = ax.bar(labels, values.to_numpy(), color=color)
    for b, v in zip(
        bars, values.to_numpy()[::-1] if horizontal else values.to_numpy(), strict=True
    ):
        if horizontal:
            ax.text(
                b.get_width(),
                b.get_y() + b.get_height() / 2,
                " " + fmt.format(v),
                va="center",
                fontsize=8,
            )
        else:
            ax.text(
                b.get_x() + b.get_width() / 2,
                b.get_height(),
                fmt.format(v),
                ha="center",
                va="bottom",
                fontsize=8,
            )
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_line(
    series: pd.Series,
    ax: Axes | None = None,
    title: str = "",
    ylabel: str = "",
    percent: bool = False,
    target: float | None = None,
    target_label: str = "",
) -> Axes:
    """A simple trend line over an index of dates or labels, with an optional target line."""
    ax = _ax(ax, (6, 3))
    ax.plot(series.index, series.to_numpy(), marker="o", color=PALETTE[1])
    if target is not None:
        ax.axhline(target, color=PALETTE[4], ls="--", lw=1)
        ax.text(0, target, f" {target_label}", color=PALETTE[4], va="bottom", fontsize=8)
    if percent:
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.1%}"))
    ax.set(title=title, ylabel=ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    return ax


def figure_of(obj: Figure | Axes) -> Figure:
    """The figure an Axes is drawn on (or the figure itself); cvm draws no subfigures."""
    return cast(Figure, obj.figure if isinstance(obj, Axes) else obj)


def fig_to_img(obj: Figure | Axes, alt: str = "") -> str:
    """An inline ``<img>`` (base64 PNG) of a figure, closing it; keeps the report self-contained."""
    fig = figure_of(obj)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{alt}" src="data:image/png;base64,{data}"/>'


def plot_groups(
    counts: dict[str, float],
    owner_parts: dict[str, float],
    labels: dict[str, str],
    ax: Axes | None = None,
    title: str = "",
) -> Axes:
    """The five customer groups as horizontal bars; the owners' bar split into its parts
    (active, won back, at risk) so at-risk and won-back customers show inside the base."""
    ax = _ax(ax, (7, 3.4))
    names = list(counts)
    pos = np.arange(len(names))[::-1]
    colors = {"active_owner": PALETTE[1], "won_back": PALETTE[2], "at_risk": PALETTE[4]}
    for y, key in zip(pos, names, strict=True):
        if key == "owner" and owner_parts:
            left = 0.0
            for part, v in owner_parts.items():
                ax.barh(y, v, left=left, color=colors.get(part, PALETTE[1]), label=labels[part])
                left += v
        else:
            ax.barh(y, counts[key], color=PALETTE[0] if key != "lost" else PALETTE[5])
        ax.text(counts[key], y, f" {counts[key]:,.0f}", va="center", fontsize=8)
    ax.set_yticks(pos, [labels[k] for k in names])
    ax.set_title(title)
    ax.margins(x=0.15)
    if owner_parts:
        ax.legend(fontsize=8, loc="upper right")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_matrix_2x2(
    cells: Mapping[tuple[int, int], tuple[str, float, float | None]],
    xlabels: tuple[str, str],
    ylabels: tuple[str, str],
    ax: Axes | None = None,
    title: str = "",
    goal: tuple[int, int] | None = None,
) -> Axes:
    """A 2×2 matrix: each cell (row, col) shows a name, a count and its change vs last month;
    ``goal`` is highlighted (the cell customers should move to)."""
    ax = _ax(ax, (5.6, 4.2))
    for (r, c), (name, n, d) in cells.items():
        face = PALETTE[1] if (r, c) == goal else "#eef2f6"
        ink = "white" if (r, c) == goal else "#1f2933"
        ax.add_patch(plt.Rectangle((c, 1 - r), 1, 1, facecolor=face, edgecolor="white", lw=3))
        delta = "" if d is None else f"\n{d:+,.0f}"
        ax.text(
            c + 0.5,
            1.5 - r,
            f"{name}\n{n:,.0f}{delta}",
            ha="center",
            va="center",
            fontsize=10,
            color=ink,
        )
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 2)
    ax.set_xticks([0.5, 1.5], list(xlabels))
    ax.set_yticks([1.5, 0.5], list(ylabels))
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.set_title(title)
    return ax


def plot_intervals(
    est: pd.Series,
    low: pd.Series,
    high: pd.Series,
    ax: Axes | None = None,
    title: str = "",
    xlabel: str = "",
) -> Axes:
    """Point estimates with their intervals as horizontal error bars around a zero line."""
    ax = _ax(ax, (7, 0.5 + 0.45 * max(len(est), 2)))
    pos = np.arange(len(est))[::-1]
    good = (low > 0).to_numpy()
    bad = (high < 0).to_numpy()
    colors = np.where(good, "#1a7f37", np.where(bad, PALETTE[5], PALETTE[2]))
    ax.errorbar(
        est.to_numpy(), pos, xerr=[est - low, high - est], fmt="none", ecolor="#999", capsize=3
    )
    ax.scatter(est.to_numpy(), pos, color=colors, zorder=3)
    ax.axvline(0, color="#52606d", lw=0.8)
    ax.set_yticks(pos, [str(i) for i in est.index])
    ax.set(title=title, xlabel=xlabel)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


# --- segments: migration matrices ------------------------------------------------------------
def plot_migration(
    matrix: pd.DataFrame, ax: Axes | None = None, lang: str = "zh", kind: str = "value_tag"
) -> Axes:
    """Heat map of a migration / transition matrix with counts in the cells; returns the Axes.

    Row and column codes are shown through the report's i18n table (``kind``: value_tag,
    stage, loyalty …)."""

    use_cjk_font()

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    vals = matrix.to_numpy()
    ax.imshow(np.log1p(vals), cmap="Blues", aspect="auto")
    ax.set_xticks(
        range(matrix.shape[1]),
        [label(kind, c, lang) for c in matrix.columns],
        rotation=30,
        ha="right",
        fontsize=8,
    )
    ax.set_yticks(range(matrix.shape[0]), [label(kind, r, lang) for r in matrix.index], fontsize=8)
    hi = np.log1p(vals.max()) if vals.size else 0
    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            ax.text(
                j,
                i,
                f"{vals[i, j]:,}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if np.log1p(vals[i, j]) > 0.6 * hi else "black",
            )
    ax.set_xlabel(label("column", "to", lang))
    ax.set_ylabel(label("column", "from", lang))
    return ax


# --- model explanations: SHAP importance, beeswarm, dependence ------------------------------
def _plain_ax(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def plot_importance(contribs: pd.DataFrame, top_n: int = 15, ax: Axes | None = None) -> Axes:
    """Horizontal bars of mean |SHAP| for the ``top_n`` most important features."""
    from cvm.models.explain import importance

    imp = importance(contribs).head(top_n)[::-1]
    ax = _plain_ax(ax, (7, 5))
    ax.barh(imp.index, imp.to_numpy(), color="#1E88E5")
    ax.set_xlabel("mean |SHAP value| (log-odds)")
    ax.set_title("Churn drivers")
    return ax


def plot_beeswarm(
    contribs: pd.DataFrame,
    X: pd.DataFrame,
    max_display: int = 12,
    ax: Axes | None = None,
    *,
    seed: int,
) -> Axes:
    """SHAP beeswarm of a (sampled) set of customers, the same picture for the same ``seed``.

    shap shuffles the dots' drawing order and jitters their rows with numpy's global random
    state; it is seeded here and restored after, so a re-run draws the same PNG."""
    import shap

    from cvm.models.explain import explanation

    ax = _plain_ax(ax, (8, 6))
    state = np.random.get_state()
    np.random.seed(seed)  # noqa: NPY002 shap draws from the global state
    try:
        shap.plots.beeswarm(
            explanation(contribs, X), max_display=max_display, ax=ax, show=False, plot_size=None
        )
    finally:
        np.random.set_state(state)
    return ax


def plot_dependence(
    contribs: pd.DataFrame, X: pd.DataFrame, feature: str, ax: Axes | None = None
) -> Axes:
    """Feature value against its SHAP contribution, one dot per (sampled) customer."""
    ax = _plain_ax(ax, (7, 5))
    x = X.loc[contribs.index, feature]
    if isinstance(x.dtype, pd.CategoricalDtype):
        x = x.cat.codes.where(x.notna())
    ax.scatter(
        x.to_numpy(dtype=float),
        contribs[feature].to_numpy(dtype=float),
        s=8,
        alpha=0.4,
        color="#1E88E5",
    )
    ax.axhline(0, color="#999", lw=0.8)
    ax.set_xlabel(feature)
    ax.set_ylabel("SHAP value (log-odds of churn)")
    return ax
