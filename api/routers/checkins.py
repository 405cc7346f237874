"""Check-in at the door: redeem scans, door statistics, the offline list for scanners."""

from __future__ import annotations

import zoneinfo
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.auth import Caller, require
from api.deps import Id, locale, presenter, signer
from api.schemas import Presenter
from api.schemas.checkins import CheckinAnswer, CheckinList, DoorEvent, EventStats, OfflineEntry
from api.schemas.common import AUTHED, Items, errors
from api.schemas.events import EventPublic
from events import clock
from events.i18n import Locale
from events.localtime import local
from events.models import Direction, Event, RegistrationStatus, Role
from events.services import catalog, checkin, ownership, staff, tokens
from events.services.tickets import TicketSigner

router = APIRouter(prefix="/api/v1", tags=["check-in"])
DOOR_ROLES = (Role.CHECKER, Role.ORGANIZER)
require_door = require(*DOOR_ROLES)


class CheckinBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Whatever the scanner read: garbage is answered `invalid`, not refused as a request.
    code: Annotated[str, Field(max_length=65_536)]
    event_id: Annotated[int, Field(ge=1, le=2_147_483_647)]
    scan_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    gate: Annotated[str, Field(max_length=50)] | None = None
    device: Annotated[str, Field(max_length=100)] | None = None
    direction: Direction = Direction.ENTRY
    scanned_at: AwareDatetime | None = None
    offline: bool = False


def checkin_answer(outcome: checkin.Outcome, lang: Locale) -> CheckinAnswer:
    """The answer to a scan, the same for door-staff tokens and the bot's Mini App."""
    return CheckinAnswer.of(outcome, lang)


async def _event_in_scope(event_id: int, caller: Caller) -> Event:
    assert caller.token is not None
    event = await ownership.owned_event(event_id, caller.reach)
    tokens.require_event_scope(caller.token, event_id)
    return event


@router.post(
    "/checkins",
    response_model=CheckinAnswer,
    responses=errors(400, 401, 403, 404, 409, 413, 422),
    summary="Check a ticket in at the door",
    description="Every scan gets `200` with a `result` (`ok`, `already_checked_in`, `wrong_event`, `cancelled`, "
    "`revoked`, `invalid`, `not_open_yet`, `closed`) and a `reason` in the caller's language; refused scans "
    "are kept for audit. The same `scan_id` again replays the answer; with other content `409 scan_id_reused`. "
    "A checker token limited to other events: `403`.",
)
async def redeem(
    body: CheckinBody,
    caller: Caller = Depends(require_door),
    keys: TicketSigner = Depends(signer),
    show: Presenter = Depends(presenter),
    lang: Locale = Depends(locale),
) -> CheckinAnswer:
    return await answer_scan(body, caller, keys=keys, tz=show.tz, lang=lang)


async def answer_scan(
    body: CheckinBody, caller: Caller, *, keys: TicketSigner, tz: zoneinfo.ZoneInfo, lang: Locale
) -> CheckinAnswer:
    """A scan's answer, for a caller holding a door role: the route's, and the lean path's
    (``api.hot_routes``) when a rush's scan skips the framework."""
    assert caller.token is not None
    outcome = await checkin.redeem(
        checkin.Scan(
            code=body.code,
            event_id=body.event_id,
            scan_id=body.scan_id,
            gate=body.gate,
            device=body.device,
            direction=body.direction,
            scanned_at=body.scanned_at,
            offline=body.offline,
        ),
        signer=keys,
        actor=caller.actor,
        tz=tz,
        scope=caller.reach,
        token=caller.token,
    )
    return checkin_answer(outcome, lang)


@router.get(
    "/events/{event_id}/stats",
    response_model=EventStats,
    responses=AUTHED,
    summary="Door figures of an event",
    description="Confirmed, waitlisted, pending, checked in, no-shows once it is over, arrivals per 5 minutes.",
)
async def stats(event_id: Id, caller: Caller = Depends(require_door)) -> EventStats:
    event = await _event_in_scope(event_id, caller)
    return EventStats.of(event.id, await checkin.event_stats(event))


@router.get(
    "/events/{event_id}/checkin-list",
    response_model=CheckinList,
    responses=AUTHED,
    summary="The offline list for scanners",
    description="Everything a scanner needs to keep judging tickets while the network is down: every "
    "registration's status and ticket version, who is in, the key id.",
)
async def checkin_list(
    event_id: Id,
    caller: Caller = Depends(require_door),
    keys: TicketSigner = Depends(signer),
) -> CheckinList:
    event = await _event_in_scope(event_id, caller)
    opens, closes = checkin.checkin_window(event)
    entries = await checkin.offline_list(event)
    return CheckinList(
        event=DoorEvent(
            id=event.id,
            title=event.title,
            status=catalog.effective_status(event),
            checkin_opens_at=local(opens),
            checkin_closes_at=local(closes),
        ),
        accepts_event_ids=await checkin.ticket_event_ids(event),
        key_id=keys.key_id,
        registrations=[
            OfflineEntry(
                id=e.registration_id,
                name=e.name,
                organization=e.organization,
                status=RegistrationStatus(e.status),
                ticket_version=e.ticket_version,
                checked_in=e.checked_in,
            )
            for e in entries
        ],
        generated_at=local(clock.now()),
    )


@router.get(
    "/checkins/events",
    response_model=Items[EventPublic],
    responses=errors(400, 401, 403),
    summary="Events this token may scan",
    description="Events this token may scan whose door is open now or within the next two weeks.",
)
async def scannable_events(
    caller: Caller = Depends(require_door), show: Presenter = Depends(presenter)
) -> Items[EventPublic]:
    assert caller.token is not None
    found = await staff.scannable_events(caller.reach, event_ids=caller.token.event_ids)
    return Items[EventPublic](items=[EventPublic.of(e, show) for e in found])
