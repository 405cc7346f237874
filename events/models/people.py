from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from events.models.organizations import Organization


class Person(Model):
    """Someone the platform knows: an attendee, a broker, a judge. Found by telegram_id, phone or email."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    phone = fields.CharField(max_length=32, null=True, db_index=True)
    email = fields.CharField(max_length=254, null=True, db_index=True)
    organization = fields.CharField(max_length=200, null=True)
    # The organization the person works for, when known as a record (matching and conflicts read it).
    affiliation: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="people", null=True, on_delete=fields.SET_NULL
    )
    affiliation_id: int | None
    telegram_id = fields.BigIntField(null=True, unique=True)
    language = fields.CharField(max_length=8, default="zh")
    # The secret in the person's calendar feed URL (a capability, shown again whenever they ask,
    # like a calendar service's "secret address"); rotating replaces it and the old URL stops working.
    calendar_token = fields.CharField(max_length=64, null=True, db_index=True)
    calendar_alarm_minutes = fields.IntField(default=60)
    # What the person wants to be invited to; empty means "anything".
    pref_districts: fields.JSONField[list[str]] = fields.JSONField(default=list)
    pref_topics: fields.JSONField[list[str]] = fields.JSONField(default=list)
    pref_kinds: fields.JSONField[list[str]] = fields.JSONField(default=list)
    # Message categories the person opted out of (e.g. "invitation", "matched_opportunity").
    opted_out: fields.JSONField[list[str]] = fields.JSONField(default=list)
    # Local "HH:MM" bounds of quiet hours; null means the platform default (22:00–08:00).
    quiet_start = fields.CharField(max_length=5, null=True)
    quiet_end = fields.CharField(max_length=5, null=True)
    # Set when Telegram answered 403 (the person blocked the bot); nothing is queued for them then.
    telegram_blocked_at = fields.DatetimeField(null=True)
    # Set when the person's data was erased at their request (PIPL art. 47): the row stays, under a
    # pseudonym, so the registrations counted and the credit ledger still add up.
    erased_at = fields.DatetimeField(null=True)
    # The address a mail server refused as unknown (a 550 to RCPT), and when: no mail goes to that
    # address again; a new ``email`` is tried afresh.
    email_bounced = fields.CharField(max_length=254, null=True)
    email_bounced_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "person"


class PersonRole(Model):
    """A role held by a person in the bot (door staff scanning in the Mini App, organizers)."""

    id = fields.IntField(primary_key=True)
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="roles", on_delete=fields.CASCADE
    )
    person_id: int
    role = fields.CharField(max_length=16)
    # For checkers: the events they may scan; null means every event.
    event_ids: fields.JSONField[list[int] | None] = fields.JSONField(null=True)
    # The organization the person acts for in this role (null: the default organization).
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="person_roles", null=True, on_delete=fields.RESTRICT
    )
    organization_id: int | None
    granted_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "person_role"
        # One grant of a role per organization: door staff may work for several organizations.
        unique_together = (("person_id", "role", "organization_id"),)


class TelegramUpdate(Model):
    """Update ids already handled, so a webhook delivery Telegram repeats is handled once."""

    update_id = fields.BigIntField(primary_key=True, generated=False)
    received_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "telegram_update"


class BotState(Model):
    """A chat's place in a bot flow and the answers so far (aiogram FSM), kept across restarts."""

    key = fields.CharField(max_length=200, primary_key=True)
    state = fields.CharField(max_length=100, null=True)
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "bot_state"
