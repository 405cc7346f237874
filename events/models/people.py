from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Person(Model):
    """Someone the platform knows: an attendee, a broker, a judge. Found by telegram_id, phone or email."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    phone = fields.CharField(max_length=32, null=True, db_index=True)
    email = fields.CharField(max_length=254, null=True, db_index=True)
    organization = fields.CharField(max_length=200, null=True)
    telegram_id = fields.BigIntField(null=True, unique=True)
    language = fields.CharField(max_length=8, default="zh")
    # The secret in the person's calendar feed URL (a capability, shown again whenever they ask,
    # like a calendar service's "secret address"); rotating replaces it and the old URL stops working.
    calendar_token = fields.CharField(max_length=64, null=True, db_index=True)
    calendar_alarm_minutes = fields.IntField(default=60)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "person"
