"""A small hand-built world for the office's dashboard and the monthly brief: two organizations, two
districts, 2026's sessions, registrations, check-ins, demands, transfers, brokers and a competition.

Every record is written directly with its dates, so the expected figures below are exact.
As of 2026-12-01 10:00 in Wuhan (``AS_OF``):

| | everything | organization A |
|---|---|---|
| 武创荟 sessions held in 2026 | 3 (A: Mar, Nov; B: Nov) | 2 |
| brokers trained in 2026 | 3 | 2 |
| demands in 2026 | 6 | 4 |
| key achievements in 2026 | 2 | 1 |
| major transfers in 2026 | 2 | 1 |
| turnover in 2026 (万元) | 1,150 | 350 |

Besides the sessions, A runs a course in 武昌: its enrollment event (2 confirmed) is not a gathering,
its one session in November expects those 2 and saw 1 of them (by course pass).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count

from events.models import (
    Achievement,
    AchievementStatus,
    AchievementTier,
    Attendance,
    Broker,
    BrokerLevel,
    Certification,
    CertificationState,
    Competition,
    Connection,
    Course,
    CourseItem,
    Demand,
    DemandKind,
    DemandStatus,
    DemandStatusChange,
    Entry,
    EntryStatus,
    Event,
    EventKind,
    EventStatus,
    ItemKind,
    Person,
    Registration,
    RegistrationStatus,
    Round,
    RoundStatus,
    Track,
    Transfer,
    TransferMode,
)
from events.services import organizations

AS_OF = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 on 1 December in Wuhan
_seq = count(1)


def at(day: str, hour: int = 2) -> datetime:
    """A UTC moment on a day (hour in UTC; 2 = 10:00 in Wuhan)."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@dataclass
class World:
    org_a: int
    org_b: int
    best_session: Event  # B's November session: 3 of 3 checked in
    nov_a: Event


async def _event(
    org: int, title: str, starts: datetime, *, district: str, status: EventStatus, capacity: int = 100
) -> Event:
    return await Event.create(
        public_id=f"w{next(_seq):08d}",
        title=title,
        kind=EventKind.SESSION,
        series="wuchuanghui",
        district=district,
        venue="光谷科技会展中心",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        capacity=capacity,
        status=status,
        organization_id=org,
    )


async def _people(event: Event, statuses: list[RegistrationStatus], arrivals: int, *, extra_day: bool = False) -> None:
    """Registrations in ``statuses``; the first ``arrivals`` of them checked in."""
    for i, status in enumerate(statuses):
        n = next(_seq)
        person = await Person.create(name=f"参会者{n}", phone=f"139{n:08d}")
        reg = await Registration.create(event=event, person=person, status=status, name=person.name)
        if i < arrivals:
            await Attendance.create(
                event=event, registration=reg, day=event.starts_at.date(), checked_in_at=event.starts_at
            )
            if extra_day and i == 0:  # counted once, whatever the days
                await Attendance.create(
                    event=event,
                    registration=reg,
                    day=event.starts_at.date() + timedelta(days=1),
                    checked_in_at=event.starts_at + timedelta(days=1),
                )


async def _demand(org: int, title: str, created: datetime, district: str) -> Demand:
    return await Demand.create(
        kind=DemandKind.TECHNOLOGY,
        title=title,
        district=district,
        managed_by_id=org,
        created_by="test",
        created_at=created,
    )


async def _broker(
    org: int, district: str, certified: datetime, state: CertificationState = CertificationState.ACTIVE
) -> None:
    n = next(_seq)
    person = await Person.create(name=f"经理人{n}", phone=f"138{n:08d}")
    broker = await Broker.create(
        person=person, district=district, transcript_token=f"seed{n:012d}", owner_organization_id=org, created_by="test"
    )
    await Certification.create(
        broker=broker, level=BrokerLevel.JUNIOR, certified_at=certified, hours_tenths=400, number=f"WH-{n}", state=state
    )


async def build_world() -> World:
    a = (await organizations.find_or_create_organization("东湖高新区科创局")).id
    b = (await organizations.find_or_create_organization("武昌区科技局")).id
    pub, fin = EventStatus.PUBLISHED, EventStatus.FINISHED
    c, w, x = RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED, RegistrationStatus.CANCELLED

    nov_a = await _event(a, "武创荟·光电子信息专场", at("2026-11-10", 6), district="donghu_gaoxin", status=fin)
    await _people(nov_a, [c, c, c, c, w, x], 3, extra_day=True)
    mar_a = await _event(a, "武创荟·生物医药专场", at("2026-03-05", 6), district="wuchang", status=fin)
    await _people(mar_a, [c, c], 1)
    await _event(a, "武创荟·草稿", at("2026-11-12"), district="donghu_gaoxin", status=EventStatus.DRAFT)
    await _event(a, "武创荟·已取消", at("2026-11-14"), district="donghu_gaoxin", status=EventStatus.CANCELLED)
    await _event(a, "武创荟·十二月专场", at("2026-12-20"), district="donghu_gaoxin", status=pub)
    last_year = await _event(a, "武创荟·去年专场", at("2025-11-10"), district="donghu_gaoxin", status=fin)
    await _people(last_year, [c], 1)
    nov_b = await _event(
        b, "武创荟·人工智能专场", at("2026-11-20", 6), district="donghu_gaoxin", status=fin, capacity=3
    )
    await _people(nov_b, [c, c, c], 3)

    # A course: its enrollment event (no gathering: not listed) and a session its enrollees enter by pass.
    course_event = await _event(a, "技术经理人初级研修班", at("2026-11-01"), district="wuchang", status=pub)
    course_event.series, course_event.kind = None, EventKind.TRAINING
    await course_event.save()
    await _people(course_event, [c, c, w], 0)
    session = await _event(a, "研修班·第1讲", at("2026-11-21", 6), district="wuchang", status=fin)
    session.series, session.kind = None, EventKind.TRAINING
    await session.save()
    course = await Course.create(code="JSJL-2026", title="技术经理人初级研修班", event=course_event, created_by="test")
    await CourseItem.create(
        course=course, kind=ItemKind.SESSION, event=session, code="s1", title="第1讲", hours_tenths=30
    )
    enrolled = await Registration.filter(event=course_event, status=c).order_by("id").first()
    assert enrolled is not None
    await Attendance.create(
        event=session, registration=enrolled, day=session.starts_at.date(), checked_in_at=session.starts_at
    )

    d1 = await _demand(a, "激光焊接工艺改进", at("2026-11-02"), "donghu_gaoxin")
    d2 = await _demand(a, "光纤传感器国产化", at("2026-11-03"), "donghu_gaoxin")
    await _demand(a, "医药中试平台", at("2026-11-04"), "wuchang")
    await _demand(a, "早期项目融资", at("2026-02-10"), "wuchang")
    await _demand(b, "工业视觉质检", at("2026-11-05"), "donghu_gaoxin")
    await _demand(b, "大模型应用场景", at("2026-11-06"), "donghu_gaoxin")
    for demand, steps in (
        (d1, [("matched", "2026-11-12"), ("contracted", "2026-11-25")]),
        (d2, [("matched", "2026-11-13")]),
    ):
        previous = DemandStatus.OPEN
        for status, day in steps:
            await DemandStatusChange.create(
                demand=demand, from_status=previous, to_status=DemandStatus(status), actor="test", at=at(day)
            )
            previous = DemandStatus(status)
        demand.status = previous
        await demand.save()
        await Connection.create(demand=demand, managed_by_id=a, created_at=at("2026-11-14"))

    await Transfer.create(
        demand=d1,
        mode=TransferMode.TRANSFER,
        amount_cny=Decimal("3000000"),
        signed_on=date(2026, 11, 25),
        major=True,
        managed_by_id=a,
        created_by="test",
        contract_no="A-1",
    )
    await Transfer.create(
        mode=TransferMode.LICENSE,
        amount_cny=Decimal("500000"),
        signed_on=date(2026, 4, 10),
        managed_by_id=a,
        created_by="test",
        contract_no="A-2",
    )
    await Transfer.create(
        mode=TransferMode.TRANSFER,
        amount_cny=Decimal("8000000"),
        signed_on=date(2026, 11, 28),
        major=True,
        managed_by_id=b,
        created_by="test",
        contract_no="B-1",
    )

    await _broker(a, "donghu_gaoxin", at("2026-11-15"))
    await _broker(a, "wuchang", at("2026-02-01"))
    await _broker(b, "donghu_gaoxin", at("2026-11-16"))
    await _broker(a, "donghu_gaoxin", at("2026-11-17"), CertificationState.SUSPENDED)

    for org, status, created in (
        (a, AchievementStatus.AVAILABLE, at("2026-11-08")),
        (a, AchievementStatus.WITHDRAWN, at("2026-11-09")),
        (b, AchievementStatus.AVAILABLE, at("2026-10-09")),
    ):
        await Achievement.create(
            title=f"重点成果{next(_seq)}",
            tier=AchievementTier.KEY,
            status=status,
            managed_by_id=org,
            created_by="test",
            created_at=created,
        )

    competition = await Competition.create(
        title="第三届武创源颠覆性技术大赛",
        launch_event=nov_a,
        managed_by_id=a,
        created_by="test",
        created_at=at("2026-09-01"),
    )
    track = await Track.create(competition=competition, code="ai", name="人工智能")
    first = await Round.create(
        competition=competition,
        code="r1",
        name="初赛",
        order=1,
        judges_per_entry=3,
        status=RoundStatus.CLOSED,
        closed_at=at("2026-11-18"),
    )
    await Round.create(competition=competition, code="r2", name="决赛", order=2, judges_per_entry=5)
    for i, status in enumerate([EntryStatus.ADVANCED, EntryStatus.ELIMINATED, EntryStatus.AWARDED]):
        await Entry.create(
            competition=competition,
            title=f"参赛项目{i}",
            leader_name="负责人",
            track=track,
            status=status,
            current_round=first,
            created_by="test",
        )
    return World(org_a=a, org_b=b, best_session=nov_b, nov_a=nov_a)
