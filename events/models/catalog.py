from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from events.models.organizations import Organization


class EventKind(StrEnum):
    SESSION = "session"
    COMPETITION = "competition"
    ROADSHOW = "roadshow"
    FAIR = "fair"
    TRAINING = "training"


class EventStatus(StrEnum):
    """Stored status. ``finished`` is also shown for a published event whose end has passed."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    FINISHED = "finished"


class Event(Model):
    id = fields.IntField(primary_key=True)
    # Short random id for links and deep links (t.me/<bot>?start=ev_<public_id>); never reused.
    public_id = fields.CharField(max_length=16, unique=True)
    title = fields.CharField(max_length=200)
    kind = fields.CharEnumField(EventKind, max_length=16)
    series = fields.CharField(max_length=50, null=True, db_index=True)
    district = fields.CharField(max_length=32, null=True, db_index=True)
    tags: fields.JSONField[list[str]] = fields.JSONField(default=list)
    host = fields.CharField(max_length=200, null=True)
    venue = fields.CharField(max_length=200)
    address = fields.CharField(max_length=300, null=True)
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    description = fields.TextField(default="")
    # What registrants must answer: [{"key", "label", "label_en"?, "required", "choices"?}].
    questions: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(default=list)
    starts_at = fields.DatetimeField(db_index=True)
    ends_at = fields.DatetimeField()
    capacity = fields.IntField(null=True)
    waitlist_enabled = fields.BooleanField(default=True)
    requires_approval = fields.BooleanField(default=False)
    # Reminders go this many minutes before the start (default: a day and two hours before).
    reminder_minutes: fields.JSONField[list[int]] = fields.JSONField(default=lambda: [1440, 120])
    # Door opens this long before the start and closes this long after the end.
    checkin_opens_minutes = fields.IntField(default=60)
    checkin_closes_minutes = fields.IntField(default=0)
    registration_opens_at = fields.DatetimeField(null=True)
    registration_closes_at = fields.DatetimeField(null=True)
    status = fields.CharEnumField(EventStatus, max_length=16, default=EventStatus.DRAFT, db_index=True)
    # Counters kept in the same locked transaction as the registrations they count.
    seats_taken = fields.IntField(default=0)
    waitlist_length = fields.IntField(default=0)
    waitlist_seq = fields.IntField(default=0)
    # Bumped on every material change (time, place, title); calendars use it as SEQUENCE.
    sequence = fields.IntField(default=0)
    published_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    # The owner: its organizers read and change the event, its courses, broadcasts and registrations.
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="events", on_delete=fields.RESTRICT
    )
    organization_id: int
    created_by = fields.CharField(max_length=100, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "event"
