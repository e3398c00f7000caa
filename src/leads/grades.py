"""Lead grades A/B/C (线索分级) from the calibrated conversion probability."""

from __future__ import annotations

import numpy as np
import pandas as pd

GRADES = ("A", "B", "C")


def grade(p: np.ndarray, thresholds: dict[str, float]) -> np.ndarray:
    """A when p ≥ thresholds['A'], B when p ≥ thresholds['B'], else C."""
    p = np.asarray(p, float)
    a, b = float(thresholds["A"]), float(thresholds["B"])
    if a < b:
        raise ValueError(f"grade thresholds must have A ≥ B, got A={a}, B={b}")
    return np.where(p >= a, "A", np.where(p >= b, "B", "C")).astype(object)


def grade_table(
    y: np.ndarray | None, grades: np.ndarray, p: np.ndarray | None = None
) -> pd.DataFrame:
    """Per grade: leads, share and (when outcomes ``y`` are given) conversion; mean p if given."""
    g = pd.Series(np.asarray(grades, object))
    out = pd.DataFrame({"leads": g.value_counts().reindex(GRADES, fill_value=0)})
    out["share"] = out["leads"] / max(int(out["leads"].sum()), 1)
    if y is not None:
        out["conversion"] = (
            pd.Series(np.asarray(y, float)).groupby(g.to_numpy()).mean().reindex(GRADES)
        )
    if p is not None:
        out["mean_probability"] = (
            pd.Series(np.asarray(p, float)).groupby(g.to_numpy()).mean().reindex(GRADES)
        )
    out.index.name = "grade"
    return out
