"""The i18n table covers both languages without code names; numbers read as a manager's."""

from __future__ import annotations

import re

import pytest

from cvm.features.registry import REGISTRY, describe, feature_label
from cvm.i18n import LABELS, TEXT, label
from cvm.reporting import fmt

SNAKE = re.compile(r"[a-z]+_[a-z]+")


def test_every_entry_has_both_languages_and_no_snake_case():
    for key, entry in TEXT.items():
        assert entry.get("zh") and entry.get("en"), key
        words = re.sub(r"\{[a-z_]+(:[^}]*)?\}|sales_leads.csv", "", entry["zh"])
        assert not SNAKE.search(words), key
    for kind, table in LABELS.items():
        for code, (zh, en) in table.items():
            assert zh and en, (kind, code)
            assert not SNAKE.search(zh) and not SNAKE.search(en), (kind, code)


def test_unknown_codes_become_words():
    assert label("stage", "won_back", "zh") == "已召回"
    assert label("campaign", "referral_invitation", "zh") == "转介绍邀请"
    assert label("column", "some_new_column", "en") == "some new column"


def test_numbers():
    assert fmt.money(64095.38, "zh") == "6.4 万元"
    assert fmt.money(950, "zh") == "950 元"
    assert fmt.money(1_234_567, "zh") == "123 万元"
    assert fmt.money(64095.38, "en") == "CNY 64,095"
    assert fmt.pct(0.40968) == "41.0%" and fmt.count(12345.4) == "12,345"
    assert fmt.points(0.004, "zh") == "+0.4 个百分点" and fmt.points(-0.012, "en") == "-1.2 pts"
    assert fmt.money(float("nan")) == "–"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_reasons_read_naturally(lang):
    s = describe("service_overdue_months", -3.0, lang)
    assert s == ("距下次保养还有3个月" if lang == "zh" else "next service due in 3 months")
    assert "-" not in describe("warranty_months_left", -5, lang)
    assert describe("service_overdue_months", 0.2, lang) in (
        "保养本月到期",
        "service due this month",
    )
    assert describe("last_visit_type", "maintenance", lang) in (
        "上次进厂类型:保养",
        "last visit was maintenance",
    )
    assert "_" not in describe("n_visits_12m", None, lang)


def test_every_feature_has_a_name_in_words():
    for name in REGISTRY:
        concrete = name.replace("{w}", "12")
        for lang in ("zh", "en"):
            assert "_" not in feature_label(concrete, lang), (name, lang)
