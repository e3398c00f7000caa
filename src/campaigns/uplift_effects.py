"""Campaign means: empirical-Bayes shrinkage of response lifts and incremental spend.

The history measures a campaign's effect on past populations and windows; the plan needs this
month's effect. Each mean here is a precision-weighted combination of a prior and the history's
measurement, whose variance counts a "transport" term besides its sampling error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cvm.campaigns.uplift_learners import cross_fitted_outcome


def response_ate(info: pd.DataFrame) -> dict[str, float]:
    """Each campaign's difference in response rates, target minus control."""
    g = info.groupby(["campaign", "treated"])["responded"].mean().unstack()
    return {str(k): float(r.get(True, np.nan) - r.get(False, np.nan)) for k, r in g.iterrows()}


def response_ate_se(info: pd.DataFrame) -> dict[str, float]:
    """Standard error of each campaign's difference in response rates (Welch, normal)."""
    g = info.groupby(["campaign", "treated"])["responded"].agg(["mean", "size"]).unstack()
    out = {}
    for k, r in g.iterrows():
        v = 0.0
        for t in (True, False):
            p, n = float(r[("mean", t)]), float(r[("size", t)])
            v += max(p * (1 - p), 1e-4) / max(n, 1.0)
        out[str(k)] = float(np.sqrt(v))
    return out


def shrink_ate(
    ate: dict[str, float],
    se: dict[str, float],
    prior: dict[str, float],
    prior_sd: float,
    transport_sd: float,
) -> dict[str, float]:
    """Empirical-Bayes campaign means: precision-weighted prior and measured mean.

    The measured mean's variance is its sampling variance ``se^2`` plus ``transport_sd^2``: the
    history measures a response within the outcome window on past campaigns' populations, the
    plan needs the 12-month uplift on this month's eligible customers, so even a precise
    historical mean is only a noisy measure of what the plan needs.
    """
    out = {}
    for c, a in ate.items():
        if c not in prior or not np.isfinite(a):
            out[c] = a
            continue
        w0 = 1.0 / max(prior_sd, 1e-9) ** 2
        w1 = 1.0 / (se.get(c, 0.0) ** 2 + transport_sd**2 + 1e-12)
        out[c] = float((w0 * prior[c] + w1 * a) / (w0 + w1))
    return out


def spend_effects(
    X: pd.DataFrame,
    spend: np.ndarray,
    treated: np.ndarray,
    campaign: np.ndarray,
    customer: np.ndarray,
    params: dict[str, Any],
    rounds: int,
    seed: int,
    mhat: np.ndarray | None = None,
) -> tuple[dict[str, float], dict[str, float]]:
    """Per campaign: incremental paid spend per contact, target vs control, and its standard error.

    Robinson / R-learner residualization: a cross-fitted outcome model ``m(x)`` (two folds by
    customer, LightGBM, treatment not a feature) removes what the features explain of each
    contact's spend, and the effect is ``sum (T - e)(Y - m) / sum (T - e)^2`` with ``e`` the
    campaign's target share. Assignment is random within a campaign, so this is unbiased
    whatever ``m`` is; a good ``m`` only shrinks the standard error (sandwich formula), which
    matters because spend is heavy-tailed. ``X`` is the design matrix (see
    ``uplift_learners.design``); ``mhat``: the cross-fitted ``m(x)`` if already computed.
    """
    y = np.asarray(spend, float)
    t = np.asarray(treated, bool)
    camp = np.asarray(campaign).astype(str)
    if mhat is None:
        mhat = cross_fitted_outcome(X, y, customer, params, rounds, seed)
    e = pd.Series(t).groupby(camp).transform("mean").to_numpy(float)
    r, res = t - e, y - mhat
    eff, se = {}, {}
    for c in np.unique(camp):
        m = camp == c
        rr = r[m]
        den = float((rr**2).sum())
        if den <= 0 or t[m].all() or (~t[m]).all():
            continue
        a = float((rr * res[m]).sum() / den)
        eff[c] = a
        se[c] = float(np.sqrt(((rr * (res[m] - rr * a)) ** 2).sum()) / den)
    return eff, se


def calibrate_spend(
    mean_pred: dict[str, float],
    effect: dict[str, float],
    se: dict[str, float],
    prior_rel_sd: float,
    prior_min_sd: float,
    transport_sd: float,
) -> dict[str, float]:
    """Empirical-Bayes campaign means of incremental spend per contact.

    Prior: the model's own mean over this month's eligible pairs (uplift x value at stake),
    sd ``max(prior_rel_sd * |prior|, prior_min_sd)``. Measurement: the history's incremental
    spend (``spend_effects``, scaled to the horizon), variance ``se^2 + transport_sd^2`` (other
    populations, later campaigns in both groups). Campaigns without a measurement keep the prior.
    """
    return {
        c: m
        for c, (m, _) in spend_posterior(
            mean_pred, effect, se, prior_rel_sd, prior_min_sd, transport_sd
        ).items()
    }


def spend_posterior(
    mean_pred: dict[str, float],
    effect: dict[str, float],
    se: dict[str, float],
    prior_rel_sd: float,
    prior_min_sd: float,
    transport_sd: float,
) -> dict[str, tuple[float, float]]:
    """``calibrate_spend``'s posterior per campaign as ``(mean, sd)``: the sd gives the
    intervals of a pair's expected value and of the plan's total (normal-normal update)."""
    out = {}
    for c, prior in mean_pred.items():
        sd0 = max(prior_rel_sd * abs(prior), prior_min_sd, 1e-9)
        if c not in effect or not np.isfinite(effect[c]):
            out[c] = (float(prior), float(sd0))
            continue
        w0 = 1.0 / sd0**2
        w1 = 1.0 / (se.get(c, 0.0) ** 2 + transport_sd**2 + 1e-12)
        out[c] = (float((w0 * prior + w1 * effect[c]) / (w0 + w1)), float((w0 + w1) ** -0.5))
    return out
