"""Technology-broker (技术经理人) training: brokers, courses, the credit ledger, certifications.

Hours are kept as integer tenths (``*_tenths``) so that sums are exact on every database; the
services speak ``Decimal`` hours. Balances and levels are derived from the ledger and the
certification facts, never stored alone.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from events.models.catalog import Event
    from events.models.organizations import Organization
    from events.models.people import Person


class BrokerLevel(StrEnum):
    JUNIOR = "junior"  # 初级
    INTERMEDIATE = "intermediate"  # 中级
    SENIOR = "senior"  # 高级


LEVEL_ORDER: tuple[BrokerLevel, ...] = (BrokerLevel.JUNIOR, BrokerLevel.INTERMEDIATE, BrokerLevel.SENIOR)


def hours_of(tenths: int) -> Decimal:
    return Decimal(tenths) / 10


class Broker(Model):
    """A person in the training programme."""

    id = fields.IntField(primary_key=True)
    person: fields.OneToOneRelation[Person] = fields.OneToOneField(
        "models.Person", related_name="broker", on_delete=fields.RESTRICT
    )
    person_id: int
    organization = fields.CharField(max_length=200, null=True)
    district = fields.CharField(max_length=32, null=True, db_index=True)
    # Topics the broker works in (人工智能, 生物医药, …); matching and the organizer's filters use them.
    specialties: fields.JSONField[list[str]] = fields.JSONField(default=list)
    # The secret in the address of the broker's printable transcript (sent to them by the bot).
    transcript_token = fields.CharField(max_length=64, unique=True)
    # The organization that entered the broker (by hand or by their first enrollment in its course);
    # ``organization`` above is where the broker works, a free text.
    owner_organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="brokers", null=True, on_delete=fields.RESTRICT
    )
    owner_organization_id: int | None
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "broker"


class Course(Model):
    """A training programme: sessions (events of kind ``training``) and online modules.

    Enrolling is registering for the course's own event, so capacity, waitlist, approval and the
    registration window are the registration service's, and the enrollment's ticket is the broker's
    pass for every session of the course.
    """

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    # The level the course prepares for (null: open to every level).
    level = fields.CharEnumField(BrokerLevel, max_length=16, null=True)
    event: fields.OneToOneRelation[Event] = fields.OneToOneField(
        "models.Event", related_name="course", on_delete=fields.RESTRICT
    )
    event_id: int
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "course"


class ItemKind(StrEnum):
    SESSION = "session"
    MODULE = "module"


class CourseItem(Model):
    """One part of a course worth credit hours: a session held in person, or an online module."""

    id = fields.IntField(primary_key=True)
    course: fields.ForeignKeyRelation[Course] = fields.ForeignKeyField(
        "models.Course", related_name="items", on_delete=fields.CASCADE
    )
    course_id: int
    kind = fields.CharEnumField(ItemKind, max_length=8)
    # Sessions: the training event; a session belongs to one course.
    event: fields.OneToOneNullableRelation[Event] = fields.OneToOneField(
        "models.Event", related_name="course_item", null=True, on_delete=fields.RESTRICT
    )
    event_id: int | None
    code = fields.CharField(max_length=64)
    title = fields.CharField(max_length=200)
    hours_tenths = fields.IntField()
    # Counted for course completion (an elective is not).
    required = fields.BooleanField(default=True)
    # Sessions: credit is written at check-out, and only after ``min_stay_minutes`` inside.
    requires_checkout = fields.BooleanField(default=False)
    min_stay_minutes = fields.IntField(null=True)
    position = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "course_item"
        unique_together = (("course_id", "code"),)


class CreditSource(StrEnum):
    ATTENDANCE = "attendance"
    MODULE = "module"
    GRANT = "grant"
    CORRECTION = "correction"


class CreditEntry(Model):
    """One line of a broker's append-only credit ledger. Nothing updates or deletes a line;
    a mistake is answered by a ``correction`` line that names the line it corrects.
    """

    id = fields.IntField(primary_key=True)
    broker: fields.ForeignKeyRelation[Broker] = fields.ForeignKeyField(
        "models.Broker", related_name="credits", on_delete=fields.RESTRICT
    )
    broker_id: int
    hours_tenths = fields.IntField()
    source = fields.CharEnumField(CreditSource, max_length=16)
    course: fields.ForeignKeyNullableRelation[Course] = fields.ForeignKeyField(
        "models.Course", related_name="credits", null=True, on_delete=fields.RESTRICT
    )
    course_id: int | None
    item: fields.ForeignKeyNullableRelation[CourseItem] = fields.ForeignKeyField(
        "models.CourseItem", related_name="credits", null=True, on_delete=fields.RESTRICT
    )
    item_id: int | None
    event_id = fields.IntField(null=True)
    registration_id = fields.IntField(null=True)
    # One attendance or module credit per broker and course item, however often it is reported.
    dedup_key = fields.CharField(max_length=100, null=True, unique=True)
    # The reporting system's id for a module completion; a second report with it changes nothing.
    external_id = fields.CharField(max_length=100, null=True, unique=True)
    corrects: fields.ForeignKeyNullableRelation[CreditEntry] = fields.ForeignKeyField(
        "models.CreditEntry", related_name="corrections", null=True, on_delete=fields.RESTRICT
    )
    corrects_id: int | None
    reason = fields.TextField(default="")
    author = fields.CharField(max_length=100)
    # When the hours were earned (check-in, completion); the year balances use it.
    earned_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "credit_entry"
        indexes = (("broker_id", "earned_at"), ("course_id", "broker_id"))


class CertificationState(StrEnum):
    """What stands against a certificate; ``expired`` is not a state but derived from its dates.

    ``suspended`` is the ledger's doing (a correction took the broker below the level's line) and the
    ledger undoes it: the next write that brings the broker back over the line reinstates it.
    ``revoked`` is an admin's doing and only an admin undoes it.
    """

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class Certification(Model):
    """A broker crossed a level's line on ``certified_at``. The unique key is what certifies once
    when credits arrive at the same moment; ``round`` counts renewals after expiry.
    """

    id = fields.IntField(primary_key=True)
    broker: fields.ForeignKeyRelation[Broker] = fields.ForeignKeyField(
        "models.Broker", related_name="certifications", on_delete=fields.RESTRICT
    )
    broker_id: int
    level = fields.CharEnumField(BrokerLevel, max_length=16)
    round = fields.IntField(default=1)
    certified_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(null=True)
    # The ledger balance at that moment, for the record.
    hours_tenths = fields.IntField()
    # The certificate number printed on it and looked up on the public verification page
    # (WH-JSJL-<year issued>-<id>). Null only between the insert and the update that follows it in the
    # same transaction: the number is made from the id the database hands out, so it cannot clash.
    number = fields.CharField(max_length=32, null=True, unique=True)
    state = fields.CharEnumField(CertificationState, max_length=16, default=CertificationState.ACTIVE)
    # Why the state last changed, the ledger line that changed it (suspended or reinstated by the
    # ledger), who and when; the activity log keeps every change.
    state_reason = fields.TextField(default="")
    state_entry: fields.ForeignKeyNullableRelation[CreditEntry] = fields.ForeignKeyField(
        "models.CreditEntry", related_name="certification_changes", null=True, on_delete=fields.RESTRICT
    )
    state_entry_id: int | None
    state_changed_by = fields.CharField(max_length=100, null=True)
    state_changed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "certification"
        unique_together = (("broker_id", "level", "round"),)
