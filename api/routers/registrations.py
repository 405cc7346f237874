"""Registrations: register (public while open), read, cancel, approve, reject, list and export."""

from __future__ import annotations

import csv
import io
import json
import zoneinfo
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from api.auth import Caller, current_caller, require_organizer
from api.deps import Id, presenter, rate_limit, settings
from api.exports import csv_cell
from api.ratelimit import PublicRateLimit
from api.schemas import CancelBody, DecisionBody, Presenter
from api.telegram_auth import verify_init_data
from events.errors import (
    AlreadyLinked,
    BotNotConfigured,
    Forbidden,
    RegistrationNotFound,
    TelegramIdNotAllowed,
    Unauthorized,
)
from events.models import Registration, RegistrationStatus, Role
from events.services import ownership
from events.services import registration as registrations
from events.services.people import display_phone
from events.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["registrations"])


@router.post("/events/{event_id}/registrations", status_code=201)
async def register(
    event_id: Id,
    applicant: registrations.Applicant,
    request: Request,
    caller: Caller = Depends(current_caller),
    show: Presenter = Depends(presenter),
    limiter: PublicRateLimit = Depends(rate_limit),
    config: Settings = Depends(settings),
) -> JSONResponse:
    init_data = request.headers.get("x-telegram-init-data")
    if caller.token is None and init_data:
        # A Mini App registers for the Telegram user its signed initData names, and nobody else.
        user = verify_init_data(config, init_data)
        if applicant.telegram_id not in (None, user.id):
            raise TelegramIdNotAllowed()
        applicant = applicant.model_copy(update={"telegram_id": user.id})
    elif caller.token is None:
        if applicant.telegram_id is not None:
            raise TelegramIdNotAllowed()
        await limiter.check(request, "register")
    elif applicant.telegram_id is not None and not caller.has(Role.ORGANIZER):
        # Admins and organizers vouch for the Telegram id they send; a checker or judge does not.
        raise TelegramIdNotAllowed()
    result = await registrations.register(event_id, applicant, actor=caller.actor, source="api")
    registration = result.registration
    body = show.registration(registration, waitlist_position=result.waitlist_position)
    body["access_token"] = result.access_secret
    body["telegram_link"] = await _telegram_link(request, registration) if registration.telegram_id is None else None
    return JSONResponse(body, status_code=201, headers={"Location": f"/api/v1/registrations/{registration.id}"})


def _bot_username(request: Request) -> str | None:
    username = getattr(request.app.state, "bot_username", None) or request.app.state.settings.bot_username
    return str(username) if username else None


async def _telegram_link(request: Request, registration: Registration) -> str | None:
    """The bot's deep link that attaches this registration to whoever opens it in Telegram (a one-time
    code, valid for ``LINK_CODE_TTL``); None without a bot.
    """
    username = _bot_username(request)
    if username is None:
        return None
    code = await registrations.issue_link_code(registration.id, channel="telegram")
    return f"https://t.me/{username}?start={registrations.LINK_PREFIX}{code}"


async def owned_registration(registration_id: Id, caller: Caller) -> Registration:
    """The registration, if the caller is an organizer or holds its access token."""
    if caller.token is None and caller.other_secret is None:
        raise Unauthorized()
    if caller.has(Role.ORGANIZER):
        return await ownership.owned_registration(registration_id, caller.reach)
    if caller.other_secret is not None:
        found = await registrations.find_by_secret(caller.other_secret)
        if found is not None and found.id == registration_id:
            return found
        raise RegistrationNotFound()
    raise Forbidden()


@router.get("/registrations/{registration_id}")
async def get_registration(
    registration_id: Id, caller: Caller = Depends(current_caller), show: Presenter = Depends(presenter)
) -> dict[str, Any]:
    registration = await owned_registration(registration_id, caller)
    return show.registration(registration, waitlist_position=await registrations.waitlist_position(registration))


@router.post("/registrations/{registration_id}/cancel")
async def cancel_registration(
    registration_id: Id,
    body: Annotated[CancelBody | None, Body()] = None,
    caller: Caller = Depends(current_caller),
    show: Presenter = Depends(presenter),
) -> dict[str, Any]:
    await owned_registration(registration_id, caller)
    registration = await registrations.cancel_registration(
        registration_id,
        actor=caller.actor if caller.token else f"registrant:{registration_id}",
        reason=body.reason if body else "",
    )
    return show.registration(registration, waitlist_position=None)


@router.post("/registrations/{registration_id}/telegram-link")
async def new_telegram_link(
    registration_id: Id, request: Request, caller: Caller = Depends(current_caller)
) -> dict[str, Any]:
    """A fresh one-time link that attaches this registration to a Telegram account (earlier links stop
    working). ``409 bot_not_configured`` without a bot; ``409 already_linked`` once it has one.
    """
    registration = await owned_registration(registration_id, caller)
    if registration.telegram_id is not None:
        raise AlreadyLinked()
    link = await _telegram_link(request, registration)
    if link is None:
        raise BotNotConfigured()
    return {"telegram_link": link, "expires_in": int(registrations.LINK_CODE_TTL.total_seconds())}


@router.post("/registrations/{registration_id}/approve")
async def approve_registration(
    registration_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> dict[str, Any]:
    await ownership.owned_registration(registration_id, caller.reach)
    result = await registrations.approve_registration(registration_id, actor=caller.actor)
    return show.registration(result.registration, waitlist_position=result.waitlist_position)


@router.post("/registrations/{registration_id}/reject")
async def reject_registration(
    registration_id: Id,
    body: Annotated[DecisionBody | None, Body()] = None,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> dict[str, Any]:
    await ownership.owned_registration(registration_id, caller.reach)
    registration = await registrations.reject_registration(
        registration_id, actor=caller.actor, reason=body.reason if body else ""
    )
    return show.registration(registration, waitlist_position=None)


CSV_COLUMNS = (
    "id",
    "status",
    "waitlist_position",
    "name",
    "organization",
    "phone",
    "email",
    "telegram_id",
    "source",
    "created_at",
    "answers",
)


@router.get("/events/{event_id}/registrations", response_model=None)
async def list_event_registrations(
    event_id: Id,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    config: Settings = Depends(settings),
    status: RegistrationStatus | None = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response | dict[str, Any]:
    event = await ownership.owned_event(event_id, caller.reach)
    rows = await registrations.list_registrations(event.id, status=status)
    positions = await registrations.waitlist_positions(event.id)
    if format == "json":
        return {"items": [show.registration(r, waitlist_position=positions.get(r.id)) for r in rows]}
    tz = zoneinfo.ZoneInfo(config.timezone)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                csv_cell(v)
                for v in (
                    r.id,
                    r.status,
                    positions.get(r.id),
                    r.name,
                    r.organization,
                    display_phone(r.phone),
                    r.email,
                    r.telegram_id,
                    r.source,
                    r.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                    json.dumps(r.answers, ensure_ascii=False) if r.answers else "",
                )
            ]
        )
    # BOM so that Excel opens the Chinese names as UTF-8.
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="event-{event.id}-registrations.csv"'},
    )
