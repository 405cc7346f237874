"""The outbox for organizers: what was sent to whom, what failed, retries, broadcasts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.auth import Caller, require_organizer
from api.deps import Id, presenter
from api.schemas import Presenter
from api.schemas.common import AUTHED_WRITE, COMMON, Page, errors
from api.schemas.notifications import BroadcastCancelled, BroadcastPublic, NotificationPublic, NotificationStats
from events.models import Category, OutboxStatus
from events.services import broadcasts, outbox, ownership, paging

router = APIRouter(prefix="/api/v1", tags=["notifications"])

OptionalId = Annotated[int | None, Query(ge=1, le=2_147_483_647)]
Limit = Annotated[int, Query(ge=1, le=paging.MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500, description="``next_cursor`` of the previous page.")]
LIST_ERRORS = errors(*COMMON, 401, 403)


class BroadcastBody(BaseModel):
    text: str = Field(min_length=1, max_length=3500)


@router.get(
    "/notifications",
    response_model=Page[NotificationPublic],
    responses=LIST_ERRORS,
    summary="List messages (the outbox)",
    description="Messages about the caller's organization's events (admins: all), newest first. Keyset pages: "
    "pass ``next_cursor`` back as ``cursor``; a cursor of another list is ``422 invalid_input`` (field "
    "``cursor``).",
)
async def list_notifications(
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    event_id: OptionalId = None,
    person_id: OptionalId = None,
    broadcast_id: OptionalId = None,
    category: Category | None = None,
    status: OutboxStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[NotificationPublic]:
    found = outbox.MessageFilter(
        event_id=event_id, person_id=person_id, broadcast_id=broadcast_id, category=category, status=status
    )
    page = await outbox.list_messages(found, scope=caller.reach, limit=limit, cursor=cursor)
    return Page[NotificationPublic].of(page, [NotificationPublic.of(show, row) for row in page.items])


@router.get(
    "/notifications/stats",
    response_model=NotificationStats,
    responses=LIST_ERRORS,
    summary="Count messages by status",
    description="How many of the caller's messages (optionally one event's) are queued, sending, sent, failed "
    "or skipped.",
)
async def notification_stats(
    caller: Caller = Depends(require_organizer), event_id: OptionalId = None
) -> NotificationStats:
    counts = await outbox.message_stats(scope=caller.reach, event_id=event_id)
    return NotificationStats(by_status=counts, total=sum(counts.values()))


@router.post(
    "/notifications/{message_id}/retry",
    response_model=NotificationPublic,
    responses=AUTHED_WRITE,
    summary="Send a failed message again",
    description="Attempts start over. ``409 invalid_transition`` for a message that has not failed.",
)
async def retry_notification(
    message_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> NotificationPublic:
    return NotificationPublic.of(show, await outbox.retry_message(message_id, scope=caller.reach))


@router.get(
    "/broadcasts",
    response_model=Page[BroadcastPublic],
    responses=LIST_ERRORS,
    summary="List announcements",
    description="The caller's organization's announcements (admins: all), optionally one event's, newest first. "
    "Keyset pages: pass ``next_cursor`` back as ``cursor``. ``total`` counts every match.",
)
async def list_broadcasts(
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    event_id: OptionalId = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[BroadcastPublic]:
    page = await broadcasts.list_broadcasts(scope=caller.reach, event_id=event_id, limit=limit, cursor=cursor)
    return Page[BroadcastPublic].of(page, [BroadcastPublic.of(show, row) for row in page.items])


@router.post(
    "/events/{event_id}/broadcasts",
    status_code=201,
    response_model=BroadcastPublic,
    responses=AUTHED_WRITE,
    summary="Announce to an event's registrants",
    description="Announce to everyone registered for the event (confirmed, waitlisted, pending) through the bot.",
)
async def create_broadcast(
    event_id: Id, body: BroadcastBody, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> JSONResponse:
    await ownership.owned_event(event_id, caller.reach)
    broadcast = await broadcasts.create_broadcast(event_id, body.text, actor=caller.actor)
    return JSONResponse(BroadcastPublic.of(show, broadcast).model_dump(mode="json"), status_code=201)


@router.post(
    "/broadcasts/{broadcast_id}/cancel",
    response_model=BroadcastCancelled,
    responses=AUTHED_WRITE,
    summary="Stop an announcement",
    description="Stop the part of an announcement that has not gone out yet. ``409 invalid_transition`` when "
    "it was stopped before.",
)
async def cancel_broadcast(broadcast_id: Id, caller: Caller = Depends(require_organizer)) -> BroadcastCancelled:
    await ownership.owned_broadcast(broadcast_id, caller.reach)
    stopped = await broadcasts.cancel_broadcast(broadcast_id, actor=caller.actor)
    return BroadcastCancelled(id=broadcast_id, stopped=stopped)
