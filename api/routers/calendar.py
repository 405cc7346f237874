"""iCalendar feeds over HTTP: ETag and 304, Last-Modified, cache headers; webcal links."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.auth import Caller, current_caller
from api.deps import Id
from api.routers.registrations import OWNER, owned_registration
from api.schemas.common import errors, media
from api.schemas.meta import CalendarAlarm, CalendarLinks
from events.services import calendar

router = APIRouter(tags=["calendars"])
Slug = Annotated[str, Path(max_length=64)]
SeriesSlug = Annotated[str, Path(max_length=50)]
DistrictCode = Annotated[str, Path(max_length=32)]


async def renderer(request: Request) -> calendar.FeedRenderer:
    return request.app.state.calendar


@lru_cache(maxsize=1024)
def _http_date(moment: datetime) -> str:
    """An HTTP date, formatted once per feed rather than on every (304) request."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _respond(request: Request, feed: calendar.Feed, *, private: bool = False) -> Response:
    headers = {
        "ETag": feed.etag,
        "Cache-Control": ("private" if private else "public") + ", max-age=300",
    }
    if feed.last_modified is not None:
        headers["Last-Modified"] = _http_date(feed.last_modified)
    candidates = [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]
    if feed.etag in candidates or f"W/{feed.etag}" in candidates or "*" in candidates:
        return Response(status_code=304, headers=headers)
    return Response(feed.body, media_type="text/calendar; charset=utf-8", headers=headers)


def _ics(name: str) -> str:
    return name.removesuffix(".ics")


ICS = media(200, "An iCalendar feed (`ETag`; `304` on `If-None-Match`).", "text/calendar") | {
    304: {"description": "Not modified since the `ETag` sent in `If-None-Match`."}
}


@router.get(
    "/calendar/events.ics",
    response_class=Response,
    responses=ICS,
    summary="All published events (iCalendar)",
    description="Every published event, for calendar apps to subscribe to.",
)
async def all_events(request: Request, feeds: calendar.FeedRenderer = Depends(renderer)) -> Response:
    return _respond(request, await feeds.public_feed(calendar.scope_all()))


@router.get(
    "/calendar/series/{series}.ics",
    response_class=Response,
    responses=ICS | errors(404, 422),
    summary="A series' events (iCalendar)",
    description="The published events of one series (e.g. `wuchuanghui`).",
)
async def series_feed(
    series: SeriesSlug, request: Request, feeds: calendar.FeedRenderer = Depends(renderer)
) -> Response:
    return _respond(request, await feeds.public_feed(await calendar.scope_for_series(series)))


@router.get(
    "/calendar/districts/{district}.ics",
    response_class=Response,
    responses=ICS | errors(404, 422),
    summary="A district's events (iCalendar)",
    description="The published events in one district (a code of /api/v1/districts).",
)
async def district_feed(
    district: DistrictCode, request: Request, feeds: calendar.FeedRenderer = Depends(renderer)
) -> Response:
    return _respond(request, await feeds.public_feed(calendar.scope_for_district(district)))


@router.get(
    "/calendar/events/{event_id}.ics",
    response_class=Response,
    responses=ICS | errors(404, 422),
    summary="One event (iCalendar)",
    description="One published event, as an attachment to add to a calendar.",
)
async def event_feed(event_id: Id, request: Request, feeds: calendar.FeedRenderer = Depends(renderer)) -> Response:
    response = _respond(request, await feeds.public_feed(await calendar.scope_for_event(event_id)))
    response.headers["Content-Disposition"] = f'attachment; filename="event-{event_id}.ics"'
    return response


@router.get(
    "/calendar/me/{token}.ics",
    response_class=Response,
    responses=ICS | errors(404, 422),
    summary="A registration's own feed (iCalendar)",
    description="Behind an unguessable address (see /api/v1/registrations/{id}/calendar); private caching.",
)
async def my_feed(token: Slug, request: Request, feeds: calendar.FeedRenderer = Depends(renderer)) -> Response:
    return _respond(request, await feeds.person_feed(token), private=True)


def feed_links(base_url: str, path: str) -> CalendarLinks:
    return CalendarLinks(**calendar.feed_links(base_url, path))


class AlarmBody(BaseModel):
    minutes: int = Field(ge=0, le=7 * 24 * 60)


@router.get(
    "/api/v1/registrations/{registration_id}/calendar",
    response_model=CalendarLinks,
    responses=OWNER,
    summary="A registration's calendar link",
    description="This registration's own feed, made on first request. It shows this registration only: the "
    "token proves the registration, not who its person is (a person's whole feed is in the bot's /my).",
)
async def my_calendar_link(
    registration_id: Id, request: Request, caller: Caller = Depends(current_caller)
) -> CalendarLinks:
    registration = await owned_registration(registration_id, caller)
    token = await calendar.registration_calendar_token(registration.id)
    return feed_links(request.app.state.settings.base_url, calendar.person_feed_path(token))


@router.post(
    "/api/v1/registrations/{registration_id}/calendar/rotate",
    response_model=CalendarLinks,
    responses=OWNER,
    summary="Rotate a registration's calendar link",
    description="A new personal feed URL; the old one stops working at once.",
)
async def rotate_calendar_link(
    registration_id: Id, request: Request, caller: Caller = Depends(current_caller)
) -> CalendarLinks:
    registration = await owned_registration(registration_id, caller)
    token = await calendar.rotate_registration_calendar_token(registration.id)
    return feed_links(request.app.state.settings.base_url, calendar.person_feed_path(token))


@router.put(
    "/api/v1/registrations/{registration_id}/calendar/alarm",
    response_model=CalendarAlarm,
    responses=OWNER,
    summary="Set a registration's calendar reminder",
    description="How long before the event this registration's feed reminds (0 turns it off).",
)
async def set_calendar_alarm(
    registration_id: Id, body: AlarmBody, caller: Caller = Depends(current_caller)
) -> CalendarAlarm:
    registration = await owned_registration(registration_id, caller)
    await calendar.set_registration_alarm_minutes(registration.id, body.minutes)
    return CalendarAlarm(minutes=body.minutes)
