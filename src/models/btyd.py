"""BG/NBD + Gamma-Gamma baseline (``lifetimes``) for the value model, and the historical average.

Transactions are paid visits (``cvm.definitions.paid_mask``), one per customer-day. Time is
in weeks. A customer with no paid visit yet is born at their first visit (frequency 0); the
Gamma-Gamma spend of customers without a repeat purchase is the fitted population mean.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from cvm.data.ids import DAYS_PER_MONTH, day_number, days, ids, isin
from cvm.definitions import paid_mask
from cvm.settings import run_settings

log = logging.getLogger(__name__)

DAYS_PER_WEEK = 7.0


def rfm_summary(
    visits: pd.DataFrame,
    as_of: Any,
    cfg: dict[str, Any] | None = None,
    customers: pd.Index | None = None,
) -> pd.DataFrame:
    """``frequency`` (repeat paid days), ``recency`` and ``T`` (weeks), ``monetary_value`` (mean
    paid spend of the repeat days) per customer with a visit ``<= as_of`` (or ``customers``)."""
    d = days(visits["visit_date"])
    keep = d <= day_number(as_of)
    # integer customer codes in sorted id order (the order a string group-by gives): the
    # group-bys below then hash integers, not a million text ids five times over
    codes, uniq = pd.factorize(ids(visits["customer_id"])[keep], sort=True)
    v = pd.DataFrame(
        {
            "customer_id": codes,
            "day": d[keep],
            "paid": paid_mask(visits, cfg)[keep],  # row-wise: no copy of the kept visits
            "amount": pd.to_numeric(visits["amount"][keep], errors="coerce").fillna(0.0).to_numpy(),
        }
    )
    v = v.loc[codes >= 0]
    first_any = v.groupby("customer_id")["day"].min()
    p = v.loc[v["paid"]].groupby(["customer_id", "day"], as_index=False)["amount"].sum()
    p = p.sort_values(["customer_id", "day"])
    g = p.groupby("customer_id")
    first_paid = g["day"].transform("min")
    repeat = p.loc[p["day"] > first_paid]
    out = pd.DataFrame(index=first_any.index)
    out["frequency"] = (g.size() - 1).reindex(out.index).fillna(0.0)
    birth = g["day"].min().reindex(out.index).fillna(first_any)
    last = g["day"].max().reindex(out.index).fillna(birth)
    out["recency"] = (last - birth) / DAYS_PER_WEEK
    out["T"] = (day_number(as_of) - birth) / DAYS_PER_WEEK
    out["monetary_value"] = (
        repeat.groupby("customer_id")["amount"].mean().reindex(out.index).fillna(0.0)
    )
    out.index = pd.Index(np.asarray(uniq.take(out.index.to_numpy()), dtype=object), dtype="str")
    if customers is not None:
        out = out.reindex(customers)
    out.index.name = "customer_id"
    return out


def bgnbd_gamma_gamma(
    visits: pd.DataFrame,
    as_of: Any,
    horizon_months: int,
    cfg: dict[str, Any] | None = None,
    customers: pd.Index | None = None,
) -> pd.Series:
    """Expected paid spend over the next ``horizon_months``: BG/NBD purchases × Gamma-Gamma
    spend, fitted on data ``<= as_of``."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    rfm, fit = _summaries(visits, as_of, cfg, customers)
    penalizer = run_settings(cfg).baselines.btyd.penalizer
    t = horizon_months * DAYS_PER_MONTH / DAYS_PER_WEEK
    bg = BetaGeoFitter(penalizer_coef=penalizer)
    bg.fit(fit["frequency"], fit["recency"], fit["T"])
    n = np.asarray(
        bg.conditional_expected_number_of_purchases_up_to_time(
            t, rfm["frequency"], rfm["recency"], rfm["T"]
        ),
        dtype=float,
    )
    rep = rfm.loc[(rfm["frequency"] > 0) & (rfm["monetary_value"] > 0)]
    rep_fit = fit.loc[(fit["frequency"] > 0) & (fit["monetary_value"] > 0)]
    base = rep_fit if len(rep_fit) else rep  # the population's mean repeat spend
    spend = np.full(len(rfm), float(base["monetary_value"].mean()) if len(base) else 0.0)
    if len(rep_fit) >= 20:
        gg = GammaGammaFitter(penalizer_coef=penalizer)
        gg.fit(rep_fit["frequency"], rep_fit["monetary_value"])
        mask = ((rfm["frequency"] > 0) & (rfm["monetary_value"] > 0)).to_numpy()
        spend[mask] = np.asarray(
            gg.conditional_expected_average_profit(
                rfm.loc[mask, "frequency"], rfm.loc[mask, "monetary_value"]
            ),
            dtype=float,
        )
        p, q, v = gg.params_["p"], gg.params_["q"], gg.params_["v"]
        if q > 1:
            spend[~mask] = p * v / (q - 1)
    out = pd.Series(np.nan_to_num(n) * spend, index=rfm.index, name="bgnbd_gamma_gamma")
    return out.reindex(customers).fillna(0.0) if customers is not None else out


def _summaries(
    visits: pd.DataFrame, as_of: Any, cfg: dict[str, Any] | None, customers: pd.Index | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The RFM summary of the customers to predict (all when ``customers`` is None) and the
    rows the BTYD fits are made on.

    The fits estimate a few population parameters: a seeded uniform sample of customers
    (``sampling.btyd_fit_customers``, 0 = all) estimates them as well as the whole base does,
    so the summary is computed for that sample and the customers to predict only."""
    s = run_settings(cfg)
    n_fit, seed = s.sampling.btyd_fit_customers, s.seed
    seen_ids = ids(visits["customer_id"])
    seen = pd.Index(seen_ids[days(visits["visit_date"]) <= day_number(as_of)].unique())
    if n_fit and customers is not None and len(seen) > n_fit + len(customers):
        fit_ids = _fit_rows(pd.DataFrame(index=seen.sort_values()), n_fit, seed).index
        need = fit_ids.union(pd.Index(customers).astype("str"))
        # the columns a summary reads, of the rows it needs (the whole rows were ~0.5 GB a
        # copy at a million customers)
        cols = [c for c in ("customer_id", "visit_date", "amount", "payer") if c in visits]
        rfm = rfm_summary(visits[cols].loc[isin(seen_ids, need)], as_of, cfg)
        return rfm, rfm.reindex(fit_ids).dropna()
    rfm = rfm_summary(visits, as_of, cfg)
    return rfm, _fit_rows(rfm, n_fit, seed)


def _fit_rows(rfm: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    if n <= 0 or len(rfm) <= n:
        return rfm
    rng = np.random.default_rng([seed, 5])
    return rfm.iloc[np.sort(rng.choice(len(rfm), n, replace=False))]


def _customer_codes(visits: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of the visits' customer ids in sorted id order (-1: no id) and the ids:
    the group-bys of the baselines then hash integers, not millions of text ids, and give the
    groups in the order a group-by on the text ids gives."""
    codes, uniq = pd.factorize(ids(visits["customer_id"]), sort=True)
    return np.asarray(codes), pd.Index(np.asarray(uniq, dtype=object), dtype="str")


def historical_average(
    visits: pd.DataFrame,
    as_of: Any,
    horizon_months: int,
    cfg: dict[str, Any] | None = None,
    customers: pd.Index | None = None,
) -> pd.Series:
    """Paid spend per month since the first visit (at least one month) × ``horizon_months``."""
    d = days(visits["visit_date"])
    codes, uniq = _customer_codes(visits)
    keep = (d <= day_number(as_of)) & (codes >= 0)
    amount = np.where(
        paid_mask(visits, cfg)[keep],  # row-wise: no copy of the kept visits
        pd.to_numeric(visits["amount"][keep], errors="coerce").fillna(0.0),
        0.0,
    )
    df = pd.DataFrame({"customer_id": codes[keep], "day": d[keep], "amount": amount})
    g = df.groupby("customer_id")
    months = np.maximum((day_number(as_of) - g["day"].min()) / DAYS_PER_MONTH, 1.0)
    out = (g["amount"].sum() / months * horizon_months).rename("historical_average")
    out.index = uniq.take(out.index.to_numpy()).rename("customer_id")
    return out.reindex(customers).fillna(0.0) if customers is not None else out


def bgnbd_no_purchase(
    visits: pd.DataFrame,
    as_of: Any,
    horizon_months: int,
    cfg: dict[str, Any] | None = None,
    customers: pd.Index | None = None,
) -> pd.Series:
    """Churn baseline ``bgnbd_p_alive``: P(no paid visit in the next ``horizon_months``) from a
    BG/NBD fit: ``(1 - a) + a · exp(-E[N] / a)`` with ``a`` = P(alive) and ``E[N]`` the expected
    purchases (a Poisson number of purchases at the alive customer's posterior mean rate)."""
    from lifetimes import BetaGeoFitter

    rfm, fit = _summaries(visits, as_of, cfg, customers)
    bg = BetaGeoFitter(penalizer_coef=run_settings(cfg).baselines.btyd.penalizer)
    bg.fit(fit["frequency"], fit["recency"], fit["T"])
    t = horizon_months * DAYS_PER_MONTH / DAYS_PER_WEEK
    a = np.clip(
        np.asarray(
            bg.conditional_probability_alive(rfm["frequency"], rfm["recency"], rfm["T"]),
            dtype=float,
        ),
        1e-9,
        1.0,
    )
    n = np.asarray(
        bg.conditional_expected_number_of_purchases_up_to_time(
            t, rfm["frequency"], rfm["recency"], rfm["T"]
        ),
        dtype=float,
    )
    p = (1 - a) + a * np.exp(-np.nan_to_num(n) / a)
    out = pd.Series(p, index=rfm.index, name="bgnbd_p_alive")
    return out.reindex(customers).fillna(1.0) if customers is not None else out


def recency_frequency(
    visits: pd.DataFrame,
    as_of: Any,
    horizon_months: int,
    cfg: dict[str, Any] | None = None,
    customers: pd.Index | None = None,
) -> pd.Series:
    """Value baseline, one line: last-12-month paid spend × H/12 × the share of customers in the
    same recency bin (months since the last paid visit, ``baselines.recency_frequency``) ``H``
    months earlier who had a paid visit in the ``H`` months after."""
    edges = np.asarray(run_settings(cfg).baselines.recency_frequency.recency_edges_months, float)
    d = days(visits["visit_date"])
    paid = paid_mask(visits, cfg)
    codes, uniq = _customer_codes(visits)
    n = len(uniq)
    has_id = codes >= 0
    a = np.where(paid, pd.to_numeric(visits["amount"], errors="coerce").fillna(0.0), 0.0)
    now = day_number(as_of)
    then = now - horizon_months * DAYS_PER_MONTH

    def state(t: float) -> pd.DataFrame:
        """Per customer seen by ``t`` (integer code, in the order first seen): recency bin
        (-1: no paid visit yet) and the paid spend of the 12 months to ``t``."""
        seen = (d <= t) & has_id
        pv = seen & paid
        who = pd.unique(codes[seen])
        last = pd.Series(d[pv]).groupby(codes[pv]).max()
        rec = ((t - last) / DAYS_PER_MONTH).reindex(who)
        out = pd.DataFrame(index=pd.Index(who))
        out["bin"] = np.where(rec.isna(), -1, np.digitize(rec.fillna(0).to_numpy(), edges))
        recent = pv & (d > t - 12 * DAYS_PER_MONTH)
        out["spend12"] = (
            pd.Series(a[recent]).groupby(codes[recent]).sum().reindex(who).fillna(0.0).to_numpy()
        )
        return out

    past = state(then)
    back = np.zeros(n, dtype=bool)
    back[codes[paid & (d > then) & (d <= now) & has_id]] = True
    past["back"] = back[past.index.to_numpy()]
    rate = past.groupby("bin")["back"].mean()
    cur = state(now)
    pred = cur["spend12"] * horizon_months / 12.0 * cur["bin"].map(rate).fillna(0.0)
    pred.index = uniq.take(cur.index.to_numpy())
    pred.name = "recency_frequency"
    return pred.reindex(customers).fillna(0.0) if customers is not None else pred
