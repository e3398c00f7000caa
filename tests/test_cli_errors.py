"""User errors anywhere in the CLI: exit 2 with a message naming the fix, nothing created, no
traceback; an internal error: exit 1 with one line naming the log that holds the traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cvm.cli import app

AS_OF = "2024-12-31"


def _data(folder: Path, customers: int = 40, visits_each: int = 4) -> Path:
    """A small valid export: ``customers`` with ``visits_each`` visits over two years."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    n = customers * visits_each
    days = rng.integers(0, 730, n)
    pd.DataFrame(
        {
            "customer_id": np.repeat([f"C{i:03d}" for i in range(customers)], visits_each),
            "visit_date": (pd.Timestamp("2023-01-01") + pd.to_timedelta(days, "D")),
            "amount": rng.gamma(2, 400, n).round(2),
        }
    ).to_csv(folder / "visits.csv", index=False)
    return folder


def _run(*args: str) -> object:
    res = CliRunner().invoke(app, list(args))
    assert "Traceback" not in res.output, res.output
    return res


@pytest.mark.parametrize(
    "flags, words",
    [
        (
            ["--horizon-months", "0"],
            "--horizon-months 0: choose a whole number of months from 1 to 36",
        ),
        (["--horizon-months", "37"], "from 1 to 36"),
        (["--budget", "-5"], "--budget -5.0: the campaign budget must be a positive"),
        (["--budget", "0"], "must be a positive"),
        (["--lang", "fr"], "--lang 'fr': choose one of zh, en"),
        (["--profile", "nosuch"], "--profile 'nosuch'"),
        (["--as-of", "2024-13-01"], "is not a date"),
    ],
)
def test_monthly_parameters_are_checked_first_and_nothing_is_created(tmp_path, flags, words):
    data = _data(tmp_path / "data")
    out = tmp_path / "reports"
    args = ["monthly", "--data", str(data), "--as-of", AS_OF, "--out", str(out), *flags]
    res = _run(*args)
    assert res.exit_code == 2 and words in res.output, res.output
    assert not out.exists()


@pytest.mark.parametrize(
    "as_of, words",
    [
        ("2020-01-31", "--as-of 2020-01-31 is before the first visit in the data (2023-"),
        ("2030-01-31", "more than 3 months after the last visit"),
    ],
)
def test_as_of_outside_the_data_names_the_date(tmp_path, as_of, words):
    data, out = _data(tmp_path / "data"), tmp_path / "reports"
    res = _run("monthly", "--data", str(data), "--as-of", as_of, "--out", str(out))
    assert res.exit_code == 2 and words in res.output, res.output
    assert not out.exists()
    res = _run(
        "score",
        "--models",
        str(tmp_path / "none"),
        "--data",
        str(data),
        "--as-of",
        as_of,
        "--out",
        str(tmp_path / "s.parquet"),
    )
    assert res.exit_code == 2 and words in res.output, res.output


def test_bad_data_creates_no_out_folder(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "visits.csv").write_text("customer_id,visit_date,amount\nC1,2024-01-02,abc\n")
    out = tmp_path / "reports"
    res = _run("monthly", "--data", str(data), "--as-of", AS_OF, "--out", str(out))
    assert res.exit_code == 2 and "visits.amount" in res.output
    assert not out.exists()


def test_one_row_of_visits_is_too_little_history(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "visits.csv").write_text("customer_id,visit_date,amount\nC1,2024-12-20,100\n")
    res = _run("monthly", "--data", str(data), "--as-of", AS_OF, "--out", str(tmp_path / "r"))
    assert res.exit_code == 2 and "run_checks.sufficiency.min_history_months" in res.output
    assert not (tmp_path / "r").exists()


def test_train_with_too_little_data_names_the_threshold_and_writes_nothing(tmp_path):
    data = _data(tmp_path / "data", customers=10)
    res = _run("train", "--data", str(data), "--as-of", AS_OF, "--out", str(tmp_path / "m"))
    assert res.exit_code == 2 and "nothing to train" in res.output
    assert "min_repeat_customers" in res.output and not (tmp_path / "m").exists()
    res = _run("train", "--data", str(data), "--as-of", AS_OF, "--horizon-months", "99")
    assert res.exit_code == 2 and "from 1 to 36" in res.output


def test_out_that_is_a_file(tmp_path):
    data = _data(tmp_path / "data")
    f = tmp_path / "reports"
    f.write_text("not a folder")
    res = _run("monthly", "--data", str(data), "--as-of", AS_OF, "--out", str(f))
    assert res.exit_code == 2 and f"--out {f} is a file, not a folder" in res.output
    res = _run("train", "--data", str(data), "--as-of", AS_OF, "--out", str(f))
    assert res.exit_code == 2 and "is a file" in res.output
    res = _run(
        "score",
        "--models",
        str(tmp_path),
        "--data",
        str(data),
        "--as-of",
        AS_OF,
        "--out",
        str(tmp_path),
    )
    assert res.exit_code == 2 and "is a folder; give a file name" in res.output


def test_missing_sqlite_database_creates_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = _run("validate", "--data", "sqlite:///missing.db")
    assert res.exit_code == 2 and "missing.db does not exist" in res.output
    res = _run("monthly", "--data", "sqlite:///missing.db", "--as-of", AS_OF)
    assert res.exit_code == 2 and "database file missing.db does not exist" in res.output
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def mount(tmp_path):
    """A tiny tmpfs (root only): ``mount(options)`` → its folder; unmounted afterwards."""
    made: list[Path] = []

    def _mount(options: str) -> Path:
        d = tmp_path / f"mnt{len(made)}"
        d.mkdir()
        r = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(d)],
            capture_output=True,
            check=False,
        )
        if r.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode()[:80]}")
        made.append(d)
        return d

    yield _mount
    for d in made:
        subprocess.run(["umount", str(d)], check=False)


def test_read_only_out(tmp_path, mount):
    data = _data(tmp_path / "data")
    ro = mount("ro,size=64k")
    res = _run("monthly", "--data", str(data), "--as-of", AS_OF, "--out", str(ro / "reports"))
    assert res.exit_code == 2 and f"{ro} is not writable" in res.output, res.output


def test_full_disk_is_exit_2_with_the_path_and_nothing_is_left(tmp_path, mount):
    data = _data(tmp_path / "data")
    full = mount("size=12k")
    out = full / "reports"
    res = _run("monthly", "--data", str(data), "--as-of", AS_OF, "--out", str(out))
    assert res.exit_code == 2 and "no space left on the device" in res.output, res.output
    assert str(full) in res.output and "choose another --out" in res.output
    assert [p.name for p in out.iterdir()] == []  # the run's temporary folder is removed
    res = _run("simulate", "--customers", "200", "--out", str(full / "sim"))
    assert res.exit_code == 2 and "no space left" in res.output


def test_internal_error_is_one_line_naming_the_log(tmp_path, monkeypatch):
    import cvm.run_checks

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cvm.run_checks, "assess", broken)
    log = tmp_path / "logs" / "error.log"
    monkeypatch.setenv("CVM_ERROR_LOG", str(log))
    data = _data(tmp_path / "data")
    res = _run("monthly", "--data", str(data), "--as-of", AS_OF, "--out", str(tmp_path / "r"))
    assert res.exit_code == 1
    assert f"internal error: RuntimeError: boom (the traceback is in {log})" in res.output
    assert "Traceback" in log.read_text() and "broken" in log.read_text()
    assert not (tmp_path / "r").exists()
