"""Write the monthly notebooks (thin: a literal parameters cell, then calls into cvm).

Run after changing a notebook's cells here: ``python scripts/build_notebooks.py``. The notebooks
are committed without outputs; executed copies go to reports/YYYY-MM/notebooks/.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

PARAMETERS = '''# Parameters (literals only; papermill replaces this cell, see `papermill --help-notebook`)
data: str = "data/demo"  # data directory or SQLAlchemy URL
as_of: str = "2026-09-30"  # as-of date, YYYY-MM-DD
run_dir: str = "reports/2026-09"  # where this run's artifacts go
horizon_months: int = 12  # horizon H of the churn label and the value model
budget: float = 100000.0  # campaign budget for the month, CNY
lang: str = "zh"  # report language: zh or en
seed: int = 42  # random seed
profile: str = "default"  # settings profile: configs/default.yaml, then configs/<profile>.yaml'''

SETUP = '''import pandas as pd
from IPython.display import HTML, display

from cvm import steps
from cvm.run_context import RunContext

pd.set_option("display.max_columns", 30)
ctx = RunContext.open(data=data, as_of=as_of, run_dir=run_dir, horizon_months=horizon_months,
                      budget=budget, lang=lang, seed=seed, profile=profile)'''

NOTEBOOKS: dict[str, tuple[str, list[str]]] = {
    "01_data_quality.ipynb": (
        "# Data quality and profile completeness\nValidation warnings, the tables present, and "
        "how complete the 17 profile fields are.",
        [
            "dq = steps.data_quality(ctx)\npd.Series(dq['tables'], name='rows')",
            "pd.Series(dq['profile_completeness'], name='filled share').sort_values()",
            "pd.Series(dq['warnings'], name='warnings', dtype='str')",
            "pd.Series(dq['absent_tables'], name='absent tables (steps that need them are skipped)', dtype='str')",
        ],
    ),
    "02_features.ipynb": (
        "# Point-in-time features\nFeatures at the as-of date from rows dated on or before it, "
        "and their drift (PSI) against a month earlier.",
        [
            "feats = steps.features(ctx)\nfeats.describe().T",
            "ctx.load_frame('drift').head(15)",
        ],
    ),
    "03_churn_model.ipynb": (
        "# Churn-risk model\nLightGBM trained on past snapshots, early-stopped and calibrated on a "
        "later (out-of-time) fold; explained with SHAP.",
        [
            "model = steps.churn(ctx)\npd.Series(model.metrics, dtype='object')",
            "from cvm.reporting import report\ndisplay(HTML(report.churn_quality_html(ctx)))",
            "display(HTML(report.shap_html(ctx, 'churn')))",
            "ctx.load_frame('churn_scores').sort_values('churn_probability', ascending=False).head(10)",
        ],
    ),
    "04_value_model.ipynb": (
        "# Value model\nExpected paid spend over the horizon and lifetime value, validated "
        "out-of-time; realized, potential and influence value.",
        [
            "model = steps.value(ctx)\npd.Series(model.metrics, dtype='object')",
            "from cvm.reporting import report\ndisplay(HTML(report.value_quality_html(ctx)))",
            "display(HTML(report.shap_html(ctx, 'value')))",
        ],
    ),
    "05_segments.ipynb": (
        "# Segments\nLifecycle stage, value tag A/B/C/D, loyalty type and needs tags, with "
        "month-over-month transitions.",
        [
            "seg = steps.segments(ctx)\nseg['lifecycle_stage'].value_counts()",
            "seg['value_tag'].value_counts().sort_index()",
            "ctx.load_frame('lifecycle_transitions')",
            "ctx.load_frame('value_migration')",
        ],
    ),
    "06_campaigns.ipynb": (
        "# Campaign plan\nLast month's campaigns measured against their control groups; this "
        "month's plan by expected incremental value under the budget, with control groups.",
        [
            "plan = steps.campaigns(ctx)\nplan.groupby(['department', 'campaign', 'group']).size()",
            "ctx.load_frame('campaign_measurement') if ctx.has('campaign_measurement') else None",
        ],
    ),
    "06b_leads.ipynb": (
        "# Leads and the sales funnel\nLead scores and grades A/B/C (out-of-time validated), "
        "the sales lead list, defeat reasons, lead sources and order classes for stock planning.",
        [
            "from cvm.leads.step import leads_html, leads_step\nm = leads_step(ctx)\n"
            "pd.Series({k: v for k, v in m.items() if not isinstance(v, dict)}, dtype='object')",
            "display(HTML(leads_html(ctx)))",
            "ctx.load_frame('lead_scores').head(20) if ctx.has('lead_scores') else None",
        ],
    ),
    "07_report.ipynb": (
        None,
        [
            "from cvm.reporting import report\nfor html in report.sections(ctx):\n    display(HTML(html))",
        ],
    ),
}


def build(out_dir: Path = ROOT / "notebooks") -> list[Path]:
    paths = []
    for name, (intro, cells) in NOTEBOOKS.items():
        nb = new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        if intro:
            nb.cells.append(new_markdown_cell(intro))
        params = new_code_cell(PARAMETERS)
        params.metadata["tags"] = ["parameters"]
        nb.cells += [params, new_code_cell(SETUP)] + [new_code_cell(c) for c in cells]
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"{name.split('_')[0]}-{i:02d}"
        path = out_dir / name
        nbformat.write(nb, str(path))
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in build():
        print(p.relative_to(ROOT))
