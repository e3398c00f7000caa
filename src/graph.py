"""The monthly run as a declared step graph: every artifact, every step, what passes between them.

This module is the one place that says what the monthly run is. ``STEPS`` lists the steps in
execution order with the function each runs, its notebook, and the artifacts it reads and
writes; ``ARTIFACTS`` declares every artifact: its file under the run folder, its format, the
step that writes it and whether it is a *contract* (published: scores, lists, report, metrics,
manifest; their layout is documented in docs/ and must not change silently) or *internal*
(``artifacts/…``: what a later notebook or ``cvm evaluate`` reads back).

Everything that needs the order or a file name reads it from here: the notebook runner and
the manifest (``notebooks()``), the report and ``cvm evaluate`` (``path()``), the metrics
assembly (``METRICS``), the benchmarks (``STEPS``), the architecture page
(``python -m cvm.graph``, docs/architecture.md). ``RunContext`` refuses to save or load an
artifact not declared here, and ``tests/test_graph.py`` checks the graph: every input is
written by an earlier step, no artifact has two writers, every notebook calls its step.

To add an artifact: add it to its step's ``outputs`` (and to the ``inputs`` of the steps that
read it) with an :class:`Artifact` entry below; nothing else keeps a list.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMATS = ("parquet", "json", "csv", "html", "dir")


@dataclass(frozen=True)
class Artifact:
    """One file (or folder) a step writes, relative to the run folder."""

    name: str
    format: str
    published: bool = False  # a contract of the published month (else internal)
    file: str = ""  # default: artifacts/<name>.<format>
    doc: str = ""

    @property
    def relpath(self) -> str:
        return self.file or f"artifacts/{self.name}.{self.format}"


@dataclass(frozen=True)
class Step:
    """One step of the monthly run: ``function(ctx)`` (``module:name``), run by ``notebook``
    (None: the pipeline runs it itself, before or after the notebooks)."""

    name: str
    function: str
    notebook: str | None
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    optional: tuple[str, ...] = field(default=())  # outputs written only when there is data
    doc: str = ""

    def resolve(self) -> Callable[..., Any]:
        """The step's function, imported."""
        module, _, attr = self.function.partition(":")
        return getattr(importlib.import_module(module), attr)


def _a(name: str, fmt: str, doc: str = "", published: bool = False, file: str = "") -> Artifact:
    return Artifact(name, fmt, published, file, doc)


_DEFEAT = (
    "defeat_by_reason",
    "defeat_by_source",
    "defeat_by_model",
    "defeat_by_consultant",
    "defeat_trend",
)

_ARTIFACTS = (
    # prepare (cvm.pipeline, before the notebooks)
    _a(
        "tables",
        "dir",
        "the validated input tables without personal data (cvm.data.table_cache)",
        file=".tables",
    ),
    _a("run_checks", "json", "data sufficiency: the models the data cannot teach, and why"),
    # 01 data quality
    _a("data_quality", "json", "tables and rows, warnings, profile completeness"),
    # 02 features
    _a("features", "parquet", "point-in-time features at the as-of date, one row per customer"),
    _a("drift", "parquet", "PSI of each feature against one month earlier"),
    _a("features_phases", "json", "seconds per phase of the step"),
    _a(
        "customer_stores",
        "parquet",
        "dealer groups: the store of each customer at the as-of date, which the later "
        "steps' per-store work reads (docs/dealer-groups.md)",
    ),
    # 03 churn
    _a("churn_metrics", "json", "holdout quality, grade, best parameters (or why skipped)"),
    _a("churn_scores", "parquet", "churn probability and three reasons per active customer"),
    _a("churn_baselines", "parquet", "the naive baselines' scores of the same customers"),
    _a("churn_validation", "parquet", "out-of-time holdout rows: label, score, baselines"),
    _a("churn_shap_values", "parquet", "SHAP values of a seeded sample (global plots)"),
    _a("churn_shap_features", "parquet", "the feature values of that sample"),
    _a(
        "churn_shap_figure",
        "html",
        "the SHAP chart as the churn notebook rendered it, reused by the report (its inputs' hash)",
    ),
    _a("churn_bundle", "json", "folder name of the churn bundle under models/churn/"),
    _a("churn_phases", "json", "seconds per phase of the step"),
    # 04 value
    _a("value_metrics", "json", "holdout quality, baselines (or why skipped)"),
    _a("value_scores", "parquet", "predicted horizon value, lifetime value, customer value"),
    _a("value_baselines", "parquet", "BG/NBD + Gamma-Gamma and historical-average predictions"),
    _a("value_validation", "parquet", "out-of-time evaluation rows: realized and predicted"),
    _a("value_shap_values", "parquet", "SHAP values of a seeded sample (global plots)"),
    _a("value_shap_features", "parquet", "the feature values of that sample"),
    _a(
        "value_shap_figure",
        "html",
        "the SHAP chart as the value notebook rendered it, reused by the report (its inputs' hash)",
    ),
    _a("value_bundle", "json", "folder name of the value bundle under models/value/"),
    _a("value_phases", "json", "seconds per phase of the step"),
    # 05 segments
    _a("segments", "parquet", "lifecycle stage, value tag, loyalty type, needs per customer"),
    _a("segments_phases", "json", "seconds per phase of the step"),
    _a(
        "customer_scores",
        "parquet",
        "the scores table as the campaigns step reads it (the same rows as scores.parquet)",
    ),
    _a(
        "scores",
        "parquet",
        "one row per customer: stage, tag, churn, value, reasons",
        published=True,
        file="scores.parquet",
    ),
    _a("lifecycle_transitions", "parquet", "stage a month ago × stage now"),
    _a(
        "lifecycle_prev",
        "parquet",
        "each customer's lifecycle stage a month ago (the report's stage flows reuse it)",
    ),
    _a("value_migration", "parquet", "value tag a month ago × value tag now"),
    _a("ab_share_trend", "json", "A+B share at the last 12 month ends"),
    _a("kpis", "json", "base, active, at risk, lost, return rate, A+B share: now and a month ago"),
    _a("store_value_thresholds", "json", "dealer groups: each store's value-tag thresholds"),
    _a(
        "new_owner_scores",
        "parquet",
        "owners without a visit yet: churn probability and "
        "predicted value from past owners of the same months since purchase x price band",
    ),
    _a("new_owner_rates", "json", "the new-owner cells' past rates (cvm.models.new_owners)"),
    _a(
        "coverage",
        "json",
        "owners (active, lapsed, no visit yet) with a churn probability and a predicted value",
    ),
    # 06a uplift
    _a("campaign_measurement", "parquet", "last months' campaigns: target vs control"),
    _a("uplift_validation", "parquet", "out-of-time contacts scored by the uplift model"),
    _a(
        "uplift_model",
        "json",
        "the fitted uplift model: LightGBM text models and JSON (cvm.campaigns.uplift_store)",
    ),
    _a("uplift_phases", "json", "seconds per phase of the step"),
    # 06 campaigns
    _a("campaign_pairs", "parquet", "every eligible (customer, campaign) pair, scored"),
    _a("campaign_plan", "parquet", "the chosen pairs with target/control group"),
    _a("campaign_budget_curve", "parquet", "the plan at multiples of the budget"),
    _a("campaign_summary", "json", "spend, expected value and its interval, notes, reasons"),
    _a(
        "campaign_candidates",
        "parquet",
        "every pair, chosen or not, and why",
        published=True,
        file="campaigns/candidates.parquet",
    ),
    _a(
        "campaign_lists",
        "csv",
        "one call list per department (contacts masked)",
        published=True,
        file="campaigns/*.csv",
    ),
    _a("campaigns_phases", "json", "seconds per phase of the step"),
    _a(
        "store_league",
        "parquet",
        "dealer groups: the league table of the stores (group row, ranks)",
    ),
    _a(
        "store_lists",
        "csv",
        "dealer groups: each store's department lists",
        published=True,
        file="stores/*/campaigns/*.csv",
    ),
    _a(
        "store_reports",
        "html",
        "dealer groups: one report per store",
        published=True,
        file="stores/*/report.html",
    ),
    # 06b leads
    _a("lead_metrics", "json", "lead model quality and grade counts (or why skipped)"),
    _a("lead_model", "json", "the lead model (booster and calibrator as JSON)"),
    _a("lead_scores", "parquet", "open leads: grade, probability, order class, reasons"),
    _a("lead_coverage", "json", "open leads and how many got a conversion probability"),
    _a("lead_orders", "parquet", "expected delivery month per open lead"),
    _a("lead_stock_plan", "parquet", "expected orders by model and month"),
    _a("lead_validation", "parquet", "out-of-time holdout rows of the lead model"),
    _a("lead_grades_now", "parquet", "open leads per grade"),
    _a("lead_funnel", "parquet", "leads, followed up, test drive, won, delivered"),
    _a("lead_sources", "parquet", "conversion and cost per lead source"),
    *(
        _a(n, "parquet", "lost deals, " + n.removeprefix("defeat_").replace("_", " "))
        for n in _DEFEAT
    ),
    _a(
        "sales_leads",
        "csv",
        "the sales lead list (ids and scores, no personal data)",
        published=True,
        file="leads/sales_leads.csv",
    ),
    _a(
        "store_lead_lists",
        "csv",
        "dealer groups: each store's open leads (the sales lead list by the lead's store)",
        published=True,
        file="stores/*/leads/sales_leads.csv",
    ),
    # publish (cvm.pipeline, after the notebooks)
    _a(
        "report",
        "html",
        "the manager's report (and report.pdf beside it)",
        published=True,
        file="report.html",
    ),
    _a(
        "metrics",
        "json",
        "timings, model metrics, data quality, campaign summary, skips",
        published=True,
        file="metrics.json",
    ),
    _a(
        "manifest",
        "json",
        "parameters, input hashes, package versions, notebooks, bundles; "
        "written last: marks the run complete",
        published=True,
        file="manifest.json",
    ),
)
ARTIFACTS: dict[str, Artifact] = {a.name: a for a in _ARTIFACTS}
"""Every artifact of the monthly run, by name."""

_CHURN_OUT = (
    "churn_metrics",
    "churn_scores",
    "churn_baselines",
    "churn_validation",
    "churn_shap_values",
    "churn_shap_features",
    "churn_shap_figure",
    "churn_bundle",
    "churn_phases",
)
_VALUE_OUT = (
    "value_metrics",
    "value_scores",
    "value_baselines",
    "value_validation",
    "value_shap_values",
    "value_shap_features",
    "value_shap_figure",
    "value_bundle",
    "value_phases",
)
_LEADS_OUT = (
    "lead_metrics",
    "lead_model",
    "lead_scores",
    "lead_coverage",
    "lead_orders",
    "lead_stock_plan",
    "lead_validation",
    "lead_grades_now",
    "lead_funnel",
    "lead_sources",
    *_DEFEAT,
    "sales_leads",
    "store_lead_lists",
)

STEPS: tuple[Step, ...] = (
    Step(
        "prepare",
        "cvm.pipeline:prepare_run",
        None,
        (),
        ("tables", "run_checks"),
        doc="check parameters and data, validate once, copy the tables (no personal data)",
    ),
    Step(
        "data_quality",
        "cvm.steps:data_quality",
        "01_data_quality.ipynb",
        ("tables",),
        ("data_quality",),
        doc="validation warnings, profile completeness",
    ),
    Step(
        "features",
        "cvm.steps:features",
        "02_features.ipynb",
        ("tables",),
        ("features", "drift", "features_phases", "customer_stores", "new_owner_rates"),
        optional=("customer_stores", "new_owner_rates"),
        doc="point-in-time features at the as-of date; drift against a month earlier; "
        "dealer groups: each customer's store; new-owner rates",
    ),
    Step(
        "uplift",
        "cvm.steps:uplift",
        "06a_uplift.ipynb",
        ("tables",),
        ("campaign_measurement", "uplift_validation", "uplift_model", "uplift_phases"),
        optional=("uplift_validation",),
        doc="measure last month's campaigns, fit the uplift model from every past contact "
        "(the tables only: it runs beside churn and value)",
    ),
    Step(
        "churn",
        "cvm.steps:churn",
        "03_churn_model.ipynb",
        ("tables", "run_checks", "features", "new_owner_rates"),
        _CHURN_OUT,
        optional=tuple(a for a in _CHURN_OUT if a not in ("churn_metrics", "churn_scores")),
        doc="churn model trained out of time, scored, explained; bundle saved",
    ),
    Step(
        "value",
        "cvm.steps:value",
        "04_value_model.ipynb",
        ("tables", "run_checks", "features", "new_owner_rates"),
        _VALUE_OUT,
        optional=tuple(a for a in _VALUE_OUT if a != "value_metrics"),
        doc="value model trained out of time, scored, explained; bundle saved",
    ),
    Step(
        "segments",
        "cvm.steps:segments",
        "05_segments.ipynb",
        ("tables", "churn_scores", "value_scores", "new_owner_rates"),
        (
            "segments",
            "customer_scores",
            "scores",
            "lifecycle_transitions",
            "lifecycle_prev",
            "value_migration",
            "ab_share_trend",
            "kpis",
            "store_value_thresholds",
            "new_owner_scores",
            "coverage",
            "segments_phases",
        ),
        optional=("store_value_thresholds",),
        doc="lifecycle, value tags, loyalty, needs, KPIs; the scores table",
    ),
    Step(
        "campaigns",
        "cvm.steps:campaigns",
        "06_campaigns.ipynb",
        ("tables", "features", "customer_scores", "uplift_model"),
        (
            "campaign_pairs",
            "campaign_plan",
            "campaign_budget_curve",
            "campaign_summary",
            "campaign_candidates",
            "campaign_lists",
            "campaigns_phases",
            "store_league",
            "store_lists",
        ),
        optional=("store_league", "store_lists"),
        doc="plan under the budget with the uplift model, control groups, candidates, "
        "budget curve, department lists",
    ),
    Step(
        "leads",
        "cvm.leads.step:leads_step",
        "06b_leads.ipynb",
        ("tables",),
        _LEADS_OUT,
        optional=tuple(a for a in _LEADS_OUT if a != "lead_metrics"),
        doc="lead model, grades, order classes, defeat and source tables, sales lead list",
    ),
    Step(
        "report",
        "cvm.reporting.report:render",
        "07_report.ipynb",
        (
            "data_quality",
            "drift",
            "churn_metrics",
            "churn_validation",
            "churn_shap_values",
            "churn_shap_features",
            "churn_shap_figure",
            "value_metrics",
            "value_scores",
            "value_validation",
            "value_shap_values",
            "value_shap_features",
            "value_shap_figure",
            "segments",
            "lifecycle_prev",
            "scores",
            "value_migration",
            "ab_share_trend",
            "kpis",
            "campaign_measurement",
            "campaign_plan",
            "campaign_budget_curve",
            "campaign_summary",
            "lead_metrics",
            "lead_funnel",
            "lead_grades_now",
            "lead_stock_plan",
            "lead_orders",
            "lead_sources",
            "defeat_by_reason",
            "defeat_by_source",
            "store_league",
        ),
        (),
        doc="the report's sections, from the artifacts (the executed notebook)",
    ),
    Step(
        "publish",
        "cvm.pipeline:finish_run",
        None,
        (
            "churn_metrics",
            "value_metrics",
            "data_quality",
            "campaign_summary",
            "run_checks",
            "churn_bundle",
            "value_bundle",
            "store_league",
            "scores",
            "campaign_plan",
            "store_value_thresholds",
            "store_lists",
        ),
        ("report", "metrics", "manifest", "store_reports"),
        optional=("store_reports",),
        doc="report.html from the report notebook, metrics.json, manifest.json (last)",
    ),
)
"""The steps of the monthly run, in execution order."""

METRICS: tuple[tuple[str, str], ...] = (
    ("churn", "churn_metrics"),
    ("value", "value_metrics"),
    ("data_quality", "data_quality"),
    ("campaigns", "campaign_summary"),
    ("run_checks", "run_checks"),
    ("coverage", "coverage"),
    ("lead_coverage", "lead_coverage"),
)
"""``metrics.json``: its key for each artifact copied into it (when the run wrote it)."""

MODELS_SKIPPABLE = ("churn", "value")
"""Models a run may skip (data too thin); their ``<model>_metrics`` then says why."""


def step(name: str) -> Step:
    """The step called ``name``."""
    for s in STEPS:
        if s.name == name:
            return s
    raise KeyError(f"no step {name!r}; the steps are {[s.name for s in STEPS]}")


def notebooks() -> tuple[str, ...]:
    """The notebooks of the monthly run, in execution order."""
    return tuple(s.notebook for s in STEPS if s.notebook)


def notebook_dependencies() -> dict[str, tuple[str, ...]]:
    """For each notebook of the run, the notebooks whose outputs it reads (the producers of its
    inputs), in execution order. Steps without a notebook (prepare, publish) run before and
    after them all. The runner may execute notebooks with no path between them at once
    (``cvm.runner.execute_graph``)."""
    by_output = {a: s.notebook for s in STEPS if s.notebook for a in s.outputs}
    out: dict[str, tuple[str, ...]] = {}
    for s in STEPS:
        if not s.notebook:
            continue
        deps = {by_output[a] for a in s.inputs if a in by_output} - {s.notebook}
        out[s.notebook] = tuple(n for n in notebooks() if n in deps)
    return out


def artifact(name: str) -> Artifact:
    """The declared artifact ``name``; an undeclared name is a programming error."""
    try:
        return ARTIFACTS[name]
    except KeyError:
        raise KeyError(f"artifact {name!r} is not declared in cvm.graph.ARTIFACTS") from None


def path(run_dir: str | Path, name: str) -> Path:
    """Where artifact ``name`` lives in the run folder ``run_dir``."""
    return Path(run_dir) / artifact(name).relpath


def producer(name: str) -> Step:
    """The step that writes artifact ``name``."""
    for s in STEPS:
        if name in s.outputs:
            return s
    raise KeyError(f"no step writes artifact {name!r}")


def problems() -> list[str]:
    """What is wrong with the graph ([] when it is sound): an input no earlier step writes, an
    artifact written by two steps, an output not declared, a declared artifact nobody writes."""
    out: list[str] = []
    written: dict[str, str] = {}
    for s in STEPS:
        for a in s.inputs:
            if a not in written:
                later = [t.name for t in STEPS if a in t.outputs]
                out.append(
                    f"step {s.name} reads {a!r}, which no earlier step writes"
                    + (f" (written later by {later})" if later else "")
                )
        for a in s.outputs:
            if a in written:
                out.append(f"artifact {a!r} is written by both {written[a]} and {s.name}")
            written.setdefault(a, s.name)
            if a not in ARTIFACTS:
                out.append(f"step {s.name} writes {a!r}, which ARTIFACTS does not declare")
        for a in s.optional:
            if a not in s.outputs:
                out.append(f"step {s.name}: optional {a!r} is not one of its outputs")
    out += [
        f"artifact {a!r} is declared but no step writes it" for a in ARTIFACTS if a not in written
    ]
    out += [
        f"artifact {a.name!r} has format {a.format!r}, not one of {FORMATS}"
        for a in _ARTIFACTS
        if a.format not in FORMATS
    ]
    if len(ARTIFACTS) != len(_ARTIFACTS):
        out.append("an artifact is declared twice")
    return out


def markdown() -> str:
    """The step graph as Markdown (docs/architecture.md embeds it between markers)."""
    lines = ["| # | step | notebook | function | reads | writes |", "|---|---|---|---|---|---|"]
    for i, s in enumerate(STEPS):
        reads = ", ".join(f"`{a}`" for a in s.inputs) or "input data"
        writes = ", ".join(f"`{a}`" + ("?" if a in s.optional else "") for a in s.outputs) or "—"
        lines.append(
            f"| {i} | **{s.name}** — {s.doc} | {s.notebook or '(pipeline)'} | "
            f"`{s.function}` | {reads} | {writes} |"
        )
    lines += [
        "",
        "`?`: written only when the data allows (a skipped model writes only why).",
        "",
        "| artifact | file | format | written by | kind | what |",
        "|---|---|---|---|---|---|",
    ]
    for a in _ARTIFACTS:
        lines.append(
            f"| `{a.name}` | `{a.relpath}` | {a.format} | {producer(a.name).name} | "
            f"{'**contract**' if a.published else 'internal'} | {a.doc} |"
        )
    return "\n".join(lines) + "\n"


def mermaid() -> str:
    """The steps and the artifacts passed between them as a Mermaid flowchart."""
    lines = ["flowchart LR"]
    for s in STEPS:
        lines.append(f'    {s.name}["{s.name}<br/><small>{s.notebook or "pipeline"}</small>"]')
    seen: set[tuple[str, str]] = set()
    for s in STEPS:
        for a in s.inputs:
            src = producer(a).name
            if (src, s.name) not in seen:
                seen.add((src, s.name))
                lines.append(f"    {src} --> {s.name}")
    return "\n".join(lines) + "\n"


def _iter_doc() -> Iterator[str]:
    yield "```mermaid\n" + mermaid() + "```\n"
    yield markdown()


BEGIN, END = "<!-- step graph: begin (python -m cvm.graph --write) -->", "<!-- step graph: end -->"


def render_into(text: str) -> str:
    """``text`` with the part between the markers replaced by the current graph."""
    head, sep, rest = text.partition(BEGIN)
    if not sep or END not in rest:
        raise ValueError(f"the page has no {BEGIN} … {END} markers")
    return head + BEGIN + "\n" + "\n".join(_iter_doc()) + END + rest.partition(END)[2]


def main(argv: list[str] | None = None) -> int:
    """``python -m cvm.graph``: print the graph; ``--write`` refreshes docs/architecture.md;
    ``--check`` exits 1 when that page is stale or the graph has problems."""
    import sys

    from cvm.config import PROJECT_ROOT

    args = sys.argv[1:] if argv is None else argv
    doc = PROJECT_ROOT / "docs" / "architecture.md"
    bad = problems()
    if bad:
        print("\n".join(bad), file=sys.stderr)
        return 1
    if "--write" in args:
        doc.write_text(render_into(doc.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"wrote {doc}")
        return 0
    if "--check" in args:
        text = doc.read_text(encoding="utf-8")
        if render_into(text) != text:
            print(f"{doc} is stale: run `python -m cvm.graph --write`", file=sys.stderr)
            return 1
        return 0
    print("\n".join(_iter_doc()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
