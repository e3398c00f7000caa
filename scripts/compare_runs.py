"""Behaviour-identity check: two monthly runs of the same data and seed, compared value by value.

A refactor or a speed change must not change what the monthly run publishes. Make a reference
run from the commit before the change, another after it, and compare them: ``scores.parquet``,
every ``campaigns/*.csv`` and ``leads/*.csv`` must hold the same values (same columns, same rows
in the same order; exact, NaN equal to NaN). ``--all`` also compares the campaign and artifact
frames, the artifacts' JSON and ``metrics.json`` (clocks and folders left out); ``--tol`` allows
an absolute difference on numbers (0, the default: value-identical).

    python scripts/compare_runs.py run --out /tmp/ref --customers 8000 --seed 7   # before
    python scripts/compare_runs.py run --out /tmp/new --customers 8000 --seed 7   # after
    python scripts/compare_runs.py compare /tmp/ref /tmp/new                       # exit 0: same
    python scripts/compare_runs.py compare --all reports_before/2026-09 reports_after/2026-09

``run`` simulates the world into OUT/data (once), then runs ``cvm monthly --profile demo`` for
the month of its last visit into OUT/reports. ``compare`` takes two OUT folders or two published
run folders, prints one line per file (``same``, or ``DIFF`` and what differs) and exits 1 when
anything differs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PUBLISHED = ("scores.parquet", "campaigns/*.csv", "leads/*.csv")
"""The published files whose values must not change (globs under a run folder)."""
ALL = (*PUBLISHED, "campaigns/*.parquet", "artifacts/*.parquet", "artifacts/*.json", "metrics.json")
"""``--all``: the published files, the campaign and artifact frames, the JSON records."""
IGNORED_JSON_KEYS = {
    "timings_seconds",
    "train_seconds",
    "seconds",
    "created",
    "created_at",
    "started",
    "finished",
    "run_dir",
    "data",
    "path",
    "versions",
}
"""JSON keys that legitimately differ between two runs (clocks, folders)."""


def run(out: Path, customers: int, seed: int) -> Path:
    """Simulate (if missing) and run the month of the last visit; returns the run folder."""
    cvm = [sys.executable, "-m", "cvm.cli"]
    data = out / "data"
    if not (data / "visits.parquet").exists():
        simulate = ["simulate", "--customers", str(customers), "--seed", str(seed)]
        subprocess.run([*cvm, *simulate, "--out", str(data)], check=True)
    last = pd.read_parquet(data / "visits.parquet", columns=["visit_date"])["visit_date"].max()
    as_of = (pd.Timestamp(last) + pd.offsets.MonthEnd(0)).strftime("%Y-%m-%d")
    monthly = ["monthly", "--data", str(data), "--as-of", as_of, "--out", str(out / "reports")]
    subprocess.run([*cvm, *monthly, "--profile", "demo", "--force"], check=True)
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


def _frame(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def compare_frames(a: pd.DataFrame, b: pd.DataFrame, tol: float = 0.0) -> str | None:
    """None when equal (exactly, dtypes included, when ``tol`` is 0; numbers within ``tol``
    otherwise), else what differs."""
    if list(a.columns) != list(b.columns):
        return f"columns differ: {sorted(set(a.columns) ^ set(b.columns)) or list(b.columns)}"
    if len(a) != len(b):
        return f"rows differ: {len(a)} vs {len(b)}"
    if not a.index.equals(b.index):
        return "index differs"
    if tol == 0:
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=True)
            return None
        except AssertionError as err:
            first = str(err).splitlines()[0]
    else:
        first = ""
    out = []
    for c in a.columns:
        x, y = a[c], b[c]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            xa = x.to_numpy(dtype=float, na_value=np.nan)
            ya = y.to_numpy(dtype=float, na_value=np.nan)
            nan = np.isnan(xa) != np.isnan(ya)
            both = ~np.isnan(xa) & ~np.isnan(ya)
            d = float(np.abs(xa - ya)[both].max()) if both.any() else 0.0
            if nan.any() or d > tol:
                rows = int(((np.abs(xa - ya) > tol) & both | nan).sum())
                out.append(f"{c}: max |diff| {d:.3g}, {int(nan.sum())} missing differ, {rows} rows")
        else:
            xo = x.astype("object").where(x.notna(), None).to_numpy()
            yo = y.astype("object").where(y.notna(), None).to_numpy()
            if (ne := xo != yo).any():
                out.append(f"{c}: {int(ne.sum())} cells differ")
    if out:
        return "; ".join(out)
    return first or None  # tol 0: the same values, another dtype (the assertion says which)


def _strip(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _strip(v) for k, v in x.items() if k not in IGNORED_JSON_KEYS}
    if isinstance(x, list):
        return [_strip(v) for v in x]
    return x


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def json_differences(a: Any, b: Any, tol: float = 0.0, path: str = "") -> list[str]:
    """Where two JSON values differ (numbers within ``tol`` and NaN against NaN are equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}/{k}: only in one run")
            else:
                out += json_differences(a[k], b[k], tol, f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [
            d for x, y in zip(a, b, strict=True) for d in json_differences(x, y, tol, path + "[]")
        ]
    if _number(a) and _number(b):
        if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
            return []
        return [] if abs(a - b) <= tol else [f"{path}: {a} vs {b}"]
    return [] if a == b else [f"{path}: {str(a)[:60]} vs {str(b)[:60]}"]


def compare_runs(
    a: Path, b: Path, everything: bool = False, tol: float = 0.0
) -> dict[str, str | None]:
    """Per file (relative path) of run folders ``a`` and ``b``: None when equal, else what
    differs. The published files (:data:`PUBLISHED`), or with ``everything`` :data:`ALL`."""
    patterns = ALL if everything else PUBLISHED
    files = sorted({str(p.relative_to(r)) for r in (a, b) for g in patterns for p in r.glob(g)})
    res: dict[str, str | None] = {}
    for rel in files:
        if rel.endswith("_phases.json"):  # the steps' own timings
            continue
        pa, pb = a / rel, b / rel
        if not pa.exists() or not pb.exists():
            res[rel] = f"only in {a if pa.exists() else b}"
        elif pa.suffix == ".json":
            d = json_differences(
                _strip(json.loads(pa.read_text())), _strip(json.loads(pb.read_text())), tol
            )
            res[rel] = "; ".join(d[:5]) if d else None
        else:
            res[rel] = compare_frames(_frame(pa), _frame(pb), tol)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="simulate and run one month into OUT")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--customers", type=int, default=8000)
    r.add_argument("--seed", type=int, default=7)
    c = sub.add_parser("compare", help="compare two runs (OUT folders or published run folders)")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    c.add_argument("--all", action="store_true", help="also the artifacts and metrics.json")
    c.add_argument("--tol", type=float, default=0.0, help="absolute tolerance on numbers")
    args = ap.parse_args(argv)
    if args.cmd == "run":
        print(run(args.out, args.customers, args.seed))
        return 0
    a, b = run_folder(args.a), run_folder(args.b)
    res = compare_runs(a, b, args.all, args.tol)
    for rel, why in res.items():
        print(f"{'same' if why is None else 'DIFF'}  {rel}" + ("" if why is None else f": {why}"))
    n = sum(v is not None for v in res.values())
    tol = f" (tol {args.tol})" if args.tol else ""
    print(f"{len(res) - n} of {len(res)} files of {a} and {b} identical{tol}")
    return 1 if n or not res else 0


if __name__ == "__main__":
    sys.exit(main())
