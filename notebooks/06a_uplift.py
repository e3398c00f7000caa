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

# %%

# %% [markdown]
# # Uplift model
# Last month's campaigns measured against their control groups, and who responds to which campaign, learned from every past contact with a control group. The campaigns notebook (06) plans with this model; it needs only the tables, so the monthly run fits it beside churn and value.

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

from cvm import steps
from cvm.run_context import RunContext

pd.set_option("display.max_columns", 30)
ctx = RunContext.open(data=data, as_of=as_of, run_dir=run_dir, horizon_months=horizon_months,
                      budget=budget, lang=lang, seed=seed, profile=profile, reports=reports,
                      research=research)

# %%
metrics = steps.uplift(ctx)
pd.DataFrame(metrics.get('out_of_time', {}).get('per_campaign', {})).T  # out-of-time Qini per campaign

# %%
ctx.load_frame('campaign_measurement') if ctx.has('campaign_measurement') else None

# %% [markdown]
# ## Research (skipped by the monthly run)
# Everything below writes only to this notebook's run folder (a scratch run unless `run_dir` says otherwise); see docs/notebooks.md.
#
# ### Qini curves of the uplift model (out-of-time contacts)

# %%
from cvm.research import campaigns as rcp
from cvm.research import plots as rp
from cvm.research.challenger import research_settings

if research and ctx.has('uplift_validation'):
    rs = research_settings(ctx.cfg)['campaigns']
    rp.show(rp.plot_qini(rcp.qini_curves(ctx.load_frame('uplift_validation'), rs['qini_points'])))
