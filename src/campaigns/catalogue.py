"""The campaign catalogue: ``configs/campaigns.yaml`` read into typed ``Campaign`` records."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cvm.config import CvmError, load_config
from cvm.data.contract import CHANNELS
from cvm.settings import CampaignDefaults, CampaignSettings, typed

log = logging.getLogger(__name__)

DEPARTMENTS = ("sales", "after_sales", "marketing", "customer_service")
VALUE_BASES = ("horizon_value", "fixed")
RUN_COLUMNS = (
    "lifecycle_stage",
    "value_tag",
    "loyalty_type",
    "churn_probability",
    "predicted_value",
    "lifetime_value",
)
"""Columns of the run (segments and scores) an eligibility rule may use besides the features
of ``cvm.features.registry``."""


@dataclass(frozen=True)
class Campaign:
    """One catalogue entry; see the comments at the top of ``configs/campaigns.yaml``."""

    id: str
    name_zh: str
    name_en: str
    department: str
    channel: str
    unit_cost: float
    eligibility: str
    cooldown_days: int
    max_contacts_per_year: int
    prior_uplift: float
    value_basis: str = "horizon_value"
    value_per_return: float = 0.0
    effect_window_days: int | None = None  # None: uplift.effect_window_days
    renewal_commission: bool = False
    # the per-customer spread of the campaign's measured mean where the margin model is not
    # used: "stake" (uplift.spend_calibration.deviation), "at_risk" (by churn probability x
    # value at stake), "value" (by (1 - churn probability) x value at stake) or "flat"
    # (every customer the mean)
    spread: str = "stake"

    def name(self, lang: str = "zh") -> str:
        """Display name in ``lang`` (zh or en)."""
        return self.name_zh if lang == "zh" else self.name_en


def campaigns_config(cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole campaigns config (``configs/campaigns.yaml`` unless ``cfg`` is given)."""
    return load_config("campaigns") if cfg is None else cfg


def campaign_settings(cfg: dict[str, Any] | None = None) -> CampaignSettings:
    """The typed view of :func:`campaigns_config`."""
    return typed(CampaignSettings, campaigns_config(cfg))


def load_catalogue(cfg: dict[str, Any] | None = None) -> dict[str, Campaign]:
    """Campaigns by id, validated; loud errors name the campaign and the bad field."""
    cfg = campaigns_config(cfg)
    entries = cfg.get("campaigns")
    if not entries:
        raise CvmError("the campaign catalogue has no 'campaigns' section")
    fallback = dict(cfg.get("entry_defaults") or {})
    return {
        cid: _parse(cid, {**fallback, **{k: v for k, v in e.items() if v is not None}})
        for cid, e in entries.items()
    }


def _parse(cid: str, e: dict[str, Any]) -> Campaign:
    if not isinstance(e, dict):
        raise CvmError(
            f"campaign {cid!r}: key campaigns.{cid} in configs/campaigns.yaml must be "
            "a mapping of fields (name, department, channel, unit_cost, ...)"
        )

    def need(key: str) -> Any:
        if key not in e or e[key] is None:
            raise CvmError(
                f"campaign {cid!r}: field {key!r} is missing (key "
                f"campaigns.{cid}.{key} in configs/campaigns.yaml)"
            )
        return e[key]

    def num(key: str, default: Any = None, kind: type = float) -> Any:
        v = need(key) if default is None else e.get(key, default)
        try:
            return kind(v)
        except (TypeError, ValueError):
            raise CvmError(
                f"campaign {cid!r}: {key} must be a number, got {v!r} (key "
                f"campaigns.{cid}.{key} in configs/campaigns.yaml)"
            ) from None

    name = need("name")
    if not isinstance(name, dict):
        raise CvmError(
            f"campaign {cid!r}: name must be {{zh: ..., en: ...}} (key campaigns.{cid}.name)"
        )
    c = Campaign(
        id=cid,
        name_zh=str(name.get("zh", cid)),
        name_en=str(name.get("en", cid)),
        department=str(need("department")),
        channel=str(need("channel")),
        unit_cost=num("unit_cost"),
        eligibility=str(e.get("eligibility") or "index == index"),
        cooldown_days=num("cooldown_days", kind=int),
        max_contacts_per_year=num("max_contacts_per_year", kind=int),
        prior_uplift=num("prior_uplift"),
        value_basis=str(need("value_basis")),
        value_per_return=float(e.get("value_per_return") or 0.0),  # only with value_basis fixed
        effect_window_days=(
            None if e.get("effect_window_days") is None else num("effect_window_days", kind=int)
        ),
        renewal_commission=bool(e.get("renewal_commission") or False),
        spread=str(need("spread")),
    )
    unknown = unknown_names(c.eligibility)
    if unknown:
        raise CvmError(
            f"campaign {cid!r}: eligibility names unknown feature(s) "
            f"{', '.join(unknown)} (key campaigns.{cid}.eligibility in "
            f"configs/campaigns.yaml); use the features listed in docs/campaigns.md "
            f"or {', '.join(RUN_COLUMNS)}"
        )
    key = f"campaigns.{cid}"
    if c.department not in DEPARTMENTS:
        raise CvmError(
            f"campaign {cid!r}: department {c.department!r} is unknown (key "
            f"{key}.department in configs/campaigns.yaml); use one of "
            f"{', '.join(DEPARTMENTS)}"
        )
    if c.channel not in CHANNELS:
        raise CvmError(
            f"campaign {cid!r}: channel {c.channel!r} is unknown (key "
            f"{key}.channel); use one of {', '.join(CHANNELS)}"
        )
    if c.unit_cost <= 0:
        raise CvmError(
            f"campaign {cid!r}: unit_cost must be > 0, got {c.unit_cost} (key "
            f"{key}.unit_cost in configs/campaigns.yaml)"
        )
    if c.effect_window_days is not None and c.effect_window_days <= 0:
        raise CvmError(
            f"campaign {cid!r}: effect_window_days must be > 0, got "
            f"{c.effect_window_days} (key {key}.effect_window_days)"
        )
    if c.cooldown_days < 0:
        raise CvmError(
            f"campaign {cid!r}: cooldown_days must be >= 0, got {c.cooldown_days} "
            f"(key {key}.cooldown_days)"
        )
    if not -1.0 < c.prior_uplift < 1.0:
        raise CvmError(
            f"campaign {cid!r}: prior_uplift is in probability points, got {c.prior_uplift}"
        )
    if c.value_basis not in VALUE_BASES:
        raise CvmError(f"campaign {cid!r}: value_basis {c.value_basis!r} not in {VALUE_BASES}")
    if c.value_basis == "fixed" and c.value_per_return <= 0:
        raise CvmError(f"campaign {cid!r}: value_basis 'fixed' needs value_per_return > 0")
    return c


def unknown_names(rule: str) -> list[str]:
    """Names in an eligibility rule (a pandas query) that are neither a registered feature nor
    a run column; a rule that does not parse is reported as such."""
    import ast

    from cvm.features.registry import lookup

    try:
        tree = ast.parse(rule, mode="eval")
    except SyntaxError:
        return [f"(the rule does not parse: {rule!r})"]
    names = sorted(
        {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        - {"index", "True", "False", "None"}
        - set(RUN_COLUMNS)
    )
    out = []
    for n in names:
        try:
            lookup(n)
        except KeyError:
            out.append(n)
    return out


def defaults(cfg: dict[str, Any] | None = None) -> CampaignDefaults:
    """The ``defaults`` section (control share, capacities, global contact limits)."""
    return campaign_settings(cfg).defaults
