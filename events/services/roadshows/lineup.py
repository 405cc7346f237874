"""The line-up of a roadshow or fair: an ordered programme of pitches, each a project participant (an
achievement, a competition entry or a company), its presenter, a start time and a length.

The project of a pitch is a meeting ``Participant`` (made on the fly when the record is not one yet), so
the line-up, the interest shown during a pitch and the 1:1 meetings all speak of one project.

Positions run 1..n within the event. Every change that moves positions (add, move, remove) and putting a
pitch on stage take the event's write lock first (``locking.lock_event``), so two organizers reordering at
once queue instead of interleaving their renumbering, and two "on stage" calls cannot leave two pitches on
stage. Each change also touches the event's ``updated_at``: calendar feeds are cached by it, and they show
the line-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from events import clock, localtime
from events.errors import N_, AlreadyInLineup, AlreadyParticipant, InvalidInput, PitchNotFound
from events.models import (
    Event,
    EventStatus,
    Participant,
    ParticipantRole,
    Person,
    Pitch,
    PitchStatus,
)
from events.services import activity, ownership, paging
from events.services.locking import lock_event
from events.services.organizations import Scope
from events.services.roadshows import sessions
from events.services.roadshows.sessions import ROADSHOW_KINDS, DbId

MAX_PITCHES = 200


class PitchInput(BaseModel):
    """A pitch: the project (one of ``participant_id``, ``achievement_id``, ``entry_id`` or a company by
    ``organization``), who presents it, when and how long."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    participant_id: DbId | None = Field(default=None, description="A project participant of the event.")
    achievement_id: DbId | None = None
    entry_id: DbId | None = Field(default=None, description="A competition entry.")
    organization: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="A company project by its name (added when new)."
    )
    person_id: DbId | None = Field(
        default=None,
        description="Who represents the project (hears of interest in it); defaults to the achievement's "
        "contact or the entry's leader, then to the presenter. Needed for a company project.",
    )
    title: Annotated[str, StringConstraints(min_length=1, max_length=300)] | None = None
    presenter_id: DbId | None = Field(default=None, description="The presenting person, when known.")
    presenter_name: Annotated[str, StringConstraints(max_length=100)] = ""
    starts_at: datetime | None = None
    minutes: Annotated[int, Field(ge=1, le=240)] = 10
    position: Annotated[int, Field(ge=1, le=MAX_PITCHES)] | None = Field(
        default=None, description="Where in the line-up (1 = first); the end when left out."
    )


class PitchUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    presenter_id: DbId | None = None
    presenter_name: Annotated[str, StringConstraints(max_length=100)] | None = None
    starts_at: datetime | None = None
    minutes: Annotated[int, Field(ge=1, le=240)] | None = None
    status: PitchStatus | None = Field(
        default=None, description="planned | done | skipped (put a pitch on stage with its own call)."
    )


class MoveInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    position: Annotated[int, Field(ge=1, le=MAX_PITCHES)]
    recompute_times: bool = Field(
        default=False, description="Set every pitch's start from the event's start, one after another."
    )


@dataclass(frozen=True, slots=True)
class StageChange:
    pitch: Pitch
    previous: Pitch | None  # the pitch that was on stage and is now done


def _aware(moment: datetime | None, field: str) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise InvalidInput(N_("Give the time with its offset (e.g. +08:00)."), field=field)
    return moment


async def _project(event: Event, data: PitchInput, scope: Scope, actor: str) -> Participant:
    """The project participant the pitch is of, made when the record is not a participant yet."""
    given = [k for k in ("participant_id", "achievement_id", "entry_id", "organization") if getattr(data, k)]
    if len(given) != 1:
        raise InvalidInput(
            N_("Give one of participant_id, achievement_id, entry_id and organization."), field="participant_id"
        )
    if data.participant_id is not None:
        found = await Participant.get_or_none(id=data.participant_id, event_id=event.id)
        if found is None or found.role != ParticipantRole.PROJECT:
            raise InvalidInput(N_("No such project participant in this event."), field="participant_id")
        return found
    existing = Participant.filter(event_id=event.id, role=ParticipantRole.PROJECT)
    if data.achievement_id is not None:
        existing = existing.filter(achievement_id=data.achievement_id)
    elif data.entry_id is not None:
        existing = existing.filter(entry_id=data.entry_id)
    else:
        existing = existing.filter(organization__name=data.organization, achievement_id=None, entry_id=None)
    found = await existing.order_by("id").first()
    if found is not None:
        return found
    person_id = data.person_id
    if person_id is None and data.organization is not None:
        person_id = data.presenter_id
    made = sessions.ParticipantInput(
        role=ParticipantRole.PROJECT, person_id=person_id, achievement_id=data.achievement_id,
        entry_id=data.entry_id, organization=data.organization, title=data.title,
    )  # fmt: skip
    try:
        return await sessions.add_participant(event.id, made, scope=scope, actor=actor)
    except AlreadyParticipant:
        # Made by a concurrent call for the same record, or the person already takes meetings otherwise.
        found = await existing.order_by("id").first()
        if found is None:
            raise InvalidInput(
                N_("That person already takes part in this event in another role."), field="person_id"
            ) from None
        return found


async def _presenter(presenter_id: int | None) -> Person | None:
    if presenter_id is None:
        return None
    person = await Person.get_or_none(id=presenter_id)
    if person is None:
        raise InvalidInput(N_("No such person."), field="presenter_id")
    return person


async def _ordered(event_id: int, conn: BaseDBAsyncClient) -> list[Pitch]:
    return list(await Pitch.filter(event_id=event_id).using_db(conn).order_by("position", "id"))


async def _renumber(pitches: list[Pitch], conn: BaseDBAsyncClient) -> None:
    """Write positions 1..n in list order, touching only the rows that moved."""
    for number, pitch in enumerate(pitches, start=1):
        if pitch.position != number:
            pitch.position = number
            await Pitch.filter(id=pitch.id).using_db(conn).update(position=number, updated_at=clock.now())


async def _retime(event: Event, pitches: list[Pitch], conn: BaseDBAsyncClient) -> None:
    at = event.starts_at
    for pitch in pitches:
        if pitch.status == PitchStatus.SKIPPED:
            continue
        if pitch.starts_at != at:
            pitch.starts_at = at
            await Pitch.filter(id=pitch.id).using_db(conn).update(starts_at=at, updated_at=clock.now())
        at = at + timedelta(minutes=pitch.minutes)


async def _touch(event_id: int, conn: BaseDBAsyncClient) -> None:
    await Event.filter(id=event_id).using_db(conn).update(updated_at=clock.now())


async def add_pitch(event_id: int, data: PitchInput, *, scope: Scope, actor: str) -> Pitch:
    """Put a project in the line-up at ``position`` (the end by default); the ones after it move down.
    Raises ``event_not_found``, ``not_a_roadshow``, ``invalid_input``, ``already_in_lineup``."""
    event = await sessions.roadshow(event_id, scope)
    _aware(data.starts_at, "starts_at")
    presenter = await _presenter(data.presenter_id)
    project = await _project(event, data, scope, actor)
    try:
        async with in_transaction() as conn:
            event = await lock_event(conn, event.id)
            pitches = await _ordered(event.id, conn)
            if len(pitches) >= MAX_PITCHES:
                raise InvalidInput(N_("A line-up has at most %(max)s pitches."), field="position", max=MAX_PITCHES)
            at = min(data.position or len(pitches) + 1, len(pitches) + 1)
            pitch = await Pitch.create(
                event_id=event.id, position=len(pitches) + 1, project_id=project.id,
                presenter_id=presenter.id if presenter else None,
                presenter_name=data.presenter_name or (presenter.name if presenter else ""),
                starts_at=data.starts_at, minutes=data.minutes, created_by=actor[:100], using_db=conn,
            )  # fmt: skip
            pitches.insert(at - 1, pitch)
            await _renumber(pitches, conn)
            await _touch(event.id, conn)
            await activity.record(
                "pitch.added", actor=actor, event_id=event.id, using_db=conn, pitch_id=pitch.id,
                project_id=project.id, position=at,
            )  # fmt: skip
    except IntegrityError:
        raise AlreadyInLineup() from None
    return await get_pitch(event_id, pitch.id, scope)


async def get_pitch(event_id: int, pitch_id: int, scope: Scope) -> Pitch:
    """With its project (and the project's person) and presenter. Raises ``event_not_found``,
    ``pitch_not_found``."""
    await ownership.owned_event(event_id, scope)
    found = await Pitch.get_or_none(id=pitch_id, event_id=event_id).select_related("project__person", "presenter")
    if found is None:
        raise PitchNotFound()
    return found


async def update_pitch(event_id: int, pitch_id: int, data: PitchUpdate, *, scope: Scope, actor: str) -> Pitch:
    """Change the presenter, time, length or status (``planned``, ``done``, ``skipped``). Raises
    ``pitch_not_found``, ``invalid_input``."""
    await get_pitch(event_id, pitch_id, scope)
    if data.status == PitchStatus.ON_STAGE:
        raise InvalidInput(N_("Put a pitch on stage with its own call."), field="status")
    _aware(data.starts_at, "starts_at")
    changes: dict[str, object] = {}
    if data.presenter_id is not None:
        presenter = await _presenter(data.presenter_id)
        assert presenter is not None
        changes["presenter_id"] = presenter.id
        if data.presenter_name is None:
            changes["presenter_name"] = presenter.name
    for name in ("presenter_name", "starts_at", "minutes", "status"):
        value = getattr(data, name)
        if value is not None:
            changes[name] = value
    async with in_transaction() as conn:
        await lock_event(conn, event_id)
        if changes:
            await Pitch.filter(id=pitch_id).using_db(conn).update(**changes, updated_at=clock.now())
            await _touch(event_id, conn)
            await activity.record(
                "pitch.changed", actor=actor, event_id=event_id, using_db=conn, pitch_id=pitch_id,
                fields=sorted(changes),
            )  # fmt: skip
    return await get_pitch(event_id, pitch_id, scope)


async def move_pitch(
    event_id: int, pitch_id: int, position: int, *, recompute_times: bool = False, scope: Scope, actor: str
) -> list[Pitch]:
    """Move a pitch to ``position`` (clamped to the line-up); the others close up around it, so positions
    stay 1..n. With ``recompute_times`` every pitch starts when the one before it ends, from the event's
    start (skipped pitches get no time). Returns the whole line-up. Raises ``pitch_not_found``."""
    await get_pitch(event_id, pitch_id, scope)
    async with in_transaction() as conn:
        event = await lock_event(conn, event_id)
        pitches = await _ordered(event_id, conn)  # read under the lock: what the last mover left
        moving = next((p for p in pitches if p.id == pitch_id), None)
        if moving is None:
            raise PitchNotFound()  # removed while we waited for the lock
        pitches.remove(moving)
        pitches.insert(min(position, len(pitches) + 1) - 1, moving)
        await _renumber(pitches, conn)
        if recompute_times:
            await _retime(event, pitches, conn)
        await _touch(event_id, conn)
        await activity.record(
            "pitch.moved", actor=actor, event_id=event_id, using_db=conn, pitch_id=pitch_id,
            position=moving.position, recomputed=recompute_times,
        )  # fmt: skip
    return await lineup(event_id)


async def remove_pitch(event_id: int, pitch_id: int, *, scope: Scope, actor: str) -> None:
    """Take a pitch out of the line-up; the ones after it move up. The project stays a participant.
    Raises ``pitch_not_found``."""
    await get_pitch(event_id, pitch_id, scope)
    async with in_transaction() as conn:
        await lock_event(conn, event_id)
        deleted = await Pitch.filter(id=pitch_id, event_id=event_id).using_db(conn).delete()
        if not deleted:
            raise PitchNotFound()
        await _renumber(await _ordered(event_id, conn), conn)
        await _touch(event_id, conn)
        await activity.record("pitch.removed", actor=actor, event_id=event_id, using_db=conn, pitch_id=pitch_id)


async def set_on_stage(event_id: int, pitch_id: int, *, scope: Scope, actor: str) -> StageChange:
    """Put a pitch on stage now; the one on stage before it is done. Only one pitch of an event is ever on
    stage (the event's lock orders two calls). The fact ``pitch.on_stage`` tells the event's investors.
    Raises ``pitch_not_found``, ``invalid_input`` (the event is cancelled)."""
    await get_pitch(event_id, pitch_id, scope)
    now = clock.now()
    async with in_transaction() as conn:
        event = await lock_event(conn, event_id)
        if event.status == EventStatus.CANCELLED:
            raise InvalidInput(N_("The event is cancelled."), field="event_id")
        previous = (
            await Pitch.filter(event_id=event_id, status=PitchStatus.ON_STAGE)
            .exclude(id=pitch_id)
            .using_db(conn)
            .first()
        )
        if previous is not None:
            await Pitch.filter(id=previous.id).using_db(conn).update(status=PitchStatus.DONE, updated_at=now)
        await (
            Pitch.filter(id=pitch_id)
            .using_db(conn)
            .update(status=PitchStatus.ON_STAGE, on_stage_at=now, updated_at=now)
        )
        await _touch(event_id, conn)
        await activity.record(
            "pitch.on_stage", actor=actor, event_id=event_id, using_db=conn, pitch_id=pitch_id,
            previous_id=previous.id if previous else None,
        )  # fmt: skip
    return StageChange(await get_pitch(event_id, pitch_id, scope), previous)


# ------------------------------------------------------------------------------------------ reading


async def lineup(event_id: int) -> list[Pitch]:
    """The whole line-up in order, with projects and presenters (for pages, the bot and calendars)."""
    return list(
        await Pitch.filter(event_id=event_id).select_related("project__person", "presenter").order_by("position", "id")
    )


async def public_lineup(event_id: int) -> list[Pitch]:
    """The line-up of a published (or finished) roadshow or fair; empty for any other event."""
    event = await Event.get_or_none(id=event_id)
    if event is None or event.kind not in ROADSHOW_KINDS or event.status == EventStatus.DRAFT:
        return []
    return await lineup(event_id)


async def lineups(event_ids: list[int]) -> dict[int, list[Pitch]]:
    """The line-ups of several events at once (a calendar feed), without skipped pitches."""
    found: dict[int, list[Pitch]] = {}
    if not event_ids:
        return found
    rows = (
        await Pitch.filter(event_id__in=event_ids)
        .exclude(status=PitchStatus.SKIPPED)
        .select_related("project")
        .order_by("event_id", "position", "id")
    )
    for pitch in rows:
        found.setdefault(pitch.event_id, []).append(pitch)
    return found


ORDER = ("position", "id")


async def list_pitches(
    event_id: int, *, scope: Scope, limit: int = 50, cursor: str | None = None
) -> paging.Page[Pitch]:
    """The line-up a page at a time, in order. Raises ``event_not_found``, ``not_a_roadshow``,
    ``invalid_input`` (a cursor not of this list)."""
    await sessions.roadshow(event_id, scope)
    qs = paging.after(Pitch.filter(event_id=event_id), "lineup", ORDER, cursor)
    rows = await qs.select_related("project__person", "presenter").order_by(*ORDER).limit(limit + 1)
    return paging.page(list(rows), "lineup", ORDER, limit)


async def on_stage(event_id: int) -> Pitch | None:
    """The pitch on stage now at the event, if any."""
    return (
        await Pitch.filter(event_id=event_id, status=PitchStatus.ON_STAGE)
        .select_related("project__person", "presenter", "event")
        .first()
    )


async def pitch_of(pitch_id: int) -> Pitch | None:
    return await Pitch.get_or_none(id=pitch_id).select_related("project__person", "presenter", "event")


__all__ = [
    "MoveInput",
    "PitchInput",
    "PitchUpdate",
    "StageChange",
    "add_pitch",
    "get_pitch",
    "lineup",
    "lineups",
    "list_pitches",
    "move_pitch",
    "on_stage",
    "public_lineup",
    "remove_pitch",
    "set_on_stage",
]


def time_range(pitch: Pitch) -> str:
    """ "14:20–14:30" on the display zone's clock, or "" for a pitch without a time."""
    if pitch.starts_at is None:
        return ""
    start = localtime.local(pitch.starts_at)
    end = localtime.local(pitch.starts_at + timedelta(minutes=pitch.minutes))
    return f"{start:%H:%M}–{end:%H:%M}"


def describe(pitch: Pitch) -> str:
    """One line of a line-up as every face shows it: "3. 14:20–14:30 title · presenter" (local time; the
    project must be loaded)."""
    when = time_range(pitch)
    presenter = f" · {pitch.presenter_name}" if pitch.presenter_name else ""
    return f"{pitch.position}. {when + ' ' if when else ''}{pitch.project.title}{presenter}"
