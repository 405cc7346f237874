"""Reminders computed from the data on every pass, never from timers held in memory.

For each published event starting soon and each of its reminder offsets already due, every
confirmed registrant gets one row keyed ``reminder:<minutes>m:registration:<id>``; the key makes a
second pass (or a second process) harmless, and a pass after downtime still sends a late reminder
while it is useful. Once the event has started, queued reminders are skipped with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tortoise.transactions import in_transaction

from events import clock
from events.i18n import format_when, normalize_locale
from events.models import Category, Event, EventStatus, OutboxMessage, OutboxStatus, Registration, RegistrationStatus
from notifications.render import render

MAX_OFFSET = timedelta(days=7)


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
    queued = 0
    for event in events:
        due = sorted(m for m in (event.reminder_minutes or []) if event.starts_at - timedelta(minutes=m) <= now)
        if not due:
            continue
        # After downtime several offsets may be due at once; only the nearest one is still worth sending.
        minutes = due[0]
        # Plain tuples, not models: a pass touches every confirmed registrant of the week's events.
        registrants = await Registration.filter(event_id=event.id, status=RegistrationStatus.CONFIRMED).values_list(
            "id",
            "person_id",
            "person__telegram_id",
            "person__telegram_blocked_at",
            "person__opted_out",
            "person__language",
        )
        keys = {f"reminder:{minutes}m:registration:{r[0]}": r for r in registrants if r[2] and not r[3]}
        existing = (
            set(
                await OutboxMessage.filter(
                    event_id=event.id, category=Category.REMINDER, dedup_key__in=list(keys)
                ).values_list("dedup_key", flat=True)
            )
            if keys
            else set()
        )
        hours = max(1, round((event.starts_at - now).total_seconds() / 3600))
        texts: dict[str, str] = {}
        rows = []
        for key, (_, person_id, _, _, opted_out, language) in keys.items():
            if key in existing or Category.REMINDER.value in (opted_out or []):
                continue
            locale = normalize_locale(language) or "zh"
            if locale not in texts:
                texts[locale] = render(
                    "reminder",
                    locale,
                    event=event,
                    hours=hours,
                    when=format_when(event.starts_at, event.ends_at, locale),
                )
            rows.append(
                OutboxMessage(
                    person_id=person_id,
                    category=Category.REMINDER,
                    dedup_key=key,
                    locale=locale,
                    event_id=event.id,
                    text=texts[locale],
                    # A reminder a few hours ahead must not sleep through quiet hours past the start.
                    urgent=minutes <= 180,
                    not_before=now,
                )
            )
        if rows:
            async with in_transaction() as conn:
                await OutboxMessage.bulk_create(rows, ignore_conflicts=True, using_db=conn)
            queued += len(rows)
    return ReminderPass(queued=queued, skipped=skipped)
