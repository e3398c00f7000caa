"""`make bench`: run every benchmark script, then assemble docs/benchmarks.md from the fragments.

python benchmarks/run_all.py              # run the scripts (long), then assemble
python benchmarks/run_all.py --assemble   # only assemble the fragments already measured
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import FRAGMENTS, PY, ROOT, machine  # noqa: E402

# script, its arguments for `make bench`, the fragment it writes (in the order of the doc)
SCRIPTS = (
    ("bench_simulator.py", [], "simulator"),
    ("bench_churn.py", [], "churn"),
    ("bench_value.py", [], "value"),
    ("bench_campaigns.py", [], "campaigns"),
    (
        "bench_targeting.py",
        ["--customers", "50000", "--seeds", "9001", "9002", "9003", "9004", "9005"],
        "targeting",
    ),
    ("bench_leads.py", [], "leads"),
    ("bench_evaluate.py", ["--customers", "50000"], "evaluate"),
    (
        "bench_regimes.py",
        ["--customers", "30000", "--seeds", "9201,9202,9203,9204,9205"],
        "regimes",
    ),
    ("bench_demo.py", [], "demo"),
    ("bench_monthly.py", ["--sizes", "20000", "200000", "1000000"], "monthly"),
    ("bench_levers.py", [], "levers"),
    ("bench_levers_campaigns.py", [], "levers_campaigns"),
)


def assemble() -> Path:
    parts = [
        "# Benchmarks\n",
        "Measured by the scripts in `benchmarks/` (`make bench` runs them all and rewrites this "
        "file; each script can be run alone and rewrites its own section). Figures are from the "
        "machine named in each section.\n",
        f"Assembled {datetime.now(UTC):%Y-%m-%d %H:%M UTC} on: {machine()}.\n",
    ]
    known = [f for _, _, f in SCRIPTS]
    names = known + sorted(p.stem for p in FRAGMENTS.glob("*.md") if p.stem not in known)
    for name in names:
        path = FRAGMENTS / f"{name}.md"
        if path.exists():
            parts.append(path.read_text(encoding="utf-8").replace("\n## ", "\n### ").strip() + "\n")
        else:
            parts.append(
                f"## {name}\n\n_not measured yet: run `python benchmarks/bench_{name}.py`_\n"
            )
    out = ROOT / "docs" / "benchmarks.md"
    tmp = out.with_suffix(".md.tmp")
    tmp.write_text("\n".join(parts), encoding="utf-8")
    tmp.replace(out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--assemble", action="store_true", help="only assemble existing fragments")
    args = ap.parse_args()
    if not args.assemble:
        for script, extra, _ in SCRIPTS:
            path = ROOT / "benchmarks" / script
            if path.exists():
                print(f"== {script}", flush=True)
                subprocess.run([PY, str(path), *extra], cwd=ROOT, check=False)
    print(assemble())


if __name__ == "__main__":
    main()
