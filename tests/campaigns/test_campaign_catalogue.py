"""The catalogue: every required campaign, valid fields, loud errors."""

from __future__ import annotations

import pytest

from cvm.campaigns.catalogue import DEPARTMENTS, load_catalogue
from cvm.config import CvmError, load_config

REQUIRED = ["service_reminder", "second_service_retention", "pre_warranty_package",
            "high_value_care", "value_activation", "win_back", "insurance_renewal",
            "trade_in_upgrade", "referral_invitation"]


def test_catalogue_has_the_required_campaigns(catalogue) -> None:
    assert set(REQUIRED) <= set(catalogue)
    for c in catalogue.values():
        assert c.department in DEPARTMENTS
        assert c.unit_cost > 0 and c.cooldown_days >= 0 and c.max_contacts_per_year >= 1
        assert c.name_zh and c.name_en and c.eligibility


def test_all_four_departments_own_a_campaign(catalogue) -> None:
    assert {c.department for c in catalogue.values()} == set(DEPARTMENTS)


def test_bad_entry_is_a_loud_error() -> None:
    cfg = load_config("campaigns")
    cfg["campaigns"]["win_back"]["department"] = "finance"
    with pytest.raises(CvmError, match="win_back.*finance"):
        load_catalogue(cfg)
    cfg = load_config("campaigns")
    del cfg["campaigns"]["win_back"]["prior_uplift"]
    with pytest.raises(CvmError, match="prior_uplift"):
        load_catalogue(cfg)
