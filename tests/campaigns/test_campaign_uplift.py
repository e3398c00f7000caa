"""Uplift learning on a synthetic world with a known heterogeneous effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.campaigns.uplift import auuc, fit_uplift, qini_coefficient, shrink_ate
from cvm.config import load_config
from support.uplift_world import uplift_world as _world

AS_OF = pd.Timestamp("2026-10-31")


def test_qini_and_auuc_reward_good_rankings() -> None:
    rng = np.random.default_rng(0)
    n = 20000
    u = rng.uniform(0, 0.3, n)
    t = rng.random(n) < 0.5
    y = (rng.random(n) < 0.2 + u * t).astype(float)
    assert qini_coefficient(u, y, t) > 0.01 > abs(qini_coefficient(rng.random(n), y, t))
    assert auuc(u, y, t) > auuc(-u, y, t)


@pytest.mark.slow
def test_learns_the_heterogeneous_effect(catalogue) -> None:
    tables, feats, x = _world()
    # the world's outcome window is the effect's window: no transport error, no EB shrinkage
    cfg = load_config("campaigns", {"uplift": {"ate_shrinkage": "none"}})
    model = fit_uplift(tables, lambda t, d: feats, AS_OF, cfg=cfg, catalogue=catalogue, seed=1)
    assert model.source["service_reminder"] == "learned"
    assert model.source["win_back"] == "prior"
    pred = model.predict(feats, "service_reminder")
    assert np.corrcoef(pred, 0.10 + 0.10 * x)[0, 1] > 0.8
    assert abs(pred.mean() - 0.10) < 0.03
    assert (model.predict(feats, "win_back") == catalogue["win_back"].prior_uplift).all()
    oot = model.metrics["out_of_time"]
    assert oot["per_campaign"]["service_reminder"]["qini"] > 0
    pairs = pd.DataFrame(
        {"customer_id": feats.index[:3], "campaign": ["service_reminder", "win_back", "win_back"]}
    )
    got = model.predict_pairs(feats, pairs)
    assert got[0] == pytest.approx(pred[0]) and got[1] == catalogue["win_back"].prior_uplift


def test_no_history_means_priors(catalogue) -> None:
    tables, feats, _ = _world(n=200, months=1)
    tables = {"visits": tables["visits"]}
    model = fit_uplift(tables, lambda t, d: feats, AS_OF, catalogue=catalogue)
    assert set(model.source.values()) == {"prior"}
    assert "priors only" in model.metrics["note"]


def test_empirical_bayes_campaign_means() -> None:
    prior = {"a": 0.05, "b": 0.05}
    ate = {"a": 0.15, "b": 0.15}
    se = {"a": 0.001, "b": 0.05}
    exact = shrink_ate(ate, se, prior, prior_sd=0.02, transport_sd=0.0)
    assert exact["a"] == pytest.approx(0.15, abs=0.001)  # precise, no transport error: measured
    assert 0.05 < exact["b"] < 0.08  # noisy: mostly the prior
    moved = shrink_ate(ate, se, prior, prior_sd=0.02, transport_sd=0.05)
    assert 0.05 < moved["a"] < 0.07  # transport error keeps it near the prior
    assert shrink_ate({"z": 0.1}, {}, prior, 0.02, 0.05) == {"z": 0.1}  # no prior: unchanged


def test_eb_shrinks_the_learned_mean_towards_the_prior(catalogue) -> None:
    tables, feats, _ = _world(n=3000, months=8)
    model = fit_uplift(
        tables, lambda t, d: feats, AS_OF, catalogue=catalogue, seed=1, validate=False
    )
    raw, used = model.ate_measured["service_reminder"], model.ate["service_reminder"]
    prior = catalogue["service_reminder"].prior_uplift
    assert raw > used > prior
    assert model.metrics["ate_used"]["service_reminder"] == pytest.approx(used)


def test_eb_target_catalogue_ignores_last_months_lift(catalogue) -> None:
    """``ate_shrink_target``: ``updated`` shrinks the history's mean towards the catalogue
    prior moved by last month's measured lift (here a noisy -0.10), ``catalogue`` towards the
    catalogue's own prior_uplift, so one month's measurement does not outweigh the history."""
    tables, feats, _ = _world(n=3000, months=8)
    last = pd.DataFrame(
        {"campaign": ["service_reminder"], "response_lift": [-0.10], "response_lift_se": [0.02]}
    )
    got = {}
    for target in ("updated", "catalogue"):
        cfg = load_config("campaigns", {"uplift": {"ate_shrink_target": target}})
        model = fit_uplift(
            tables,
            lambda t, d: feats,
            AS_OF,
            cfg=cfg,
            catalogue=catalogue,
            measurements=last,
            seed=1,
            validate=False,
        )
        got[target] = model.ate["service_reminder"]
        assert model.prior["service_reminder"] < 0  # the prior of an unlearned campaign: updated
    prior = catalogue["service_reminder"].prior_uplift
    raw = model.ate_measured["service_reminder"]
    assert got["updated"] < prior < got["catalogue"] < raw


def test_uplift_deciles_rise_when_the_prediction_ranks() -> None:
    import numpy as np

    from cvm.campaigns.uplift import uplift_deciles

    rng = np.random.default_rng(0)
    n = 20000
    tau = rng.uniform(0, 0.3, n)
    t = rng.random(n) < 0.5
    y = (rng.random(n) < 0.2 + t * tau).astype(float)
    d = uplift_deciles(tau, y, t, 5)
    assert len(d) == 5
    measured = [r["measured"] for r in d]
    assert measured[-1] > measured[0] + 0.15
    assert all(abs(r["measured"] - r["predicted"]) < 4 * r["measured_se"] + 0.02 for r in d)
    flat = uplift_deciles(rng.random(n), y, t, 5)  # a prediction that does not rank
    assert max(r["measured"] for r in flat) - min(r["measured"] for r in flat) < 0.08


@pytest.mark.slow
def test_margin_uplift_is_kept_where_it_validates(catalogue) -> None:
    """The per-customer margin validates out-of-time on a world with a real per-customer
    effect (its weight is its calibration slope) and not where the spread is noise."""
    tables, feats, x = _world(n=16000, months=14)
    # the world's visits come within 80 days of a contact: a 90-day effect window
    over = {
        "uplift": {
            "spend_calibration": {"window_days": 90},
            "margin": {
                "state_features": ["x", "noise"],
                "log_features": [],
                "alpha": 10.0,
                "campaign_alpha": 1000.0,
            },
        }
    }
    cfg = load_config("campaigns", over)
    model = fit_uplift(tables, lambda t, d: feats, AS_OF, cfg=cfg, catalogue=catalogue, seed=1)
    per = model.metrics["margin"]["per_campaign"]["service_reminder"]
    assert per["learned"] and per["qini_ci"][0] > 0
    assert 0 < model.margin_weight["service_reminder"] <= 1.0
    tau = model.margin_pairs(
        feats, pd.DataFrame({"customer_id": feats.index, "campaign": "service_reminder"})
    )
    assert np.corrcoef(tau, x)[0, 1] > 0.8
    # the same world with the customers' x shuffled: nothing to learn, no per-customer part
    noise = feats.assign(x=np.random.default_rng(3).permutation(feats["x"].to_numpy()))
    flat = fit_uplift(tables, lambda t, d: noise, AS_OF, cfg=cfg, catalogue=catalogue, seed=1)
    assert flat.margin_weight["service_reminder"] == 0.0
    assert not flat.metrics["margin"]["per_campaign"]["service_reminder"]["learned"]
