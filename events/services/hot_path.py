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

Registrations for one event that arrive while its statement runs go together in the next (group
commit): one lock, one round trip and one commit for the lot, seats taken in the order they came. A
statement refused for a duplicate is sent again once per registration, so only the duplicate is refused.

It only takes the common case and answers None for anything else (SQLite, inside a caller's
transaction, a training event, a Telegram id without a known person, a closed or full event, a
duplicate, answers that do not fit): the caller then runs the ORM path, which holds every rule and
raises the right error.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from functools import cache
from typing import Any, cast

from tortoise import connections, timezone
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient

from events import clock, metrics
from events.db_reads import from_row, get_each, row_columns
from events.models import (
    CheckinResult,
    Direction,
    EventKind,
    EventStatus,
    Registration,
    RegistrationStatus,
)


def postgres_pool() -> Any | None:
    """The default connection when it is PostgreSQL's pool and no transaction of the caller's is open."""
    client: BaseDBAsyncClient = connections.get("default")
    if client.capabilities.dialect != "postgres" or isinstance(client, TransactionalDBClient):
        return None
    return client


# The event as the checks before the statement need it (read without a lock).
EVENT_SQL = "SELECT id, kind, questions FROM event WHERE id = $1"

# Registrations for one event, in one statement: the rows of the arrays ($6 …) in order. The event's
# row lock (the CTE's FOR UPDATE) is taken once for all of them; each takes a seat while seats last,
# then a place on the waitlist (or waits for approval). Person and registration ids are drawn first,
# so each answer row is its asker's whatever order PostgreSQL writes in.
REGISTER_SQL = """
WITH locked AS (
    SELECT id, requires_approval, capacity, seats_taken, waitlist_enabled, waitlist_seq, waitlist_length
    FROM event
    WHERE id = $1 AND status = 'published' AND ends_at > $2
      AND (registration_opens_at IS NULL OR registration_opens_at <= $2)
      AND COALESCE(registration_closes_at, starts_at) > $2
      AND questions IS NOT DISTINCT FROM $3::jsonb AND kind = $4
    FOR UPDATE
), asked AS (
    SELECT * FROM unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::int[], $12::text[],
                         $13::text[], $14::text[], $15::text[], $16::text[], $17::bool[], $18::text[],
                         $19::timestamptz[])
        WITH ORDINALITY AS a(name, phone, email, organization, telegram_id, person_id, answers, source, secret_hash,
                              consent_version, actor, fill_person, language, at, ord)
), decided AS (
    SELECT a.*, l.id AS event_id, l.seats_taken, l.waitlist_seq, l.waitlist_length, f.free,
           CASE WHEN l.requires_approval THEN 'pending'
                WHEN a.ord <= f.free THEN 'confirmed'
                WHEN l.waitlist_enabled THEN 'waitlisted' END AS status
    FROM asked a CROSS JOIN locked l
    CROSS JOIN LATERAL (
        SELECT CASE WHEN l.capacity IS NULL THEN 2147483647 ELSE GREATEST(l.capacity - l.seats_taken, 0) END AS free
    ) f
), numbered AS (
    SELECT d.*,
           CASE WHEN d.person_id IS NULL THEN nextval('person_id_seq'::regclass) ELSE d.person_id END AS pid,
           nextval('registration_id_seq'::regclass) AS rid,
           CASE WHEN d.status = 'waitlisted' THEN d.ord - d.free END AS behind
    FROM decided d WHERE d.status IS NOT NULL
), counted AS (
    UPDATE event e
    SET seats_taken = l.seats_taken + (SELECT count(*) FROM numbered WHERE status = 'confirmed'),
        waitlist_seq = l.waitlist_seq + (SELECT count(*) FROM numbered WHERE status = 'waitlisted'),
        waitlist_length = l.waitlist_length + (SELECT count(*) FROM numbered WHERE status = 'waitlisted')
    FROM locked l
    WHERE e.id = l.id AND EXISTS (SELECT 1 FROM numbered WHERE status IN ('confirmed', 'waitlisted'))
), new_person AS (
    INSERT INTO person (id, name, phone, email, organization, telegram_id, language, calendar_alarm_minutes,
                        pref_districts, pref_topics, pref_kinds, opted_out, created_at, updated_at)
    SELECT pid, name, phone, email, organization, NULL, language, 60, '[]', '[]', '[]', '[]', $5, $5
    FROM numbered WHERE person_id IS NULL
), registered AS (
    INSERT INTO registration (id, event_id, person_id, status, name, organization, phone, email, telegram_id, answers,
                              source, access_secret_hash, calendar_alarm_minutes, ticket_version, waitlist_order,
                              confirmed_at, consent_at, consent_version, created_at, updated_at)
    SELECT rid, event_id, pid, status, name, organization, phone, email, telegram_id, answers::jsonb,
           source, secret_hash, 60, (status = 'confirmed')::int,
           CASE WHEN status = 'waitlisted' THEN waitlist_seq + behind END,
           CASE WHEN status = 'confirmed' THEN at END,
           CASE WHEN consent_version IS NOT NULL THEN at END, consent_version, $5, $5
    FROM numbered
), filled AS (
    UPDATE person p
    SET phone = COALESCE(p.phone, n.phone), email = COALESCE(p.email, n.email),
        organization = COALESCE(p.organization, n.organization)
    FROM numbered n
    WHERE n.fill_person AND p.id = n.person_id
      AND ((p.phone IS NULL AND n.phone IS NOT NULL) OR (p.email IS NULL AND n.email IS NOT NULL)
           OR (p.organization IS NULL AND n.organization IS NOT NULL))
), logged AS (
    INSERT INTO activity (kind, actor, event_id, registration_id, person_id, payload, created_at)
    SELECT 'registration.' || status, actor, event_id, rid, pid, '{}', at FROM numbered ORDER BY ord
)
SELECT ord, rid AS id, pid AS person_id, status,
       CASE WHEN status = 'waitlisted' THEN waitlist_seq + behind END AS waitlist_order,
       CASE WHEN status = 'waitlisted' THEN waitlist_length + behind END AS waitlist_length,
       CASE WHEN status = 'confirmed' THEN at END AS confirmed_at,
       (status = 'confirmed')::int AS ticket_version
FROM numbered
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


@dataclass(slots=True)
class _Ask:
    """One write waiting for its group's next statement: the row it adds to the statement's arrays."""

    row: tuple[Any, ...]
    answer: asyncio.Future[Any]


@dataclass(slots=True)
class _Group:
    """The writes of one kind (one event's registrations, the door's entries) waiting in this process,
    what their statement needs besides their rows, and how many statements are writing some now."""

    context: tuple[Any, ...]
    loop: asyncio.AbstractEventLoop
    waiting: list[_Ask] = field(default_factory=list)
    running: int = 0


# Group commit. While a statement of a group runs, the writes that arrive for it wait and go together
# in the next one: one round trip, one commit (and its WAL flush), and for an event's registrations one
# take of its lock, for all of them. Two statements in flight per group: the next is waiting on the
# lock in PostgreSQL when the last commits. Nobody waits for a batch to fill: with nothing running, a
# write goes at once, alone.
MAX_BATCH = 64
IN_FLIGHT = 2
_GROUPS: dict[tuple[Any, ...], _Group] = {}
_RUNNERS: set[asyncio.Task[None]] = set()
# A group's statement: (its context, the batch) → what each ask gets, in order; an exception in
# that list is raised to its asker alone.
Write = Callable[[tuple[Any, ...], list[_Ask]], Awaitable[list[Any]]]


async def _together(key: tuple[Any, ...], context: tuple[Any, ...], row: tuple[Any, ...], write: Write) -> Any:
    """What ``write`` answers for ``row``, written with whatever else waits under ``key``."""
    loop = asyncio.get_running_loop()
    ask = _Ask(row, loop.create_future())
    group = _GROUPS.get(key)
    if group is None or group.loop is not loop:  # a group of a loop that is gone (a test's) answers nobody
        group = _GROUPS[key] = _Group(context, loop)
    group.waiting.append(ask)
    if group.running < IN_FLIGHT:
        group.running += 1
        runner = asyncio.create_task(_run(key, group, write))
        _RUNNERS.add(runner)  # a task nobody holds may be collected mid-run
        runner.add_done_callback(_RUNNERS.discard)
    # Shielded: a caller that goes away does not cancel the others' statement (its row is written or
    # not with theirs, as a statement already sent would be).
    return await asyncio.shield(ask.answer)


async def _run(key: tuple[Any, ...], group: _Group, write: Write) -> None:
    """Write the group's waiting rows, a batch at a time, until none waits."""
    try:
        while group.waiting:
            batch, group.waiting = group.waiting[:MAX_BATCH], group.waiting[MAX_BATCH:]
            try:
                answers = await write(group.context, batch)
            except asyncio.CancelledError:  # the server stops: nobody is left to answer
                for ask in batch + group.waiting:
                    ask.answer.cancel()
                group.waiting.clear()
                raise
            except Exception as exc:  # the database's error is each asker's, as their own statement's would be
                answers = [exc] * len(batch)
            for ask, answer in zip(batch, answers, strict=True):
                if ask.answer.done():
                    continue
                if isinstance(answer, BaseException):
                    ask.answer.set_exception(answer)
                else:
                    ask.answer.set_result(answer)
    finally:
        group.running -= 1
        if not group.running and not group.waiting and _GROUPS.get(key) is group:
            del _GROUPS[key]


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
    """One registration, written with whatever others wait for the same event (``REGISTER_SQL``);
    None when its statement wrote it nothing (closed, full, the questions changed meanwhile) or a live
    registration of the same phone, e-mail or Telegram id exists: the caller's ORM path then decides,
    and says why."""
    if event["kind"] == EventKind.TRAINING:
        return None
    row = (
        name,
        phone,
        email,
        organization,
        telegram_id,
        person_id,
        json.dumps(answers, ensure_ascii=False),
        source,
        secret_hash,
        consent_version,
        actor,
        fill_person,
        language,
        now,
    )
    key = ("register", event["id"], event["kind"], event["questions_json"])
    return cast("Registered | None", await _together(key, (pool, event), row, _write_registrations))


async def _write_registrations(context: tuple[Any, ...], batch: list[_Ask]) -> list[Registered | None]:
    pool, event = context
    return await _write(pool, event, batch)


async def _write(pool: Any, event: dict[str, Any], batch: list[_Ask]) -> list[Registered | None]:
    """The batch's statement: what each ask got, in order (None: the ORM path's to decide)."""
    import asyncpg

    stamp = timezone.now()  # what Tortoise's auto_now fields would hold
    columns = list(zip(*(ask.row for ask in batch), strict=True))
    started = time.perf_counter()
    try:
        async with pool.acquire_connection() as connection:
            rows = await connection.fetch(
                REGISTER_SQL,
                event["id"],
                max(columns[-1]),
                event["questions_json"],
                event["kind"],
                stamp,
                *columns,
            )
    except asyncpg.IntegrityConstraintViolationError:
        # A live registration of someone's phone, e-mail or Telegram id (or no such person), and the
        # statement wrote nothing: each again on its own, so that only that one goes the ORM path.
        if len(batch) == 1:
            return [None]
        return [(await _write(pool, event, [ask]))[0] for ask in batch]
    if not rows:
        forget_event(event["id"])  # closed, full, or changed: read afresh next time
        return [None] * len(batch)
    # The statement's time bounds its wait for the event's lock (observed when it registered: otherwise
    # the ORM path that follows takes the lock and observes its own wait).
    metrics.LOCK_WAIT_SECONDS.observe(time.perf_counter() - started)
    written: list[Registered | None] = [None] * len(batch)
    for row in rows:
        written[row["ord"] - 1] = Registered(
            id=row["id"],
            person_id=row["person_id"],
            status=RegistrationStatus(row["status"]),
            waitlist_order=row["waitlist_order"],
            waitlist_length=row["waitlist_length"],
            confirmed_at=row["confirmed_at"],
            ticket_version=row["ticket_version"],
            created_at=stamp,
        )
    return written


async def ticket_registration(pool: Any, registration_id: int) -> Registration | None:
    """The registration a scanned code names, with its event (``get_one``'s read), read together with
    the other scans' that arrive while one such read runs: at the door a read per scan was a round trip
    and a statement each."""
    return cast("Registration | None", await _together(("ticket",), (pool,), (registration_id,), _read_tickets))


async def _read_tickets(context: tuple[Any, ...], batch: list[_Ask]) -> list[Registration | None]:
    (pool,) = context
    return await get_each(Registration, [ask.row[0] for ask in batch], related="event", using_db=pool)


# Entries at the door, many in one statement (the group commit above): the rows of the arrays. A row
# is judged with its ticket's registration and event as ``checkin._judge`` judges an entry — the ticket
# is the scan's event's, its registration confirmed and of the ticket's version, the event not
# cancelled (nor a course session, whose entries write credits), the scan inside the check-in window,
# the event in the caller's organization ($4, NULL for everyone's) — and admitted when its person is not
# in yet today and its checker never sent its scan id. The rest (and a second scan of one ticket in the
# batch) write nothing: ``checkin.redeem`` then reads, judges and says why, as without this statement.
# Each admitted row comes back with its registration and event, as ``ticket_registration`` reads them.
_ADMIT_TICKETS = f"""
WITH asked AS (
    SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::int[], $5::date[], $6::timestamptz[], $7::text[],
                         $8::text[], $9::text[], $10::timestamptz[], $11::bool[], $12::text[], $13::text[],
                         $14::text[], $15::text[], $16::timestamptz[])
        WITH ORDINALITY AS a(registration_id, ticket_version, event_id, organization_id, day, scanned_at, gate,
                              scan_id, device, received_at, offline, code_digest, checker, actor, payload,
                              logged_at, ord)
), valid AS (
    SELECT a.*, r.person_id
    FROM asked a
    JOIN registration r ON r.id = a.registration_id AND r.event_id = a.event_id
    JOIN event e ON e.id = r.event_id
    WHERE r.status = '{RegistrationStatus.CONFIRMED.value}' AND r.ticket_version = a.ticket_version
      AND e.status <> '{EventStatus.CANCELLED.value}' AND e.kind <> '{EventKind.TRAINING.value}'
      AND (a.organization_id IS NULL OR e.organization_id = a.organization_id)
      AND a.scanned_at >= e.starts_at - make_interval(mins => e.checkin_opens_minutes)
      AND a.scanned_at <= e.ends_at + make_interval(mins => e.checkin_closes_minutes)
), fresh AS (
    SELECT DISTINCT ON (v.registration_id, v.event_id, v.day) v.*
    FROM valid v
    WHERE NOT EXISTS (SELECT 1 FROM checkin_scan s WHERE s.checker = v.checker AND s.scan_id = v.scan_id)
    ORDER BY v.registration_id, v.event_id, v.day, v.ord
), admitted AS (
    INSERT INTO attendance (event_id, registration_id, day, checked_in_at, gate)
    SELECT event_id, registration_id, day, scanned_at, gate FROM fresh
    ON CONFLICT (registration_id, event_id, day) DO NOTHING
    RETURNING registration_id, event_id, day
), written AS (
    SELECT f.* FROM fresh f JOIN admitted USING (registration_id, event_id, day)
), scanned AS (
    INSERT INTO checkin_scan (event_id, registration_id, scan_id, result, direction, gate, device, scanned_at,
                              received_at, offline, code_digest, checker, first_checked_in_at, first_gate)
    SELECT event_id, registration_id, scan_id, '{CheckinResult.OK.value}', '{Direction.ENTRY.value}', gate, device,
           scanned_at, received_at, offline, code_digest, checker, scanned_at, gate
    FROM written ORDER BY ord
), logged AS (
    INSERT INTO activity (kind, actor, event_id, registration_id, person_id, payload, created_at)
    SELECT 'checkin.ok', actor, event_id, registration_id, person_id, payload::jsonb, logged_at
    FROM written ORDER BY ord
)
"""


@cache
def admit_tickets_sql() -> str:
    """``_ADMIT_TICKETS`` answering with each admitted row's registration and event (the models' columns
    are known once Tortoise has started)."""
    return (
        _ADMIT_TICKETS
        + f"SELECT w.ord, {row_columns(Registration, 'event')}\n"
        + "FROM written w JOIN registration a ON a.id = w.registration_id JOIN event b ON b.id = a.event_id\n"
    )


@dataclass(frozen=True, slots=True)
class Entry:
    """A scan's entry as the door's statement takes it (``checkin`` makes it)."""

    registration_id: int
    ticket_version: int
    event_id: int
    organization_id: int | None  # the caller's organization; None: any event
    day: date
    scanned_at: datetime
    gate: str | None
    scan_id: str | None
    device: str | None
    received_at: datetime
    offline: bool
    code_digest: str
    checker: str
    actor: str


async def admit_ticket(pool: Any, entry: Entry) -> Registration | None:
    """Judge and write an entry with whatever other entries wait (``admit_tickets_sql``): the ticket's
    registration with its event when it was admitted, None when the statement wrote nothing for it."""
    payload = json.dumps({"gate": entry.gate, "offline": entry.offline}, ensure_ascii=False)
    # The activity log's time is the service clock's, as activity.record writes it.
    asked = (*(getattr(entry, name) for name in _ENTRY_FIELDS), payload, clock.now())
    return cast("Registration | None", await _together(("admit",), (pool,), asked, _write_entries))


_ENTRY_FIELDS = tuple(column.name for column in fields(Entry))  # the statement's arrays $1 … $14, in order


async def _write_entries(context: tuple[Any, ...], batch: list[_Ask]) -> list[Registration | None]:
    """The batch's statement: each entry's registration when admitted, else None."""
    import asyncpg

    (pool,) = context
    try:
        async with pool.acquire_connection() as connection:
            rows = await connection.fetch(admit_tickets_sql(), *zip(*(ask.row for ask in batch), strict=True))
    except asyncpg.IntegrityConstraintViolationError:
        # A key the statement does not look for first (a scan id a concurrent statement just stored, or
        # one scan id twice in the batch): nothing was written; each again on its own.
        if len(batch) == 1:
            return [None]
        return [(await _write_entries(context, [ask]))[0] for ask in batch]
    admitted = {row["ord"]: row for row in rows}
    return [
        None if (row := admitted.get(n)) is None else from_row(Registration, "event", dict(row))
        for n in range(1, len(batch) + 1)
    ]
