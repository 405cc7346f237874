"""The credit ledger: the only writer of ``credit_entry``. Every write takes the broker's lock,
appends one line, logs ``credit.granted`` and checks certification, all in one transaction.

Attendance and module credit are written once per broker and course item (``dedup_key``); a module
completion reported again with the same external id changes nothing.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from events import clock, localtime
from events.errors import (
    N_,
    AlreadyCredited,
    CourseItemNotFound,
    CourseNotFound,
    CreditEntryNotFound,
    ExternalIdReused,
    InvalidInput,
    NotEnrolled,
)
from events.models import (
    Attendance,
    Broker,
    Certification,
    Course,
    CourseItem,
    CreditEntry,
    CreditSource,
    Direction,
    ItemKind,
    Registration,
    RegistrationStatus,
    hours_of,
)
from events.services import activity, certification
from events.services.brokers import ensure_broker, get_broker, lock_broker

# One line may move at most this many hours: more is a typing mistake, not a course.
MAX_HOURS = Decimal(200)
# A reporter's clock may run a little fast.
CLOCK_SKEW = timedelta(minutes=5)


def tenths_of(hours: Any, *, field: str = "hours", allow_negative: bool = False) -> int:
    """Hours as given (number or string) → integer tenths. Raises ``invalid_input`` for what is not
    a number, has more than one decimal, is zero, negative (unless allowed) or absurd.
    """
    try:
        value = Decimal(str(hours))
    except (InvalidOperation, ValueError):
        raise InvalidInput(N_("Hours must be a number."), field=field) from None
    if not value.is_finite():
        raise InvalidInput(N_("Hours must be a number."), field=field)
    # Before quantizing: a huge number (1e400) cannot be quantized at all.
    if abs(value) > MAX_HOURS:
        raise InvalidInput(N_("At most %(max)s hours in one entry."), field=field, max=str(MAX_HOURS))
    if value != value.quantize(Decimal("0.1")):
        raise InvalidInput(N_("Hours are counted in tenths at most (e.g. 1.5)."), field=field)
    if value == 0 or (value < 0 and not allow_negative):
        raise InvalidInput(N_("Hours must be more than 0."), field=field)
    if abs(value) > MAX_HOURS:
        raise InvalidInput(N_("At most %(max)s hours in one entry."), field=field, max=str(MAX_HOURS))
    return int(value * 10)


_reason = certification.reason_text


@dataclass(frozen=True, slots=True)
class Written:
    entry: CreditEntry
    created: bool  # False: an earlier line answered the same report
    certified: list[Certification]
    # Certificates this line took below their level's line, or brought back over it.
    suspended: list[Certification] = field(default_factory=list)
    reinstated: list[Certification] = field(default_factory=list)


async def _append(
    conn: BaseDBAsyncClient,
    broker: Broker,
    *,
    tenths: int,
    source: CreditSource,
    actor: str,
    earned_at: datetime,
    course_id: int | None = None,
    item_id: int | None = None,
    event_id: int | None = None,
    registration_id: int | None = None,
    dedup_key: str | None = None,
    external_id: str | None = None,
    corrects_id: int | None = None,
    reason: str = "",
) -> Written:
    """Append a line; the caller holds the broker's lock (``lock_broker``)."""
    entry = await CreditEntry.create(
        broker_id=broker.id,
        hours_tenths=tenths,
        source=source,
        course_id=course_id,
        item_id=item_id,
        event_id=event_id,
        registration_id=registration_id,
        dedup_key=dedup_key,
        external_id=external_id,
        corrects_id=corrects_id,
        reason=reason,
        author=actor[:100],
        earned_at=earned_at,
        using_db=conn,
    )
    await activity.record(
        "credit.granted",
        actor=actor,
        event_id=event_id,
        registration_id=registration_id,
        person_id=broker.person_id,
        using_db=conn,
        broker_id=broker.id,
        entry_id=entry.id,
        source=str(source),
        hours=str(hours_of(tenths)),
        course_id=course_id,
        item_id=item_id,
        reason=reason,
    )
    changed = await certification.reassess(conn, broker, entry=entry, actor=actor)
    return Written(entry, True, changed.certified, changed.suspended, changed.reinstated)


def _item_key(item_id: int, broker_id: int) -> str:
    return f"item:{item_id}:broker:{broker_id}"


async def credit_attendance(
    conn: BaseDBAsyncClient,
    *,
    event_id: int,
    registration: Registration,
    direction: Direction,
    at: datetime,
    day: Any,
    actor: str,
) -> Written | None:
    """Called by check-in, inside its transaction, after an entry or exit was recorded at a training
    event. Writes the session's hours once per broker, if the person is enrolled in its course:
    at entry, or for a session that requires check-out, at the exit after the minimum stay.
    """
    item = await CourseItem.get_or_none(event_id=event_id, kind=ItemKind.SESSION, using_db=conn).select_related(
        "course"
    )
    if item is None:
        return None
    if item.requires_checkout != (direction == Direction.EXIT):
        return None
    person_id: int = registration.person_id
    course: Course = item.course
    if registration.event_id != course.event_id:
        enrolled = await (
            Registration.filter(event_id=course.event_id, person_id=person_id, status=RegistrationStatus.CONFIRMED)
            .using_db(conn)
            .exists()
        )
        if not enrolled:
            return None
    if direction == Direction.EXIT:
        entered = cast(
            "list[datetime]",
            await Attendance.filter(registration_id=registration.id, event_id=event_id, day=day)
            .using_db(conn)
            .values_list("checked_in_at", flat=True),
        )
        if not entered:
            return None
        stayed = (at - entered[0]).total_seconds() / 60
        if stayed < (item.min_stay_minutes or 0):
            return None
    broker = await ensure_broker(conn, person_id, actor=actor)
    broker = await lock_broker(conn, broker.id)
    key = _item_key(item.id, broker.id)
    if await CreditEntry.filter(dedup_key=key).using_db(conn).exists():
        return None
    return await _append(
        conn,
        broker,
        tenths=item.hours_tenths,
        source=CreditSource.ATTENDANCE,
        actor=actor,
        earned_at=at,
        course_id=course.id,
        item_id=item.id,
        event_id=event_id,
        registration_id=registration.id,
        dedup_key=key,
    )


async def complete_module(
    course_id: int,
    module_code: str,
    *,
    broker_id: int,
    external_id: str,
    completed_at: datetime | None,
    actor: str,
) -> Written:
    """A module finished online, as reported by an organizer or an integration.

    The same external id again: the first line, unchanged (``created`` False). Raises
    ``course_not_found``, ``course_item_not_found``, ``broker_not_found``, ``not_enrolled``,
    ``external_id_reused`` (the id names another broker or module), ``already_credited``
    (this module was credited under another external id), ``invalid_input``.
    """
    external_id = external_id.strip()
    if not external_id or len(external_id) > 100:
        raise InvalidInput(N_("An external id of 1 to 100 characters is required."), field="external_id")
    now = clock.now()
    at = now if completed_at is None else completed_at
    if at > now + CLOCK_SKEW:
        raise InvalidInput(N_("The completion time is in the future."), field="completed_at")
    course = await Course.get_or_none(id=course_id)
    if course is None:
        raise CourseNotFound()
    item = await CourseItem.get_or_none(course_id=course_id, code=module_code, kind=ItemKind.MODULE)
    if item is None:
        raise CourseItemNotFound(code=module_code[:64])
    await get_broker(broker_id)
    async with in_transaction() as conn:
        broker = await lock_broker(conn, broker_id)
        seen = await CreditEntry.get_or_none(external_id=external_id, using_db=conn)
        if seen is not None:
            if seen.broker_id != broker_id or seen.item_id != item.id:
                raise ExternalIdReused(external_id=external_id[:100])
            return Written(seen, False, [])
        enrollment = await (
            Registration.filter(
                event_id=course.event_id, person_id=broker.person_id, status=RegistrationStatus.CONFIRMED
            )
            .using_db(conn)
            .first()
        )
        if enrollment is None:
            raise NotEnrolled()
        key = _item_key(item.id, broker_id)
        if await CreditEntry.filter(dedup_key=key).using_db(conn).exists():
            raise AlreadyCredited(item=item.title)
        return await _append(
            conn,
            broker,
            tenths=item.hours_tenths,
            source=CreditSource.MODULE,
            actor=actor,
            earned_at=min(at, now),
            course_id=course.id,
            item_id=item.id,
            registration_id=enrollment.id,
            dedup_key=key,
            external_id=external_id,
        )


async def grant(
    broker_id: int,
    *,
    hours: Any,
    reason: str | None,
    actor: str,
    course_id: int | None = None,
    earned_at: datetime | None = None,
) -> Written:
    """An admin's manual grant (e.g. hours earned elsewhere). Raises ``broker_not_found``,
    ``course_not_found``, ``invalid_input`` (hours, reason, a date in the future).
    """
    tenths = tenths_of(hours)
    text = _reason(reason)
    now = clock.now()
    if earned_at is not None and earned_at > now + CLOCK_SKEW:
        raise InvalidInput(N_("The date earned is in the future."), field="earned_at")
    if course_id is not None and not await Course.exists(id=course_id):
        raise CourseNotFound()
    async with in_transaction() as conn:
        broker = await lock_broker(conn, broker_id)
        return await _append(
            conn,
            broker,
            tenths=tenths,
            source=CreditSource.GRANT,
            actor=actor,
            earned_at=min(earned_at or now, now),
            course_id=course_id,
            reason=text,
        )


async def correct(broker_id: int, *, entry_id: int, hours: Any, reason: str | None, actor: str) -> Written:
    """A correction line against one earlier line (signed hours; e.g. -2 to take back two hours).

    The corrected line's net may not go below zero, nor a correction be corrected. Raises
    ``broker_not_found``, ``credit_entry_not_found``, ``invalid_input``.
    """
    tenths = tenths_of(hours, allow_negative=True)
    text = _reason(reason)
    async with in_transaction() as conn:
        broker = await lock_broker(conn, broker_id)
        target = await CreditEntry.get_or_none(id=entry_id, broker_id=broker_id, using_db=conn)
        if target is None:
            raise CreditEntryNotFound(entry_id=entry_id)
        if target.source == CreditSource.CORRECTION:
            raise InvalidInput(N_("Correct the original entry, not a correction."), field="entry_id")
        earlier = cast(
            "list[int]",
            await CreditEntry.filter(corrects_id=entry_id).using_db(conn).values_list("hours_tenths", flat=True),
        )
        net = target.hours_tenths + sum(earlier)
        if net + tenths < 0:
            raise InvalidInput(
                N_("This would leave the entry below zero (it stands at %(hours)s hours)."),
                field="hours",
                hours=str(hours_of(net)),
            )
        if abs(net + tenths) > MAX_HOURS * 10:
            raise InvalidInput(N_("At most %(max)s hours in one entry."), field="hours", max=str(MAX_HOURS))
        return await _append(
            conn,
            broker,
            tenths=tenths,
            source=CreditSource.CORRECTION,
            actor=actor,
            earned_at=target.earned_at,
            course_id=target.course_id,
            item_id=target.item_id,
            event_id=target.event_id,
            corrects_id=target.id,
            reason=text,
        )


async def get_entry(entry_id: int) -> CreditEntry:
    """One ledger line with its course and item loaded (for showing it). Raises ``credit_entry_not_found``."""
    entry = await CreditEntry.get_or_none(id=entry_id).select_related("course", "item")
    if entry is None:
        raise CreditEntryNotFound(entry_id=entry_id)
    return entry


@dataclass(frozen=True, slots=True)
class Balances:
    total: Decimal
    by_course: dict[int | None, Decimal]
    by_year: dict[int, Decimal]


def balances_of(lines: list[certification.Line], tz: zoneinfo.ZoneInfo) -> Balances:
    """Derived from the lines, every time."""
    by_course: dict[int | None, int] = defaultdict(int)
    by_year: dict[int, int] = defaultdict(int)
    for line in lines:
        by_course[line.course_id] += line.tenths
        by_year[certification.local_year(line.earned_at, tz)] += line.tenths
    return Balances(
        hours_of(sum(line.tenths for line in lines)),
        {course: hours_of(t) for course, t in by_course.items()},
        {year: hours_of(t) for year, t in sorted(by_year.items())},
    )


async def totals_by_broker(
    broker_ids: list[int] | None = None, *, year: int | None = None, tz: zoneinfo.ZoneInfo | None = None
) -> dict[int, Decimal]:
    """Each broker's balance, one grouped query (for lists and rankings)."""
    qs = CreditEntry.all()
    if broker_ids is not None:
        qs = qs.filter(broker_id__in=broker_ids)
    if year is not None:
        zone = tz or localtime.zone()
        start = datetime(year, 1, 1, tzinfo=zone)
        qs = qs.filter(earned_at__gte=start, earned_at__lt=datetime(year + 1, 1, 1, tzinfo=zone))
    rows = await qs.annotate(tenths=Sum("hours_tenths")).group_by("broker_id").values_list("broker_id", "tenths")
    return {broker_id: hours_of(int(tenths or 0)) for broker_id, tenths in rows}
