"""Meeting requests: ask, accept, decline, withdraw, cancel, expire — and the claims that make double
booking impossible.

Asking for a meeting inserts, in one transaction, the request and three claims on its slot: the
requester, the recipient and a table. ``meeting_claim`` is unique on (slot, person) and on (slot,
table), so two requests racing for one person's slot cannot both commit, whatever either read before;
the loser's ``IntegrityError`` becomes ``409 slot_taken`` (or, when only the table collided with a
stranger's request, another table is tried). Every answer is a conditional update of a pending row
(``… WHERE status = 'pending'``), so two answers at once leave exactly one effect. A request that ends
(declined, withdrawn, expired, cancelled) gives its claims back in the same transaction.

Who may act: the recipient accepts or declines, the requester withdraws, either side cancels an
accepted meeting; an organizer (``person_id`` None) may do each on a participant's behalf.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from events import clock
from events.errors import (
    N_,
    AlreadyRequested,
    InvalidInput,
    MeetingNotFound,
    NoTableFree,
    NotYourMeeting,
    RequestExpired,
    RequestNotPending,
    SlotPassed,
    SlotTaken,
)
from events.models import (
    LIVE_MEETING_STATUSES,
    MeetingClaim,
    MeetingRequest,
    MeetingSession,
    MeetingSlot,
    MeetingStatus,
    Participant,
)
from events.services import activity, paging
from events.services.organizations import Scope

DbId = Annotated[int, Field(ge=1, lt=2**31)]
TABLE_ATTEMPTS = 6
RELATED = ("slot", "session__event", "requester__person", "recipient__person")


class MeetingRequestInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    slot_id: DbId
    requester_id: DbId = Field(description="The participant who asks.")
    recipient_id: DbId = Field(description="The participant asked.")
    message: Annotated[str, StringConstraints(max_length=1000)] = ""


async def _release(request_id: int, conn: BaseDBAsyncClient) -> None:
    await MeetingClaim.filter(request_id=request_id).using_db(conn).delete()


async def expire_due(*, slot_id: int | None = None, now: datetime | None = None) -> int:
    """Pending requests past their time become ``expired`` and give their slot back (all of them, or
    those of one slot). Returns how many. Safe to run side by side: each is a conditional update."""
    now = now or clock.now()
    qs = MeetingRequest.filter(status=MeetingStatus.PENDING, expires_at__lte=now)
    if slot_id is not None:
        qs = qs.filter(slot_id=slot_id)
    expired = 0
    for request in await qs.select_related("session").limit(1000):
        async with in_transaction() as conn:
            changed = (
                await MeetingRequest.filter(id=request.id, status=MeetingStatus.PENDING)
                .using_db(conn)
                .update(status=MeetingStatus.EXPIRED, decided_at=now)
            )
            if not changed:
                continue
            await _release(request.id, conn)
            await activity.record(
                "meeting.expired", actor="system", event_id=request.session.event_id, using_db=conn,
                request_id=request.id, requester_id=request.requester_id, recipient_id=request.recipient_id,
            )  # fmt: skip
            expired += 1
    return expired


async def _slot_in_scope(slot_id: int, scope: Scope | None) -> MeetingSlot:
    slot = await MeetingSlot.get_or_none(id=slot_id).select_related("session__event")
    if slot is None or (scope is not None and not scope.covers(slot.session.event.organization_id)):
        raise InvalidInput(N_("No such slot."), field="slot_id")
    return slot


def _expiry(session: MeetingSession, slot: MeetingSlot, now: datetime) -> datetime:
    return min(now + timedelta(hours=session.request_expiry_hours), slot.starts_at)


async def request_meeting(
    data: MeetingRequestInput,
    *,
    actor: str,
    origin: str = "api",
    scope: Scope | None = None,
    person_id: int | None = None,
) -> MeetingRequest:
    """Ask for a meeting in a slot; it holds the slot for both and a table until answered or expired.
    ``scope``: an organizer asking on a participant's behalf; ``person_id``: the requester themselves.
    Raises ``invalid_input`` (an unknown slot, participants not of the slot's event, asking oneself),
    ``not_your_meeting``, ``slot_passed``, ``already_requested``, ``slot_taken``, ``no_table_free``."""
    slot = await _slot_in_scope(data.slot_id, scope)
    session = slot.session
    if data.requester_id == data.recipient_id:
        raise InvalidInput(N_("You cannot ask for a meeting with yourself."), field="recipient_id")
    sides = {p.id: p for p in await Participant.filter(id__in=[data.requester_id, data.recipient_id])}
    for key, pid in (("requester_id", data.requester_id), ("recipient_id", data.recipient_id)):
        if pid not in sides or sides[pid].event_id != session.event_id:
            raise InvalidInput(N_("This participant does not take meetings in this session."), field=key)
    requester, recipient = sides[data.requester_id], sides[data.recipient_id]
    if requester.person_id == recipient.person_id:
        raise InvalidInput(N_("You cannot ask for a meeting with yourself."), field="recipient_id")
    if person_id is not None and requester.person_id != person_id:
        raise NotYourMeeting()
    now = clock.now()
    if slot.starts_at <= now:
        raise SlotPassed()
    pair = Q(requester_id=requester.id, recipient_id=recipient.id) | Q(
        requester_id=recipient.id, recipient_id=requester.id
    )
    if await MeetingRequest.filter(pair, session_id=session.id, status__in=LIVE_MEETING_STATUSES).exists():
        raise AlreadyRequested()
    await expire_due(slot_id=slot.id, now=now)
    people = [requester.person_id, recipient.person_id]
    for _ in range(TABLE_ATTEMPTS):
        claims = await MeetingClaim.filter(slot_id=slot.id).values_list("person_id", "table_no")
        if any(person in people for person, _ in claims):
            raise SlotTaken()
        free = sorted(set(range(1, session.tables + 1)) - {table for _, table in claims if table is not None})
        if not free:
            raise NoTableFree()
        # A random free table: requests racing in one slot rarely pick the same one.
        table = random.choice(free)  # noqa: S311 (not a secret)
        try:
            async with in_transaction() as conn:
                request = await MeetingRequest.create(
                    session_id=session.id, slot_id=slot.id, requester_id=requester.id, recipient_id=recipient.id,
                    table_no=table, message=data.message, origin=origin[:16], expires_at=_expiry(session, slot, now),
                    created_by=actor[:100], created_at=now, using_db=conn,
                )  # fmt: skip
                # People in id order, the table last: two requests racing for the same two people (A asks
                # B while B asks A) then wait on the same first key instead of each holding one and
                # waiting for the other, which PostgreSQL breaks as a deadlock (a 500, not a 409).
                await MeetingClaim.bulk_create(
                    [
                        *(
                            MeetingClaim(slot_id=slot.id, person_id=person, request_id=request.id)
                            for person in sorted(people)
                        ),
                        MeetingClaim(slot_id=slot.id, table_no=table, request_id=request.id),
                    ],
                    using_db=conn,
                )
                await activity.record(
                    "meeting.requested", actor=actor, event_id=session.event_id, person_id=recipient.person_id,
                    using_db=conn, request_id=request.id, requester_id=requester.id, recipient_id=recipient.id,
                )  # fmt: skip
            return request
        except IntegrityError:
            # Either person taken meanwhile (slot_taken, next loop) or only the table (try another).
            continue
    raise SlotTaken()


@dataclass(frozen=True, slots=True)
class Acting:
    """Who acts on a request: a person (the bot) or an organizer within a scope (the API)."""

    actor: str
    person_id: int | None = None
    scope: Scope | None = None


async def get_request(request_id: int, *, scope: Scope | None = None, person_id: int | None = None) -> MeetingRequest:
    """With its slot, session, event and both sides loaded. A request outside the scope, or not the
    person's, is not found. Raises ``meeting_not_found``."""
    found = await MeetingRequest.get_or_none(id=request_id).select_related(*RELATED)
    if found is None:
        raise MeetingNotFound()
    if scope is not None and not scope.covers(found.session.event.organization_id):
        raise MeetingNotFound()
    if person_id is not None and person_id not in (found.requester.person_id, found.recipient.person_id):
        raise MeetingNotFound()
    return found


async def _decide(
    request_id: int,
    by: Acting,
    *,
    side: str | None,
    allowed_from: MeetingStatus,
    to: MeetingStatus,
    kind: str,
    reason: str = "",
) -> MeetingRequest:
    request = await get_request(request_id, scope=by.scope, person_id=by.person_id)
    if by.person_id is not None and side is not None:
        own = request.recipient if side == "recipient" else request.requester
        if own.person_id != by.person_id:
            raise NotYourMeeting()
    now = clock.now()
    async with in_transaction() as conn:
        update = MeetingRequest.filter(id=request.id, status=allowed_from).using_db(conn)
        if allowed_from == MeetingStatus.PENDING and to != MeetingStatus.WITHDRAWN:
            update = update.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        changed = await update.update(status=to, decided_at=now, reason=reason[:500])
        if changed:
            if to != MeetingStatus.ACCEPTED:
                await _release(request.id, conn)
            await activity.record(
                kind, actor=by.actor, event_id=request.session.event_id, using_db=conn, request_id=request.id,
                requester_id=request.requester_id, recipient_id=request.recipient_id, by_organizer=by.person_id is None,
            )  # fmt: skip
    if not changed:
        fresh = await MeetingRequest.get(id=request.id)
        if fresh.status == MeetingStatus.PENDING:  # pending but past its time: it expires now
            await expire_due(slot_id=fresh.slot_id, now=now)
            raise RequestExpired()
        if fresh.status == MeetingStatus.EXPIRED:
            raise RequestExpired()
        raise RequestNotPending(meeting_request=str(fresh.status))
    return await get_request(request.id)


async def accept(request_id: int, by: Acting) -> MeetingRequest:
    """The recipient says yes: the meeting is on. Raises ``meeting_not_found``, ``not_your_meeting``,
    ``request_not_pending`` (withdrawn, declined, accepted already), ``request_expired``."""
    return await _decide(
        request_id, by, side="recipient", allowed_from=MeetingStatus.PENDING, to=MeetingStatus.ACCEPTED,
        kind="meeting.accepted",
    )  # fmt: skip


async def decline(request_id: int, by: Acting, *, reason: str = "") -> MeetingRequest:
    return await _decide(
        request_id, by, side="recipient", allowed_from=MeetingStatus.PENDING, to=MeetingStatus.DECLINED,
        kind="meeting.declined", reason=reason,
    )  # fmt: skip


async def withdraw(request_id: int, by: Acting) -> MeetingRequest:
    return await _decide(
        request_id, by, side="requester", allowed_from=MeetingStatus.PENDING, to=MeetingStatus.WITHDRAWN,
        kind="meeting.withdrawn",
    )  # fmt: skip


async def cancel(request_id: int, by: Acting, *, reason: str = "") -> MeetingRequest:
    """Either side (or an organizer) calls off an accepted meeting that has not begun: the slot is free
    again. Raises ``request_not_pending`` (not accepted), ``slot_passed``."""
    request = await get_request(request_id, scope=by.scope, person_id=by.person_id)
    if request.slot.starts_at <= clock.now():
        raise SlotPassed()
    return await _decide(
        request_id, by, side=None, allowed_from=MeetingStatus.ACCEPTED, to=MeetingStatus.CANCELLED,
        kind="meeting.cancelled", reason=reason,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------- lists


@dataclass(frozen=True, slots=True)
class MeetingFilter:
    status: MeetingStatus | None = None
    session_id: int | None = None
    participant_id: int | None = None


ORDER = ("id",)


async def list_requests(
    event_id: int, found: MeetingFilter, *, limit: int = 50, cursor: str | None = None
) -> paging.Page[MeetingRequest]:
    """The event's requests and meetings, oldest first, a page at a time (the caller checked the event)."""
    qs = MeetingRequest.filter(session__event_id=event_id)
    if found.status is not None:
        qs = qs.filter(status=found.status)
    if found.session_id is not None:
        qs = qs.filter(session_id=found.session_id)
    if found.participant_id is not None:
        qs = qs.filter(Q(requester_id=found.participant_id) | Q(recipient_id=found.participant_id))
    rows = await paging.after(qs, "meetings", ORDER, cursor).select_related(*RELATED).order_by(*ORDER).limit(limit + 1)
    return paging.page(rows, "meetings", ORDER, limit)


async def of_person(person_id: int, *, upcoming_only: bool = True, limit: int = 50) -> list[MeetingRequest]:
    """A person's live requests (pending either way) and meetings, by time: what /meetings shows."""
    now = clock.now()
    qs = MeetingRequest.filter(
        Q(requester__person_id=person_id) | Q(recipient__person_id=person_id), status__in=LIVE_MEETING_STATUSES
    )
    if upcoming_only:
        qs = qs.filter(slot__ends_at__gt=now)
    return list(await qs.select_related(*RELATED).order_by("slot__starts_at", "id").limit(limit))


async def for_calendar(person_id: int, *, since: datetime) -> list[MeetingRequest]:
    """A person's meetings (accepted) and cancelled ones, whose slot ends after ``since``, for the feed.
    Pending requests stay out: one declined or expired would vanish instead of being marked cancelled."""
    return list(
        await MeetingRequest.filter(
            Q(requester__person_id=person_id) | Q(recipient__person_id=person_id),
            status__in=[MeetingStatus.ACCEPTED, MeetingStatus.CANCELLED],
            slot__ends_at__gt=since,
        )
        .select_related(*RELATED)
        .order_by("slot__starts_at", "id")
    )


def other_side(request: MeetingRequest, person_id: int) -> Participant:
    return request.recipient if request.requester.person_id == person_id else request.requester
