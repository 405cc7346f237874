"""A participant's own side of 1:1 meetings, as the bot shows it: the roadshows where they take meetings,
whom they may ask (investors for a project, projects for an investor, anyone for a guest) and in which
slots, their meetings and pending requests a page at a time, and their meetings at one event (for their
ticket). Reading only: asking and answering go through ``requests``, which holds every rule.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from tortoise.expressions import Q

from events import clock
from events.errors import N_, InvalidInput
from events.models import (
    LIVE_MEETING_STATUSES,
    MeetingClaim,
    MeetingRequest,
    MeetingSlot,
    Participant,
    ParticipantRole,
)
from events.services.roadshows import requests
from events.services.roadshows.requests import RELATED

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PAGE = 8
MAX_SLOTS_SHOWN = 24


def fits(me: Participant, other: Participant) -> bool:
    """Whom a participant may ask: a project asks investors (and guests), an investor projects (and
    guests), a guest anyone; never themselves."""
    if me.id == other.id or me.person_id == other.person_id or me.event_id != other.event_id:
        return False
    if ParticipantRole.GUEST in (me.role, other.role):
        return True
    return me.role != other.role


async def roadshows_of(person_id: int) -> list[Participant]:
    """The person's participations at events with a meeting slot still to come, soonest first (event
    loaded)."""
    found = await Participant.filter(person_id=person_id).select_related("event")
    rows = await MeetingSlot.filter(
        session__event_id__in=[p.event_id for p in found], starts_at__gt=clock.now()
    ).values_list("session__event_id", flat=True)
    upcoming = set(cast(list[int], rows))
    found = [p for p in found if p.event_id in upcoming]
    return sorted(found, key=lambda p: (p.event.starts_at, p.event_id))


async def participation(person_id: int, participant_id: int) -> Participant:
    """The person's own participation (with its event). Raises ``invalid_input`` for anyone else's."""
    found = await Participant.get_or_none(id=participant_id, person_id=person_id).select_related("event")
    if found is None:
        raise InvalidInput(N_("You do not take meetings at this event."), field="participant_id")
    return found


async def participation_at(event_id: int, participant_id: int) -> Participant:
    """Another participant of the same event (with its person). Raises ``invalid_input``."""
    found = await Participant.get_or_none(id=participant_id, event_id=event_id).select_related("person")
    if found is None:
        raise InvalidInput(N_("This participant does not take meetings in this session."), field="recipient_id")
    return found


async def candidates(me: Participant) -> list[Participant]:
    """Whom ``me`` may ask at its event, by role then title, without those they already have a live
    request or meeting with."""
    others = await Participant.filter(event_id=me.event_id).exclude(id=me.id).select_related("person")
    live = await MeetingRequest.filter(
        Q(requester_id=me.id) | Q(recipient_id=me.id), status__in=LIVE_MEETING_STATUSES
    ).values_list("requester_id", "recipient_id")
    busy = {a for pair in live for a in pair}
    order = {ParticipantRole.INVESTOR: 0, ParticipantRole.PROJECT: 1, ParticipantRole.GUEST: 2}
    return sorted((o for o in others if fits(me, o) and o.id not in busy), key=lambda o: (order[o.role], o.title, o.id))


async def free_slots(me: Participant, other: Participant, *, limit: int = MAX_SLOTS_SHOWN) -> list[MeetingSlot]:
    """Slots still to come where neither person is held (a meeting, a request, a block) and a table is
    free, soonest first (session loaded). What is shown may still be taken before the request is made:
    ``request_meeting`` decides, by the claims' unique keys."""
    await requests.expire_due()
    slots = (
        await MeetingSlot.filter(session__event_id=me.event_id, starts_at__gt=clock.now())
        .select_related("session")
        .order_by("starts_at", "id")
    )
    held: dict[int, set[int]] = defaultdict(set)
    tables: dict[int, int] = defaultdict(int)
    for slot_id, person_id, table_no in await MeetingClaim.filter(slot_id__in=[s.id for s in slots]).values_list(
        "slot_id", "person_id", "table_no"
    ):
        if person_id is not None:
            held[slot_id].add(person_id)
        if table_no is not None:
            tables[slot_id] += 1
    people = {me.person_id, other.person_id}
    free = [s for s in slots if not held[s.id] & people and tables[s.id] < s.session.tables]
    return free[:limit]


def _key(request: MeetingRequest) -> str:
    moment = request.slot.starts_at.astimezone(UTC) - _EPOCH
    return f"{moment // timedelta(microseconds=1)}.{request.id}"


def _after(key: str) -> Q:
    try:
        micros, request_id = (int(part) for part in key.split(".", 1))
    except ValueError:
        raise InvalidInput(N_("This list has changed; open it again."), field="cursor") from None
    moment = _EPOCH + timedelta(microseconds=micros)
    return Q(slot__starts_at__gt=moment) | Q(slot__starts_at=moment, id__gt=request_id)


@dataclass(frozen=True, slots=True)
class MeetingsPage:
    items: list[MeetingRequest]
    next_cursor: str | None  # short enough for a button's callback data


async def page_of_person(person_id: int, *, cursor: str | None = None, limit: int = PAGE) -> MeetingsPage:
    """The person's meetings and pending requests (either way) whose slot has not ended, by time, a page
    at a time (keyset on the slot's start and the request). Raises ``invalid_input`` (a bad cursor)."""
    await requests.expire_due()
    qs = MeetingRequest.filter(
        Q(requester__person_id=person_id) | Q(recipient__person_id=person_id),
        status__in=LIVE_MEETING_STATUSES,
        slot__ends_at__gt=clock.now(),
    )
    if cursor:
        qs = qs.filter(_after(cursor))
    rows = list(await qs.select_related(*RELATED).order_by("slot__starts_at", "id").limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return MeetingsPage(rows, _key(rows[-1]) if more and rows else None)


async def at_event(person_id: int, event_id: int) -> list[MeetingRequest]:
    """The person's meetings (accepted) and pending requests at one event, by time: what their ticket
    for it lists."""
    return list(
        await MeetingRequest.filter(
            Q(requester__person_id=person_id) | Q(recipient__person_id=person_id),
            session__event_id=event_id,
            status__in=LIVE_MEETING_STATUSES,
        )
        .select_related(*RELATED)
        .order_by("slot__starts_at", "id")
    )
