"""Check-in at the door: redeem scans, door statistics, the offline list for scanners."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.auth import Caller, require
from api.deps import Id, locale, presenter, signer
from api.schemas import Presenter
from events import clock
from events.i18n import Locale, gettext
from events.models import Direction, Event, Role
from events.services import catalog, checkin, ownership, staff, tokens
from events.services.tickets import TicketSigner

router = APIRouter(prefix="/api/v1", tags=["check-in"])
require_door = require(Role.CHECKER, Role.ORGANIZER)


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


def checkin_answer(outcome: checkin.Outcome, show: Presenter, lang: Locale) -> dict[str, Any]:
    """The answer to a scan, the same for door-staff tokens and the bot's Mini App."""
    registration = outcome.registration
    return {
        "result": str(outcome.result),
        "reason": gettext(lang, outcome.reason, **outcome.params),
        "registration": None
        if registration is None
        else {
            "id": registration.id,
            "event_id": registration.event_id,  # type: ignore[attr-defined]
            "name": registration.name,
            "organization": registration.organization,
            "status": str(registration.status),
        },
        "first_checked_in_at": show.time(outcome.first_checked_in_at),
        "first_gate": outcome.first_gate,
        "replayed": outcome.replayed,
        # Training sessions: the hours this check-in wrote to the broker's ledger.
        "credit_hours": None if outcome.credit_hours is None else float(outcome.credit_hours),
    }


async def _event_in_scope(event_id: int, caller: Caller) -> Event:
    assert caller.token is not None
    event = await ownership.owned_event(event_id, caller.reach)
    tokens.require_event_scope(caller.token, event_id)
    return event


@router.post("/checkins")
async def redeem(
    body: CheckinBody,
    caller: Caller = Depends(require_door),
    keys: TicketSigner = Depends(signer),
    show: Presenter = Depends(presenter),
    lang: Locale = Depends(locale),
) -> dict[str, Any]:
    await _event_in_scope(body.event_id, caller)
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
        tz=show.tz,
    )
    return checkin_answer(outcome, show, lang)


@router.get("/events/{event_id}/stats")
async def stats(
    event_id: Id, caller: Caller = Depends(require_door), show: Presenter = Depends(presenter)
) -> dict[str, Any]:
    event = await _event_in_scope(event_id, caller)
    figures = await checkin.event_stats(event)
    return {
        "event_id": event.id,
        "capacity": figures.capacity,
        "confirmed": figures.confirmed,
        "waitlisted": figures.waitlisted,
        "pending": figures.pending,
        "checked_in": figures.checked_in,
        "no_show": figures.no_show,
        "arrivals": [{"at": show.time(at), "count": count} for at, count in figures.arrivals],
    }


@router.get("/events/{event_id}/checkin-list")
async def checkin_list(
    event_id: Id,
    caller: Caller = Depends(require_door),
    keys: TicketSigner = Depends(signer),
    show: Presenter = Depends(presenter),
) -> dict[str, Any]:
    """Everything a scanner needs to keep judging tickets while the network is down."""
    event = await _event_in_scope(event_id, caller)
    opens, closes = checkin.checkin_window(event)
    entries = await checkin.offline_list(event)
    return {
        "event": {
            "id": event.id,
            "title": event.title,
            "status": str(catalog.effective_status(event)),
            "checkin_opens_at": show.time(opens),
            "checkin_closes_at": show.time(closes),
        },
        # Tickets of these events open this door (a course session also takes the course's passes).
        "accepts_event_ids": await checkin.ticket_event_ids(event),
        "key_id": keys.key_id,
        "registrations": [
            {
                "id": e.registration_id,
                "name": e.name,
                "organization": e.organization,
                "status": e.status,
                "ticket_version": e.ticket_version,
                "checked_in": e.checked_in,
            }
            for e in entries
        ],
        "generated_at": show.time(clock.now()),
    }


@router.get("/checkins/events")
async def scannable_events(
    caller: Caller = Depends(require_door), show: Presenter = Depends(presenter)
) -> dict[str, Any]:
    """Events this token may scan whose door is open now or within the next two weeks."""
    assert caller.token is not None
    found = await staff.scannable_events(caller.reach, event_ids=caller.token.event_ids)
    return {"items": [show.event(e) for e in found]}
