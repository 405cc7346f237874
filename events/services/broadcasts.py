"""Organizers' announcements to an event's registrants."""

from __future__ import annotations

from datetime import timedelta

from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from events import clock
from events.errors import N_, BroadcastClosed, InvalidInput, InvalidTransition, NotFound
from events.models import Broadcast, Event, EventStatus, OutboxMessage, OutboxStatus
from events.services import activity, ownership, paging
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


async def create_broadcast(event_id: int, text: str, *, actor: str) -> Broadcast:
    """Announce ``text`` to everyone registered (confirmed, waitlisted, pending) of a published event
    until six hours after it ends. Raises ``event_not_found``, ``invalid_input``, ``broadcast_closed``.
    """
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(N_("An announcement needs 1 to 3500 characters."), field="text")
    event = await get_event(event_id, include_unpublished=True)
    if not in_window(event):
        raise BroadcastClosed(hours=int(AFTER_END.total_seconds() // 3600))
    async with in_transaction() as conn:
        broadcast = await Broadcast.create(event_id=event.id, text=text, author=actor, using_db=conn)
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
