"""The activity log: facts appended inside the transaction of the change they record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Subquery

from events import clock
from events.errors import N_, InvalidInput
from events.models import Activity, Event
from events.services import paging
from events.services.organizations import Scope


async def record(
    kind: str,
    *,
    actor: str,
    using_db: BaseDBAsyncClient,
    event_id: int | None = None,
    registration_id: int | None = None,
    person_id: int | None = None,
    **payload: Any,
) -> Activity:
    return await Activity.create(
        kind=kind,
        actor=actor,
        event_id=event_id,
        registration_id=registration_id,
        person_id=person_id,
        payload=payload,
        # The service clock, not the database's: the log is read by period (``from``/``to``).
        created_at=clock.now(),
        using_db=using_db,
    )


ORDER = ("-id",)  # newest first: ids grow in the order facts are written


@dataclass(frozen=True, slots=True)
class ActivityFilter:
    kind: str | None = None
    event_id: int | None = None
    actor: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


async def list_activity(
    found: ActivityFilter, *, scope: Scope, limit: int = 50, cursor: str | None = None
) -> paging.Page[Activity]:
    """The audit log, newest first, a page at a time: everything for admins, the facts about the
    scope's own events for an organizer (facts about no event are admins' only). Raises
    ``invalid_input`` (``to`` not after ``from``; a cursor not of this list).
    """
    if found.since is not None and found.until is not None and found.until <= found.since:
        raise InvalidInput(N_("The end of the period must be after its start."), field="to")
    qs = Activity.all()
    if not scope.everything:
        qs = qs.filter(event_id__in=Subquery(Event.filter(organization_id=scope.organization_id).values("id")))
    if found.kind is not None:
        qs = qs.filter(kind=found.kind)
    if found.event_id is not None:
        qs = qs.filter(event_id=found.event_id)
    if found.actor is not None:
        qs = qs.filter(actor=found.actor)
    if found.since is not None:
        qs = qs.filter(created_at__gte=found.since)
    if found.until is not None:
        qs = qs.filter(created_at__lt=found.until)
    rows = await paging.after(qs, "activity", ORDER, cursor).order_by(*ORDER).limit(limit + 1)
    return paging.page(rows, "activity", ORDER, limit)
