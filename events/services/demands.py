"""Demands (需求): what a company, a university or a district needs — a technology, talent, capital or
an application scenario — entered by an organizer, posted in the bot, imported or collected by a
grid worker or broker.

Every demand is managed by one organization (``managed_by``: ownership reads it) and may be about
another (``organization``: the company with the problem). A new demand close to an active one of the
same kind and place is flagged as its near-duplicate (``duplicate_of``), never merged. A broker who
claims a demand becomes accountable for it until a follow-up date; the status timeline lives in
``demand_status``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from events import clock, supply_fields
from events.districts import is_known as is_known_district
from events.errors import (
    N_,
    AlreadyClaimed,
    DemandNotActive,
    DemandNotFound,
    InvalidInput,
    NotClaimed,
    OrganizationNotFound,
)
from events.models import (
    Broker,
    Demand,
    DemandKind,
    DemandSource,
    DemandStatus,
    Person,
    TransferMode,
)
from events.services import activity, demand_status, near_duplicates, organizations, paging, supply_events
from events.services.organizations import EVERYTHING, Scope
from events.services.people import find_or_create_person, normalize_email, normalize_phone

MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
MAX_INDICATORS = 5_000
MAX_BUDGET = 10**13  # ten trillion yuan: anything above is a typo
DEFAULT_FOLLOW_UP = timedelta(days=7)
# Near-duplicate candidates: active demands of the same kind and place entered in the last year,
# the most recent few hundred (an index on kind/status/district keeps this cheap at 5,000+ demands).
DUPLICATE_WINDOW = timedelta(days=365)
DUPLICATE_CANDIDATES = 300
# Only the head of a long description is compared: the problem is stated first.
DUPLICATE_TEXT = 2_000

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE)]
Budget = Annotated[int, Field(ge=0, le=MAX_BUDGET)]
Trl = Annotated[int, Field(ge=1, le=9)]
OrganizationRef = int | Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ContactInput(BaseModel):
    """Who to talk to: a name and a way to reach them. A phone or an e-mail address never finds an
    existing person (see ``people``): the contact is a new person unless the Telegram id is known.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    telegram_id: Annotated[int, Field(gt=0, lt=2**53)] | None = None

    @model_validator(mode="after")
    def _reachable(self) -> ContactInput:
        if not (self.phone or self.email or self.telegram_id):
            raise ValueError("a contact needs a phone, an email or a telegram_id")
        return self


class _DemandFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    description: Annotated[str, Field(max_length=MAX_DESCRIPTION)] | None = None
    indicators: Annotated[str, Field(max_length=MAX_INDICATORS)] | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] | None = None
    field: Annotated[str, StringConstraints(max_length=32)] | None = None
    min_trl: Trl | None = None
    transfer_modes: Annotated[list[TransferMode], Field(max_length=5)] | None = None
    budget_min_cny: Budget | None = None
    budget_max_cny: Budget | None = None
    deadline: date | None = None
    district: Annotated[str, StringConstraints(max_length=32)] | None = None
    organization: OrganizationRef | None = None


class DemandInput(_DemandFields):
    """A new demand. ``organization`` is an organization's id or name (a new name is made);
    ``collected_by`` (a person id) is required with source ``collected``.
    """

    kind: DemandKind
    title: Title
    contact: ContactInput | None = None
    source: DemandSource = DemandSource.API
    collected_by: Annotated[int, Field(gt=0, lt=2**31)] | None = None
    external_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None

    @field_validator("title")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a title is required")
        return value


class DemandPatch(_DemandFields):
    """A change: only the fields sent change (null clears an optional one). ``status`` moves along the
    timeline's graph; closing needs a ``note`` (why).
    """

    kind: DemandKind | None = None
    title: Title | None = None
    status: DemandStatus | None = None
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


def _field(code: str | None) -> str | None:
    if code is None or code == "":
        return None
    if not supply_fields.is_known(code):
        raise InvalidInput(N_("Unknown field %(code)s."), field="field", code=code[:40])
    return code


def _district(code: str | None) -> str | None:
    if code is None or code == "":
        return None
    if not is_known_district(code):
        raise InvalidInput(N_("Unknown district %(code)s."), field="district", code=code[:40])
    return code


def _deadline(value: date | None) -> date | None:
    if value is not None and value < demand_status.local_today():
        raise InvalidInput(N_("The deadline %(date)s has already passed."), field="deadline", date=value.isoformat())
    return value


def _budget(low: int | None, high: int | None) -> None:
    if low is not None and high is not None and low > high:
        raise InvalidInput(N_("The lowest budget cannot be above the highest."), field="budget_max_cny")


def _tags(values: list[str] | None) -> list[str]:
    return list(dict.fromkeys(values or []))


def _modes(values: list[TransferMode] | None) -> list[str]:
    return list(dict.fromkeys(TransferMode(v).value for v in values or []))


async def _organization_id(ref: int | str | None) -> int | None:
    if ref is None or ref == "":
        return None
    try:
        return (await organizations.resolve_organization(ref, create=True)).id
    except OrganizationNotFound:
        raise InvalidInput(N_("No such organization."), field="organization") from None


async def _contact(data: ContactInput, conn: BaseDBAsyncClient) -> Person:
    return await find_or_create_person(
        name=data.name,
        phone=normalize_phone(data.phone),
        email=normalize_email(data.email),
        organization=None,
        telegram_id=data.telegram_id,
        using_db=conn,
    )


async def near_duplicate(
    *,
    kind: DemandKind,
    managed_by: int,
    organization_id: int | None,
    district: str | None,
    title: str,
    description: str,
    using_db: BaseDBAsyncClient | None = None,
    exclude: int | None = None,
) -> tuple[int, float] | None:
    """The active demand (same kind, same managing organization, and the same organization or district
    when the new one names them) this text most resembles, with its score; None below the threshold.
    """
    qs = Demand.filter(
        kind=kind,
        managed_by_id=managed_by,
        status__in=list(demand_status.ACTIVE),
        created_at__gte=clock.now() - DUPLICATE_WINDOW,
    )
    place = Q()
    if organization_id is not None:
        place |= Q(organization_id=organization_id)
    if district is not None:
        place |= Q(district=district)
    if organization_id is not None or district is not None:
        qs = qs.filter(place)
    if exclude is not None:
        qs = qs.exclude(id=exclude)
    rows = (
        await qs.order_by("-id")
        .limit(DUPLICATE_CANDIDATES)
        .using_db(using_db)
        .values_list("id", "title", "description")
    )
    candidates = [(row_id, row_title, (row_text or "")[:DUPLICATE_TEXT]) for row_id, row_title, row_text in rows]
    return near_duplicates.best_match(title, description[:DUPLICATE_TEXT], candidates)


async def create_demand(
    data: DemandInput, *, actor: str, managed_by: int | None = None, contact_person_id: int | None = None
) -> Demand:
    """A demand managed by ``managed_by`` (None: the default organization). ``contact_person_id`` (the
    bot: the chat's own person) is used instead of ``data.contact``. Flags a near-duplicate.
    Raises ``invalid_input`` (field, district, deadline, budget, organization, contact, collected_by).
    """
    field = _field(data.field)
    district = _district(data.district)
    deadline = _deadline(data.deadline)
    _budget(data.budget_min_cny, data.budget_max_cny)
    if data.source == DemandSource.COLLECTED and data.collected_by is None:
        raise InvalidInput(N_("A collected demand names who collected it."), field="collected_by")
    if managed_by is None:
        managed_by = await organizations.default_organization_id()
    organization_id = await _organization_id(data.organization)
    description = data.description or ""
    async with in_transaction() as conn:
        if data.collected_by is not None and not await Person.filter(id=data.collected_by).using_db(conn).exists():
            raise InvalidInput(N_("No such person."), field="collected_by")
        if contact_person_id is None and data.contact is not None:
            contact_person_id = (await _contact(data.contact, conn)).id
        duplicate = await near_duplicate(
            kind=data.kind,
            managed_by=managed_by,
            organization_id=organization_id,
            district=district,
            title=data.title,
            description=description,
            using_db=conn,
        )
        demand = await Demand.create(
            external_id=data.external_id,
            kind=data.kind,
            title=data.title,
            description=description,
            indicators=data.indicators or "",
            tags=_tags(data.tags),
            field=field,
            min_trl=data.min_trl,
            transfer_modes=_modes(data.transfer_modes),
            budget_min_cny=data.budget_min_cny,
            budget_max_cny=data.budget_max_cny,
            deadline=deadline,
            district=district,
            organization_id=organization_id,
            contact_id=contact_person_id,
            source=data.source,
            collected_by_id=data.collected_by if data.source == DemandSource.COLLECTED else None,
            status=DemandStatus.OPEN,
            status_changed_at=clock.now(),
            duplicate_of_id=duplicate[0] if duplicate else None,
            duplicate_score=round(duplicate[1], 4) if duplicate else None,
            managed_by_id=managed_by,
            created_by=actor[:100],
            created_at=clock.now(),
            using_db=conn,
        )
        await demand_status.record_creation(demand, actor=actor, using_db=conn)
        await activity.record(
            "demand.created",
            actor=actor,
            person_id=contact_person_id,
            using_db=conn,
            demand_id=demand.id,
            managed_by=managed_by,
        )
    await supply_events.saved("demand", [demand.id])
    return await _loaded(demand.id)


def _related(qs: QuerySet[Demand]) -> QuerySet[Demand]:
    return qs.select_related("organization", "contact", "duplicate_of", "broker__person", "collected_by")


async def _loaded(demand_id: int) -> Demand:
    demand = await _related(Demand.filter(id=demand_id)).first()
    if demand is None:
        raise DemandNotFound()
    return demand


async def get_demand(demand_id: int, scope: Scope = EVERYTHING) -> Demand:
    """With its organization, contact, broker and near-duplicate loaded. Raises ``demand_not_found``
    (also for another organization's demand).
    """
    demand = await _related(Demand.filter(id=demand_id)).first()
    if demand is None or not scope.covers(demand.managed_by_id):
        raise DemandNotFound()
    return demand


async def update_demand(demand_id: int, patch: DemandPatch, *, actor: str, scope: Scope = EVERYTHING) -> Demand:
    """Change the fields sent; a ``status`` moves along the graph (closing needs a ``note``).
    Raises ``demand_not_found``, ``invalid_input``, ``invalid_transition``.
    """
    demand = await get_demand(demand_id, scope)
    values = patch.model_dump(exclude_unset=True)
    status = values.pop("status", None)
    note = (values.pop("note", None) or "").strip()
    for name in ("kind", "title"):
        if name in values and values[name] is None:
            raise InvalidInput(N_("%(field)s cannot be empty."), field=name)
    if status == DemandStatus.CLOSED and not note:
        raise InvalidInput(N_("Closing a demand needs a note saying why."), field="note")
    changes: dict[str, Any] = {}
    if "field" in values:
        changes["field"] = _field(values["field"])
    if "district" in values:
        changes["district"] = _district(values["district"])
    if "deadline" in values and values["deadline"] != demand.deadline:
        changes["deadline"] = _deadline(values["deadline"])
    if "organization" in values:
        changes["organization_id"] = await _organization_id(values["organization"])
    if "tags" in values:
        changes["tags"] = _tags(values["tags"])
    if "transfer_modes" in values:
        changes["transfer_modes"] = _modes(patch.transfer_modes)
    for name in ("description", "indicators"):
        if name in values:
            changes[name] = values[name] or ""
    for name in ("kind", "title", "min_trl", "budget_min_cny", "budget_max_cny"):
        if name in values:
            changes[name] = values[name]
    _budget(changes.get("budget_min_cny", demand.budget_min_cny), changes.get("budget_max_cny", demand.budget_max_cny))
    async with in_transaction() as conn:
        if changes:
            changes["updated_at"] = clock.now()
            await Demand.filter(id=demand.id).using_db(conn).update(**changes)
            await activity.record(
                "demand.updated",
                actor=actor,
                person_id=demand.contact_id,
                using_db=conn,
                demand_id=demand.id,
                managed_by=demand.managed_by_id,
                changed=sorted(k for k in changes if k != "updated_at"),
            )
        if status is not None:
            await demand_status.transition(demand, DemandStatus(status), actor=actor, using_db=conn, note=note)
    if changes:
        await supply_events.saved("demand", [demand.id])
    return await _loaded(demand.id)


@dataclass(frozen=True, slots=True)
class DemandQuery:
    kind: DemandKind | None = None
    status: DemandStatus | None = None
    district: str | None = None
    field: str | None = None
    q: str | None = None
    broker_id: int | None = None
    organization_id: int | None = None
    contact_id: int | None = None
    overdue: bool = False
    limit: int | None = 50
    cursor: str | None = None
    created_since: datetime | None = None  # entered at or after (the dashboard's figures link here)
    created_before: datetime | None = None  # entered before


ORDER = ("-id",)  # newest first


def _filtered(found: DemandQuery, scope: Scope) -> QuerySet[Demand]:
    qs = Demand.all()
    if not scope.everything:
        qs = qs.filter(managed_by_id=scope.organization_id)
    if found.kind is not None:
        qs = qs.filter(kind=found.kind)
    if found.status is not None:
        qs = qs.filter(status=found.status)
    if found.district:
        qs = qs.filter(district=found.district)
    if found.field:
        qs = qs.filter(field=found.field)
    if found.broker_id is not None:
        qs = qs.filter(broker_id=found.broker_id)
    if found.organization_id is not None:
        qs = qs.filter(organization_id=found.organization_id)
    if found.contact_id is not None:
        qs = qs.filter(contact_id=found.contact_id)
    if found.q:
        qs = qs.filter(Q(title__icontains=found.q) | Q(description__icontains=found.q))
    if found.created_since is not None:
        qs = qs.filter(created_at__gte=found.created_since)
    if found.created_before is not None:
        qs = qs.filter(created_at__lt=found.created_before)
    if found.overdue:
        qs = qs.filter(broker_id__isnull=False, follow_up_due__lt=clock.now(), status__in=list(demand_status.ACTIVE))
    return qs


async def list_demands(found: DemandQuery, *, scope: Scope = EVERYTHING) -> paging.Page[Demand]:
    """Demands the scope manages, newest first, a page at a time (``limit`` None: all of them), with
    ``total``. Raises ``invalid_input`` (a cursor not of this list).
    """
    qs = _filtered(found, scope)
    total = await qs.count()
    rows = _related(paging.after(qs, "demands", ORDER, found.cursor)).order_by(*ORDER)
    if found.limit is None:
        return paging.Page(items=await rows, next_cursor=None, total=total)
    return paging.page(await rows.limit(found.limit + 1), "demands", ORDER, found.limit, total=total)


async def demands_of_person(person_id: int, *, limit: int = 20) -> list[Demand]:
    """The demands a person posted or is the contact of, newest first (the bot's /mydemands)."""
    return await Demand.filter(contact_id=person_id).order_by("-id").limit(limit)


# Claims -------------------------------------------------------------------------------------------


async def _broker(broker_id: int, conn: BaseDBAsyncClient) -> Broker:
    broker = await Broker.get_or_none(id=broker_id, using_db=conn)
    if broker is None:
        raise InvalidInput(N_("No such broker."), field="broker_id")
    return broker


async def claim_demand(
    demand_id: int,
    broker_id: int,
    *,
    actor: str,
    scope: Scope = EVERYTHING,
    follow_up: timedelta = DEFAULT_FOLLOW_UP,
) -> Demand:
    """The broker takes the demand on and must follow it up within ``follow_up``; the claim is the
    demand's first response. Claiming one's own demand again changes nothing.
    Raises ``demand_not_found``, ``invalid_input`` (no such broker), ``already_claimed`` (another
    broker holds it), ``demand_not_active`` (contracted, closed or expired).
    """
    demand = await get_demand(demand_id, scope)
    now = clock.now()
    async with in_transaction() as conn:
        broker = await _broker(broker_id, conn)
        # One conditional UPDATE decides between concurrent claims: only a row nobody holds is taken,
        # so of two brokers claiming at once exactly one gets it and the other sees it held.
        taken = (
            await Demand.filter(id=demand.id, broker_id__isnull=True, status__in=list(demand_status.ACTIVE))
            .using_db(conn)
            .update(
                broker_id=broker.id,
                claimed_at=now,
                follow_up_due=now + follow_up,
                follow_up_reminded_at=None,
                updated_at=now,
            )
        )
        if not taken:
            fresh = await Demand.get(id=demand.id, using_db=conn)
            if fresh.broker_id == broker.id:
                return await _loaded(demand.id)
            if fresh.status not in demand_status.ACTIVE:
                raise DemandNotActive(status=DemandStatus(fresh.status).value)
            raise AlreadyClaimed()
        await demand_status.mark_first_response(demand, using_db=conn, at=now)
        await activity.record(
            "demand.claimed",
            actor=actor,
            person_id=broker.person_id,
            using_db=conn,
            demand_id=demand.id,
            managed_by=demand.managed_by_id,
            broker_id=broker.id,
        )
    return await _loaded(demand.id)


async def release_claim(
    demand_id: int, *, actor: str, scope: Scope = EVERYTHING, broker_id: int | None = None
) -> Demand:
    """The demand's broker lets it go (``broker_id``: only if that broker holds it; None: whoever does).
    Raises ``demand_not_found``, ``not_claimed``, ``already_claimed`` (another broker holds it).
    """
    demand = await get_demand(demand_id, scope)
    async with in_transaction() as conn:
        holder = (await Demand.get(id=demand.id, using_db=conn)).broker_id
        if holder is None:
            raise NotClaimed()
        if broker_id is not None and holder != broker_id:
            raise AlreadyClaimed()
        released = (
            await Demand.filter(id=demand.id, broker_id=holder)
            .using_db(conn)
            .update(broker_id=None, claimed_at=None, follow_up_due=None, follow_up_reminded_at=None,
                    updated_at=clock.now())
        )  # fmt: skip
        if not released:
            raise NotClaimed()
        await activity.record(
            "demand.released",
            actor=actor,
            using_db=conn,
            demand_id=demand.id,
            managed_by=demand.managed_by_id,
            broker_id=holder,
        )
    return await _loaded(demand.id)


async def record_follow_up(
    demand_id: int,
    note: str,
    *,
    actor: str,
    scope: Scope = EVERYTHING,
    broker_id: int | None = None,
    follow_up: timedelta = DEFAULT_FOLLOW_UP,
) -> Demand:
    """The broker reports on the demand (``note``, kept in the activity log) and the next follow-up is
    due ``follow_up`` from now. Raises ``demand_not_found``, ``invalid_input`` (an empty note),
    ``not_claimed``, ``already_claimed`` (``broker_id`` is not the holder), ``demand_not_active``.
    """
    note = note.strip()
    if not note:
        raise InvalidInput(N_("A follow-up needs a note."), field="note")
    demand = await get_demand(demand_id, scope)
    now = clock.now()
    async with in_transaction() as conn:
        fresh = await Demand.get(id=demand.id, using_db=conn)
        if fresh.broker_id is None:
            raise NotClaimed()
        if broker_id is not None and fresh.broker_id != broker_id:
            raise AlreadyClaimed()
        if fresh.status not in demand_status.ACTIVE:
            raise DemandNotActive(status=DemandStatus(fresh.status).value)
        moved = (
            await Demand.filter(id=demand.id, broker_id=fresh.broker_id)
            .using_db(conn)
            .update(follow_up_due=now + follow_up, follow_up_reminded_at=None, updated_at=now)
        )
        if not moved:
            raise NotClaimed()
        await activity.record(
            "demand.follow_up",
            actor=actor,
            using_db=conn,
            demand_id=demand.id,
            managed_by=demand.managed_by_id,
            broker_id=fresh.broker_id,
            note=note[:2000],
            due=(now + follow_up).isoformat(),
        )
    return await _loaded(demand.id)


async def flag_overdue_follow_ups(*, period: timedelta = DEFAULT_FOLLOW_UP, limit: int = 500) -> int:
    """A scheduler pass: each claimed, active demand past its follow-up date gets one
    ``demand.follow_up_overdue`` fact per ``period`` (the producer tells its broker). The conditional
    UPDATE makes a second pass, or a second process, add nothing. Returns how many were flagged.
    """
    now = clock.now()
    due = Q(broker_id__isnull=False, follow_up_due__lt=now, status__in=list(demand_status.ACTIVE)) & (
        Q(follow_up_reminded_at__isnull=True) | Q(follow_up_reminded_at__lte=now - period)
    )
    flagged = 0
    for demand_id in await Demand.filter(due).order_by("follow_up_due", "id").limit(limit).values_list("id", flat=True):
        async with in_transaction() as conn:
            if not await Demand.filter(due, id=demand_id).using_db(conn).update(follow_up_reminded_at=now):
                continue
            demand = await Demand.get(id=demand_id, using_db=conn).select_related("broker")
            assert demand.broker is not None
            assert demand.follow_up_due is not None
            await activity.record(
                "demand.follow_up_overdue",
                actor="system:follow-up",
                person_id=demand.broker.person_id,
                using_db=conn,
                demand_id=demand.id,
                managed_by=demand.managed_by_id,
                broker_id=demand.broker_id,
                due=demand.follow_up_due.isoformat(),
            )
            flagged += 1
    return flagged


def overdue(demand: Demand, now: datetime | None = None) -> bool:
    return (
        demand.broker_id is not None
        and demand.follow_up_due is not None
        and demand.follow_up_due < (now or clock.now())
        and demand.status in demand_status.ACTIVE
    )
