"""Tickets: the verification key, QR images, re-issue."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from api.auth import Caller, current_caller
from api.deps import Id, presenter, signer
from api.routers.registrations import owned_registration
from api.schemas import Presenter
from api.schemas.common import errors, media
from api.schemas.registrations import RegistrationPublic, TicketKey
from events.errors import NotFound
from events.i18n import locale_of
from events.services import ticket_card, tickets
from events.services.tickets import TicketSigner

router = APIRouter(prefix="/api/v1", tags=["tickets"])
Code = Annotated[str, Path(max_length=tickets.MAX_CODE_LENGTH)]
# A code names one version of one ticket, so its image never changes.
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


@router.get(
    "/tickets/public-key",
    response_model=TicketKey,
    summary="The ticket verification key",
    description="The Ed25519 key that signs ticket codes and the codes' format, for scanners that judge "
    "tickets offline.",
)
async def public_key(keys: TicketSigner = Depends(signer)) -> TicketKey:
    return TicketKey(
        algorithm="Ed25519",
        key_id=keys.key_id,
        public_key=base64.urlsafe_b64encode(keys.public_raw).decode().rstrip("="),
        public_key_pem=keys.public_key_pem(),
        code_format="WC1.<base64url(payload || signature)>; payload = u8 format(1), u32 registration_id, "
        "u32 event_id, u16 ticket_version (big-endian); signature = Ed25519 over 'wuchuang-ticket-v1:' || payload",
    )


def _checked(code: str, keys: TicketSigner) -> str:
    if keys.verify(code) is None:
        raise NotFound()
    return code


@router.get(
    "/tickets/{code}.png",
    response_class=Response,
    responses=media(200, "The QR image (PNG); its text is exactly `code`.", "image/png") | errors(404, 422),
    summary="A ticket's QR code (PNG)",
    description="Public: the code is the secret. `404` for a code this deployment did not sign.",
)
async def ticket_png(code: Code, keys: TicketSigner = Depends(signer)) -> Response:
    return Response(tickets.qr_png(_checked(code, keys)), media_type="image/png", headers=IMMUTABLE)


@router.get(
    "/tickets/{code}.svg",
    response_class=Response,
    responses=media(200, "The QR image (SVG); its text is exactly `code`.", "image/svg+xml") | errors(404, 422),
    summary="A ticket's QR code (SVG)",
    description="Public: the code is the secret. `404` for a code this deployment did not sign.",
)
async def ticket_svg(code: Code, keys: TicketSigner = Depends(signer)) -> Response:
    return Response(tickets.qr_svg(_checked(code, keys)), media_type="image/svg+xml", headers=IMMUTABLE)


@router.get(
    "/tickets/{code}/card.png",
    response_class=Response,
    responses=media(200, "The ticket card (PNG): event, local time, venue, holder's name and the QR.", "image/png")
    | errors(404, 422),
    summary="A ticket card (PNG)",
    description="Public: the code is the secret. The event's title, local time and venue, the holder's name "
    "and the ticket's QR (its text is exactly `code`), in the `lang` given (`zh` by default). `404` for a code "
    "this deployment did not sign, or one no longer current (re-issued, cancelled).",
)
async def ticket_card_png(
    code: Code, keys: TicketSigner = Depends(signer), lang: Annotated[str | None, Query(max_length=8)] = None
) -> Response:
    facts = await ticket_card.card_facts(code, keys)
    image = await ticket_card.draw_card(facts, locale=locale_of(lang))
    # The card shows the event as it is now (a change of time or place redraws it): not immutable.
    return Response(image, media_type="image/png", headers={"Cache-Control": "private, no-cache"})


@router.post(
    "/registrations/{registration_id}/ticket",
    response_model=RegistrationPublic,
    responses=errors(400, 401, 403, 404, 409, 413, 422),
    summary="Re-issue a ticket",
    description="A new ticket code (lost phone); the previous code then answers `revoked` at the door. "
    "`409` when the registration has no ticket (not confirmed).",
)
async def reissue_ticket(
    registration_id: Id, caller: Caller = Depends(current_caller), show: Presenter = Depends(presenter)
) -> RegistrationPublic:
    await owned_registration(registration_id, caller)
    registration = await tickets.reissue_ticket(registration_id, actor=caller.actor)
    return RegistrationPublic.of(registration, show, waitlist_position=None)
