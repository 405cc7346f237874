"""Events: list, read, create, change, publish, cancel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime

from api.auth import Caller, current_caller, require_organizer
from api.deps import Id, presenter
from api.schemas import CancelBody, Presenter
from events.districts import is_known
from events.errors import N_, InvalidInput
from events.models import EventKind, EventStatus, Role
from events.services import catalog

router = APIRouter(prefix="/api/v1/events", tags=["events"])


@router.get("")
async def list_events(
    caller: Caller = Depends(current_caller),
    show: Presenter = Depends(presenter),
    kind: EventKind | None = None,
    series: Annotated[str | None, Query(max_length=50)] = None,
    district: Annotated[str | None, Query(max_length=32)] = None,
    status: EventStatus | None = None,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    if district is not None and not is_known(district):
        raise InvalidInput(
            N_("Unknown district %(district)s; see /api/v1/districts."), field="district", district=district
        )
    page = await catalog.list_events(
        catalog.EventQuery(
            kind=kind,
            series=series,
            district=district,
            status=status,
            starts_from=from_,
            starts_to=to,
            q=q,
            limit=limit,
            cursor=cursor,
        ),
        include_unpublished=caller.has(Role.ORGANIZER),
    )
    return {"items": [show.event(e) for e in page.items], "next_cursor": page.next_cursor}


@router.post("", status_code=201)
async def create_event(
    data: catalog.EventInput, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> JSONResponse:
    event = await catalog.create_event(data, actor=caller.actor)
    return JSONResponse(show.event(event), status_code=201, headers={"Location": f"/api/v1/events/{event.id}"})


@router.get("/{event_id}")
async def get_event(
    event_id: Id, caller: Caller = Depends(current_caller), show: Presenter = Depends(presenter)
) -> dict[str, Any]:
    event = await catalog.get_event(event_id, include_unpublished=caller.has(Role.ORGANIZER))
    return show.event(event)


@router.patch("/{event_id}")
async def update_event(
    event_id: Id,
    patch: catalog.EventPatch,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> dict[str, Any]:
    return show.event(await catalog.update_event(event_id, patch, actor=caller.actor))


@router.post("/{event_id}/publish")
async def publish_event(
    event_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> dict[str, Any]:
    return show.event(await catalog.publish_event(event_id, actor=caller.actor))


@router.post("/{event_id}/cancel")
async def cancel_event(
    event_id: Id,
    body: Annotated[CancelBody | None, Body()] = None,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> dict[str, Any]:
    reason = body.reason if body else ""
    return show.event(await catalog.cancel_event(event_id, actor=caller.actor, reason=reason))
