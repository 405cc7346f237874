"""Technology brokers: profiles, the organizer's list and exports, transcripts, credit grants and corrections,
revoking and reinstating certificates.

``/transcripts/{token}`` is the broker's own printable record behind an unguessable address: the link
the bot hands to brokers (a capability URL, like a calendar's secret address; rotating replaces it).
``/certificates/{number}`` is the public check of a certificate: name, level, number, dates, status.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from api import training_exports, training_pages
from api.auth import Caller, require, require_organizer
from api.deps import Id, presenter, rate_limit
from api.exports import csv_response, xlsx_response
from api.ratelimit import PublicRateLimit
from api.schemas import Presenter
from api.schemas.common import AUTHED, AUTHED_WRITE, COMMON, Page, errors
from api.schemas.training import (
    BrokerPublic,
    BrokerStanding,
    Certificate,
    CertificateVerification,
    CreditWritten,
    Transcript,
    TranscriptLink,
)
from events import clock
from events.errors import N_, CertificateNotFound
from events.i18n import gettext
from events.models import BrokerLevel, Role
from events.services import brokers, certification, credits, ownership, transcripts

router = APIRouter(prefix="/api/v1/brokers", tags=["brokers"])
pages = APIRouter(include_in_schema=False)

require_admin = require(Role.ADMIN)

# At most this many rows per page; exports have no limit (they are the whole list).
MAX_LIMIT = 500


async def _broker(show: Presenter, broker_id: int) -> BrokerPublic:
    broker = await brokers.get_broker(broker_id)
    return BrokerPublic.of(show, broker, await certification.assess_broker(broker.id))


@router.post(
    "",
    status_code=201,
    response_model=BrokerPublic,
    responses=AUTHED_WRITE,
    summary="Enter a broker",
    description="A broker profile for a new person (name and a phone, e-mail or Telegram id) or an existing "
    "``person_id``; it belongs to the caller's organization. ``409 already_broker`` when the person is one.",
)
async def create_broker(
    data: brokers.BrokerInput, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> JSONResponse:
    broker = await brokers.create_broker(data, actor=caller.actor, organization_id=caller.acts_for)
    body = BrokerPublic.of(show, broker, await certification.assess_broker(broker.id))
    return JSONResponse(
        body.model_dump(mode="json"), status_code=201, headers={"Location": f"/api/v1/brokers/{broker.id}"}
    )


@router.get(
    "",
    response_model=Page[BrokerStanding],
    responses=errors(*COMMON, 401, 403) | training_exports.SPREADSHEETS,
    summary="List brokers (the leaderboard)",
    description="Brokers the caller's organization reaches, with their hours and standing, filtered and sorted "
    "(``-hours``: the leaderboard; ties by id). Keyset pages: pass ``next_cursor`` back as ``cursor`` with the "
    "same ``sort``; a cursor of another sort or list is ``422 invalid_input`` (field ``cursor``). ``total`` "
    "counts every match. ``format=csv|xlsx`` exports every matching broker (no paging; times local).",
)
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
    q: Annotated[str | None, Query(max_length=100, description="In the name or the organization.")] = None,
    course_id: Annotated[int | None, Query(ge=1, le=2_147_483_647, description="Enrolled in this course.")] = None,
    year: Annotated[
        int | None, Query(ge=2000, le=2100, description="Adds ``year_hours``; ``hours`` sorts by them.")
    ] = None,
    sort: Annotated[str, Query(max_length=30, description=" | ".join(transcripts.SORTS))] = "-hours",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    format: Annotated[str, Query(pattern="^(json|csv|xlsx)$")] = "json",
    lang: Annotated[str | None, Query(max_length=10)] = None,
) -> Response | Page[BrokerStanding]:
    whole = format != "json"
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
        cursor=None if whole else cursor,
    )
    page = await transcripts.list_brokers(query, tz=show.tz, scope=caller.reach)
    if format == "json":
        return Page[BrokerStanding].of(
            page, [BrokerStanding.of(show, row, with_year=year is not None) for row in page.items]
        )
    stamp = clock.now().astimezone(show.tz).strftime("%Y%m%d")
    if format == "csv":
        return csv_response(
            f"brokers-{stamp}.csv",
            training_exports.broker_header(year, None),
            training_exports.broker_rows(page, None, year),
            tz=show.tz,
        )
    locale = training_pages.page_locale(request, lang)
    return await xlsx_response(
        f"brokers-{stamp}.xlsx",
        gettext(locale, N_("Brokers")),
        training_exports.broker_header(year, locale),
        training_exports.broker_rows(page, locale, year),
        tz=show.tz,
        widths=[width for _, _, width in training_exports.broker_columns(year)],
    )


@router.get(
    "/{broker_id}",
    response_model=BrokerPublic,
    responses=AUTHED,
    summary="Read a broker",
    description="The profile with the broker's hours, level, standing and progress toward the next level.",
)
async def get_broker(
    broker_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> BrokerPublic:
    broker = await ownership.owned_broker(broker_id, caller.reach)
    return BrokerPublic.of(show, broker, await certification.assess_broker(broker.id))


@router.patch(
    "/{broker_id}",
    response_model=BrokerPublic,
    responses=AUTHED_WRITE,
    summary="Change a broker's profile",
    description="Organization, district, specialties; the fields left out stay as they are.",
)
async def update_broker(
    broker_id: Id,
    patch: brokers.BrokerPatch,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> BrokerPublic:
    await ownership.owned_broker(broker_id, caller.reach)
    await brokers.update_broker(broker_id, patch, actor=caller.actor)
    return await _broker(show, broker_id)


@router.get(
    "/{broker_id}/transcript",
    response_model=Transcript,
    responses=AUTHED | training_pages.HTML_PAGE,
    summary="A broker's transcript",
    description="The broker's whole record: the ledger, hours by course and year, certificates, courses and "
    "progress. ``format=html`` is the printable page (with who entered each line).",
)
async def get_transcript(
    broker_id: Id,
    request: Request,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    format: Annotated[str, Query(pattern="^(json|html)$")] = "json",
    lang: Annotated[str | None, Query(max_length=10)] = None,
) -> HTMLResponse | Transcript:
    await ownership.owned_broker(broker_id, caller.reach)
    record = await transcripts.transcript(broker_id, tz=show.tz)
    if format == "html":
        return training_pages.transcript_page(
            request, show, record, training_pages.page_locale(request, lang), internal=True
        )
    return Transcript.of(show, record)


class TranscriptLinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rotate: bool = False


@router.post(
    "/{broker_id}/transcript-link",
    response_model=TranscriptLink,
    responses=AUTHED_WRITE,
    summary="The broker's transcript address",
    description="The broker's printable-transcript address (a capability URL: whoever holds it can read the "
    "record); ``rotate`` replaces it and the old address stops working.",
)
async def transcript_link(
    broker_id: Id,
    body: Annotated[TranscriptLinkBody | None, Body()] = None,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> TranscriptLink:
    await ownership.owned_broker(broker_id, caller.reach)
    if body is not None and body.rotate:
        broker = await brokers.rotate_transcript_token(broker_id)
    else:
        broker = await brokers.get_broker(broker_id)
    return TranscriptLink(
        url=f"{show.public_url}/transcripts/{brokers.transcript_token(broker)}", rotated=bool(body and body.rotate)
    )


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


@router.post(
    "/{broker_id}/credits",
    status_code=201,
    response_model=CreditWritten,
    responses=AUTHED_WRITE,
    summary="Grant or correct hours",
    description="Admins only: hours earned elsewhere (with a reason), or with ``corrects`` a signed correction "
    "of one earlier line (negative hours take some back). The answer is the new ledger line with the "
    "certificates it caused, suspended or reinstated.",
)
async def add_credit(
    broker_id: Id,
    body: CreditBody,
    caller: Caller = Depends(require_admin),
    show: Presenter = Depends(presenter),
) -> JSONResponse:
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
    return JSONResponse(CreditWritten.written(show, result, line).model_dump(mode="json"), status_code=201)


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Checked by the service (required, at most 500 characters), so the answer is its invalid_input.
    reason: str | None = None


@router.post(
    "/{broker_id}/certifications/{certification_id}/revoke",
    response_model=Certificate,
    responses=AUTHED_WRITE,
    summary="Revoke a certificate",
    description="Admins only: withdraw a certificate, with a reason (the broker is told). ``409 "
    "certification_already_revoked`` when it is; the ledger leaves a revoked certificate alone.",
)
async def revoke_certification(
    broker_id: Id,
    certification_id: Id,
    body: ReasonBody,
    caller: Caller = Depends(require_admin),
    show: Presenter = Depends(presenter),
) -> Certificate:
    cert = await certification.revoke_certificate(broker_id, certification_id, reason=body.reason, actor=caller.actor)
    return Certificate.of(show, cert)


@router.post(
    "/{broker_id}/certifications/{certification_id}/reinstate",
    response_model=Certificate,
    responses=AUTHED_WRITE,
    summary="Reinstate a revoked certificate",
    description="Admins only: undo a revocation, with a reason (the broker is told). It comes back ``active`` "
    "when the broker's record meets the level's line, else ``suspended`` until it does. ``409 "
    "certification_not_revoked`` for a certificate that is not revoked.",
)
async def reinstate_certification(
    broker_id: Id,
    certification_id: Id,
    body: ReasonBody,
    caller: Caller = Depends(require_admin),
    show: Presenter = Depends(presenter),
) -> Certificate:
    cert = await certification.reinstate_certificate(
        broker_id, certification_id, reason=body.reason, actor=caller.actor
    )
    return Certificate.of(show, cert)


@pages.get(
    "/certificates/{number}",
    response_model=CertificateVerification,
    responses=errors(*COMMON, 404, 429) | training_pages.HTML_PAGE,
    summary="Verify a certificate",
    description="Public: is this certificate genuine, and is it valid? Only its holder's name, the level, the "
    "number, the dates and the status (valid, expired, suspended, revoked). ``format=json`` for machines "
    "(unknown number: ``404 certificate_not_found``); the page's unknown number is a 404 page. Rate-limited "
    "per client address like anonymous registration, so numbers are not trawled for names.",
)
async def verify_certificate(
    number: str,
    request: Request,
    show: Presenter = Depends(presenter),
    limiter: PublicRateLimit = Depends(rate_limit),
    format: Annotated[str, Query(pattern="^(json|html)$")] = "html",
    lang: Annotated[str | None, Query(max_length=10)] = None,
) -> HTMLResponse | CertificateVerification:
    await limiter.check(request, "certificates")
    try:
        found = await certification.verify_certificate(number)
    except CertificateNotFound:
        if format == "json":
            raise
        return training_pages.certificate_page(
            request, show, None, training_pages.page_locale(request, lang), status_code=404
        )
    if format == "json":
        return CertificateVerification.of(show, found)
    return training_pages.certificate_page(request, show, found, training_pages.page_locale(request, lang))


@pages.get(
    "/transcripts/{token}",
    response_class=HTMLResponse,
    summary="A broker's own printable transcript",
    description="The page behind the broker's capability address. An unknown (or replaced) token gets a 404 "
    "page, not JSON.",
)
async def public_transcript(
    token: str, request: Request, show: Presenter = Depends(presenter), lang: str | None = None
) -> HTMLResponse:
    locale = training_pages.page_locale(request, lang)
    broker = await brokers.broker_by_transcript_token(token)
    if broker is None:
        return training_pages.transcript_page(request, show, None, locale, status_code=404)
    record = await transcripts.transcript(broker.id, tz=show.tz)
    return training_pages.transcript_page(request, show, record, locale)
