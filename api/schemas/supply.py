"""The supply chain as the API shows it: organizations, technology fields, achievements and their
imports, investors and technology contracts. Times leave in the deployment's zone with their offset;
amounts of money leave as strings of a decimal number (exact, like the database keeps them).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.presenter import Presenter
from events import districts, supply_fields
from events.i18n import Locale
from events.models import (
    Achievement,
    AchievementStage,
    AchievementStatus,
    AchievementTier,
    Investor,
    Organization,
    OrganizationKind,
    Person,
    Transfer,
    TransferKind,
    TransferMode,
)
from events.services import achievements, investors
from events.services.people import display_phone


def _at(show: Presenter, value: datetime) -> datetime:
    return value.astimezone(show.tz)


class OrganizationRef(BaseModel):
    id: int
    name: str

    @classmethod
    def of(cls, organization: Organization | None) -> OrganizationRef | None:
        return None if organization is None else cls(id=organization.id, name=organization.name)


class OrganizationPublic(BaseModel):
    """A company, university, institute, investor or office in the shared directory."""

    id: int
    name: str
    kind: OrganizationKind
    district: str | None
    district_name: str | None
    credit_code: str | None = Field(description="统一社会信用代码 (18 characters), when known.")
    email_domains: list[str]
    created_at: datetime

    @classmethod
    def of(cls, show: Presenter, organization: Organization) -> OrganizationPublic:
        return cls(
            id=organization.id,
            name=organization.name,
            kind=OrganizationKind(organization.kind),
            district=organization.district,
            district_name=districts.label(organization.district, "zh") or None,
            credit_code=organization.credit_code,
            email_domains=list(organization.email_domains or []),
            created_at=_at(show, organization.created_at),
        )


class SupplyField(BaseModel):
    """A technology field of the plan; achievements, demands and investors take the ``code``."""

    code: str
    name: str = Field(description="In the caller's language.")
    name_zh: str
    name_en: str

    @classmethod
    def of(cls, item: supply_fields.SupplyField, lang: Locale) -> SupplyField:
        return cls(
            code=item.code,
            name=supply_fields.label(item.code, lang),
            name_zh=item.name,
            name_en=item.name_en,
        )


class ContactPublic(BaseModel):
    person_id: int
    name: str
    phone: str | None
    phone_display: str | None
    email: str | None
    telegram_id: int | None

    @classmethod
    def of(cls, person: Person | None) -> ContactPublic | None:
        if person is None:
            return None
        return cls(
            person_id=person.id,
            name=person.name,
            phone=person.phone,
            phone_display=display_phone(person.phone),
            email=person.email,
            telegram_id=person.telegram_id,
        )


class AchievementPublic(BaseModel):
    """An achievement (科技成果) of the library."""

    id: int
    external_id: str | None
    title: str
    abstract: str
    keywords: list[str]
    field: str | None = Field(description="A code of ``GET /api/v1/fields``.")
    field_name: str | None = Field(description="The field's name in the caller's language.")
    tier: AchievementTier
    trl: int | None
    stage: AchievementStage | None
    transfer_modes: list[TransferMode]
    patents: list[str]
    price_min_cny: int | None
    price_max_cny: int | None
    owner_organization: OrganizationRef | None
    team: list[str]
    contact: ContactPublic | None
    district: str | None
    district_name: str | None
    status: AchievementStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, show: Presenter, a: Achievement, lang: Locale) -> AchievementPublic:
        """``a`` with its owner and contact loaded."""
        return cls(
            id=a.id,
            external_id=a.external_id,
            title=a.title,
            abstract=a.abstract,
            keywords=list(a.keywords or []),
            field=a.field,
            field_name=supply_fields.label(a.field, lang) or None,
            tier=AchievementTier(a.tier),
            trl=a.trl,
            stage=AchievementStage(a.stage) if a.stage else None,
            transfer_modes=[TransferMode(m) for m in a.transfer_modes or []],
            patents=list(a.patents or []),
            price_min_cny=a.price_min_cny,
            price_max_cny=a.price_max_cny,
            owner_organization=OrganizationRef.of(a.owner_organization),
            team=list(a.team or []),
            contact=ContactPublic.of(a.contact),
            district=a.district,
            district_name=districts.label(a.district, lang) or None,
            status=AchievementStatus(a.status),
            created_at=_at(show, a.created_at),
            updated_at=_at(show, a.updated_at),
        )


class ImportRowError(BaseModel):
    row: int = Field(description="1-based data row (a sheet's header is not a row); the item's place in ``items``.")
    code: str = Field(description="invalid_input, duplicate_external_id …")
    message: str = Field(description="In the caller's language.")
    field: str | None = None
    external_id: str | None = None


class ImportResult(BaseModel):
    """What an import did. Rows with errors were not written; every other row was written whole."""

    created: int
    updated: int = Field(description="Rows matched by their external id (changed or not).")
    unchanged: int = Field(description="Of ``updated``, those that already held these values (not rewritten).")
    errors: list[ImportRowError]


class InvestorPublic(BaseModel):
    id: int
    name: str
    description: str
    organization: OrganizationRef | None
    person_id: int | None
    fields_of_interest: list[str]
    stages: list[str] = Field(description="Rounds: " + " | ".join(investors.ROUNDS) + ".")
    ticket_min_cny: int | None
    ticket_max_cny: int | None
    districts: list[str]
    verified: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, show: Presenter, investor: Investor) -> InvestorPublic:
        """``investor`` with its organization loaded."""
        return cls(
            id=investor.id,
            name=investor.name,
            description=investor.description,
            organization=OrganizationRef.of(investor.organization),
            person_id=investor.person_id,
            fields_of_interest=list(investor.fields_of_interest or []),
            stages=list(investor.stages or []),
            ticket_min_cny=investor.ticket_min_cny,
            ticket_max_cny=investor.ticket_max_cny,
            districts=list(investor.districts or []),
            verified=investor.verified,
            created_at=_at(show, investor.created_at),
            updated_at=_at(show, investor.updated_at),
        )


class TitledRef(BaseModel):
    id: int
    title: str


class TransferPublic(BaseModel):
    """A signed technology contract (技术合同), or an investment (``kind``)."""

    id: int
    kind: TransferKind = Field(description="technology (a contract) | investment (e.g. after a roadshow meeting)")
    investment_round: str = Field(description="An investment's round (天使, A, …); empty for a contract.")
    contract_no: str | None
    achievement: TitledRef | None
    demand: TitledRef | None
    seller: OrganizationRef | None
    buyer: OrganizationRef | None
    mode: TransferMode
    amount_cny: str = Field(description='A decimal number of yuan, exact (e.g. "1250000.00").')
    signed_on: date
    broker_id: int | None
    broker_name: str | None
    major: bool
    created_at: datetime

    @classmethod
    def of(cls, show: Presenter, t: Transfer) -> TransferPublic:
        """``t`` with achievement, demand, parties and broker (with person) loaded."""
        return cls(
            id=t.id,
            kind=TransferKind(t.kind),
            investment_round=t.investment_round,
            contract_no=t.contract_no,
            achievement=TitledRef(id=t.achievement.id, title=t.achievement.title) if t.achievement else None,
            demand=TitledRef(id=t.demand.id, title=t.demand.title) if t.demand else None,
            seller=OrganizationRef.of(t.seller),
            buyer=OrganizationRef.of(t.buyer),
            mode=TransferMode(t.mode),
            amount_cny=f"{t.amount_cny:.2f}",
            signed_on=t.signed_on,
            broker_id=t.broker_id,
            broker_name=t.broker.person.name if t.broker else None,
            major=t.major,
            created_at=_at(show, t.created_at),
        )


TRANSFER_EXPORT_HEADER = (
    "id",
    "contract_no",
    "signed_on",
    "mode",
    "amount_cny",
    "major",
    "achievement_id",
    "achievement",
    "demand_id",
    "demand",
    "seller",
    "buyer",
    "broker",
    "created_at",
)


def transfer_export_row(t: Transfer) -> list[Any]:
    return [
        t.id,
        t.contract_no,
        t.signed_on.isoformat(),
        str(TransferMode(t.mode).value),
        t.amount_cny,
        "true" if t.major else "false",
        t.achievement_id,
        t.achievement.title if t.achievement else None,
        t.demand_id,
        t.demand.title if t.demand else None,
        t.seller.name if t.seller else None,
        t.buyer.name if t.buyer else None,
        t.broker.person.name if t.broker else None,
        t.created_at,
    ]


def achievement_export_rows(rows: list[Achievement]) -> list[list[Any]]:
    return [achievements.export_row(a) for a in rows]
