"""Events: list, read, create, change, publish, cancel."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import AwareDatetime

from api.auth import Caller, current_caller, require_organizer
from api.deps import Id, presenter
from api.schemas import CancelBody, Presenter
from api.schemas.common import AUTHED, AUTHED_WRITE, READ, Page, errors, media
from api.schemas.events import EventInvite, EventPublic
from events.districts import is_known
from events.errors import N_, BotNotConfigured, InvalidInput
from events.models import EventKind, EventStatus, Role
from events.services import catalog, organizations, ownership, posters

router = APIRouter(prefix="/api/v1/events", tags=["events"])


@router.get(
    "",
    response_model=Page[EventPublic],
    responses=errors(400, 413, 422),
    summary="List events",
    description="Published events for everyone; an organizer also sees their organization's drafts and "
    "cancelled events (an admin: all). By default the events not yet over, soonest first; `when=past` "
    "lists the ended ones, latest first, and `when=all` every one in start order (the default once "
    "`from` or `to` is given). Keyset pages: pass `next_cursor` back as `cursor` (with the same filters).",
)
async def list_events(
    caller: Caller = Depends(current_caller),
    show: Presenter = Depends(presenter),
    kind: EventKind | None = None,
    series: Annotated[str | None, Query(max_length=50)] = None,
    district: Annotated[str | None, Query(max_length=32)] = None,
    status: EventStatus | None = None,
    from_: Annotated[
        AwareDatetime | None, Query(alias="from", description="Events still running at or after this moment.")
    ] = None,
    to: Annotated[AwareDatetime | None, Query(description="Events starting before this moment.")] = None,
    q: Annotated[str | None, Query(max_length=100, description="Words in the title, description or host.")] = None,
    when: Annotated[catalog.When | None, Query(description="upcoming (default) · past (latest first) · all")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Page[EventPublic]:
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
            when=when,
            limit=limit,
            cursor=cursor,
        ),
        include_unpublished=caller.has(Role.ORGANIZER),
        scope=caller.scope or organizations.EVERYTHING,
    )
    return Page[EventPublic].of(page, [EventPublic.of(e, show) for e in page.items])


@router.post(
    "",
    status_code=201,
    response_model=EventPublic,
    responses=AUTHED_WRITE,
    summary="Create an event",
    description="A draft owned by the caller's organization; `Location` names it. Publish it to open it.",
)
async def create_event(
    data: catalog.EventInput,
    response: Response,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> EventPublic:
    event = await catalog.create_event(data, actor=caller.actor, organization_id=caller.acts_for)
    response.headers["Location"] = f"/api/v1/events/{event.id}"
    return EventPublic.of(event, show)


@router.get(
    "/{event_id}",
    response_model=EventPublic,
    responses=READ,
    summary="Read an event",
    description="A published event for everyone; a draft for its organization's organizers (else `404`).",
)
async def get_event(
    event_id: Id, caller: Caller = Depends(current_caller), show: Presenter = Depends(presenter)
) -> EventPublic:
    event = await catalog.get_event(
        event_id, include_unpublished=caller.has(Role.ORGANIZER), scope=caller.scope or organizations.EVERYTHING
    )
    return EventPublic.of(event, show)


@router.patch(
    "/{event_id}",
    response_model=EventPublic,
    responses=AUTHED_WRITE,
    summary="Change an event",
    description="Only the fields sent change (`null` clears an optional one). A change of time or place "
    "is told to the registrants; a larger capacity promotes the waitlist. `409` for a cancelled event "
    "or a capacity below the seats taken.",
)
async def update_event(
    event_id: Id,
    patch: catalog.EventPatch,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> EventPublic:
    await ownership.owned_event(event_id, caller.reach)
    return EventPublic.of(await catalog.update_event(event_id, patch, actor=caller.actor), show)


@router.post(
    "/{event_id}/publish",
    response_model=EventPublic,
    responses=AUTHED_WRITE,
    summary="Publish an event",
    description="Draft → published (again: no change). `409 invalid_transition` from any other status.",
)
async def publish_event(
    event_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> EventPublic:
    await ownership.owned_event(event_id, caller.reach)
    return EventPublic.of(await catalog.publish_event(event_id, actor=caller.actor), show)


@router.post(
    "/{event_id}/cancel",
    response_model=EventPublic,
    responses=AUTHED_WRITE,
    summary="Cancel an event",
    description="Registrations stay for the record and their people are told, with the `reason`. "
    "`409 invalid_transition` when already cancelled or finished.",
)
async def cancel_event(
    event_id: Id,
    body: Annotated[CancelBody | None, Body()] = None,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> EventPublic:
    reason = body.reason if body else ""
    await ownership.owned_event(event_id, caller.reach)
    return EventPublic.of(await catalog.cancel_event(event_id, actor=caller.actor, reason=reason), show)


def _bot_username(request: Request) -> str:
    username = getattr(request.app.state, "bot_username", None) or request.app.state.settings.bot_username
    if not username:
        raise BotNotConfigured()
    return str(username)


@router.get(
    "/{event_id}/invite",
    response_model=EventInvite,
    responses=errors(400, 401, 403, 404, 409, 413, 422),
    summary="The event's bot invitation",
    description="The bot's deep link that opens this event's registration, and a printable poster with its "
    "QR. `409 bot_not_configured` without a bot.",
)
async def invite(
    event_id: Id, request: Request, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> EventInvite:
    event = await ownership.owned_event(event_id, caller.reach)
    username = _bot_username(request)
    return EventInvite(
        deep_link=posters.deep_link(username, event),
        bot_username=username,
        poster_png_url=f"{show.public_url}/api/v1/events/{event.id}/invite.png",
    )


@router.get(
    "/{event_id}/invite.png",
    response_class=Response,
    responses=media(200, "The poster (PNG).", "image/png") | AUTHED,
    summary="The event's invitation poster",
    description="A printable poster with the event's title, time, place and a QR of its web page (where "
    "anyone registers); the caption names the bot too when one is configured.",
)
async def invite_poster(
    event_id: Id, request: Request, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> Response:
    event = await ownership.owned_event(event_id, caller.reach)
    link = show.public_url + catalog.event_page_path(event.id)
    bot = getattr(request.app.state, "bot_username", None) or request.app.state.settings.bot_username
    png = await asyncio.to_thread(posters.poster_png, event, link, bot_username=bot)
    return Response(
        png, media_type="image/png", headers={"Content-Disposition": f'inline; filename="event-{event.id}-poster.png"'}
    )
