"""Model bundles: exact round trip, deterministic versions, tamper and version checks,
a loader that needs no training code, ONNX parity."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cvm.config import load_config
from cvm.data.hashing import tables_hash
from cvm.features.snapshot import build_features
from cvm.models.bundle import save_bundle
from cvm.models.bundle_loader import CHECKSUM_FILE, BundleError, load_bundle, sha256_bytes
from support.toy import toy_tables

AS_OF = "2024-12-31"
SMALL = {
    "churn": {
        "tuning": [{"num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 20}],
        "num_boost_round": 100,
        "early_stopping_rounds": 10,
    },
    "training": {"max_snapshots": 3},
    "value": {"num_boost_round": 60, "params": {"min_data_in_leaf": 20}},
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from cvm.models.churn import train_churn
    from cvm.models.value import train_value

    t = toy_tables(300, seed=1)
    cfg = load_config(overrides=SMALL)
    models = {"churn": train_churn(t, AS_OF, cfg), "value": train_value(t, AS_OF, cfg)}
    out = tmp_path_factory.mktemp("models")
    h = tables_hash(t)
    paths = {
        n: save_bundle(m, n, out, as_of=AS_OF, data_hash=h, cfg=cfg) for n, m in models.items()
    }
    return {
        "tables": t,
        "cfg": cfg,
        "models": models,
        "paths": paths,
        "out": out,
        "X": build_features(t, AS_OF, cfg),
    }


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _rewrite(bundle: Path, name: str, data: bytes) -> None:
    """Change a file and re-sign SHA256SUMS (a consistent but incompatible bundle)."""
    (bundle / name).write_bytes(data)
    files = sorted(p.name for p in bundle.iterdir() if p.name != CHECKSUM_FILE)
    (bundle / CHECKSUM_FILE).write_text(
        "".join(f"{sha256_bytes((bundle / f).read_bytes())}  {f}\n" for f in files)
    )


def test_layout_and_exact_round_trip(trained) -> None:
    X, m = trained["X"], trained["models"]
    churn, value = load_bundle(trained["paths"]["churn"]), load_bundle(trained["paths"]["value"])
    for b in (churn, value):
        names = {p.name for p in b.path.iterdir()}
        assert {
            "bundle.json",
            "feature_spec.json",
            "metrics.json",
            "MODEL_CARD.md",
            CHECKSUM_FILE,
        } <= names
        assert not any(n.endswith((".pkl", ".pickle", ".joblib")) for n in names)
        assert b.spec["asof_logic_version"] and b.feature_names == list(m[b.name].feature_names)
        assert b.meta["data_hash"] == tables_hash(trained["tables"])
        assert b.meta["training_window"]["validation_snapshots"]
    assert (churn.path / "calibrator.json").is_file()
    np.testing.assert_array_equal(churn.churn_probability(X), m["churn"].predict_proba(X))
    proba = churn.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1)
    assert set(np.unique(churn.predict(X))) <= {0, 1}
    np.testing.assert_array_equal(value.predict(X), m["value"].predict(X))
    np.testing.assert_array_equal(value.lifetime_value(X), m["value"].lifetime_value(X))
    # column order does not matter; a missing feature is a clear error
    np.testing.assert_array_equal(
        churn.churn_probability(X[X.columns[::-1]]), churn.churn_probability(X)
    )
    with pytest.raises(BundleError, match="gap_cv"):
        churn.predict_proba(X.drop(columns="gap_cv"))


def test_version_is_deterministic(trained, tmp_path) -> None:
    again = save_bundle(
        trained["models"]["churn"],
        "churn",
        tmp_path,
        as_of=AS_OF,
        data_hash=tables_hash(trained["tables"]),
        cfg=trained["cfg"],
    )
    first = trained["paths"]["churn"]
    assert again.name == first.name and again.name.startswith("2024-12-")
    assert (again / CHECKSUM_FILE).read_bytes() == (first / CHECKSUM_FILE).read_bytes()


def test_no_customer_data_in_bundles(trained) -> None:
    ids = trained["tables"]["visits"]["customer_id"].astype(str).unique()[:50]
    for path in trained["paths"].values():
        text = "".join(p.read_text(encoding="utf-8", errors="ignore") for p in path.iterdir())
        assert not any(i in text for i in ids)


def test_tampered_file_is_named(trained, tmp_path) -> None:
    b = _copy(trained["paths"]["churn"], tmp_path / "b")
    model = b / "churn.lgb.txt"
    model.write_text(model.read_text().replace("leaf_value=", "leaf_value=1", 1))
    with pytest.raises(BundleError, match="churn.lgb.txt has been modified"):
        load_bundle(b)
    c = _copy(trained["paths"]["churn"], tmp_path / "c")
    (c / "calibrator.json").unlink()
    with pytest.raises(BundleError, match="calibrator.json is listed .* but missing"):
        load_bundle(c)
    d = _copy(trained["paths"]["churn"], tmp_path / "d")
    (d / "extra.lgb.txt").write_text("x")
    with pytest.raises(BundleError, match="extra.lgb.txt is not listed"):
        load_bundle(d)


def test_incompatible_versions_are_refused(trained, tmp_path) -> None:
    src = trained["paths"]["value"]
    meta = json.loads((src / "bundle.json").read_text())
    b = _copy(src, tmp_path / "fmt")
    _rewrite(b, "bundle.json", json.dumps({**meta, "format_version": 99}).encode())
    with pytest.raises(BundleError, match="format_version 99 is newer .* upgrade cvm"):
        load_bundle(b)
    c = _copy(src, tmp_path / "lgb")
    _rewrite(
        c,
        "bundle.json",
        json.dumps({**meta, "packages": {**meta["packages"], "lightgbm": "3.3.5"}}).encode(),
    )
    with pytest.raises(BundleError, match="lightgbm 3.3.5.*install lightgbm 3.x"):
        load_bundle(c)
    from cvm.scoring import score_tables

    d = _copy(src, tmp_path / "asof")
    spec = json.loads((d / "feature_spec.json").read_text())
    _rewrite(d, "feature_spec.json", json.dumps({**spec, "asof_logic_version": "0"}).encode())
    with pytest.raises(BundleError, match="as-of logic version 0"):
        score_tables(trained["tables"], AS_OF, {"value": load_bundle(d)})


def test_cli_score_fails_naming_the_tampered_file(trained, tmp_path) -> None:
    from typer.testing import CliRunner

    from cvm.cli import app

    models = tmp_path / "models"
    for name, p in trained["paths"].items():
        _copy(p, models / name / p.name)
    data = tmp_path / "data"
    data.mkdir()
    for name, df in trained["tables"].items():
        df.to_parquet(data / f"{name}.parquet", index=False)
    runner = CliRunner()
    ok = runner.invoke(
        app,
        [
            "score",
            "--models",
            str(models),
            "--data",
            str(data),
            "--as-of",
            AS_OF,
            "--out",
            str(tmp_path / "s.csv"),
        ],
    )
    assert ok.exit_code == 0, ok.output
    s = pd.read_csv(tmp_path / "s.csv", dtype={"customer_id": str}).set_index("customer_id")
    X = trained["X"]
    np.testing.assert_allclose(
        s.loc[X.index, "predicted_value"], trained["models"]["value"].predict(X), rtol=1e-12
    )
    target = models / "value" / trained["paths"]["value"].name / "spend.lgb.txt"
    target.write_text(target.read_text() + "\n")
    bad = runner.invoke(
        app,
        [
            "score",
            "--models",
            str(models),
            "--data",
            str(data),
            "--as-of",
            AS_OF,
            "--out",
            str(tmp_path / "s2.csv"),
        ],
    )
    assert bad.exit_code == 2 and "spend.lgb.txt" in bad.output
    assert not (tmp_path / "s2.csv").exists()


_STANDALONE = """
import json, sys
import numpy as np, pandas as pd
from cvm.models.bundle_loader import load_bundle
X = pd.read_parquet(sys.argv[1])
churn, value = load_bundle(sys.argv[2]), load_bundle(sys.argv[3])
np.save(sys.argv[4], np.stack([churn.predict_proba(X)[:, 1], value.predict(X)]))
cvm = sorted(m for m in sys.modules if m == "cvm" or m.startswith("cvm."))
print(json.dumps({"cvm": cvm}))
"""


def test_fresh_process_with_only_the_loader_scores_identically(trained, tmp_path) -> None:
    X = trained["X"]
    X.to_parquet(tmp_path / "X.parquet")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _STANDALONE,
            str(tmp_path / "X.parquet"),
            str(trained["paths"]["churn"]),
            str(trained["paths"]["value"]),
            str(tmp_path / "p.npy"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(loaded["cvm"]) <= {"cvm", "cvm.config", "cvm.models", "cvm.models.bundle_loader"}
    assert "cvm.models.churn" not in loaded["cvm"] and "cvm.models.value" not in loaded["cvm"]
    p = np.load(tmp_path / "p.npy")
    np.testing.assert_array_equal(p[0], trained["models"]["churn"].predict_proba(X))
    np.testing.assert_array_equal(p[1], trained["models"]["value"].predict(X))


def test_onnx_matches_lightgbm(trained) -> None:
    pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    from cvm.models.bundle_onnx import onnx_predict

    X = trained["X"]
    for path in trained["paths"].values():
        b = load_bundle(path)
        assert b.meta["model"].get("onnx"), "bundle saved without ONNX files"
        for part, fname in b.meta["model"]["onnx"].items():
            got = onnx_predict((path / fname).read_bytes(), b.to_matrix(X))
            want = b.raw(part, X)
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=fname)


@pytest.mark.slow
def test_cli_train_then_score(tmp_path) -> None:
    from typer.testing import CliRunner

    from cvm.cli import app

    data = tmp_path / "data"
    data.mkdir()
    for name, df in toy_tables(300, seed=2).items():
        df.to_parquet(data / f"{name}.parquet", index=False)
    runner = CliRunner()
    res = runner.invoke(
        app, ["train", "--data", str(data), "--as-of", AS_OF, "--out", str(tmp_path / "models")]
    )
    assert res.exit_code == 0, res.output
    names = {p.parent.parent.name for p in (tmp_path / "models").glob("*/*/bundle.json")}
    assert names == {"churn", "value"}
    url = f"sqlite:///{tmp_path / 'scores.db'}"
    res = runner.invoke(
        app,
        [
            "score",
            "--models",
            str(tmp_path / "models"),
            "--data",
            str(data),
            "--as-of",
            AS_OF,
            "--out",
            url,
        ],
    )
    assert res.exit_code == 0, res.output
    scores = pd.read_sql_table("cvm_scores", url)
    assert scores["customer_id"].is_unique and scores["churn_probability"].between(0, 1).any()


def test_symlinks_and_paths_outside_the_bundle_are_refused(trained, tmp_path) -> None:
    src = trained["paths"]["churn"]
    linked = _copy(src, tmp_path / "linked")
    outside = tmp_path / "elsewhere.txt"
    outside.write_bytes((linked / "churn.lgb.txt").read_bytes())
    (linked / "churn.lgb.txt").unlink()
    (linked / "churn.lgb.txt").symlink_to(outside)
    with pytest.raises(BundleError, match=r"churn.lgb.txt is a symbolic link \(to .*elsewhere"):
        load_bundle(linked)
    escaped = _copy(src, tmp_path / "escaped")
    sums = (escaped / CHECKSUM_FILE).read_text()
    digest = sha256_bytes(outside.read_bytes())
    (escaped / CHECKSUM_FILE).write_text(sums + f"{digest}  ../elsewhere.txt\n")
    with pytest.raises(BundleError, match="'../elsewhere.txt', which resolves outside the bundle"):
        load_bundle(escaped)


def test_signed_bundles_with_cvm_bundle_key(trained, tmp_path, monkeypatch) -> None:
    from cvm.models.bundle_loader import SIGNATURE_FILE

    monkeypatch.setenv("CVM_BUNDLE_KEY", "store-secret")
    m = trained["models"]["churn"]
    signed = save_bundle(
        m, "churn", tmp_path / "signed", as_of=AS_OF, data_hash="x", cfg=trained["cfg"]
    )
    assert (signed / SIGNATURE_FILE).read_text().startswith("hmac-sha256 ")
    assert load_bundle(signed).version == signed.name
    # the same files as an unsigned save, plus the signature
    assert sorted(p.name for p in signed.iterdir()) == sorted(
        [*(p.name for p in trained["paths"]["churn"].iterdir()), SIGNATURE_FILE]
    )
    # unsigned: refused while a key is set
    with pytest.raises(BundleError, match="is not signed"):
        load_bundle(trained["paths"]["churn"])
    # a calibrator edited with a recomputed SHA256SUMS: the signature no longer matches
    forged = _copy(signed, tmp_path / "forged")
    (forged / SIGNATURE_FILE).rename(tmp_path / "sig")
    _rewrite(forged, "calibrator.json", b'{"method": "identity"}\n')
    (tmp_path / "sig").rename(forged / SIGNATURE_FILE)
    with pytest.raises(BundleError, match="does not match SHA256SUMS"):
        load_bundle(forged)
    monkeypatch.setenv("CVM_BUNDLE_KEY", "another key")
    with pytest.raises(BundleError, match="signed with another key"):
        load_bundle(signed)
    monkeypatch.delenv("CVM_BUNDLE_KEY")
    assert load_bundle(signed).version == signed.name  # no key: checksums only


def test_cli_score_refuses_an_unsigned_bundle_when_a_key_is_set(
    trained, tmp_path, monkeypatch
) -> None:
    from typer.testing import CliRunner

    from cvm.cli import app

    data = tmp_path / "data"
    data.mkdir()
    for name, df in trained["tables"].items():
        df.to_parquet(data / f"{name}.parquet", index=False)
    monkeypatch.setenv("CVM_BUNDLE_KEY", "store-secret")
    res = CliRunner().invoke(
        app,
        [
            "score",
            "--models",
            str(trained["paths"]["churn"]),
            "--data",
            str(data),
            "--as-of",
            AS_OF,
            "--out",
            str(tmp_path / "s.csv"),
        ],
    )
    assert res.exit_code == 2 and "is not signed" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "s.csv").exists()


def test_new_owner_rates_travel_with_the_bundle(trained, tmp_path) -> None:
    """A bundle saved with the new-owner rates scores owners without a visit exactly as the
    monthly run's lookup does; one saved without them gives NaN, not a guess."""
    from cvm.models.new_owners import score_new_owners

    rates = {
        "n": 40,
        "edges": [3, 6, 12],
        "overall": {"churn": 0.5, "value": 300.0},
        "by_bin": {"0": {"churn": 0.2, "value": 500.0}, "2": {"churn": 0.6, "value": 100.0}},
        "cells": {"0|premium": {"churn": 0.1, "value": 900.0, "n": 10}},
    }
    owners = pd.DataFrame(
        {"months_since_purchase": [1.0, 1.0, 7.0, 4.0], "price_band": ["premium", "entry"] * 2},
        index=pd.Index(["N1", "N2", "N3", "N4"], name="customer_id"),
    )
    want = score_new_owners(owners, rates)
    np.testing.assert_allclose(want["churn_probability"], [0.1, 0.2, 0.6, 0.5])
    for name, col in (("churn", "churn_probability"), ("value", "predicted_value")):
        path = save_bundle(
            trained["models"][name],
            name,
            tmp_path,
            as_of=AS_OF,
            data_hash="h",
            cfg=trained["cfg"],
            new_owner_rates=rates,
        )
        b = load_bundle(path)
        assert b.meta["model"]["new_owners"] == "new_owners.json"
        np.testing.assert_array_equal(b.new_owner_scores(owners), want[col].to_numpy())
        assert np.isnan(load_bundle(trained["paths"][name]).new_owner_scores(owners)).all()
