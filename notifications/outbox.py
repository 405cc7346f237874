"""Queueing messages: one outbox row per person and reason, deduplicated by key."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from events import clock
from events.models import Category, OutboxMessage, Person
from events.services.preferences import ESSENTIAL

# Transactional messages go at any hour; the rest wait for the end of the person's quiet hours.
URGENT = frozenset(
    {Category.WAITLIST_PROMOTED, Category.REGISTRATION_CONFIRMED, Category.EVENT_CHANGED, Category.EVENT_CANCELLED}
)


def reachable(person: Person, category: Category) -> bool:
    if person.telegram_id is None or person.telegram_blocked_at is not None:
        return False
    return category.value in ESSENTIAL or category.value not in (person.opted_out or [])


async def enqueue(
    person: Person,
    category: Category,
    *,
    dedup_key: str,
    text: str,
    using_db: BaseDBAsyncClient | None = None,
    event_id: int | None = None,
    broadcast_id: int | None = None,
    buttons: list[list[dict[str, str]]] | None = None,
    photo: dict[str, Any] | None = None,
    urgent: bool | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Queue a message unless the person cannot or does not want to get it. Returns whether a row was
    written; an existing row with the same key is left alone (ON CONFLICT DO NOTHING), so producers
    may run twice or side by side.
    """
    if not reachable(person, category):
        return False
    before = await OutboxMessage.filter(dedup_key=dedup_key).using_db(using_db).exists()
    if before:
        return False
    await OutboxMessage.bulk_create(
        [
            OutboxMessage(
                person_id=person.id,
                category=category,
                dedup_key=dedup_key[:200],
                locale=person.language,
                text=text,
                buttons=buttons,
                photo=photo,
                urgent=category in URGENT if urgent is None else urgent,
                not_before=not_before or clock.now(),
                # The service clock, like the activity log: weekly caps count by it.
                created_at=clock.now(),
                event_id=event_id,
                broadcast_id=broadcast_id,
            )
        ],
        ignore_conflicts=True,
        using_db=using_db,
    )
    return True


async def sent_this_week(person_id: int, category: Category, *, using_db: BaseDBAsyncClient | None = None) -> int:
    since = clock.now() - timedelta(days=7)
    return (
        await OutboxMessage.filter(person_id=person_id, category=category, created_at__gte=since)
        .using_db(using_db)
        .count()
    )
