"""The speed work of issue 21 keeps every output: each fast path equals the code it replaced.

(The whole-run check, same data and seed before and after, is ``scripts/compare_runs.py``
on two ``cvm monthly`` runs; these pin the pieces, in milliseconds.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.config import load_config
from cvm.data.coerce import _id_value, _integral_to_text, to_id
from cvm.data.ids import ids, positions
from cvm.features.labels import _future_paid, future_paid_spend
from cvm.features.snapshot import build_features, restrict_tables
from cvm.features.training import sample_customers
from cvm.models.btyd import rfm_summary
from support.toy import toy_tables

AS_OF = pd.Timestamp("2023-06-30")


@pytest.fixture(scope="module")
def toy() -> dict[str, pd.DataFrame]:
    return toy_tables(300, seed=5)


def test_arrow_id_text_equals_the_python_rule() -> None:
    raw = [
        "1001",
        " 1001.0 ",
        "1001.00",
        "007",
        "V-12",
        "+5.0",
        "-3.000",
        "1.5",
        "１２.0",
        " 客户1 ",
        "\x1c12.0\x1f",
        "12.0\n",
        "",
        None,
        "abc.0",
        "1e3",
        "12.",
        ".0",
        "3.0x",
        "\t",
        "\x85 12.0",
    ]
    plain = ["C1", "007", "V-12", None, "", "ABC_9"]  # no space, dot or non-ASCII: no copy
    for vals in (raw, [v for v in raw if v is None or v.isascii()], plain):
        u = pd.Series(pd.Series(vals, dtype="str").unique(), dtype="str")
        fast = [None if pd.isna(x) else x for x in _integral_to_text(u)]
        slow = [None if pd.isna(x) else x for x in u.astype(object).map(_id_value)]
        assert fast == slow
    out, bad = to_id(pd.Series(["C1", " C1", "2.0", None], dtype="str"))
    assert out.tolist()[:3] == ["C1", "C1", "2"] and pd.isna(out.iloc[3]) and not bad.any()


def test_positions_equal_get_indexer() -> None:
    rng = np.random.default_rng(0)
    index = pd.Index(sorted(f"C{i:05d}" for i in range(0, 5000, 3)), dtype="str")
    values = pd.Series(
        [f"C{i:05d}" for i in rng.integers(0, 5000, 20000)] + [None, "x"], dtype="str"
    )
    np.testing.assert_array_equal(positions(values, index), index.get_indexer(values))
    num = pd.Index([3, 1, 2])
    np.testing.assert_array_equal(positions(pd.Series([2, 5]), num), [2, -1])


def test_future_paid_spend_equals_the_reindex(toy) -> None:
    cfg = load_config()
    v = toy["visits"]
    got = future_paid_spend(v, AS_OF, 12, cfg)
    spend = _future_paid(v, AS_OF, 12, cfg).groupby("customer_id")["amount"].sum()
    want = spend.reindex(got.index, fill_value=0.0).astype(np.float64)
    assert (got > 0).sum() > 10
    pd.testing.assert_series_equal(got, want.rename("future_paid_spend"), check_names=False)


def test_features_of_restricted_tables_equal_the_full_build(toy) -> None:
    """The uplift frame cuts the tables once to every sampled customer, then builds each
    month's subset: the same features as building each subset from the whole tables."""
    cfg = load_config()
    full = build_features(toy, AS_OF, cfg)
    union = sample_customers(full.index, 120, 1, AS_OF)
    sub = restrict_tables(toy, union)
    assert len(sub["visits"]) < len(toy["visits"])
    for seed in (2, 3):
        who = sample_customers(union, 40, seed, AS_OF)
        pd.testing.assert_frame_equal(
            build_features(sub, AS_OF, cfg, customers=who),
            build_features(toy, AS_OF, cfg, customers=who),
        )


def test_customer_rows_cut_equals_restrict_tables(toy) -> None:
    """``CustomerRows.cut`` (rows gathered from a per-customer index built once) gives the
    same tables as ``restrict_tables`` (a lookup over every row), labels and order included,
    for subsets with customers the tables lack; and the features built from its cut are the
    same."""
    from cvm.features.snapshot import CustomerRows

    cfg = load_config()
    full = build_features(toy, AS_OF, cfg)
    rows = CustomerRows(toy)
    for seed in (2, 3):
        who = sample_customers(full.index, 60, seed, AS_OF).append(pd.Index(["no-such-id"]))
        cut, ref = rows.cut(who), restrict_tables(toy, who)
        assert set(cut) == set(ref)
        for name in ref:
            if ref[name] is None:
                assert cut[name] is None
            else:
                pd.testing.assert_frame_equal(cut[name], ref[name])
        pd.testing.assert_frame_equal(
            build_features(toy, AS_OF, cfg, customers=who, rows_from=cut),
            build_features(toy, AS_OF, cfg, customers=who),
        )


def test_customer_rows_of_some_customers_need_no_cut_copy(toy) -> None:
    """``CustomerRows(t, customers=S)`` (an index of S's rows in the whole tables) cuts the same
    tables as ``CustomerRows(restrict_tables(t, S))`` (the index over a copy cut to S), which
    the uplift frame used before, for subsets of S with and without unknown ids."""
    from cvm.features.snapshot import CustomerRows

    full = build_features(toy, AS_OF, load_config())
    S = sample_customers(full.index, 120, 5, AS_OF)
    lean, copied = CustomerRows(toy, customers=S), CustomerRows(restrict_tables(toy, S))
    for seed in (2, 3):
        who = sample_customers(S, 40, seed, AS_OF).append(pd.Index(["no-such-id"]))
        a, b = lean.cut(who), copied.cut(who)
        assert set(a) == set(b)
        at = lean.positions(who)  # looked up ahead, as the uplift frame does for every month
        assert at is not None
        for name, df in lean.cut(who, at).items():
            assert (df is None and a[name] is None) or df.equals(a[name])
        for name in b:
            if b[name] is None:
                assert a[name] is None
            else:
                pd.testing.assert_frame_equal(a[name], b[name])
                assert len(b[name]) < len(toy[name]) or name not in ("visits", "customers")


def test_rfm_summary_on_integer_codes_equals_string_groupbys(toy) -> None:
    cfg = load_config()
    v = toy["visits"]
    got = rfm_summary(v, AS_OF, cfg)
    # the summary as computed before, with string group-bys
    from cvm.data.ids import day_number, days
    from cvm.definitions import paid_mask

    d = days(v["visit_date"])
    keep = d <= day_number(AS_OF)
    f = pd.DataFrame(
        {
            "customer_id": ids(v["customer_id"])[keep].to_numpy(),
            "day": d[keep],
            "paid": paid_mask(v.loc[keep], cfg),
            "amount": pd.to_numeric(v["amount"][keep]).fillna(0.0).to_numpy(),
        }
    )
    first_any = f.groupby("customer_id")["day"].min()
    p = f.loc[f["paid"]].groupby(["customer_id", "day"], as_index=False)["amount"].sum()
    g = p.sort_values(["customer_id", "day"]).groupby("customer_id")
    assert got.index.equals(first_any.index)
    np.testing.assert_array_equal(
        got["frequency"], (g.size() - 1).reindex(first_any.index).fillna(0.0)
    )
    assert got["monetary_value"].gt(0).sum() > 10


def _margin_normal_equations_dense(X, residual, treated, propensity, campaign, model):
    """The margin learner's normal equations as first written: every row's full feature
    vector ``[e_c, z, e_c (x) z]``, then ``P'P`` (the code the per-campaign Gram replaced)."""
    r = np.asarray(treated, float) - np.asarray(propensity, float)
    P = model._phi(model.scaler.transform(X), np.asarray(campaign)) * r[:, None]
    return P.T @ P, P.T @ np.asarray(residual, float)


def test_margin_learner_per_campaign_gram_equals_the_dense_normal_equations() -> None:
    from cvm.campaigns.uplift_learners import fit_margin_learner

    rng = np.random.default_rng(3)
    n = 5000
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.gamma(2.0, 100.0, size=n),
            "c": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
        }
    )
    camp = rng.choice(["k1", "k2", "k3", "k4"], size=n)
    t = rng.random(n) < 0.8
    e = pd.Series(t).groupby(camp).transform("mean").to_numpy(float)
    res = rng.normal(size=n) + t * (X["a"].to_numpy() > 0) * 50
    alpha, calpha = 10.0, 100.0
    fast = fit_margin_learner(X, res, t, e, camp, ["a", "b", "c"], ["b"], alpha, calpha, chunk=1234)
    A, b = _margin_normal_equations_dense(X, res, t, e, camp, fast)
    k, p = len(fast.campaigns), len(fast.scaler.columns)
    pen = np.r_[np.full(k, 1e-6 * alpha), np.full(p, alpha), np.full(k * p, calpha)]
    dense = np.linalg.solve(A + np.diag(pen), b)
    np.testing.assert_allclose(fast.coef, dense, rtol=1e-9, atol=1e-12)
    pred_fast = fast.predict(X, camp)
    fast.coef = dense
    np.testing.assert_allclose(pred_fast, fast.predict(X, camp), rtol=1e-9, atol=1e-9)


def test_margin_predictions_equal_the_full_feature_product() -> None:
    from cvm.campaigns.uplift_learners import fit_margin_learner

    rng = np.random.default_rng(4)
    n = 3000
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    camp = rng.choice(["k1", "k2", "k3"], size=n)
    t = rng.random(n) < 0.7
    e = np.full(n, t.mean())
    m = fit_margin_learner(X, rng.normal(size=n), t, e, camp, ["a", "b"], [], 1.0, 10.0)
    who = np.where(rng.random(n) < 0.1, "unknown", camp)  # a campaign the model never saw
    slow = m._phi(m.scaler.transform(X), who) @ m.coef
    np.testing.assert_allclose(m.predict(X, who), slow, rtol=1e-12, atol=1e-12)


def test_control_strata_keys_built_by_column_give_the_same_groups() -> None:
    from cvm.campaigns.control import assign_control

    rng = np.random.default_rng(6)
    n = 4000
    plan = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in rng.permutation(n)],
            "campaign": rng.choice(["win_back", "service_reminder", "trade_in"], size=n),
            "value_tag": pd.Categorical(rng.choice(["A", "B", "C", "D"], size=n)),
        }
    )
    got = assign_control(plan, share=0.1, seed=9, strata=["campaign", "value_tag"])
    # the rule as first written: row-wise "|".join of the strata's text
    keys = plan[["campaign", "value_tag"]].astype(str).agg("|".join, axis=1)
    rng2 = np.random.default_rng(9)
    want = pd.Series("target", index=plan.index, dtype=object)
    for key in sorted(keys.unique()):
        idx = plan.index[(keys == key).to_numpy()]
        idx = idx[np.argsort(plan.loc[idx, "customer_id"].astype(str).to_numpy(), kind="stable")]
        k = min(int(np.floor(0.1 * len(idx) + rng2.random())), len(idx))
        if k:
            want.loc[rng2.choice(idx, size=k, replace=False)] = "control"
    assert got["group"].tolist() == want.tolist()
    assert (got["group"] == "control").sum() > 300


def test_x_learner_on_kept_bins_equals_four_separate_fits() -> None:
    """The X-learner's second stage trains on the Datasets binned for the first (same rows, new
    label): the boosters equal four fits from scratch, as first written."""
    from types import SimpleNamespace

    from cvm.campaigns.uplift_learners import design, fit_meta_learner, schema, train_booster

    rng = np.random.default_rng(8)
    n = 6000
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n).astype(np.float32),
            "b": rng.gamma(2.0, 50.0, size=n),
            "tag": pd.Categorical(rng.choice(["A", "B", "C"], size=n)),
        }
    )
    info = pd.DataFrame(
        {
            "campaign": rng.choice(["k1", "k2"], size=n),
            "treated": rng.random(n) < 0.8,
        }
    )
    info["responded"] = (rng.random(n) < 0.2 + 0.1 * info["treated"] * (X["a"] > 0)).astype(int)
    lgb_params = {
        "learning_rate": 0.2,
        "num_leaves": 7,
        "min_data_in_leaf": 100,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "num_threads": 2,
        "verbosity": -1,
    }
    u = SimpleNamespace(lgb=lgb_params, num_boost_round=30, learner="x")
    got, _, feats, cats = fit_meta_learner(X, info, ["k1", "k2"], u, seed=11)
    M = design(X, info["campaign"].astype(str).to_numpy(object), *schema(X, ["k1", "k2"]))
    y, t = info["responded"].to_numpy(float), info["treated"].to_numpy(bool)
    mu0 = train_booster(M[~t], y[~t], lgb_params, 30, "binary", 11)
    mu1 = train_booster(M[t], y[t], lgb_params, 30, "binary", 12)
    tau1 = train_booster(M[t], y[t] - mu0.predict(M[t]), lgb_params, 30, "regression", 13)
    tau0 = train_booster(M[~t], mu1.predict(M[~t]) - y[~t], lgb_params, 30, "regression", 14)
    for name, want in {"mu0": mu0, "mu1": mu1, "tau1": tau1, "tau0": tau0}.items():
        assert np.array_equal(got[name].predict(M), want.predict(M)), name


def _segmented_select(v, c, cust, dc):
    """The Lagrangian's inner step as it was (one segmented reduction over rows sorted by
    customer), for the block version to be checked against."""
    by_cust = np.lexsort((np.arange(len(v)), cust))
    seg = np.flatnonzero(np.r_[True, cust[by_cust][1:] != cust[by_cust][:-1]])

    def select(lam, mu):
        adj = (v - lam * c - mu[dc])[by_cust]
        best = np.maximum.reduceat(adj, seg)
        is_best = adj == np.repeat(best, np.diff(np.r_[seg, len(adj)]))
        first = np.maximum.reduceat(np.where(is_best, -np.arange(len(adj)), -len(adj)), seg)
        return by_cust[-first][best > 0]

    return select


def test_planner_blocks_pick_what_the_segmented_reduction_picked() -> None:
    """Each customer's best pair at given prices, from the dense blocks by number of pairs
    (``targeting._customer_blocks``), equals the segmented reduction it replaced, ties (the
    first row) and the customers' order included."""
    from cvm.campaigns.targeting import _customer_blocks, _Prices

    rng = np.random.default_rng(3)
    n = 5000
    cust = rng.integers(0, 1800, n)
    cust = pd.factorize(cust)[0]
    v = rng.choice([5.0, 10.0, 20.0, 40.0], n)  # many ties
    c = rng.choice([1.0, 2.0, 5.0], n)
    dc = rng.integers(0, 3, n)
    old = _segmented_select(v, c, cust, dc)
    parts = _customer_blocks(cust)
    assert sorted(np.concatenate([R.ravel() for _, R in parts]).tolist()) == list(range(n))
    back = np.argsort(np.concatenate([w for w, _ in parts]), kind="stable")
    prices = _Prices([(R, v[R], c[R], dc[R]) for _, R in parts], c, 3)
    for lam, mu in [(0.0, np.zeros(3)), (2.0, np.array([0.0, 5.0, 1.0])), (9.0, np.ones(3))]:
        b, r, _, _ = prices.best(prices.subset(), lam, mu)
        assert np.array_equal(r[back][b[back] > 0], old(lam, mu))


def _full_bisection(fits, hi):
    """The planner's bisection before issue 21 (session 11): every customer at every step."""
    if fits(0.0):
        return 0.0
    lo = 0.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if fits(mid) else (mid, hi)
    return hi


@pytest.mark.parametrize("seed", range(6))
def test_planner_bisections_on_undecided_customers_end_where_full_ones_end(seed: int) -> None:
    """The Lagrangian's bisections (``targeting._Prices``) evaluate only the customers a price
    could still change; they must end at the prices that evaluating every customer at every
    step gives, bit for bit: ties (even seeds) and continuous values (odd seeds)."""
    from cvm.campaigns.targeting import _customer_blocks, _Prices

    rng = np.random.default_rng(seed)
    n = 8000
    cust = pd.factorize(rng.integers(0, 3000, n))[0]
    if seed % 2:
        v, c = rng.gamma(2.0, 20.0, n), rng.choice([1.0, 2.0, 5.0, 0.3], n) * rng.uniform(1, 2, n)
    else:
        v = rng.choice([5.0, 10.0, 20.0, 40.0], n) * rng.choice([1.0, 1.0, 0.37], n)
        c = rng.choice([1.0, 2.0, 5.0, 0.3], n)
    dc = rng.integers(0, 4, n)
    blocks = [(R, v[R], c[R], dc[R]) for _, R in _customer_blocks(cust)]
    prices = _Prices(blocks, c, 4)

    def taken(lam: float, mu: np.ndarray) -> np.ndarray:
        b, r, _, _ = prices.best(prices.subset(), lam, mu)
        return r[b > 0]

    mu = rng.choice([0.0, 0.0, 3.0, 11.0], 4)
    hi_lam, hi_mu = float(np.max(v / c)) + 1.0, float(np.max(v)) + 1.0
    for budget in (50.0, 400.0, 2500.0, 1e9):
        want = _full_bisection(lambda x, b=budget: c[taken(x, mu)].sum() <= b, hi_lam)
        assert prices.smallest_lam(mu, budget, hi_lam) == want
    lam = 0.7
    for k in range(4):
        for cap in (0.0, 40.0, 300.0, 1e9):

            def fits(m: float, k: int = k, cap: float = cap) -> bool:
                mm = mu.copy()
                mm[k] = m
                return bool(np.bincount(dc[taken(lam, mm)], minlength=4)[k] <= cap)

            assert prices.smallest_mu(lam, mu, k, cap, hi_mu) == _full_bisection(fits, hi_mu)


@pytest.mark.parametrize("fill", [None, 0])
def test_reindex_on_arrow_lookups_equals_pandas_reindex(fill) -> None:
    """``ids.reindex`` (positions in Arrow, values taken) gives what ``reindex`` gives: values,
    missing ones, dtypes (int promoted without a fill, bool to object, text, dates, categories)
    and the names."""
    from cvm.data.ids import reindex

    have = pd.Index(["C3", "C1", "C2", "C5"], dtype="str", name="customer_id")
    want = pd.Index(["C1", "C9", "C5", "C3", "C1"][:4], dtype="str", name="customer_id")
    frame = pd.DataFrame(
        {
            "f": [1.5, np.nan, 3.0, 4.0],
            "i": [1, 2, 3, 4],
            "b": [True, False, True, False],
            "s": pd.Series(["a", None, "c", "d"], dtype="str"),
            "d": pd.to_datetime(["2024-01-01", None, "2024-03-01", "2024-04-01"]),
            "k": pd.Categorical(["x", "y", "x", "y"]),
        },
        index=have,
    )
    for col in frame.columns:
        if fill is not None and col in ("b", "s", "d", "k"):
            continue
        pd.testing.assert_series_equal(
            reindex(frame[col], want, fill_value=fill), frame[col].reindex(want, fill_value=fill)
        )
    if fill is None:
        pd.testing.assert_frame_equal(reindex(frame, want), frame.reindex(want))
    empty = pd.Series(dtype=float, index=pd.Index([], dtype="str"))
    pd.testing.assert_series_equal(reindex(empty, want), empty.reindex(want))


@pytest.mark.parametrize("kind", ["distinct", "ties", "nan", "margins"])
def test_qini_interval_without_a_sort_per_resample_equals_the_bootstrap(kind: str) -> None:
    """``qini_ci`` (one sort, each resample a count and a repeat) gives the interval
    ``bootstrap_ci(qini_coefficient, ...)`` gives, to the bit; with equal predictions (whose
    order in a resample follows the draw) it sorts each resample as before."""
    from cvm.campaigns.uplift_metrics import qini_ci, qini_coefficient
    from cvm.models.metrics import bootstrap_ci

    rng = np.random.default_rng(21)
    n = 3000
    u = rng.normal(size=n)
    if kind == "ties":
        u = np.round(u, 1)
    if kind == "nan":
        u[::50] = np.nan
    t = rng.random(n) < 0.8
    y = (rng.random(n) < 0.2 + 0.05 * t).astype(float)
    if kind == "margins":
        y = y * rng.gamma(2.0, 300.0, size=n) - 40.0 * t
    want = bootstrap_ci(qini_coefficient, (u, y, t), 100, 0.95, 3)
    assert want is not None
    assert qini_ci(u, y, t, 100, 0.95, 3) == want


def test_uplift_parts_side_by_side_equal_one_after_another() -> None:
    """``fit_uplift`` fits the response learner, the spend and margin learner and the
    out-of-time check in threads up to ``uplift.parallel_max_contacts`` contacts: the model
    (boosters, margin coefficients, every metric) is the one the parts give one by one."""
    from cvm.campaigns.catalogue import load_catalogue
    from cvm.campaigns.uplift import fit_uplift
    from cvm.campaigns.uplift_store import to_json
    from cvm.fileio import dumps
    from support.uplift_world import uplift_world

    tables, feats, _ = uplift_world(seed=4, n=3000, months=10)
    got = {}
    for cap in (0, 10**9):
        cfg = load_config("campaigns", {"uplift": {"parallel_max_contacts": cap}})
        model = fit_uplift(
            tables,
            lambda t, d: feats,
            pd.Timestamp("2026-10-31"),
            cfg=cfg,
            catalogue=load_catalogue(cfg),
            seed=1,
        )
        assert model.learned and model.metrics.get("out_of_time")
        got[cap] = dumps(to_json(model))
    assert got[0] == got[10**9]
