"""Organizers' announcements to an event's registrants."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from events import clock
from events.errors import N_, InvalidInput, InvalidTransition, NotFound
from events.models import Broadcast, OutboxMessage, OutboxStatus
from events.services import activity
from events.services.catalog import get_event

MAX_TEXT = 3500  # leaves room for the event title within Telegram's 4096 characters


async def create_broadcast(event_id: int, text: str, *, actor: str) -> Broadcast:
    """Announce ``text`` to everyone registered (confirmed, waitlisted, pending). Raises ``event_not_found``,
    ``invalid_input``.
    """
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(N_("An announcement needs 1 to 3500 characters."), field="text")
    event = await get_event(event_id, include_unpublished=True)
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
