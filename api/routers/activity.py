"""The activity log (the audit trail): admins read all of it, organizers the facts about their events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from api.auth import Caller, require_organizer
from api.deps import presenter
from api.schemas import Presenter
from api.schemas.activity import ActivityEntry
from api.schemas.common import COMMON, Page, errors
from events.services import activity, paging

router = APIRouter(prefix="/api/v1", tags=["activity"])


@router.get(
    "/activity",
    response_model=Page[ActivityEntry],
    responses=errors(*COMMON, 401, 403),
    summary="Read the activity log",
    description="What happened, who did it and when, newest first: every fact for admins; for an organizer the "
    "facts about their organization's events. Filters: ``type`` (e.g. ``registration.created``), ``event_id``, "
    "``actor``, and the period ``from`` (inclusive) to ``to`` (exclusive). Keyset pages: pass ``next_cursor`` "
    "back as ``cursor``; a cursor of another list is ``422 invalid_input`` (field ``cursor``).",
)
async def list_activity(
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    type: Annotated[str | None, Query(max_length=64, description="The fact's type.")] = None,
    event_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=paging.MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[ActivityEntry]:
    found = activity.ActivityFilter(kind=type, event_id=event_id, actor=actor, since=from_, until=to)
    page = await activity.list_activity(found, scope=caller.reach, limit=limit, cursor=cursor)
    return Page[ActivityEntry].of(page, [ActivityEntry.of(show, row) for row in page.items])
