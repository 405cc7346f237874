from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from events.models.catalog import Event
    from events.models.people import Person


class Category(StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"
    WAITLIST_PROMOTED = "waitlist_promoted"
    REGISTRATION_CONFIRMED = "registration_confirmed"
    EVENT_CHANGED = "event_changed"
    EVENT_CANCELLED = "event_cancelled"
    MATCHED_OPPORTUNITY = "matched_opportunity"
    CREDITS = "credits"
    BROADCAST = "broadcast"
    DEMAND_FOLLOW_UP = "demand_follow_up"  # a broker's claimed demand is due for a follow-up
    COMPETITION = "competition"  # an entrant's entry, a judge's duty, an objector's objection
    MEETING = "meeting"  # a 1:1 meeting at a roadshow: requests, answers, reminders, how it went
    BRIEF = "brief"  # the programme office's monthly brief is ready
    SIGNIN = "signin"  # a one-time console sign-in link


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class OutboxMessage(Model):
    """A message to one person, written before it is sent, in the transaction that caused it.

    ``dedup_key`` is unique, so producers racing each other (or re-running after a crash) cannot
    queue the same message twice; a row marked sent is never sent again.
    """

    id = fields.BigIntField(primary_key=True)
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="messages", on_delete=fields.CASCADE
    )
    person_id: int
    category = fields.CharEnumField(Category, max_length=24, db_index=True)
    dedup_key = fields.CharField(max_length=200, unique=True)
    locale = fields.CharField(max_length=8)
    text = fields.TextField()
    # Inline buttons as [[{"text", "url"|"callback_data"}]]; a photo by reference (e.g. a ticket).
    buttons: fields.JSONField[list[list[dict[str, str]]] | None] = fields.JSONField(null=True)
    photo: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    urgent = fields.BooleanField(default=False)
    status = fields.CharEnumField(OutboxStatus, max_length=10, default=OutboxStatus.QUEUED, db_index=True)
    attempts = fields.IntField(default=0)
    last_error = fields.CharField(max_length=500, null=True)
    not_before = fields.DatetimeField(db_index=True)
    # A row claimed by a sender; if the sender dies, the claim lapses and the row is retried.
    lease_until = fields.DatetimeField(null=True)
    event_id = fields.IntField(null=True, db_index=True)
    broadcast_id = fields.IntField(null=True, db_index=True)
    telegram_message_id = fields.BigIntField(null=True)
    # The channel: null while queued means "chosen per person when sent" (Telegram when linked, else
    # e-mail); a producer may fix it ("email": the lost-link mail goes by mail whatever else the person
    # has). Once sent it names the channel that carried the message.
    channel = fields.CharField(max_length=16, null=True)
    # What a channel other than a chat needs to compose the message afresh when it is sent:
    # {"template", "context", "registration_id"} (see notifications/mail.py). The text above stays
    # the chat rendition.
    mail: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"
        # The dispatcher's queue; the weekly caps (invitations, matched opportunities) count per person.
        indexes = (("status", "not_before"), ("person_id", "category", "created_at"))


class Broadcast(Model):
    """An organizer's message to an event's registrants."""

    id = fields.IntField(primary_key=True)
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "models.Event", related_name="broadcasts", on_delete=fields.CASCADE
    )
    event_id: int
    text = fields.TextField()
    author = fields.CharField(max_length=100)
    audience = fields.CharField(max_length=20, default="registered")
    created_at = fields.DatetimeField(auto_now_add=True)
    cancelled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "broadcast"


class Cursor(Model):
    """How far a reader of the activity log has got (e.g. the notification producer)."""

    name = fields.CharField(max_length=50, primary_key=True)
    position = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "cursor"
