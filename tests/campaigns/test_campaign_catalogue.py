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


def test_a_custom_campaign_with_an_unknown_feature_is_refused() -> None:
    from cvm.campaigns.catalogue import load_catalogue
    from cvm.config import CvmError, load_config

    cfg = load_config("campaigns")
    entry = {"name": {"zh": "会员日", "en": "Member day"}, "department": "marketing",
             "channel": "wechat", "unit_cost": 10, "prior_uplift": 0.02,
             "eligibility": "membership_level == 'gold' and paid_spend_12m > 1000"}
    bad = {**cfg, "campaigns": {**cfg["campaigns"], "member_day": entry}}
    with pytest.raises(CvmError, match=r"member_day.*membership_level.*campaigns\.member_day"):
        load_catalogue(bad)
    ok = {**cfg, "campaigns": {**cfg["campaigns"], "member_day": {
        **entry, "eligibility": "value_tag == 'A' and paid_spend_12m > 1000"}}}
    assert load_catalogue(ok)["member_day"].name("en") == "Member day"
    for key, value, msg in (("department", "finance", "department"),
                            ("unit_cost", -5, "unit_cost")):
        broken = {**cfg, "campaigns": {**cfg["campaigns"], "member_day": {
            **entry, "eligibility": "value_tag == 'A'", key: value}}}
        with pytest.raises(CvmError, match=msg):
            load_catalogue(broken)
