"""PostgreSQL's short path for the busiest writes: a registration in one statement.

``register`` through the ORM holds the event's row lock across every round trip of its transaction
(lock, duplicate check, person, registration, counters, activity, COMMIT), each awaited on an event
loop shared with every other request: on one hot event that lock is the ceiling. Here the same
registration is one statement in its own (implicit) transaction: ``SELECT … FOR UPDATE`` of the
event in a CTE (which waits for, then reads, the latest committed counters), the decision
(confirmed / waitlisted / pending), the counters, the person, the registration and the activity
line, all written by that statement. The lock is held while PostgreSQL runs it, never across a round
trip. A duplicate is refused by the partial unique indexes (one live registration per phone, e-mail
or Telegram id and event): the statement fails whole and nothing is written.

It only takes the common case and answers None for anything else (SQLite, inside a caller's
transaction, a training event, a Telegram id without a known person, a closed or full event, a
duplicate, answers that do not fit): the caller then runs the ORM path, which holds every rule and
raises the right error.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections, timezone
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient

from events import clock, metrics
from events.models import EventKind, RegistrationStatus


def postgres_pool() -> Any | None:
    """The default connection when it is PostgreSQL's pool and no transaction of the caller's is open."""
    client: BaseDBAsyncClient = connections.get("default")
    if client.capabilities.dialect != "postgres" or isinstance(client, TransactionalDBClient):
        return None
    return client


# The event as the checks before the statement need it (read without a lock).
EVENT_SQL = "SELECT id, kind, questions FROM event WHERE id = $1"

REGISTER_SQL = """
WITH locked AS (
    SELECT id, requires_approval, capacity, seats_taken, waitlist_enabled, waitlist_seq, waitlist_length
    FROM event
    WHERE id = $1 AND status = 'published' AND ends_at > $2
      AND (registration_opens_at IS NULL OR registration_opens_at <= $2)
      AND COALESCE(registration_closes_at, starts_at) > $2
      AND questions IS NOT DISTINCT FROM $3::jsonb AND kind = $18
    FOR UPDATE
), decided AS (
    SELECT id, seats_taken, waitlist_seq, waitlist_length,
           CASE WHEN requires_approval THEN 'pending'
                WHEN capacity IS NULL OR seats_taken < capacity THEN 'confirmed'
                WHEN waitlist_enabled THEN 'waitlisted' END AS status
    FROM locked
), counted AS (
    UPDATE event e
    SET seats_taken = d.seats_taken + (d.status = 'confirmed')::int,
        waitlist_seq = d.waitlist_seq + (d.status = 'waitlisted')::int,
        waitlist_length = d.waitlist_length + (d.status = 'waitlisted')::int
    FROM decided d
    WHERE e.id = d.id AND d.status IN ('confirmed', 'waitlisted')
    RETURNING e.waitlist_length
), new_person AS (
    INSERT INTO person (name, phone, email, organization, telegram_id, language, calendar_alarm_minutes,
                        pref_districts, pref_topics, pref_kinds, opted_out, created_at, updated_at)
    SELECT $4, $5, $6, $7, NULL, $8, 60, '[]', '[]', '[]', '[]', $9, $9
    FROM decided WHERE status IS NOT NULL AND $10::int IS NULL
    RETURNING id
), registered AS (
    INSERT INTO registration (event_id, person_id, status, name, organization, phone, email, telegram_id, answers,
                              source, access_secret_hash, calendar_alarm_minutes, ticket_version, waitlist_order,
                              confirmed_at, consent_at, consent_version, created_at, updated_at)
    SELECT d.id, COALESCE($10::int, (SELECT id FROM new_person)), d.status, $4, $7, $5, $6, $11, $12::jsonb,
           $13, $14, 60, (d.status = 'confirmed')::int,
           CASE WHEN d.status = 'waitlisted' THEN d.waitlist_seq + 1 END,
           CASE WHEN d.status = 'confirmed' THEN $2::timestamptz END,
           CASE WHEN $15::text IS NOT NULL THEN $2::timestamptz END, $15, $9, $9
    FROM decided d WHERE d.status IS NOT NULL
    RETURNING id, person_id, status, waitlist_order, confirmed_at, ticket_version
), filled AS (
    UPDATE person
    SET phone = COALESCE(phone, $5), email = COALESCE(email, $6), organization = COALESCE(organization, $7)
    WHERE $17::bool AND id = $10::int AND EXISTS (SELECT 1 FROM registered)
      AND ((phone IS NULL AND $5 IS NOT NULL) OR (email IS NULL AND $6 IS NOT NULL)
           OR (organization IS NULL AND $7 IS NOT NULL))
    RETURNING id
), logged AS (
    INSERT INTO activity (kind, actor, event_id, registration_id, person_id, payload, created_at)
    SELECT 'registration.' || r.status, $16, $1, r.id, r.person_id, '{}', $2 FROM registered r
    RETURNING id
)
SELECT r.id, r.person_id, r.status, r.waitlist_order, r.confirmed_at, r.ticket_version,
       (SELECT waitlist_length FROM counted) AS waitlist_length, (SELECT count(*) FROM logged) AS logged
FROM registered r
"""


@dataclass(frozen=True, slots=True)
class Registered:
    id: int
    person_id: int
    status: RegistrationStatus
    waitlist_order: int | None
    waitlist_length: int | None
    confirmed_at: datetime | None
    ticket_version: int
    created_at: datetime


# What the checks before the statement read of an event (its kind and questions), per process. The
# statement itself requires the event to still have this kind and these questions (a stale entry makes
# it write nothing: the ORM path then registers, and the entry is dropped), so the cache never decides.
_EVENTS: dict[int, dict[str, Any]] = {}
_EVENTS_MAX = 1024


def forget_event(event_id: int) -> None:
    _EVENTS.pop(event_id, None)


async def read_event(pool: Any, event_id: int) -> dict[str, Any] | None:
    """The event's id, kind and questions (parsed, and as stored), from this process's cache or the database."""
    if (cached := _EVENTS.get(event_id)) is not None:
        return cached
    async with pool.acquire_connection() as connection:
        row = await connection.fetchrow(EVENT_SQL, event_id)
    if row is None:
        return None
    event = dict(row)
    # jsonb comes as its text: kept as read, to check in the statement that the questions did not change.
    event["questions_json"] = event["questions"]
    event["questions"] = json.loads(event["questions"]) if event["questions"] is not None else None
    if len(_EVENTS) >= _EVENTS_MAX:
        _EVENTS.clear()
    _EVENTS[event_id] = event
    return event


async def find_person_by_telegram(pool: Any, telegram_id: int) -> int | None:
    async with pool.acquire_connection() as connection:
        found = await connection.fetchval("SELECT id FROM person WHERE telegram_id = $1", telegram_id)
    return int(found) if found is not None else None


async def register(
    pool: Any,
    *,
    event: dict[str, Any],
    now: datetime,
    name: str,
    phone: str | None,
    email: str | None,
    organization: str | None,
    telegram_id: int | None,
    language: str,
    person_id: int | None,
    answers: dict[str, Any],
    source: str,
    secret_hash: str | None,
    consent_version: str | None,
    actor: str,
    fill_person: bool,
) -> Registered | None:
    """One registration in one statement; None when the statement wrote nothing (closed, full, the
    questions changed meanwhile) or a live registration of the same phone, e-mail or Telegram id
    exists: the caller's ORM path then decides, and says why."""
    import asyncpg

    if event["kind"] == EventKind.TRAINING:
        return None
    stamp = timezone.now()  # what Tortoise's auto_now fields would hold
    questions = event["questions_json"]
    started = time.perf_counter()
    try:
        async with pool.acquire_connection() as connection:
            row = await connection.fetchrow(
                REGISTER_SQL,
                event["id"],
                now,
                questions,
                name,
                phone,
                email,
                organization,
                language,
                stamp,
                person_id,
                telegram_id,
                json.dumps(answers, ensure_ascii=False),
                source,
                secret_hash,
                consent_version,
                actor,
                fill_person,
                event["kind"],
            )
    except asyncpg.IntegrityConstraintViolationError:
        # A live registration of this phone, e-mail or Telegram id (or no such person): the ORM path says so.
        return None
    if row is None:
        forget_event(event["id"])  # closed, full, or changed: read afresh next time
        return None
    # The statement's time bounds its wait for the event's lock (observed when it registered: otherwise
    # the ORM path that follows takes the lock and observes its own wait).
    metrics.LOCK_WAIT_SECONDS.observe(time.perf_counter() - started)
    return Registered(
        id=row["id"],
        person_id=row["person_id"],
        status=RegistrationStatus(row["status"]),
        waitlist_order=row["waitlist_order"],
        waitlist_length=row["waitlist_length"],
        confirmed_at=row["confirmed_at"],
        ticket_version=row["ticket_version"],
        created_at=stamp,
    )


# An entry at the door: attendance, the scan log and the activity line in one statement (and so in
# one implicit transaction). A second entry the same day, or a scan id this checker sent before,
# fails the unique keys and the statement writes nothing.
ADMIT_SQL = """
WITH admitted AS (
    INSERT INTO attendance (event_id, registration_id, day, checked_in_at, gate)
    VALUES ($1, $2, $3, $4, $5)
    RETURNING id
), scanned AS (
    INSERT INTO checkin_scan (event_id, registration_id, scan_id, result, direction, gate, device, scanned_at,
                              received_at, offline, code_digest, checker, first_checked_in_at, first_gate)
    SELECT $1, $2, $6, $15, $16, $5, $7, $4, $8, $9, $10, $11, $4, $5 FROM admitted
    RETURNING id
)
INSERT INTO activity (kind, actor, event_id, registration_id, person_id, payload, created_at)
SELECT 'checkin.ok', $12, $1, $2, $13, $14::jsonb, $17 FROM scanned
"""


async def admit(pool: Any, row: dict[str, Any], *, person_id: int, actor: str) -> None:
    """Write an entry (``row`` as ``checkin._scan_row`` makes it). Raises Tortoise's IntegrityError
    when a unique key refuses it, as the ORM would."""
    import asyncpg
    from tortoise.exceptions import IntegrityError

    payload = json.dumps({"gate": row["gate"], "offline": row["offline"]}, ensure_ascii=False)
    try:
        async with pool.acquire_connection() as connection:
            await connection.execute(
                ADMIT_SQL,
                row["event_id"],
                row["registration_id"],
                row["scanned_at_day"],
                row["scanned_at"],
                row["gate"],
                row["scan_id"],
                row["device"],
                row["received_at"],
                row["offline"],
                row["code_digest"],
                row["checker"],
                actor,
                person_id,
                payload,
                str(row["result"]),
                str(row["direction"]),
                clock.now(),  # the activity log's time is the service clock's, as activity.record writes it
            )
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityError(exc) from exc
