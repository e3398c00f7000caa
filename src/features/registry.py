"""Every feature ``build_features`` can produce: source tables and zh/en reason sentences.

Windowed features are registered once with ``{w}`` in their name (``n_visits_{w}m``); the
window length is then available to the sentence templates as ``{w}``. Reason codes, the
report and the model card read their wording from here, so a new feature is added in one place.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from cvm.i18n import LABELS, label, t, words

LANGS = ("zh", "en")


@dataclass(frozen=True)
class Feature:
    """One feature: its name, the tables it needs, and a sentence per language."""

    name: str
    tables: tuple[str, ...]
    en: str
    zh: str
    categorical: bool = False


def _f(name: str, tables: str, en: str, zh: str, categorical: bool = False) -> Feature:
    return Feature(name, tuple(tables.split()), en, zh, categorical)


_FEATURES = (
    _f(
        "months_since_last_visit",
        "visits",
        "{value:.0f} months since the last visit",
        "距离上次进厂已{value:.0f}个月",
    ),
    _f(
        "months_since_last_paid_visit",
        "visits",
        "{value:.0f} months since the last paid visit",
        "距离上次付费进厂已{value:.0f}个月",
    ),
    _f("tenure_months", "visits", "customer for {value:.0f} months", "成为客户已{value:.0f}个月"),
    _f("n_visits_total", "visits", "{value:.0f} visits in total", "累计进厂{value:.0f}次"),
    _f(
        "n_paid_visits_total",
        "visits",
        "{value:.0f} paid visits in total",
        "累计付费进厂{value:.0f}次",
    ),
    _f("paid_spend_total", "visits", "paid {value:,.0f} CNY in total", "累计付费{value:,.0f}元"),
    _f(
        "avg_paid_ticket",
        "visits",
        "average paid ticket {value:,.0f} CNY",
        "平均单次付费{value:,.0f}元",
    ),
    _f(
        "n_visits_{w}m",
        "visits",
        "{value:.0f} visits in the last {w} months",
        "近{w}个月进厂{value:.0f}次",
    ),
    _f(
        "n_paid_visits_{w}m",
        "visits",
        "{value:.0f} paid visits in the last {w} months",
        "近{w}个月付费进厂{value:.0f}次",
    ),
    _f(
        "paid_spend_{w}m",
        "visits",
        "paid {value:,.0f} CNY in the last {w} months",
        "近{w}个月付费{value:,.0f}元",
    ),
    _f(
        "paid_visit_trend",
        "visits",
        "paid visits changed by {value:+.0f} versus the year before",
        "付费进厂次数较前一年变化{value:+.0f}次",
    ),
    _f(
        "paid_spend_trend",
        "visits",
        "paid spend trend {value:+.1f} (log ratio, recent vs earlier)",
        "付费金额趋势{value:+.1f}(近期对比前期,对数比)",
    ),
    _f(
        "gap_mean_months",
        "visits",
        "visits on average every {value:.1f} months",
        "平均每{value:.1f}个月进厂一次",
    ),
    _f(
        "gap_cv",
        "visits",
        "irregular visit intervals (variation {value:.2f})",
        "进厂间隔不规律(变异系数{value:.2f})",
    ),
    _f(
        "last_gap_months",
        "visits",
        "last interval between visits {value:.1f} months",
        "最近两次进厂间隔{value:.1f}个月",
    ),
    _f(
        "recency_gap_ratio",
        "visits",
        "absent {value:.1f}× the usual interval between visits",
        "未进厂时间已达平时间隔的{value:.1f}倍",
    ),
    _f(
        "warranty_spend_{w}m",
        "visits",
        "{value:,.0f} CNY warranty work in the last {w} months",
        "近{w}个月保修维修{value:,.0f}元",
    ),
    _f(
        "insurer_spend_{w}m",
        "visits",
        "{value:,.0f} CNY insurer-paid repairs in the last {w} months",
        "近{w}个月保险理赔维修{value:,.0f}元",
    ),
    _f(
        "paid_share_of_spend",
        "visits",
        "only {value:.0%} of spend paid by the customer",
        "自费金额仅占{value:.0%}",
    ),
    _f(
        "avg_wait_minutes",
        "visits",
        "waited {value:.0f} minutes on average",
        "平均等待{value:.0f}分钟",
    ),
    _f(
        "last_wait_minutes",
        "visits",
        "waited {value:.0f} minutes at the last visit",
        "上次进厂等待{value:.0f}分钟",
    ),
    _f(
        "quote_acceptance_rate",
        "visits",
        "accepted {value:.0%} of quoted items",
        "报价项目接受率{value:.0%}",
    ),
    _f(
        "n_advisors_{w}m",
        "visits",
        "served by {value:.0f} different advisors in {w} months",
        "近{w}个月由{value:.0f}位不同服务顾问接待",
    ),
    _f(
        "advisor_changed",
        "visits",
        "service advisor changed at the last visit",
        "上次进厂更换了服务顾问",
    ),
    _f(
        "store_log_customers",
        "visits",
        "the store serves about {value:.1f} (log) customers",
        "所在门店客户规模(对数){value:.1f}",
    ),
    _f(
        "store_median_ticket",
        "visits",
        "the store's median paid ticket is {value:,.0f} CNY",
        "所在门店付费工单中位数{value:,.0f}元",
    ),
    _f(
        "store_avg_wait_minutes",
        "visits",
        "the store's average wait is {value:.0f} minutes",
        "所在门店平均等待{value:.0f}分钟",
    ),
    _f(
        "store_return_rate",
        "visits",
        "{value:.0%} of the store's customers came back this year",
        "所在门店客户年回厂率{value:.0%}",
    ),
    _f(
        "share_visits_other_stores_{w}m",
        "visits",
        "{value:.0%} of visits in {w} months at sister stores",
        "近{w}个月{value:.0%}的进厂在集团其他门店",
    ),
    _f(
        "moved_store",
        "visits",
        "moved to another store of the group this year",
        "今年已转到集团其他门店",
    ),
    _f(
        "mileage_rate_km_month",
        "visits",
        "drives about {value:,.0f} km a month",
        "月均行驶约{value:,.0f}公里",
    ),
    _f(
        "last_mileage_km",
        "visits",
        "odometer {value:,.0f} km at the last visit",
        "上次进厂里程{value:,.0f}公里",
    ),
    _f(
        "est_mileage_km",
        "visits",
        "estimated odometer now {value:,.0f} km",
        "估计当前里程{value:,.0f}公里",
    ),
    _f(
        "months_since_service",
        "visits",
        "{value:.0f} months since the last maintenance",
        "距离上次保养已{value:.0f}个月",
    ),
    _f(
        "n_services_vehicle",
        "visits",
        "{value:.0f} services of the current vehicle here",
        "当前车辆在本店保养{value:.0f}次",
    ),
    _f(
        "km_since_service",
        "visits",
        "about {value:,.0f} km driven since the last maintenance",
        "上次保养后约行驶{value:,.0f}公里",
    ),
    _f(
        "service_due_ratio",
        "visits",
        "at {value:.0%} of the service interval",
        "已达保养间隔的{value:.0%}",
    ),
    _f(
        "service_overdue_months",
        "visits",
        "next service {value:.0f} months overdue",
        "保养已逾期{value:.0f}个月",
    ),  # negative: see NEGATIVE below
    _f("last_visit_type", "visits", "last visit was {value}", "上次进厂类型:{value}", True),
    _f(
        "profile_completeness",
        "customers",
        "profile {value:.0%} complete",
        "客户档案完整度{value:.0%}",
    ),
    _f(
        "distance_km", "customers", "lives {value:.0f} km from the store", "距离门店{value:.0f}公里"
    ),
    _f("customer_type", "customers", "customer type: {value}", "客户类型:{value}", True),
    _f("n_vehicles", "vehicles", "owns {value:.0f} vehicles", "拥有{value:.0f}辆车"),
    _f(
        "vehicle_age_months", "vehicles", "vehicle is {value:.0f} months old", "车龄{value:.0f}个月"
    ),
    _f(
        "warranty_months_left",
        "vehicles",
        "{value:.0f} months of warranty left",
        "质保剩余{value:.0f}个月",
    ),
    _f(
        "warranty_km_left",
        "vehicles visits",
        "{value:,.0f} km of warranty left",
        "质保剩余{value:,.0f}公里",
    ),
    _f(
        "insurance_months_left",
        "vehicles",
        "insurance renews in {value:.0f} months",
        "保险{value:.0f}个月后到期",
    ),
    _f("sold_by_store", "vehicles", "vehicle bought elsewhere", "车辆非本店销售"),
    _f("price_band", "vehicles", "price band: {value}", "车型价位:{value}", True),
    _f(
        "last_advisor_left",
        "staff visits",
        "their service advisor has left the store",
        "其服务顾问已离职",
    ),
    _f(
        "n_purchases",
        "vehicle_sales",
        "bought {value:.0f} vehicles here",
        "在本店购车{value:.0f}辆",
    ),
    _f(
        "months_since_last_purchase",
        "vehicle_sales",
        "{value:.0f} months since the last vehicle purchase",
        "距离上次购车已{value:.0f}个月",
    ),
    _f("n_referrals", "vehicle_sales", "referred {value:.0f} buyers", "转介绍{value:.0f}位客户"),
    _f(
        "n_leads_{w}m",
        "leads",
        "{value:.0f} sales leads in {w} months",
        "近{w}个月有{value:.0f}条销售线索",
    ),
    _f("has_open_lead", "leads", "has an open sales lead", "有未关闭的销售线索"),
    _f(
        "n_contacts_{w}m",
        "campaign_contacts",
        "contacted {value:.0f} times in {w} months",
        "近{w}个月被联系{value:.0f}次",
    ),
    _f(
        "campaign_responses",
        "campaign_contacts visits",
        "responded to {value:.0f} campaigns",
        "响应活动{value:.0f}次",
    ),
    _f(
        "campaign_response_rate",
        "campaign_contacts visits",
        "responded to {value:.0%} of campaign contacts",
        "活动响应率{value:.0%}",
    ),
    _f(
        "months_since_last_contact",
        "campaign_contacts",
        "{value:.0f} months since the last contact",
        "距离上次联系已{value:.0f}个月",
    ),
    _f(
        "n_surveys_{w}m",
        "surveys",
        "{value:.0f} surveys answered in {w} months",
        "近{w}个月回访{value:.0f}次",
    ),
    _f(
        "avg_satisfaction_{w}m",
        "surveys",
        "average satisfaction {value:.1f} / 5",
        "平均满意度{value:.1f}/5",
    ),
    _f(
        "avg_nps_{w}m",
        "surveys",
        "likelihood to recommend {value:.1f} / 10",
        "推荐意愿{value:.1f}/10",
    ),
    _f(
        "last_satisfaction",
        "surveys",
        "last satisfaction score {value:.0f} / 5",
        "最近一次满意度{value:.0f}/5",
    ),
    _f(
        "n_complaints_{w}m",
        "complaints",
        "{value:.0f} complaints in {w} months",
        "近{w}个月投诉{value:.0f}次",
    ),
    _f(
        "n_open_complaints",
        "complaints",
        "{value:.0f} complaints still open",
        "{value:.0f}个投诉尚未解决",
    ),
    _f(
        "months_since_last_complaint",
        "complaints",
        "complained {value:.0f} months ago",
        "{value:.0f}个月前投诉过",
    ),
    _f(
        "max_complaint_severity_{w}m",
        "complaints",
        "complaint of severity {value:.0f} (1-3)",
        "投诉严重程度{value:.0f}(1-3)",
    ),
)

REGISTRY: dict[str, Feature] = {f.name: f for f in _FEATURES}
"""Registered features by (pattern) name."""

NEGATIVE: dict[str, tuple[str, str]] = {
    "service_overdue_months": (
        "next service due in {value:.0f} months",
        "距下次保养还有{value:.0f}个月",
    ),
    "warranty_months_left": ("warranty ended {value:.0f} months ago", "质保已过期{value:.0f}个月"),
    "warranty_km_left": (
        "{value:,.0f} km past the warranty limit",
        "已超出质保里程{value:,.0f}公里",
    ),
    "insurance_months_left": (
        "insurance lapsed {value:.0f} months ago",
        "保险已过期{value:.0f}个月",
    ),
}
"""Sentences for a negative value (shown as its absolute value): "-3 months overdue" reads
"due in 3 months"."""

_CATEGORY_KIND = {
    "last_visit_type": "visit_type",
    "customer_type": "customer_type",
    "price_band": "price_band",
}

_WINDOWED = re.compile(r"^(.*)_(\d+)m$")


def add_extra(name: str, table: str, en: str, zh: str, categorical: bool) -> None:
    """Register a store-specific column declared in config (``cvm.features.extra``): its
    label names it in reasons and charts ("会员等级:金卡" / "membership level: gold")."""
    from cvm.i18n import LABELS

    REGISTRY[name] = Feature(name, (table,), f"{en}: {{value}}", f"{zh}:{{value}}", categorical)
    LABELS["feature"][name] = (zh, en)


def lookup(feature: str) -> tuple[Feature, dict[str, int]]:
    """The registry entry of a concrete feature name and its window (``{"w": 12}`` or ``{}``)."""
    if feature in REGISTRY:
        return REGISTRY[feature], {}
    m = _WINDOWED.match(feature)
    if m and f"{m.group(1)}_{{w}}m" in REGISTRY:
        return REGISTRY[f"{m.group(1)}_{{w}}m"], {"w": int(m.group(2))}
    raise KeyError(f"feature {feature!r} is not in the registry (cvm.features.registry)")


def describe(feature: str, value, lang: str = "zh") -> str:
    """The reason sentence for ``feature`` at ``value`` in ``lang`` (zh or en).

    Negative values of countdown features read naturally ("距下次保养还有3个月", not
    "保养已逾期-3个月"); category values are shown in the report's words, not as codes.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    entry, extra = lookup(feature)
    template = getattr(entry, lang)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return t("feature_unknown", lang, name=feature_label(feature, lang))
    if entry.categorical:
        value = label(_CATEGORY_KIND.get(entry.name, entry.name), value, lang)
    else:
        value = float(value)
        if entry.name == "service_overdue_months" and round(value) == 0:
            return t("service_due_this_month", lang)
        if value < 0 and entry.name in NEGATIVE:
            template = NEGATIVE[entry.name][0 if lang == "en" else 1]
            value = -value
    return template.format(value=value, **extra)


def feature_label(feature: str, lang: str = "zh") -> str:
    """The feature's name in words (``n_visits_12m`` → "近12个月进厂次数")."""
    try:
        entry, extra = lookup(feature)
    except KeyError:
        return str(feature).replace("_", " ")
    if entry.name not in LABELS["feature"]:
        return words(feature)
    return label("feature", entry.name, lang).format(**extra)
