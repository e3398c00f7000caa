"""The model card (MODEL_CARD.md) of a bundle, filled in from its metadata and metrics."""

from __future__ import annotations

from typing import Any

_PURPOSE = {
    "churn": "Probability that an active customer makes **no paid visit** in the next "
    "{h} months (calibrated). Used to rank customers for retention campaigns.",
    "value": "Expected **paid after-sales spend** (CNY) over the next {h} months, and a "
    "lifetime value derived from it. Used for value tags and campaign budgets.",
}

_KEY_METRICS = {
    "churn": ("auc", "pr_auc", "brier", "ece", "top_decile_lift", "auc_gain", "grade"),
    "value": ("normalized_gini", "spearman", "top_decile_capture", "total_ratio", "model"),
}


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def model_card(meta: dict[str, Any], spec: dict[str, Any], metrics: dict[str, Any]) -> str:
    """Markdown model card: purpose, data, window, metrics vs baselines, inputs, limits."""
    kind = meta["model"]["type"]
    w = meta["training_window"]
    h = w.get("horizon_months", "H")
    lines = [
        f"# Model card: {meta['name']} {meta['version']}",
        "",
        "## Purpose",
        _PURPOSE.get(kind, "").format(h=h),
        "",
        "## Model",
        (
            f"- type: {kind}, kind: {meta['model'].get('kind')}; LightGBM "
            f"{meta['packages'].get('lightgbm')}; files: "
            + ", ".join(f"`{f}`" for f in meta["model"]["boosters"].values())
        ),
        f"- output: {meta['model'].get('output')}",
        (
            f"- bundle format {meta['format_version']}, cvm {meta['packages'].get('cvm')}, "
            f"feature logic (as-of) version {spec['asof_logic_version']}"
        ),
        "",
        "## Training data",
        f"- as-of date: {w['as_of']}; horizon: {h} months",
        f"- training snapshots: {', '.join(w.get('train_snapshots') or []) or '—'}",
        (
            "- out-of-time validation snapshot(s): "
            f"{', '.join(w.get('validation_snapshots') or []) or '—'}"
        ),
        f"- input data sha256: `{meta['data_hash']}`",
        "- no customer rows, names or phone numbers are stored in this bundle",
        "",
        "## Validation (out of time)",
        "| metric | value |",
        "|---|---|",
        *[f"| {k} | {_fmt(metrics[k])} |" for k in _KEY_METRICS.get(kind, ()) if k in metrics],
    ]
    base = metrics.get("baselines") or {}
    if base:
        lines += [
            "",
            "Naive baselines on the same rows:",
            "",
            "| baseline | value |",
            "|---|---|",
            *[f"| {k} | {_fmt(v)} |" for k, v in base.items()],
        ]
    lines += [
        "",
        "## Inputs",
        (
            f"{len(spec['features'])} features, built by `{spec['builder']}`; "
            "order, dtypes and categories in `feature_spec.json`."
        ),
        "",
        "## Limitations",
        (
            "- Trained on one dealer's history; re-train monthly, and after changes in pricing, "
            "service intervals or data capture."
        ),
        (
            "- Scores are for ranking and budgeting, not for decisions about individuals "
            "without human review."
        ),
        "- Feature values must come from the same as-of logic version; `cvm score` checks it.",
        "",
    ]
    return "\n".join(lines)
