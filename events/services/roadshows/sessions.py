"""Meeting sessions and their slots, the participants who take meetings, their availability and their
interest in one another.

A session belongs to a roadshow or fair (an event of kind ``roadshow`` or ``fair``) and is cut into
equal slots of 15, 20 or 30 minutes when it is made; ``tables`` meetings run at once. Sessions of one
event never overlap, so a person's claim on a slot is a claim on that time at the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from events.db import dialect_of
from events.errors import (
    N_,
    AlreadyParticipant,
    InvalidInput,
    MeetingSessionNotFound,
    NotARoadshow,
    ParticipantNotFound,
    SlotTaken,
)
from events.models import (
    Achievement,
    Competition,
    Entry,
    Event,
    EventKind,
    Investor,
    MeetingClaim,
    MeetingInterest,
    MeetingRequest,
    MeetingSession,
    MeetingSlot,
    MeetingStatus,
    OrganizationKind,
    Participant,
    ParticipantRole,
    Person,
)
from events.services import activity, organizations, ownership
from events.services.organizations import Scope

SLOT_MINUTES = (15, 20, 30)
MAX_SLOTS = 96
MAX_TABLES = 500
ROADSHOW_KINDS = (EventKind.ROADSHOW, EventKind.FAIR)
DbId = Annotated[int, Field(ge=1, lt=2**31)]


async def roadshow(event_id: int, scope: Scope) -> Event:
    """The event if the scope reaches it and it holds meetings. Raises ``event_not_found``,
    ``not_a_roadshow``."""
    event = await ownership.owned_event(event_id, scope)
    if event.kind not in ROADSHOW_KINDS:
        raise NotARoadshow()
    return event


# ------------------------------------------------------------------------------------------- sessions


class SessionInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Annotated[str, StringConstraints(max_length=200)] = ""
    starts_at: datetime
    ends_at: datetime
    slot_minutes: Literal[15, 20, 30] = Field(description="The length of one meeting.")
    tables: Annotated[int, Field(ge=1, le=MAX_TABLES)] = Field(description="How many meetings run at once.")
    request_expiry_hours: Annotated[int, Field(ge=1, le=24 * 14)] = Field(
        default=24, description="A pending request lapses after this many hours, or when its slot begins."
    )
    follow_up_days: Annotated[int, Field(ge=1, le=730)] = Field(
        default=90, description="Both sides are asked again this many days after the meeting."
    )
    reminder_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = Field(
        default=30, description="Both sides are reminded this many minutes before the meeting."
    )


def _aware(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None:
        raise InvalidInput(N_("Give the time with its offset (e.g. +08:00)."), field=field)
    return moment


def slot_times(starts_at: datetime, ends_at: datetime, minutes: int) -> list[tuple[datetime, datetime]]:
    step = timedelta(minutes=minutes)
    count = int((ends_at - starts_at) / step)
    return [(starts_at + i * step, starts_at + (i + 1) * step) for i in range(count)]


async def create_session(event_id: int, data: SessionInput, *, scope: Scope, actor: str) -> MeetingSession:
    """A session and its slots. Raises ``event_not_found``, ``not_a_roadshow``, ``invalid_input`` (times
    backwards, fewer than one slot or more than 96, overlapping another session of the event)."""
    event = await roadshow(event_id, scope)
    starts, ends = _aware(data.starts_at, "starts_at"), _aware(data.ends_at, "ends_at")
    if ends <= starts:
        raise InvalidInput(N_("The end must come after the start."), field="ends_at")
    times = slot_times(starts, ends, data.slot_minutes)
    if not times:
        raise InvalidInput(N_("The session is shorter than one slot."), field="ends_at")
    if len(times) > MAX_SLOTS:
        raise InvalidInput(N_("A session has at most %(max)s slots."), field="ends_at", max=MAX_SLOTS)
    async with in_transaction() as conn:
        await conn.execute_query(*_lock_event(dialect_of(conn), event.id))
        overlapping = await MeetingSession.filter(event_id=event.id, starts_at__lt=ends, ends_at__gt=starts).using_db(
            conn
        )
        if overlapping:
            raise InvalidInput(
                N_("It overlaps meeting session %(other)s of this event."), field="starts_at", other=overlapping[0].id
            )
        session = await MeetingSession.create(
            event_id=event.id, title=data.title, starts_at=starts, ends_at=ends, slot_minutes=data.slot_minutes,
            tables=data.tables, request_expiry_hours=data.request_expiry_hours, follow_up_days=data.follow_up_days,
            reminder_minutes=data.reminder_minutes, created_by=actor[:100], using_db=conn,
        )  # fmt: skip
        await MeetingSlot.bulk_create(
            [
                MeetingSlot(session_id=session.id, number=i + 1, starts_at=start, ends_at=end)
                for i, (start, end) in enumerate(times)
            ],
            using_db=conn,
        )
        await activity.record(
            "meeting.session_created", actor=actor, event_id=event.id, using_db=conn, session_id=session.id,
            slots=len(times), tables=data.tables,
        )  # fmt: skip
    return session


def _lock_event(dialect: str, event_id: int) -> tuple[str, list[int]]:
    """Serialise session changes of one event (FOR UPDATE; on SQLite a write makes it the writer)."""
    if dialect == "sqlite":
        return 'UPDATE "event" SET id = id WHERE id = ?', [event_id]
    return 'SELECT id FROM "event" WHERE id = $1 FOR UPDATE', [event_id]


async def list_sessions(event_id: int, scope: Scope) -> list[MeetingSession]:
    await roadshow(event_id, scope)
    return list(await MeetingSession.filter(event_id=event_id).order_by("starts_at", "id"))


async def get_session(event_id: int, session_id: int, scope: Scope) -> MeetingSession:
    """Raises ``event_not_found``, ``meeting_session_not_found``."""
    await ownership.owned_event(event_id, scope)
    found = await MeetingSession.get_or_none(id=session_id, event_id=event_id)
    if found is None:
        raise MeetingSessionNotFound()
    return found


@dataclass(frozen=True, slots=True)
class SlotLoad:
    slot: MeetingSlot
    meetings: int  # accepted
    pending: int
    tables_free: int


async def slot_loads(session: MeetingSession) -> list[SlotLoad]:
    """Each slot with how many meetings and pending requests hold it and how many tables are free."""
    slots = await MeetingSlot.filter(session_id=session.id).order_by("number")
    rows = await MeetingRequest.filter(session_id=session.id, status__in=["pending", "accepted"]).values_list(
        "slot_id", "status"
    )
    accepted: dict[int, int] = {}
    pending: dict[int, int] = {}
    for slot_id, status in rows:
        target = accepted if status == MeetingStatus.ACCEPTED else pending
        target[slot_id] = target.get(slot_id, 0) + 1
    return [
        SlotLoad(
            slot,
            accepted.get(slot.id, 0),
            pending.get(slot.id, 0),
            session.tables - accepted.get(slot.id, 0) - pending.get(slot.id, 0),
        )
        for slot in slots
    ]


# --------------------------------------------------------------------------------------- participants


class ParticipantInput(BaseModel):
    """Who takes meetings: an investor profile, a project (an achievement, a competition entry, or a
    company by name with the person who represents it) or a guest."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    role: ParticipantRole | None = Field(
        default=None, description="investor | project | guest; implied by investor_id, achievement_id, entry_id."
    )
    person_id: DbId | None = Field(
        default=None,
        description="Who takes the meetings; defaults to the investor's person, the achievement's "
        "contact or the entry's leader.",
    )
    investor_id: DbId | None = None
    achievement_id: DbId | None = None
    entry_id: DbId | None = None
    organization: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="A company project: the company's name (added when new)."
    )
    title: Annotated[str, StringConstraints(min_length=1, max_length=300)] | None = Field(
        default=None, description="What the other side sees; defaults to the investor's, achievement's or entry's."
    )


async def add_participant(event_id: int, data: ParticipantInput, *, scope: Scope, actor: str) -> Participant:
    """Raises ``event_not_found``, ``not_a_roadshow``, ``invalid_input`` (no person, records not reachable,
    a role that contradicts the record), ``already_participant``."""
    event = await roadshow(event_id, scope)
    given = [k for k in ("investor_id", "achievement_id", "entry_id") if getattr(data, k) is not None]
    if len(given) > 1:
        raise InvalidInput(N_("Give one of investor_id, achievement_id and entry_id."), field=given[1])
    person_id, title, organization_id = data.person_id, data.title, None
    role = data.role
    investor_id = achievement_id = entry_id = None
    if data.investor_id is not None:
        investor = await Investor.get_or_none(id=data.investor_id)
        if investor is None or not scope.covers(investor.managed_by_id):
            raise InvalidInput(N_("No such investor."), field="investor_id")
        investor_id, person_id = investor.id, person_id or investor.person_id
        title, organization_id = title or investor.name, investor.organization_id
        implied = ParticipantRole.INVESTOR
    elif data.achievement_id is not None:
        achievement = await Achievement.get_or_none(id=data.achievement_id)
        if achievement is None or not scope.covers(achievement.managed_by_id):
            raise InvalidInput(N_("No such achievement."), field="achievement_id")
        achievement_id, person_id = achievement.id, person_id or achievement.contact_id
        title, organization_id = title or achievement.title, achievement.owner_organization_id
        implied = ParticipantRole.PROJECT
    elif data.entry_id is not None:
        entry = await Entry.get_or_none(id=data.entry_id)
        competition = await Competition.get_or_none(id=entry.competition_id) if entry else None
        if entry is None or competition is None or not scope.covers(competition.managed_by_id):
            raise InvalidInput(N_("No such competition entry."), field="entry_id")
        entry_id, person_id = entry.id, person_id or entry.leader_id
        title, organization_id = title or entry.title, entry.organization_id
        implied = ParticipantRole.PROJECT
    else:
        implied = ParticipantRole.PROJECT if data.organization else ParticipantRole.GUEST
        if data.organization:
            org = await organizations.find_or_create_organization(data.organization, kind=OrganizationKind.COMPANY)
            organization_id, title = org.id, title or org.name
    if role is None:
        role = implied
    elif given and role != implied:
        raise InvalidInput(N_("The role does not fit the record given."), field="role")
    if person_id is None:
        raise InvalidInput(N_("Name the person who takes the meetings."), field="person_id")
    person = await Person.get_or_none(id=person_id)
    if person is None:
        raise InvalidInput(N_("No such person."), field="person_id")
    try:
        async with in_transaction() as conn:
            participant = await Participant.create(
                event_id=event.id, person_id=person.id, role=role, title=(title or person.name)[:300],
                investor_id=investor_id, achievement_id=achievement_id, entry_id=entry_id,
                organization_id=organization_id, created_by=actor[:100], using_db=conn,
            )  # fmt: skip
            await activity.record(
                "meeting.participant_added", actor=actor, event_id=event.id, person_id=person.id, using_db=conn,
                participant_id=participant.id, role=str(role),
            )  # fmt: skip
    except IntegrityError:
        raise AlreadyParticipant() from None
    return participant


async def get_participant(event_id: int, participant_id: int, scope: Scope) -> Participant:
    """Raises ``event_not_found``, ``participant_not_found``."""
    await ownership.owned_event(event_id, scope)
    found = await Participant.get_or_none(id=participant_id, event_id=event_id).select_related("person")
    if found is None:
        raise ParticipantNotFound()
    return found


async def list_participants(event_id: int, scope: Scope, role: ParticipantRole | None = None) -> list[Participant]:
    await roadshow(event_id, scope)
    qs = Participant.filter(event_id=event_id).select_related("person")
    if role is not None:
        qs = qs.filter(role=role)
    return list(await qs.order_by("id"))


async def participant_of(event_id: int, person_id: int) -> Participant | None:
    return await Participant.get_or_none(event_id=event_id, person_id=person_id)


# --------------------------------------------------------------------------------------- availability


class UnavailableInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot_ids: list[DbId] = Field(
        max_length=1000, description="Exactly the slots the participant cannot meet in; others open again."
    )


async def set_unavailable(
    event_id: int, participant_id: int, slot_ids: list[int], *, scope: Scope, actor: str
) -> list[int]:
    """Make exactly ``slot_ids`` (slots of the event's sessions) blocked for the participant; others they
    had blocked open again. Returns the blocked slot ids. Raises ``participant_not_found``,
    ``invalid_input`` (a slot of another event), ``slot_taken`` (they have a meeting or request then)."""
    participant = await get_participant(event_id, participant_id, scope)
    wanted = set(slot_ids)
    slots = set(await MeetingSlot.filter(id__in=wanted, session__event_id=event_id).values_list("id", flat=True))
    if wanted - slots:
        raise InvalidInput(N_("No such slot in this event."), field="slot_ids")
    event_slots = MeetingSlot.filter(session__event_id=event_id).values_list("id", flat=True)
    try:
        async with in_transaction() as conn:
            held = set(
                await MeetingClaim.filter(
                    person_id=participant.person_id, request_id__isnull=True, slot_id__in=await event_slots
                )
                .using_db(conn)
                .values_list("slot_id", flat=True)
            )
            if held - wanted:
                await (
                    MeetingClaim.filter(
                        person_id=participant.person_id, request_id__isnull=True, slot_id__in=list(held - wanted)
                    )
                    .using_db(conn)
                    .delete()
                )
            await MeetingClaim.bulk_create(
                [MeetingClaim(slot_id=s, person_id=participant.person_id) for s in sorted(wanted - held)],
                using_db=conn,
            )
            await activity.record(
                "meeting.availability_changed", actor=actor, event_id=event_id, person_id=participant.person_id,
                using_db=conn, participant_id=participant.id, unavailable=sorted(wanted),
            )  # fmt: skip
    except IntegrityError:
        raise SlotTaken() from None
    return sorted(wanted)


async def unavailable_slots(participant: Participant) -> list[int]:
    claims = await MeetingClaim.filter(
        person_id=participant.person_id, request_id__isnull=True, slot__session__event_id=participant.event_id
    )
    return sorted(claim.slot_id for claim in claims)


# ------------------------------------------------------------------------------------------- interest


class InterestInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_id: DbId = Field(description="The participant who wants the meeting.")
    target_id: DbId = Field(description="The participant they want to meet.")


async def interested(source_id: int, target_id: int) -> bool:
    return await MeetingInterest.filter(source_id=source_id, target_id=target_id).exists()


async def add_interest(
    event_id: int, source_id: int, target_id: int, *, origin: str, actor: str, scope: Scope | None = None
) -> bool:
    """``source`` wants to meet ``target`` (both participants of the event). Returns whether it was new;
    saying it twice changes nothing. Raises ``invalid_input`` (the same participant twice, or one not of
    this event), ``event_not_found`` (out of scope)."""
    if scope is not None:
        await roadshow(event_id, scope)
    if source_id == target_id:
        raise InvalidInput(N_("A participant cannot be interested in themselves."), field="target_id")
    found = await Participant.filter(id__in=[source_id, target_id], event_id=event_id).count()
    if found != 2:
        raise InvalidInput(N_("No such participant in this event."), field="target_id")
    async with in_transaction() as conn:
        before = await MeetingInterest.filter(source_id=source_id, target_id=target_id).using_db(conn).exists()
        if before:
            return False
        await MeetingInterest.bulk_create(
            [MeetingInterest(event_id=event_id, source_id=source_id, target_id=target_id, origin=origin[:16])],
            ignore_conflicts=True,
            using_db=conn,
        )
        await activity.record(
            "meeting.interest", actor=actor, event_id=event_id, using_db=conn, source_id=source_id,
            target_id=target_id, origin=origin,
        )  # fmt: skip
    return True


async def session_of_slot(slot_id: int) -> MeetingSession:
    slot = await MeetingSlot.get_or_none(id=slot_id).select_related("session")
    if slot is None:
        raise MeetingSessionNotFound()
    return slot.session
