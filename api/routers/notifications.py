"""The outbox for organizers: what was sent to whom, what failed, retries, broadcasts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from tortoise.functions import Count

from api.auth import Caller, require_organizer
from api.deps import Id, presenter
from api.schemas import Presenter
from events import clock
from events.errors import InvalidTransition
from events.models import Category, OutboxMessage, OutboxStatus
from events.services import broadcasts, ownership

router = APIRouter(prefix="/api/v1", tags=["notifications"])


class BroadcastBody(BaseModel):
    text: str = Field(min_length=1, max_length=3500)


def _row(row: OutboxMessage, show: Presenter) -> dict[str, Any]:
    return {
        "id": row.id,
        "person_id": row.person_id,
        "category": str(row.category),
        "status": str(row.status),
        "event_id": row.event_id,
        "broadcast_id": row.broadcast_id,
        "text": row.text,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "urgent": row.urgent,
        "not_before": show.time(row.not_before),
        "created_at": show.time(row.created_at),
        "sent_at": show.time(row.sent_at),
    }


@router.get("/notifications")
async def list_notifications(
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    event_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    person_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    broadcast_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    category: Category | None = None,
    status: OutboxStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    qs = OutboxMessage.filter(ownership.message_filter(caller.reach))
    for field, value in (
        ("event_id", event_id),
        ("person_id", person_id),
        ("broadcast_id", broadcast_id),
        ("category", category),
        ("status", status),
    ):
        if value is not None:
            qs = qs.filter(**{field: value})
    if before_id is not None:
        qs = qs.filter(id__lt=before_id)
    rows = await qs.order_by("-id").limit(limit + 1)
    return {
        "items": [_row(r, show) for r in rows[:limit]],
        "next_before_id": rows[limit - 1].id if len(rows) > limit else None,
    }


@router.get("/notifications/stats")
async def notification_stats(
    caller: Caller = Depends(require_organizer),
    event_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> dict[str, Any]:
    qs = OutboxMessage.filter(ownership.message_filter(caller.reach))
    if event_id is not None:
        qs = qs.filter(event_id=event_id)
    grouped = await qs.annotate(n=Count("id")).group_by("status").values("status", "n")
    counts = {str(s): 0 for s in OutboxStatus} | {str(g["status"]): g["n"] for g in grouped}
    return {"by_status": counts, "total": sum(counts.values())}


@router.post("/notifications/{message_id}/retry")
async def retry_notification(
    message_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> dict[str, Any]:
    """Send a failed message again (attempts start over)."""
    row = await ownership.owned_message(message_id, caller.reach)
    if row.status != OutboxStatus.FAILED:
        raise InvalidTransition(status=str(row.status))
    updated = await OutboxMessage.filter(id=row.id, status=OutboxStatus.FAILED).update(
        status=OutboxStatus.QUEUED, attempts=0, not_before=clock.now(), lease_until=None
    )
    if not updated:
        raise InvalidTransition(status="changed")
    return _row(await OutboxMessage.get(id=row.id), show)


@router.post("/events/{event_id}/broadcasts", status_code=201)
async def create_broadcast(
    event_id: Id, body: BroadcastBody, caller: Caller = Depends(require_organizer)
) -> JSONResponse:
    """Announce to everyone registered for the event (confirmed, waitlisted, pending) through the bot."""
    await ownership.owned_event(event_id, caller.reach)
    broadcast = await broadcasts.create_broadcast(event_id, body.text, actor=caller.actor)
    return JSONResponse({"id": broadcast.id, "event_id": event_id, "text": broadcast.text}, status_code=201)


@router.post("/broadcasts/{broadcast_id}/cancel")
async def cancel_broadcast(broadcast_id: Id, caller: Caller = Depends(require_organizer)) -> dict[str, Any]:
    """Stop the part of an announcement that has not gone out yet."""
    await ownership.owned_broadcast(broadcast_id, caller.reach)
    stopped = await broadcasts.cancel_broadcast(broadcast_id, actor=caller.actor)
    return {"id": broadcast_id, "stopped": stopped}
