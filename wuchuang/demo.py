"""A realistic year of the programme, loaded once through the real domain services.

``load_demo()`` creates the year's 60 武创荟 sessions, the 武创源 and 英雄杯 competitions, 产医融合 fairs,
roadshows and technology-broker courses, and registers a few thousand invented people for them, all
through ``catalog`` and ``registration`` — so seat counters, waitlists and the activity log are exactly what
real use would have produced. Dates are relative to the current year of ``events.clock.now()``.

Past events get their registrations by moving ``events.clock`` back to a time inside their registration
window; the clock is restored afterwards. The clock is process-wide, so load the demo before serving,
not beside live traffic. The whole load is one transaction: it happens completely or not at all.
"""

from __future__ import annotations

import calendar
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from events import clock
from events.models import Event, EventKind, RegistrationStatus
from events.services.catalog import EventInput, cancel_event, create_event, publish_event
from events.services.registration import (
    Applicant,
    approve_registration,
    cancel_registration,
    register,
    reject_registration,
)
from wuchuang import demo_data as data

ACTOR = "demo"
SEED = 2026
LOCAL = ZoneInfo("Asia/Shanghai")
SESSION_SERIES = "wuchuanghui"
PEOPLE = 1500

# 60 sessions over February–December: fewer around the Spring Festival and in the summer holidays.
SESSIONS_PER_MONTH: dict[int, int] = {2: 3, 3: 6, 4: 6, 5: 6, 6: 6, 7: 5, 8: 4, 9: 6, 10: 6, 11: 6, 12: 6}
SESSION_CAPACITIES: tuple[int, ...] = (80, 80, 100, 100, 120, 120, 150, 150, 200, 300)
# Days kept free of sessions: Spring Festival, May Day, National Day, the year's end.
BLOCKED_DAYS: dict[int, range] = {2: range(1, 20), 5: range(1, 6), 10: range(1, 9), 12: range(26, 32)}


@dataclass(frozen=True, slots=True)
class DemoSummary:
    events_created: int
    registrations_created: int
    already_loaded: bool


@dataclass(frozen=True, slots=True)
class _Person:
    name: str
    phone: str
    organization: str
    email: str | None

    def applicant(self) -> Applicant:
        return Applicant(name=self.name, phone=self.phone, organization=self.organization, email=self.email)


@dataclass(frozen=True, slots=True)
class _Plan:
    """One event to create and what happens to it."""

    event: EventInput
    registrations: int
    publish: bool = True
    cancel_reason: str | None = None  # cancel the event once its registrations are in
    waitlist_extra: int = 0  # > 0: over-subscribed on purpose, then one confirmed seat is given back


class _SimClock:
    """The clock the services read during the load; the loader moves it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


async def load_demo() -> DemoSummary:
    """Load the demo programme unless it is already there (any event created by ``demo``)."""
    if await Event.filter(created_by=ACTOR).exists():
        return DemoSummary(events_created=0, registrations_created=0, already_loaded=True)
    now = clock.now()
    rng = random.Random(SEED)
    plans = sorted(_sessions(now, rng) + _occasions(now, rng), key=lambda p: p.event.starts_at)
    loader = _Loader(now, rng, _people(rng, PEOPLE))
    previous = clock._now  # restored below: a test's frozen clock survives the load
    clock.set_clock(loader.clock)
    try:
        async with in_transaction():
            for plan in plans:
                await loader.load(plan)
    finally:
        clock.set_clock(previous)
    extra = await _telegram_people(now)
    return DemoSummary(
        events_created=loader.events + 1, registrations_created=loader.registrations + extra, already_loaded=False
    )


# Chat ids of demo people on Telegram. Without a bot token their messages (confirmations,
# reminders, invitations) appear in the console channel, so the whole flow can be watched locally.
TELEGRAM_PEOPLE = (
    (700000001, "周晓明", "zh", ["donghu_gaoxin", "hongshan"], ["人工智能", "光电子信息"]),
    (700000002, "Chen Yu", "en", [], ["生物医药", "数字医疗"]),
    (700000003, "黄丽", "zh", ["wuchang"], []),
)


async def _telegram_people(now: datetime) -> int:
    from events.models import EventStatus, Person
    from events.services import catalog
    from events.services.registration import Applicant, register

    # A small salon within the next day, so the console shows a reminder as soon as the demo starts.
    soon = (now + timedelta(hours=20)).replace(minute=0, second=0, microsecond=0)
    salon = await catalog.create_event(
        catalog.EventInput(
            title="技术经理人沙龙·成果转化实务交流",
            kind="training",
            series="jishu-jingliren",
            district="hongshan",
            starts_at=soon,
            ends_at=soon + timedelta(hours=2),
            venue="武汉产业创新发展研究院·路演厅",
            capacity=40,
            host="武汉产业创新发展研究院",
            tags=["技术经理人", "成果转化"],
            description="面向技术经理人的实务交流：作价入股、许可定价与尽职调查的常见问题。",
        ),
        actor=ACTOR,
    )
    await catalog.publish_event(salon.id, actor=ACTOR)
    upcoming = [
        salon,
        *await Event.filter(status=EventStatus.PUBLISHED, starts_at__gt=now)
        .exclude(id=salon.id)
        .order_by("starts_at")
        .limit(3),
    ]
    made = 0
    for index, (telegram_id, name, language, districts, topics) in enumerate(TELEGRAM_PEOPLE):
        await Person.create(
            name=name,
            telegram_id=telegram_id,
            language=language,
            phone=f"1700000000{index}",
            pref_districts=districts,
            pref_topics=topics,
        )
        for event in upcoming[index : index + 2]:
            try:
                await register(
                    event.id,
                    Applicant(name=name, phone=f"1700000000{index}", telegram_id=telegram_id),
                    actor=ACTOR,
                    source="api",
                    issue_secret=False,
                )
                made += 1
            except Exception:  # a full event without waitlist or a closed window: the demo goes on
                continue
    return made


class _Loader:
    def __init__(self, now: datetime, rng: random.Random, people: list[_Person]) -> None:
        self.now = now
        self.rng = rng
        self.people = people
        self.clock = _SimClock(now)
        self.events = 0
        self.registrations = 0

    async def load(self, plan: _Plan) -> None:
        spec = plan.event
        event = await create_event(spec, actor=ACTOR)
        self.events += 1
        if not plan.publish:
            if plan.cancel_reason is not None:  # only when no session is left ahead to call off
                self.clock.at = self.now
                await cancel_event(event.id, actor=ACTOR, reason=plan.cancel_reason)
            return
        # Published three weeks (sessions) or six weeks ahead, and in any case before now.
        lead = timedelta(days=21 if spec.kind == EventKind.SESSION else 42)
        published = min(self.now - timedelta(days=2), spec.starts_at - lead)
        self.clock.at = published
        await publish_event(event.id, actor=ACTOR)

        # Registrations arrive over the window, never later than now.
        opens = max(published + timedelta(hours=1), spec.registration_opens_at or published)
        closes = min(self.now, spec.registration_closes_at or spec.starts_at) - timedelta(minutes=30)
        span = (closes - opens).total_seconds()
        times = sorted(
            _daytime(opens + timedelta(seconds=span * self.rng.random()), closes) for _ in range(plan.registrations)
        )
        done: list[tuple[int, datetime]] = []
        for person, at in zip(self.rng.sample(self.people, plan.registrations), times, strict=True):
            self.clock.at = at
            result = await register(event.id, person.applicant(), actor=ACTOR, source="demo", issue_secret=False)
            done.append((result.registration.id, at))
        self.registrations += len(done)

        def later(at: datetime, low_hours: float, high_hours: float) -> datetime:
            return min(at + timedelta(hours=self.rng.uniform(low_hours, high_hours)), closes)

        confirmed = done
        if spec.requires_approval and done:
            confirmed = await self._decide(done, past=spec.starts_at <= self.now, later=later)
        if plan.cancel_reason is not None:
            self.clock.at = self.now
            await cancel_event(event.id, actor=ACTOR, reason=plan.cancel_reason)
        elif plan.waitlist_extra:
            # Give one seat back just before registration closes: the head of the waitlist moves up.
            self.clock.at = closes
            await cancel_registration(done[3][0], actor=ACTOR, reason="行程冲突")
        else:
            # A few people drop out, as they do.
            for registration_id, at in self.rng.sample(confirmed, round(len(confirmed) * self.rng.uniform(0, 0.05))):
                self.clock.at = later(at, 24, 240)
                await cancel_registration(registration_id, actor=ACTOR)

    async def _decide(
        self, done: list[tuple[int, datetime]], *, past: bool, later: Callable[[datetime, float, float], datetime]
    ) -> list[tuple[int, datetime]]:
        """Approve most applications and reject a few; on an upcoming event some stay pending.

        Returns the approved ones that got a seat.
        """
        order = list(done)
        self.rng.shuffle(order)
        rejected = max(1, round(len(order) * 0.03)) if len(order) >= 10 else 0
        approved = len(order) - rejected if past else round(len(order) * 0.6)
        for registration_id, at in order[approved : approved + rejected]:
            self.clock.at = later(at, 2, 48)
            await reject_registration(registration_id, actor=ACTOR, reason=self.rng.choice(data.REJECT_REASONS))
        seated: list[tuple[int, datetime]] = []
        for registration_id, at in sorted(order[:approved], key=lambda item: item[1]):
            self.clock.at = later(at, 2, 48)
            result = await approve_registration(registration_id, actor=ACTOR)
            if result.registration.status == RegistrationStatus.CONFIRMED:
                seated.append((registration_id, at))
        return seated


def _at(day: date, hhmm: str) -> datetime:
    """Local (Wuhan) wall time on ``day``, as UTC."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL).astimezone(UTC)


def _daytime(at: datetime, limit: datetime) -> datetime:
    """Few people register between midnight and 7 in the morning: move such a time into the day."""
    return min(at + timedelta(hours=8), limit) if at.astimezone(LOCAL).hour < 7 else at


def _session_days(year: int, rng: random.Random) -> list[date]:
    """Tuesday–Friday dates, spread evenly within each month, avoiding the holidays."""
    days: list[date] = []
    for month, count in SESSIONS_PER_MONTH.items():
        blocked = BLOCKED_DAYS.get(month, range(0))
        free = [
            date(year, month, d)
            for d in range(1, calendar.monthrange(year, month)[1] + 1)
            if d not in blocked and date(year, month, d).weekday() in (1, 2, 3, 4)
        ]
        for i in range(count):  # one day from each of `count` even slices of the month
            days.append(rng.choice(free[i * len(free) // count : (i + 1) * len(free) // count]))
    return days


def _theme_deck(rng: random.Random) -> Iterator[data.Theme]:
    while True:
        deck = list(data.THEMES)
        rng.shuffle(deck)
        yield from deck


def _sessions(now: datetime, rng: random.Random) -> list[_Plan]:
    year = now.astimezone(LOCAL).year
    days = _session_days(year, rng)
    districts = [code for code, share in data.DISTRICT_SHARES.items() for _ in range(share)]
    assert len(days) == len(districts) == 60
    rng.shuffle(districts)
    deck = _theme_deck(rng)
    specs: list[EventInput] = []
    for number, (day, district) in enumerate(zip(days, districts, strict=True), start=1):
        focus = data.DISTRICT_FOCUS[district]
        theme = data.THEMES_BY_NAME[rng.choice(focus)] if rng.random() < 0.5 else next(deck)
        host = rng.choice(theme.hosts)
        venue = rng.choice(data.VENUES_BY_DISTRICT[district])
        demand_side = rng.random() < 0.15
        if demand_side:
            format_ = data.DEMAND_FORMAT
        elif host.endswith("实验室"):
            format_ = data.LAB_FORMAT
        elif host.endswith("研究院"):
            format_ = data.INSTITUTE_FORMAT
        else:
            format_ = rng.choice(data.SUPPLY_FORMATS)
        co_hosts = [c for c in data.CO_HOSTS if c != host]
        full_host = f"{host}、{rng.choice(co_hosts)}" if rng.random() < 0.25 else host
        start, end = ("09:30", "12:00") if rng.random() < 0.2 else ("14:30", "17:00")
        specs.append(
            EventInput(
                title=f"武创荟·{theme.name}专场｜{format_}（第{number}期）",
                kind=EventKind.SESSION,
                series=SESSION_SERIES,
                district=district,
                starts_at=_at(day, start),
                ends_at=_at(day, end),
                venue=venue.name,
                address=venue.address,
                latitude=venue.latitude,
                longitude=venue.longitude,
                host=full_host,
                capacity=rng.choice(SESSION_CAPACITIES),
                tags=[
                    theme.name,
                    *rng.sample(theme.tags, min(2, len(theme.tags))),
                    "成果转化",
                    "需求揭榜" if demand_side else "校企对接",
                ],
                description=_session_description(rng, theme, host, district, demand_side),
            )
        )

    # The last sessions are still being planned (drafts); one upcoming session is called off.
    future = [i for i, spec in enumerate(specs) if spec.starts_at > now]
    drafts = set(future[-2:] if len(future) >= 4 else future[-1:] if len(future) >= 2 else [])
    remaining = [i for i in future if i not in drafts]
    cancelled = remaining[len(remaining) // 2] if remaining else len(specs) - 1
    plans: list[_Plan] = []
    for i, spec in enumerate(specs):
        assert spec.capacity is not None
        past = spec.starts_at <= now
        if i in drafts:
            plans.append(_Plan(spec, 0, publish=False))
        elif i == cancelled:
            plans.append(
                _Plan(
                    spec,
                    round(spec.capacity * rng.uniform(0.2, 0.4)) if not past else 0,
                    publish=not past,
                    cancel_reason=data.CANCEL_REASON,
                )
            )
        else:
            share = rng.uniform(0.35, 0.7) if past else rng.uniform(0.1, 0.4)
            plans.append(_Plan(spec, round(spec.capacity * share)))
    return plans


def _session_description(rng: random.Random, theme: data.Theme, host: str, district: str, demand_side: bool) -> str:
    org = data.DISTRICT_ORGS[district]
    if demand_side:
        first = (
            f"本期武创荟聚焦{theme.name}，由{org}组织区内重点企业集中发布{theme.topics}等方向的技术需求，"
            f"{host}专家团队现场揭榜。"
        )
    else:
        first = (
            f"本期武创荟聚焦{theme.name}，由{host}集中发布{theme.topics}等方向的{rng.randint(8, 20)}项科技成果，"
            f"{org}组织区内企业现场对接。"
        )
    sentences = [first, rng.choice(data.SESSION_MIDDLES)]
    sentences += rng.sample(data.SESSION_ENDINGS, rng.randint(0, 2))
    return "".join(sentences)


def _occasions(now: datetime, rng: random.Random) -> list[_Plan]:
    year = now.astimezone(LOCAL).year
    today = now.astimezone(LOCAL).date()
    plans: list[_Plan] = []
    for occ in data.OCCASIONS:
        first = date(year, occ.month, occ.day)
        if occ.lead_days is not None and _at(first, occ.start) - now < timedelta(days=occ.lead_days):
            first = today + timedelta(days=occ.lead_days)  # its date has come too near: keep it upcoming
        starts_at = _at(first, occ.start)
        venue = data.VENUES_BY_NAME[occ.venue]
        spec = EventInput(
            title=occ.title.format(year=year),
            kind=EventKind(occ.kind),
            series=occ.series,
            district=venue.district,
            starts_at=starts_at,
            ends_at=_at(first + timedelta(days=occ.days - 1), occ.end),
            venue=venue.name,
            address=venue.address,
            latitude=venue.latitude,
            longitude=venue.longitude,
            host=occ.host,
            capacity=occ.capacity,
            tags=list(occ.tags),
            description=occ.description,
            requires_approval=occ.requires_approval,
            registration_closes_at=(
                starts_at - timedelta(days=occ.closes_days_before) if occ.closes_days_before is not None else None
            ),
        )
        if occ.waitlist_extra:
            count = occ.capacity + occ.waitlist_extra
        elif starts_at <= now:
            count = round(occ.capacity * occ.fill)
        else:
            count = round(occ.capacity * occ.fill * rng.uniform(0.3, 0.6))
        plans.append(_Plan(spec, count, waitlist_extra=occ.waitlist_extra))
    return plans


def _people(rng: random.Random, count: int) -> list[_Person]:
    """Invented attendees: a name, a unique mobile number, an organisation, often an e-mail address."""
    weights = [1 / (rank + 4) for rank in range(len(data.SURNAMES))]
    phones: set[str] = set()
    emails: set[str] = set()
    people: list[_Person] = []
    while len(people) < count:
        surname, surname_py = rng.choices(data.SURNAMES, weights)[0]
        given = rng.sample(data.GIVEN_CHARS, 1 if rng.random() < 0.3 else 2)
        name = surname + "".join(c for c, _ in given)
        given_py = "".join(p for _, p in given)
        phone = rng.choice(data.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if phone in phones:
            continue
        phones.add(phone)
        kind = rng.random()
        mail_host = rng.choice(data.PUBLIC_MAIL_HOSTS)
        if kind < 0.6:
            organization = (
                rng.choice(data.COMPANY_PLACES)
                + rng.choice(data.COMPANY_BRANDS)
                + rng.choice(data.COMPANY_TRADES)
                + ("股份有限公司" if rng.random() < 0.15 else "有限公司")
            )
        elif kind < 0.82:
            organization, label = rng.choice(data.UNIVERSITIES)
            mail_host = f"{label}.example.org"
        elif kind < 0.9:
            organization = rng.choice(data.HOSPITALS)
        else:
            organization = rng.choice(data.INVESTORS)
        email = None
        if rng.random() < 0.45:
            local = f"{given_py}.{surname_py}" if mail_host.endswith(".example.org") else f"{surname_py}{given_py}"
            email = next(
                address for n in itertools.count() if (address := f"{local}{n or ''}@{mail_host}") not in emails
            )
            emails.add(email)
        people.append(_Person(name=name, phone=phone, organization=organization, email=email))
    return people


__all__ = ["DemoSummary", "load_demo"]
