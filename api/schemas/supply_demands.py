"""Demands as the API shows them: the demand with its organization, contact, broker and the near-
duplicate it resembles; its status timeline; bodies of the claim and follow-up routes; the export's
columns. Times leave in the deployment's zone with their offset; ``deadline`` is a local date.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.schemas.presenter import Presenter
from events import districts, labels, localtime, supply_fields
from events.errors import N_
from events.i18n import Locale, gettext
from events.models import Demand, DemandKind, DemandSource, DemandStatus, DemandStatusChange
from events.services import demand_status, demands
from events.services.people import display_phone


def _at(show: Presenter, value: datetime | None) -> datetime | None:
    return value.astimezone(show.tz) if value is not None else None


class OrganizationRef(BaseModel):
    id: int
    name: str


class PersonRef(BaseModel):
    id: int
    name: str


class ContactPublic(BaseModel):
    id: int
    name: str
    phone: str | None
    phone_display: str | None
    email: str | None
    telegram_id: int | None


class BrokerRef(BaseModel):
    id: int
    name: str


class DuplicateRef(BaseModel):
    """The active demand this one resembles (flagged, never merged): link to it to compare."""

    id: int
    title: str
    score: float = Field(description="Similarity of title and problem, 0 to 1.")


class DemandPublic(BaseModel):
    id: int
    external_id: str | None
    kind: DemandKind
    title: str
    description: str
    indicators: str = Field(description="考核指标: what a solution must reach.")
    tags: list[str]
    field: str | None = Field(description="A code of the plan's fields (光电子信息 …).")
    field_name: str | None
    min_trl: int | None
    transfer_modes: list[str]
    budget_min_cny: int | None
    budget_max_cny: int | None
    deadline: date | None = Field(description="Local date; the demand expires after it.")
    district: str | None
    district_name: str | None
    organization: OrganizationRef | None = Field(description="The company or unit with the problem.")
    contact: ContactPublic | None
    source: DemandSource
    collected_by: PersonRef | None
    status: DemandStatus
    status_changed_at: datetime | None
    first_response_at: datetime | None
    time_to_first_response_minutes: int | None = Field(
        description="From creation to the first answer; null until then."
    )
    duplicate_of: DuplicateRef | None
    broker: BrokerRef | None = Field(description="The broker accountable after a claim.")
    claimed_at: datetime | None
    follow_up_due: datetime | None
    follow_up_overdue: bool
    managed_by: int = Field(description="The organization that manages the record.")
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, show: Presenter, demand: Demand) -> DemandPublic:
        """``demand`` as ``demands.get_demand`` loads it (its relations fetched)."""
        organization = demand.organization
        contact = demand.contact
        collector = demand.collected_by
        duplicate = demand.duplicate_of
        broker = demand.broker
        return cls(
            id=demand.id,
            external_id=demand.external_id,
            kind=demand.kind,
            title=demand.title,
            description=demand.description,
            indicators=demand.indicators,
            tags=list(demand.tags or []),
            field=demand.field,
            field_name=supply_fields.label(demand.field, "zh") or None,
            min_trl=demand.min_trl,
            transfer_modes=list(demand.transfer_modes or []),
            budget_min_cny=demand.budget_min_cny,
            budget_max_cny=demand.budget_max_cny,
            deadline=demand.deadline,
            district=demand.district,
            district_name=districts.label(demand.district, "zh") or None,
            organization=OrganizationRef(id=organization.id, name=organization.name) if organization else None,
            contact=ContactPublic(
                id=contact.id,
                name=contact.name,
                phone=contact.phone,
                phone_display=display_phone(contact.phone),
                email=contact.email,
                telegram_id=contact.telegram_id,
            )
            if contact
            else None,
            source=demand.source,
            collected_by=PersonRef(id=collector.id, name=collector.name) if collector else None,
            status=demand.status,
            status_changed_at=_at(show, demand.status_changed_at),
            first_response_at=_at(show, demand.first_response_at),
            time_to_first_response_minutes=demand_status.minutes_to_first_response(demand),
            duplicate_of=DuplicateRef(id=duplicate.id, title=duplicate.title, score=demand.duplicate_score or 0.0)
            if duplicate
            else None,
            broker=BrokerRef(id=broker.id, name=broker.person.name) if broker else None,
            claimed_at=_at(show, demand.claimed_at),
            follow_up_due=_at(show, demand.follow_up_due),
            follow_up_overdue=demands.overdue(demand),
            managed_by=demand.managed_by_id,
            created_by=demand.created_by,
            created_at=demand.created_at.astimezone(show.tz),
            updated_at=demand.updated_at.astimezone(show.tz),
        )


class TimelineStep(BaseModel):
    """One step of a demand's status timeline; the first is its creation (from null to open)."""

    from_status: DemandStatus | None
    to_status: DemandStatus
    note: str
    actor: str
    at: datetime

    @classmethod
    def of(cls, show: Presenter, step: DemandStatusChange) -> TimelineStep:
        return cls(
            from_status=step.from_status,
            to_status=step.to_status,
            note=step.note,
            actor=step.actor,
            at=step.at.astimezone(show.tz),
        )


class ClaimBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    broker_id: Annotated[int, Field(ge=1, le=2_147_483_647, description="The broker who takes it on.")]
    follow_up_days: Annotated[int, Field(ge=1, le=365)] | None = Field(
        default=None, description="Days until the first follow-up; the deployment's default if left out."
    )


class FollowUpBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    follow_up_days: Annotated[int, Field(ge=1, le=365)] | None = Field(
        default=None, description="Days until the next follow-up; the deployment's default if left out."
    )


# The export: column keys (the CSV's header, stable for scripts), titles (the XLSX's) and widths.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("id", N_("ID"), 8),
    ("kind", N_("Kind"), 10),
    ("title", N_("Title"), 36),
    ("status", N_("Status"), 10),
    ("field", N_("Field"), 14),
    ("district", N_("District"), 18),
    ("organization", N_("Organization"), 28),
    ("contact", N_("Contact"), 14),
    ("phone", N_("Phone"), 16),
    ("min_trl", N_("Minimum TRL"), 8),
    ("budget_min_cny", N_("Lowest budget (CNY)"), 14),
    ("budget_max_cny", N_("Highest budget (CNY)"), 14),
    ("deadline", N_("Deadline"), 12),
    ("broker", N_("Broker"), 14),
    ("follow_up_due", N_("Follow-up due"), 18),
    ("duplicate_of", N_("Near-duplicate of"), 10),
    ("source", N_("Source"), 10),
    ("created_at", N_("Created"), 18),
)


def header(locale: Locale | None) -> list[str]:
    return [key if locale is None else gettext(locale, title) for key, title, _ in COLUMNS]


def rows(items: list[Demand], locale: Locale | None) -> list[list[Any]]:
    """One row per demand; ``locale`` None keeps codes and local time stamps (CSV), a locale shows
    names and date cells (XLSX)."""

    def moment(value: datetime | None) -> datetime | str | None:
        return localtime.stamp(value) if locale is None else value

    out = []
    for d in items:
        out.append(
            [
                d.id,
                d.kind if locale is None else labels.demand_kind(d.kind, locale),
                d.title,
                d.status if locale is None else labels.status(d.status, locale),
                d.field if locale is None else supply_fields.label(d.field, locale),
                d.district if locale is None else districts.label(d.district, locale),
                d.organization.name if d.organization else "",
                d.contact.name if d.contact else "",
                display_phone(d.contact.phone) if d.contact else "",
                d.min_trl,
                d.budget_min_cny,
                d.budget_max_cny,
                d.deadline.isoformat() if d.deadline else "",
                d.broker.person.name if d.broker else "",
                moment(d.follow_up_due),
                d.duplicate_of_id or "",
                d.source,
                moment(d.created_at),
            ]
        )
    return out


def widths() -> list[int]:
    return [width for _, _, width in COLUMNS]
