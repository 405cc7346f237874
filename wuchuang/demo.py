"""A realistic year of the programme, loaded once through the real domain services.

``load_demo()`` creates the year's 60 武创荟 sessions, the 武创源 and 英雄杯 competitions, 产医融合 fairs,
roadshows and technology-broker courses, and registers a few thousand invented people for them, all
through ``catalog`` and ``registration`` — so seat counters, waitlists and the activity log are exactly what
real use would have produced. Dates are relative to the current year of ``events.clock.now()``.

The broker-training programme (技术经理人) goes through ``brokers``, ``courses``, ``checkin`` and ``credits``
the same way: ~40 brokers enroll in a junior course that has just ended, an intermediate one under way
and a full junior class ahead; their passes are scanned at the past sessions, modules are completed,
an admin grants and corrects hours, and the certification rules in force certify whoever crosses a line.
Those dates are relative to today (the last Saturday before it), so there is always a past and a future.

The supply chain (``wuchuang.demo_supply``) follows, after the brokers exist: organizations, the
achievements library, investors, a hundred demands, broker claims, connections and contracts, through
``organizations``, ``achievements``, ``investors``, ``demands``, ``connections`` and ``transfers``.

Past events get their registrations by moving ``events.clock`` back to a time inside their registration
window; the clock is restored afterwards. The clock is process-wide, so load the demo before serving,
not beside live traffic. The whole load is one transaction: it happens completely or not at all.
"""

from __future__ import annotations

import calendar
import itertools
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tortoise.transactions import in_transaction

from events import clock, localtime
from events.models import (
    Broker,
    Certification,
    Course,
    CourseItem,
    CreditEntry,
    Direction,
    Event,
    EventKind,
    Person,
    Registration,
    RegistrationStatus,
)
from events.services import brokers, checkin, courses, credits, matching
from events.services.catalog import EventInput, cancel_event, create_event, publish_event
from events.services.people import normalize_email, normalize_phone
from events.services.registration import (
    Applicant,
    approve_registration,
    cancel_registration,
    register,
    reject_registration,
)
from events.services.tickets import TicketSigner, ticket_code
from wuchuang import demo_data as data
from wuchuang.demo_competitions import CompetitionsSummary, competitions_loaded, load_competitions
from wuchuang.demo_roadshow import RoadshowSummary, load_roadshow, match_pitches, roadshow_loaded
from wuchuang.demo_supply import SupplySummary, TelegramContact, load_supply, supply_loaded

ACTOR = "demo"
SEED = 2026
SESSION_SERIES = "wuchuanghui"
PEOPLE = 1500

# 60 sessions over February–December: fewer around the Spring Festival and in the summer holidays.
SESSIONS_PER_MONTH: dict[int, int] = {2: 3, 3: 6, 4: 6, 5: 6, 6: 6, 7: 5, 8: 4, 9: 6, 10: 6, 11: 6, 12: 6}
SESSION_CAPACITIES: tuple[int, ...] = (80, 80, 100, 100, 120, 120, 150, 150, 200, 300)
# Days kept free of sessions: Spring Festival, May Day, National Day, the year's end.
BLOCKED_DAYS: dict[int, range] = {2: range(1, 20), 5: range(1, 6), 10: range(1, 9), 12: range(26, 32)}
# Whatever today is, at least OPEN_SOON events take registrations and start 7 to 28 days from today
# (between the year's last session and the first after the Spring Festival there would be none):
# the movable occasions (those with ``lead_days``) are brought into that window when it is short.
SOON_DAYS = range(7, 29)
OPEN_SOON = 3


@dataclass(frozen=True, slots=True)
class DemoSummary:
    events_created: int
    registrations_created: int
    already_loaded: bool
    brokers_created: int = 0
    certifications: int = 0
    supply: SupplySummary = SupplySummary()  # the supply chain: organizations, achievements, demands …
    competitions: CompetitionsSummary = CompetitionsSummary()  # 英雄杯 and 武创源: entries, judges, scores …
    roadshow: RoadshowSummary = RoadshowSummary()  # 产医融合项目路演: projects, investors, meetings, outcomes


@dataclass(slots=True, eq=False)
class _Person:
    name: str
    phone: str
    organization: str
    email: str | None
    # The person record, made on first use: the platform never finds a person by phone (that is a
    # claim), so the demo, which knows who its invented people are, says whose registration it is.
    person_id: int | None = None

    def applicant(self) -> Applicant:
        return Applicant(name=self.name, phone=self.phone, organization=self.organization, email=self.email)

    async def record_id(self) -> int:
        if self.person_id is None:
            person = await Person.create(
                name=self.name,
                phone=normalize_phone(self.phone),
                email=normalize_email(self.email),
                organization=self.organization,
            )
            self.person_id = person.id
        return self.person_id


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


async def load_demo(*, supply: bool = True, competitions: bool = True, roadshow: bool = True) -> DemoSummary:
    """Load the demo programme unless it is already there (any event created by ``demo``).

    A database loaded before the supply chain or the competitions were part of the demo gets only what
    it lacks of them. ``supply``, ``competitions`` and ``roadshow`` set to False leave that part out of
    a fresh load (a test of the programme's dates needs only the programme); the roadshow needs the
    supply chain's library.
    """
    if await Event.filter(created_by=ACTOR).exists():
        library = SupplySummary() if not supply or await supply_loaded() else await _supply_only()
        contests = (
            CompetitionsSummary() if not competitions or await competitions_loaded() else await _competitions_only()
        )
        shows = (
            RoadshowSummary()
            if not roadshow or await roadshow_loaded() or not await supply_loaded()
            else await _roadshow_only()
        )
        return DemoSummary(
            events_created=0, registrations_created=0, already_loaded=True, supply=library, competitions=contests,
            roadshow=shows,
        )  # fmt: skip
    now = clock.now()
    rng = random.Random(SEED)
    sessions = _sessions(now, rng)
    plans = sorted(sessions + _occasions(now, rng, others=sessions), key=lambda p: p.event.starts_at)
    loader = _Loader(now, rng, _people(rng, PEOPLE))
    training = _Training(now, random.Random(SEED + 1), loader.people, loader.clock)
    previous = clock._now  # restored below: a test's frozen clock survives the load
    clock.set_clock(loader.clock)
    try:
        async with in_transaction():
            for plan in plans:
                await loader.load(plan)
            await training.load()
            library = (
                await load_supply(loader.clock, now, brokers=training.broker_ids, telegram=_telegram_contacts())
                if supply
                else SupplySummary()
            )
            contests = (
                await load_competitions(loader.clock, now, telegram=_telegram_contacts())
                if competitions
                else CompetitionsSummary()
            )
            shows = (
                await load_roadshow(loader.clock, now, telegram=_telegram_contacts())
                if roadshow and supply
                else RoadshowSummary()
            )
    except BaseException:
        matching.reset()  # the index may hold records the rollback took back
        raise
    finally:
        clock.set_clock(previous)
    extra = await _telegram_people(now, exclude=training.event_ids)
    shows = await _matched(shows)
    return DemoSummary(
        events_created=loader.events + training.events + 1 + (shows.event_id is not None),
        registrations_created=loader.registrations + training.registrations + extra,
        already_loaded=False,
        brokers_created=training.brokers,
        certifications=await Certification.all().count(),
        supply=library,
        competitions=contests,
        roadshow=shows,
    )


async def _matched(shows: RoadshowSummary) -> RoadshowSummary:
    """The roadshow's pitches matched to its investors, once the load is committed (matching reads the
    whole library through its own connection)."""
    if shows.event_id is None:
        return shows
    return replace(shows, matched_pitches=await match_pitches(shows.event_id))


async def _roadshow_only() -> RoadshowSummary:
    """The roadshow alone, for a programme loaded before it was part of the demo."""
    now = clock.now()
    sim = _SimClock(now)
    previous = clock._now
    clock.set_clock(sim)
    try:
        async with in_transaction():
            shows = await load_roadshow(sim, now, telegram=_telegram_contacts())
    finally:
        clock.set_clock(previous)
    return await _matched(shows)


async def _supply_only() -> SupplySummary:
    """The supply chain alone, for a programme loaded before it was part of the demo."""
    brokers = [b.id for b in await Broker.filter(created_by=ACTOR).order_by("id").only("id")]
    if not brokers:  # a programme from before the training demo: the scripts have nobody to claim with
        return SupplySummary()
    now = clock.now()
    sim = _SimClock(now)
    previous = clock._now
    clock.set_clock(sim)
    try:
        async with in_transaction():
            return await load_supply(sim, now, brokers=brokers, telegram=_telegram_contacts())
    except BaseException:
        matching.reset()
        raise
    finally:
        clock.set_clock(previous)


async def _competitions_only() -> CompetitionsSummary:
    """The competitions alone, for a programme loaded before they were part of the demo."""
    now = clock.now()
    sim = _SimClock(now)
    previous = clock._now
    clock.set_clock(sim)
    try:
        async with in_transaction():
            return await load_competitions(sim, now, telegram=_telegram_contacts())
    finally:
        clock.set_clock(previous)


# Chat ids of demo people on Telegram. Without a bot token their messages (confirmations,
# reminders, invitations) appear in the console channel, so the whole flow can be watched locally.
TELEGRAM_PEOPLE: tuple[tuple[int, str, str, list[str], list[str]], ...] = (
    (700000001, "周晓明", "zh", ["donghu_gaoxin", "hongshan"], ["人工智能", "光电子信息"]),
    (700000002, "Chen Yu", "en", [], ["生物医药", "数字医疗"]),
    (700000003, "黄丽", "zh", ["wuchang"], []),
)


async def _telegram_people(now: datetime, *, exclude: set[int]) -> int:
    """A salon tomorrow, and the Telegram people registered for it and the next events (not the
    training programme's ``exclude``: its sessions are entered with a course pass)."""
    from events.models import EventStatus
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
        .exclude(id__in=[salon.id, *exclude])
        .order_by("starts_at")
        .limit(3),
    ]
    made = 0
    for index, (telegram_id, name, language, districts, topics) in enumerate(TELEGRAM_PEOPLE):
        # The first is a broker already (made by the training programme, which knew only what a broker needs).
        person = await Person.get_or_none(telegram_id=telegram_id)
        if person is None:
            person = Person(name=name, telegram_id=telegram_id, phone=normalize_phone(_telegram_phone(index)))
        person.language, person.pref_districts, person.pref_topics = language, districts, topics
        await person.save()
        for event in upcoming[index : index + 2]:
            try:
                await register(
                    event.id,
                    Applicant(name=name, phone=_telegram_phone(index), telegram_id=telegram_id),
                    actor=ACTOR,
                    source="api",
                    issue_secret=False,
                )
                made += 1
            except Exception:  # a full event without waitlist or a closed window: the demo goes on
                continue
    return made


def _telegram_phone(index: int) -> str:
    return f"1700000000{index}"


def _telegram_contacts() -> list[TelegramContact]:
    return [
        TelegramContact(telegram_id=telegram_id, name=name, phone=_telegram_phone(index))
        for index, (telegram_id, name, *_) in enumerate(TELEGRAM_PEOPLE)
    ]


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
            result = await register(
                event.id,
                person.applicant(),
                actor=ACTOR,
                source="demo",
                issue_secret=False,
                person_id=await person.record_id(),
            )
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


# --- The broker-training programme ----------------------------------------------------------

SATURDAY = 5
# What each enrollee of the junior course that just ended did; the order is shuffled per load.
JUNIOR_PROFILES: tuple[str, ...] = (
    ("complete",) * 10 + ("missed_session",) * 5 + ("missed_module",) * 4 + ("dropped",) * 3 + ("no_show",) * 2
)
NEXT_JUNIOR_ENROLLMENTS = 19  # for 15 seats
GATES: tuple[str, ...] = ("东门", "南门")


def _term(day: date) -> str:
    """The training term ``day`` falls in (2026秋季; January is still 2025冬季)."""
    if day.month in (12, 1, 2):
        return f"{day.year if day.month == 12 else day.year - 1}冬季"
    return f"{day.year}{'春季' if day.month <= 5 else '夏季' if day.month <= 8 else '秋季'}"


def _off_holidays(days: list[date], *, later: bool) -> list[date]:
    """The Saturdays moved off the holidays (BLOCKED_DAYS) a week at a time, later or earlier, still a
    week apart and in order; a past course stays past when moved earlier, an upcoming one upcoming."""
    step = timedelta(weeks=1 if later else -1)
    moved: list[date] = []
    for day in days if later else days[::-1]:
        if moved:  # the one before may have moved onto this one
            day = max(day, moved[-1] + step) if later else min(day, moved[-1] + step)
        while day.day in BLOCKED_DAYS.get(day.month, range(0)):
            day += step
        moved.append(day)
    return moved if later else moved[::-1]


@dataclass(slots=True)
class _CourseRun:
    course: Course
    sessions: list[Event]
    modules: list[str]
    published: datetime
    registration_closes: datetime
    # Broker id → their enrollment, as ``courses.enroll`` left it.
    enrolled: dict[int, Registration] = field(default_factory=dict)


class _Training:
    """Loads the training programme. Actions are collected with the moment they happen and run in
    time order, so every ledger line, and the certification it may bring, is written when it happened.
    """

    def __init__(self, now: datetime, rng: random.Random, people: list[_Person], sim: _SimClock) -> None:
        self.now = now
        self.rng = rng
        self.people = people
        self.clock = sim
        # Codes are not stored (only the ticket version is), so the past door scans can be replayed
        # with a key of their own: the deployment's key is not needed here.
        self.signer = TicketSigner(Ed25519PrivateKey.generate())
        self.actions: list[tuple[datetime, int, Callable[[], Awaitable[object]]]] = []
        self.events = 0
        self.registrations = 0
        self.brokers = 0
        self.broker_ids: list[int] = []  # in the order made: the supply demo names brokers by position
        self.event_ids: set[int] = set()

    def at(self, when: datetime, action: Callable[[], Awaitable[object]]) -> None:
        self.actions.append((min(when, self.now), len(self.actions), action))

    async def run(self) -> None:
        actions, self.actions = sorted(self.actions, key=lambda a: (a[0], a[1])), []
        for when, _, action in actions:
            self.clock.at = when
            await action()

    async def load(self) -> None:
        today = self.now.astimezone(localtime.zone()).date()
        anchor = today - timedelta(days=(today.weekday() - SATURDAY) % 7 or 7)  # the last Saturday before today
        weeks = [anchor + timedelta(weeks=n) for n in range(10)]
        # The intermediate course is under way: its first session was last Saturday (or before, after a
        # holiday); the junior course ended two weeks before that; the next junior class starts in 3 weeks.
        started = _off_holidays([anchor], later=False)[0]
        intermediate_days = [started, *_off_holidays(weeks[2:5:2], later=True)]
        junior_days = _off_holidays([started - timedelta(weeks=n) for n in (8, 6, 4, 2)], later=False)
        next_days = _off_holidays(weeks[3:10:2], later=True)

        junior = await self._course(
            data.JUNIOR_COURSE, junior_days, published=_at(junior_days[0], "10:00") - timedelta(days=35)
        )
        intermediate = await self._course(
            data.INTERMEDIATE_COURSE, intermediate_days, published=junior.sessions[-1].ends_at - timedelta(days=7)
        )
        upcoming = await self._course(
            data.NEXT_JUNIOR_COURSE, next_days, published=min(self.now - timedelta(days=12), _at(anchor, "10:00"))
        )

        # The Telegram broker is one of the junior profiles; one more junior enrolls and withdraws.
        people = self.rng.sample(self.people, len(JUNIOR_PROFILES) + NEXT_JUNIOR_ENROLLMENTS)
        telegram_id, name, _, districts, topics = TELEGRAM_PEOPLE[0]
        first = await self._broker(
            brokers.BrokerInput(
                name=name,
                phone=_telegram_phone(0),
                telegram_id=telegram_id,
                organization="武汉产业创新发展研究院",
                district=districts[0],
                specialties=topics,
            )
        )
        juniors = [first] + [await self._broker(await self._broker_input(p)) for p in people[: len(JUNIOR_PROFILES)]]
        newcomers = [await self._broker(await self._broker_input(p)) for p in people[len(JUNIOR_PROFILES) :]]

        profiles = list(JUNIOR_PROFILES[1:])
        self.rng.shuffle(profiles)
        # The Telegram broker completes the course; the last of the juniors withdraws before it starts.
        profile = dict(zip((b.id for b in juniors[:-1]), ["complete", *profiles], strict=True))
        complete = [b for b in juniors if profile.get(b.id) == "complete"]
        veterans = complete[1:3]
        made_up = [b for b in juniors if profile.get(b.id) == "missed_session"][:2]
        catching_up = [b for b in juniors if profile.get(b.id) == "missed_module"][:1]

        self._enrollments(junior, juniors, withdraw=1)
        self._junior_term(junior, juniors[:-1], profile)
        self._admin(junior, juniors, profile, made_up, veterans=veterans)
        self._enrollments(intermediate, complete + made_up + catching_up, after=junior.sessions[-1].ends_at)
        self._first_intermediate_session(intermediate, complete + made_up + catching_up, keep=[first, *veterans])
        self._enrollments(upcoming, newcomers)
        # One of the full class gives the seat back: the head of the waitlist moves up.
        self.at(self.now - timedelta(minutes=40), partial(self._give_back, upcoming))
        await self.run()

    # Building blocks.

    async def _course(self, spec: data.CourseSpec, days: list[date], *, published: datetime) -> _CourseRun:
        venue = next((v for v in data.TRAINING_VENUES if v.name == spec.venue), None) or data.VENUES_BY_NAME[spec.venue]
        title = spec.title.format(term=_term(days[0] + (days[-1] - days[0]) / 2))  # the term most of it falls in
        place = {
            "district": venue.district,
            "venue": venue.name,
            "address": venue.address,
            "latitude": venue.latitude,
            "longitude": venue.longitude,
            "host": spec.host,
            "series": "jishu-jingliren",
        }
        tags = ["技术经理人", "培训", {"junior": "初级", "intermediate": "中级"}.get(spec.level or "", "专题")]
        self.clock.at = published - timedelta(days=3)  # drafted a few days before it is announced
        sessions = []
        checkout = spec.min_stay_minutes is not None
        for number, (session, day) in enumerate(zip(spec.sessions, days, strict=True), start=1):
            sessions.append(
                await create_event(
                    EventInput(
                        title=f"{title}·第{number}讲：{session.title}",
                        kind=EventKind.TRAINING,
                        starts_at=_at(day, "09:00"),
                        ends_at=_at(day, "16:30"),
                        tags=tags,
                        description=f"{title}第{number}讲，{session.hours}学时。凭课程报名电子票入场"
                        + ("，离场时签退，在场满5小时记学时。" if checkout else "，签到即记学时。"),
                        **place,
                    ),
                    actor=ACTOR,
                )
            )
        items = [
            courses.ItemInput(
                kind="session",
                event_id=event.id,
                title=f"第{number}讲：{session.title}",
                hours=session.hours,
                requires_checkout=checkout,
                min_stay_minutes=spec.min_stay_minutes,
            )
            for number, (event, session) in enumerate(zip(sessions, spec.sessions, strict=True), start=1)
        ]
        items += [courses.ItemInput(kind="module", code=code, title=t, hours=h) for code, t, h in spec.modules]
        course = await courses.create_course(
            courses.CourseInput(
                code=f"{spec.code}-{days[0]:%Y%m}",
                title=title,
                description=spec.description,
                level=spec.level,
                event=EventInput(
                    title=title,
                    kind=EventKind.TRAINING,
                    starts_at=sessions[0].starts_at,
                    ends_at=sessions[-1].ends_at,
                    capacity=spec.capacity,
                    tags=tags,
                    description=spec.description,
                    registration_closes_at=sessions[0].starts_at - timedelta(days=1),  # the day before
                    **place,
                ),
                items=items,
            ),
            actor=ACTOR,
        )
        self.clock.at = published
        for event_id in (course.event_id, *(e.id for e in sessions)):
            await publish_event(event_id, actor=ACTOR)
            self.event_ids.add(event_id)
        self.events += 1 + len(sessions)
        closes = sessions[0].starts_at - timedelta(days=1)
        return _CourseRun(course, sessions, [code for code, _, _ in spec.modules], published, closes)

    async def _broker_input(self, person: _Person) -> brokers.BrokerInput:
        district = self.rng.choice([code for code, share in data.DISTRICT_SHARES.items() for _ in range(share)])
        main = self.rng.choice(data.DISTRICT_FOCUS[district])
        others = [s for s in data.BROKER_SPECIALTIES if s != main]
        return brokers.BrokerInput(
            person_id=await person.record_id(),
            organization=self.rng.choice(data.BROKER_ORGS) if self.rng.random() < 0.65 else person.organization,
            district=district,
            specialties=[main, *self.rng.sample(others, self.rng.choice((0, 1, 1, 2)))],
        )

    async def _broker(self, spec: brokers.BrokerInput) -> Broker:
        self.brokers += 1
        made = await brokers.create_broker(spec, actor=ACTOR)
        self.broker_ids.append(made.id)
        return made

    def _enrollments(
        self, run: _CourseRun, enrollees: list[Broker], *, withdraw: int = 0, after: datetime | None = None
    ) -> None:
        """Enrollments spread over the registration window (not before ``after``); the last ``withdraw``
        of them withdraw again two days later."""
        opens = max(run.published, after or run.published) + timedelta(hours=1)
        closes = min(self.now, run.registration_closes) - timedelta(hours=2)
        span = (closes - opens).total_seconds()
        times = sorted(_daytime(opens + timedelta(seconds=span * self.rng.random()), closes) for _ in enrollees)
        for broker, when in zip(enrollees, times, strict=True):
            self.at(when, partial(self._enroll, run, broker.id))
        for broker, when in list(zip(enrollees, times, strict=True))[len(enrollees) - withdraw :]:
            self.at(
                min(when + timedelta(days=2), closes),
                partial(courses.withdraw, run.course.id, broker.id, actor=ACTOR, reason="时间冲突"),
            )

    async def _give_back(self, run: _CourseRun) -> None:
        leaving = next(b for b, r in run.enrolled.items() if r.status == RegistrationStatus.CONFIRMED)
        await courses.withdraw(run.course.id, leaving, actor=ACTOR, reason="工作调动，无法参加本期")

    async def _enroll(self, run: _CourseRun, broker_id: int) -> None:
        result = await courses.enroll(run.course.id, broker_id, actor=ACTOR, source="demo")
        run.enrolled[broker_id] = result.registration
        self.registrations += 1

    async def _scan(
        self,
        run: _CourseRun,
        broker_id: int,
        session: Event,
        direction: Direction = Direction.ENTRY,
        *,
        scanned_at: datetime | None = None,
    ) -> None:
        """A pass scanned at a session's door: live, or an offline scanner's queue sent later (``scanned_at``)."""
        registration = run.enrolled[broker_id]
        code = ticket_code(registration, self.signer)
        if code is None:
            raise RuntimeError(f"demo: broker {broker_id} holds no pass for {run.course.code}")
        outcome = await checkin.redeem(
            checkin.Scan(
                code=code,
                event_id=session.id,
                scan_id=f"demo-{session.id}-{registration.id}-{direction}",
                gate=self.rng.choice(GATES),
                device="demo-scanner",
                direction=direction,
                scanned_at=scanned_at,
                offline=scanned_at is not None,
            ),
            signer=self.signer,
            actor=f"{ACTOR}:checker",
        )
        if outcome.result != "ok":
            raise RuntimeError(f"demo: the scan at {session.title} answered {outcome.result}")

    async def _module(self, run: _CourseRun, code: str, broker_id: int) -> None:
        await credits.complete_module(
            run.course.id,
            code,
            broker_id=broker_id,
            external_id=f"demo-lms-{run.course.code}-{code}-{broker_id}",
            completed_at=None,
            actor=f"{ACTOR}:lms",
        )

    def _junior_term(self, run: _CourseRun, enrollees: list[Broker], profile: dict[int, str]) -> None:
        """Door scans at the sessions, live, and module completions, as each enrollee's profile says."""
        sessions = run.sessions
        last = sessions[-1].ends_at
        for broker in enrollees:
            kind = profile[broker.id]
            if kind == "no_show":
                continue
            attended = list(range(len(sessions)))
            modules = list(run.modules)
            if kind == "missed_session":
                attended.remove(self.rng.randrange(1, len(sessions)))
            elif kind == "missed_module":
                modules = modules[:1]
            elif kind == "dropped":
                attended, modules = attended[:2], modules[:1] if self.rng.random() < 0.5 else []
            for index in attended:
                session = sessions[index]
                self.at(
                    session.starts_at + timedelta(minutes=self.rng.uniform(-25, 12)),
                    partial(self._scan, run, broker.id, session),
                )
            for number, code in enumerate(modules):
                # Online, in the evenings, from the second week on; a few finish after the last session.
                start = sessions[number].ends_at
                done = start + (last + timedelta(days=6) - start) * self.rng.random()
                self.at(done.replace(hour=13 + self.rng.randrange(0, 2)), partial(self._module, run, code, broker.id))

    def _admin(
        self,
        run: _CourseRun,
        enrollees: list[Broker],
        profile: dict[int, str],
        made_up: list[Broker],
        *,
        veterans: list[Broker],
    ) -> None:
        """An admin's grants and corrections: prior training, make-up classes, two mistakes put right."""
        before = run.sessions[0].starts_at - timedelta(days=20)
        # Hours from training elsewhere, recognised before the course began (one broker's in two lines).
        for broker, amounts in zip(veterans, (("48",), ("36", "24")), strict=True):
            for n, hours in enumerate(amounts):
                self.at(
                    before + timedelta(hours=n),
                    partial(
                        credits.grant,
                        broker.id,
                        hours=hours,
                        reason=data.PRIOR_HOURS_REASONS[n],
                        actor=ACTOR,
                        earned_at=before - timedelta(days=150 - 60 * n),
                    ),
                )
        ended = run.sessions[-1].ends_at.astimezone(localtime.zone()).date()

        def office(days: int) -> datetime:
            return _at(ended + timedelta(days=days), "09:30") + timedelta(minutes=self.rng.randint(0, 150))

        for broker in made_up:
            self.at(office(8), partial(self._make_up, run, broker.id))
        late = next(b for b in enrollees if profile.get(b.id) == "missed_module")
        self.at(office(9), partial(self._correct_session, run, late.id, run.sessions[2], "-2"))
        careless = next(b for b in enrollees if profile.get(b.id) == "dropped")
        entered = office(10)
        for minutes in (0, 2):  # the same grant entered twice …
            self.at(
                entered + timedelta(minutes=minutes),
                partial(
                    credits.grant,
                    careless.id,
                    hours="4",
                    reason=data.DUPLICATE_GRANT_REASON,
                    actor=ACTOR,
                    course_id=None,
                ),
            )
        self.at(office(12), partial(self._undo_duplicate, careless.id))  # … and taken back

    async def _make_up(self, run: _CourseRun, broker_id: int) -> None:
        credited = set(
            await CreditEntry.filter(broker_id=broker_id, course_id=run.course.id).values_list("item_id", flat=True)
        )
        for number, session in enumerate(run.sessions, start=1):
            item = await CourseItem.get(event_id=session.id)
            if item.id not in credited:
                await credits.grant(
                    broker_id,
                    hours=str(item.hours_tenths / 10),
                    reason=data.MAKEUP_REASON.format(session=number),
                    actor=ACTOR,
                    course_id=run.course.id,
                    earned_at=session.starts_at + timedelta(days=3),  # a make-up class that week
                )

    async def _correct_session(self, run: _CourseRun, broker_id: int, session: Event, hours: str) -> None:
        item = await CourseItem.get(event_id=session.id)
        entry = await CreditEntry.get(broker_id=broker_id, item_id=item.id)
        await credits.correct(
            broker_id, entry_id=entry.id, hours=hours, reason=data.LATE_CORRECTION_REASON, actor=ACTOR
        )

    async def _undo_duplicate(self, broker_id: int) -> None:
        twice = (
            await CreditEntry.filter(broker_id=broker_id, reason=data.DUPLICATE_GRANT_REASON).order_by("-id").first()
        )
        assert twice is not None
        await credits.correct(
            broker_id,
            entry_id=twice.id,
            hours=str(-twice.hours_tenths / 10),
            reason=data.DUPLICATE_CORRECTION_REASON,
            actor=ACTOR,
        )

    def _first_intermediate_session(self, run: _CourseRun, enrollees: list[Broker], *, keep: list[Broker]) -> None:
        """Last Saturday's session: the scanner was offline and sent its queue the next morning.
        Hours are written at sign-out after five hours inside; one broker left at lunch and earns none.
        ``keep`` are there for sure (the Telegram broker, and the veterans who cross 100 hours here)."""
        session = run.sessions[0]
        sent = min(session.ends_at + timedelta(hours=17), self.now - timedelta(minutes=10))
        kept = [b.id for b in keep]
        others = [b.id for b in enrollees if b.id not in kept]
        present = kept + self.rng.sample(others, len(others) - 2)
        early = present[-1]

        async def replay() -> None:
            for broker_id in present:
                entered = session.starts_at + timedelta(minutes=self.rng.uniform(-20, 15))
                await self._scan(run, broker_id, session, scanned_at=entered)
            for broker_id in present:
                stayed = timedelta(hours=3, minutes=10) if broker_id == early else timedelta(hours=7, minutes=5)
                left = session.starts_at + stayed + timedelta(minutes=self.rng.uniform(0, 20))
                await self._scan(run, broker_id, session, Direction.EXIT, scanned_at=left)

        self.at(sent, replay)
        # A veteran finishes the online case module that evening; with the session's hours, 100 are crossed.
        veteran = keep[1]
        self.at(session.ends_at + timedelta(hours=4), partial(self._module, run, run.modules[0], veteran.id))


def _at(day: date, hhmm: str) -> datetime:
    """Local (Wuhan) wall time on ``day``, as UTC."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=localtime.zone()).astimezone(UTC)


def _daytime(at: datetime, limit: datetime) -> datetime:
    """Few people register between midnight and 7 in the morning: move such a time into the day."""
    return min(at + timedelta(hours=8), limit) if at.astimezone(localtime.zone()).hour < 7 else at


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
    year = now.astimezone(localtime.zone()).year
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


def _open_soon(spec: EventInput, now: datetime) -> bool:
    """Starts 7–28 days from today (local dates) and takes registrations for a few days more."""
    ahead = (spec.starts_at.astimezone(localtime.zone()).date() - now.astimezone(localtime.zone()).date()).days
    closes = spec.registration_closes_at or spec.starts_at
    return ahead in SOON_DAYS and closes > now + timedelta(days=2)


def _occasion_days(now: datetime, *, already_soon: int) -> dict[data.Occasion, date]:
    """The first day of each occasion this year; a movable one whose date has come too near is kept
    ``lead_days`` ahead, and movable ones are brought 9, 14, 19… days ahead while fewer than
    OPEN_SOON events (``already_soon`` of them others) would start in the coming weeks."""
    year = now.astimezone(localtime.zone()).year
    today = now.astimezone(localtime.zone()).date()
    days: dict[data.Occasion, date] = {}
    for occ in data.OCCASIONS:
        first = date(year, occ.month, occ.day)
        if occ.lead_days is not None and _at(first, occ.start) - now < timedelta(days=occ.lead_days):
            first = today + timedelta(days=occ.lead_days)  # its date has come too near: keep it upcoming
        days[occ] = first

    def soon(occ: data.Occasion) -> bool:
        starts_at = _at(days[occ], occ.start)
        closes = starts_at - timedelta(days=occ.closes_days_before or 0)
        return (days[occ] - today).days in SOON_DAYS and closes > now + timedelta(days=2)

    short = OPEN_SOON - already_soon - sum(soon(occ) for occ in data.OCCASIONS)
    # Roadshows and courses move before the competition; open seats before a waitlist or an approval.
    movable = sorted(
        (occ for occ in data.OCCASIONS if occ.lead_days is not None and not soon(occ)),
        key=lambda occ: (occ.kind == "competition", occ.requires_approval, occ.waitlist_extra > 0),
    )
    for offset, occ in zip(range(9, 29, 5), movable[: max(short, 0)], strict=False):
        days[occ] = today + timedelta(days=offset)
    return days


def _occasions(now: datetime, rng: random.Random, *, others: list[_Plan]) -> list[_Plan]:
    year = now.astimezone(localtime.zone()).year
    already_soon = sum(1 for p in others if p.publish and p.cancel_reason is None and _open_soon(p.event, now))
    days = _occasion_days(now, already_soon=already_soon)
    plans: list[_Plan] = []
    for occ in data.OCCASIONS:
        first = days[occ]
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


DEMO_OFFICE_LOGIN = "office@demo.wuchuang.cn"


async def demo_console_link(base_url: str) -> str | None:
    """A one-time console sign-in link for the demo's programme office (an admin account, made once,
    with no password): ``serve --demo`` prints it, the terminal being the channel it is delivered by.
    The link is the service's own (15 minutes, single use, at most five an hour). None when the hour's
    links are spent."""
    from events.models import Account, Person, Role
    from events.services import accounts, organizations, staff

    account = await Account.get_or_none(login=DEMO_OFFICE_LOGIN)
    if account is None:
        office = await organizations.find_or_create_organization(
            "武汉市科技创新供应链领导小组办公室", kind="government"
        )
        person = await Person.create(name="供应链办公室（演示）", email=DEMO_OFFICE_LOGIN)
        await staff.grant_role(person, role=Role.ADMIN, event_ids=None, actor=ACTOR, organization_id=office.id)
        account = await accounts.create_account(person, actor=ACTOR, organization_id=office.id)
    delivered: list[str] = []

    async def to_terminal(_person: Person, token: str, _link: object, _conn: object) -> bool:
        delivered.append(token)
        return True

    await accounts.request_signin_link(
        login=DEMO_OFFICE_LOGIN, client=accounts.Client.of("127.0.0.1", "wuchuang serve --demo"), deliver=to_terminal
    )
    return f"{base_url.rstrip('/')}/console/signin/{delivered[0]}" if delivered else None
