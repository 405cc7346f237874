from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class StoredBrief(Model):
    """The programme office's copy of a period's brief (每月简报), made once.

    Downloaded through a capability link derived from ``seed`` (the database keeps the seed, never
    the link's token).
    """

    id = fields.IntField(primary_key=True)
    period = fields.CharField(max_length=16, unique=True)  # "2026-11", "2026-H1", "2026"
    seed = fields.CharField(max_length=32, unique=True)
    docx = fields.BinaryField()
    generated_at = fields.DatetimeField()

    class Meta:
        table = "stored_brief"
