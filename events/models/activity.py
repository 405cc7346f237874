from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Activity(Model):
    """An append-only fact, written in the transaction of the change it records.

    It is the audit log, and the feed notifications read by cursor (``id``) to decide who hears of what.
    Subjects are plain ids, not foreign keys, so the log outlives what it speaks of.
    """

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=64, db_index=True)
    actor = fields.CharField(max_length=100)
    event_id = fields.IntField(null=True, db_index=True)
    registration_id = fields.IntField(null=True)
    person_id = fields.IntField(null=True)
    payload: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "activity"
