"""cvm.engine on a real Dask LocalCluster: per-store tasks give the local results, large
training frames train through lightgbm.dask, an unreachable scheduler is a clear error."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cvm import engine
from cvm.config import CvmError, load_config

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dask")]


def _square_sum(part: pd.DataFrame, k: float) -> pd.Series:
    return (part["x"] ** 2 * k).rename("y")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    import os

    before = dict(os.environ)
    c = engine.Cluster("dask", None, load_config()).start()
    # the nannies' worker settings (OMP_NUM_THREADS=1 …) stay out of this process, whose
    # notebook kernels would inherit them and round BLAS sums unlike --engine local
    assert dict(os.environ) == before
    run = tmp_path_factory.mktemp("run")
    c.record(run)
    yield c, run
    engine._ACTIVE.clear()
    c.close()


def test_map_stores_on_the_cluster_equals_local(cluster, tmp_path) -> None:
    _, run = cluster
    parts = [pd.DataFrame({"x": np.arange(i, i + 5, dtype=float)}) for i in range(4)]
    local = engine.map_stores(tmp_path, _square_sum, parts, 3.0)  # no engine.json: local
    remote = engine.map_stores(run, _square_sum, parts, 3.0)
    for a, b in zip(local, remote, strict=True):
        pd.testing.assert_series_equal(a, b)
    assert json.loads((run / "artifacts" / "engine_tasks.json").read_text())["_square_sum"] == 4


def test_a_large_training_frame_trains_through_lightgbm_dask(cluster, monkeypatch) -> None:
    from cvm.models import metrics as M
    from cvm.models import trainer

    _, run = cluster
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.standard_normal((4000, 5)), columns=list("abcde"))
    y = (X["a"] + 0.5 * X["b"] + rng.standard_normal(4000) > 0).astype(int).to_numpy()
    params = trainer.booster_params(
        "binary", seed=1, num_threads=1, extra={"learning_rate": 0.1, "num_leaves": 7}
    )
    engine.activate(run)
    monkeypatch.setattr(engine, "training_client", engine.training_client)
    real = load_config

    def tiny(name="default", *a, **k):
        cfg = real(name, *a, **k)
        cfg.setdefault("engine", {})["train_memory_budget_mb"] = 1e-6
        return cfg

    monkeypatch.setattr("cvm.config.load_config", tiny)
    assert engine.training_client(10) is not None
    train = trainer.dataset(X.iloc[:3000], y[:3000])
    valid = trainer.dataset(X.iloc[3000:], y[3000:], reference=train)
    booster = trainer.fit_booster(params, train, 60, valid, 10)
    assert 1 <= booster.best_iteration <= 60
    p = booster.predict(X.iloc[3000:], num_iteration=booster.best_iteration)
    assert M.auc(y[3000:], p) > 0.8
    engine._ACTIVE.clear()
    assert engine.training_client(10**12) is None  # local engine: always the driver


def test_unreachable_scheduler_names_the_address_and_the_fix() -> None:
    with pytest.raises(CvmError, match=r"tcp://127\.0\.0\.1:9.*dask scheduler"):
        engine.check_scheduler("tcp://127.0.0.1:9", 2)
    with pytest.raises(CvmError, match="--scheduler needs --engine dask"):
        engine.Cluster("local", "tcp://127.0.0.1:9", load_config())
    with pytest.raises(CvmError, match="--engine must be one of"):
        engine.Cluster("spark", None, load_config())


def test_blas_threads_caps_numpy_blas_pool_and_zero_leaves_it() -> None:
    """``engine.blas_threads`` (applied by ``RunContext.open``) caps OpenBLAS's thread pool:
    its threads contend with LightGBM's OpenMP threads on a small machine."""
    from threadpoolctl import threadpool_info, threadpool_limits

    np.ones((4, 4)) @ np.ones((4, 4))  # BLAS loaded
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    if not blas:
        pytest.skip("numpy reports no BLAS thread pool here")
    with threadpool_limits(limits=2, user_api="blas"):
        before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        engine.limit_blas_threads(0)
        assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == before
        engine.limit_blas_threads(1)
        assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
    assert load_config("default")["engine"]["blas_threads"] == 1


def test_local_map_keeps_order_and_holds_at_most_its_threads() -> None:
    """``local_map``: results in the items' order whatever finishes first, never more than
    ``threads`` items drawn ahead of the results, errors raised; one thread runs in place."""
    import threading
    import time

    drawn, done, lock = [], [], threading.Lock()
    peak = [0]

    def items():
        for i in range(9):
            with lock:
                drawn.append(i)
                peak[0] = max(peak[0], len(drawn) - len(done))
            yield i

    def slow(i: int) -> int:
        time.sleep(0.02 * (i % 3 == 0))  # every third item finishes last
        with lock:
            done.append(i)
        return i * i

    assert engine.local_map(slow, items(), 2) == [i * i for i in range(9)]
    assert peak[0] <= 2
    assert engine.local_map(lambda i: i + 1, range(4), 1) == [1, 2, 3, 4]
    with pytest.raises(ZeroDivisionError):
        engine.local_map(lambda i: 1 // (i - 2), range(4), 2)
