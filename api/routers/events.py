"""Events: list, read, create, change, publish, cancel."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime

from api.auth import Caller, current_caller, require_organizer
from api.deps import Id, presenter
from api.schemas import CancelBody, Presenter
from events.districts import is_known
from events.errors import N_, BotNotConfigured, InvalidInput
from events.models import EventKind, EventStatus, Role
from events.services import catalog, organizations, ownership, posters

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
        scope=caller.scope or organizations.EVERYTHING,
    )
    return {"items": [show.event(e) for e in page.items], "next_cursor": page.next_cursor}


@router.post("", status_code=201)
async def create_event(
    data: catalog.EventInput, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> JSONResponse:
    event = await catalog.create_event(data, actor=caller.actor, organization_id=caller.acts_for)
    return JSONResponse(show.event(event), status_code=201, headers={"Location": f"/api/v1/events/{event.id}"})


@router.get("/{event_id}")
async def get_event(
    event_id: Id, caller: Caller = Depends(current_caller), show: Presenter = Depends(presenter)
) -> dict[str, Any]:
    event = await catalog.get_event(
        event_id, include_unpublished=caller.has(Role.ORGANIZER), scope=caller.scope or organizations.EVERYTHING
    )
    return show.event(event)


@router.patch("/{event_id}")
async def update_event(
    event_id: Id,
    patch: catalog.EventPatch,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> dict[str, Any]:
    await ownership.owned_event(event_id, caller.reach)
    return show.event(await catalog.update_event(event_id, patch, actor=caller.actor))


@router.post("/{event_id}/publish")
async def publish_event(
    event_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> dict[str, Any]:
    await ownership.owned_event(event_id, caller.reach)
    return show.event(await catalog.publish_event(event_id, actor=caller.actor))


@router.post("/{event_id}/cancel")
async def cancel_event(
    event_id: Id,
    body: Annotated[CancelBody | None, Body()] = None,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> dict[str, Any]:
    reason = body.reason if body else ""
    await ownership.owned_event(event_id, caller.reach)
    return show.event(await catalog.cancel_event(event_id, actor=caller.actor, reason=reason))


def _bot_username(request: Request) -> str:
    username = getattr(request.app.state, "bot_username", None) or request.app.state.settings.bot_username
    if not username:
        raise BotNotConfigured()
    return str(username)


@router.get("/{event_id}/invite")
async def invite(
    event_id: Id, request: Request, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> dict[str, Any]:
    """The bot's deep link that opens this event's registration, and a printable poster with its QR."""
    event = await ownership.owned_event(event_id, caller.reach)
    username = _bot_username(request)
    return {
        "deep_link": posters.deep_link(username, event),
        "bot_username": username,
        "poster_png_url": f"{show.public_url}/api/v1/events/{event.id}/invite.png",
    }


@router.get("/{event_id}/invite.png", response_class=Response)
async def invite_poster(
    event_id: Id, request: Request, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> Response:
    event = await ownership.owned_event(event_id, caller.reach)
    link = posters.deep_link(_bot_username(request), event)
    png = await asyncio.to_thread(posters.poster_png, event, link, timezone=str(show.tz))
    return Response(
        png, media_type="image/png", headers={"Content-Disposition": f'inline; filename="event-{event.id}-poster.png"'}
    )
