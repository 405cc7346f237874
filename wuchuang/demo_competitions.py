"""The competitions demo (#14 point 9), replayed through the real competition services.

``load_competitions`` feeds ``wuchuang.demo_competition_data`` to the services in the order a season
runs — configuration, entries, eligibility review, judges (the conflict rules log what they find),
assignment, scores, close, 公示, objections, withdrawal, finalize — moving the demo's clock so every fact
is written when it happened. Dates are relative to ``now``:

- **英雄杯** (nine district tracks, ~300 entries): 初赛 scored and closed about two months ago; in its
  notice one objection was upheld and one dismissed, and an entrant withdrew: both seats went to the
  next-ranked entry of the track (依序递补); then its results were made final. 复赛 was scored and closed
  three days ago: its notice (公示) is still open, with one objection pending, so the results page takes
  objections. The 决赛 waits for the notice to end.
- **武创源** (three technology tracks): 初评 closed and final; the 决赛 is on today, its judges assigned
  (one of them the demo's Telegram user, so ``/score`` in the bot has work), an entry on stage, three
  of its seven judges already scored it, the scoreboard public.

Judges score a round each in one batch (``scoring.submit_sheets``), so the load stays quick. Call it inside
a transaction, with ``events.clock`` reading ``sim``; the caller restores the clock.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from events import localtime
from events.models import (
    AdvanceHow,
    Assignment,
    AssignmentStatus,
    Competition,
    ConflictRecord,
    Entry,
    EntrySource,
    Event,
    EventKind,
    Judge,
    Objection,
    RoundAdvance,
    ScoreVersion,
)
from events.services.competitions import assignment, closing, config, entries, judges, public, ranking, scoring
from events.services.organizations import EVERYTHING, default_organization_id
from wuchuang import demo_competition_data as data
from wuchuang.demo_data import GIVEN_CHARS, SURNAMES
from wuchuang.demo_supply import MovableClock, TelegramContact

ACTOR = "demo"
TELEGRAM_JUDGE_ORGANIZATION = "武汉产业创新发展研究院"
COMMENTS: tuple[str, ...] = (
    "技术路线清晰，建议补充量产成本测算。",
    "团队执行力强，市场验证数据偏少。",
    "核心指标有说服力，知识产权布局需加强。",
    "落地计划具体，建议明确在汉选址和投资额。",
    "与本地产业链契合度高。",
    "",
    "",
    "",
)
REJECT_REASONS: tuple[str, ...] = (
    "申报材料不完整：缺少商业计划书。",
    "不符合参赛条件：企业成立时间超过5年。",
    "同一项目已报名其他赛区，按规定保留一处。",
)


@dataclass(frozen=True, slots=True)
class CompetitionsSummary:
    competitions: int = 0
    entries: int = 0
    judges: int = 0
    conflicts: int = 0  # conflicts of interest logged (every rule)
    conflict_cases: int = 0  # of the planted cases, found by their own rule
    scores: int = 0  # score versions
    objections: int = 0
    moved_up: int = 0  # 依序递补
    hero_id: int | None = None  # 英雄杯
    wuchuangyuan_id: int | None = None  # 武创源
    # A judge of 武创源's live final: their link opens /judge with work to do (printed by the CLI).
    judge_token: str | None = field(default=None, repr=False)


async def competitions_loaded() -> bool:
    """Whether the competitions demo is in the database (a competition the demo made)."""
    return await Competition.filter(created_by=ACTOR).exists()


def _local(day_offset: int, hhmm: str, now: datetime) -> datetime:
    """Wuhan wall time on the day ``day_offset`` days from ``now``'s local day, as UTC."""
    day = localtime.local(now).date() + timedelta(days=day_offset)
    hour, minute = (int(p) for p in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=localtime.zone()).astimezone(UTC)


class _Loader:
    def __init__(
        self, sim: MovableClock, now: datetime, demo: data.CompetitionDemo, telegram: Sequence[TelegramContact]
    ) -> None:
        self.sim = sim
        self.now = now
        self.demo = demo
        self.rng = random.Random(data.SEED + 1)
        self.telegram = list(telegram)
        self.specs = {e.key: e for e in demo.entries}
        self.entry_ids: dict[str, int] = {}
        self.spec_of: dict[int, data.EntrySpec] = {}
        self.judge_specs = {j.key: j for j in demo.judges}
        self.judge_of: dict[int, data.JudgeSpec] = {}  # Judge id → who they are in the data
        self.judge_token: str | None = None
        self.ids: dict[str, int] = {}  # CompetitionSpec.key → competition id

    def at(self, day_offset: int, hhmm: str = "10:00") -> None:
        self.sim.at = min(_local(day_offset, hhmm, self.now), self.now - timedelta(minutes=1))

    def between(self, first: int, last: int) -> datetime:
        """A working-hours moment between two day offsets (never after now)."""
        day = self.rng.randint(first, last)
        moment = _local(day, f"{self.rng.randint(8, 20):02d}:{self.rng.randint(0, 59):02d}", self.now)
        return min(moment, self.now - timedelta(minutes=5))

    # --- building blocks ---------------------------------------------------------------------------

    async def create(self, spec: data.CompetitionSpec, *, created: int, entries: tuple[int, int]) -> config.Config:
        self.at(created)
        year = localtime.local(self.now).year
        final_event = None
        if spec.key == "hero":  # the programme's 英雄杯 final is an event people register to watch
            final_event = (
                await Event.filter(kind=EventKind.COMPETITION, series="yingxiongbei", title__contains="总决赛")
                .order_by("starts_at")
                .first()
            )
        windows = self._windows(spec)
        made = await config.create_competition(
            config.CompetitionInput(
                title=spec.title.format(year=year),
                description=spec.description,
                series=spec.series,
                final_event_id=final_event.id if final_event else None,
                entries_open_at=_local(entries[0], "09:00", self.now),
                entries_close_at=_local(entries[1], "18:00", self.now),
                award_tiers=[config.AwardTier(code=t.code, name=t.name, count=t.count) for t in spec.award_tiers],
                tie_break=list(spec.tie_break),
                aggregation=spec.aggregation,
                tracks=[
                    config.TrackInput(
                        code=t.code,
                        name=t.name,
                        kind=t.kind,
                        district=t.district,
                        fields_of_interest=list(t.fields_of_interest),
                    )
                    for t in spec.tracks
                ],
                rounds=[
                    config.RoundInput(
                        code=r.code,
                        name=r.name,
                        judges_per_entry=r.judges_per_entry,
                        advance=config.AdvanceRule(**r.advance),
                        opens_at=windows[r.code][0],
                        closes_at=windows[r.code][1],
                        notice_days=r.notice_days,
                        disagreement_gap=r.disagreement_gap,
                    )
                    for r in spec.rounds
                ],
                criteria=[
                    config.CriterionInput(key=c.key, name=c.name, weight=c.weight, max=c.max, description=c.description)
                    for c in spec.criteria
                ],
            ),
            actor=ACTOR,
            organization_id=await default_organization_id(),
        )
        self.ids[spec.key] = made.competition.id
        return made

    def _windows(self, spec: data.CompetitionSpec) -> dict[str, tuple[datetime, datetime]]:
        local = self.now
        if spec.key == "hero":
            return {
                "preliminary": (_local(-75, "09:00", local), _local(-61, "18:00", local)),
                "semifinal": (_local(-45, "09:00", local), _local(-4, "18:00", local)),
                "final": (_local(12, "09:00", local), _local(13, "18:00", local)),
            }
        return {
            "review": (_local(-60, "09:00", local), _local(-41, "18:00", local)),
            # The final is on today: open since a little while, for a few days (on-site and remote judges).
            "final": (self.now - timedelta(hours=3), self.now + timedelta(days=3)),
        }

    async def enter(self, competition: config.Config, spec: data.CompetitionSpec, first: int, last: int) -> None:
        mine = [e for e in self.demo.entries if e.competition == spec.key]
        times = sorted(self.between(first, last) for _ in mine)
        for entry, when in zip(mine, times, strict=True):
            self.sim.at = when
            made = await entries.submit_entry(
                competition.competition.id,
                entries.EntryInput(
                    title=entry.title,
                    track=entry.track,
                    leader_name=entry.leader_name,
                    organization=entry.organization,
                    summary=entry.summary,
                    team=[entries.TeamMember(name=m.name, role=m.role) for m in entry.team],
                    contact_email=entry.contact_email,
                    fields_of_technology=list(entry.fields_of_technology),
                    declared_ties=list(entry.declared_ties),
                ),
                actor="web",
                scope=None,  # an entrant on the web form, inside the entry period
                source=EntrySource.WEB,
            )
            self.entry_ids[entry.key] = made.id
            self.spec_of[made.id] = entry

    async def review(self, competition: config.Config, spec: data.CompetitionSpec, day: int, rejected: int) -> None:
        """The eligibility review: the panel's list, a few entries refused with a reason."""
        planted = {p.entry_key for p in data.PLANTS}
        mine = [e for e in self.demo.entries if e.competition == spec.key]
        refused = {e.key for e in self.rng.sample([e for e in mine if e.key not in planted], rejected)}
        self.at(day, "09:00")
        await entries.review_entries(
            competition.competition.id,
            [
                entries.Review(
                    self.entry_ids[e.key],
                    accept=e.key not in refused,
                    reason=self.rng.choice(REJECT_REASONS) if e.key in refused else None,
                )
                for e in mine
            ],
            scope=EVERYTHING,
            actor=ACTOR,
        )

    async def seat_judges(self, competition: config.Config, spec: data.CompetitionSpec, day: int) -> None:
        self.at(day)
        for judge in self.demo.judges:
            if spec.key not in judge.competitions:
                continue
            issued = await judges.add_judge(
                competition.competition.id,
                judges.JudgeInput(
                    name=judge.name,
                    organization=judge.organization,
                    email=judge.email,
                    expertise=list(judge.expertise),
                    conflicts=list(judge.conflicts),
                ),
                scope=EVERYTHING,
                actor=ACTOR,
            )
            self.judge_of[issued.judge.id] = judge

    async def score(self, competition: config.Config, spec: data.CompetitionSpec, code: str, days: range) -> None:
        """Every judge of the round scores all their entries in one sitting, on a day of ``days``."""
        rnd = competition.round(code)
        held = await Assignment.filter(round_id=rnd.id, status=AssignmentStatus.ACTIVE).order_by("judge_id", "entry_id")
        by_judge: dict[int, list[int]] = {}
        for a in held:
            by_judge.setdefault(a.judge_id, []).append(a.entry_id)
        sittings = sorted((self.between(days.start, days.stop - 1), judge_id) for judge_id in by_judge)
        for when, judge_id in sittings:
            self.sim.at = when
            await self._sheets(competition, spec, code, judge_id, by_judge[judge_id])

    async def _sheets(
        self, competition: config.Config, spec: data.CompetitionSpec, code: str, judge_id: int, entry_ids: list[int]
    ) -> None:
        judge = await Judge.get(id=judge_id).select_related("organization")
        who = self.judge_of[judge_id]
        sheets = [
            scoring.Sheet(
                entry_id,
                scoring.ScoreInput(
                    scores=data.judge_scores(self.rng, spec.criteria, self.spec_of[entry_id], who),
                    comment=self.rng.choice(COMMENTS),
                ),
            )
            for entry_id in entry_ids
        ]
        await scoring.submit_sheets(competition.competition.id, code, sheets, judge=judge, actor=ACTOR, via="web")

    async def close(self, competition: config.Config, code: str, day: int) -> None:
        self.at(day, "17:00")
        await closing.close_round(competition.competition.id, code, closing.CloseInput(), scope=EVERYTHING, actor=ACTOR)

    async def _through(self, competition: config.Config, code: str) -> list[ranking.Ranked]:
        """The entries through the round by rule, best first (planted entries left out: kept for the judges)."""
        result = await ranking.round_ranking(competition.competition.id, code, scope=None)
        planted = {self.entry_ids[p.entry_key] for p in data.PLANTS if p.entry_key in self.entry_ids}
        return [
            r for r in result.items if result.advanced.get(r.entry_id) == AdvanceHow.RULE and r.entry_id not in planted
        ]

    async def object(self, competition: config.Config, entry_id: int, day: int, *, reason: str, evidence: str) -> int:
        self.at(day, "15:20")
        name, contact = self._objector()
        filed = await closing.file_objection(
            competition.competition.id,
            entry_id,
            closing.ObjectionInput(name=name, contact=contact, reason=reason, evidence=evidence),
            actor="web",
        )
        return filed.id

    def _objector(self) -> tuple[str, str]:
        surname, _ = self.rng.choice(SURNAMES)
        given = "".join(c for c, _ in self.rng.sample(GIVEN_CHARS, 2))
        return surname + given, f"139{self.rng.randrange(10**8):08d}"

    async def decide(
        self, competition: config.Config, objection_id: int, day: int, *, upheld: bool, reason: str
    ) -> None:
        self.at(day, "11:00")
        await closing.decide_objection(
            competition.competition.id,
            objection_id,
            closing.DecisionInput(decision="upheld" if upheld else "dismissed", reason=reason),
            scope=EVERYTHING,
            actor=ACTOR,
        )

    async def finalize(self, competition: config.Config, code: str, day: int) -> None:
        self.at(day, "10:00")
        await closing.finalize_round(competition.competition.id, code, scope=EVERYTHING, actor=ACTOR)

    # --- the two competitions ----------------------------------------------------------------------

    async def hero(self) -> None:
        spec = data.HERO_CUP
        cup = await self.create(spec, created=-130, entries=(-130, -81))
        # The panel is named first: each entry's conflicts are found (and logged) as it comes in.
        await self.seat_judges(cup, spec, -129)
        await self.enter(cup, spec, -128, -82)
        await self.review(cup, spec, -79, rejected=3)
        self.at(-75, "09:30")
        await assignment.assign_round(cup.competition.id, "preliminary", scope=EVERYTHING, actor=ACTOR)
        await self.score(cup, spec, "preliminary", range(-74, -61))
        await self.close(cup, "preliminary", -59)
        # The 公示 of 初赛: an objection upheld (data that cannot be reproduced), one dismissed, and an
        # entrant withdrawing; each freed seat goes to the next-ranked entry of that district's track.
        through = await self._through(cup, "preliminary")
        by_track: dict[str, list[ranking.Ranked]] = {}
        for r in through:
            by_track.setdefault(r.track, []).append(r)
        upheld = by_track["donghu_gaoxin"][2].entry_id
        dismissed = by_track["wuchang"][0].entry_id
        withdrawn = by_track["hongshan"][3].entry_id
        first = await self.object(
            cup,
            upheld,
            -58,
            reason="该项目申报书中的核心性能指标引用自他人已发表论文，并非团队自有成果。",
            evidence="论文DOI与申报书第12页对照表；原作者书面说明（已扫描）",
        )
        second = await self.object(
            cup,
            dismissed,
            -57,
            reason="怀疑该团队负责人同时在另一赛区报名同一项目。",
            evidence="两份报名表截图",
        )
        await self.decide(
            cup, first, -56, upheld=True, reason="经核查，申报书核心指标确非团队自有成果，取消其复赛资格，依序递补。"
        )
        await self.decide(cup, second, -56, upheld=False, reason="经核查，另一赛区报名的是不同项目，异议不成立。")
        self.at(-55, "16:40")
        entry = await Entry.get(id=withdrawn)
        await entries.withdraw_entry(
            cup.competition.id,
            withdrawn,
            reason="团队核心成员变动，主动退出复赛。",
            actor="entrant",
            scope=None,
            person_id=entry.leader_id,
        )
        await self.finalize(cup, "preliminary", -52)

        self.at(-45, "09:30")
        await assignment.assign_round(cup.competition.id, "semifinal", scope=EVERYTHING, actor=ACTOR)
        await self.score(cup, spec, "semifinal", range(-44, -5))
        await self.close(cup, "semifinal", -3)
        # The 复赛 notice is open now: one objection waits for the organizers' decision.
        contested = (await self._through(cup, "semifinal"))[-4].entry_id
        await self.object(
            cup,
            contested,
            -1,
            reason="该项目的样机演示视频与现场答辩展示的设备型号不一致，请组委会核实。",
            evidence="复赛现场照片与申报视频截图对比",
        )

    async def wuchuangyuan(self) -> None:
        spec = data.WUCHUANGYUAN
        contest = await self.create(spec, created=-110, entries=(-110, -71))
        await self.seat_judges(contest, spec, -109)
        await self.enter(contest, spec, -108, -72)
        await self.review(contest, spec, -69, rejected=1)
        self.at(-60, "09:30")
        await assignment.assign_round(contest.competition.id, "review", scope=EVERYTHING, actor=ACTOR)
        await self.score(contest, spec, "review", range(-59, -41))
        await self.close(contest, "review", -38)
        await self.finalize(contest, "review", -31)

        # The final: a Telegram judge joins the panel, judges are assigned two days ahead and told.
        cid = contest.competition.id
        self.at(-2, "10:00")
        telegram_judge = None
        if self.telegram:
            person = self.telegram[0]
            issued = await judges.add_judge(
                cid,
                judges.JudgeInput(
                    name=person.name,
                    organization=TELEGRAM_JUDGE_ORGANIZATION,
                    phone=person.phone,
                    telegram_id=person.telegram_id,
                    expertise=["ai", "digital", "equipment"],
                ),
                scope=EVERYTHING,
                actor=ACTOR,
            )
            telegram_judge = issued.judge.id
            self.judge_token = issued.token
        await assignment.assign_round(cid, "final", scope=EVERYTHING, actor=ACTOR)
        held = await Assignment.filter(round_id=contest.round("final").id).order_by("entry_id", "judge_id")
        if telegram_judge is not None:
            stage = next(a.entry_id for a in held if a.judge_id == telegram_judge)
        else:
            stage = held[0].entry_id
        if self.judge_token is None:  # no Telegram user: the link is another judge of the stage entry's
            rotated = await judges.rotate_judge_token(
                cid, next(a.judge_id for a in held if a.entry_id == stage), scope=EVERYTHING, actor=ACTOR
            )
            self.judge_token = rotated.token
        self.sim.at = self.now - timedelta(minutes=20)
        await public.set_scoreboard(cid, "final", public=True, scope=EVERYTHING, actor=ACTOR)
        await public.set_on_stage(cid, "final", stage, scope=EVERYTHING, actor=ACTOR)
        # Three of the stage entry's judges have scored it already (not the Telegram judge: theirs is to do).
        early = [a.judge_id for a in held if a.entry_id == stage and a.judge_id != telegram_judge][:3]
        for minutes, judge_id in zip((9, 7, 4), early, strict=False):
            self.sim.at = self.now - timedelta(minutes=minutes)
            await self._sheets(contest, spec, "final", judge_id, [stage])


async def load_competitions(
    sim: MovableClock, now: datetime, *, telegram: Sequence[TelegramContact] = ()
) -> CompetitionsSummary:
    """Replay the competitions demo up to ``now`` through the services, moving ``sim`` (see the module).
    ``telegram``: the demo's Telegram people; the first judges 武创源's final."""
    loader = _Loader(sim, now, data.build(), telegram)
    await loader.hero()
    await loader.wuchuangyuan()
    found = 0
    for case in loader.demo.conflict_cases:
        judge_ids = [j for j, spec in loader.judge_of.items() if spec.key == case.judge]
        if await ConflictRecord.filter(
            judge_id__in=judge_ids, entry_id=loader.entry_ids[case.entry], rule=case.rule
        ).exists():
            found += 1
    demo_ids = list(await Competition.filter(created_by=ACTOR).values_list("id", flat=True))
    return CompetitionsSummary(
        competitions=len(demo_ids),
        entries=await Entry.filter(competition_id__in=demo_ids).count(),
        judges=await Judge.filter(competition_id__in=demo_ids).count(),
        conflicts=await ConflictRecord.filter(competition_id__in=demo_ids).count(),
        conflict_cases=found,
        scores=await ScoreVersion.filter(round__competition_id__in=demo_ids).count(),
        objections=await Objection.filter(competition_id__in=demo_ids).count(),
        moved_up=await RoundAdvance.filter(round__competition_id__in=demo_ids, how=AdvanceHow.MOVED_UP).count(),
        hero_id=loader.ids.get("hero"),
        wuchuangyuan_id=loader.ids.get("wuchuangyuan"),
        judge_token=loader.judge_token,
    )


__all__ = ["CompetitionsSummary", "competitions_loaded", "load_competitions"]
