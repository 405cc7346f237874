"""The roadshow demo (#15 point 7), replayed through the real roadshow services.

One event, the year's 产医融合项目路演 (kind ``roadshow``), that started two days ago and ends in two days:

- **Projects**: twelve achievements of the supply demo's library (biomedicine, medical devices, digital
  health, AI) pitch, each with its presenter.
- **Investors**: ten funds, verified, with their profiles (fields, rounds, ticket sizes, districts); one is the
  demo's Telegram user Chen Yu (an English speaker), so /investor and the matched pitches show in the bot.
- **Interest** both ways, some mutual, some one-sided.
- **Session 1** (two days ago): the batch scheduler made the meetings; they were held and rated
  (没见成 … 有合作可能), and the follow-ups came in today: one 洽谈中, one 已签约 with its contract recorded
  (a transfer: its amount counts in ``/api/v1/goals``' contract turnover).
- **Session 2** (in two days): the batch scheduler made the meetings; beside them a few requests are pending
  and one was declined.

So ``GET /api/v1/roadshows/{id}/funnel`` has every stage. The matched pitches are found after the load
(``match_pitches``): matching reads the whole library, which the load builds only once it is committed. They
share each person's weekly allowance of matched opportunities with the library's matches, so the two funds on
Telegram (Chen Yu and 罗振华) mostly hear of library achievements first: the cap at work.
Call ``load_roadshow`` inside a transaction, with ``events.clock`` reading ``sim``; the caller restores it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from events import localtime
from events.errors import DomainError
from events.models import (
    Achievement,
    AchievementStatus,
    Event,
    EventKind,
    FollowUpAnswer,
    MeetingInterest,
    MeetingRating,
    MeetingRequest,
    MeetingSlot,
    MeetingStatus,
    Participant,
    ParticipantRole,
    Person,
    Pitch,
    PitchStatus,
)
from events.services import catalog, investors, organizations, transfers
from events.services.organizations import EVERYTHING
from events.services.roadshows import lineup, outcomes, pitches, requests, scheduling, sessions
from events.services.roadshows.requests import Acting
from wuchuang.demo_supply import MovableClock, TelegramContact

ACTOR = "demo"
SEED = 2615
TITLE = "{year}武创荟·产医融合项目路演"
FIELDS = ("biomedicine", "medical_devices", "digital", "ai")
PROJECTS = 12
CONTRACT_CNY = 8_000_000  # the equity deal signed after session 1
# 产医融合: medicine and devices, and AI or digital projects that serve health care.
HEALTH_FIELDS = ("biomedicine", "medical_devices")
HEALTH_WORDS = ("医", "药", "康复", "养老", "健康", "病", "诊")
PRESENTERS = ("李", "王", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙")
# A second investor on Telegram, whose matched pitches show in the console (Chen Yu's weekly allowance of
# matched opportunities goes to the achievements she speaks for).
TELEGRAM_INVESTOR = (700000004, "罗振华")
GIVEN = ("志强", "海燕", "建华", "晓东", "丽娟", "文博", "思远", "雪梅", "国栋", "佳怡", "俊杰", "明轩")


@dataclass(frozen=True, slots=True)
class FundSpec:
    name: str
    organization: str
    person: str
    description: str
    fields: tuple[str, ...]
    stages: tuple[str, ...]
    ticket_wan: tuple[int, int]  # 万元
    districts: tuple[str, ...]


FUNDS: tuple[FundSpec, ...] = (
    FundSpec("Chen Yu · 楚天医疗健康基金", "楚天医疗健康产业投资基金", "Chen Yu",
             "Early-stage medtech and digital health; 医疗器械、数字医疗、医学影像。",
             ("medical_devices", "digital", "biomedicine"), ("angel", "pre_a", "a"), (200, 2000), ("donghu_gaoxin",)),
    FundSpec("光谷生物医药产业基金", "光谷生物医药产业投资基金", "罗振华",
             "创新药、细胞治疗、合成生物，偏好临床前到临床 II 期。",
             ("biomedicine", "synbio"), ("a", "b"), (1000, 8000), ("donghu_gaoxin", "jiangxia")),
    FundSpec("长江医疗器械创投", "长江医疗器械创业投资有限公司", "高雅", "高端医疗器械、手术机器人、体外诊断。",
             ("medical_devices", "equipment"), ("pre_a", "a", "b"), (500, 5000), ("donghu_gaoxin", "hongshan")),
    FundSpec("武汉数字健康天使基金", "武汉数字健康天使投资合伙企业", "钱博文", "医疗人工智能、医学影像、慢病管理平台。",
             ("digital", "ai", "medical_devices"), ("angel", "pre_a"), (100, 800), ()),
    FundSpec("湖北省高投生命科学基金", "湖北省高新技术产业投资有限公司", "孟庆云",
             "生命科学平台型企业，战略投资与产业并购。",
             ("biomedicine", "medical_devices"), ("b", "c_plus", "strategic"), (3000, 20000), ()),
    FundSpec("东湖人工智能产业基金", "东湖人工智能产业投资基金", "邓子涵",
             "人工智能在医疗、制造中的应用，算法与数据平台。",
             ("ai", "digital"), ("pre_a", "a"), (500, 3000), ("donghu_gaoxin",)),
    FundSpec("汉江合成生物创投", "汉江合成生物创业投资有限公司", "潘晓静", "合成生物、生物制造、酶工程。",
             ("synbio", "biomedicine"), ("angel", "pre_a", "a"), (300, 3000), ("wuhan_jingkai", "donghu_gaoxin")),
    FundSpec("江城天使会", "江城天使投资俱乐部", "谢文", "高校科研成果早期转化，医疗与信息技术均看。",
             ("medical_devices", "digital", "ai", "biomedicine"), ("angel",), (50, 300), ("hongshan", "wuchang")),
    FundSpec("华中科创母基金", "华中科技创新母基金", "冯立军", "硬科技成长期，重视在汉落地与产业链配套。",
             ("optoelectronics", "medical_devices", "ic"), ("b", "c_plus"), (5000, 30000), ()),
    FundSpec("楚商医药健康基金", "楚商医药健康产业基金", "范美玲", "中药现代化、创新药、医疗服务。",
             ("biomedicine",), ("a", "b", "strategic"), (1000, 6000), ("jiangxia", "hanyang")),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RoadshowSummary:
    event_id: int | None = None
    projects: int = 0
    lineup: int = 0  # pitches in the programme
    investors: int = 0
    interest: int = 0
    mutual: int = 0
    meetings: int = 0  # accepted (held and to come)
    pending: int = 0
    declined: int = 0
    rated: int = 0  # meetings rated by at least one side
    signed: int = 0
    matched_pitches: int = 0  # investor × project pairs found by the matching (pushed, capped)


def _local(day_offset: int, hhmm: str, now: datetime) -> datetime:
    day = localtime.local(now).date() + timedelta(days=day_offset)
    hour, minute = (int(p) for p in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=localtime.zone()).astimezone(UTC)


async def roadshow_loaded() -> bool:
    return await Event.filter(created_by=ACTOR, kind=EventKind.ROADSHOW, title__contains="产医融合项目路演").exists()


class _Loader:
    def __init__(self, sim: MovableClock, now: datetime, telegram: Sequence[TelegramContact]) -> None:
        self.sim, self.now, self.telegram = sim, now, list(telegram)
        self.rng = random.Random(SEED)
        self.organizer = Acting(actor=ACTOR, scope=EVERYTHING)

    def at(self, day_offset: int, hhmm: str) -> None:
        self.sim.at = min(_local(day_offset, hhmm, self.now), self.now - timedelta(minutes=2))

    async def event(self) -> Event:
        self.at(-30, "10:00")
        year = localtime.local(self.now).year
        made = await catalog.create_event(
            catalog.EventInput(
                title=TITLE.format(year=year), kind="roadshow", series="chanyi", district="donghu_gaoxin",
                starts_at=_local(-2, "09:00", self.now), ends_at=_local(2, "17:30", self.now),
                venue="光谷科技会展中心·路演厅", capacity=300, host="武汉市科技创新局",
                tags=["产医融合", "项目路演", "投融资对接"],
                description="十二个医疗健康与生物医药项目路演，十家投资机构现场一对一约谈：两场约谈，路演前按投资人画像推送匹配项目。",
            ),
            actor=ACTOR,
        )  # fmt: skip
        return await catalog.publish_event(made.id, actor=ACTOR)

    async def projects(self, event: Event) -> list[int]:
        found = [
            a
            for a in await Achievement.filter(created_by=ACTOR, field__in=FIELDS, status=AchievementStatus.AVAILABLE)
            .order_by("id")
            .limit(300)
            if a.field in HEALTH_FIELDS or any(word in a.title for word in HEALTH_WORDS)
        ]
        self.rng.shuffle(found)
        picked = sorted(found[:PROJECTS], key=lambda a: a.id)
        ids = []
        for n, achievement in enumerate(picked):
            presenter = await Person.create(
                name=PRESENTERS[n] + GIVEN[n], organization=achievement.team[0] if achievement.team else ""
            )
            join = sessions.ParticipantInput(achievement_id=achievement.id, person_id=presenter.id)
            ids.append((await sessions.add_participant(event.id, join, scope=EVERYTHING, actor=ACTOR)).id)
        return ids

    async def lineup(self, event: Event, projects: list[int]) -> None:
        """The programme of the first morning: ten minutes a pitch from 09:30, each presented on stage in
        turn (the last one is over by lunch)."""
        self.at(-3, "18:00")
        start = _local(-2, "09:30", self.now)
        for n, participant_id in enumerate(projects):
            presenter = await Participant.get(id=participant_id).values_list("person_id", flat=True)
            await lineup.add_pitch(
                event.id,
                lineup.PitchInput(
                    participant_id=participant_id, presenter_id=presenter, starts_at=start + timedelta(minutes=10 * n)
                ),
                scope=EVERYTHING, actor=ACTOR,
            )  # fmt: skip
        for pitch in await lineup.lineup(event.id):
            if pitch.starts_at is not None:
                self.sim.at = min(pitch.starts_at, self.now - timedelta(minutes=2))
            await lineup.update_pitch(
                event.id, pitch.id, lineup.PitchUpdate(status=PitchStatus.DONE), scope=EVERYTHING, actor=ACTOR
            )

    async def investors(self, event: Event) -> list[int]:
        manager = await organizations.default_organization_id()
        chen_yu = self.telegram[1] if len(self.telegram) > 1 else None
        ids = []
        for spec in FUNDS:
            person = None
            if chen_yu is not None and spec.person == chen_yu.name:
                person, _ = await Person.get_or_create(
                    telegram_id=chen_yu.telegram_id, defaults={"name": chen_yu.name, "language": "en"}
                )
            elif spec.person == TELEGRAM_INVESTOR[1]:
                person, _ = await Person.get_or_create(
                    telegram_id=TELEGRAM_INVESTOR[0], defaults={"name": spec.person, "organization": spec.organization}
                )
            if person is None:
                person = await Person.create(name=spec.person, organization=spec.organization)
            profile = await investors.create_investor(
                investors.InvestorInput(
                    name=spec.name, description=spec.description, organization=spec.organization, person_id=person.id,
                    fields_of_interest=list(spec.fields), stages=list(spec.stages),
                    ticket_min_cny=spec.ticket_wan[0] * 10_000, ticket_max_cny=spec.ticket_wan[1] * 10_000,
                    districts=list(spec.districts),
                ),
                organization_id=manager, actor=ACTOR,
            )  # fmt: skip
            await investors.verify_investor(profile.id, scope=EVERYTHING, actor=ACTOR)
            join = sessions.ParticipantInput(investor_id=profile.id)
            ids.append((await sessions.add_participant(event.id, join, scope=EVERYTHING, actor=ACTOR)).id)
        return ids

    async def interest(self, event: Event, projects: list[int], funds: list[int]) -> None:
        """Each fund wants three or four projects, each project two funds; some of it meets (mutual)."""
        self.at(-9, "15:00")
        for fund in funds:
            for project in self.rng.sample(projects, self.rng.randint(3, 4)):
                await sessions.add_interest(event.id, fund, project, origin="bot", actor=ACTOR)
        self.at(-8, "11:00")
        for project in projects:
            for fund in self.rng.sample(funds, 2):
                await sessions.add_interest(event.id, project, fund, origin="api", actor=ACTOR)

    async def session(self, event: Event, day: int, title: str, *, tables: int, expiry_hours: int = 24) -> int:
        made = await sessions.create_session(
            event.id,
            sessions.SessionInput(
                title=title, starts_at=_local(day, "14:00", self.now), ends_at=_local(day, "16:00", self.now),
                slot_minutes=20, tables=tables, request_expiry_hours=expiry_hours,
            ),
            scope=EVERYTHING, actor=ACTOR,
        )  # fmt: skip
        return made.id

    async def schedule(self, event: Event, session_id: int) -> None:
        await scheduling.schedule(
            event.id, session_id, scheduling.ScheduleInput(min_meetings=2), scope=EVERYTHING, actor=ACTOR
        )

    async def held(self, event: Event, session_id: int) -> int:
        """Session 1 was held: both sides rated each meeting; the follow-ups came in today."""
        self.at(-2, "16:30")
        meetings = await MeetingRequest.filter(session_id=session_id, status=MeetingStatus.ACCEPTED).order_by("id")
        ratings = (MeetingRating.PROMISING, MeetingRating.USEFUL, MeetingRating.USEFUL, MeetingRating.LOW_INTEREST)
        for n, meeting in enumerate(meetings):
            if n == len(meetings) - 1:  # one table waited in vain
                await outcomes.rate(meeting.id, meeting.requester_id, MeetingRating.NO_SHOW, self.organizer)
                continue
            first = MeetingRating.PROMISING if n < 2 else self.rng.choice(ratings)
            await outcomes.rate(meeting.id, meeting.requester_id, first, self.organizer)
            if self.rng.random() < 0.7:
                await outcomes.rate(meeting.id, meeting.recipient_id, self.rng.choice(ratings), self.organizer)
        signed = 0
        if meetings:
            self.at(0, "09:30")
            signing = await MeetingRequest.get(id=meetings[0].id).select_related("requester", "recipient")
            project = signing.requester if signing.requester.achievement_id else signing.recipient
            investor = signing.recipient if project is signing.requester else signing.requester
            fund = await investors.get_investor(investor.investor_id or 0, EVERYTHING) if investor.investor_id else None
            buyer = fund.organization.name if fund is not None and fund.organization is not None else None
            contract = transfers.TransferInput(
                achievement_id=project.achievement_id, buyer=buyer,
                mode="equity", amount_cny=Decimal(CONTRACT_CNY), signed_on=localtime.local(self.now).date(),
                contract_no=f"RS-{localtime.local(self.now).year}-001",
            )  # fmt: skip
            for side in (project.id, investor.id):
                await outcomes.follow_up(
                    signing.id, side, FollowUpAnswer.SIGNED, self.organizer,
                    transfer=contract if side == investor.id else None, organization_id=event.organization_id,
                )  # fmt: skip
            signed = 1
            if len(meetings) > 1:
                await outcomes.follow_up(meetings[1].id, meetings[1].requester_id, FollowUpAnswer.IN_TALKS,
                                         self.organizer)  # fmt: skip
        return signed

    async def asked(self, event: Event, session_id: int, projects: list[int], funds: list[int]) -> None:
        """Session 2: requests made the day before the scheduler ran, a few pending, one declined."""
        self.at(-1, "17:00")
        free = list(await MeetingSlot.filter(session_id=session_id).order_by("number").values_list("id", flat=True))
        made: list[int] = []
        for project in projects:
            if len(made) == 4:
                break
            for fund in funds:
                try:
                    slot = free[len(made) % len(free)]
                    request = await requests.request_meeting(
                        requests.MeetingRequestInput(slot_id=slot, requester_id=project, recipient_id=fund,
                                                     message="希望介绍我们的临床数据与融资计划。"),
                        actor=ACTOR,
                    )  # fmt: skip
                except DomainError:  # the pair or the slot is taken already: try the next
                    continue
                made.append(request.id)
                break
        if made:
            await requests.decline(made[0], self.organizer, reason="该时段已有安排")


async def load_roadshow(
    sim: MovableClock, now: datetime, *, telegram: Sequence[TelegramContact] = ()
) -> RoadshowSummary:
    """Replay the roadshow demo up to ``now`` (see the module). Needs the supply demo's library."""
    loader = _Loader(sim, now, telegram)
    event = await loader.event()
    projects = await loader.projects(event)
    if not projects:
        return RoadshowSummary()
    await loader.lineup(event, projects)
    funds = await loader.investors(event)
    await loader.interest(event, projects, funds)
    loader.at(-7, "10:00")
    first = await loader.session(event, -2, "第一场约谈", tables=4)
    second = await loader.session(event, 2, "第二场约谈", tables=6, expiry_hours=72)
    await loader.schedule(event, first)
    await loader.asked(event, second, projects, funds)
    loader.at(-1, "18:00")
    await loader.schedule(event, second)
    signed = await loader.held(event, first)
    return await summary(event.id, signed=signed)


async def summary(event_id: int, *, signed: int = 0, matched: int = 0) -> RoadshowSummary:
    interest = await MeetingInterest.filter(event_id=event_id).values_list("source_id", "target_id")
    pairs = set(interest)
    requests_of = MeetingRequest.filter(session__event_id=event_id)
    accepted = await requests_of.filter(status=MeetingStatus.ACCEPTED).values_list("id", flat=True)
    funnel = await outcomes.funnel(event_id, EVERYTHING)
    return RoadshowSummary(
        event_id=event_id,
        projects=await Participant.filter(event_id=event_id, role=ParticipantRole.PROJECT).count(),
        lineup=await Pitch.filter(event_id=event_id).count(),
        investors=await Participant.filter(event_id=event_id, role=ParticipantRole.INVESTOR).count(),
        interest=len(pairs),
        mutual=sum(1 for s, t in pairs if (t, s) in pairs) // 2,
        meetings=len(accepted),
        pending=await requests_of.filter(status=MeetingStatus.PENDING).count(),
        declined=await requests_of.filter(status=MeetingStatus.DECLINED).count(),
        rated=funnel.rated,
        signed=signed or funnel.signed,
        matched_pitches=matched,
    )


async def match_pitches(event_id: int) -> int:
    """Before session 2 the organizer matches the pitches to the investors (the pushes follow, capped)."""
    run = await pitches.match_investors(event_id, scope=EVERYTHING, actor=ACTOR)
    return run.pairs


__all__ = ["RoadshowSummary", "load_roadshow", "match_pitches", "roadshow_loaded"]
