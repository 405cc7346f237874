"""The outbox as organizers see it (what was sent to whom, what failed) and their announcements."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.presenter import Presenter
from events.models import Broadcast, Category, OutboxMessage, OutboxStatus


def _at(show: Presenter, value: datetime | None) -> datetime | None:
    return value.astimezone(show.tz) if value is not None else None


class NotificationPublic(BaseModel):
    """One message to one person, written before it is sent."""

    id: int
    person_id: int
    category: Category
    status: OutboxStatus
    event_id: int | None
    broadcast_id: int | None
    text: str
    attempts: int
    last_error: str | None
    urgent: bool
    channel: str | None = Field(
        description="How it went (`telegram`, `email`, `console`) once sent; before that null, or the channel the "
        "message must take (`email` for a registration link asked for on the web). Unset, the channel is chosen "
        "when it is sent: Telegram for a linked chat, else e-mail."
    )
    not_before: datetime = Field(description="Not sent before this moment.")
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, show: Presenter, row: OutboxMessage) -> NotificationPublic:
        return cls(
            id=row.id,
            person_id=row.person_id,
            category=row.category,
            status=row.status,
            event_id=row.event_id,
            broadcast_id=row.broadcast_id,
            text=row.text,
            attempts=row.attempts,
            last_error=row.last_error,
            urgent=row.urgent,
            channel=row.channel,
            not_before=row.not_before.astimezone(show.tz),
            created_at=row.created_at.astimezone(show.tz),
            sent_at=_at(show, row.sent_at),
        )


class NotificationStats(BaseModel):
    by_status: dict[OutboxStatus, int] = Field(description="How many messages are in each status (every status named).")
    total: int


class BroadcastPublic(BaseModel):
    """An organizer's announcement to an event's registrants."""

    id: int
    event_id: int
    text: str
    author: str
    audience: str = Field(description="Who it goes to: ``registered`` (confirmed, waitlisted, pending).")
    created_at: datetime
    cancelled_at: datetime | None = Field(description="When what had not gone out yet was stopped.")

    @classmethod
    def of(cls, show: Presenter, broadcast: Broadcast) -> BroadcastPublic:
        return cls(
            id=broadcast.id,
            event_id=broadcast.event_id,
            text=broadcast.text,
            author=broadcast.author,
            audience=broadcast.audience,
            created_at=broadcast.created_at.astimezone(show.tz),
            cancelled_at=_at(show, broadcast.cancelled_at),
        )


class BroadcastCancelled(BaseModel):
    id: int
    stopped: int = Field(description="How many queued messages will not go out.")
