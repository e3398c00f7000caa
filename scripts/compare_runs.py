"""Behaviour-identity check: a reference monthly run on simulated data, compared value by value.

Refactors must not change what the monthly run publishes. Make a reference run from the commit
before the change, another after it, and compare the published files: ``scores.parquet``, every
``campaigns/*.csv`` and ``leads/sales_leads.csv`` must hold the same values (same columns, same
rows in the same order; floats compared exactly, NaN equal to NaN).

    python scripts/compare_runs.py run --out /tmp/ref --customers 8000 --seed 7   # before
    python scripts/compare_runs.py run --out /tmp/new --customers 8000 --seed 7   # after
    python scripts/compare_runs.py compare /tmp/ref /tmp/new                       # exit 0: same

``run`` simulates the world into OUT/data (once), then runs ``cvm monthly --profile demo`` for
the month of its last visit into OUT/reports. ``compare`` takes the two OUT folders (or two
published run folders) and exits 1 listing every file that differs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd

PUBLISHED = ("scores.parquet", "campaigns/*.csv", "leads/*.csv")
"""The published files whose values must not change (globs under a run folder)."""


def run(out: Path, customers: int, seed: int) -> Path:
    """Simulate (if missing) and run the month of the last visit; returns the run folder."""
    cvm = [sys.executable, "-m", "cvm.cli"]
    data = out / "data"
    if not (data / "visits.parquet").exists():
        subprocess.run(
            [
                *cvm,
                "simulate",
                "--customers",
                str(customers),
                "--seed",
                str(seed),
                "--out",
                str(data),
            ],
            check=True,
        )
    last = pd.read_parquet(data / "visits.parquet", columns=["visit_date"])["visit_date"].max()
    as_of = (pd.Timestamp(last) + pd.offsets.MonthEnd(0)).strftime("%Y-%m-%d")
    subprocess.run(
        [
            *cvm,
            "monthly",
            "--data",
            str(data),
            "--as-of",
            as_of,
            "--out",
            str(out / "reports"),
            "--profile",
            "demo",
            "--force",
        ],
        check=True,
    )
    return out / "reports" / as_of[:7]


def run_folder(path: Path) -> Path:
    """A published run folder: ``path`` itself, or the one month under ``path/reports``."""
    if (path / "scores.parquet").exists():
        return path
    months = sorted(p for p in (path / "reports").glob("????-??") if p.is_dir())
    if len(months) != 1:
        raise SystemExit(
            f"{path}: expected one published month under reports/, found {[m.name for m in months]}"
        )
    return months[0]


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def differences(a: Path, b: Path) -> list[str]:
    """What differs between the published files of run folders ``a`` and ``b`` ([] if none)."""
    names = sorted({str(p.relative_to(r)) for r in (a, b) for g in PUBLISHED for p in r.glob(g)})
    out = []
    for name in names:
        fa, fb = a / name, b / name
        if not fa.exists() or not fb.exists():
            out.append(f"{name}: only in {a if fa.exists() else b}")
            continue
        x, y = _read(fa), _read(fb)
        if list(x.columns) != list(y.columns):
            out.append(f"{name}: columns differ: {list(x.columns)} vs {list(y.columns)}")
        elif len(x) != len(y):
            out.append(f"{name}: {len(x)} rows vs {len(y)}")
        else:
            try:
                pd.testing.assert_frame_equal(x, y, check_exact=True)
            except AssertionError as err:
                out.append(f"{name}: {str(err).splitlines()[0]} ...")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="simulate and run one month into OUT")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--customers", type=int, default=8000)
    r.add_argument("--seed", type=int, default=7)
    c = sub.add_parser("compare", help="compare the published files of two runs")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "run":
        print(run(args.out, args.customers, args.seed))
        return 0
    a, b = run_folder(args.a), run_folder(args.b)
    diff = differences(a, b)
    files = sorted({str(p.relative_to(a)) for g in PUBLISHED for p in a.glob(g)})
    if diff:
        print("DIFFERENT:\n  " + "\n  ".join(diff))
        return 1
    print(f"identical: {len(files)} published files of {a} and {b}: " + ", ".join(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
