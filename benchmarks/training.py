"""How fast a broker's transcript and the broker leaderboard are read, with two years of training data.

For each database (SQLite in a fresh temporary folder; PostgreSQL too with ``--postgres URL`` or
WUCHUANG_BENCH_POSTGRES_URL, in a throwaway database created on that server and dropped after), untimed:

* 16 courses over the last two years (初级, 中级, 专题 and 高级 tracks each half-year), made through
  ``courses.create_course``: 8 training sessions (their own events) and 2 online modules each;
* 1,000 brokers (``--brokers``) across the districts with specialties, each enrolled (a confirmed
  registration for the course's event, a few withdrawn ones too) in the courses their ledger names;
* 50 ledger lines per broker (``--entries``), bulk-inserted as the services would have written them:
  attendance at sessions (earned at the check-in), module completions (with an external id), admin
  grants with a reason, and corrections against an earlier line that never take it below zero;
* the certifications those lines produce, found by replaying each broker's ledger in time order
  through the real, pure ``certification.assess`` (and checked afterwards: ``assess_broker`` finds
  nothing left to certify for a sample of brokers);
* as background, 200 ordinary events with 100 registrations each (brokers among 4,000 others), so
  that reading a broker's enrollments looks past registrations that are not enrollments.

Then, in-process, timed with ``time.perf_counter`` (and the process's CPU time beside it):

a. ``transcripts.transcript`` for 200 random brokers (``--transcripts``): median and p95;
b. ``transcripts.list_brokers`` sorted by ``-hours``: the leaderboard's first page (limit 50) and the
   whole list (limit none, as an export reads it), and this year's leaderboard (``year=``), repeated;
c. the same over HTTP (uvicorn in a subprocess, one client, one request at a time) through
   ``GET /api/v1/brokers/{id}/transcript`` and ``GET /api/v1/brokers?sort=-hours``, when those routes
   exist; a 404 ``not_found`` (no such route) skips this part.

    python -m benchmarks.training [--quick] [--profile] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

TARGETS.md has no figure for training reads; the table says so. Exit status 1 when the data did not
check out or a request failed.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import random
import secrets
import statistics
import sys
import tempfile
import time
import zoneinfo
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from tortoise.transactions import in_transaction

from api.app import create_app
from benchmarks._common import (
    add_postgres_argument,
    check_loopback_url,
    machine_busy_percent,
    machine_cpu_jiffies,
    percentile,
    render_table,
    run_async,
    run_worker,
    targets_table,
    throwaway_postgres_database,
    uvicorn_server,
)
from benchmarks.calendar import fake_events
from benchmarks.registration import build_schema
from events import clock
from events.db import close_db, init_db
from events.models import (
    Broker,
    BrokerLevel,
    Certification,
    CourseItem,
    CreditEntry,
    CreditSource,
    Event,
    EventKind,
    ItemKind,
    Person,
    Registration,
    RegistrationStatus,
    Role,
)
from events.services import catalog, certification, courses, organizations, tokens, transcripts
from events.settings import Settings, load_settings
from wuchuang import demo_data
from wuchuang.demo import _people

BROKERS = 1000
QUICK_BROKERS = 200
ENTRIES = 50  # ledger lines per broker
TRANSCRIPTS = 200
QUICK_TRANSCRIPTS = 50
PAGE_RUNS = 30
QUICK_PAGE_RUNS = 10
EXPORT_RUNS = 10
QUICK_EXPORT_RUNS = 3
HTTP_REQUESTS = 200
QUICK_HTTP_REQUESTS = 40
BACKGROUND_EVENTS = 200
QUICK_BACKGROUND_EVENTS = 40
BACKGROUND_PER_EVENT = 100
OTHER_PEOPLE = 4000
QUICK_OTHER_PEOPLE = 800
TERMS = 4  # half-years of courses, the last ending a few months ago
SESSIONS_PER_COURSE = 8
SEED = 2026
ACTOR = "benchmark"
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
SERVER_FACTORY = "benchmarks.training:server_app"
NO_TARGET = "no target in TARGETS.md"


def server_app() -> FastAPI:
    """The app uvicorn serves for part (c), configured from WUCHUANG_* variables."""
    return create_app(load_settings())


# --- The data --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Track:
    code: str
    title: str
    level: BrokerLevel | None
    session_tenths: tuple[int, ...]  # hours of a session, picked per session
    module_tenths: tuple[int, int]
    venue: str


# Half-day sessions of 1.5-3 hours and short online modules: a broker with 50 lines holds ~100 hours.
TRACKS: tuple[Track, ...] = (
    Track("CJ", "技术经理人初级培训班", BrokerLevel.JUNIOR, (15, 20, 25), (10, 20), "武汉理工大学科技园·路演厅"),
    Track("ZJ", "技术经理人中级研修班", BrokerLevel.INTERMEDIATE, (20, 25, 30), (15, 20), "武汉大学·国际学术交流中心"),
    Track("ZT", "技术经理人专题研修·知识产权运营与作价入股", None, (15, 20), (5, 10), "光谷创新天地·路演中心"),
    Track(
        "GJ", "技术经理人高级研修班·概念验证与中试", BrokerLevel.SENIOR, (25, 30), (20, 30), "光谷生物城·创新园会议中心"
    ),
)
GRANT_REASONS: tuple[str, ...] = (
    "省技术转移人才培训学时认定",
    "国家技术转移人才培养基地（湖北）线上课程学时认定",
    "参加武创荟成果对接会担任项目路演点评",
    "技术合同登记实务培训（市科技局）学时认定",
)
CORRECTION_REASONS: tuple[str, ...] = ("迟到，按实际在场时长核减", "学时重复录入，予以核减", "课程学时调整后补录")


@dataclass(slots=True)
class CourseData:
    id: int
    code: str
    event_id: int
    starts_at: datetime
    ends_at: datetime
    # (item id, kind, hours in tenths, the session's event id and start)
    items: list[tuple[int, ItemKind, int, int | None, datetime]] = field(default_factory=list)


async def make_courses(now: datetime, rng: random.Random) -> list[CourseData]:
    """Every track once per half-year, through the course service; the last term ends ~3 months ago."""
    made: list[CourseData] = []
    first_term = now - timedelta(days=182 * TERMS + 60)
    for term in range(TERMS):
        term_start = first_term + timedelta(days=182 * term)
        for index, track in enumerate(TRACKS):
            start = (
                (term_start + timedelta(days=7 * index))
                .astimezone(TZ)
                .replace(hour=9, minute=0, second=0, microsecond=0)
            )
            venue = demo_data.VENUES_BY_NAME[track.venue]
            sessions = []
            for number in range(SESSIONS_PER_COURSE):
                day = start + timedelta(days=7 * number)
                spec = catalog.EventInput(
                    title=f"{track.title}（第{term + 1}期）·第{number + 1}讲",
                    kind=EventKind.TRAINING,
                    series="jishu-jingliren",
                    district=venue.district,
                    starts_at=day,
                    ends_at=day + timedelta(hours=3, minutes=30),
                    venue=venue.name,
                    address=venue.address,
                    tags=["技术经理人", "培训"],
                )
                event = await catalog.create_event(spec, actor=ACTOR)
                await catalog.publish_event(event.id, actor=ACTOR)
                sessions.append(event)
            items = [
                courses.ItemInput(kind="session", event_id=e.id, hours=str(rng.choice(track.session_tenths) / 10))
                for e in sessions
            ]
            items += [
                courses.ItemInput(kind="module", code=f"M{n + 1}", title=f"在线课程{n + 1}", hours=str(t / 10))
                for n, t in enumerate(track.module_tenths)
            ]
            course = await courses.create_course(
                courses.CourseInput(
                    code=f"{track.code}-{term + 1}",
                    title=f"{track.title}（第{term + 1}期）",
                    level=track.level,
                    event=catalog.EventInput(
                        title=f"{track.title}（第{term + 1}期）",
                        kind=EventKind.TRAINING,
                        series="jishu-jingliren",
                        district=venue.district,
                        starts_at=sessions[0].starts_at - timedelta(minutes=30),
                        ends_at=sessions[-1].ends_at,
                        venue=venue.name,
                    ),
                    items=items,
                ),
                actor=ACTOR,
            )
            await catalog.publish_event(course.event_id, actor=ACTOR)  # type: ignore[attr-defined]
            data = CourseData(course.id, course.code, course.event_id, start, sessions[-1].ends_at)  # type: ignore[attr-defined]
            for item in await CourseItem.filter(course_id=course.id).order_by("position"):
                session = next((e for e in sessions if e.id == item.event_id), None)  # type: ignore[attr-defined]
                at = session.starts_at if session is not None else start
                data.items.append((item.id, item.kind, item.hours_tenths, session.id if session else None, at))
            made.append(data)
    return made


def plan_ledger(
    broker_id: int,
    course_list: list[CourseData],
    rng: random.Random,
    now: datetime,
    entries: int,
) -> tuple[list[CourseData], list[CreditEntry]]:
    """The broker's courses and their ledger lines but the corrections (``entries`` in all once those
    are added; enrollments are filled in later).

    A broker starts in some term, takes the 初级 track first and adds courses until enough items were
    attended; 1-3 grants and 0-2 corrections complete the count.
    """
    grants = rng.choice((0, 1, 1, 2, 3))
    corrections = rng.choice((0, 0, 0, 1, 1, 2))
    needed = entries - grants - corrections
    first_term = rng.choice((0, 0, 1, 1, 2))
    by_term = [c for c in course_list if int(c.code.split("-")[1]) - 1 >= first_term]
    juniors = [c for c in by_term if c.code.startswith("CJ")]
    ordered = juniors[:1] + rng.sample([c for c in by_term if c not in juniors[:1]], len(by_term) - 1)
    taken: list[CourseData] = []
    attended: list[tuple[CourseData, tuple[int, ItemKind, int, int | None, datetime]]] = []
    seen: set[int] = set()
    for course in ordered:
        if len(attended) >= needed:
            break
        taken.append(course)
        for item in course.items:
            if rng.random() < 0.88 and len(attended) < needed:
                attended.append((course, item))
                seen.add(item[0])
    while len(attended) < needed:  # a broker who missed a lot: catch-up on the rest of their courses
        course = rng.choice(taken)
        spare = [i for i in course.items if i[0] not in seen]
        if spare:
            item = rng.choice(spare)
            attended.append((course, item))
            seen.add(item[0])
    lines: list[CreditEntry] = []
    for course, (item_id, kind, tenths, event_id, at) in attended:
        if kind == ItemKind.SESSION:
            earned = at + timedelta(minutes=rng.randint(-20, 15))
            source, external = CreditSource.ATTENDANCE, None
        else:
            earned = course.starts_at + timedelta(days=rng.uniform(3, 70), hours=rng.uniform(8, 14))
            source, external = CreditSource.MODULE, f"lms-{broker_id}-{item_id}"
        lines.append(
            CreditEntry(
                broker_id=broker_id,
                hours_tenths=tenths,
                source=source,
                course_id=course.id,
                item_id=item_id,
                event_id=event_id,
                dedup_key=f"item:{item_id}:broker:{broker_id}",
                external_id=external,
                author="checker:gate" if source == CreditSource.ATTENDANCE else "lms",
                earned_at=min(earned, now),
            )
        )
    span = (now - course_list[0].starts_at).total_seconds()
    for _ in range(grants):
        lines.append(
            CreditEntry(
                broker_id=broker_id,
                hours_tenths=rng.choice((20, 40, 60, 80, 120)),
                source=CreditSource.GRANT,
                reason=rng.choice(GRANT_REASONS),
                author="admin:王老师",
                earned_at=course_list[0].starts_at + timedelta(seconds=span * rng.random()),
            )
        )
    return taken, lines


def add_corrections(lines: list[CreditEntry], count: int, rng: random.Random) -> list[CreditEntry]:
    """Corrections against earlier (already saved) lines: mostly taking hours back, never below zero."""
    made = []
    for target in rng.sample(lines, count):
        tenths = -rng.randint(5, target.hours_tenths) if rng.random() < 0.8 else rng.choice((5, 10))
        made.append(
            CreditEntry(
                broker_id=target.broker_id,  # type: ignore[attr-defined]
                hours_tenths=tenths,
                source=CreditSource.CORRECTION,
                course_id=target.course_id,  # type: ignore[attr-defined]
                item_id=target.item_id,  # type: ignore[attr-defined]
                event_id=target.event_id,
                corrects_id=target.id,
                reason=rng.choice(CORRECTION_REASONS),
                author="admin:王老师",
                earned_at=target.earned_at,
            )
        )
    return made


def replay_certifications(
    broker_id: int, lines: list[certification.Line], required: dict[int, tuple[str, set[int]]]
) -> list[Certification]:
    """The certifications the live rules would have made, line by line in time order (the pure
    ``certification.assess`` that ``certification.reassess`` runs after each write)."""
    rules = certification.current_rules()
    valid = {BrokerLevel(rule.level): rule.valid_years for rule in rules}
    ordered = sorted(lines, key=lambda line: line.earned_at)
    held: list[certification.Held] = []
    made: list[Certification] = []
    for i, line in enumerate(ordered):
        upto = ordered[: i + 1]
        at = line.earned_at
        found = certification.assess(upto, held, certification.completed_course_codes(upto, required), rules, at)
        for level, rnd in found.due:
            expires = certification._years_later(at, valid[level])
            held.append(certification.Held(level, rnd, at, expires))
            made.append(
                Certification(
                    broker_id=broker_id,
                    level=level,
                    round=rnd,
                    certified_at=at,
                    expires_at=expires,
                    hours_tenths=sum(x.tenths for x in upto),
                )
            )
    return made


async def bulk(model: Any, rows: list[Any], batch: int = 2000) -> None:
    if model is Event:  # events belong to an organization; the benchmark's are the default one's
        owner = await organizations.default_organization_id()
        for row in rows:
            row.organization_id = owner
    async with in_transaction() as conn:
        for i in range(0, len(rows), batch):
            await model.bulk_create(rows[i : i + batch], using_db=conn)


async def build_data(brokers: int, entries: int, background_events: int, other_people: int) -> dict[str, Any]:
    """Everything the reads need, untimed. Returns counts for the report."""
    rng = random.Random(SEED)
    now = clock.now()
    started = time.perf_counter()
    course_list = await make_courses(now, rng)
    courses_s = time.perf_counter() - started

    people = _people(rng, brokers + other_people)
    await bulk(
        Person,
        [Person(name=p.name, phone=p.phone, email=p.email, organization=p.organization, language="zh") for p in people],
    )
    person_rows = await Person.all().order_by("id").values_list("id", "name", "phone", "organization")
    broker_people = person_rows[:brokers]
    districts = [code for code, share in demo_data.DISTRICT_SHARES.items() for _ in range(share)]
    specialties = [t.name for t in demo_data.THEMES]
    await bulk(
        Broker,
        [
            Broker(
                person_id=person_id,
                organization=organization,
                district=rng.choice(districts),
                specialties=rng.sample(specialties, rng.randint(1, 3)),
                transcript_token=secrets.token_urlsafe(24),
                created_by=ACTOR,
            )
            for person_id, _, _, organization in broker_people
        ],
    )
    broker_rows = await Broker.all().order_by("id").values_list("id", "person_id")
    person_of = {person_id: (name, phone, org) for person_id, name, phone, org in broker_people}

    # Each broker's plan first (which courses), then their enrollments, then the lines that name them.
    plans = []
    for broker_id, person_id in broker_rows:
        taken, lines = plan_ledger(broker_id, course_list, rng, now, entries)
        plans.append((broker_id, person_id, taken, lines))
    course_event = {c.id: c for c in course_list}
    enrollments: list[Registration] = []
    for _, person_id, taken, _ in plans:
        name, phone, org = person_of[person_id]
        for course in taken:
            enrolled_at = course.starts_at - timedelta(days=rng.uniform(3, 30))
            if rng.random() < 0.03:  # withdrew from another course once
                taken_ids = {c.id for c in taken}
                other = course_event[rng.choice([c.id for c in course_list if c.id not in taken_ids])]
                enrollments.append(
                    Registration(
                        event_id=other.event_id,
                        person_id=person_id,
                        status=RegistrationStatus.CANCELLED,
                        name=name,
                        phone=phone,
                        organization=org,
                        ticket_version=1,
                        confirmed_at=enrolled_at,
                        cancelled_at=enrolled_at + timedelta(days=2),
                    )
                )
            enrollments.append(
                Registration(
                    event_id=course.event_id,
                    person_id=person_id,
                    status=RegistrationStatus.CONFIRMED,
                    name=name,
                    phone=phone,
                    organization=org,
                    ticket_version=1,
                    confirmed_at=enrolled_at,
                )
            )
    await bulk(Registration, enrollments)
    event_course = {c.event_id: c.id for c in course_list}
    enrolled: dict[tuple[int, int], int] = {}
    for reg_id, event_id, person_id, status in await Registration.filter(event_id__in=list(event_course)).values_list(
        "id", "event_id", "person_id", "status"
    ):
        if status == RegistrationStatus.CONFIRMED:
            enrolled[(person_id, event_course[event_id])] = reg_id
    for event_id, course_id in event_course.items():
        seats = sum(1 for (_, c) in enrolled if c == course_id)
        await Event.filter(id=event_id).update(seats_taken=seats)

    first_lines: list[CreditEntry] = []
    for _, person_id, _, lines in plans:
        for line in lines:
            if line.course_id is not None:  # type: ignore[attr-defined]
                line.registration_id = enrolled.get((person_id, line.course_id))  # type: ignore[attr-defined]
        first_lines += lines
    await bulk(CreditEntry, first_lines)
    saved: dict[int, list[CreditEntry]] = {}
    for entry in await CreditEntry.all().order_by("id"):
        saved.setdefault(entry.broker_id, []).append(entry)  # type: ignore[attr-defined]
    corrections: list[CreditEntry] = []
    for broker_id, _, _, lines in plans:
        missing = entries - len(lines)
        corrections += add_corrections(saved[broker_id], missing, rng)
    await bulk(CreditEntry, corrections)

    required = await certification.required_items_of(c.id for c in course_list)
    lines_by_broker: dict[int, list[certification.Line]] = {}
    # In id order, so that a correction sorts after the line it corrects (both carry its earned_at).
    for broker_id, at, tenths, course_id, item_id in (
        await CreditEntry.all()
        .order_by("id")
        .values_list("broker_id", "earned_at", "hours_tenths", "course_id", "item_id")
    ):
        lines_by_broker.setdefault(broker_id, []).append(certification.Line(at, tenths, course_id, item_id))
    certs: list[Certification] = []
    for broker_id, lines in lines_by_broker.items():
        certs += replay_certifications(broker_id, lines, required)
    await bulk(Certification, certs)

    # Background: ordinary events and their registrations, brokers among many others.
    public_ids: set[str] = set()
    events = fake_events(1, background_events, now, public_ids)
    await bulk(Event, events, batch=500)
    event_ids = await Event.filter(public_id__in=list(public_ids)).values_list("id", flat=True)
    background: list[Registration] = []
    for event_id in event_ids:
        for person_id, name, phone, org in rng.sample(person_rows, min(BACKGROUND_PER_EVENT, len(person_rows))):
            background.append(
                Registration(
                    event_id=event_id,
                    person_id=person_id,
                    status=RegistrationStatus.CONFIRMED,
                    name=name,
                    phone=phone,
                    organization=org,
                    ticket_version=1,
                    source="demo",
                )
            )
    await bulk(Registration, background)

    counts = {
        "courses": len(course_list),
        "items": sum(len(c.items) for c in course_list),
        "brokers": await Broker.all().count(),
        "entries": await CreditEntry.all().count(),
        "corrections": await CreditEntry.filter(source=CreditSource.CORRECTION).count(),
        "grants": await CreditEntry.filter(source=CreditSource.GRANT).count(),
        "certifications": await Certification.all().count(),
        "registrations": await Registration.all().count(),
        "events": await Event.all().count(),
        "courses_s": courses_s,
        "total_s": time.perf_counter() - started,
    }
    levels = await Certification.all().values_list("level", flat=True)
    counts["by_level"] = {str(level): levels.count(level) for level in BrokerLevel}
    return counts


async def check_data(broker_ids: list[int], entries: int, rng: random.Random) -> list[str]:
    """The bulk-inserted data is what the services would have made: nothing left to certify."""
    problems = []
    sample = rng.sample(broker_ids, min(50, len(broker_ids)))
    for broker_id in sample:
        assessment = await certification.assess_broker(broker_id)
        if assessment.due:
            problems.append(f"broker {broker_id}: assess_broker would still certify {assessment.due}")
    counts = await CreditEntry.filter(broker_id__in=sample).values_list("broker_id", flat=True)
    if any(counts.count(b) != entries for b in sample):
        problems.append(f"not every sampled broker has {entries} ledger lines")
    return problems


# --- Measuring -------------------------------------------------------------------------------


@dataclass(slots=True)
class Figure:
    label: str
    wall_s: list[float]
    cpu_s: list[float]
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "n": len(self.wall_s),
            "median_ms": statistics.median(self.wall_s) * 1000,
            "p95_ms": percentile(self.wall_s, 95) * 1000,
            "max_ms": max(self.wall_s) * 1000,
            "cpu_ms": statistics.median(self.cpu_s) * 1000 if self.cpu_s else None,
            "note": self.note,
        }


async def timed(label: str, calls: Sequence[Callable[[], Awaitable[Any]]], *, collect: bool = False) -> Figure:
    """Wall and process CPU seconds of each call, one after the other."""
    figure = Figure(label, [], [])
    for call in calls:
        if collect:
            gc.collect()
        cpu = time.process_time()
        started = time.perf_counter()
        await call()
        figure.wall_s.append(time.perf_counter() - started)
        figure.cpu_s.append(time.process_time() - cpu)
    return figure


async def measure_in_process(broker_ids: list[int], args: argparse.Namespace) -> list[dict[str, Any]]:
    rng = random.Random(SEED + 1)
    sample = [rng.choice(broker_ids) for _ in range(args.transcripts)]
    for broker_id in sample[:5]:  # warm up: the first query of a kind compiles it
        await transcripts.transcript(broker_id, tz=TZ)
    one = await transcripts.transcript(sample[0], tz=TZ)
    transcript = await timed(
        "transcript of one broker",
        [lambda b=b: transcripts.transcript(b, tz=TZ) for b in sample],  # type: ignore[misc]
    )
    transcript.note = f"{len(one.entries)} lines, {len(one.courses)} courses, {len(one.certifications)} certs"
    page_query = transcripts.BrokerQuery(sort="-hours", limit=50)
    export_query = transcripts.BrokerQuery(sort="-hours", limit=None)
    year_query = transcripts.BrokerQuery(sort="-hours", limit=50, year=clock.now().astimezone(TZ).year)
    await transcripts.list_brokers(page_query, tz=TZ)
    page = await timed(
        "leaderboard: list_brokers sort=-hours limit=50",
        [lambda: transcripts.list_brokers(page_query, tz=TZ)] * args.page_runs,
        collect=True,
    )
    first = await transcripts.list_brokers(page_query, tz=TZ)
    page.note = f"{len(first.items)} of {first.total} rows; top {first.items[0].hours} h" if first.items else ""
    export = await timed(
        "leaderboard export: list_brokers sort=-hours, no limit",
        [lambda: transcripts.list_brokers(export_query, tz=TZ)] * args.export_runs,
        collect=True,
    )
    export.note = f"{first.total} rows"
    year = await timed(
        f"this year's leaderboard: year={year_query.year}, limit=50",
        [lambda: transcripts.list_brokers(year_query, tz=TZ)] * args.page_runs,
        collect=True,
    )
    return [f.as_dict() for f in (transcript, page, export, year)]


def profile_reads(broker_ids: list[int]) -> Callable[[], Awaitable[str]]:
    """cProfile of 50 transcripts and 3 exports (the event loop's thread only: aiosqlite's worker
    thread and the PostgreSQL server are not in it, their time shows as waiting in the loop)."""

    async def run() -> str:
        out = io.StringIO()
        for label, work in (
            ("50 transcripts", [lambda b=b: transcripts.transcript(b, tz=TZ) for b in broker_ids[:50]]),
            (
                "3 leaderboard exports",
                [lambda: transcripts.list_brokers(transcripts.BrokerQuery(sort="-hours", limit=None), tz=TZ)] * 3,
            ),
        ):
            profile = cProfile.Profile()
            profile.enable()
            for call in work:
                await call()  # type: ignore[operator]
            profile.disable()
            out.write(f"--- {label}: by own time ---\n")
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(18)
            out.write(f"--- {label}: by cumulative time ---\n")
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(30)
        return out.getvalue()

    return run


async def measure_http(settings: Settings, broker_ids: list[int], args: argparse.Namespace) -> dict[str, Any]:
    """Part (c): the API routes over a socket, one request at a time, if they exist."""
    token = (await tokens.create_token(role=Role.ADMIN, name="training benchmark")).plaintext
    env = {
        "WUCHUANG_DATA_DIR": str(settings.data_dir),
        "WUCHUANG_PUBLIC_RATE_LIMIT": "0",
        "WUCHUANG_DATABASE_URL": settings.database_url or "",
        "WUCHUANG_NOTIFICATIONS": "false",
    }
    rng = random.Random(SEED + 2)
    log_path = Path(args.data_dir) / "server.log"
    exports = max(5, args.http_requests // 10)
    routes: dict[str, tuple[Callable[[], str], int]] = {
        "GET /api/v1/brokers/{id}/transcript": (
            lambda: f"/api/v1/brokers/{rng.choice(broker_ids)}/transcript",
            args.http_requests,
        ),
        "GET /api/v1/brokers?sort=-hours (first page)": (lambda: "/api/v1/brokers?sort=-hours", args.http_requests),
        "GET /api/v1/brokers?sort=-hours&format=csv (export)": (
            lambda: "/api/v1/brokers?sort=-hours&format=csv",
            exports,
        ),
    }
    figures: list[dict[str, Any]] = []
    skipped: list[str] = []
    failed: list[str] = []
    async with (
        uvicorn_server(SERVER_FACTORY, env=env, log_path=log_path) as server,
        httpx.AsyncClient(
            base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30, trust_env=False
        ) as client,
    ):
        for label, (path, requests) in routes.items():
            probe = await client.get(path())
            if probe.status_code == 404 and _error_code(probe) == "not_found":
                skipped.append(f"{label}: no such route yet (404 not_found)")
                continue
            if probe.status_code != 200:
                failed.append(f"{label}: {probe.status_code} {probe.text[:200]}")
                continue
            for _ in range(3):
                await client.get(path())
            wall: list[float] = []
            statuses: dict[int, int] = {}
            size = len(probe.content)
            for _ in range(requests):
                started = time.perf_counter()
                response = await client.get(path())
                wall.append(time.perf_counter() - started)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if set(statuses) != {200}:
                failed.append(f"{label}: statuses {statuses}")
            figure = Figure(label, wall, [], note=f"{size / 1024:.1f} KB").as_dict()
            figures.append(figure)
    return {"figures": figures, "skipped": skipped, "failed": failed}


def _error_code(response: httpx.Response) -> str | None:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


def worker(args: argparse.Namespace) -> None:
    settings = load_settings(database_url=args.database_url or None, data_dir=args.data_dir, public_rate_limit="0")
    started = time.perf_counter()
    schema = build_schema(settings)
    print(f"  {args.worker}: schema by {schema} in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)

    async def measure() -> dict[str, Any]:
        await init_db(settings)
        try:
            counts = await build_data(args.brokers, args.entries, args.background_events, args.other_people)
            print(
                f"  {args.worker}: {counts['brokers']} brokers, {counts['entries']} ledger lines "
                f"({counts['grants']} grants, {counts['corrections']} corrections), {counts['certifications']} "
                f"certifications {counts['by_level']}, {counts['registrations']} registrations, "
                f"{counts['events']} events, built in {counts['total_s']:.1f} s (untimed)",
                file=sys.stderr,
                flush=True,
            )
            broker_ids = list(await Broker.all().order_by("id").values_list("id", flat=True))
            problems = await check_data(broker_ids, args.entries, random.Random(SEED + 3))
            figures = await measure_in_process(broker_ids, args)
            for f in figures:
                print(
                    f"  {args.worker}: {f['label']}: median {f['median_ms']:.1f} ms, p95 {f['p95_ms']:.1f} ms",
                    file=sys.stderr,
                    flush=True,
                )
            profile = await profile_reads(broker_ids)() if args.profile else None
            http = None if args.no_http else await measure_http(settings, broker_ids, args)
            return {"counts": counts, "problems": problems, "figures": figures, "http": http, "profile": profile}
        finally:
            await close_db()

    Path(args.result_file).write_text(json.dumps(run_async(measure)))


# --- The whole benchmark ---------------------------------------------------------------------


def run_backend(backend: str, database_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"wuchuang-bench-training-{backend}-") as tmp:
        worker_args = [
            "--brokers",
            str(args.brokers),
            "--entries",
            str(args.entries),
            "--transcripts",
            str(args.transcripts),
            "--page-runs",
            str(args.page_runs),
            "--export-runs",
            str(args.export_runs),
            "--http-requests",
            str(args.http_requests),
            "--background-events",
            str(args.background_events),
            "--other-people",
            str(args.other_people),
            *(["--profile"] if args.profile else []),
            *(["--no-http"] if args.no_http else []),
        ]
        return run_worker("benchmarks.training", backend, database_url, tmp, worker_args, timeout_s=args.timeout)


def report(results: dict[str, dict[str, Any]]) -> str:
    out = []
    rows: list[tuple[object, ...]] = []
    target_rows: list[tuple[object, ...]] = []
    for backend, result in results.items():
        http = result.get("http") or {}
        for where, figures in (("in-process", result["figures"]), ("socket", http.get("figures", []))):
            for f in figures:
                cpu = "-" if f["cpu_ms"] is None else f"{f['cpu_ms']:.1f}"
                rows.append(
                    (
                        backend,
                        where,
                        f["label"],
                        f["n"],
                        f"{f['median_ms']:.1f}",
                        f"{f['p95_ms']:.1f}",
                        f"{f['max_ms']:.1f}",
                        cpu,
                        f["note"],
                    )
                )
                target_rows.append(
                    (
                        f["label"],
                        f"{backend}, {where}",
                        f"p50 {f['median_ms']:.1f} ms, p95 {f['p95_ms']:.1f} ms",
                        NO_TARGET,
                        "-",
                    )
                )
    out.append(
        render_table(
            "Training reads",
            ("backend", "where", "figure", "n", "median ms", "p95 ms", "max ms", "CPU ms (p50)", "note"),
            rows,
            left=3,
        )
        + "\nCPU ms: this process's user+system time per call (in-process only; with SQLite it includes aiosqlite's"
        " thread, with PostgreSQL the server's work is not in it). socket: one client, one request at a time."
    )
    for backend, result in results.items():
        c = result["counts"]
        out.append(
            f"{backend} data: {c['brokers']} brokers × {c['entries'] // max(1, c['brokers'])} lines = {c['entries']} "
            f"({c['grants']} grants, {c['corrections']} corrections) over {c['courses']} courses / {c['items']} items; "
            f"{c['certifications']} certifications {c['by_level']}; {c['registrations']} registrations on "
            f"{c['events']} events; built in {c['total_s']:.1f} s "
            f"(courses through the services: {c['courses_s']:.1f} s)"
        )
        http = result.get("http")
        if http is None:
            out.append(f"{backend} socket: not run (--no-http)")
        for note in (http or {}).get("skipped", []):
            out.append(f"{backend} socket skipped: {note}")
    out.append(targets_table(target_rows))
    for backend, result in results.items():
        if result.get("profile"):
            out.append(f"Profile ({backend}):\n{result['profile']}")
    return "\n\n".join(out)


def failures(results: dict[str, dict[str, Any]]) -> list[str]:
    found = []
    for backend, result in results.items():
        found += [f"{backend}: {problem}" for problem in result["problems"]]
        found += [f"{backend} socket: {problem}" for problem in (result.get("http") or {}).get("failed", [])]
    return found


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_postgres_argument(parser)
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 brokers, fewer repeats")
    parser.add_argument("--brokers", type=int, help=f"brokers (default {BROKERS})")
    parser.add_argument("--entries", type=int, default=ENTRIES, help=f"ledger lines per broker (default {ENTRIES})")
    parser.add_argument("--transcripts", type=int, help=f"transcripts timed (default {TRANSCRIPTS})")
    parser.add_argument("--page-runs", type=int, help=f"runs of each leaderboard page (default {PAGE_RUNS})")
    parser.add_argument("--export-runs", type=int, help=f"runs of the whole list (default {EXPORT_RUNS})")
    parser.add_argument("--http-requests", type=int, help=f"requests per route over HTTP (default {HTTP_REQUESTS})")
    parser.add_argument("--background-events", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--other-people", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-http", action="store_true", help="in-process only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--profile", action="store_true", help="print cProfile of transcripts and the export")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds one database's run may take")
    parser.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    # A worker measures one database; the parent starts it.
    parser.add_argument("--worker", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    args.brokers = args.brokers or (QUICK_BROKERS if quick else BROKERS)
    args.transcripts = args.transcripts or (QUICK_TRANSCRIPTS if quick else TRANSCRIPTS)
    args.page_runs = args.page_runs or (QUICK_PAGE_RUNS if quick else PAGE_RUNS)
    args.export_runs = args.export_runs or (QUICK_EXPORT_RUNS if quick else EXPORT_RUNS)
    args.http_requests = args.http_requests or (QUICK_HTTP_REQUESTS if quick else HTTP_REQUESTS)
    args.background_events = args.background_events or (QUICK_BACKGROUND_EVENTS if quick else BACKGROUND_EVENTS)
    args.other_people = args.other_people or (QUICK_OTHER_PEOPLE if quick else OTHER_PEOPLE)
    if args.worker:
        return args
    if min(args.brokers, args.entries, args.transcripts, args.page_runs, args.export_runs, args.http_requests) < 1:
        parser.error("counts must be positive")
    if args.entries < 12:
        parser.error("--entries: at least 12 (a broker's first course alone has 10 items)")
    if args.no_sqlite and not args.postgres:
        parser.error("--no-sqlite needs --postgres")
    if args.postgres:
        check_loopback_url(args.postgres)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    print(
        f"training benchmark: {args.brokers} brokers × {args.entries} ledger lines; {args.transcripts} transcripts, "
        f"{args.page_runs} leaderboard pages, {args.export_runs} exports; {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        file=sys.stderr,
        flush=True,
    )
    before = machine_cpu_jiffies()
    time.sleep(1)
    idle_busy = machine_busy_percent(before, machine_cpu_jiffies())
    results: dict[str, dict[str, Any]] = {}
    if not args.no_sqlite:
        results["sqlite"] = run_backend("sqlite", None, args)
    if args.postgres:
        with throwaway_postgres_database(args.postgres, f"wuchuang_bench_training_{os.getpid()}") as url:
            results["postgres"] = run_backend("postgres", url, args)
    sys.stderr.flush()
    print()
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, now {datetime.now(UTC):%Y-%m-%d}")
    if idle_busy is not None:
        print(
            f"machine busy in the second before the benchmark started: {idle_busy:.0f} % of all cores"
            + (" (other work was running: the figures are pessimistic)" if idle_busy > 15 else "")
        )
    print()
    print(report(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    problems = failures(results)
    for problem in problems:
        print(f"FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
