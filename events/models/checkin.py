from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from events.models.catalog import Event
    from events.models.registration import Registration


class CheckinResult(StrEnum):
    OK = "ok"
    ALREADY_CHECKED_IN = "already_checked_in"
    WRONG_EVENT = "wrong_event"
    CANCELLED = "cancelled"
    REVOKED = "revoked"
    INVALID = "invalid"
    NOT_OPEN_YET = "not_open_yet"
    CLOSED = "closed"


class Direction(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


class Attendance(Model):
    """A person's first successful entry on one (local) day of an event.

    The event is part of the key because a course pass enters every session of its course.

    The unique key is what makes two gates scanning one ticket at the same instant yield exactly
    one ``ok``: the second insert fails and becomes ``already_checked_in``.
    """

    id = fields.IntField(primary_key=True)
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "models.Event", related_name="attendances", on_delete=fields.CASCADE
    )
    event_id: int
    registration: fields.ForeignKeyRelation[Registration] = fields.ForeignKeyField(
        "models.Registration", related_name="attendances", on_delete=fields.CASCADE
    )
    registration_id: int
    day = fields.DateField()
    checked_in_at = fields.DatetimeField()
    gate = fields.CharField(max_length=50, null=True)
    checked_out_at = fields.DatetimeField(null=True)

    class Meta:
        table = "attendance"
        unique_together = (("registration_id", "event_id", "day"),)
        indexes = (("event_id", "checked_in_at"),)


class CheckinScan(Model):
    """Every scan as received, refused ones too, with their reason: the door's audit log."""

    id = fields.IntField(primary_key=True)
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "models.Event", related_name="scans", on_delete=fields.CASCADE
    )
    event_id: int
    registration_id = fields.IntField(null=True)
    # Client-chosen id of one scan, unique per checker: a replay of the same id with the same
    # content gets the stored answer; the same id with other content is refused (scan_id_reused).
    scan_id = fields.CharField(max_length=64, null=True)
    result = fields.CharEnumField(CheckinResult, max_length=24)
    direction = fields.CharEnumField(Direction, max_length=8, default=Direction.ENTRY)
    gate = fields.CharField(max_length=50, null=True)
    device = fields.CharField(max_length=100, null=True)
    scanned_at = fields.DatetimeField()
    received_at = fields.DatetimeField()
    # Accepted by a scanner while offline (signature checked locally), reported later.
    offline = fields.BooleanField(default=False)
    code_digest = fields.CharField(max_length=64)
    # Who sent the scan (the actor: a token, or a Telegram person); the scope of its scan_id.
    checker = fields.CharField(max_length=100)
    first_checked_in_at = fields.DatetimeField(null=True)
    first_gate = fields.CharField(max_length=50, null=True)

    class Meta:
        table = "checkin_scan"
        # Per checker, not per event: two phones' ids never collide, and one checker's id names one
        # scan whatever event it is sent for (another event is another body: refused).
        unique_together = (("checker", "scan_id"),)
        indexes = (("event_id", "received_at"),)
