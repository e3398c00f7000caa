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
# # Churn-risk model
# LightGBM trained on past snapshots, early-stopped and calibrated on a later (out-of-time) fold; explained with SHAP.

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
features_drop: list = []  # challenger: built features to leave out, e.g. ["n_visits_12m"]
features_only: list = []  # challenger: train on these features only (empty: all)
model_params: dict = {}  # challenger: LightGBM / trainer settings, e.g. {"num_leaves": 63}
challenger_name: str = "challenger"  # saved as <run_dir>/challengers/<model>-<name>/
customer_id: str = ""  # whose SHAP waterfall to show (empty: the highest score)

# %%
import pandas as pd
from IPython.display import HTML, display

from cvm import steps
from cvm.run_context import RunContext

pd.set_option("display.max_columns", 30)
ctx = RunContext.open(data=data, as_of=as_of, run_dir=run_dir, horizon_months=horizon_months,
                      budget=budget, lang=lang, seed=seed, profile=profile, reports=reports,
                      research=research)

# %%
from cvm.research import challenger as rc
from cvm.research import explain as rx
from cvm.research import plots as rp

# checks the challenger settings before any training (a typo lists the valid names)
wants_challenger = research and rc.check_notebook_overrides(
    ctx, "churn", features_drop, features_only, model_params)

# %%
model = steps.churn(ctx)
pd.Series(model.metrics, dtype='object')

# %%
from cvm.reporting import report

display(HTML(report.churn_quality_html(ctx)))

# %%
display(HTML(report.shap_html(ctx, 'churn')))

# %%
ctx.load_frame('churn_scores').sort_values('churn_probability', ascending=False).head(10)

# %% [markdown]
# ## Research (skipped by the monthly run)
# Everything below writes only to this notebook's run folder (a scratch run unless `run_dir` says otherwise); see docs/notebooks.md.

# %% [markdown]
# ### Calibration on the out-of-time holdout

# %%
if research:
    rs = rc.research_settings(ctx.cfg)
    val = model.validation
    rp.show(rp.plot_calibration(val['y_true'], {'calibrated': val['p'], 'raw booster': val['p_raw']},
                                rs['calibration_bins']))

# %% [markdown]
# ### SHAP dependence: the most important features

# %%
if research:
    rp.show(rp.plot_dependence(ctx.load_frame('churn_shap_values'),
                               ctx.load_frame('churn_shap_features'), rs['shap_top_features'],
                               ylabel='SHAP value (log-odds of churn)'))

# %% [markdown]
# ### One customer's explanation (`customer_id`)

# %%
if research:
    who = rx.pick_customer(ctx.load_frame('churn_scores')['churn_probability'], customer_id)
    contrib, values = rx.customer_contributions(model.booster, ctx.load_frame('features'), who)
    rp.show(rp.plot_waterfall(contrib, values, rs['waterfall_max_display'],
                              title=f'churn risk of {who} (log-odds)'))

# %% [markdown]
# ### Challenger (`features_drop`, `features_only`, `model_params`)
# Trained on the champion's own rows and compared on its out-of-time holdout; saved with its settings as a profile a later monthly run can adopt.

# %%
if wants_challenger:
    cmp = rc.churn_challenger(ctx, model, features_drop, features_only, model_params,
                              challenger_name)
    display(cmp.summary())
    rp.show(rp.plot_comparison(cmp))
    display(rc.save_challenger(ctx, cmp))
