"""CPU seconds of each speed lever of issue 21, the code it replaced against the code now,
on the same tables in one process.

CPU time (``time.process_time``) rather than wall time: on a machine shared with other jobs
it measures the work, not the queue. Both paths give the same result (asserted here, and in
tests/test_speed_equivalence.py). Writes docs/benchmarks/levers.md.

    python benchmarks/bench_levers.py                       # the 1,000,000-customer tables
    python benchmarks/bench_levers.py --customers 200000
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import md_table, write_fragment
from bench_monthly import as_of_for, sim_dir

log = logging.getLogger("bench_levers")

LATER = (
    "\nLater levers, measured by their own scripts: the campaigns step's (margin uplift "
    "learner, X-learner bins, control strata keys) in [levers_campaigns](levers_campaigns.md); "
    "the run's (notebooks two at once where the step graph allows, warm kernels) in "
    "[demo](demo.md) and [monthly](monthly.md).\n"
)


def cpu(fn, *args, **kw):
    t = time.process_time()
    out = fn(*args, **kw)
    return out, time.process_time() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from cvm.campaigns.measurement import contact_outcomes
    from cvm.config import load_config
    from cvm.data.coerce import _id_value, _integral_to_text
    from cvm.data.ids import ids, isin, positions
    from cvm.features.labels import _future_paid
    from cvm.features.snapshot import build_features, restrict_tables
    from cvm.segments._common import visits_to

    data = sim_dir(args.customers, args.seed)
    as_of = pd.Timestamp(as_of_for(data))
    cfg = load_config()
    t = {p.stem: pd.read_parquet(p) for p in sorted(data.glob("*.parquet"))}
    v, c = t["visits"], t["campaign_contacts"]
    rows = []

    def row(lever: str, old: float, new: float, size: str) -> None:
        rows.append(
            {
                "lever": lever,
                "rows": size,
                "before: CPU s": old,
                "after: CPU s": new,
                "×": old / new if new > 0 else None,
            }
        )
        log.info("%s: %.2f -> %.2f s", lever, old, new)

    # 1. id text at load (coerce.to_id on the distinct customer ids of the visits)
    u = pd.Series(pd.unique(v["customer_id"].astype(object).to_numpy()), dtype="str")
    a, old = cpu(lambda: u.astype(object).map(_id_value))
    b, new = cpu(_integral_to_text, u)
    assert list(a) == list(b)
    row("load: id text of the distinct customer ids (`coerce.to_id`)", old, new, f"{len(u):,}")

    # 2. customer positions in build_features (every table's ids against the sorted index)
    index = pd.Index(np.sort(u.to_numpy(dtype=object)), dtype="str")
    cid = ids(c["customer_id"])
    a, old = cpu(index.get_indexer, cid)
    b, new = cpu(positions, cid, index)
    assert (a == b).all()
    row("features: positions of the contacts' customers (`_codes_of`)", old, new, f"{len(cid):,}")

    # 3. the uplift frame's outcome pass: every contact, or the kept ones (20,000 a month)
    cap = int(cfg["sampling"]["uplift_customers_per_month"])
    done = c[c["contact_date"] + pd.Timedelta(days=90) <= as_of].reset_index(drop=True)
    month = done["contact_date"].dt.to_period("M")
    rng = np.random.default_rng(0)
    keep = np.zeros(len(done), bool)
    for _, g in done.groupby(month):
        who = pd.unique(g["customer_id"].to_numpy(dtype=object))
        pick = set(rng.choice(who, min(cap, len(who)), replace=False))
        keep[g.index[g["customer_id"].isin(pick)]] = True
    _, old = cpu(contact_outcomes, done, v, 90, as_of, cfg)
    _, new = cpu(contact_outcomes, done[keep], v, 90, as_of, cfg)
    row(
        "campaigns: uplift outcome pass (all contacts → the kept ones)",
        old,
        new,
        f"{len(done):,} → {int(keep.sum()):,}",
    )

    # 4. the uplift frame's features: each month's sample from the whole tables, or from
    # the tables cut once to every month's sample (three months measured)
    months = sorted(done.groupby(month).groups)[-3:]
    samples = {}
    for m in months:
        who = pd.unique(
            done.loc[keep & (month == m).to_numpy(), "customer_id"].to_numpy(dtype=object)
        )
        samples[m.start_time - pd.Timedelta(days=1)] = pd.Index(np.sort(who), dtype="str")
    union = pd.Index(
        np.unique(np.concatenate([s.to_numpy(dtype=object) for s in samples.values()]).astype(str)),
        dtype="str",
    )
    _, old = cpu(lambda: [build_features(t, d, cfg, customers=s) for d, s in samples.items()])
    t0 = time.process_time()
    sub = restrict_tables(t, union)
    [build_features(sub, d, cfg, customers=s) for d, s in samples.items()]
    new = time.process_time() - t0
    row(
        "campaigns: features of 3 contact months' samples (tables cut once)",
        old,
        new,
        f"{sum(len(s) for s in samples.values()):,} customers",
    )

    # 5. segments: the visits up to as-of, whole table or the four columns value tags read
    _, old = cpu(visits_to, v, as_of)
    _, new = cpu(visits_to, v, as_of, columns=["amount", "payer"])
    row(
        "segments: visits up to as-of, copied per value-tag call (×13 a run)",
        old,
        new,
        f"{len(v):,}",
    )

    # 6. value labels: future spend reindexed to every customer seen
    spend = (
        _future_paid(v, as_of - pd.DateOffset(months=12), 12, cfg)
        .groupby("customer_id")["amount"]
        .sum()
    )
    a, old = cpu(spend.reindex, index, fill_value=0.0)
    pos, new = cpu(positions, index, spend.index)
    assert np.allclose(a.to_numpy(), np.where(pos >= 0, spend.to_numpy()[np.maximum(pos, 0)], 0))
    row(
        "value: future paid spend per customer (reindex, ×6 snapshots)", old, new, f"{len(index):,}"
    )
    assert isin is not None

    body = (
        f"Simulated dealer, {args.customers:,} customers (5 years), as of {as_of.date()}: "
        "CPU seconds of the code each lever replaced and of the code now, on the same "
        "tables in one process (both give the same result). CPU time, not wall time: "
        "the machine was shared with other jobs (load 15-25 on 2 cores) while measuring.\n\n"
        + md_table(rows)
        + LATER
    )
    write_fragment(
        "levers",
        "Speed levers of the monthly run (issue 21)",
        f"python benchmarks/bench_levers.py --customers {args.customers}",
        body,
    )
    print(md_table(rows))


if __name__ == "__main__":
    main()
