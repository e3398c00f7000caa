"""Score/campaign writers: Parquet, CSV, SQLite (atomic, one transaction) and a real PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from glob import glob
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from cvm.config import CvmError
from cvm.data.writers import export_run, write_sql, write_table

FRAME = pd.DataFrame(
    {"customer_id": ["C1", "C2"], "churn_probability": [0.1, None], "predicted_value": [100.0, 0.0]}
)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_files_replace_and_append(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"scores{suffix}"
    write_table(FRAME, out)
    write_table(FRAME, out, if_exists="append")
    back = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    assert len(back) == 4 and list(back.columns) == list(FRAME.columns)
    write_table(FRAME, out)
    assert len(pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)) == 2
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temp files left
    with pytest.raises(CvmError, match=".parquet or .csv"):
        write_table(FRAME, tmp_path / "scores.xlsx")


def test_sqlite_is_one_transaction(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cvm.db'}"
    write_table(FRAME, url, table="cvm_scores")
    write_table(FRAME, url, table="cvm_scores", if_exists="append")
    eng = sa.create_engine(url)
    assert len(pd.read_sql_table("cvm_scores", eng)) == 4
    bad = pd.DataFrame({"customer_id": ["X"], "payload": [{"not": "storable"}]})
    with pytest.raises(CvmError, match="nothing was written"):
        write_sql({"cvm_scores": FRAME.iloc[:1], "cvm_campaigns": bad}, url)
    # the failed replace rolled back: the old table is intact, the new one absent
    assert len(pd.read_sql_table("cvm_scores", eng)) == 4
    assert "cvm_campaigns" not in sa.inspect(eng).get_table_names()
    eng.dispose()


def test_export_run_writes_scores_and_campaign_lists(tmp_path: Path) -> None:
    run = tmp_path / "2024-06"
    (run / "campaigns").mkdir(parents=True)
    FRAME.to_parquet(run / "scores.parquet", index=False)
    pd.DataFrame({"customer_id": ["C1"], "campaign": ["x"], "group": ["target"]}).to_csv(
        run / "campaigns" / "service.csv", index=False
    )
    url = f"sqlite:///{tmp_path / 'cvm.db'}"
    export_run(run, url)
    eng = sa.create_engine(url)
    camp = pd.read_sql_table("cvm_campaigns", eng)
    assert camp.loc[0, "department"] == "service" and camp.loc[0, "as_of"] == "2024-06"
    assert len(pd.read_sql_table("cvm_scores", eng)) == 2
    eng.dispose()


# --------------------------------------------------------------------------- PostgreSQL
def _pg_bin() -> Path | None:
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_url():
    """A throwaway PostgreSQL cluster on a free port (as user postgres when run as root)."""
    pytest.importorskip("psycopg", reason="psycopg (dev extra) is not installed")
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries missing: run scripts/install-sysdeps.sh")
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: initdb refuses root")
    base = Path(tempfile.mkdtemp(prefix="cvm-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    prefix: list[str] = []
    if as_root:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, *cmd], check=True, capture_output=True, timeout=120)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "cvm")
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-l",
            str(base / "log"),
            "-o",
            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
        yield f"postgresql+psycopg://cvm@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_postgresql_write_and_read(postgres_url: str, tmp_path: Path) -> None:
    from cvm.data.loaders import load_tables

    write_table(FRAME, postgres_url, table="cvm_scores")
    write_table(FRAME, postgres_url, table="cvm_scores", if_exists="append")
    eng = sa.create_engine(postgres_url)
    assert len(pd.read_sql_table("cvm_scores", eng)) == 4
    bad = pd.DataFrame({"customer_id": ["X"], "payload": [{"not": "storable"}]})
    with pytest.raises(CvmError, match="nothing was written"):
        write_sql({"cvm_scores": FRAME.iloc[:1], "cvm_campaigns": bad}, postgres_url)
    assert len(pd.read_sql_table("cvm_scores", eng)) == 4
    # input tables come back through the loader
    visits = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "visit_date": ["2024-01-05", "2024-02-01"],
            "amount": [100.0, 250.5],
        }
    )
    write_table(visits, postgres_url, table="visits")
    loaded = load_tables(postgres_url, ["visits"])
    assert loaded["visits"]["amount"].sum() == pytest.approx(350.5)
    eng.dispose()
