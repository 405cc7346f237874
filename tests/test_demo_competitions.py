"""The competitions demo, replayed through the services: 英雄杯 through 初赛 (final, with a withdrawal and an
upheld objection each moving the next-ranked entry of the track up) and 复赛 (its 公示 open now, an
objection pending), 武创源's final under way with judges assigned and an entry on stage, and every
planted conflict found by its own rule and kept from the judge.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from tortoise.transactions import in_transaction

from events import clock
from events.models import (
    AdvanceHow,
    Assignment,
    AssignmentStatus,
    Competition,
    CompetitionStatus,
    ConflictRecord,
    Entry,
    EntryStatus,
    Judge,
    Objection,
    ObjectionStatus,
    Person,
    Role,
    Round,
    RoundAdvance,
    RoundStatus,
    ScoreVersion,
)
from events.services import tokens
from events.services.competitions import closing, public, ranking
from wuchuang import demo_competition_data as data
from wuchuang.demo_competitions import CompetitionsSummary, load_competitions
from wuchuang.demo_supply import TelegramContact

pytestmark = pytest.mark.slow  # a season of two competitions through the services: a few seconds

TELEGRAM = [TelegramContact(telegram_id=700000001, name="周晓明", phone="17000000000")]


class _Sim:
    def __init__(self) -> None:
        self.at = clock.now()

    def __call__(self):  # noqa: ANN204
        return self.at


async def _load() -> CompetitionsSummary:
    now = clock.now()
    sim = _Sim()
    previous = clock._now
    clock.set_clock(sim)
    try:
        async with in_transaction():
            return await load_competitions(sim, now, telegram=TELEGRAM)
    finally:
        clock.set_clock(previous)


async def test_the_competitions_demo_runs_a_season_through_the_services(db, frozen_clock):
    now = clock.now()
    summary = await _load()
    assert clock.now() == now
    demo = data.build()
    assert summary.competitions == 2 and summary.entries == len(demo.entries) == await Entry.all().count()
    assert (
        summary.judges
        == await Judge.all().count()
        == len(demo.judges) + 1 + sum(len(j.competitions) - 1 for j in demo.judges)
    )
    assert summary.scores == await ScoreVersion.all().count() > 1000
    assert (summary.objections, summary.moved_up) == (3, 2)

    await _conflicts_found_by_their_rules(summary, demo)
    await _hero_cup(summary, now)
    await _wuchuangyuan(summary, now)


async def _conflicts_found_by_their_rules(summary: CompetitionsSummary, demo: data.CompetitionDemo) -> None:
    specs = {j.key: j for j in demo.judges}
    entries = {e.key: e for e in demo.entries}
    assert summary.conflict_cases == len(demo.conflict_cases) == 6
    for case in demo.conflict_cases:
        judge = await Judge.get(email=specs[case.judge].email)
        entry = await Entry.get(title=entries[case.entry].title, contact_email=entries[case.entry].contact_email)
        rules = set(await ConflictRecord.filter(judge_id=judge.id, entry_id=entry.id).values_list("rule", flat=True))
        assert case.rule in rules, (case, rules)
    assert summary.conflicts == await ConflictRecord.all().count() > len(demo.conflict_cases)
    # No judge ever judged an entry the rules keep from them.
    barred = set(await ConflictRecord.all().values_list("judge_id", "entry_id"))
    assert not barred & set(await Assignment.all().values_list("judge_id", "entry_id"))


async def _hero_cup(summary: CompetitionsSummary, now) -> None:
    cup = await Competition.get(id=summary.hero_id)
    assert cup.series == "英雄杯" and cup.status == CompetitionStatus.JUDGING
    rounds = {r.code: r for r in await Round.filter(competition_id=cup.id)}
    assert {c: r.status for c, r in rounds.items()} == {
        "preliminary": RoundStatus.FINAL,
        "semifinal": RoundStatus.NOTICE,
        "final": RoundStatus.OPEN,
    }
    entered = sum(1 for e in data.build().entries if e.competition == "hero")
    assert Counter(await Entry.filter(competition_id=cup.id).values_list("status", flat=True)) == {
        EntryStatus.ELIMINATED: entered - 3 - 1 - 33,  # all but the rejected, the withdrawn and the 33 finalists
        EntryStatus.ADVANCED: 33,
        EntryStatus.REJECTED: 3,
        EntryStatus.WITHDRAWN: 1,
    }

    # 初赛: the ten best of each district went through; two seats changed hands in the 公示.
    first = rounds["preliminary"]
    advances = await RoundAdvance.filter(round_id=first.id).order_by("id")
    assert Counter(a.how for a in advances) == {AdvanceHow.RULE: 90, AdvanceHow.MOVED_UP: 2}
    revoked = [a for a in advances if a.revoked_at is not None]
    assert len(revoked) == 2 and {a.how for a in revoked} == {AdvanceHow.RULE}
    upheld = await Objection.get(round_id=first.id, status=ObjectionStatus.UPHELD)
    withdrawn = await Entry.get(competition_id=cup.id, status=EntryStatus.WITHDRAWN)
    assert {a.entry_id for a in revoked} == {upheld.entry_id, withdrawn.id}
    assert await Objection.filter(round_id=first.id, status=ObjectionStatus.DISMISSED).count() == 1
    result = await ranking.round_ranking(cup.id, "preliminary", scope=None)
    track_of = {r.entry_id: r for r in result.items}
    by_rule = {a.entry_id for a in advances if a.how == AdvanceHow.RULE}
    tracks = {track_of[a.entry_id].track for a in revoked if a.entry_id in track_of}
    tracks.add((await Entry.get(id=withdrawn.id).select_related("track")).track.code)  # left the ranking
    moved_tracks = set()
    for up in (a for a in advances if a.how == AdvanceHow.MOVED_UP):
        # 依序递补 within the district: the best-ranked of the track's entries the rule did not take.
        moved = track_of[up.entry_id]
        passed_over = [r for r in result.items if r.track == moved.track and r.entry_id not in by_rule]
        assert moved == min(passed_over, key=lambda r: r.track_rank or 10**6)
        moved_tracks.add(moved.track)
    assert moved_tracks == tracks and len(tracks) == 2

    # 复赛: closed three days ago, 33 through, the 公示 open now with one objection waiting.
    second = rounds["semifinal"]
    assert second.notice_ends_at is not None and second.notice_ends_at > now > second.closed_at
    assert await RoundAdvance.filter(round_id=second.id, revoked_at=None).count() == 33
    assert await Objection.filter(round_id=second.id, status=ObjectionStatus.PENDING).count() == 1
    shown = await closing.public_results(cup.id)
    assert [(r.code, r.objections_open, len(r.entries)) for r in shown.rounds] == [
        ("preliminary", False, 90),
        ("semifinal", True, 33),
    ]
    assert await Entry.filter(current_round_id=rounds["final"].id, status=EntryStatus.ADVANCED).count() == 33


async def _wuchuangyuan(summary: CompetitionsSummary, now) -> None:
    contest = await Competition.get(id=summary.wuchuangyuan_id)
    assert contest.series == "武创源" and contest.status == CompetitionStatus.JUDGING
    review = await Round.get(competition_id=contest.id, code="review")
    final = await Round.get(competition_id=contest.id, code="final")
    assert review.status == RoundStatus.FINAL and final.status == RoundStatus.OPEN
    assert final.opens_at is not None and final.closes_at is not None and final.opens_at < now < final.closes_at
    finalists = await Entry.filter(current_round_id=final.id, status=EntryStatus.ADVANCED).values_list("id", flat=True)
    assert len(finalists) == 30
    held = Counter(
        await Assignment.filter(round_id=final.id, status=AssignmentStatus.ACTIVE).values_list("entry_id", flat=True)
    )
    assert held == dict.fromkeys(finalists, 7)

    # An entry on stage, three of its seven judges in; the hall's board shows no score until all are.
    assert final.on_stage_entry_id in finalists and final.scoreboard_public
    assert await ScoreVersion.filter(round_id=final.id).count() == 3
    board = await public.scoreboard(await _config(contest.id), "final")
    assert board.on_stage is not None and (board.on_stage.judges_done, board.on_stage.judges_total) == (3, 7)
    assert board.on_stage.score is None

    # The Telegram user judges the final: /score opens the entry on stage; the printed link is a judge's.
    person = await Person.get(telegram_id=TELEGRAM[0].telegram_id)
    queue = await public.to_score(person.id)
    assert queue[0].on_stage and queue[0].entry_id == final.on_stage_entry_id and not queue[0].submitted
    assert summary.judge_token is not None
    token = await tokens.authenticate(summary.judge_token)
    assert token.role == Role.JUDGE
    assert (await Judge.get(token_id=token.id)).person_id == person.id
    assert final.closes_at - now < timedelta(days=4)


async def _config(competition_id: int):  # noqa: ANN202
    from events.services.competitions.config import load_config

    return await load_config(competition_id)
