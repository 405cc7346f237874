"""Organizer wildcards (外卡): an entry the organizer takes through a round beside its advance rule.

Named before the round closes, with a reason; the close turns each one still in play into a
``RoundAdvance`` of kind ``wildcard``. Kept apart from ``RoundAdvance`` because an advance is what a
close decided, and the ranking's preview reads "no advance yet" as "the round is still open".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from events.models.competitions import Entry, Round


class Wildcard(Model):
    id = fields.IntField(primary_key=True)
    round: fields.ForeignKeyRelation[Round] = fields.ForeignKeyField(
        "models.Round", related_name="wildcards", on_delete=fields.CASCADE
    )
    round_id: int
    entry: fields.ForeignKeyRelation[Entry] = fields.ForeignKeyField(
        "models.Entry", related_name="wildcards", on_delete=fields.CASCADE
    )
    entry_id: int
    reason = fields.TextField()
    by = fields.CharField(max_length=100)
    at = fields.DatetimeField()

    class Meta:
        table = "competition_wildcard"
        unique_together = (("round", "entry"),)
