"""Organizers' announcements to an event's registrants."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from events import clock
from events.db import ROWS_AT_ONCE
from events.errors import N_, BroadcastClosed, InvalidInput, InvalidTransition, NotFound
from events.models import (
    ACTIVE_STATUSES,
    Attendance,
    Broadcast,
    Event,
    EventStatus,
    OutboxMessage,
    OutboxStatus,
    Registration,
    RegistrationStatus,
)
from events.services import activity, courses, idempotency, ownership, paging
from events.services.catalog import get_event
from events.services.organizations import Scope

MAX_TEXT = 3500  # leaves room for the event title within Telegram's 4096 characters
# Announcements go to the registrants of a published event until a little after it ends (thanks,
# slides, a lost-and-found note); later ones would reach people who have moved on.
AFTER_END = timedelta(hours=6)


def window() -> Q:
    """The events an announcement may be made for now (a filter: the bot lists them)."""
    return Q(status=EventStatus.PUBLISHED, ends_at__gt=clock.now() - AFTER_END)


def in_window(event: Event) -> bool:
    return event.status == EventStatus.PUBLISHED and event.ends_at > clock.now() - AFTER_END


# Who an announcement goes to: everyone holding a place (the default, and the API's only one), or a
# part of them.
AUDIENCES: tuple[str, ...] = ("registered", "confirmed", "waitlisted", "checked_in", "not_checked_in")


def check_audience(audience: str) -> str:
    if audience not in AUDIENCES:
        raise InvalidInput(N_("Unknown audience %(audience)s."), field="audience", audience=audience[:30])
    return audience


async def create_broadcast(event_id: int, text: str, *, actor: str, audience: str = "registered") -> Broadcast:
    """Announce ``text`` to ``audience`` (default: everyone registered: confirmed, waitlisted, pending) of
    a published event until six hours after it ends. Raises ``event_not_found``, ``invalid_input``,
    ``broadcast_closed``.
    """
    check_audience(audience)
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(N_("An announcement needs 1 to 3500 characters."), field="text")
    event = await get_event(event_id, include_unpublished=True)
    if not in_window(event):
        raise BroadcastClosed(hours=int(AFTER_END.total_seconds() // 3600))
    async with in_transaction() as conn:
        broadcast = await Broadcast.create(event_id=event.id, text=text, author=actor, audience=audience, using_db=conn)
        await activity.record(
            "broadcast.created", actor=actor, event_id=event.id, using_db=conn, broadcast_id=broadcast.id
        )
    return broadcast


async def cancel_broadcast(broadcast_id: int, *, actor: str) -> int:
    """Stop what of an announcement is still queued; returns how many messages will not go out.
    Raises ``not_found``, ``invalid_transition`` (already cancelled).
    """
    async with in_transaction() as conn:
        broadcast = await Broadcast.get_or_none(id=broadcast_id, using_db=conn)
        if broadcast is None:
            raise NotFound()
        if broadcast.cancelled_at is not None:
            raise InvalidTransition(status="cancelled")
        broadcast.cancelled_at = clock.now()
        await broadcast.save(update_fields=["cancelled_at"], using_db=conn)
        stopped = (
            await OutboxMessage.filter(broadcast_id=broadcast.id, status=OutboxStatus.QUEUED)
            .using_db(conn)
            .update(status=OutboxStatus.SKIPPED, last_error=f"broadcast cancelled by {actor}")
        )
        await activity.record(
            "broadcast.cancelled",
            actor=actor,
            event_id=broadcast.event_id,
            using_db=conn,
            broadcast_id=broadcast.id,
            stopped=stopped,
        )
    return stopped


ORDER = ("-id",)  # newest first


async def list_broadcasts(
    *, scope: Scope, event_id: int | None = None, limit: int = 50, cursor: str | None = None
) -> paging.Page[Broadcast]:
    """The scope's announcements (admins: all), newest first, a page at a time, with ``total``. Raises
    ``invalid_input`` (field ``cursor``) for a cursor not of this list."""
    qs = Broadcast.filter(event_id__in=Subquery(Event.filter(ownership.event_filter(scope)).values("id")))
    if event_id is not None:
        qs = qs.filter(event_id=event_id)
    total = await qs.count()
    rows = await paging.after(qs, "broadcasts", ORDER, cursor).order_by(*ORDER).limit(limit + 1)
    return paging.page(rows, "broadcasts", ORDER, limit, total=total)


async def registrant_ids(
    event_id: int, conn: BaseDBAsyncClient | None = None, *, audience: str = "registered"
) -> list[int]:
    """Who an announcement goes to, as registration ids: whoever holds a place (confirmed, waitlisted,
    pending) in the event and, for a course session, in its course (their pass opens its door); one
    registration per person. ``audience`` narrows it: ``confirmed``, ``waitlisted``, ``checked_in``
    (came in at this event's door), ``not_checked_in`` (confirmed, not in). Ids only, so a hall of
    10,000 is small tuples, not 20,000 models at once (``registrants_in_batches`` loads them)."""
    check_audience(audience)
    event_ids = [event_id]
    if course_event_id := await courses.course_event_of_session(event_id, conn):
        event_ids.append(course_event_id)
    rows = cast(
        "list[tuple[int, int, str]]",
        await Registration.filter(event_id__in=event_ids, status__in=ACTIVE_STATUSES)
        .order_by("id")
        .using_db(conn)
        .values_list("id", "person_id", "status"),
    )
    status_of = {registration_id: status for registration_id, _, status in rows}
    people = list({person_id: registration_id for registration_id, person_id, _ in reversed(rows)}.values())
    if audience == "registered":
        return people
    if audience in ("confirmed", "waitlisted"):
        return [r for r in people if status_of[r] == audience]
    inside = set(
        cast(
            "list[int]",
            await Attendance.filter(event_id=event_id).using_db(conn).values_list("registration_id", flat=True),
        )
    )
    if audience == "checked_in":
        return [r for r in people if r in inside]
    return [r for r in people if status_of[r] == RegistrationStatus.CONFIRMED and r not in inside]


BATCH = ROWS_AT_ONCE


async def registrants_in_batches(
    event_id: int, conn: BaseDBAsyncClient | None = None, *, audience: str = "registered", size: int | None = None
) -> AsyncIterator[list[Registration]]:
    """``registrant_ids``' registrations, in that order, ``size`` (``BATCH``) at a time with their person loaded."""
    ids = await registrant_ids(event_id, conn, audience=audience)
    size = size or BATCH
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        found = {r.id: r for r in await Registration.filter(id__in=chunk).select_related("person").using_db(conn)}
        yield [found[r] for r in chunk if r in found]


async def registrants(
    event_id: int, conn: BaseDBAsyncClient | None = None, *, audience: str = "registered"
) -> list[Registration]:
    """``registrant_ids``' registrations, all at once, with their person loaded."""
    return [r async for batch in registrants_in_batches(event_id, conn, audience=audience) for r in batch]


KEY_SCOPE = "broadcast"


async def send_broadcast(
    event_id: int, text: str, *, actor: str, key: str, audience: str = "registered"
) -> tuple[Broadcast, bool]:
    """``create_broadcast`` once per ``key`` (a form's own key): the same key again (a double click, a
    reload that posts again) answers the broadcast it made, sending nothing more. Returns (broadcast,
    made now). Raises what ``create_broadcast`` raises, ``idempotency_key_reused`` (the key with
    another text, event or audience), ``idempotency_key_in_use`` (the first post still running)."""
    key = key.strip()
    if not key or len(key) > 100:
        raise InvalidInput(N_("This form has expired; open it again."), field="key")
    digest = hashlib.sha256(json.dumps([event_id, text.strip(), audience], ensure_ascii=False).encode()).hexdigest()
    claimed = await idempotency.claim(key=key, caller=actor, method="POST", path=KEY_SCOPE, request_hash=digest)
    if isinstance(claimed, idempotency.StoredResponse):
        broadcast = await Broadcast.get_or_none(id=int(claimed.body.decode()))
        if broadcast is None:  # deleted with its event since: nothing to answer with
            raise NotFound()
        return broadcast, False
    try:
        broadcast = await create_broadcast(event_id, text, actor=actor, audience=audience)
    except BaseException:
        await idempotency.release(claimed)
        raise
    await idempotency.complete(claimed, idempotency.StoredResponse(201, str(broadcast.id).encode(), {}))
    return broadcast, True


@dataclass(frozen=True, slots=True)
class Progress:
    """Where an announcement's messages are: per channel (``telegram``, ``email``; ``None`` while the
    dispatcher has not chosen one) and status (queued, sending, sent, failed, skipped)."""

    counts: dict[tuple[str | None, str], int]

    def total(self, status: str | None = None, channel: Any = ...) -> int:
        return sum(
            n
            for (ch, st), n in self.counts.items()
            if (status is None or st == status) and (channel is ... or ch == channel)
        )

    @property
    def pending(self) -> int:
        return self.total(OutboxStatus.QUEUED) + self.total(OutboxStatus.SENDING)

    @property
    def finished(self) -> bool:
        return self.pending == 0


async def progress(broadcast_id: int) -> Progress:
    """How far the announcement's messages have gone (the notification worker writes them)."""
    rows = await OutboxMessage.filter(broadcast_id=broadcast_id).values_list("channel", "status")
    return Progress(dict(Counter((channel, str(status)) for channel, status in rows)))
