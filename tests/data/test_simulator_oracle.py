"""The oracle is a yardstick: precise, calibrated against the realized future; and the data
carry learnable signal beyond recency (mid-size run, slow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.data.simulator import generate
from cvm.definitions import paid_mask

N, SEED = 8000, 13


@pytest.fixture(scope="module")
def run():
    return generate(N, SEED)


def _realized(r) -> pd.DataFrame:
    """Per oracle customer: the oracle figures and the realized paid visits / spend over H."""
    oc = r.df("truth/oracle_customers").set_index("customer_id")
    fut = r.df("truth/visits")
    paid = fut.loc[paid_mask(fut)]
    spend = paid.groupby("customer_id")["amount"].sum()
    oc["realized_no_paid"] = (~oc.index.isin(spend.index)).astype(float)
    oc["realized_spend"] = spend.reindex(oc.index).fillna(0.0)
    return oc


def _settings(paths: int) -> dict:
    """configs/campaigns.yaml's pair oracle settings with ``paths`` pilot and maximum paths."""
    from cvm.config import load_config

    cfg = dict(load_config("campaigns")["evaluation"]["pair_oracle"])
    return {**cfg, "pilot_paths": paths, "max_paths": paths}


def _deciles(x: pd.Series) -> pd.Series:
    return pd.qcut(x.rank(method="first"), 10, labels=False)


@pytest.mark.slow
def test_oracle_precision(run) -> None:
    o = run.meta["oracle"]
    assert o["mean_se_p_no_paid_visit"] <= 0.01, o
    assert o["mean_se_expected_spend"] <= 0.05 * o["mean_expected_spend"], o
    assert o["mean_se_uplift_p_return"] <= 0.005, o


@pytest.mark.slow
def test_oracle_p_no_paid_visit_calibrated(run) -> None:
    oc = _realized(run)
    g = oc.groupby(_deciles(oc["p_no_paid_visit"]))
    tab = pd.DataFrame(
        {
            "oracle": g["p_no_paid_visit"].mean(),
            "realized": g["realized_no_paid"].mean(),
            "n": g.size(),
        }
    )
    # binomial noise of a decile of 800 customers: sd <= 0.018; 0.05 is ~3 sd
    assert (tab["oracle"] - tab["realized"]).abs().max() <= 0.05, tab
    assert abs(oc["p_no_paid_visit"].mean() - oc["realized_no_paid"].mean()) <= 0.02, tab
    assert tab["realized"].is_monotonic_increasing or tab["realized"].diff().min() > -0.05, tab


@pytest.mark.slow
def test_oracle_expected_spend_calibrated(run) -> None:
    oc = _realized(run)
    g = oc.groupby(_deciles(oc["expected_spend"]))
    tab = pd.DataFrame(
        {
            "oracle": g["expected_spend"].mean(),
            "realized": g["realized_spend"].mean(),
            "sd": g["realized_spend"].std(),
            "n": g.size(),
        }
    )
    # realized spend is heavy-tailed: allow 4 standard errors of the decile mean plus 5 %
    tol = 4 * tab["sd"] / np.sqrt(tab["n"]) + 0.05 * tab["oracle"]
    assert ((tab["oracle"] - tab["realized"]).abs() <= tol).all(), tab
    total = oc["expected_spend"].sum() / oc["realized_spend"].sum()
    assert 0.93 <= total <= 1.07, total


@pytest.mark.slow
def test_features_carry_signal_beyond_recency(run) -> None:
    """LightGBM on the observable features beats the recency rule on realized churn labels.

    Train at end - 12 months (labels from the data window), test at end (labels from the
    realized future in truth/visits); the latent traits are never used.
    """
    import lightgbm as lgb
    from sklearn.metrics import roc_auc_score

    from cvm.features.snapshot import build_features

    end = pd.Timestamp(run.meta["end"])
    tables = {k: run.df(k) for k in run.tables}
    visits = tables["visits"]
    fut = run.df("truth/visits")

    def labelled(as_of: pd.Timestamp, future: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        x = build_features(tables, as_of.date())
        horizon = future[
            (future["visit_date"] > as_of)
            & (future["visit_date"] <= as_of + pd.DateOffset(months=12))
        ]
        buyers = set(horizon.loc[paid_mask(horizon), "customer_id"])
        return x, (~x.index.isin(buyers)).astype(int)

    x_tr, y_tr = labelled(end - pd.DateOffset(months=12) + pd.offsets.MonthEnd(0), visits)
    x_te, y_te = labelled(end, fut)
    x_te = x_te[x_tr.columns]
    model = lgb.LGBMClassifier(
        n_estimators=300,
        learning_rate=0.05,
        num_leaves=31,
        min_child_samples=40,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        n_jobs=1,
        verbose=-1,
        random_state=0,
    )
    model.fit(x_tr, y_tr)
    auc_model = roc_auc_score(y_te, model.predict_proba(x_te)[:, 1])
    auc_recency = roc_auc_score(y_te, x_te["months_since_last_visit"].fillna(1e3))
    assert auc_model >= auc_recency + 0.03, (auc_model, auc_recency)
    # and the oracle (the latent truth) is above both: the gap is what models can still learn
    oc = run.df("truth/oracle_customers").set_index("customer_id")
    auc_oracle = roc_auc_score(y_te, oc["p_no_paid_visit"].reindex(x_te.index))
    assert auc_oracle > auc_model, (auc_oracle, auc_model)


def test_the_pair_oracle_recreates_the_world_and_refuses_other_parameters(tmp_path) -> None:
    """The world re-created from truth/meta.json gives the simulator's own oracle means; truth
    made with other parameters is refused with the way out."""
    import json

    import numpy as np
    import pandas as pd

    from cvm.config import CvmError
    from cvm.data.simulator import simulate
    from cvm.data.simulator.pair_oracle import pair_oracle

    out = simulate(n_customers=400, seed=11, out=tmp_path / "sim", years=3)
    truth = out / "truth"
    orc = pd.read_parquet(truth / "oracle_campaigns.parquet")
    pairs = (
        orc.loc[
            orc["campaign"].astype(str).isin(["win_back", "service_reminder"]),
            ["customer_id", "campaign"],
        ]
        .astype(str)
        .reset_index(drop=True)
    )
    po, info = pair_oracle(truth, pairs, _settings(8), progress=False)
    assert len(po) == len(pairs) and set(info) == {"win_back", "service_reminder"}
    both = po.merge(
        orc.astype({"customer_id": str, "campaign": str}),
        on=["customer_id", "campaign"],
        suffixes=("", "_sim"),
    )
    for c, g in both.groupby("campaign"):
        se = np.sqrt(
            ((g["incremental_spend_se"] ** 2).mean() + (g["incremental_spend_se_sim"] ** 2).mean())
            / len(g)
        )
        gap = abs(
            g["expected_incremental_value"].mean() - g["expected_incremental_value_sim"].mean()
        )
        assert gap < 4 * se + 5.0, (c, gap, se)
    meta = json.loads((truth / "meta.json").read_text())
    meta["parameters"]["sale_margin"] = 0.5
    (truth / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CvmError, match="max-oracle-paths 0"):
        pair_oracle(
            truth,
            pairs,
            _settings(8),
            progress=False,
        )


def _collinear_paths(rng: np.random.Generator, paths: int, n: int):
    """Control variates of two scenarios that differ for one customer only (a contact that
    changes one lapsed customer's month), and a paired difference that does not follow them:
    the shape that once made least squares give +-3.5e8 coefficients."""
    x0 = rng.normal(0.0, 0.3, (paths, 1, n))
    x1 = x0 + rng.normal(0.0, 1e-7, (paths, 1, n))  # the contact changes (almost) nothing
    x1[:, 0, 0] += 0.02  # but one customer's, steadily: a flawed term (not mean zero)
    x = np.concatenate([x1, x0], axis=1)
    y = rng.normal(40.0, 5.0, (paths, n)) + 30.0 * x0[:, 0]
    return y, x


def test_control_variate_coefficients_stay_bounded_where_the_scenarios_are_collinear() -> None:
    from cvm.data.simulator.pair_oracle import _checked, _fit_beta

    rng = np.random.default_rng(3)
    y, x = _collinear_paths(rng, 16, 1500)
    ridge, z = _settings(8)["cv_ridge"], _settings(8)["cv_check_z"]
    beta = _fit_beta(y, x, ridge)
    unpenalized = np.linalg.lstsq(
        (x - x.mean(0)).transpose(0, 2, 1).reshape(-1, 2), (y - y.mean(0)).ravel(), rcond=None
    )[0]
    assert np.abs(unpenalized).max() > 100 * np.abs(beta).max()  # the failure it guards
    corr = np.einsum("j,pjn->pn", beta, x)
    out, fallback = _checked(y - corr, corr, z)
    raw_se = y.std(0, ddof=1) / 4
    assert (np.abs(out.mean(0) - y.mean(0)) < 6 * raw_se + 1.0).all()
    assert abs(beta.sum() - 30.0) < 3.0  # the common direction is what the difference follows


def test_a_correction_whose_mean_is_not_zero_falls_back_to_the_plain_difference() -> None:
    from cvm.data.simulator.pair_oracle import _checked

    rng = np.random.default_rng(4)
    y = rng.normal(50.0, 10.0, (16, 5))
    corr = rng.normal(0.0, 10.0, (16, 5))
    corr[:, 2] = 4e6 + rng.normal(0.0, 10.0, 16)  # the 9914 case: huge, steady over paths
    out, fallback = _checked(y - corr, corr, 5.0)
    assert fallback == 1
    np.testing.assert_allclose(out[:, 2], y[:, 2])
    np.testing.assert_allclose(out[:, [0, 1, 3, 4]], (y - corr)[:, [0, 1, 3, 4]])
