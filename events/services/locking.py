"""Serialising writers per event: the one place that knows how each database takes the lock."""

from __future__ import annotations

import time

from tortoise.backends.base.client import BaseDBAsyncClient

from events import metrics
from events.db import dialect_of
from events.errors import EventNotFound
from events.models import Event


async def lock_event(connection: BaseDBAsyncClient, event_id: int) -> Event:
    """Take the event's write lock inside the current transaction and return the fresh row.

    PostgreSQL: ``SELECT … FOR UPDATE`` holds the row until commit, so concurrent registrations for
    one event queue here while other events proceed. SQLite has no row locks; a write as the first
    statement turns the deferred transaction into a writer at once (RESERVED lock), so a second
    process waits on busy_timeout instead of reading stale counts and failing at commit.
    Raises ``event_not_found``. The wait is observed in ``wuchuang_event_lock_wait_seconds``.
    """
    started = time.perf_counter()
    if dialect_of(connection) == "sqlite":
        await connection.execute_query("UPDATE event SET seats_taken = seats_taken WHERE id = ?", [event_id])
        event = await Event.get_or_none(id=event_id, using_db=connection)
    else:
        event = await Event.filter(id=event_id).select_for_update().using_db(connection).first()
    metrics.LOCK_WAIT_SECONDS.observe(time.perf_counter() - started)
    if event is None:
        raise EventNotFound()
    return event
