"""Compare the outputs of two monthly runs of the same data and seed (e.g. before and after a
speed change): scores, campaign lists and candidates, the lead list, every artifact frame and
the metrics. Prints one line per file — identical, or what differs and by how much — and
exits 1 when anything differs beyond ``--tol`` (absolute, on numbers; 0 = value-identical).

    python benchmarks/compare_runs.py reports_before/2026-09 reports_after/2026-09
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

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
"""Keys that legitimately differ between two runs (clocks, folders)."""


def _frame(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def compare_frames(a: pd.DataFrame, b: pd.DataFrame, tol: float) -> str | None:
    """None when equal (numbers within ``tol``), else what differs."""
    if list(a.columns) != list(b.columns):
        return f"columns differ: {sorted(set(a.columns) ^ set(b.columns))}"
    if len(a) != len(b):
        return f"rows differ: {len(a)} vs {len(b)}"
    if not a.index.equals(b.index):
        return "index differs"
    out = []
    for c in a.columns:
        x, y = a[c], b[c]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            xa, ya = (
                x.to_numpy(dtype=float, na_value=np.nan),
                y.to_numpy(dtype=float, na_value=np.nan),
            )
            nan = np.isnan(xa) != np.isnan(ya)
            d = np.nanmax(np.abs(xa - ya)) if len(xa) and not np.isnan(xa - ya).all() else 0.0
            if nan.any() or d > tol:
                out.append(
                    f"{c}: max |diff| {d:.3g}, {int(nan.sum())} missing differ, "
                    f"{int(((np.abs(xa - ya) > tol) | nan).sum())} rows"
                )
        else:
            ne = (
                x.astype("object").where(x.notna(), None).to_numpy()
                != y.astype("object").where(y.notna(), None).to_numpy()
            )
            if ne.any():
                out.append(f"{c}: {int(ne.sum())} cells differ")
    return "; ".join(out) or None


def _strip(x):
    if isinstance(x, dict):
        return {k: _strip(v) for k, v in x.items() if k not in IGNORED_JSON_KEYS}
    if isinstance(x, list):
        return [_strip(v) for v in x]
    return x


def _json_diff(a, b, tol: float, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}/{k}: only in one run")
            else:
                out += _json_diff(a[k], b[k], tol, f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [d for x, y in zip(a, b, strict=False) for d in _json_diff(x, y, tol, path + "[]")][
            :5
        ]
    if (
        isinstance(a, (int, float))
        and isinstance(b, (int, float))
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        if (
            (np.isnan(a) and np.isnan(b))
            if isinstance(a, float) and isinstance(b, float)
            else False
        ):
            return []
        return [] if abs(a - b) <= tol else [f"{path}: {a} vs {b}"]
    return [] if a == b else [f"{path}: {str(a)[:60]} vs {str(b)[:60]}"]


def compare_runs(a: Path, b: Path, tol: float = 0.0) -> dict[str, str | None]:
    """Per relative path: None when equal, else what differs."""
    res: dict[str, str | None] = {}
    patterns = (
        "scores.parquet",
        "campaigns/*.csv",
        "campaigns/*.parquet",
        "leads/*.csv",
        "artifacts/*.parquet",
        "artifacts/*.json",
        "metrics.json",
    )
    files = sorted(
        {p.relative_to(a) for pat in patterns for p in a.glob(pat)}
        | {p.relative_to(b) for pat in patterns for p in b.glob(pat)}
    )
    for rel in files:
        if rel.name.endswith("_phases.json"):
            continue
        pa, pb = a / rel, b / rel
        if not pa.exists() or not pb.exists():
            res[str(rel)] = "only in " + ("the second" if pb.exists() else "the first") + " run"
            continue
        if rel.suffix == ".json":
            d = _json_diff(
                _strip(json.loads(pa.read_text())), _strip(json.loads(pb.read_text())), tol
            )
            res[str(rel)] = "; ".join(d[:5]) if d else None
        else:
            res[str(rel)] = compare_frames(_frame(pa), _frame(pb), tol)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("first", type=Path)
    ap.add_argument("second", type=Path)
    ap.add_argument("--tol", type=float, default=0.0)
    args = ap.parse_args()
    res = compare_runs(args.first, args.second, args.tol)
    for rel, why in res.items():
        print(f"{'same' if why is None else 'DIFF'}  {rel}" + ("" if why is None else f": {why}"))
    n = sum(v is not None for v in res.values())
    print(
        f"{len(res) - n} of {len(res)} outputs identical"
        + (f" (tol {args.tol})" if args.tol else "")
    )
    sys.exit(1 if n else 0)


if __name__ == "__main__":
    main()
