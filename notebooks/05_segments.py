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

# %% [markdown]
# # Segments
# Lifecycle stage, value tag A/B/C/D, loyalty type and needs tags, with month-over-month transitions.

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
frequency_threshold: str = "median"  # what-if value tags: visits a year, a number or "median"
spend_threshold: str = "median"  # what-if value tags: CNY a visit, a number or "median"

# %%
import pandas as pd
from IPython.display import display

from cvm import steps
from cvm.run_context import RunContext

pd.set_option("display.max_columns", 30)
ctx = RunContext.open(data=data, as_of=as_of, run_dir=run_dir, horizon_months=horizon_months,
                      budget=budget, lang=lang, seed=seed, profile=profile, reports=reports,
                      research=research)

# %%
from cvm.research import segments as rsg

if research:  # the what-if thresholds, checked before any work
    rsg.check_thresholds(frequency_threshold, spend_threshold)

# %%
seg = steps.segments(ctx)
seg['lifecycle_stage'].value_counts()

# %%
seg['value_tag'].value_counts().sort_index()

# %%
ctx.load_frame('lifecycle_transitions')

# %%
ctx.load_frame('value_migration')

# %% [markdown]
# ## Research (skipped by the monthly run)
# Everything below writes only to this notebook's run folder (a scratch run unless `run_dir` says otherwise); see docs/notebooks.md.
#
# ### Value tags under other thresholds (`frequency_threshold`, `spend_threshold`)

# %%
if research:
    whatif = rsg.value_tag_whatif(ctx.tables['visits'], ctx.as_of, ctx.prev_as_of,
                                  frequency_threshold, spend_threshold, ctx.cfg)
    display(pd.DataFrame({'what-if': whatif['thresholds'],
                          'configured': whatif['configured_thresholds']}))
    display(whatif['migration'])
    display(whatif['versus_configured'])
