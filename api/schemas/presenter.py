"""Response shapes. Times go out in the deployment's time zone (Asia/Shanghai) with their offset."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from events.districts import BY_CODE
from events.models import Event, Registration
from events.services.catalog import effective_status
from events.services.people import display_phone
from events.services.tickets import TicketSigner, ticket_code
from events.settings import Settings


class Presenter:
    """Turns domain objects into JSON-ready dicts for one deployment (its zone and public URL)."""

    def __init__(self, settings: Settings, signer: TicketSigner) -> None:
        self.tz = zoneinfo.ZoneInfo(settings.timezone)
        self.public_url = settings.base_url
        self.signer = signer

    def time(self, value: datetime | None) -> str | None:
        return value.astimezone(self.tz).isoformat() if value is not None else None

    def event(self, event: Event) -> dict[str, Any]:
        district = BY_CODE.get(event.district) if event.district else None
        seats_left = None if event.capacity is None else max(0, event.capacity - event.seats_taken)
        return {
            "id": event.id,
            "public_id": event.public_id,
            "title": event.title,
            "kind": str(event.kind),
            "series": event.series,
            "status": str(effective_status(event)),
            "starts_at": self.time(event.starts_at),
            "ends_at": self.time(event.ends_at),
            "venue": event.venue,
            "address": event.address,
            "latitude": event.latitude,
            "longitude": event.longitude,
            "district": event.district,
            "district_name": district.name if district else None,
            "host": event.host,
            # The organization that owns the event (its organizers manage it).
            "organization_id": event.organization_id,  # type: ignore[attr-defined]
            "description": event.description,
            "questions": event.questions,
            "reminder_minutes": event.reminder_minutes,
            "tags": event.tags,
            "capacity": event.capacity,
            "seats_taken": event.seats_taken,
            "seats_left": seats_left,
            "waitlist_length": event.waitlist_length,
            "waitlist_enabled": event.waitlist_enabled,
            "requires_approval": event.requires_approval,
            "registration_opens_at": self.time(event.registration_opens_at),
            "registration_closes_at": self.time(event.registration_closes_at or event.starts_at),
            "sequence": event.sequence,
            "url": f"{self.public_url}/api/v1/events/{event.id}",
            "calendar_url": f"{self.public_url}/calendar/events/{event.id}.ics",
            "webcal_url": f"webcal://{self.public_url.split('://', 1)[1]}/calendar/events/{event.id}.ics",
            "created_at": self.time(event.created_at),
            "updated_at": self.time(event.updated_at),
        }

    def ticket(self, registration: Registration) -> dict[str, str] | None:
        code = ticket_code(registration, self.signer)
        if code is None:
            return None
        base = f"{self.public_url}/api/v1/tickets/{code}"
        return {"code": code, "qr_png_url": f"{base}.png", "qr_svg_url": f"{base}.svg"}

    def registration(
        self, registration: Registration, *, waitlist_position: int | None, private: bool = True
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": registration.id,
            "event_id": registration.event_id,  # type: ignore[attr-defined]
            "status": str(registration.status),
            "waitlist_position": waitlist_position,
            "ticket": self.ticket(registration),
            "created_at": self.time(registration.created_at),
            "confirmed_at": self.time(registration.confirmed_at),
            "cancelled_at": self.time(registration.cancelled_at),
        }
        if private:
            body |= {
                "name": registration.name,
                "organization": registration.organization,
                "phone": registration.phone,
                "phone_display": display_phone(registration.phone),
                "email": registration.email,
                "telegram_id": registration.telegram_id,
                "answers": registration.answers,
                "source": registration.source,
            }
        return body


class CancelBody(BaseModel):
    reason: str = ""


class DecisionBody(BaseModel):
    reason: str = ""
