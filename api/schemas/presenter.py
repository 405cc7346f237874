"""What response models are built with: the deployment's zone and public URL, the ticket signer.

Events, registrations, tickets, check-in, tokens and people are pydantic models in their own modules
(``api/schemas/events.py`` …), built with ``Model.of(domain_object, show)``.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from pydantic import BaseModel

from events.models import Registration
from events.services.tickets import TicketSigner
from events.settings import Settings


class Presenter:
    """The context responses are built in, for one deployment (its zone and public URL)."""

    def __init__(self, settings: Settings, signer: TicketSigner) -> None:
        self.tz = zoneinfo.ZoneInfo(settings.timezone)
        self.public_url = settings.base_url
        self.signer = signer

    def time(self, value: datetime | None) -> str | None:
        return value.astimezone(self.tz).isoformat() if value is not None else None

    def ticket(self, registration: Registration) -> dict[str, str] | None:
        """A ticket as JSON, for bodies not yet typed (``TicketPublic`` builds it)."""
        from api.schemas.registrations import TicketPublic  # that module builds on this one

        ticket = TicketPublic.of(registration, self)
        return None if ticket is None else ticket.model_dump()


class CancelBody(BaseModel):
    reason: str = ""


class DecisionBody(BaseModel):
    reason: str = ""
