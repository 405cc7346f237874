"""Redeeming tickets at the door.

One call per scan answers with one of a closed set of results. A scan carrying a ``scan_id`` that
was seen before gets the stored answer and changes nothing, so an offline scanner can replay its
queue. Every scan, refused ones too, is logged with its reason.

A scan id names one scan of one checker (an API token, a Telegram person): ids are unique per
checker, so two phones never share one, and the same id sent again must carry the same scan — the
code, the event, the direction, the gate and the device — or it is refused (``scan_id_reused``)
instead of answering for another person. ``scanned_at`` and ``offline`` are not part of it: they say
when and how the scanner judged the scan, not which scan it was, and a replay may differ in them (a
queue replays with ``offline`` what was first sent online; a retry may leave the time to the server).

Exactly one ``ok`` per person and day: the unique (registration, day) key on ``attendance``
decides between two gates scanning the same ticket at the same instant; the loser's insert fails
and it answers ``already_checked_in`` with the winner's time and gate.
"""

from __future__ import annotations

import hashlib
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from events import clock, localtime, metrics
from events.db_reads import get_one
from events.errors import N_, ScanIdReused
from events.models import (
    ApiToken,
    Attendance,
    CheckinResult,
    CheckinScan,
    Direction,
    Event,
    EventKind,
    EventStatus,
    Registration,
    RegistrationStatus,
    hours_of,
)
from events.services import activity, courses, credits, hot_path, ownership, tokens
from events.services.organizations import Scope
from events.services.tickets import TicketClaims, TicketSigner, strip_scanner_newline

# A scanner's clock may run a little fast; a scan "from the future" is taken as received.
MAX_CLOCK_SKEW = timedelta(minutes=5)

REASONS: dict[str, str] = {
    "ok": N_("Welcome, %(name)s."),
    "exit": N_("Goodbye, %(name)s."),
    "already_checked_in": N_("Already checked in at %(time)s, gate %(gate)s."),
    "already_checked_in_no_gate": N_("Already checked in at %(time)s."),
    "wrong_event": N_("This ticket is for another event: %(event)s."),
    "cancelled": N_("This registration was cancelled."),
    "event_cancelled": N_("This event was cancelled."),
    "revoked": N_("This ticket was replaced by a newer one; ask for the current ticket."),
    "invalid": N_("This is not a valid ticket."),
    "not_open_yet": N_("Check-in opens at %(time)s."),
    "closed": N_("Check-in closed at %(time)s."),
}


@dataclass(frozen=True, slots=True)
class Scan:
    code: str
    event_id: int
    scan_id: str | None = None
    gate: str | None = None
    device: str | None = None
    direction: Direction = Direction.ENTRY
    scanned_at: datetime | None = None
    offline: bool = False


@dataclass(slots=True)
class Outcome:
    result: CheckinResult
    reason: str  # English msgid from REASONS
    params: dict[str, Any] = field(default_factory=dict)
    registration: Registration | None = None
    first_checked_in_at: datetime | None = None
    first_gate: str | None = None
    replayed: bool = False
    # The event the door belongs to (a session, when a course pass is scanned there).
    at_event: Event | None = None
    # Training hours this check-in wrote to the broker's ledger.
    credit_hours: Decimal | None = None


def checkin_window(event: Event) -> tuple[datetime, datetime]:
    return (
        event.starts_at - timedelta(minutes=event.checkin_opens_minutes),
        event.ends_at + timedelta(minutes=event.checkin_closes_minutes),
    )


def _local_time(value: datetime, tz: zoneinfo.ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%H:%M")


async def redeem(
    scan: Scan,
    *,
    signer: TicketSigner,
    actor: str,
    tz: zoneinfo.ZoneInfo | None = None,
    scope: Scope | None = None,
    token: ApiToken | None = None,
) -> Outcome:
    """Check a scanned code in (or out) at ``scan.event_id``; never raises for a bad code.

    Results: ok, already_checked_in, wrong_event, cancelled, revoked, invalid, not_open_yet, closed.
    Raises ``scan_id_reused`` when ``actor`` already sent ``scan.scan_id`` with another scan. With
    ``scope`` (an API caller's), raises ``event_not_found`` unless it reaches the scan's event, and with
    ``token``, ``event_out_of_scope`` for a checker token limited to other events, before anything is
    written.
    """
    # A replayed scan_id is not looked up first: the unique (checker, scan_id) key refuses its second
    # write and the answer is then rebuilt from the stored scan, so only replays pay for it.
    received_at = clock.now()
    at = received_at if scan.scanned_at is None else min(scan.scanned_at, received_at + MAX_CLOCK_SKEW)
    at = min(at, received_at)
    tz = tz or localtime.zone()
    claims = signer.verify(scan.code)
    entered = None if claims is None else await _enter_at_once(scan, claims, at, received_at, actor, tz, scope, token)
    if entered is not None:
        metrics.CHECKINS.labels(str(entered.result)).inc()
        return entered
    # The ticket's registration with its event: at the door that event is the scan's, so one read
    # serves both the caller's scope and the judgement.
    registration = None if claims is None else await _ticket_registration(claims.registration_id)
    if scope is not None:
        if registration is not None and registration.event_id == scan.event_id:
            ownership.reached_event(registration.event, scope)
        else:
            await ownership.owned_event(scan.event_id, scope)
    if token is not None:
        tokens.require_event_scope(token, scan.event_id)
    outcome = await _judge(scan, claims, registration, at=at, tz=tz)
    if outcome.result == CheckinResult.OK and outcome.registration is not None:
        outcome = await _admit(scan, outcome, at=at, received_at=received_at, actor=actor, tz=tz)
    else:
        outcome = await _log(scan, outcome, at=at, received_at=received_at, actor=actor, tz=tz)
    if not outcome.replayed:  # a replayed scan id changed nothing: it was counted the first time
        metrics.CHECKINS.labels(str(outcome.result)).inc()
    return outcome


async def _enter_at_once(
    scan: Scan,
    claims: TicketClaims,
    at: datetime,
    received_at: datetime,
    actor: str,
    tz: zoneinfo.ZoneInfo,
    scope: Scope | None,
    token: ApiToken | None,
) -> Outcome | None:
    """PostgreSQL, an entry with a ticket of the scan's event: judged and written in one statement with
    the other scans' (``hot_path.admit_ticket``), the door's common case. None when that statement
    admitted nobody (a refusal, a repeat, a replayed scan id, a course session): the caller then reads,
    judges and answers as on SQLite."""
    pool = hot_path.postgres_pool()
    if (
        pool is None
        or scan.direction != Direction.ENTRY
        or claims.event_id != scan.event_id
        or (token is not None and not tokens.may_act_on_event(token, scan.event_id))
    ):
        return None
    entry = hot_path.Entry(
        registration_id=claims.registration_id,
        ticket_version=claims.version,
        event_id=scan.event_id,
        organization_id=None if scope is None else scope.organization_id,
        day=at.astimezone(tz).date(),
        scanned_at=at,
        gate=scan.gate,
        scan_id=scan.scan_id,
        device=scan.device,
        received_at=received_at,
        offline=scan.offline,
        code_digest=_code_digest(scan.code),
        checker=_checker(actor),
        actor=actor,
    )
    registration = await hot_path.admit_ticket(pool, entry)
    if registration is None:
        return None
    # The statement admits only what the judge admits; the judge words the welcome.
    outcome = await _judge(scan, claims, registration, at=at, tz=tz)
    outcome.first_checked_in_at, outcome.first_gate = at, scan.gate
    return outcome


async def _ticket_registration(registration_id: int) -> Registration | None:
    if (pool := hot_path.postgres_pool()) is not None:
        return await hot_path.ticket_registration(pool, registration_id)  # read with the other scans'
    return await get_one(Registration, related="event", id=registration_id)


async def _judge(
    scan: Scan, claims: TicketClaims | None, registration: Registration | None, *, at: datetime, tz: zoneinfo.ZoneInfo
) -> Outcome:
    if claims is None:
        return Outcome(CheckinResult.INVALID, REASONS["invalid"])
    if registration is None or registration.event_id != claims.event_id:
        return Outcome(CheckinResult.INVALID, REASONS["invalid"])
    event: Event = registration.event
    if claims.event_id != scan.event_id:
        # A course enrollment's ticket is the broker's pass at every session of the course.
        if not await courses.pass_admits(claims.event_id, scan.event_id):
            return Outcome(CheckinResult.WRONG_EVENT, REASONS["wrong_event"], {"event": event.title}, registration)
        if event.status == EventStatus.CANCELLED:
            return Outcome(CheckinResult.CANCELLED, REASONS["event_cancelled"], {}, registration)
        event = await Event.get(id=scan.event_id)
    if registration.status in (RegistrationStatus.CANCELLED, RegistrationStatus.REJECTED):
        return Outcome(CheckinResult.CANCELLED, REASONS["cancelled"], {}, registration)
    if event.status == EventStatus.CANCELLED:
        return Outcome(CheckinResult.CANCELLED, REASONS["event_cancelled"], {}, registration)
    if claims.version != registration.ticket_version:
        return Outcome(CheckinResult.REVOKED, REASONS["revoked"], {}, registration)
    if registration.status != RegistrationStatus.CONFIRMED:
        return Outcome(CheckinResult.INVALID, REASONS["invalid"], {}, registration)
    opens, closes = checkin_window(event)
    if at < opens:
        return Outcome(
            CheckinResult.NOT_OPEN_YET, REASONS["not_open_yet"], {"time": _when(opens, at, tz)}, registration
        )
    if at > closes:
        return Outcome(CheckinResult.CLOSED, REASONS["closed"], {"time": _when(closes, at, tz)}, registration)
    key = "exit" if scan.direction == Direction.EXIT else "ok"
    return Outcome(CheckinResult.OK, REASONS[key], {"name": registration.name}, registration, at_event=event)


def _when(moment: datetime, now: datetime, tz: zoneinfo.ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return local.strftime("%H:%M") if local.date() == now.astimezone(tz).date() else local.strftime("%Y-%m-%d %H:%M")


async def _admit(
    scan: Scan, outcome: Outcome, *, at: datetime, received_at: datetime, actor: str, tz: zoneinfo.ZoneInfo
) -> Outcome:
    registration = outcome.registration
    assert registration is not None
    day = at.astimezone(tz).date()
    if scan.direction == Direction.ENTRY:
        outcome.first_checked_in_at, outcome.first_gate = at, scan.gate
    try:
        async with in_transaction() as conn:
            if scan.direction == Direction.EXIT:
                await (
                    Attendance.filter(
                        registration_id=registration.id, event_id=scan.event_id, day=day, checked_out_at=None
                    )
                    .using_db(conn)
                    .update(checked_out_at=at)
                )
            else:
                await Attendance.create(
                    event_id=scan.event_id,
                    registration_id=registration.id,
                    day=day,
                    checked_in_at=at,
                    gate=scan.gate,
                    using_db=conn,
                )
            await CheckinScan.create(**_scan_row(scan, outcome, at, received_at, actor), using_db=conn)
            await activity.record(
                "checkin.ok" if scan.direction == Direction.ENTRY else "checkin.exit",
                actor=actor,
                event_id=scan.event_id,
                registration_id=registration.id,
                person_id=registration.person_id,
                using_db=conn,
                gate=scan.gate,
                offline=scan.offline,
            )
            if outcome.at_event is not None and outcome.at_event.kind == EventKind.TRAINING:
                written = await credits.credit_attendance(
                    conn,
                    event_id=scan.event_id,
                    registration=registration,
                    direction=scan.direction,
                    at=at,
                    day=day,
                    actor=actor,
                )
                if written is not None:
                    outcome.credit_hours = hours_of(written.entry.hours_tenths)
        return outcome
    except IntegrityError:
        # Either this person is already in today (another gate won), or this checker's scan_id was
        # just stored (a concurrent replay, or another scan under the same id). Whichever: answer
        # from what the database now holds.
        if (stored := await _stored_scan(scan, actor)) is not None:
            return await _replay_same(stored, scan, tz)
    return await _log(scan, outcome, at=at, received_at=received_at, actor=actor, tz=tz, day=day)


async def _log(
    scan: Scan,
    outcome: Outcome,
    *,
    at: datetime,
    received_at: datetime,
    actor: str,
    tz: zoneinfo.ZoneInfo,
    day: date | None = None,
) -> Outcome:
    """Record a scan that admitted nobody (a refusal, or a repeat of an entry)."""
    registration = outcome.registration
    if outcome.result == CheckinResult.OK and registration is not None:
        first = await Attendance.get(
            registration_id=registration.id, event_id=scan.event_id, day=day or at.astimezone(tz).date()
        )
        outcome = Outcome(
            CheckinResult.ALREADY_CHECKED_IN,
            _already_reason(first.gate),
            {"time": _local_time(first.checked_in_at, tz), "gate": first.gate or "-"},
            registration,
            first.checked_in_at,
            first.gate,
        )
    elif outcome.result == CheckinResult.OK:
        outcome = Outcome(CheckinResult.INVALID, REASONS["invalid"])
    try:
        await CheckinScan.create(**_scan_row(scan, outcome, at, received_at, actor))
    except IntegrityError:
        if (stored := await _stored_scan(scan, actor)) is not None:
            return await _replay_same(stored, scan, tz)
        raise
    return outcome


def _checker(actor: str) -> str:
    return actor[:100]


def _code_digest(code: str) -> str:
    return hashlib.sha256(strip_scanner_newline(code).encode("utf-8", "replace")).hexdigest()


async def _stored_scan(scan: Scan, actor: str) -> CheckinScan | None:
    if scan.scan_id is None:
        return None
    return await CheckinScan.get_or_none(checker=_checker(actor), scan_id=scan.scan_id)


async def _replay_same(stored: CheckinScan, scan: Scan, tz: zoneinfo.ZoneInfo) -> Outcome:
    """The stored answer if ``scan`` is the stored scan sent again; ``scan_id_reused`` if it is another."""
    same = (
        stored.event_id == scan.event_id
        and stored.code_digest == _code_digest(scan.code)
        and stored.direction == scan.direction
        and stored.gate == scan.gate
        and stored.device == scan.device
    )
    if not same:
        raise ScanIdReused()
    return await _replay(stored, tz)


def _already_reason(gate: str | None) -> str:
    return REASONS["already_checked_in"] if gate else REASONS["already_checked_in_no_gate"]


def _scan_row(scan: Scan, outcome: Outcome, at: datetime, received_at: datetime, actor: str) -> dict[str, Any]:
    return {
        "event_id": scan.event_id,
        "registration_id": outcome.registration.id if outcome.registration else None,
        "scan_id": scan.scan_id,
        "result": outcome.result,
        "direction": scan.direction,
        "gate": scan.gate,
        "device": scan.device,
        "scanned_at": at,
        "received_at": received_at,
        "offline": scan.offline,
        "code_digest": _code_digest(scan.code),
        "checker": _checker(actor),
        "first_checked_in_at": outcome.first_checked_in_at,
        "first_gate": outcome.first_gate,
    }


async def _replay(stored: CheckinScan, tz: zoneinfo.ZoneInfo) -> Outcome:
    """The answer a stored scan got, rebuilt; nothing is written."""
    registration = None
    if stored.registration_id is not None:
        registration = await Registration.get_or_none(id=stored.registration_id).select_related("event")
    result = CheckinResult(stored.result)
    params: dict[str, Any] = {}
    key = str(result)
    if result == CheckinResult.OK:
        key = "exit" if stored.direction == Direction.EXIT else "ok"
        params = {"name": registration.name if registration else ""}
    elif result == CheckinResult.ALREADY_CHECKED_IN and stored.first_checked_in_at is not None:
        params = {"time": _local_time(stored.first_checked_in_at, tz), "gate": stored.first_gate or "-"}
        return Outcome(
            result,
            _already_reason(stored.first_gate),
            params,
            registration,
            stored.first_checked_in_at,
            stored.first_gate,
            replayed=True,
        )
    elif result == CheckinResult.WRONG_EVENT and registration is not None:
        params = {"event": registration.event.title}
    elif result in (CheckinResult.NOT_OPEN_YET, CheckinResult.CLOSED) and registration is not None:
        opens, closes = checkin_window(registration.event)
        params = {"time": _when(opens if result == CheckinResult.NOT_OPEN_YET else closes, stored.scanned_at, tz)}
    return Outcome(
        result, REASONS[key], params, registration, stored.first_checked_in_at, stored.first_gate, replayed=True
    )


@dataclass(frozen=True, slots=True)
class EventStats:
    capacity: int | None
    confirmed: int
    waitlisted: int
    pending: int
    checked_in: int
    no_show: int | None
    arrivals: list[tuple[datetime, int]]


async def event_stats(event: Event, *, bucket_minutes: int = 5) -> EventStats:
    """Door figures: confirmed, checked in, no-shows once the event is over, arrivals per 5 minutes."""
    counts: Counter[RegistrationStatus] = Counter(
        cast(
            "list[RegistrationStatus]",
            await Registration.filter(event_id__in=await ticket_event_ids(event)).values_list("status", flat=True),
        )
    )
    arrivals_at = await Attendance.filter(event_id=event.id).values_list("checked_in_at", "registration_id")
    checked_in = len({reg_id for _, reg_id in arrivals_at})
    buckets: Counter[datetime] = Counter()
    for at, _ in arrivals_at:
        minute = at.minute - at.minute % bucket_minutes
        buckets[at.replace(minute=minute, second=0, microsecond=0)] += 1
    confirmed = counts.get(RegistrationStatus.CONFIRMED, 0)
    over = event.ends_at <= clock.now()
    return EventStats(
        capacity=event.capacity,
        confirmed=confirmed,
        waitlisted=counts.get(RegistrationStatus.WAITLISTED, 0),
        pending=counts.get(RegistrationStatus.PENDING, 0),
        checked_in=checked_in,
        no_show=max(0, confirmed - checked_in) if over else None,
        arrivals=sorted(buckets.items()),
    )


async def ticket_event_ids(event: Event) -> list[int]:
    """Events whose tickets open this event's door: its own, and for a course session the course's
    (an enrollment's ticket is the broker's pass to every session).
    """
    event_ids = [event.id]
    if event.kind == EventKind.TRAINING and (course_event_id := await courses.course_event_of_session(event.id)):
        event_ids.append(course_event_id)
    return event_ids


@dataclass(frozen=True, slots=True)
class OfflineEntry:
    registration_id: int
    name: str
    organization: str | None
    status: str
    ticket_version: int
    checked_in: bool


async def offline_list(event: Event) -> list[OfflineEntry]:
    """What a scanner needs to judge codes without the network: every registration's current
    ticket version and status (cancelled and re-issued codes are refused locally) and who is in.
    """
    inside = set(await Attendance.filter(event_id=event.id).values_list("registration_id", flat=True))
    rows = (
        await Registration.filter(event_id__in=await ticket_event_ids(event))
        .order_by("id")
        .values_list("id", "name", "organization", "status", "ticket_version")
    )
    return [
        OfflineEntry(rid, name, org, str(status), version, rid in inside) for rid, name, org, status, version in rows
    ]
