"""The monthly brief (每月简报) for the programme office, and its half-year and year summaries.

``gather`` collects one period's facts as a typed ``Brief``: the plan's targets (the year so far, with
the forecast, and the period's own share), the period's events with their attendance, new demands and
how far they went, contracts, brokers certified, competitions' progress and the notable items. It
decides nothing about layout: ``reports/`` renders it (DOCX, printable HTML, charts) and translates
its English msgids.

A generated brief is kept (``stored_brief``): the office's copy is made once per month and handed out
through a capability link (``brief_token``) like a broker's transcript.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q, Subquery
from tortoise.functions import Count

from events import clock, localtime, secretbox
from events.errors import N_, InvalidInput
from events.models import (
    Achievement,
    Certification,
    Competition,
    Connection,
    Demand,
    DemandStatusChange,
    Entry,
    EntryStatus,
    Person,
    PersonRole,
    Role,
    Round,
    RoundStatus,
    StoredBrief,
    Transfer,
    TransferKind,
)
from events.services import dashboard, demand_status, goals
from events.services.goals import Span
from events.services.organizations import EVERYTHING, Scope

BRIEF_PURPOSE = "brief"
_PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-(H[12]))?$")


class InvalidPeriod(InvalidInput):
    code = "invalid_period"
    message = N_("A period is a month (2026-11), a half-year (2026-H1, 2026-H2) or a year (2026).")


@dataclass(frozen=True, slots=True)
class BriefPeriod:
    key: str  # "2026-11" | "2026-H1" | "2026"
    kind: str  # "month" | "half" | "year"
    year: int
    starts_at: datetime  # local midnight of the first day
    ends_at: datetime  # exclusive: local midnight after the last day
    month: int | None = None
    half: int | None = None


def parse_period(text: str) -> BriefPeriod:
    """``2026-11``, ``2026-H1``/``H2`` or ``2026``. Raises ``invalid_period``."""
    found = _PERIOD.match(text.strip()) if isinstance(text, str) else None
    if not found or not 2000 <= int(found.group(1)) <= 2100:
        raise InvalidPeriod(field="period")
    year, month, half = int(found.group(1)), found.group(2), found.group(3)
    if month:
        m = int(month)
        return BriefPeriod(
            f"{year}-{m:02d}", "month", year, dashboard.month_start(year, m), _month_after(year, m), month=m
        )
    if half:
        h = int(half[1])
        first = 1 if h == 1 else 7
        return BriefPeriod(
            f"{year}-H{h}", "half", year, dashboard.month_start(year, first), _month_after(year, first + 5), half=h
        )
    return BriefPeriod(str(year), "year", year, dashboard.month_start(year, 1), dashboard.month_start(year + 1, 1))


def _month_after(year: int, month: int) -> datetime:
    return dashboard.month_start(year + month // 12, month % 12 + 1)


def previous_month(moment: datetime) -> BriefPeriod:
    """The month before the local month holding ``moment``: the one the 1st's brief reports."""
    local = localtime.local(moment)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return parse_period(f"{year}-{month:02d}")


@dataclass(frozen=True, slots=True)
class KpiRow:
    key: str
    title: str  # English msgid
    unit: str  # English msgid
    target: int
    period: int  # counted in the period alone
    year_to_date: int  # from the programme year's start to the period's end
    forecast: int
    on_track: bool | None


@dataclass(frozen=True, slots=True)
class DemandFigures:
    new: int
    by_kind: dict[str, int]
    matched: int  # demands that reached "matched" (or a later step) in the period
    connections: int  # connections opened in the period
    contracted: int


@dataclass(frozen=True, slots=True)
class TransferLine:
    signed_on: date
    title: str
    mode: str
    amount_cny: Decimal
    major: bool
    contract_no: str | None


@dataclass(frozen=True, slots=True)
class CompetitionLine:
    title: str
    rounds: int
    rounds_closed: int  # by the period's end
    rounds_closed_in_period: int
    entries: int  # not withdrawn
    awarded: int


@dataclass(frozen=True, slots=True)
class Notable:
    key: str  # biggest_transfer | best_attended | overdue_demands
    message: str  # English msgid with %(…)s parameters
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Brief:
    period: BriefPeriod
    as_of: datetime  # the period's end, or now for a period still running
    generated_at: datetime
    kpis: list[KpiRow]
    sessions: list[dashboard.EventFigures]
    registrations: int
    checked_in: int
    demands: DemandFigures
    transfers: list[TransferLine]
    turnover_cny: Decimal
    brokers_certified: int
    brokers_by_level: dict[str, int]
    competitions: list[CompetitionLine]
    notable: list[Notable]
    months: list[dashboard.MonthRow]  # the year up to the period's end, for the trend chart
    districts: list[dashboard.DistrictRow]  # the period's


async def gather(period: BriefPeriod, *, scope: Scope = EVERYTHING) -> Brief:
    """The period's brief for what ``scope`` reaches, as of the period's end (or now, if earlier)."""
    now = clock.now()
    as_of = min(now, period.ends_at - timedelta(microseconds=1))
    span = Span(since=period.starts_at, until=as_of, scope=scope)
    year_start, _ = dashboard.programme_year(as_of)
    board = await dashboard.dashboard(as_of=as_of, scope=scope)
    in_period = {g.key: g.current for g in await goals.measure_goals(span)}
    kpis = [
        KpiRow(t.key, t.title, t.unit, t.target, in_period[t.key], t.current, t.forecast, t.on_track)
        for t in board.targets
    ]
    attendance = await dashboard.event_attendance(span)
    demands = await _demand_figures(span)
    transfers = await _transfers(span)
    certified = (
        await Certification.filter(goals.trained_brokers(span))
        .annotate(n=Count("id"))
        .group_by("level")
        .values_list("level", "n")
    )
    return Brief(
        period=period,
        as_of=as_of,
        generated_at=now,
        kpis=kpis,
        sessions=attendance,
        registrations=sum(e.registrations for e in attendance),
        checked_in=sum(e.checked_in for e in attendance),
        demands=demands,
        transfers=transfers,
        turnover_cny=await goals.turnover_cny(span),
        brokers_certified=await goals.count_trained(span),
        brokers_by_level={str(level): int(n) for level, n in certified},
        competitions=await _competitions(span),
        notable=await _notable(span, attendance, transfers),
        months=[m for m in board.months if m.month >= f"{year_start.year:04d}-01"],
        districts=await dashboard.district_table(span, attendance),
    )


async def _demand_figures(span: Span) -> DemandFigures:
    collected = goals.collected_demands(span)
    by_kind = dict(await Demand.filter(collected).annotate(n=Count("id")).group_by("kind").values_list("kind", "n"))
    in_scope = Subquery(Demand.filter(span.managed()).values("id"))

    async def reached(statuses: list[Any]) -> int:
        return await Demand.filter(
            id__in=Subquery(
                DemandStatusChange.filter(span.moments("at"), demand_id__in=in_scope, to_status__in=statuses).values(
                    "demand_id"
                )
            )
        ).count()

    return DemandFigures(
        new=sum(int(n) for n in by_kind.values()),
        by_kind={str(k): int(n) for k, n in by_kind.items()},
        matched=await reached(list(dashboard.MATCHED_OR_LATER)),
        connections=await Connection.filter(span.managed() & span.moments("created_at")).count(),
        contracted=await reached([demand_status.S.CONTRACTED]),
    )


async def _transfers(span: Span) -> list[TransferLine]:
    rows = (
        await Transfer.filter(goals.contracts(span, TransferKind.TECHNOLOGY))
        .order_by("signed_on", "id")
        .values_list("signed_on", "achievement__title", "demand__title", "mode", "amount_cny", "major", "contract_no")
    )
    return [
        TransferLine(
            signed_on=signed_on,
            title=achievement or demand or (contract_no or ""),
            mode=str(mode),
            amount_cny=Decimal(str(amount)),
            major=bool(major),
            contract_no=contract_no,
        )
        for signed_on, achievement, demand, mode, amount, major, contract_no in rows
    ]


async def _competitions(span: Span) -> list[CompetitionLine]:
    """Competitions of the scope under way by the period's end: rounds, entries, closed rounds, awards."""
    found = await Competition.filter(span.managed(), created_at__lte=span.until).order_by("id")
    if not found:
        return []
    ids = [c.id for c in found]
    closed = Q(closed_at__lte=span.until) & ~Q(status=RoundStatus.OPEN)
    rounds = dict(
        await Round.filter(competition_id__in=ids)
        .annotate(n=Count("id"))
        .group_by("competition_id")
        .values_list("competition_id", "n")
    )
    done = dict(
        await Round.filter(closed, competition_id__in=ids)
        .annotate(n=Count("id"))
        .group_by("competition_id")
        .values_list("competition_id", "n")
    )
    done_now = dict(
        await Round.filter(closed, span.moments("closed_at"), competition_id__in=ids)
        .annotate(n=Count("id"))
        .group_by("competition_id")
        .values_list("competition_id", "n")
    )
    entries = dict(
        await Entry.filter(competition_id__in=ids)
        .exclude(status=EntryStatus.WITHDRAWN)
        .annotate(n=Count("id"))
        .group_by("competition_id")
        .values_list("competition_id", "n")
    )
    awarded = dict(
        await Entry.filter(competition_id__in=ids, status=EntryStatus.AWARDED)
        .annotate(n=Count("id"))
        .group_by("competition_id")
        .values_list("competition_id", "n")
    )
    return [
        CompetitionLine(
            title=c.title,
            rounds=int(rounds.get(c.id, 0)),
            rounds_closed=int(done.get(c.id, 0)),
            rounds_closed_in_period=int(done_now.get(c.id, 0)),
            entries=int(entries.get(c.id, 0)),
            awarded=int(awarded.get(c.id, 0)),
        )
        for c in found
    ]


async def _notable(
    span: Span, attendance: list[dashboard.EventFigures], transfers: list[TransferLine]
) -> list[Notable]:
    items: list[Notable] = []
    if transfers:
        biggest = max(transfers, key=lambda t: (t.amount_cny, t.major))
        items.append(
            Notable(
                "biggest_transfer",
                N_("The biggest contract: %(title)s, %(amount)s ten thousand yuan, signed on %(date)s."),
                {"title": biggest.title, "amount": f"{biggest.amount_cny / 10_000:,.0f}", "date": biggest.signed_on},
            )
        )
    attended = [e for e in attendance if e.registrations]
    if attended:
        best = max(attended, key=lambda e: (e.checked_in, e.checked_in / e.registrations, -e.id))
        items.append(
            Notable(
                "best_attended",
                N_("The best-attended event: %(title)s, %(arrived)s of %(registered)s checked in."),
                {"title": best.title, "arrived": best.checked_in, "registered": best.registrations},
            )
        )
    overdue = await Demand.filter(
        span.managed(), follow_up_due__lt=span.until, status__in=list(demand_status.ACTIVE)
    ).count()
    if overdue:
        items.append(
            Notable(
                "overdue_demands",
                N_("%(count)s demands are overdue for a broker's follow-up."),
                {"count": overdue},
            )
        )
    key = await Achievement.filter(goals.key_achievements(span)).count()
    if key:
        items.append(
            Notable("key_achievements", N_("%(count)s achievements joined the key-results library."), {"count": key})
        )
    return items


# The office's stored copy ---------------------------------------------------------------------------


async def office_members() -> list[Person]:
    """Who the office's brief goes to: every person holding the admin role (the office's staff)."""
    return await Person.filter(id__in=Subquery(PersonRole.filter(role=Role.ADMIN).values("person_id"))).order_by("id")


def brief_token(stored: StoredBrief) -> str:
    """The token of the stored brief's download address, derived from its seed."""
    return secretbox.current().capability(BRIEF_PURPOSE, stored.seed)


async def stored_by_token(token: str) -> StoredBrief | None:
    """The stored brief behind a download token; None for a forged or unknown one."""
    seed = secretbox.current().seed_of(BRIEF_PURPOSE, token)
    return None if seed is None else await StoredBrief.get_or_none(seed=seed)


async def stored_brief(period: BriefPeriod) -> StoredBrief | None:
    return await StoredBrief.get_or_none(period=period.key)


async def keep_brief(period: BriefPeriod, docx: bytes, *, using_db: BaseDBAsyncClient) -> StoredBrief:
    """Keep the office's copy of ``period``'s brief, in the caller's transaction (with the messages
    that announce it). The period is unique: a second keeper (another process, a pass after a
    restart) gets an ``IntegrityError`` and its transaction, messages included, rolls back.
    """
    return await StoredBrief.create(
        period=period.key, seed=secretbox.new_seed(), docx=docx, generated_at=clock.now(), using_db=using_db
    )
