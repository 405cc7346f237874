"""Technology brokers: profiles, the organizer's list and exports, transcripts, credit grants and corrections,
revoking and reinstating certificates.

``/transcripts/{token}`` is the broker's own printable record behind an unguessable address: the link
the bot hands to brokers (a capability URL, like a calendar's secret address; rotating replaces it).
``/certificates/{number}`` is the public check of a certificate: name, level, number, dates, status.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from api import training
from api.auth import Caller, require, require_organizer
from api.deps import Id, presenter, rate_limit
from api.exports import csv_response, xlsx_response
from api.ratelimit import PublicRateLimit
from api.schemas import Presenter
from events import clock
from events.errors import N_, CertificateNotFound, InvalidInput
from events.i18n import Locale, gettext
from events.models import BrokerLevel, Role
from events.services import brokers, certification, credits, ownership, transcripts

router = APIRouter(prefix="/api/v1/brokers", tags=["brokers"])
pages = APIRouter(include_in_schema=False)

require_admin = require(Role.ADMIN)

# At most this many rows per page; exports have no limit (they are the whole list).
MAX_LIMIT = 500


@router.post("", status_code=201)
async def create_broker(
    data: brokers.BrokerInput, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> JSONResponse:
    broker = await brokers.create_broker(data, actor=caller.actor, organization_id=caller.acts_for)
    return JSONResponse(
        training.broker_body(show, broker, await certification.assess_broker(broker.id)),
        status_code=201,
        headers={"Location": f"/api/v1/brokers/{broker.id}"},
    )


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = raw["o"]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(N_("The cursor is not valid."), field="cursor") from None
    if type(offset) is not int or not 0 <= offset < 2**31:
        raise InvalidInput(N_("The cursor is not valid."), field="cursor")
    return offset


# Column keys (the CSV's header, stable for scripts) and their titles (the XLSX's header, for people).
LIST_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("id", N_("ID"), 8),
    ("name", N_("Name"), 14),
    ("organization", N_("Organization"), 28),
    ("district", N_("District"), 18),
    ("specialties", N_("Specialties"), 24),
    ("hours", N_("Total hours"), 10),
    ("year_hours", N_("Hours in %(year)s"), 12),
    ("level", N_("Level"), 10),
    ("highest_level", N_("Highest level held"), 12),
    ("status", N_("Standing"), 12),
    ("certified_at", N_("Certified on"), 18),
    ("expires_at", N_("Valid until"), 18),
)


def _export_rows(page: transcripts.BrokerPage, locale: Locale | None, year: int | None) -> list[list[Any]]:
    """One row per broker; ``locale`` None keeps codes (CSV), a locale shows names (XLSX)."""
    rows = []
    for row in page.rows:
        values: dict[str, Any] = {
            "id": row.broker.id,
            "name": row.person.name,
            "organization": row.broker.organization,
            "district": row.broker.district if locale is None else training.district_name(locale, row.broker.district),
            "specialties": ("; " if locale is None else "、").join(row.broker.specialties or []),
            "hours": row.hours,
            "year_hours": row.year_hours,
            "level": row.level if locale is None else training.level_name(locale, row.level),
            "highest_level": row.highest_level if locale is None else training.level_name(locale, row.highest_level),
            "status": row.status if locale is None else training.standing_name(locale, row.status),
            "certified_at": row.certified_at,
            "expires_at": row.expires_at,
        }
        rows.append([values[key] for key, _, _ in LIST_COLUMNS if key != "year_hours" or year is not None])
    return rows


@router.get("", response_model=None)
async def list_brokers(
    request: Request,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    district: Annotated[str | None, Query(max_length=32)] = None,
    level: BrokerLevel | None = None,
    status: Annotated[
        str | None, Query(max_length=30, description="certified | expired | suspended | revoked | in_training")
    ] = None,
    specialty: Annotated[str | None, Query(max_length=30)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    course_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    sort: Annotated[str, Query(max_length=30, description=" | ".join(transcripts.SORTS))] = "-hours",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    format: Annotated[str, Query(pattern="^(json|csv|xlsx)$")] = "json",
    lang: Annotated[str | None, Query(max_length=10)] = None,
) -> Response | dict[str, Any]:
    """The organizer's list (``-hours``: the leaderboard). ``format=csv|xlsx`` exports every matching broker."""
    whole = format != "json"
    offset = 0 if whole or not cursor else _decode_cursor(cursor)
    query = transcripts.BrokerQuery(
        district=district or None,
        level=level,
        status=status,
        specialty=specialty or None,
        q=q or None,
        course_id=course_id,
        year=year,
        sort=sort,
        limit=None if whole else limit,
        offset=offset,
    )
    page = await transcripts.list_brokers(query, tz=show.tz, scope=caller.reach)
    if format == "json":
        end = offset + len(page.rows)
        return {
            "items": [training.broker_row_body(show, row, with_year=year is not None) for row in page.rows],
            "next_cursor": _encode_cursor(end) if end < page.total else None,
            "total": page.total,
        }
    columns = [c for c in LIST_COLUMNS if c[0] != "year_hours" or year is not None]
    stamp = clock.now().astimezone(show.tz).strftime("%Y%m%d")
    if format == "csv":
        return csv_response(
            f"brokers-{stamp}.csv", [k for k, _, _ in columns], _export_rows(page, None, year), tz=show.tz
        )
    locale = training.page_locale(request, lang)
    header = [
        gettext(locale, title, year=year) if key == "year_hours" else gettext(locale, title)
        for key, title, _ in columns
    ]
    return await xlsx_response(
        f"brokers-{stamp}.xlsx",
        gettext(locale, N_("Brokers")),
        header,
        _export_rows(page, locale, year),
        tz=show.tz,
        widths=[width for _, _, width in columns],
    )


@router.get("/{broker_id}")
async def get_broker(
    broker_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> dict[str, Any]:
    broker = await ownership.owned_broker(broker_id, caller.reach)
    return training.broker_body(show, broker, await certification.assess_broker(broker.id))


@router.patch("/{broker_id}")
async def update_broker(
    broker_id: Id,
    patch: brokers.BrokerPatch,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> dict[str, Any]:
    await ownership.owned_broker(broker_id, caller.reach)
    await brokers.update_broker(broker_id, patch, actor=caller.actor)
    broker = await brokers.get_broker(broker_id)
    return training.broker_body(show, broker, await certification.assess_broker(broker.id))


@router.get("/{broker_id}/transcript", response_model=None)
async def get_transcript(
    broker_id: Id,
    request: Request,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    format: Annotated[str, Query(pattern="^(json|html)$")] = "json",
    lang: Annotated[str | None, Query(max_length=10)] = None,
) -> HTMLResponse | dict[str, Any]:
    """The broker's whole record; ``format=html`` is the printable page (with who entered each line)."""
    await ownership.owned_broker(broker_id, caller.reach)
    record = await transcripts.transcript(broker_id, tz=show.tz)
    if format == "html":
        return training.transcript_page(request, show, record, training.page_locale(request, lang), internal=True)
    return training.transcript_body(show, record)


class TranscriptLinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rotate: bool = False


@router.post("/{broker_id}/transcript-link")
async def transcript_link(
    broker_id: Id,
    body: Annotated[TranscriptLinkBody | None, Body()] = None,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> dict[str, Any]:
    await ownership.owned_broker(broker_id, caller.reach)
    """The broker's printable-transcript address; ``rotate`` replaces it (the old address stops working)."""
    if body is not None and body.rotate:
        broker = await brokers.rotate_transcript_token(broker_id)
    else:
        broker = await brokers.get_broker(broker_id)
    return {
        "url": f"{show.public_url}/transcripts/{brokers.transcript_token(broker)}",
        "rotated": bool(body and body.rotate),
    }


class CreditBody(BaseModel):
    """A manual grant, or with ``corrects`` a signed correction of one earlier line."""

    model_config = ConfigDict(extra="forbid")

    # Left untyped on purpose: the ledger reads numbers and strings ("1.5") alike and answers
    # anything else (true, null, "abc") with its own "hours must be a number".
    hours: Annotated[Any, Field(json_schema_extra={"type": ["number", "string"], "examples": [2, "1.5", -1]})]
    reason: str | None = None
    course_id: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = None
    earned_at: AwareDatetime | None = None
    corrects: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = None

    @model_validator(mode="after")
    def _correction_shape(self) -> CreditBody:
        if self.corrects is not None and (self.course_id is not None or self.earned_at is not None):
            raise ValueError("a correction takes its course and date from the entry it corrects")
        return self


@router.post("/{broker_id}/credits", status_code=201)
async def add_credit(
    broker_id: Id,
    body: CreditBody,
    caller: Caller = Depends(require_admin),
    show: Presenter = Depends(presenter),
) -> JSONResponse:
    """Admins only: hours earned elsewhere (with a reason), or a correction (negative hours take some back)."""
    if body.corrects is not None:
        result = await credits.correct(
            broker_id, entry_id=body.corrects, hours=body.hours, reason=body.reason, actor=caller.actor
        )
    else:
        result = await credits.grant(
            broker_id,
            hours=body.hours,
            reason=body.reason,
            actor=caller.actor,
            course_id=body.course_id,
            earned_at=body.earned_at,
        )
    line = await credits.get_entry(result.entry.id)
    return JSONResponse(training.written_body(show, result, line), status_code=201)


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Checked by the service (required, at most 500 characters), so the answer is its invalid_input.
    reason: str | None = None


@router.post("/{broker_id}/certifications/{certification_id}/revoke")
async def revoke_certification(
    broker_id: Id,
    certification_id: Id,
    body: ReasonBody,
    caller: Caller = Depends(require_admin),
    show: Presenter = Depends(presenter),
) -> dict[str, Any]:
    """Admins only: withdraw a certificate, with a reason (the broker is told). ``409
    certification_already_revoked`` when it is; the ledger leaves a revoked certificate alone."""
    cert = await certification.revoke_certificate(broker_id, certification_id, reason=body.reason, actor=caller.actor)
    return training.certification_body(show, cert)


@router.post("/{broker_id}/certifications/{certification_id}/reinstate")
async def reinstate_certification(
    broker_id: Id,
    certification_id: Id,
    body: ReasonBody,
    caller: Caller = Depends(require_admin),
    show: Presenter = Depends(presenter),
) -> dict[str, Any]:
    """Admins only: undo a revocation, with a reason (the broker is told). It comes back ``active`` when
    the broker's record meets the level's line, else ``suspended`` until it does. ``409
    certification_not_revoked`` for a certificate that is not revoked."""
    cert = await certification.reinstate_certificate(
        broker_id, certification_id, reason=body.reason, actor=caller.actor
    )
    return training.certification_body(show, cert)


@pages.get("/certificates/{number}", response_model=None)
async def verify_certificate(
    number: str,
    request: Request,
    show: Presenter = Depends(presenter),
    limiter: PublicRateLimit = Depends(rate_limit),
    format: Annotated[str, Query(pattern="^(json|html)$")] = "html",
    lang: Annotated[str | None, Query(max_length=10)] = None,
) -> HTMLResponse | dict[str, Any]:
    """Public: is this certificate genuine, and is it valid? Only its holder's name, the level, the
    number, the dates and the status (valid, expired, suspended, revoked). ``format=json`` for
    machines (unknown number: ``404 certificate_not_found``); the page's unknown number is a 404 page.
    Rate-limited per client address like anonymous registration, so numbers are not trawled for names.
    """
    await limiter.check(request, "certificates")
    try:
        found = await certification.verify_certificate(number)
    except CertificateNotFound:
        if format == "json":
            raise
        return training.certificate_page(request, show, None, training.page_locale(request, lang), status_code=404)
    if format == "json":
        return training.verification_body(show, found)
    return training.certificate_page(request, show, found, training.page_locale(request, lang))


@pages.get("/transcripts/{token}", response_class=HTMLResponse)
async def public_transcript(
    token: str, request: Request, show: Presenter = Depends(presenter), lang: str | None = None
) -> HTMLResponse:
    """The broker's own printable transcript. An unknown (or replaced) token gets a 404 page, not JSON."""
    locale = training.page_locale(request, lang)
    broker = await brokers.broker_by_transcript_token(token)
    if broker is None:
        return training.transcript_page(request, show, None, locale, status_code=404)
    record = await transcripts.transcript(broker.id, tz=show.tz)
    return training.transcript_page(request, show, record, locale)
