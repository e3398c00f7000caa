"""The data contract: one schema per table, the single source of truth.

Loaders, validation, the simulator, features and ``data/README.md`` all read these
definitions. The minimal data set is ``visits`` with ``customer_id``, ``visit_date`` and
``amount``; every other table and column is optional.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["id", "str", "date", "float", "int", "bool", "category"]


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    kind: Kind
    description: str
    unit: str = ""
    required: bool = False
    nullable: bool = True
    # allowed values for categories (None = free text)
    values: tuple[str, ...] | None = None
    # lower bound for numbers (None = no bound)
    min: float | None = None
    max: float | None = None
    # personal data: never appears in reports, notebooks' outputs or bundles
    pii: bool = False


@dataclass(frozen=True)
class ForeignKey:
    column: str
    table: str
    ref_column: str


@dataclass(frozen=True)
class Table:
    """One contract table: its columns, primary key and foreign keys."""

    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: str | None = None
    foreign_keys: tuple[ForeignKey, ...] = field(default_factory=tuple)
    required: bool = False
    # the column that dates each row (for point-in-time cuts and "dates in the future")
    date_column: str | None = None

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


C = Column

VISIT_TYPES = ("maintenance", "repair", "accident", "warranty", "first_service", "other")
PAYERS = ("customer", "warranty", "insurer", "free")
GENDERS = ("M", "F")
CHANNELS = ("phone", "sms", "wechat", "app", "mail", "visit")
GROUPS = ("target", "control")
LEAD_STATUS = ("open", "won", "lost")
ORDER_STAGES = ("contract", "intent", "potential")

VISITS = Table(
    name="visits",
    description="One row per workshop visit (repair order / 工单), settled amounts in CNY.",
    required=True,
    primary_key="visit_id",
    date_column="visit_date",
    columns=(
        C("visit_id", "id", "Repair-order number, unique per visit."),
        C(
            "customer_id",
            "id",
            "Customer who paid or owns the vehicle.",
            required=True,
            nullable=False,
        ),
        C("vehicle_id", "id", "Vehicle serviced (VIN or internal id)."),
        C("dealer_id", "id", "Store that performed the visit."),
        C("visit_date", "date", "Date the vehicle came in.", required=True, nullable=False),
        C(
            "amount",
            "float",
            "Total settled amount of the repair order.",
            unit="CNY",
            required=True,
            nullable=False,
            min=0,
        ),
        C("labour_amount", "float", "Labour part of the amount.", unit="CNY", min=0),
        C("parts_amount", "float", "Parts part of the amount.", unit="CNY", min=0),
        C("visit_type", "category", "Kind of visit.", values=VISIT_TYPES),
        C(
            "payer",
            "category",
            "Who paid: the customer, the warranty, an insurer, or free (first service). "
            "When absent, a visit with amount > 0 counts as paid by the customer.",
            values=PAYERS,
        ),
        C("mileage_km", "float", "Odometer reading at the visit.", unit="km", min=0),
        C("service_advisor_id", "id", "Service advisor (SA) who handled the visit."),
        C("wait_minutes", "float", "Customer's waiting time at the store.", unit="min", min=0),
        C("quote_items_offered", "int", "Items quoted at the desk (ABC quote).", min=0),
        C("quote_items_accepted", "int", "Quoted items the customer accepted.", min=0),
    ),
    foreign_keys=(
        ForeignKey("customer_id", "customers", "customer_id"),
        ForeignKey("vehicle_id", "vehicles", "vehicle_id"),
    ),
)

PROFILE_FIELDS = (
    "name",
    "phone",
    "gender",
    "birth_year",
    "province",
    "city",
    "address",
    "occupation",
    "education",
    "marital_status",
    "has_children",
    "household_size",
    "income_band",
    "wechat_id",
    "email",
    "preferred_channel",
    "hobby",
)
"""The 17 profile fields a store collects (IDIC 'identify'); completeness is measured on them."""

CUSTOMERS = Table(
    name="customers",
    description="One row per customer: the profile (17 fields) and a few store-known attributes.",
    primary_key="customer_id",
    date_column="created_date",
    columns=(
        C("customer_id", "id", "Customer number (客户编号).", required=True, nullable=False),
        C("dealer_id", "id", "Home store."),
        C("created_date", "date", "Date the customer was first recorded."),
        C(
            "customer_type",
            "category",
            "Private person or company fleet.",
            values=("individual", "company"),
        ),
        C(
            "distance_km",
            "float",
            "Distance from the customer's address to the store.",
            unit="km",
            min=0,
        ),
        C("name", "str", "Full name.", pii=True),
        C("phone", "str", "Mobile number.", pii=True),
        C("gender", "category", "Gender.", values=GENDERS),
        C("birth_year", "int", "Year of birth.", min=1900, max=2030),
        C("province", "str", "Province."),
        C("city", "str", "City."),
        C("address", "str", "Street address.", pii=True),
        C("occupation", "str", "Occupation."),
        C("education", "str", "Highest education."),
        C("marital_status", "category", "Marital status.", values=("single", "married", "other")),
        C("has_children", "bool", "Has children living at home."),
        C("household_size", "int", "People in the household.", min=1),
        C("income_band", "category", "Household income band.", values=("low", "mid", "high")),
        C("wechat_id", "str", "WeChat id.", pii=True),
        C("email", "str", "E-mail address.", pii=True),
        C("preferred_channel", "category", "Preferred contact channel.", values=CHANNELS),
        C("hobby", "str", "Declared hobby or interest."),
    ),
)

VEHICLES = Table(
    name="vehicles",
    description="One row per vehicle owned by a customer, sold here or bought elsewhere.",
    primary_key="vehicle_id",
    date_column="purchase_date",
    columns=(
        C("vehicle_id", "id", "VIN or internal vehicle id.", required=True, nullable=False),
        C("customer_id", "id", "Current owner.", required=True, nullable=False),
        C("model", "str", "Model name."),
        C("price_band", "category", "New-car price band.", values=("entry", "mid", "premium")),
        C("purchase_date", "date", "Date of first registration / purchase."),
        C("sold_by_store", "bool", "True when the store sold this vehicle."),
        C("warranty_end_date", "date", "End of the new-car warranty by time."),
        C("warranty_km", "float", "Warranty mileage limit.", unit="km", min=0),
        C("insurance_end_date", "date", "End of the current insurance policy (renewal date)."),
        C("service_interval_km", "float", "Maintenance interval by mileage.", unit="km", min=0),
        C("service_interval_months", "float", "Maintenance interval by time.", unit="month", min=0),
    ),
    foreign_keys=(ForeignKey("customer_id", "customers", "customer_id"),),
)

VEHICLE_SALES = Table(
    name="vehicle_sales",
    description="New-vehicle sales, with trade-ins and referrals.",
    primary_key="sale_id",
    date_column="sale_date",
    columns=(
        C("sale_id", "id", "Sales contract number.", required=True, nullable=False),
        C("customer_id", "id", "Buyer.", required=True, nullable=False),
        C("vehicle_id", "id", "Vehicle sold."),
        C("dealer_id", "id", "Selling store."),
        C("sale_date", "date", "Delivery date.", required=True, nullable=False),
        C("model", "str", "Model sold."),
        C("price", "float", "Transaction price.", unit="CNY", min=0),
        C("trade_in_vehicle_id", "id", "Vehicle traded in (增换购), if any."),
        C("referred_by_customer_id", "id", "Existing customer who referred the buyer (转介绍)."),
        C("sales_consultant_id", "id", "Sales consultant."),
        C("lead_id", "id", "Lead this sale came from."),
    ),
    foreign_keys=(
        ForeignKey("customer_id", "customers", "customer_id"),
        ForeignKey("referred_by_customer_id", "customers", "customer_id"),
    ),
)

LEADS = Table(
    name="leads",
    description="Sales leads (销售线索) with their follow-ups, outcome and order stage.",
    primary_key="lead_id",
    date_column="created_date",
    columns=(
        C("lead_id", "id", "Lead number.", required=True, nullable=False),
        C("customer_id", "id", "Customer, when known (existing owner or after conversion)."),
        C("dealer_id", "id", "Store."),
        C("created_date", "date", "First contact.", required=True, nullable=False),
        C(
            "source",
            "category",
            "Where the lead came from.",
            values=("walk_in", "phone", "online", "referral", "auto_show", "oem", "existing_owner"),
        ),
        C("model_of_interest", "str", "Model the prospect asked about."),
        C("budget", "float", "Declared budget.", unit="CNY", min=0),
        C("followups", "int", "Follow-ups made so far.", min=0),
        C("last_followup_date", "date", "Date of the latest follow-up."),
        C("test_drive", "bool", "Took a test drive."),
        C("test_drive_date", "date", "Date of the test drive."),
        C(
            "order_stage",
            "category",
            "Order class: contract (A), intent (B), potential (C).",
            values=ORDER_STAGES,
        ),
        C("status", "category", "Outcome so far.", values=LEAD_STATUS),
        C("closed_date", "date", "Date won or lost."),
        C("defeat_reason", "str", "Why the deal was lost (战败原因)."),
        C("sales_consultant_id", "id", "Sales consultant."),
    ),
    foreign_keys=(ForeignKey("customer_id", "customers", "customer_id"),),
)

LEAD_FOLLOWUPS = Table(
    name="lead_followups",
    description="One row per follow-up of a lead (跟进记录): lets lead scores use only "
    "the follow-ups made by the scoring date.",
    primary_key="followup_id",
    date_column="followup_date",
    columns=(
        C("followup_id", "id", "Follow-up record number.", required=True, nullable=False),
        C("lead_id", "id", "Lead followed up.", required=True, nullable=False),
        C("followup_date", "date", "Date of the follow-up.", required=True, nullable=False),
        C("channel", "category", "Channel used.", values=CHANNELS),
    ),
    foreign_keys=(ForeignKey("lead_id", "leads", "lead_id"),),
)

CAMPAIGN_CONTACTS = Table(
    name="campaign_contacts",
    description="Every customer selected for a campaign, contacted (target) or held out (control).",
    primary_key="contact_id",
    date_column="contact_date",
    columns=(
        C("contact_id", "id", "Contact record number.", required=True, nullable=False),
        C("customer_id", "id", "Customer selected.", required=True, nullable=False),
        C("campaign", "str", "Campaign id from the catalogue.", required=True, nullable=False),
        C(
            "contact_date",
            "date",
            "Date of contact (or of selection, for control).",
            required=True,
            nullable=False,
        ),
        C("channel", "category", "Channel used.", values=CHANNELS),
        C(
            "group",
            "category",
            "target = contacted, control = held out, never contacted.",
            values=GROUPS,
            required=True,
            nullable=False,
        ),
        C("cost", "float", "Cost of the contact and offer.", unit="CNY", min=0),
    ),
    foreign_keys=(ForeignKey("customer_id", "customers", "customer_id"),),
)

SURVEYS = Table(
    name="surveys",
    description="Satisfaction surveys after visits, sales and complaints (回访).",
    primary_key="survey_id",
    date_column="survey_date",
    columns=(
        C("survey_id", "id", "Survey number.", required=True, nullable=False),
        C("customer_id", "id", "Respondent.", required=True, nullable=False),
        C("visit_id", "id", "Visit surveyed, if any."),
        C("survey_date", "date", "Date answered.", required=True, nullable=False),
        C("satisfaction", "float", "Overall satisfaction, 1 (worst) to 5 (best).", min=1, max=5),
        C("nps", "float", "Likelihood to recommend, 0 to 10.", min=0, max=10),
    ),
    foreign_keys=(
        ForeignKey("customer_id", "customers", "customer_id"),
        ForeignKey("visit_id", "visits", "visit_id"),
    ),
)

COMPLAINTS = Table(
    name="complaints",
    description="Customer complaints (投诉) and their resolution.",
    primary_key="complaint_id",
    date_column="complaint_date",
    columns=(
        C("complaint_id", "id", "Complaint number.", required=True, nullable=False),
        C("customer_id", "id", "Complainant.", required=True, nullable=False),
        C("visit_id", "id", "Visit complained about, if any."),
        C("complaint_date", "date", "Date received.", required=True, nullable=False),
        C(
            "category",
            "category",
            "What it was about.",
            values=("price", "wait", "quality", "attitude", "overselling", "other"),
        ),
        C("severity", "int", "1 (minor) to 3 (serious).", min=1, max=3),
        C("resolved_date", "date", "Date closed; empty while open."),
    ),
    foreign_keys=(
        ForeignKey("customer_id", "customers", "customer_id"),
        ForeignKey("visit_id", "visits", "visit_id"),
    ),
)

STAFF = Table(
    name="staff",
    description="Service advisors and sales consultants, with the date they left the store.",
    primary_key="staff_id",
    date_column="hire_date",
    columns=(
        C("staff_id", "id", "Staff number.", required=True, nullable=False),
        C("role", "category", "Role.", values=("service_advisor", "sales_consultant")),
        C("dealer_id", "id", "Store."),
        C("hire_date", "date", "Date hired."),
        C("leave_date", "date", "Date left; empty while employed."),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        VISITS,
        CUSTOMERS,
        VEHICLES,
        VEHICLE_SALES,
        LEADS,
        LEAD_FOLLOWUPS,
        CAMPAIGN_CONTACTS,
        SURVEYS,
        COMPLAINTS,
        STAFF,
    )
}
"""All contract tables by name, in dependency-friendly order."""


def table(name: str) -> Table:
    """The contract table called ``name``; a clear error for unknown names."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; the contract has {sorted(TABLES)}") from None
