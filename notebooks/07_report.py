# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python (cvm)
#     language: python
#     name: cvm
# ---

# %% tags=["parameters"]
# Parameters (literals only; papermill replaces this cell, see `papermill --help-notebook`)
data: str = "data/demo"  # data directory or SQLAlchemy URL
as_of: str = "2026-09-30"  # as-of date, YYYY-MM-DD
run_dir: str = ""  # empty: a new scratch run in reports/scratch/ (cvm monthly passes its own)
reports: str = "reports"  # where published months (read-only) and scratch/ live
horizon_months: int | None = None  # horizon H of churn label and value model (None: settings)
budget: float | None = None  # campaign budget for the month, CNY (None: the settings)
lang: str = "zh"  # report language: zh or en
seed: int | None = None  # random seed (None: the settings)
profile: str = "default"  # settings profile: configs/default.yaml, then configs/<profile>.yaml
research: bool = True  # the analysts' cells below; cvm monthly sets False (same outputs, faster)

# %%
import pandas as pd
from IPython.display import HTML, display

from cvm.run_context import RunContext

pd.set_option("display.max_columns", 30)
ctx = RunContext.open(data=data, as_of=as_of, run_dir=run_dir, horizon_months=horizon_months,
                      budget=budget, lang=lang, seed=seed, profile=profile, reports=reports,
                      research=research)

# %%
from cvm.reporting import report

for html in report.render(ctx):
    display(HTML(html))
