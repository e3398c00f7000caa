"""Checks before any work: parameters, the output folder, the as-of date against the data, and
whether the data can teach each model (``configs/validation.yaml`` ``run_checks``).

``cvm monthly``, ``cvm train`` and ``cvm score`` call these before they create anything, so a
wrong flag or too little data is exit 2 with the threshold named, never a crash after the work.
What the data cannot teach (one outcome class, too few returning customers) is not fatal for the
monthly run: :func:`assess` names the models to skip and why, and the run goes on without them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cvm.config import CvmError, InsufficientData, load_config
from cvm.settings import SettingsError

log = logging.getLogger(__name__)

MODELS = ("churn", "value")
KEY = "configs/validation.yaml run_checks"


def settings() -> dict[str, Any]:
    return load_config("validation")["run_checks"]


def _raise(problems: list[str], what: str) -> None:
    if problems:
        raise CvmError(f"{what}:\n" + "\n".join(f"  - {p}" for p in problems))


def check_parameters(
    *,
    as_of: Any,
    horizon_months: int | None = None,
    budget: float | None = None,
    lang: str | None = None,
    profile: str = "default",
    seed: int | None = None,
    need_budget: bool = False,
) -> dict[str, Any]:
    """The run's settings (``configs/default.yaml`` + profile + flags) once every parameter is
    valid; otherwise a CvmError listing each bad one with its allowed range."""
    s = settings()
    problems: list[str] = []
    if as_of is None:
        problems.append("--as-of is required (YYYY-MM-DD)")
    try:
        cfg = load_config(
            "default",
            {"budget": budget, "horizon_months": horizon_months, "seed": seed, "lang": lang},
            profile=profile,
        )
    except SettingsError as err:  # a bad key in a settings file: the message names both
        problems.append(str(err))
        _raise(problems, "the parameters have problems")
    except CvmError as err:
        problems.append(f"--profile {profile!r}: {err}; profiles are configs/<name>.yaml")
        _raise(problems, "the parameters have problems")
    lo, hi = (int(x) for x in s["horizon_months"])
    h = cfg.get("horizon_months")
    if not isinstance(h, (int, np.integer)) or isinstance(h, bool) or not lo <= int(h) <= hi:
        problems.append(
            f"--horizon-months {h!r}: choose a whole number of months from {lo} to "
            f"{hi} ({KEY}.horizon_months)"
        )
    if cfg.get("lang") not in s["languages"]:
        problems.append(f"--lang {cfg.get('lang')!r}: choose one of {', '.join(s['languages'])}")
    if need_budget:
        b = cfg.get("budget")
        if not isinstance(b, (int, float)) or isinstance(b, bool) or not np.isfinite(b) or b <= 0:
            problems.append(
                f"--budget {b!r}: the campaign budget must be a positive amount of CNY "
                f"(e.g. --budget 100000)"
            )
        from cvm.campaigns.catalogue import load_catalogue
        from cvm.features.extra import from_config

        try:  # a dealer's own columns and campaigns are checked before any work, not at step 06
            from_config(cfg)  # declared extra columns may appear in eligibility rules
            load_catalogue(load_config("campaigns", cfg.get("campaigns")))
        except CvmError as err:
            problems.append(str(err))
    from cvm.data.margin import margin_table

    try:  # the value definition's margins (configs/value.yaml margin), before any work
        margin_table(cfg)
    except CvmError as err:
        problems.append(str(err))
    _raise(problems, "the parameters have problems")
    return cfg


def _writable_dir(path: Path) -> Path:
    """The nearest existing ancestor of ``path`` (what a mkdir would write into)."""
    p = path
    while not p.exists():
        if p.parent == p:
            break
        p = p.parent
    return p


def check_output_dir(out: Path, flag: str = "--out") -> None:
    """``out`` is (or can become) a writable folder; else a CvmError with the path and the fix."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CvmError(
            f"{flag} {out} is a file, not a folder; give a folder (e.g. {flag} "
            f"{out.parent / 'reports'}) or move the file away"
        )
    base = _writable_dir(out)
    if not base.is_dir():
        raise CvmError(f"{flag} {out}: {base} is a file, not a folder; choose another {flag}")
    if not os.access(base, os.W_OK | os.X_OK):
        raise CvmError(
            f"{flag} {out}: {base} is not writable (read-only or no permission); "
            f"choose a writable {flag} or fix the permissions of {base}"
        )


def check_output_file(out: Path, flag: str = "--out") -> None:
    """A file to be written: not a folder, in a writable folder."""
    out = Path(out)
    if out.is_dir():
        raise CvmError(
            f"{flag} {out} is a folder; give a file name such as {out / 'scores.parquet'}"
        )
    check_output_dir(out.parent, flag=f"{flag} {out}: the folder")


def visit_span(tables: dict[str, pd.DataFrame]) -> tuple[pd.Timestamp, pd.Timestamp]:
    v = pd.to_datetime(tables["visits"]["visit_date"])
    return v.min(), v.max()


def check_as_of(tables: dict[str, pd.DataFrame], as_of: Any) -> None:
    """``as_of`` inside the data: not before the first visit, not long after the last one."""
    s = settings()
    first, last = visit_span(tables)
    if pd.isna(first):
        raise CvmError("the visits table has no visit dates; nothing can be computed")
    as_of = pd.Timestamp(as_of).normalize()
    latest = (last + pd.DateOffset(months=int(s["as_of_months_after_data"]))).normalize()
    if as_of < first:
        raise CvmError(
            f"--as-of {as_of.date()} is before the first visit in the data "
            f"({first.date()}): no customer has any history then; choose a date "
            f"from {first.date()} to {latest.date()}"
        )
    if as_of > latest:
        raise CvmError(
            f"--as-of {as_of.date()} is more than {s['as_of_months_after_data']} months "
            f"after the last visit in the data ({last.date()}); export newer data or "
            f"choose a date up to {latest.date()} ({KEY}.as_of_months_after_data)"
        )


@dataclass
class Sufficiency:
    """What the data allows: ``skipped`` maps a model to the reason it cannot be learned."""

    skipped: dict[str, str] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"skipped": dict(self.skipped), "facts": dict(self.facts)}


def assess(tables: dict[str, pd.DataFrame], as_of: Any, cfg: dict[str, Any]) -> Sufficiency:
    """Fatal gaps raise CvmError (too little history); models the data cannot teach are listed
    in ``skipped`` with the threshold that decided. Reads the visits only (labels, no features)."""
    from cvm.data.ids import ids
    from cvm.features.labels import churn_labels, future_paid_spend
    from cvm.features.split import keep_rows
    from cvm.features.training import history_months, snapshot_dates

    s = settings()["sufficiency"]
    visits = tables["visits"]
    as_of = pd.Timestamp(as_of).normalize()
    months = history_months(visits, as_of)
    out = Sufficiency(facts={"history_months": round(months, 1)})
    if months < float(s["min_history_months"]):
        raise CvmError(
            f"the data holds {months:.1f} months of visits up to {as_of.date()}; the run "
            f"needs at least {s['min_history_months']} "
            f"({KEY}.sufficiency.min_history_months): export a longer history"
        )
    past = visits.loc[pd.to_datetime(visits["visit_date"]) <= as_of]
    counts = ids(past["customer_id"]).value_counts()
    repeat = int((counts >= 2).sum())
    out.facts["repeat_customers"] = repeat
    need = int(s["min_repeat_customers"])
    if repeat < need:
        why = (
            f"only {repeat} customers have 2 or more visits by {as_of.date()}; the models need "
            f"at least {need} ({KEY}.sufficiency.min_repeat_customers)"
        )
        return Sufficiency({m: f"{m} model skipped: {why}" for m in MODELS}, out.facts)
    h = int(cfg["horizon_months"])
    try:
        train_dates, valid_dates = snapshot_dates(visits, as_of, h, cfg)
    except InsufficientData as err:
        return Sufficiency({m: f"{m} model skipped: {err}" for m in MODELS}, out.facts)
    k = int(s["min_class_rows"])
    for model, label_fn in (("churn", churn_labels), ("value", future_paid_spend)):
        folds: dict[str, tuple[int, ...]] = {}
        for fold, dates, is_valid in (
            ("training", train_dates, False),
            ("out-of-time", valid_dates, True),
        ):
            y = pd.concat([label_fn(visits, d, h, cfg) for d in dates])
            y = y[keep_rows(y.index, np.full(len(y), is_valid), cfg)]
            if model == "churn":
                folds[fold] = (int((y == 1).sum()), int((y == 0).sum()))
            else:
                folds[fold] = (int((y > 0).sum()),)
        out.facts[f"{model}_label_rows"] = folds
        thin = {f: n for f, n in folds.items() if min(n) < k}
        if thin:
            if model == "churn":
                detail = "; ".join(
                    f"{f} snapshots: {n[0]} churned, {n[1]} returned" for f, n in folds.items()
                )
                what = "rows of one outcome (churned / returned)"
            else:
                detail = "; ".join(
                    f"{f} snapshots: {n[0]} with paid spend" for f, n in folds.items()
                )
                what = "rows with paid spend"
            out.skipped[model] = (
                f"{model} model skipped: with a {h}-month horizon the labels have "
                f"too few {what} ({detail}); it needs {k} in each fold "
                f"({KEY}.sufficiency.min_class_rows). A shorter "
                f"--horizon-months or a longer history may help"
            )
    return out
