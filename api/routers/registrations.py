"""Registrations: register (public while open), read, cancel, approve, reject, list and export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from api.auth import Caller, current_caller, require_organizer
from api.deps import Id, presenter, rate_limit, settings
from api.exports import csv_response, xlsx_response
from api.ratelimit import PublicRateLimit
from api.schemas import CancelBody, DecisionBody, Presenter
from api.schemas.common import AUTHED, AUTHED_WRITE, PUBLIC_WRITE, Page, errors, media
from api.schemas.registrations import RegistrationCreated, RegistrationListItem, RegistrationPublic, TelegramLink
from api.telegram_auth import verify_init_data
from events import clock, localtime
from events.errors import (
    N_,
    AlreadyLinked,
    BotNotConfigured,
    Forbidden,
    RegistrationNotFound,
    TelegramIdNotAllowed,
    Unauthorized,
)
from events.i18n import Locale, gettext, negotiate, normalize_locale
from events.models import Event, Registration, RegistrationStatus, Role
from events.services import ownership
from events.services import registration as registrations
from events.services.people import display_phone
from events.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["registrations"])
# What a registrant's own calls can answer: no token (401), a token that is not theirs (403/404).
OWNER = errors(400, 401, 403, 404, 413, 422)


@router.post(
    "/events/{event_id}/registrations",
    status_code=201,
    response_model=RegistrationCreated,
    responses=PUBLIC_WRITE | errors(401),
    summary="Register for an event",
    description="Public while registration is open (anonymous callers are rate-limited per address: `429`). "
    "A full event with a waitlist answers `waitlisted`; one that needs approval `pending`. `409` for "
    "`already_registered`, `registration_closed`, `event_full` …. `telegram_id` only from a token or a "
    "Mini App's signed `X-Telegram-Init-Data`. `access_token` is shown once.",
)
async def register(
    event_id: Id,
    applicant: registrations.Applicant,
    request: Request,
    response: Response,
    caller: Caller = Depends(current_caller),
    show: Presenter = Depends(presenter),
    limiter: PublicRateLimit = Depends(rate_limit),
    config: Settings = Depends(settings),
) -> RegistrationCreated:
    created = await register_applicant(event_id, applicant, request, caller, show=show, limiter=limiter, config=config)
    response.headers["Location"] = location_of(created)
    return created


def location_of(created: RegistrationCreated) -> str:
    """Where a new registration is read (the 201's Location)."""
    return f"/api/v1/registrations/{created.id}"


async def register_applicant(
    event_id: int,
    applicant: registrations.Applicant,
    request: Request,
    caller: Caller,
    *,
    show: Presenter,
    limiter: PublicRateLimit,
    config: Settings,
) -> RegistrationCreated:
    """A registration made for its caller: the route's, and the lean path's (``api.hot_routes``)
    when a rush's registration skips the framework."""
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
    return RegistrationCreated(
        **RegistrationPublic.fields_of(registration, show, result.waitlist_position),
        access_token=result.access_secret,
        telegram_link=await _telegram_link(request, registration) if registration.telegram_id is None else None,
    )


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


@router.get(
    "/registrations/{registration_id}",
    response_model=RegistrationPublic,
    responses=OWNER,
    summary="Read a registration",
    description="For its registrant (the `access_token` given at registration) and the event's organizers.",
)
async def get_registration(
    registration_id: Id, caller: Caller = Depends(current_caller), show: Presenter = Depends(presenter)
) -> RegistrationPublic:
    registration = await owned_registration(registration_id, caller)
    return RegistrationPublic.of(
        registration, show, waitlist_position=await registrations.waitlist_position(registration)
    )


@router.post(
    "/registrations/{registration_id}/cancel",
    response_model=RegistrationPublic,
    responses=OWNER | errors(409),
    summary="Cancel a registration",
    description="By its registrant or an organizer: frees the seat and promotes the waitlist's head. "
    "`409` when already cancelled.",
)
async def cancel_registration(
    registration_id: Id,
    body: Annotated[CancelBody | None, Body()] = None,
    caller: Caller = Depends(current_caller),
    show: Presenter = Depends(presenter),
) -> RegistrationPublic:
    await owned_registration(registration_id, caller)
    registration = await registrations.cancel_registration(
        registration_id,
        actor=caller.actor if caller.token else f"registrant:{registration_id}",
        reason=body.reason if body else "",
    )
    return RegistrationPublic.of(registration, show, waitlist_position=None)


@router.post(
    "/registrations/{registration_id}/telegram-link",
    response_model=TelegramLink,
    responses=OWNER | errors(409),
    summary="A new Telegram link for a registration",
    description="A fresh one-time link that attaches this registration to a Telegram account (earlier links "
    "stop working). `409 bot_not_configured` without a bot; `409 already_linked` once it has one.",
)
async def new_telegram_link(
    registration_id: Id, request: Request, caller: Caller = Depends(current_caller)
) -> TelegramLink:
    registration = await owned_registration(registration_id, caller)
    if registration.telegram_id is not None:
        raise AlreadyLinked()
    link = await _telegram_link(request, registration)
    if link is None:
        raise BotNotConfigured()
    return TelegramLink(telegram_link=link, expires_in=int(registrations.LINK_CODE_TTL.total_seconds()))


@router.post(
    "/registrations/{registration_id}/approve",
    response_model=RegistrationPublic,
    responses=AUTHED_WRITE,
    summary="Approve a pending registration",
    description="Confirms it (or waitlists it when the event has filled meanwhile). `409` unless pending.",
)
async def approve_registration(
    registration_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> RegistrationPublic:
    await ownership.owned_registration(registration_id, caller.reach)
    result = await registrations.approve_registration(registration_id, actor=caller.actor)
    return RegistrationPublic.of(result.registration, show, waitlist_position=result.waitlist_position)


@router.post(
    "/registrations/{registration_id}/reject",
    response_model=RegistrationPublic,
    responses=AUTHED_WRITE,
    summary="Reject a pending registration",
    description="The registrant is told, with the `reason`. `409` unless pending.",
)
async def reject_registration(
    registration_id: Id,
    body: Annotated[DecisionBody | None, Body()] = None,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> RegistrationPublic:
    await ownership.owned_registration(registration_id, caller.reach)
    registration = await registrations.reject_registration(
        registration_id, actor=caller.actor, reason=body.reason if body else ""
    )
    return RegistrationPublic.of(registration, show, waitlist_position=None)


# The export's column titles (msgids, written in the caller's language), in ``_export_row``'s order;
# one column per question of the event follows.
EXPORT_COLUMNS: tuple[str, ...] = (
    N_("ID"),
    N_("Status"),
    N_("Waitlist position"),
    N_("Name"),
    N_("Organization"),
    N_("Phone"),
    N_("E-mail"),
    N_("Telegram ID"),
    N_("Source"),
    N_("Registered at"),
    N_("Checked in at"),
    N_("Gate"),
)
EXPORT_WIDTHS = (8, 10, 8, 14, 28, 16, 24, 14, 8, 18, 18, 10)
STATUS_NAMES: dict[str, str] = {
    RegistrationStatus.CONFIRMED: N_("Confirmed"),
    RegistrationStatus.WAITLISTED: N_("Waitlisted"),
    RegistrationStatus.PENDING: N_("Awaiting approval"),
    RegistrationStatus.CANCELLED: N_("Cancelled"),
    RegistrationStatus.REJECTED: N_("Rejected"),
}
EXPORT_TYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _question_title(question: dict[str, Any], lang: Locale) -> str:
    return str((question.get("label_en") if lang == "en" else None) or question["label"])


def _answer_keys(event: Event, found: list[registrations.RegistrationRow]) -> list[str]:
    """One column per question of the event, then any other key answered (an event without
    questions keeps answers as given), in the order first seen."""
    keys = [q["key"] for q in event.questions or []]
    for row in found:
        keys += [key for key in row.registration.answers or {} if key not in keys]
    return keys


def _export_header(event: Event, keys: list[str], lang: Locale) -> list[str]:
    titles = {q["key"]: _question_title(q, lang) for q in event.questions or []}
    return [gettext(lang, title) for title in EXPORT_COLUMNS] + [titles.get(key, key) for key in keys]


def _export_row(row: registrations.RegistrationRow, keys: list[str], lang: Locale) -> list[Any]:
    r = row.registration
    answers = r.answers or {}
    # A time is written as people read it (local, to the minute), the same in CSV and XLSX.
    return [
        r.id,
        gettext(lang, STATUS_NAMES[r.status]) if r.status in STATUS_NAMES else str(r.status),
        row.waitlist_position,
        r.name,
        r.organization,
        display_phone(r.phone),
        r.email,
        r.telegram_id,
        r.source,
        localtime.stamp(r.created_at),
        localtime.stamp(row.checked_in_at),
        row.gate,
    ] + [answers.get(key, "") for key in keys]


async def _export(event: Event, found: list[registrations.RegistrationRow], kind: str, lang: Locale) -> Response:
    keys = _answer_keys(event, found)
    header = _export_header(event, keys, lang)
    rows = [_export_row(row, keys, lang) for row in found]
    day = localtime.local(clock.now()).strftime("%Y%m%d")
    filename = f"event-{event.id}-registrations-{day}.{kind}"
    if kind == "csv":
        return csv_response(filename, header, rows, tz=localtime.zone())
    title = gettext(lang, N_("Registrations"))
    widths = list(EXPORT_WIDTHS) + [16] * len(keys)
    return await xlsx_response(filename, title, header, rows, tz=localtime.zone(), widths=widths)


@router.get(
    "/events/{event_id}/registrations",
    response_model=Page[RegistrationListItem],
    responses=AUTHED
    | media(
        200,
        "The list as JSON; with `format=csv` or `format=xlsx` the whole list (same filters) as a spreadsheet.",
        *EXPORT_TYPES.values(),
    ),
    summary="List or export an event's registrations",
    description="For the event's organizers. Search `q` by name, organization, e-mail or phone (in any form "
    "people write it); filter by `status` and `checked_in`; sort by registration (`created`, `-created`) or "
    "`name`. Keyset pages with the `total`. `format=csv|xlsx` downloads every match, in the caller's "
    "language (`lang`, else Accept-Language): status words, local times, check-in time and gate, one "
    "column per question of the event.",
)
async def list_event_registrations(
    event_id: Id,
    request: Request,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    status: RegistrationStatus | None = None,
    checked_in: Annotated[bool | None, Query(description="true: came in at the door; false: not (yet).")] = None,
    q: Annotated[str | None, Query(max_length=100, description="Name, organization, e-mail or phone.")] = None,
    sort: Annotated[registrations.RegistrationSort, Query(description="created (default) · -created · name")] = (
        "created"
    ),
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=1200)] = None,
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
    lang: Annotated[str | None, Query(max_length=10, description="zh or en; default: Accept-Language.")] = None,
) -> Response | Page[RegistrationListItem]:
    event = await ownership.owned_event(event_id, caller.reach)
    export = format != "json"
    found = await registrations.search_registrations(
        event.id,
        registrations.RegistrationQuery(
            status=status,
            checked_in=checked_in,
            q=q,
            sort=sort,
            limit=None if export else limit,
            cursor=None if export else cursor,
        ),
    )
    if export:
        language = normalize_locale(lang) or negotiate(request.headers.get("accept-language"))
        return await _export(event, found.items, format, language)
    return Page[RegistrationListItem].of(found, [RegistrationListItem.of_row(row, show) for row in found.items])
