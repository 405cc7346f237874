from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from events.models.catalog import Event
    from events.models.people import Person


class RegistrationStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    PENDING = "pending"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


# Statuses that count as "registered": a second registration of the same person is refused.
ACTIVE_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED, RegistrationStatus.PENDING)


class LiveIdentityIndex(Index):
    """Unique (event_id, ``column``) among live registrations (pending, confirmed, waitlisted) with
    that detail given: one live registration per phone, e-mail or Telegram id and event. The
    registration service checks it under the event's lock as well; PostgreSQL's one-statement
    registration relies on it (migration h0tevent01 makes the same indexes)."""

    def __init__(self, column: str) -> None:
        super().__init__(fields=("event_id", column), name=f"uniq_registration_live_{column.removesuffix('_id')}")
        live = ", ".join(f"'{status.value}'" for status in ACTIVE_STATUSES)
        self.extra = f" WHERE {column} IS NOT NULL AND status IN ({live})"

    def get_sql(self, schema_generator: Any, model: Any, safe: bool) -> str:
        return str(
            schema_generator.UNIQUE_INDEX_CREATE_TEMPLATE.format(
                exists="IF NOT EXISTS " if safe else "",
                index_name=self.name,
                index_type="",
                table_name=schema_generator._qualify_table_name(model._meta.db_table, model._meta.schema),
                fields=schema_generator._format_index_fields(self.fields),
                extra=self.extra,
            )
        )


class Registration(Model):
    id = fields.IntField(primary_key=True)
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "models.Event", related_name="registrations", on_delete=fields.CASCADE
    )
    event_id: int
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="registrations", on_delete=fields.RESTRICT
    )
    person_id: int
    status = fields.CharEnumField(RegistrationStatus, max_length=16)
    # Contact details as given for this registration, normalised; duplicates are found by these.
    name = fields.CharField(max_length=100)
    organization = fields.CharField(max_length=200, null=True)
    phone = fields.CharField(max_length=32, null=True)
    email = fields.CharField(max_length=254, null=True)
    telegram_id = fields.BigIntField(null=True)
    answers: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    # Monotonic per event; the waitlist is ordered by it. Position is derived, never stored.
    waitlist_order = fields.IntField(null=True)
    # SHA-256 of the secret handed to an anonymous registrant to read and cancel this registration.
    access_secret_hash = fields.CharField(max_length=64, null=True, unique=True)
    source = fields.CharField(max_length=16, default="api")
    # The seed of the registrant's web access link (/r/{token}); see events.services.access_links.
    access_seed = fields.CharField(max_length=16, null=True, unique=True)
    # The secret in this registration's own feed URL (/calendar/me/{token}.ics), for whoever holds the
    # registration's access token: it shows this registration only, never its person's other ones.
    calendar_token = fields.CharField(max_length=64, null=True, db_index=True)
    calendar_alarm_minutes = fields.IntField(default=60)
    # 0: no ticket yet. Issued at confirmation; a re-issue bumps it and revokes older codes.
    ticket_version = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    confirmed_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    decided_at = fields.DatetimeField(null=True)
    # Set when the registrant's details were removed (an erasure, or retention after the event): the
    # row stays, under a pseudonym, for the event's counts.
    anonymised_at = fields.DatetimeField(null=True)
    # Consent to the privacy notice (web form): when, and which version of the notice (events.privacy).
    consent_at = fields.DatetimeField(null=True)
    consent_version = fields.CharField(max_length=32, null=True)

    class Meta:
        table = "registration"
        indexes = (
            ("event_id", "status"),
            ("event_id", "phone"),
            ("event_id", "email"),
            ("event_id", "telegram_id"),
            # The console's search of an event's table by the beginning of a name or an organization
            # (PostgreSQL: text_pattern_ops, so LIKE 'prefix%' uses them whatever the collation).
            ("event_id", "name"),
            ("event_id", "organization"),
            # A person's own registrations: /my, calendars, a broker's enrollments.
            ("person_id", "status"),
            LiveIdentityIndex("phone"),
            LiveIdentityIndex("email"),
            LiveIdentityIndex("telegram_id"),
        )


class RegistrationLink(Model):
    """A one-time code (SHA-256 stored) that attaches a registration to the person who redeems it.

    The channel proves the person: today the bot (``/start link_<code>``), later a link by e-mail.
    """

    id = fields.IntField(primary_key=True)
    registration: fields.ForeignKeyRelation[Registration] = fields.ForeignKeyField(
        "models.Registration", related_name="links", on_delete=fields.CASCADE
    )
    registration_id: int
    code_hash = fields.CharField(max_length=64, unique=True)
    # "telegram" now; "email" when the e-mail channel sends a link (issue #16).
    channel = fields.CharField(max_length=16)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    used_by_person_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "registration_link"
