"""Reminders computed from the data on every pass, never from timers held in memory.

For each published event starting soon and each of its reminder offsets already due, every
confirmed registrant gets one row keyed ``reminder:<minutes>m:registration:<id>``; the key makes a
second pass (or a second process) harmless, and a pass after downtime still sends a late reminder
while it is useful. Once the event has started, queued reminders are skipped with that reason.

A course's session has no registrations of its own for enrolled brokers: their course pass opens its
door. So each session also reminds every confirmed enrollment of its course, with the pass attached,
keyed ``reminder:<minutes>m:session:<event>:enrollment:<id>``; the course's own (enrollment) event is
not reminded when it has sessions, which would only say the same thing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from events import clock
from events.db import ROWS_AT_ONCE
from events.i18n import Locale, format_when, locale_of
from events.models import (
    Category,
    Event,
    EventStatus,
    OutboxMessage,
    OutboxStatus,
    Person,
    Registration,
    RegistrationStatus,
)
from events.services import courses, privacy
from notifications.outbox import CAN_REACH_SQL, CONTACT_FIELDS, Contact, reachable
from notifications.render import render

MAX_OFFSET = timedelta(days=7)
REMINDER_KEY = "reminder:{minutes}m:registration:"
REMINDER_CHUNK = ROWS_AT_ONCE
RETENTION_ACTOR = "retention"


@dataclass(frozen=True, slots=True)
class ReminderPass:
    queued: int
    skipped: int


async def produce_reminders() -> ReminderPass:
    now = clock.now()
    skipped = await OutboxMessage.filter(
        category=Category.REMINDER,
        status=OutboxStatus.QUEUED,
        event_id__in=[
            *await Event.filter(starts_at__lte=now, ends_at__gt=now - timedelta(days=1)).values_list("id", flat=True),
            *await Event.filter(status=EventStatus.CANCELLED, cancelled_at__gt=now - MAX_OFFSET).values_list(
                "id", flat=True
            ),
        ],
    ).update(status=OutboxStatus.SKIPPED, last_error="the event has started or was cancelled")
    events = await Event.filter(status=EventStatus.PUBLISHED, starts_at__gt=now, starts_at__lte=now + MAX_OFFSET)
    due_now: dict[int, int] = {}
    for event in events:
        due = sorted(m for m in (event.reminder_minutes or []) if event.starts_at - timedelta(minutes=m) <= now)
        if due:
            # After downtime several offsets may be due at once; only the nearest one is still worth sending.
            due_now[event.id] = due[0]
    passes = await courses.session_passes(due_now)
    with_sessions = await courses.courses_with_sessions(due_now)
    queued = 0
    for event in events:
        minutes = due_now.get(event.id)
        if minutes is None or event.id in with_sessions:
            continue
        owed = await _owed_reminders(event.id, minutes)
        texts: dict[Locale, str] = {}
        # In chunks, each its own insert: the first pass over a 5,000-seat final builds 5,000 rows, which
        # in one go held the event loop ~200 ms.
        for first in range(0, len(owed), REMINDER_CHUNK):
            rows = [
                _reminder_row(
                    event,
                    minutes,
                    now,
                    texts,
                    template="reminder",
                    key=_reminder_key(minutes, registration_id),
                    person_id=person_id,
                    language=language,
                    mail={"template": "reminder", "context": {}, "registration_id": registration_id},
                )
                for registration_id, person_id, contact, language in owed[first : first + REMINDER_CHUNK]
                if reachable(contact, Category.REMINDER)
            ]
            queued += await _queue(rows)
        if event.id in passes:
            # Someone registered for the session itself was reminded just above.
            registered: set[int] = {
                person_id
                for (person_id,) in await Registration.filter(
                    event_id=event.id, status=RegistrationStatus.CONFIRMED
                ).values_list("person_id")
            }
            queued += await _queue(await _session_rows(event, minutes, now, passes[event.id], registered))
    return ReminderPass(queued=queued, skipped=skipped)


async def _queue(rows: list[OutboxMessage]) -> int:
    if rows:
        async with in_transaction() as conn:
            await OutboxMessage.bulk_create(rows, ignore_conflicts=True, using_db=conn)
    return len(rows)


def _reminder_key(minutes: int, registration_id: int) -> str:
    return f"{REMINDER_KEY.format(minutes=minutes)}{registration_id}"


async def _owed_reminders(event_id: int, minutes: int) -> list[tuple[int, int, Contact, str | None]]:
    """(registration, person, contact, language) of each confirmed registrant of the event who has no
    ``minutes`` reminder yet and has a way to be reached (``CAN_REACH_SQL``; ``reachable`` decides, the
    opt-outs with it). The database leaves out who was reminded and who cannot be reached at all: a pass
    runs every minute while a 5,000-seat final is an hour away, and reading every registrant each time
    (as this did) stopped the event loop ~50 ms a minute in the middle of its door rush."""
    connection = Registration._meta.db
    one, two, three = ("$1", "$2", "$3") if connection.capabilities.dialect == "postgres" else ("?", "?", "?")
    contact = ", ".join(f"p.{field}" for field in CONTACT_FIELDS)
    sql = (
        f'SELECT r.id, r.person_id, p.language, {contact} FROM "{Registration._meta.db_table}" r '
        f'JOIN "{Person._meta.db_table}" p ON p.id = r.person_id WHERE r.event_id = {one} AND r.status = {two} '
        f'AND {CAN_REACH_SQL} AND NOT EXISTS (SELECT 1 FROM "{OutboxMessage._meta.db_table}" o '
        f"WHERE o.dedup_key = {three} || CAST(r.id AS TEXT)) ORDER BY r.id"
    )
    _, rows = await connection.execute_query(
        sql, [event_id, RegistrationStatus.CONFIRMED.value, REMINDER_KEY.format(minutes=minutes)]
    )
    opted_out = Person._meta.fields_map["opted_out"]
    return [
        (
            row["id"],
            row["person_id"],
            Contact(
                row["telegram_id"],
                row["telegram_blocked_at"],
                row["email"],
                row["email_bounced"],
                opted_out.to_python_value(row["opted_out"]),
            ),
            row["language"],
        )
        for row in rows
    ]


async def _session_rows(
    event: Event, minutes: int, now: datetime, enrollments: list[tuple[int, int]], registered: set[int]
) -> list[OutboxMessage]:
    """Reminders of a course session for the holders of the course's passes, each with their pass's QR."""
    holders: dict[int, int] = {}
    for registration_id, person_id in enrollments:
        if person_id not in registered:
            holders.setdefault(person_id, registration_id)
    if not holders:
        return []
    keys = {
        f"reminder:{minutes}m:session:{event.id}:enrollment:{registration_id}": (registration_id, person_id)
        for person_id, registration_id in holders.items()
    }
    existing = set(
        await OutboxMessage.filter(event_id=event.id, category=Category.REMINDER, dedup_key__in=list(keys)).values_list(
            "dedup_key", flat=True
        )
    )
    people = {
        person_id: (telegram_id, blocked_at, opted_out, language)
        for person_id, telegram_id, blocked_at, opted_out, language in await Person.filter(
            id__in=[p for key, (_, p) in keys.items() if key not in existing]
        ).values_list("id", "telegram_id", "telegram_blocked_at", "opted_out", "language")
    }
    course = await courses.course_of_session(event.id)
    if course is None:
        return []
    texts: dict[Locale, str] = {}
    rows = []
    for key, (registration_id, person_id) in keys.items():
        found = people.get(person_id)
        if key in existing or found is None:
            continue
        telegram_id, blocked_at, opted_out, language = found
        if not telegram_id or blocked_at or Category.REMINDER.value in (opted_out or []):
            continue
        rows.append(
            _reminder_row(
                event,
                minutes,
                now,
                texts,
                template="session_reminder",
                key=key,
                person_id=person_id,
                language=language,
                photo={"ticket_registration_id": registration_id},
                course=course,
            )
        )
    return rows


def _reminder_row(
    event: Event,
    minutes: int,
    now: datetime,
    texts: dict[Locale, str],
    *,
    template: str,
    key: str,
    person_id: int,
    language: str | None,
    photo: dict[str, Any] | None = None,
    mail: dict[str, Any] | None = None,
    **context: Any,
) -> OutboxMessage:
    """One reminder; its text is rendered once per locale in a pass (``texts`` keeps them)."""
    locale = locale_of(language)
    if locale not in texts:
        hours = max(1, round((event.starts_at - now).total_seconds() / 3600))
        when = format_when(event.starts_at, event.ends_at, locale)
        texts[locale] = render(template, locale, event=event, hours=hours, when=when, **context)
    return OutboxMessage(
        person_id=person_id,
        category=Category.REMINDER,
        dedup_key=key,
        locale=locale,
        event_id=event.id,
        text=texts[locale],
        photo=photo,
        mail=mail,
        # A reminder a few hours ahead must not sleep through quiet hours past the start.
        urgent=minutes <= 180,
        not_before=now,
    )


async def retention_pass(retention_days: int) -> privacy.RetentionResult | None:
    """The daily retention pass (``WUCHUANG_RETENTION_DAYS``; 0: none): registrants' details of events
    that ended longer ago are removed. Idempotent, so a pass after a restart only finds what is new."""
    if retention_days <= 0:
        return None
    return await privacy.purge_finished(timedelta(days=retention_days), actor=RETENTION_ACTOR)
