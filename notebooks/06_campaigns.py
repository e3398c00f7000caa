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
# # Campaign plan
# Last month's campaigns measured against their control groups; this month's plan by expected incremental value under the budget, with control groups.

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
from IPython.display import display

from cvm import steps
from cvm.run_context import RunContext

pd.set_option("display.max_columns", 30)
ctx = RunContext.open(data=data, as_of=as_of, run_dir=run_dir, horizon_months=horizon_months,
                      budget=budget, lang=lang, seed=seed, profile=profile, reports=reports,
                      research=research)

# %%
plan = steps.campaigns(ctx)
plan.groupby(['department', 'campaign', 'group']).size()

# %% [markdown]
# ## Research (skipped by the monthly run)
# Everything below writes only to this notebook's run folder (a scratch run unless `run_dir` says otherwise); see docs/notebooks.md. The uplift model's Qini curves are in 06a_uplift.

# %%
from cvm.research import campaigns as rcp
from cvm.research import plots as rp

# %% [markdown]
# ### Budget curve

# %%
if research:
    curve = ctx.load_frame('campaign_budget_curve')  # the campaigns step's (docs/campaigns.md)
    display(curve)
    rp.show(rp.plot_budget_curve(curve, ctx.budget))

# %% [markdown]
# ### Sensitivity to the control share and the department capacities

# %%
if research:
    pairs, capacity, rs = rcp.planning_inputs(ctx)
    display(rcp.control_share_sensitivity(ctx.load_frame('campaign_plan'),
                                          rs['control_shares'], ctx.seed))
    caps = rcp.capacity_sensitivity(pairs, ctx.budget, capacity, rs['capacity_factors'],
                                    ctx.seed, rs['planner_method'])
    display(caps)
    rp.show(rp.plot_sensitivity(caps, 'factor', by='department',
                                title='plan value with one capacity scaled'))
