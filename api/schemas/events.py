"""Events as clients read them (API.md's Event), and the organizer's invitation links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.presenter import Presenter
from events import districts
from events.localtime import local
from events.models import Event, EventKind, EventStatus
from events.services import calendar
from events.services.catalog import effective_status, event_page_path


class QuestionPublic(BaseModel):
    """A question registrants answer (``answers.<key>`` in a registration)."""

    key: str
    label: str
    label_en: str | None = None
    required: bool = True
    choices: list[str] = []


class EventPublic(BaseModel):
    """An event. Times are local (``WUCHUANG_TIMEZONE``) with their offset."""

    id: int
    public_id: str = Field(description="Short id in the bot's deep links and the public page.")
    title: str
    kind: EventKind
    series: str | None
    status: EventStatus = Field(description="A published event whose end has passed reads `finished`.")
    starts_at: datetime
    ends_at: datetime
    venue: str
    address: str | None
    latitude: float | None
    longitude: float | None
    district: str | None = Field(description="A code of /api/v1/districts.")
    district_name: str | None = Field(description="The district's Chinese name.")
    host: str | None
    organization_id: int = Field(description="The organization that owns the event (its organizers manage it).")
    description: str
    questions: list[QuestionPublic]
    reminder_minutes: list[int]
    tags: list[str]
    capacity: int | None = Field(description="Null: unlimited.")
    seats_taken: int
    seats_left: int | None
    waitlist_length: int
    waitlist_enabled: bool
    requires_approval: bool
    registration_opens_at: datetime | None
    registration_closes_at: datetime = Field(description="When not set explicitly: the start.")
    sequence: int = Field(description="Bumped by each change people must hear about (iCalendar SEQUENCE).")
    url: str = Field(description="The event's public web page, with its registration form.")
    calendar_url: str
    webcal_url: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, event: Event, show: Presenter) -> EventPublic:
        feed = calendar.feed_links(show.public_url, calendar.event_feed_path(event.id))
        fields: dict[str, Any] = {
            name: getattr(event, name)
            for name in (
                "id",
                "public_id",
                "title",
                "series",
                "venue",
                "address",
                "latitude",
                "longitude",
                "district",
                "host",
                "description",
                "reminder_minutes",
                "tags",
                "capacity",
                "seats_taken",
                "waitlist_length",
                "waitlist_enabled",
                "requires_approval",
                "sequence",
            )
        }
        return cls(
            **fields,
            kind=EventKind(event.kind),
            status=effective_status(event),
            starts_at=local(event.starts_at),
            ends_at=local(event.ends_at),
            district_name=districts.label(event.district, "zh") or None,
            organization_id=event.organization_id,
            questions=[QuestionPublic.model_validate(q) for q in event.questions or []],
            seats_left=None if event.capacity is None else max(0, event.capacity - event.seats_taken),
            registration_opens_at=local(event.registration_opens_at) if event.registration_opens_at else None,
            registration_closes_at=local(event.registration_closes_at or event.starts_at),
            url=show.public_url + event_page_path(event.id),
            calendar_url=feed["url"],
            webcal_url=feed["webcal_url"],
            created_at=local(event.created_at),
            updated_at=local(event.updated_at),
        )


class EventInvite(BaseModel):
    """The bot's deep link that opens an event's registration, and its printable poster."""

    deep_link: str
    bot_username: str
    poster_png_url: str
