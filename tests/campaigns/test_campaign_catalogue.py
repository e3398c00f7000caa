"""The catalogue: every required campaign, valid fields, loud errors."""

from __future__ import annotations

import pytest

from cvm.campaigns.catalogue import DEPARTMENTS, load_catalogue
from cvm.config import CvmError, load_config

REQUIRED = [
    "service_reminder",
    "second_service_retention",
    "pre_warranty_package",
    "high_value_care",
    "value_activation",
    "win_back",
    "insurance_renewal",
    "trade_in_upgrade",
    "referral_invitation",
]


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
    entry = {
        "name": {"zh": "会员日", "en": "Member day"},
        "department": "marketing",
        "channel": "wechat",
        "unit_cost": 10,
        "prior_uplift": 0.02,
        "eligibility": "membership_level == 'gold' and paid_spend_12m > 1000",
    }
    bad = {**cfg, "campaigns": {**cfg["campaigns"], "member_day": entry}}
    with pytest.raises(CvmError, match=r"member_day.*membership_level.*campaigns\.member_day"):
        load_catalogue(bad)
    ok = {
        **cfg,
        "campaigns": {
            **cfg["campaigns"],
            "member_day": {**entry, "eligibility": "value_tag == 'A' and paid_spend_12m > 1000"},
        },
    }
    assert load_catalogue(ok)["member_day"].name("en") == "Member day"
    for key, value, msg in (
        ("department", "finance", "department"),
        ("unit_cost", -5, "unit_cost"),
    ):
        broken = {
            **cfg,
            "campaigns": {
                **cfg["campaigns"],
                "member_day": {**entry, "eligibility": "value_tag == 'A'", key: value},
            },
        }
        with pytest.raises(CvmError, match=msg):
            load_catalogue(broken)


MEMBER_DAY = {
    "name": {"zh": "会员日", "en": "Member day"},
    "department": "marketing",
    "channel": "wechat",
    "unit_cost": 10,
    "prior_uplift": 0.02,
    "eligibility": "value_tag == 'A'",
    "cooldown_days": 60,
    "effect_window_days": 90,
}


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("department", "finance", "campaigns.member_day.department"),
        ("unit_cost", -5, "campaigns.member_day.unit_cost"),
        ("unit_cost", "cheap", "campaigns.member_day.unit_cost"),
        ("eligibility", "loyalty_card == 'gold'", "campaigns.member_day.eligibility"),
        ("effect_window_days", 0, "campaigns.member_day.effect_window_days"),
    ],
)
def test_a_bad_custom_campaign_exits_2_naming_the_key(
    tmp_path, monkeypatch, field, value, key
) -> None:
    """``cvm monthly`` with a profile adding a broken campaign: exit 2 before any work."""
    import shutil

    import numpy as np
    import pandas as pd
    import yaml
    from typer.testing import CliRunner

    import cvm.config
    from cvm.cli import app

    conf = tmp_path / "configs"
    shutil.copytree(cvm.config.CONFIG_DIR, conf)
    (conf / "shop.yaml").write_text(
        yaml.safe_dump(
            {"campaigns": {"campaigns": {"member_day": {**MEMBER_DAY, field: value}}}},
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(cvm.config, "CONFIG_DIR", conf)
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    pd.DataFrame(
        {
            "customer_id": np.repeat([f"C{i:03d}" for i in range(30)], 3),
            "visit_date": pd.Timestamp("2023-01-01")
            + pd.to_timedelta(rng.integers(0, 700, 90), "D"),
            "amount": 500.0,
        }
    ).to_csv(data / "visits.csv", index=False)
    out = tmp_path / "reports"
    res = CliRunner().invoke(
        app,
        [
            "monthly",
            "--data",
            str(data),
            "--as-of",
            "2024-12-31",
            "--out",
            str(out),
            "--profile",
            "shop",
        ],
    )
    assert res.exit_code == 2 and key in res.output, res.output
    assert "Traceback" not in res.output
    assert not out.exists()


def test_a_custom_campaign_may_use_a_declared_store_column() -> None:
    from cvm.features.extra import from_config

    cfg = load_config("campaigns")
    rule = {**MEMBER_DAY, "eligibility": "member_tier == 'gold' and value_tag == 'A'"}
    with_rule = {**cfg, "campaigns": {**cfg["campaigns"], "member_day": rule}}
    from_config(
        {
            "features": {
                "extra_columns": {
                    "customers": {
                        "member_tier": {"type": "category", "zh": "会员等级", "en": "member tier"}
                    }
                }
            }
        }
    )
    c = load_catalogue(with_rule)["member_day"]
    assert c.effect_window_days == 90 and not c.renewal_commission


def test_spread_comes_from_entry_defaults_unless_the_entry_sets_it() -> None:
    cat = load_catalogue()
    assert cat["value_activation"].spread == "stake"  # entry_defaults.spread
    assert cat["insurance_renewal"].spread == "at_risk"
    assert cat["service_reminder"].spread == "value"
    cfg = load_config("campaigns", {"campaigns": {"service_reminder": {"spread": "flat"}}})
    assert load_catalogue(cfg)["service_reminder"].spread == "flat"
