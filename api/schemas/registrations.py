"""Registrations and their tickets as clients read them (API.md's registration answer)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.presenter import Presenter
from events.localtime import local
from events.models import Registration, RegistrationStatus
from events.services.people import display_phone
from events.services.registration import RegistrationRow as DomainRow
from events.services.tickets import ticket_code


def _local(moment: datetime | None) -> datetime | None:
    return local(moment) if moment is not None else None


class TicketPublic(BaseModel):
    """A ticket: ``code`` is exactly the QR's text; the images are at the URLs."""

    code: str
    qr_png_url: str
    qr_svg_url: str
    card_png_url: str = Field(description="The ticket card: event, local time, venue, holder's name and the QR.")

    @classmethod
    def of(cls, registration: Registration, show: Presenter) -> TicketPublic | None:
        code = ticket_code(registration, show.signer)
        if code is None:
            return None
        base = f"{show.public_url}/api/v1/tickets/{code}"
        return cls(code=code, qr_png_url=f"{base}.png", qr_svg_url=f"{base}.svg", card_png_url=f"{base}/card.png")


class RegistrationPublic(BaseModel):
    """A registration, for its registrant (access token) and the event's organizers."""

    id: int
    event_id: int
    status: RegistrationStatus
    waitlist_position: int | None = Field(description="Place in the queue while waitlisted (1 is next).")
    ticket: TicketPublic | None = Field(description="Once confirmed.")
    created_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    name: str
    organization: str | None
    phone: str | None = Field(description="E.164, as stored.")
    phone_display: str | None = Field(description="As people read it (`138 0013 8000`).")
    email: str | None
    telegram_id: int | None
    answers: dict[str, Any] = Field(description="Answers to the event's questions, by question key.")
    source: str

    @classmethod
    def fields_of(cls, registration: Registration, show: Presenter, waitlist_position: int | None) -> dict[str, Any]:
        return {
            "id": registration.id,
            "event_id": registration.event_id,
            "status": RegistrationStatus(registration.status),
            "waitlist_position": waitlist_position,
            "ticket": TicketPublic.of(registration, show),
            "created_at": local(registration.created_at),
            "confirmed_at": _local(registration.confirmed_at),
            "cancelled_at": _local(registration.cancelled_at),
            "name": registration.name,
            "organization": registration.organization,
            "phone": registration.phone,
            "phone_display": display_phone(registration.phone),
            "email": registration.email,
            "telegram_id": registration.telegram_id,
            "answers": registration.answers or {},
            "source": registration.source,
        }

    @classmethod
    def of(cls, registration: Registration, show: Presenter, *, waitlist_position: int | None) -> RegistrationPublic:
        return cls(**cls.fields_of(registration, show, waitlist_position))


class RegistrationCreated(RegistrationPublic):
    """The answer to registering: the registration, and what only its registrant gets, once."""

    access_token: str | None = Field(
        description="Shown once to an anonymous registrant: `Authorization: Bearer` to read and cancel it."
    )
    telegram_link: str | None = Field(
        description="A one-time bot link that attaches the registration to a Telegram account (null without a bot)."
    )


class RegistrationListItem(RegistrationPublic):
    """A row of an event's registrations (the organizer's list): with its first arrival at the door."""

    checked_in_at: datetime | None
    gate: str | None

    @classmethod
    def of_row(cls, row: DomainRow, show: Presenter) -> RegistrationListItem:
        return cls(
            **cls.fields_of(row.registration, show, row.waitlist_position),
            checked_in_at=_local(row.checked_in_at),
            gate=row.gate,
        )


class TelegramLink(BaseModel):
    telegram_link: str = Field(description="https://t.me/<bot>?start=link_<code>; works once.")
    expires_in: int = Field(description="Seconds the link stays valid.")


class TicketKey(BaseModel):
    """What a scanner needs to verify ticket codes offline."""

    algorithm: str
    key_id: str
    public_key: str = Field(description="The raw Ed25519 key, base64url without padding.")
    public_key_pem: str
    code_format: str
