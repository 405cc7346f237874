"""Tickets: the verification key, QR images, re-issue."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from api.auth import Caller, current_caller
from api.deps import Id, presenter, signer
from api.routers.registrations import owned_registration
from api.schemas import Presenter
from events.errors import NotFound
from events.services import tickets
from events.services.tickets import TicketSigner

router = APIRouter(prefix="/api/v1", tags=["tickets"])
Code = Annotated[str, Path(max_length=tickets.MAX_CODE_LENGTH)]
# A code names one version of one ticket, so its image never changes.
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


@router.get("/tickets/public-key")
async def public_key(keys: TicketSigner = Depends(signer)) -> dict[str, Any]:
    return {
        "algorithm": "Ed25519",
        "key_id": keys.key_id,
        "public_key": base64.urlsafe_b64encode(keys.public_raw).decode().rstrip("="),
        "public_key_pem": keys.public_key_pem(),
        "code_format": "WC1.<base64url(payload || signature)>; payload = u8 format(1), u32 registration_id, "
        "u32 event_id, u16 ticket_version (big-endian); signature = Ed25519 over 'wuchuang-ticket-v1:' || payload",
    }


def _checked(code: str, keys: TicketSigner) -> str:
    if keys.verify(code) is None:
        raise NotFound()
    return code


@router.get("/tickets/{code}.png", response_class=Response)
async def ticket_png(code: Code, keys: TicketSigner = Depends(signer)) -> Response:
    return Response(tickets.qr_png(_checked(code, keys)), media_type="image/png", headers=IMMUTABLE)


@router.get("/tickets/{code}.svg", response_class=Response)
async def ticket_svg(code: Code, keys: TicketSigner = Depends(signer)) -> Response:
    return Response(tickets.qr_svg(_checked(code, keys)), media_type="image/svg+xml", headers=IMMUTABLE)


@router.post("/registrations/{registration_id}/ticket")
async def reissue_ticket(
    registration_id: Id, caller: Caller = Depends(current_caller), show: Presenter = Depends(presenter)
) -> dict[str, Any]:
    """A new ticket code (lost phone); the previous code then answers `revoked` at the door."""
    await owned_registration(registration_id, caller)
    registration = await tickets.reissue_ticket(registration_id, actor=caller.actor)
    return show.registration(registration, waitlist_position=None)
