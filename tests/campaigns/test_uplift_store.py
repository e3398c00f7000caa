"""The uplift model written as JSON (LightGBM text inside) and read back predicts the same,
to the bit: the uplift step fits it, the campaigns step plans with what it reads."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cvm.campaigns.uplift import fit_uplift
from cvm.campaigns.uplift_store import from_json, to_json
from cvm.fileio import dumps
from support.uplift_world import uplift_world

AS_OF = pd.Timestamp("2026-10-31")


@pytest.mark.slow
def test_the_model_read_back_predicts_exactly_what_was_fitted(catalogue) -> None:
    tables, feats, _ = uplift_world(n=3000, months=10)
    model = fit_uplift(tables, lambda t, d: feats, AS_OF, catalogue=catalogue, seed=3)
    assert model.boosters and model.source["service_reminder"] == "learned"
    back = from_json(json.loads(dumps(to_json(model))))
    pairs = pd.DataFrame(
        {
            "customer_id": np.repeat(feats.index.to_numpy()[:500], 2),
            "campaign": ["service_reminder", "win_back"] * 500,
        }
    )
    np.testing.assert_array_equal(
        back.predict_pairs(feats, pairs), model.predict_pairs(feats, pairs)
    )
    np.testing.assert_array_equal(back.margin_pairs(feats, pairs), model.margin_pairs(feats, pairs))
    for name in ("source", "ate", "prior", "spend_effect", "spend_se", "margin_weight", "learned"):
        assert getattr(back, name) == getattr(model, name), name
    assert back.validation is None  # the out-of-time fold is its own artifact


def test_another_format_is_refused() -> None:
    with pytest.raises(ValueError, match="not an uplift model"):
        from_json({"format": "something-else"})
