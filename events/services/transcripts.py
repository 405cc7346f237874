"""Read models of the training programme: one broker's transcript, and the organizer's broker list."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from tortoise.expressions import Q

from events import clock, localtime
from events.errors import N_, InvalidInput
from events.models import (
    ACTIVE_STATUSES,
    LEVEL_ORDER,
    Broker,
    BrokerLevel,
    Certification,
    CertificationState,
    Course,
    CourseItem,
    CreditEntry,
    Person,
    Registration,
    RegistrationStatus,
    hours_of,
)
from events.services import certification, credits, organizations, ownership, paging
from events.services.brokers import get_broker


@dataclass(frozen=True, slots=True)
class CourseStanding:
    course: Course
    enrollment_status: str | None  # confirmed, waitlisted, pending, cancelled … ; None: credit without enrollment
    hours: Decimal
    hours_offered: Decimal
    completed: bool


@dataclass(frozen=True, slots=True)
class Transcript:
    broker: Broker
    entries: list[CreditEntry]  # oldest first, course and item loaded
    balances: credits.Balances
    assessment: certification.Assessment
    certifications: list[Certification]
    courses: list[CourseStanding]
    generated_at: datetime


async def transcript(broker_id: int, *, tz: zoneinfo.ZoneInfo | None = None) -> Transcript:
    """Everything on a broker's record (years on the display zone's calendar). Raises ``broker_not_found``."""
    broker = await get_broker(broker_id)
    entries = await CreditEntry.filter(broker_id=broker_id).select_related("course", "item").order_by("earned_at", "id")
    lines = [certification.Line(e.earned_at, e.hours_tenths, e.course_id, e.item_id) for e in entries]
    held = await certification.held_by(broker_id)
    enrollments = await Registration.filter(person_id=broker.person_id, event__course__id__isnull=False).values_list(
        "event__course__id", "status", "id"
    )
    status_of: dict[int, str] = {}
    for course_id, status, _ in sorted(enrollments, key=lambda row: row[2]):
        # An active enrollment wins over an earlier withdrawn one.
        if course_id not in status_of or status in ACTIVE_STATUSES:
            status_of[course_id] = str(status)
    course_ids = set(status_of) | {line.course_id for line in lines if line.course_id is not None}
    required = await certification.required_items_of(course_ids)
    completed = certification.completed_course_codes(lines, required)
    assessment = certification.assess(lines, held, completed, certification.current_rules(), clock.now())
    balances = credits.balances_of(lines, tz or localtime.zone())
    offered = dict.fromkeys(course_ids, 0)
    for course_id, tenths in await CourseItem.filter(course_id__in=course_ids).values_list("course_id", "hours_tenths"):
        offered[course_id] += tenths
    course_rows = await Course.filter(id__in=course_ids).select_related("event").order_by("event__starts_at", "id")
    standings = [
        CourseStanding(
            course,
            status_of.get(course.id),
            balances.by_course.get(course.id, Decimal(0)),
            hours_of(offered[course.id]),
            course.code in completed,
        )
        for course in course_rows
    ]
    certs = await Certification.filter(broker_id=broker_id).order_by("certified_at", "id")
    return Transcript(broker, entries, balances, assessment, certs, standings, clock.now())


Sort = Literal["hours", "-hours", "name", "-name", "certified_at", "-certified_at", "created", "-created"]
SORTS: tuple[str, ...] = ("hours", "-hours", "name", "-name", "certified_at", "-certified_at", "created", "-created")


@dataclass(frozen=True, slots=True)
class BrokerQuery:
    district: str | None = None
    level: BrokerLevel | None = None
    status: str | None = None  # certified | expired | suspended | revoked | in_training
    specialty: str | None = None
    q: str | None = None
    course_id: int | None = None
    year: int | None = None
    sort: str = "-hours"
    limit: int | None = 50  # None: every matching broker (exports)
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class BrokerRow:
    broker: Broker
    person: Person
    hours: Decimal
    year_hours: Decimal | None
    level: BrokerLevel | None
    status: str
    certified_at: datetime | None
    expires_at: datetime | None
    highest_level: BrokerLevel | None


STATUSES = ("certified", "expired", "suspended", "revoked", "in_training")
LIST_NAME = "brokers"


async def list_brokers(
    query: BrokerQuery, *, tz: zoneinfo.ZoneInfo | None = None, scope: organizations.Scope = organizations.EVERYTHING
) -> paging.Page[BrokerRow]:
    """Brokers with their hours and standing, filtered and sorted (``-hours``: the leaderboard), a page
    at a time: a keyset over (the sort's value, id), ties by id ascending whichever way the sort runs.
    ``total`` counts every match. Raises ``invalid_input`` for an unknown sort or status, or a cursor
    not made for this list and sort (field ``cursor``).

    Filtering and sorting run on plain values (ids, names, sums); broker objects are loaded only for
    the page, and certifications for everyone only when a filter or the sort needs them. The sort
    values are computed (sums over the ledger), so the keyset is applied here rather than in SQL.
    """
    if query.sort not in SORTS:
        raise InvalidInput(N_("Unknown sort %(sort)s."), field="sort", sort=query.sort[:30])
    if query.status is not None and query.status not in STATUSES:
        raise InvalidInput(N_("Unknown status %(status)s."), field="status", status=query.status[:30])
    order = (query.sort, "id")
    position = paging.decode_cursor(LIST_NAME, order, query.cursor) if query.cursor else None
    qs = Broker.filter(ownership.broker_filter(scope))
    if query.district:
        qs = qs.filter(district=query.district)
    if query.course_id is not None:
        person_ids = await Registration.filter(
            event__course__id=query.course_id, status=RegistrationStatus.CONFIRMED
        ).values_list("person_id", flat=True)
        qs = qs.filter(person_id__in=list(person_ids))
    if query.q:
        qs = qs.filter(Q(person__name__icontains=query.q) | Q(organization__icontains=query.q))
    candidates: list[tuple[int, str, list[str]]] = await qs.values_list("id", "person__name", "specialties")
    if query.specialty:
        candidates = [c for c in candidates if query.specialty in (c[2] or [])]
    ids = [c[0] for c in candidates]
    # Past a few hundred ids an IN list costs more than reading every row.
    among = ids if len(ids) < 900 else None
    totals = await credits.totals_by_broker(among)
    year_totals = await credits.totals_by_broker(among, year=query.year, tz=tz) if query.year else None
    now = clock.now()
    key = query.sort.lstrip("-")
    needs_standing = query.status is not None or query.level is not None or key == "certified_at"
    held = await _held(among) if needs_standing else {}
    standings = {broker_id: certification.standing(held.get(broker_id, []), now) for broker_id in ids}
    if query.status is not None:
        ids = [i for i in ids if standings[i][1] == query.status]
    if query.level is not None:
        ids = [i for i in ids if standings[i][0] == query.level]
    names = {c[0]: c[1] for c in candidates}
    never = datetime.min.replace(tzinfo=now.tzinfo)

    def hours(broker_id: int) -> Decimal:
        source = year_totals if year_totals is not None else totals
        return source.get(broker_id, Decimal(0))

    sort_keys: dict[str, Any] = {
        "hours": hours,
        "name": lambda i: names[i],
        "certified_at": lambda i: standings[i][2] or never,
        "created": lambda i: i,
    }
    # Ties keep a stable order by id, whichever way the sort runs.
    value_of = sort_keys[key]
    descending = query.sort.startswith("-")
    ids.sort()
    ids.sort(key=value_of, reverse=descending)
    total = len(ids)
    if position is not None:
        ids = _after(ids, value_of, descending, position)
    page_ids = ids if query.limit is None else ids[: query.limit]
    more = query.limit is not None and len(ids) > query.limit
    if not needs_standing:
        held = await _held(page_ids if len(page_ids) < 900 else None)
    brokers = {b.id: b for b in await Broker.filter(id__in=page_ids).select_related("person")} if page_ids else {}
    rows: list[BrokerRow] = []
    for broker_id in page_ids:
        broker = brokers[broker_id]
        mine = held.get(broker_id, [])
        level, status, certified_at, expires_at = certification.standing(mine, now)
        rows.append(
            BrokerRow(
                broker,
                broker.person,
                totals.get(broker_id, Decimal(0)),
                None if year_totals is None else year_totals.get(broker_id, Decimal(0)),
                level,
                status,
                certified_at,
                expires_at,
                max((h.level for h in mine), key=LEVEL_ORDER.index) if mine else None,
            )
        )
    next_cursor = (
        paging.encode_cursor(LIST_NAME, order, [value_of(page_ids[-1]), page_ids[-1]]) if more and page_ids else None
    )
    return paging.Page(rows, next_cursor, total)


def _after(ids: list[int], value_of: Any, descending: bool, position: list[Any]) -> list[int]:
    """The ids (already in list order) past the cursor's (value, id), whether or not that broker is
    still listed (a stale cursor pages on)."""
    value, last_id = position

    def past(broker_id: int) -> bool:
        mine = value_of(broker_id)
        if mine == value:
            return bool(broker_id > last_id)
        return bool(mine < value if descending else mine > value)

    return [broker_id for broker_id in ids if past(broker_id)]


async def _held(broker_ids: list[int] | None) -> dict[int, list[certification.Held]]:
    """Certifications by broker: of these brokers, or of everyone (None)."""
    qs = Certification.all() if broker_ids is None else Certification.filter(broker_id__in=broker_ids)
    held: dict[int, list[certification.Held]] = {}
    for broker_id, level, rnd, at, expires, state in await qs.values_list(
        "broker_id", "level", "round", "certified_at", "expires_at", "state"
    ):
        held.setdefault(broker_id, []).append(
            certification.Held(BrokerLevel(level), rnd, at, expires, CertificationState(state))
        )
    return held
