"""Simulator parameters: configs/simulator.yaml plus the campaign ids and costs of the catalogue."""

from __future__ import annotations

from typing import Any

from cvm.config import CvmError, load_config


def load_params(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The simulator's settings with the catalogue's campaign ids and unit costs attached."""
    p = load_config("simulator", overrides)
    catalogue = load_config("campaigns").get("campaigns") or {}
    sim_cat = p["campaigns"]["catalogue"]
    missing = [c for c in catalogue if c not in sim_cat]
    if missing:
        raise CvmError(f"configs/simulator.yaml has no effect parameters for campaigns {missing}")
    p["campaign_ids"] = list(catalogue)
    p["campaign_costs"] = [float(catalogue[c]["unit_cost"]) for c in catalogue]
    p["campaign_channels"] = [str(catalogue[c]["channel"]) for c in catalogue]
    # a campaign's value counts the margin of the vehicle sales it brings: one definition,
    # the value model's (configs/value.yaml influence.new_car_margin)
    influence = load_config("value")["influence"]
    p["sale_margin"] = float(influence["new_car_margin"])
    # ... and the commission on the insurance renewals it brings (the same value the plan uses,
    # configs/value.yaml influence.insurance_commission; src/campaigns/targeting.py)
    p["insurance_commission"] = float(influence["insurance_commission"])
    # value = every payer's revenue x the margin of its payer and visit type: the truth and the
    # oracle count it as the value model does (configs/value.yaml margin)
    from cvm.data.margin import margin_table

    p["value_margin"] = margin_table()
    return p
