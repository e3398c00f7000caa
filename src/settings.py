"""Typed settings: one frozen dataclass per section of every ``configs/*.yaml`` file.

The YAML files hold every value; the classes here hold none (no field has a default, so a key
missing from the YAML is an error, not a silent fallback). Settings travel through the code as
the merged dicts :func:`cvm.config.load_config` returns (they are saved in bundles and merged
with notebook parameters); code reads them through the typed view::

    from cvm.settings import RunSettings, typed
    s = typed(RunSettings, cfg)          # cfg: the run's dict
    s.explain.max_rows                   # int, checked

Adding a setting is one line here plus its line in the YAML (docs/configuration.md). Keys the
schema does not know are refused with the key's path and the file it came from (exit 2).

Free-form maps are ``dict[str, X]`` (campaign ids, departments, LightGBM parameters, column
aliases); their keys are data, not settings, and are not checked.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin

from cvm.config import CvmError

T = TypeVar("T")


class SettingsError(CvmError):
    """A settings file has an unknown, missing or mistyped key (exit 2)."""


# ============================================================== default.yaml (the run config)
@dataclass(frozen=True)
class Definitions:
    active_window_months: int
    at_risk_months: int
    lost_months: int
    paid_payers: list[str]
    min_paid_amount: float


@dataclass(frozen=True)
class Training:
    snapshot_step_months: int
    max_snapshots: int
    max_rows_per_snapshot: int
    validation_snapshots: int
    validation_customer_share: float
    min_history_months: int
    equal_lookback: bool


@dataclass(frozen=True)
class Features:
    windows_months: list[int]
    trend_window_months: int
    mix_window_months: int
    default_service_interval_km: float
    default_service_interval_months: float
    insurance_term_months: int
    campaign_response_days: int
    extra_columns: dict[str, Any]  # table -> column -> {type, zh, en} (cvm.features.extra)


@dataclass(frozen=True)
class ChurnDrift:
    """``churn.drift``: a logit shift from successive out-of-time folds
    (``cvm.models.drift.fold_shift``)."""

    method: Literal["none", "level", "trend", "anchored"]
    half_life_months: float
    min_t: float


@dataclass(frozen=True)
class Churn:
    calibration: Literal["platt", "isotonic", "beta", "auto"]
    calibration_lr_threshold: float
    calibration_share: float
    num_threads: int
    num_boost_round: int
    early_stopping_rounds: int
    ece_bins: int
    tuning: list[dict[str, Any]]  # LightGBM parameters per grid point
    exclude_features: list[str]
    grade_thresholds: dict[str, float]  # grade letter -> AUC gain
    drift: ChurnDrift


@dataclass(frozen=True)
class Bundles:
    onnx_in_monthly_run: bool


@dataclass(frozen=True)
class Explain:
    max_rows: int
    global_sample: int


@dataclass(frozen=True)
class Sampling:
    drift_customers: int
    btyd_fit_customers: int
    trend_customers: int
    uplift_customers_per_month: int


@dataclass(frozen=True)
class Logs:
    error_log: str


@dataclass(frozen=True)
class ReportGrades:
    value: dict[str, float]
    leads: dict[str, float]


@dataclass(frozen=True)
class Pdf:
    enabled: bool
    timeout_seconds: float


@dataclass(frozen=True)
class Report:
    ab_share_target: float
    risk_probability: float
    top_rows: int
    milestone_min_age_years: float
    drift_psi_warning: float
    drift_psi_bins: int
    driver_sentences: int
    shap_features: int
    interval_z: float
    likely_probability: float
    grade_thresholds: ReportGrades
    pdf: Pdf


@dataclass(frozen=True)
class Evaluation:
    bootstrap: int
    bootstrap_max_rows: int
    confidence: float
    active_months: int


@dataclass(frozen=True)
class Stores:
    """Dealer groups (docs/dealer-groups.md); data with one store never read these."""

    assignment_months: int
    known: list[str]
    unknown_store: Literal["warning", "error"]
    budget_split: Literal["active_customers", "equal", "explicit"]
    budgets: dict[str, float]  # dealer_id -> CNY (budget_split: explicit)
    capacities: dict[str, dict[str, float]]  # dealer_id -> department -> contacts
    min_active_customers: int


@dataclass(frozen=True)
class Engine:
    """``cvm monthly --engine dask`` (cvm.engine)."""

    local_workers: int
    threads_per_worker: int
    worker_memory_limit: str
    connect_timeout_s: float
    partition_rows: int
    workers_read_parts: bool  # workers read their part from the run folder, not scattered
    train_memory_budget_mb: float
    parallel_notebooks: int  # notebooks of the run executed at once where the graph allows
    memory_budget_gb: float  # notebooks side by side only while their kernels' estimates fit
    kernel_peak_gb: dict[str, list[list[float]]]  # notebook -> [[customers, GB], ...] measured
    warm_kernels: int  # kernels started and warmed up ahead of the notebooks (cvm.runner)
    blas_threads: int  # numpy's BLAS threads in a step's process (0: the library's own choice)
    local_chunk_customers: int  # local engine: features built so many customers at a time
    local_threads: int  # local engine: independent pieces of a step at once (engine.local_map)


@dataclass(frozen=True)
class LightgbmRfm:
    columns: list[str]
    num_boost_round: int
    early_stopping_rounds: int
    params: dict[str, Any]  # LightGBM parameters
    tweedie_variance_power: float


@dataclass(frozen=True)
class RecencyFrequency:
    recency_edges_months: list[float]


@dataclass(frozen=True)
class Btyd:
    penalizer: float


@dataclass(frozen=True)
class Baselines:
    lightgbm_rfm: LightgbmRfm
    recency_frequency: RecencyFrequency
    btyd: Btyd


@dataclass(frozen=True)
class NewOwners:
    months_edges: list[float]
    prior_rows: float


@dataclass(frozen=True)
class RunSettings:
    """``configs/default.yaml``: the monthly run. A run's config (and a profile such as
    ``configs/demo.yaml``) may also carry overlays of the other files under their names."""

    OVERLAYS: ClassVar[dict[str, str]] = {
        "campaigns": "campaigns",
        "value": "value",
        "segments": "segments",
        "leads": "leads",
        "research": "research",
    }
    META: ClassVar[tuple[str, ...]] = ("profile",)

    horizon_months: int
    seed: int
    lang: str  # one of validation.yaml run_checks.languages
    definitions: Definitions
    training: Training
    features: Features
    churn: Churn
    budget: float
    bundles: Bundles
    explain: Explain
    sampling: Sampling
    logs: Logs
    report: Report
    evaluation: Evaluation
    stores: Stores
    engine: Engine
    baselines: Baselines
    new_owners: NewOwners


# ============================================================== campaigns.yaml
@dataclass(frozen=True)
class CampaignDefaults:
    control_share: float
    min_control_per_stratum: int
    control_strata: list[str]
    min_days_between_contacts: int
    max_contacts_per_year: int
    departments: list[str]
    capacity: dict[str, int]  # department -> contacts per month


@dataclass(frozen=True)
class ValidationBootstrap:
    reps: int
    confidence: float
    deciles: int


@dataclass(frozen=True)
class SpendCalibration:
    enabled: bool
    window_days: int
    outcome_cap_quantile: float
    prior_rel_sd: float
    prior_min_sd: float
    transport_sd: float
    heterogeneity: float
    deviation: str  # model (uplift x stake) or stake (measured mean x stake / mean stake)
    num_boost_round: int
    lgb: dict[str, Any]  # LightGBM parameters


@dataclass(frozen=True)
class Margin:
    """The per-customer incremental margin learner (``uplift_learners.fit_margin_learner``)."""

    enabled: bool
    state_features: list[str]
    log_features: list[str]
    alpha: float
    campaign_alpha: float
    max_weight: float


@dataclass(frozen=True)
class Uplift:
    outcome_window_days: int
    min_contacts: int
    min_control: int
    validation_months: int
    validation_bootstrap: ValidationBootstrap
    shrink_to_ate: float
    ate_shrinkage: Literal["empirical_bayes", "none"]
    ate_prior_sd: float
    ate_transport_sd: float
    # EB target of a learned campaign's history mean: the catalogue's prior_uplift, or that
    # prior updated by the last month's measured response lift (posterior_uplift)
    ate_shrink_target: Literal["catalogue", "updated"]
    require_validated_heterogeneity: bool
    learner: Literal["t", "x"]
    max_uplift: float
    prior_sd: float
    spend_calibration: SpendCalibration
    margin: Margin
    lgb: dict[str, Any]  # LightGBM parameters
    num_boost_round: int
    # up to this many contacts in the frame, the response learner, the spend and margin learner
    # and the out-of-time check are fitted side by side in threads (the same model to the bit;
    # their frames held at once); 0 = one after another
    parallel_max_contacts: int


@dataclass(frozen=True)
class ValueAtStake:
    min_return_probability: float
    cap_quantile: float


@dataclass(frozen=True)
class Planner:
    method: Literal["auto", "milp", "lagrangian", "greedy"]
    milp_max_pairs: int
    lagrangian_rounds: int
    milp_time_limit_s: float
    min_expected_value: float


@dataclass(frozen=True)
class Intervals:
    z: float


@dataclass(frozen=True)
class BudgetCurve:
    multipliers: list[float]
    threads: int


@dataclass(frozen=True)
class StoreRule:
    campaign: str
    order_by: str
    ascending: bool | None  # optional: descending unless true


@dataclass(frozen=True)
class PairOracle:
    pilot_paths: int
    target_agreement: float
    max_paths: int
    cv_ridge: float
    cv_check_z: float


@dataclass(frozen=True)
class CampaignEvaluation:
    random_draws: int
    bootstrap: int
    confidence: float
    pair_oracle: PairOracle


@dataclass(frozen=True)
class Measurement:
    window_days: int
    confidence: float
    renewal_recent_months: float | None  # None: renewal uplift by lead month only


@dataclass(frozen=True)
class Names:
    zh: str
    en: str


@dataclass(frozen=True)
class CampaignEntry:
    """One catalogue entry (read into ``cvm.campaigns.catalogue.Campaign``)."""

    name: Names
    department: str
    channel: str
    unit_cost: float
    eligibility: str | None  # None: every customer
    cooldown_days: int | None  # None: entry_defaults
    max_contacts_per_year: int | None
    prior_uplift: float
    value_basis: Literal["horizon_value", "fixed"] | None
    value_per_return: float | None  # only with value_basis: fixed
    effect_window_days: int | None  # None: uplift.spend_calibration.window_days
    renewal_commission: bool | None  # earns influence.insurance_commission per renewal
    spread: Literal["stake", "flat", "at_risk", "value"] | None  # None: entry_defaults


@dataclass(frozen=True)
class EntryDefaults:
    """What a catalogue entry gets for an optional field it leaves out."""

    cooldown_days: int
    max_contacts_per_year: int
    value_basis: Literal["horizon_value", "fixed"]
    spread: Literal["stake", "flat", "at_risk", "value"]


@dataclass(frozen=True)
class CampaignSettings:
    """``configs/campaigns.yaml``: the catalogue, the uplift models and the plan."""

    defaults: CampaignDefaults
    entry_defaults: EntryDefaults
    uplift: Uplift
    value_at_stake: ValueAtStake
    planner: Planner
    intervals: Intervals
    budget_curve: BudgetCurve
    store_rules: list[StoreRule]
    evaluation: CampaignEvaluation
    measurement: Measurement
    campaigns: dict[str, CampaignEntry]  # campaign id -> entry


# ============================================================== leads.yaml
@dataclass(frozen=True)
class LeadOrders:
    intent_min_p: float
    horizon_months: int


@dataclass(frozen=True)
class LeadSettings:
    """``configs/leads.yaml``: lead scoring, grades, order classes, defeat and source tables."""

    label_months: int
    snapshot_step_days: int
    min_history_days: int
    validation_months: int
    calibration_share: float
    calibration: Literal["platt", "isotonic", "beta"]
    num_threads: int
    num_boost_round: int
    early_stopping_rounds: int
    tuning: list[dict[str, Any]]  # LightGBM parameters per grid point
    max_rows_per_snapshot: int
    grades: dict[str, float]  # grade -> lowest calibrated probability
    reasons_top_k: int
    orders: LeadOrders
    analysis_months: int
    source_cost_per_lead: dict[str, float]


# ============================================================== research.yaml
@dataclass(frozen=True)
class ResearchBootstrap:
    rounds: int
    level: float


@dataclass(frozen=True)
class Challenger:
    trainer_keys: dict[str, list[str]]  # model -> keys that set the trainer
    fixed_keys: list[str]


@dataclass(frozen=True)
class ResearchCampaigns:
    qini_points: int
    control_shares: list[float]
    capacity_factors: list[float]
    planner_method: Literal["auto", "milp", "lagrangian", "greedy"]


@dataclass(frozen=True)
class ResearchSettings:
    """``configs/research.yaml``: the analysts' notebook research (not the monthly run)."""

    bootstrap: ResearchBootstrap
    calibration_bins: int
    value_deciles: int
    shap_top_features: int
    waterfall_max_display: int
    challenger: Challenger
    campaigns: ResearchCampaigns


# ============================================================== segments.yaml
@dataclass(frozen=True)
class Lifecycle:
    stages: list[str]
    prospect_min_followups: int
    prospect_order_stages: list[str]
    ordered_order_stages: list[str]
    won_back_months: int
    defeated_lead_stage: str
    no_activity_stage: str


@dataclass(frozen=True)
class TagRule:
    high_frequency: bool
    high_spend: bool


@dataclass(frozen=True)
class ValueTags:
    window_months: int
    spend: Literal["paid", "all"]
    min_exposure_months: float
    frequency_threshold: float | str  # a number or "median"
    spend_threshold: float | str
    tags: dict[str, TagRule]
    high_value_tags: list[str]
    labels: dict[str, dict[str, str]]  # lang -> key -> label


@dataclass(frozen=True)
class Loyalty:
    window_months: int
    min_satisfaction: float
    complaint_min_severity: int
    behaviour_window_months: int
    min_visits: int
    unobserved_attitude: Literal["unknown", "high", "low"]
    labels: dict[str, dict[str, str]]


@dataclass(frozen=True)
class YoungFamily:
    min_household_size: int
    age_range: list[int]


@dataclass(frozen=True)
class TimeSensitive:
    min_wait_complaints: int
    weekend_share: float
    min_visits: int


@dataclass(frozen=True)
class PriceSensitive:
    min_price_complaints: int
    max_quote_acceptance: float
    min_items_offered: int


@dataclass(frozen=True)
class HighMileageCommercial:
    customer_types: list[str]
    min_km_per_year: float
    min_span_days: int


@dataclass(frozen=True)
class Needs:
    window_months: int
    young_family: YoungFamily
    time_sensitive: TimeSensitive
    price_sensitive: PriceSensitive
    high_mileage_commercial: HighMileageCommercial


@dataclass(frozen=True)
class SegmentSettings:
    """``configs/segments.yaml``: lifecycle stage, value tag, loyalty type, needs tags."""

    lifecycle: Lifecycle
    value_tags: ValueTags
    loyalty: Loyalty
    needs: Needs


# ============================================================== value.yaml
@dataclass(frozen=True)
class TwoPart:
    spend_objective: str


@dataclass(frozen=True)
class Lifetime:
    clv_years: int
    discount_rate: float
    max_retention: float


@dataclass(frozen=True)
class Influence:
    new_car_margin: float
    insurance_commission: float


@dataclass(frozen=True)
class ValueDrift:
    """``value.drift``: the total's level fitted on successive out-of-time folds
    (``cvm.models.drift``)."""

    method: Literal["latest", "pooled", "trend"]
    rows: Literal["held_out", "all"]
    half_life_months: float
    min_t: float


@dataclass(frozen=True)
class ValueSettings:
    """``configs/value.yaml``: the value model and the lifetime value."""

    model: Literal["tweedie", "two_part", "auto"]
    eval_share: float
    calibrate_total: bool
    customer_paid_model: bool
    calibration_rows: Literal["stop", "out_of_time"]
    baseline: Literal["no_contact", "as_observed"]
    contact_window_days: int
    contact_min_group: int
    refit_all: bool
    num_threads: int
    num_boost_round: int
    early_stopping_rounds: int
    seed: int
    params: dict[str, Any]  # LightGBM parameters
    tweedie_variance_power: float
    two_part: TwoPart
    lifetime: Lifetime
    calibration_bins: int
    influence: Influence
    exclude_features: list[str]
    margin: dict[str, dict[str, float]]  # payer -> visit type -> gross margin (cvm.data.margin)
    unknown_payer_mix: dict[str, float]  # payer -> revenue share, for data without a payer column
    drift: ValueDrift


# ============================================================== validation.yaml
@dataclass(frozen=True)
class ValidationWarnings:
    missing_phone_share: float
    missing_optional_share: float
    zero_amount_share: float
    oldest_plausible_date: str
    min_rows_for_share: int


@dataclass(frozen=True)
class Sufficiency:
    min_history_months: float
    min_repeat_customers: int
    min_class_rows: int


@dataclass(frozen=True)
class RunChecks:
    horizon_months: list[int]  # [lowest, highest]
    languages: list[str]
    as_of_months_after_data: int
    sufficiency: Sufficiency


@dataclass(frozen=True)
class ValidationSettings:
    """``configs/validation.yaml``: thresholds of ``cvm validate`` and the run's checks."""

    warnings: ValidationWarnings
    future_date_exempt: list[str]
    sparse_by_nature: list[str]
    example_values: int
    ceilings: dict[str, float]  # "table.column" (or default_cny) -> ceiling
    run_checks: RunChecks


# ============================================================== columns.yaml
@dataclass(frozen=True)
class TableAliases:
    names: list[str]
    columns: dict[str, list[str]]


@dataclass(frozen=True)
class FileTypes:
    csv: list[str]
    parquet: list[str]
    excel: list[str]
    unsupported: list[str]


@dataclass(frozen=True)
class Parsing:
    date_formats: list[str]
    excel_origin: str
    excel_serial_range: list[int]
    yyyymmdd_range: list[int]
    true_values: list[str]
    false_values: list[str]
    number_noise: list[str]
    csv_encodings: list[str]
    csv_delimiters: list[str]
    delimiter_sniff_chars: int
    encoding_chunk_bytes: int
    file_types: FileTypes


@dataclass(frozen=True)
class ColumnSettings:
    """``configs/columns.yaml``: header, file and value aliases of dealer exports."""

    common: dict[str, list[str]]
    tables: dict[str, TableAliases]
    values: dict[str, dict[str, str]]  # column -> {alias: contract value}
    parsing: Parsing


# ============================================================== simulator.yaml
@dataclass(frozen=True)
class SimPopulation:
    store_sold_share: float
    pre_window_share: float
    company_share: float
    ride_hailing_share: float
    distance_median_km: float
    distance_sigma: float
    distance_observed_noise: float
    yearly_km_median: float
    yearly_km_sigma: float
    commercial_km_factor: float
    dog_share: float
    family_stages: list[str]
    family_probs: list[float]


@dataclass(frozen=True)
class SimProfile:
    missing: dict[str, float]  # profile field -> share missing


@dataclass(frozen=True)
class SimCampaign:
    every: int
    share: float
    visit: float
    winback: float
    retention: float
    dog: float
    trade_in: float
    resp: dict[str, float]  # trait -> coefficient (a trait not listed: 0)
    renewal: float  # rise of P(insurance renewed at the store) at the policy's end


@dataclass(frozen=True)
class SimCampaigns:
    history_months: int
    control_share: float
    carryover: float
    rest_month_after_contact: bool  # a customer contacted in a month is not selected the next
    catalogue: dict[str, SimCampaign]


@dataclass(frozen=True)
class SimulatorSettings:
    """``configs/simulator.yaml``: the generating parameters of the dealer simulator. Its
    sections of plain coefficients are ``dict[str, Any]`` checked key by key against the
    packaged file (a simulator coefficient has no meaning to a user's store)."""

    customers: int
    years: float
    dealers: int
    horizon_months: int
    reference_date: Any  # a date (YAML parses it)
    burn_in_months: int
    dealer_group: dict[str, Any]  # --dealers > 1: how the stores differ
    population: SimPopulation
    profile: SimProfile
    vehicles: dict[str, Any]
    visits: dict[str, Any]
    amounts: dict[str, Any]
    quotes: dict[str, Any]
    service: dict[str, Any]
    staff: dict[str, Any]
    churn: dict[str, Any]
    sales: dict[str, Any]
    insurance: dict[str, Any]  # yearly policies renewed through the store (commission)
    campaigns: SimCampaigns
    oracle: dict[str, Any]
    eligibility: dict[str, Any]


# ============================================================== the registry
SCHEMAS: dict[str, type] = {
    "default": RunSettings,
    "campaigns": CampaignSettings,
    "leads": LeadSettings,
    "research": ResearchSettings,
    "segments": SegmentSettings,
    "value": ValueSettings,
    "validation": ValidationSettings,
    "columns": ColumnSettings,
    "simulator": SimulatorSettings,
}
"""Schema of each ``configs/<name>.yaml``; a profile (``configs/demo.yaml``, a challenger)
is an overlay of ``default``."""


def schema_for(name: str) -> type:
    """The schema of ``configs/<name>.yaml``; any other name is a profile (a run overlay)."""
    return SCHEMAS.get(name, RunSettings)


# ============================================================== checking and building
@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _fields(cls: type) -> dict[str, Any]:
    hints = _hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _optional(tp: Any) -> bool:
    return _is_union(tp) and type(None) in get_args(tp)


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def check_source(
    name: str, data: Mapping[str, Any], source: str, partial: bool, types: bool = True
) -> None:
    """Refuse what ``source`` (a file, or "the overrides") must not hold for ``configs/<name>``:
    an unknown key (any file), a mistyped value (unless not ``types``: parameters, whose own
    checks say more, e.g. ``cvm.run_checks``), and, unless ``partial`` (an overlay), a missing
    key. Raises :class:`SettingsError` naming the key and ``source``."""
    cls = schema_for(name)
    if name == "simulator":
        _check_simulator(data, source, partial)
    if partial:
        _check_keys(cls, data, "", source, types)
    else:
        _build(cls, data, "", source)


def _where(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_keys(tp: Any, data: Any, path: str, source: str, types: bool = True) -> None:
    """Unknown keys and mistyped leaves of a partial overlay (missing keys are allowed)."""
    if data is None or (not types and not dataclasses.is_dataclass(tp)):
        return
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, Mapping):
            raise _bad(path, source, f"a mapping of settings, not {data!r}")
        fields = _fields(tp)
        overlays = getattr(tp, "OVERLAYS", {})
        meta = getattr(tp, "META", ())
        for key, value in data.items():
            if key in fields:
                _check_keys(fields[key], value, _where(path, key), source, types)
            elif key in overlays:
                _check_keys(SCHEMAS[overlays[key]], value, _where(path, key), source, types)
            elif key not in meta:
                raise _unknown(tp, path, str(key), source)
        return
    if get_origin(tp) is dict:
        if not isinstance(data, Mapping):
            raise _bad(path, source, f"a mapping, not {data!r}")
        _, vt = get_args(tp)
        for key, value in data.items():
            _check_keys(vt, value, _where(path, str(key)), source, types)
        return
    _build(tp, data, path, source)


def _build(tp: Any, data: Any, path: str, source: str) -> Any:
    """``data`` as an instance of ``tp``: dataclasses from mappings (every field present, no
    other key), checked scalars; raises :class:`SettingsError`."""
    if tp is Any:
        return data
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, Mapping):
            raise _bad(path, source, f"a mapping of settings, not {data!r}")
        fields = _fields(tp)
        known = set(fields) | set(getattr(tp, "OVERLAYS", {})) | set(getattr(tp, "META", ()))
        for key in data:
            if key not in known:
                raise _unknown(tp, path, str(key), source)
        values: dict[str, Any] = {}
        for key, ftp in fields.items():
            if key not in data or data[key] is None:
                if _optional(ftp):
                    values[key] = None
                    continue
                raise SettingsError(
                    f"setting {_where(path, key)!r} is missing in {source}; "
                    f"every setting needs a value there (see "
                    f"docs/configuration.md)"
                )
            values[key] = _build(ftp, data[key], _where(path, key), source)
        return tp(**values)
    origin = get_origin(tp)
    if _is_union(tp):
        if data is None and _optional(tp):
            return None
        for arg in get_args(tp):
            if arg is type(None):
                continue
            try:
                return _build(arg, data, path, source)
            except SettingsError:
                continue
        raise _bad(path, source, f"{_name(tp)}, not {data!r}")
    if origin is Literal:
        if data not in get_args(tp):
            raise _bad(path, source, f"one of {', '.join(map(repr, get_args(tp)))}, not {data!r}")
        return data
    if origin is list:
        if not isinstance(data, list):
            raise _bad(path, source, f"a list, not {data!r}")
        (it,) = get_args(tp)
        return [_build(it, v, f"{path}[{i}]", source) for i, v in enumerate(data)]
    if origin is dict:
        if not isinstance(data, Mapping):
            raise _bad(path, source, f"a mapping, not {data!r}")
        _, vt = get_args(tp)
        return {str(k): _build(vt, v, _where(path, str(k)), source) for k, v in data.items()}
    if tp is bool:
        if not isinstance(data, bool):
            raise _bad(path, source, f"true or false, not {data!r}")
        return data
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise _bad(path, source, f"a whole number, not {data!r}")
        return data
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise _bad(path, source, f"a number, not {data!r}")
        return float(data)
    if tp is str:
        if not isinstance(data, str):
            raise _bad(path, source, f"text, not {data!r}")
        return data
    raise TypeError(f"settings type {tp!r} of {path} is not supported")  # a bug in this module


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _bad(path: str, source: str, want: str) -> SettingsError:
    return SettingsError(f"setting {path or '(top level)'!r} in {source} must be {want}")


def _unknown(tp: type, path: str, key: str, source: str) -> SettingsError:
    import difflib

    known = sorted(set(_fields(tp)) | set(getattr(tp, "OVERLAYS", {})))
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known here: {', '.join(known)}"
    return SettingsError(
        f"unknown setting {_where(path, key)!r} in {source}{hint} "
        f"(docs/configuration.md lists every setting)"
    )


def _check_simulator(data: Mapping[str, Any], source: str, partial: bool) -> None:
    """The simulator's coefficient sections (``dict[str, Any]`` in the schema): every key must
    be one of the packaged file's, since a misspelt coefficient would be silently ignored."""
    from cvm.config import CONFIG_DIR, read_yaml

    packaged = CONFIG_DIR / "simulator.yaml"
    if not packaged.exists() or str(packaged) == source:
        return
    ref = read_yaml(packaged)
    for section, tp in _fields(SimulatorSettings).items():
        if get_origin(tp) is dict and isinstance(data.get(section), Mapping):
            _same_keys(data[section], ref.get(section) or {}, section, source)


def _same_keys(data: Mapping[str, Any], ref: Mapping[str, Any], path: str, source: str) -> None:
    for key, value in data.items():
        if key not in ref:
            raise SettingsError(
                f"unknown setting {path}.{key!r} in {source}; known here: "
                f"{', '.join(map(str, ref))}"
            )
        if isinstance(value, Mapping) and isinstance(ref[key], Mapping):
            _same_keys(value, ref[key], f"{path}.{key}", source)


def typed(cls: type[T], cfg: Mapping[str, Any], source: str = "the settings") -> T:
    """The typed view of a merged settings dict (see the module docstring)."""
    return _build(cls, cfg, "", source)


def run_settings(cfg: Mapping[str, Any] | None = None) -> RunSettings:
    """The run config's typed view (``configs/default.yaml`` when ``cfg`` is None)."""
    from cvm.config import load_config

    return typed(RunSettings, load_config() if cfg is None else cfg)


def campaign_settings(run_cfg: Mapping[str, Any] | None = None) -> CampaignSettings:
    """``configs/campaigns.yaml`` with the run's ``campaigns:`` overlay, typed."""
    from cvm.config import load_config

    return typed(CampaignSettings, load_config("campaigns", (run_cfg or {}).get("campaigns")))
