"""Broker profiles: who is in the training programme, and the lock their ledger writes take."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from events import secretbox
from events.db import dialect_of
from events.districts import is_known
from events.errors import N_, AlreadyBroker, BrokerNotFound, InvalidInput
from events.models import Broker, Course, Person
from events.services import activity, organizations
from events.services.people import find_or_create_person, normalize_email, normalize_phone

Specialty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]


class _ProfileFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    organization: Annotated[str, StringConstraints(max_length=200)] | None = None
    district: str | None = None
    specialties: Annotated[list[Specialty], Field(max_length=20)] | None = None


class BrokerInput(_ProfileFields):
    """A new broker: an existing person by id, or contact details (a new person unless the Telegram id
    is a known person's: a phone or an e-mail address does not find anyone, see ``people``).
    """

    person_id: Annotated[int, Field(gt=0, lt=2**31)] | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    telegram_id: Annotated[int, Field(gt=0, lt=2**53)] | None = None

    @model_validator(mode="after")
    def _someone(self) -> BrokerInput:
        if self.person_id is None:
            if not self.name:
                raise ValueError("name (or person_id) is required")
            if not (self.phone or self.email or self.telegram_id):
                raise ValueError("a phone, an email or a telegram_id is required to reach the broker")
        return self


class BrokerPatch(_ProfileFields):
    pass


def _district(code: str | None) -> str | None:
    if code is None or code == "":
        return None
    if not is_known(code):
        raise InvalidInput(N_("Unknown district %(code)s."), field="district", code=code[:40])
    return code


def _specialties(values: list[str] | None) -> list[str]:
    seen: list[str] = []
    for value in values or []:
        if value not in seen:
            seen.append(value)
    return seen


TRANSCRIPT_PURPOSE = "transcript"


def new_transcript_token() -> str:
    """A new seed for the transcript address (the database keeps the seed, never the address's token)."""
    return secretbox.new_seed()


def transcript_token(broker: Broker) -> str:
    """The token of the broker's own transcript address, derived from the stored seed."""
    return secretbox.current().capability(TRANSCRIPT_PURPOSE, broker.transcript_token)


async def create_broker(data: BrokerInput, *, actor: str, organization_id: int | None = None) -> Broker:
    """A broker entered by ``organization_id`` (None: the default organization).
    Raises ``already_broker``, ``invalid_input`` (unknown district or person).
    """
    district = _district(data.district)
    if organization_id is None:
        organization_id = await organizations.default_organization_id()
    async with in_transaction() as conn:
        if data.person_id is not None:
            person = await Person.get_or_none(id=data.person_id, using_db=conn)
            if person is None:
                raise InvalidInput(N_("No such person."), field="person_id")
        else:
            assert data.name is not None
            person = await find_or_create_person(
                name=data.name,
                phone=normalize_phone(data.phone),
                email=normalize_email(data.email),
                organization=data.organization,
                telegram_id=data.telegram_id,
                using_db=conn,
            )
        existing = await Broker.get_or_none(person_id=person.id, using_db=conn)
        if existing is not None:
            raise AlreadyBroker(broker_id=existing.id)
        broker = await Broker.create(
            person_id=person.id,
            organization=data.organization or person.organization,
            district=district,
            specialties=_specialties(data.specialties),
            transcript_token=new_transcript_token(),
            owner_organization_id=organization_id,
            created_by=actor[:100],
            using_db=conn,
        )
        await activity.record("broker.created", actor=actor, person_id=person.id, using_db=conn, broker_id=broker.id)
    return await get_broker(broker.id)


async def ensure_broker(
    conn: BaseDBAsyncClient, person_id: int, *, actor: str, organization_id: int | None = None
) -> Broker:
    """The person's broker profile, made on the spot for someone who enrolls in (or attends) a course;
    a new profile belongs to ``organization_id``, the course's organization.
    """
    broker = await Broker.get_or_none(person_id=person_id, using_db=conn)
    if broker is not None:
        return broker
    person = await Person.get(id=person_id, using_db=conn)
    if organization_id is None:
        organization_id = await organizations.default_organization_id()
    # ON CONFLICT DO NOTHING: a concurrent enrollment of the same person may have made it a moment ago.
    await Broker.bulk_create(
        [
            Broker(
                person_id=person_id,
                organization=person.organization,
                transcript_token=new_transcript_token(),
                owner_organization_id=organization_id,
                created_by=actor[:100],
            )
        ],
        ignore_conflicts=True,
        using_db=conn,
    )
    broker = await Broker.get(person_id=person_id, using_db=conn)
    await activity.record("broker.created", actor=actor, person_id=person_id, using_db=conn, broker_id=broker.id)
    return broker


async def on_registered(conn: BaseDBAsyncClient, *, event_id: int, person_id: int, actor: str) -> None:
    """Registering for a course's event is enrolling: the person becomes a broker if not one yet."""
    course = await Course.get_or_none(event_id=event_id, using_db=conn).select_related("event")
    if course is not None:
        await ensure_broker(conn, person_id, actor=actor, organization_id=course.event.organization_id)


async def get_broker(broker_id: int) -> Broker:
    """With its person loaded. Raises ``broker_not_found``."""
    broker = await Broker.get_or_none(id=broker_id).select_related("person")
    if broker is None:
        raise BrokerNotFound()
    return broker


async def broker_of_person(person_id: int) -> Broker | None:
    return await Broker.get_or_none(person_id=person_id).select_related("person")


async def broker_by_transcript_token(token: str) -> Broker | None:
    """The broker whose transcript address carries ``token`` (checked in constant time), else None."""
    seed = secretbox.current().seed_of(TRANSCRIPT_PURPOSE, token)
    if seed is None:
        return None
    return await Broker.get_or_none(transcript_token=seed).select_related("person")


async def update_broker(broker_id: int, patch: BrokerPatch, *, actor: str) -> Broker:
    """Raises ``broker_not_found``, ``invalid_input``."""
    broker = await get_broker(broker_id)
    values = patch.model_dump(exclude_unset=True)
    if "district" in values:
        broker.district = _district(values["district"])
    if "organization" in values:
        broker.organization = values["organization"]
    if "specialties" in values:
        broker.specialties = _specialties(values["specialties"])
    async with in_transaction() as conn:
        await broker.save(using_db=conn)
        await activity.record(
            "broker.changed", actor=actor, person_id=broker.person_id, using_db=conn, broker_id=broker.id, **values
        )
    return broker


async def rotate_transcript_token(broker_id: int) -> Broker:
    broker = await get_broker(broker_id)
    broker.transcript_token = new_transcript_token()
    await broker.save(update_fields=["transcript_token", "updated_at"])
    return broker


async def lock_broker(conn: BaseDBAsyncClient, broker_id: int) -> Broker:
    """Serialise ledger writes per broker so that each one sees every line before it, and the
    certification check after it cannot miss a line written at the same moment.
    Raises ``broker_not_found``.
    """
    if dialect_of(conn) == "sqlite":
        await conn.execute_query("UPDATE broker SET id = id WHERE id = ?", [broker_id])
        broker = await Broker.get_or_none(id=broker_id, using_db=conn)
    else:
        broker = await Broker.filter(id=broker_id).select_for_update().using_db(conn).first()
    if broker is None:
        raise BrokerNotFound()
    return broker
