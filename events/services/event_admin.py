"""What organizers do to whole events beside ``catalog``'s rules: change one only if nobody else changed it
since the form was opened, and start a new event as a copy of an earlier one (issue 17, the console)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from events.errors import StaleForm
from events.models import Event
from events.services import activity, catalog
from events.services.locking import lock_event
from events.services.registration_admin import same_moment

# What a copy keeps of the original (every field an organizer sets, the dates moved).
COPIED = tuple(f for f in catalog.EventInput.model_fields if f not in ("starts_at", "ends_at"))


async def update_event_unless_changed(
    event_id: int, patch: catalog.EventPatch, *, seen: str | None, actor: str
) -> Event:
    """``catalog.update_event`` if the event is still at the version ``seen`` (its ``updated_at``, which
    seat counters do not touch); else ``stale_form`` and nothing written. Checked under the event's
    lock, in the same transaction as the change.
    """
    async with in_transaction() as conn:
        event = await lock_event(conn, event_id)
        if not same_moment(seen, event.updated_at):
            raise StaleForm()
        return await catalog.update_event(event_id, patch, actor=actor)


async def duplicate_event(
    event_id: int,
    *,
    starts_at: datetime | None = None,
    shift: timedelta | None = None,
    actor: str,
    organization_id: int,
) -> Event:
    """A new draft copying the event (title, place, capacity, questions, …) at ``starts_at`` (or moved by
    ``shift``; neither: a week later), the length and the registration window kept relative to the
    start. Registrations are not copied. Raises ``invalid_input`` (as ``create_event``).
    """
    source = await Event.get(id=event_id)
    if starts_at is None:
        starts_at = source.starts_at + (shift if shift is not None else timedelta(days=7))
    moved = starts_at - source.starts_at
    values = {f: getattr(source, f) for f in COPIED}
    for window in ("registration_opens_at", "registration_closes_at"):
        if values[window] is not None:
            values[window] = values[window] + moved
    data = catalog.EventInput(**values, starts_at=starts_at, ends_at=source.ends_at + moved)
    copy = await catalog.create_event(data, actor=actor, organization_id=organization_id)
    async with in_transaction() as conn:
        await activity.record(
            "event.duplicated", actor=actor, event_id=copy.id, using_db=conn, source_event_id=source.id
        )
    return copy
