"""The programme office's figures: the plan's targets with a forecast at the current pace, the
districts side by side, the year month by month, and the funnels from a registration to a check-in
and from a demand to a contract.

Everything is counted as of a moment (``as_of``, default now) over the programme year that holds it:
the local calendar year, since the plan's targets are yearly (60 sessions a year) and its reports run
January to December. Every figure is an aggregate query, or a pass over the year's events (hundreds),
never over registrations (hundreds of thousands). The goal figures are ``goals``' own counting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from events import clock, localtime
from events.districts import DISTRICTS
from events.errors import N_
from events.models import (
    Activity,
    Attendance,
    Certification,
    Connection,
    CourseItem,
    Demand,
    DemandStatus,
    DemandStatusChange,
    Event,
    EventStatus,
    ItemKind,
    Registration,
    RegistrationStatus,
    Transfer,
)
from events.services import courses, goals
from events.services.goals import Span
from events.services.organizations import EVERYTHING, Scope
from events.services.ownership import event_filter

NO_DISTRICT = N_("No district")


def end_of_day(day: date) -> datetime:
    """The last moment of a local day: a dashboard asked "as of 30 June" counts all of 30 June."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=localtime.zone()) - timedelta(
        microseconds=1
    )


@dataclass(frozen=True, slots=True)
class Target:
    """One target of the plan: the year's figure so far and where the year's pace takes it."""

    key: str
    title: str  # English msgid; transports translate
    unit: str
    target: int
    current: int  # counted from the programme year's start to as_of
    forecast: int  # current / elapsed share of the year, rounded: the figure at the year's end at this pace
    on_track: bool | None  # forecast ≥ target; None where the plan sets no figure


@dataclass(frozen=True, slots=True)
class DistrictRow:
    code: str | None  # None: records that name no district
    sessions_held: int
    registrations: int  # confirmed, in the district's events held so far this year
    checked_in: int
    checkin_rate: float | None  # checked_in / registrations; None without registrations
    demands: int
    brokers: int  # brokers of the district trained (certified) this year


@dataclass(frozen=True, slots=True)
class MonthRow:
    month: str  # "2026-11", local time
    sessions: int
    registrations: int  # confirmed, in the events that started in the month
    checkins: int
    demands: int
    connections: int
    transfers: int
    brokers_certified: int


@dataclass(frozen=True, slots=True)
class FunnelStep:
    key: str
    label: str  # English msgid
    count: int


@dataclass(frozen=True, slots=True)
class Funnel:
    key: str
    title: str  # English msgid
    steps: list[FunnelStep]


@dataclass(frozen=True, slots=True)
class Dashboard:
    as_of: datetime
    year: int
    year_starts_at: datetime
    year_ends_at: datetime
    elapsed: float  # share of the year gone by at as_of, 0..1
    targets: list[Target]
    districts: list[DistrictRow]
    months: list[MonthRow]
    funnels: list[Funnel]


def month_start(year: int, month: int) -> datetime:
    """Local midnight on the month's first day (aware, local zone)."""
    return datetime(year, month, 1, tzinfo=localtime.zone())


def months_between(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The local months from ``start`` (a local month start) up to ``end`` (exclusive), as pairs."""
    out = []
    current = localtime.local(start)
    while current < end:
        following = month_start(current.year + current.month // 12, current.month % 12 + 1)
        out.append((current, following))
        current = following
    return out


def programme_year(as_of: datetime) -> tuple[datetime, datetime]:
    year = localtime.local(as_of).year
    return month_start(year, 1), month_start(year + 1, 1)


def forecast(current: int, elapsed: float) -> int:
    """The figure at the year's end if the pace so far holds: linear from the year's start."""
    if elapsed <= 0:
        return current
    return round(current / elapsed)


async def dashboard(*, as_of: datetime | None = None, scope: Scope = EVERYTHING) -> Dashboard:
    """The office's figures as of ``as_of`` (default now) for what ``scope`` reaches."""
    as_of = as_of or clock.now()
    starts, ends = programme_year(as_of)
    elapsed = min(1.0, max(0.0, (as_of - starts) / (ends - starts)))
    span = Span(since=starts, until=as_of, scope=scope)
    targets = [
        Target(
            key=g.key,
            title=g.title,
            unit=g.unit,
            target=g.target,
            current=g.current,
            forecast=forecast(g.current, elapsed),
            on_track=(forecast(g.current, elapsed) >= g.target) if g.target else None,
        )
        for g in await goals.measure_goals(span)
    ]
    attendance = await event_attendance(span)
    return Dashboard(
        as_of=as_of,
        year=starts.year,
        year_starts_at=starts,
        year_ends_at=ends,
        elapsed=elapsed,
        targets=targets,
        districts=await district_table(span, attendance),
        months=await month_table(
            span, months_between(starts, min(ends, as_of + timedelta(microseconds=1))), attendance
        ),
        funnels=await funnels(span, attendance),
    )


@dataclass(frozen=True, slots=True)
class EventFigures:
    id: int
    title: str
    district: str | None
    series: str | None
    starts_at: datetime
    ends_at: datetime
    venue: str
    capacity: int | None
    registrations: int
    checked_in: int
    held: bool  # a 武创荟 session counted as held (goals' rule)


async def event_attendance(span: Span) -> list[EventFigures]:
    """The span's events that took place (started in it, not cancelled or draft), with their confirmed
    registrations and check-ins: a few grouped queries, whatever the number of registrations.
    """
    where = (
        event_filter(span.scope)
        & span.moments("starts_at")
        & Q(status__in=[EventStatus.PUBLISHED, EventStatus.FINISHED])
    )
    events = await Event.filter(where).order_by("starts_at", "id")
    if not events:
        return []
    ids = [e.id for e in events]
    # A course's own (enrollment) event is no gathering when it has sessions: its enrollees are
    # expected at each session instead, where their course pass opens the door (as the reminders do).
    enrollment_events = await courses.courses_with_sessions(ids)
    events = [e for e in events if e.id not in enrollment_events]
    course_of: dict[int, int] = dict(
        await CourseItem.filter(event_id__in=ids, kind=ItemKind.SESSION).values_list("event_id", "course__event_id")
    )
    registered = await _grouped(
        Registration.filter(event_id__in=[*ids, *set(course_of.values())], status=RegistrationStatus.CONFIRMED),
        "event_id",
    )
    # A registration attends once per day of a multi-day event: count people, not days.
    arrived = await _grouped(
        Attendance.filter(event_id__in=ids, checked_in_at__lte=span.until),
        "event_id",
        "registration_id",
        distinct=True,
    )
    held_ids: set[Any] = set(await Event.filter(goals.held_sessions(span)).values_list("id", flat=True))
    return [
        EventFigures(
            id=e.id,
            title=e.title,
            district=e.district,
            series=e.series,
            starts_at=e.starts_at,
            ends_at=e.ends_at,
            venue=e.venue,
            capacity=e.capacity,
            registrations=registered.get(e.id, 0) + registered.get(course_of.get(e.id, 0), 0),
            checked_in=arrived.get(e.id, 0),
            held=e.id in held_ids,
        )
        for e in events
    ]


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


async def _grouped(query: QuerySet[Any], key: str, field: str = "id", *, distinct: bool = False) -> dict[Any, int]:
    rows = await query.annotate(n=Count(field, distinct=distinct)).group_by(key).values_list(key, "n")
    return {k: int(n) for k, n in rows}


async def district_table(span: Span, attendance: list[EventFigures]) -> list[DistrictRow]:
    """One row per district and zone (the 1+15+60 grid's middle), plus one for records naming none when
    there are any. Sessions: 武创荟 held; the rest counts every event that took place.
    """
    demands = await _grouped(Demand.filter(goals.collected_demands(span)), "district")
    brokers = await _grouped(
        Certification.filter(goals.trained_brokers(span)), "broker__district", "broker_id", distinct=True
    )
    rows = []
    for code in [d.code for d in DISTRICTS] + [None]:
        events = [e for e in attendance if e.district == code]
        registrations = sum(e.registrations for e in events)
        checked_in = sum(e.checked_in for e in events)
        row = DistrictRow(
            code=code,
            sessions_held=sum(1 for e in events if e.held),
            registrations=registrations,
            checked_in=checked_in,
            checkin_rate=rate(checked_in, registrations),
            demands=demands.get(code, 0),
            brokers=brokers.get(code, 0),
        )
        if code is not None or any((row.sessions_held, row.registrations, row.demands, row.brokers)):
            rows.append(row)
    return rows


def _by_month(query: QuerySet[Any], field: str, months: list[tuple[datetime, datetime]], *, dates: bool = False) -> Any:
    """One query: a conditional count per month (``m0``, ``m1`` …) over ``field``."""

    def bounds(start: datetime, end: datetime) -> tuple[datetime | date, datetime | date]:
        return (start.date(), end.date()) if dates else (start, end)

    counts = {}
    for i, (start, end) in enumerate(months):
        low, high = bounds(start, end)
        counts[f"m{i}"] = Count("id", _filter=goals.where(f"{field}__gte", low) & goals.where(f"{field}__lt", high))
    return query.annotate(**counts).first().values(*counts)


async def _monthly(
    query: QuerySet[Any], field: str, months: list[tuple[datetime, datetime]], *, dates: bool = False
) -> list[int]:
    if not months:
        return []
    row = await _by_month(query, field, months, dates=dates) or {}
    return [int(row.get(f"m{i}") or 0) for i in range(len(months))]


async def month_table(
    span: Span, months: list[tuple[datetime, datetime]], attendance: list[EventFigures]
) -> list[MonthRow]:
    """The span's months side by side: attendance by the month each event started in."""
    sessions = await _monthly(Event.filter(goals.held_sessions(span)), "ends_at", months)
    demands = await _monthly(Demand.filter(goals.collected_demands(span)), "created_at", months)
    connections = await _monthly(Connection.filter(span.managed() & span.moments("created_at")), "created_at", months)
    transfers = await _monthly(Transfer.filter(goals.contracts(span)), "signed_on", months, dates=True)
    certified = await _monthly(Certification.filter(goals.trained_brokers(span)), "certified_at", months)
    rows = []
    for i, (start, end) in enumerate(months):
        events = [e for e in attendance if start <= e.starts_at < end]
        rows.append(
            MonthRow(
                month=f"{start.year:04d}-{start.month:02d}",
                sessions=sessions[i],
                registrations=sum(e.registrations for e in events),
                checkins=sum(e.checked_in for e in events),
                demands=demands[i],
                connections=connections[i],
                transfers=transfers[i],
                brokers_certified=certified[i],
            )
        )
    return rows


# A demand counts as matched once it reached a step past "open" on the road to a contract.
MATCHED_OR_LATER = [DemandStatus.MATCHED, DemandStatus.IN_TALKS, DemandStatus.CONTRACTED]


async def funnels(span: Span, attendance: list[EventFigures]) -> list[Funnel]:
    """Registration → check-in over the span's events; demand → matched → connection → contract over the
    demands gathered in the span, each step as of the span's end.
    """
    registered = sum(e.registrations for e in attendance)
    arrived = sum(e.checked_in for e in attendance)
    demands = Demand.filter(goals.collected_demands(span))
    ids = Subquery(Demand.filter(goals.collected_demands(span)).values("id"))
    matched = await Demand.filter(
        id__in=Subquery(
            DemandStatusChange.filter(demand_id__in=ids, to_status__in=MATCHED_OR_LATER, at__lte=span.until).values(
                "demand_id"
            )
        )
    ).count()
    connected = await Demand.filter(
        id__in=Subquery(Connection.filter(demand_id__in=ids, created_at__lte=span.until).values("demand_id"))
    ).count()
    contracted = await Demand.filter(
        Q(
            id__in=Subquery(
                Transfer.filter(demand_id__in=ids, signed_on__lte=localtime.local(span.until).date()).values(
                    "demand_id"
                )
            )
        )
        | Q(
            id__in=Subquery(
                DemandStatusChange.filter(
                    demand_id__in=ids, to_status=DemandStatus.CONTRACTED, at__lte=span.until
                ).values("demand_id")
            )
        )
    ).count()
    return [
        Funnel(
            "attendance",
            N_("Registration → check-in"),
            [
                FunnelStep("registered", N_("Registered (confirmed)"), registered),
                FunnelStep("checked_in", N_("Checked in"), arrived),
            ],
        ),
        Funnel(
            "demands",
            N_("Demand → match → connection → contract"),
            [
                FunnelStep("demands", N_("Demands collected"), await demands.count()),
                FunnelStep("matched", N_("Matched"), matched),
                FunnelStep("connected", N_("Connected"), connected),
                FunnelStep("contracted", N_("Contracted"), contracted),
            ],
        ),
    ]


# --- a short memo for pages that open the dashboard often ----------------------------------------------------

MEMO_SECONDS = 60
_memo: dict[tuple[int | None, datetime], tuple[int, datetime, Dashboard]] = {}


async def _last_fact() -> int:
    """The newest activity line's id: every change the figures count is recorded there (registrations,
    check-ins, demand moves, connections, certificates, transfers), in the transaction that made it."""
    row = await Activity.all().order_by("-id").only("id").first()
    return row.id if row is not None else 0


async def recent_dashboard(*, as_of: datetime | None = None, scope: Scope = EVERYTHING) -> Dashboard:
    """``dashboard`` as a console page shows it: "now" is taken to the minute, and the figures are
    reused while no new fact has been recorded (one indexed query) for at most ``MEMO_SECONDS`` — so a
    change is on the page at its next load, and a change nothing records within a minute. The memo is
    this process's; the fact it keys on is the database's, shared by every worker."""
    now = clock.now()
    moment = as_of or now.replace(second=0, microsecond=0)
    key = (scope.organization_id, moment)
    fact = await _last_fact()
    held = _memo.get(key)
    if held is not None and held[0] == fact and now - held[1] < timedelta(seconds=MEMO_SECONDS):
        return held[2]
    board = await dashboard(as_of=moment if as_of else now, scope=scope)
    if len(_memo) > 256:
        _memo.clear()
    _memo[key] = (fact, now, board)
    return board
