"""Lead scores of a run against the simulator's truth (leads open at the end date)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cvm.data.ids import ids
from cvm.leads.grades import grade_table
from cvm.models import metrics as M


def evaluate_leads(run: Path, truth: Path) -> dict[str, Any] | None:
    """AUC of the run's lead scores and of the true conversion probability on the realized
    outcomes, and the realized conversion by grade; None when either side is missing."""
    scores_path, truth_path = run / "artifacts" / "lead_scores.parquet", truth / "leads.parquet"
    if not scores_path.exists() or not truth_path.exists():
        return None
    s = pd.read_parquet(scores_path)
    tr = pd.read_parquet(truth_path)
    tr.index = ids(tr["lead_id"]).to_numpy()
    s.index = s.index.astype(str)
    both = s.index.intersection(tr.index)
    if len(both) == 0:
        return None
    y = tr.loc[both, "converted"].astype(int).to_numpy()
    p = s.loc[both, "conversion_probability"].to_numpy(dtype=float)
    out: dict[str, Any] = {"n": len(both), "conversion_rate": float(y.mean()), "auc": M.auc(y, p)}
    if "p_convert" in tr:
        out["oracle_auc"] = M.auc(y, tr.loc[both, "p_convert"].to_numpy(dtype=float))
        out["auc_vs_oracle"] = out["auc"] / out["oracle_auc"]
        out["auc_excess_vs_oracle"] = M.excess_ratio(out["auc"], out["oracle_auc"])
    gt = grade_table(y, s.loc[both, "grade"].to_numpy())
    out["grades"] = gt.round(4).to_dict(orient="index")
    a, c = gt.loc["A", "conversion"], gt.loc["C", "conversion"]
    out["a_to_c_ratio"] = float(a / c) if c > 0 and not pd.isna(a) else None
    return out
