"""What the hall and the public see: the entry on stage, the live scoreboard, the published results.

The scoreboard shows an entry's score only once every judge assigned to it has submitted (a partial
mean would move on the screen as scores come in and tell the hall how the first judges voted). It is
public when the organizer marks the round so, else reachable only through the organizer's link (a
capability derived from the at-rest key, like the transcript links).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from events import clock, secretbox
from events.errors import DomainError, EntryNotFound, RoundNotFound
from events.models import (
    Competition,
    CompetitionStatus,
    Entry,
    Round,
    RoundStatus,
    ScoreVersion,
)
from events.services import activity
from events.services.competitions import entries, ranking
from events.services.competitions.config import Config, ints, load_config, lock_row, round_is_open
from events.services.competitions.entries import in_round_filter
from events.services.organizations import Scope

SCOREBOARD_PURPOSE = "competition-scoreboard"


def scoreboard_key(round_id: int) -> str:
    """The organizer's link to a round's scoreboard (works whether or not it is public)."""
    return secretbox.current().capability(SCOREBOARD_PURPOSE, f"{round_id:016d}")


def _round_of_key(key: str | None) -> int | None:
    seed = secretbox.current().seed_of(SCOREBOARD_PURPOSE, key or "")
    return int(seed) if seed is not None and seed.isdigit() else None


async def set_scoreboard(competition_id: int, round_code: str, *, public: bool, scope: Scope, actor: str) -> Round:
    """Make the round's scoreboard public, or private again (the organizer's link still works).
    Raises ``competition_not_found``, ``round_not_found``."""
    config = await load_config(competition_id, scope)
    rnd = config.round(round_code)
    async with in_transaction() as conn:
        await Round.filter(id=rnd.id).using_db(conn).update(scoreboard_public=public)
        await activity.record(
            "competition.scoreboard",
            actor=actor,
            using_db=conn,
            event_id=config.competition.launch_event_id,
            competition_id=config.competition.id,
            round=rnd.code,
            public=public,
        )
    rnd.scoreboard_public = public
    return rnd


async def set_on_stage(
    competition_id: int, round_code: str, entry_id: int | None, *, scope: Scope, actor: str
) -> tuple[Round, Entry | None]:
    """The entry presenting now in an on-site final (None: nobody). Judges' ``/score`` in the bot opens
    it. Raises ``competition_not_found``, ``round_not_found``, ``entry_not_found`` (not in this round),
    ``round_closed``."""
    config = await load_config(competition_id, scope)
    rnd = config.round(round_code)
    entry = None
    if entry_id is not None:
        entry = await Entry.get_or_none(in_round_filter(rnd), id=entry_id, competition_id=config.competition.id)
        if entry is None:
            raise EntryNotFound()
    async with in_transaction() as conn:
        await lock_row(conn, "competition_round", rnd.id)
        now = clock.now()
        await Round.filter(id=rnd.id).using_db(conn).update(on_stage_entry_id=entry_id, on_stage_at=now)
        await activity.record(
            "competition.on_stage",
            actor=actor,
            using_db=conn,
            event_id=config.competition.launch_event_id,
            competition_id=config.competition.id,
            round=rnd.code,
            entry_id=entry_id,
        )
    rnd.on_stage_entry_id, rnd.on_stage_at = entry_id, now
    return rnd, entry


async def scoreboard_round(competition_id: int, round_code: str, key: str | None) -> Config:
    """The competition's configuration when its round's board may be shown: public, or the organizer's
    key. Raises ``competition_not_found``, ``round_not_found`` (also a private board without the key)."""
    config = await load_config(competition_id, None)
    rnd = config.round(round_code)
    if not rnd.scoreboard_public and _round_of_key(key) != rnd.id:
        raise RoundNotFound(round=round_code[:32])
    return config


@dataclass(frozen=True, slots=True)
class BoardRow:
    entry_id: int
    title: str
    track: str  # the track's name
    organization: str | None
    score: float | None  # None until every judge of the entry submitted
    rank: int | None  # among the entries whose score shows
    judges_done: int
    judges_total: int


@dataclass(frozen=True, slots=True)
class Board:
    competition: str
    round: str
    status: RoundStatus
    rows: list[BoardRow]  # scored first, by rank; then those still being scored, by entry
    on_stage: BoardRow | None
    at: datetime


async def scoreboard(config: Config, round_code: str) -> Board:
    """The round as the hall sees it now (see the module: scores show once complete)."""
    rnd = config.round(round_code)
    result = await ranking.round_ranking(config.competition.id, rnd.code, scope=None)
    assigned = await ranking.assigned_count(rnd.id)
    ids = [r.entry_id for r in result.items]
    details = {
        int(i): (org, track)
        for i, org, track in await Entry.filter(id__in=ids).values_list("id", "organization__name", "track__name")
    }
    done: list[BoardRow] = []
    pending: list[BoardRow] = []
    previous: tuple[float, int] | None = None
    for r in result.items:
        total = assigned.get(r.entry_id, 0)
        complete = r.score is not None and total > 0 and r.scores_count >= total
        org, track = details.get(r.entry_id, (None, ""))
        if complete:
            assert r.score is not None
            shown_rank = previous[1] if previous is not None and previous[0] == r.score else len(done) + 1
            previous = (r.score, shown_rank)
        row = BoardRow(
            entry_id=r.entry_id,
            title=result.titles.get(r.entry_id, ""),
            track=str(track or ""),
            organization=str(org) if org else None,
            score=r.score if complete else None,
            rank=shown_rank if complete else None,
            judges_done=min(r.scores_count, total),
            judges_total=total,
        )
        (done if complete else pending).append(row)
    pending.sort(key=lambda row: row.entry_id)
    rows = done + pending
    on_stage = next((row for row in rows if row.entry_id == rnd.on_stage_entry_id), None)
    return Board(
        competition=config.competition.title,
        round=rnd.name,
        status=RoundStatus(rnd.status),
        rows=rows,
        on_stage=on_stage,
        at=clock.now(),
    )


def takes_entries(competition: Competition) -> bool:
    """Whether the public (the web form, the bot) may enter now: the entries module's own rule."""
    try:
        entries._may_take_entries(competition, organizer=False)  # noqa: SLF001 (its one rule, not a copy)
    except DomainError:
        return False
    return True


async def competitions_of_event(event_id: int) -> list[tuple[Competition, bool]]:
    """The competitions an event launches, holds the final of or awards, each with whether the public
    may enter it now (the event page links its entry form and its results)."""
    found = await Competition.filter(
        Q(launch_event_id=event_id) | Q(final_event_id=event_id) | Q(award_event_id=event_id)
    ).order_by("id")
    return [(c, takes_entries(c)) for c in found]


async def open_competitions() -> list[Competition]:
    """Competitions the public may enter now, newest first (the bot's /enter lists them)."""
    candidates = await Competition.filter(status=CompetitionStatus.OPEN).order_by("-id").limit(50)
    return [c for c in candidates if takes_entries(c)]


@dataclass(frozen=True, slots=True)
class ToScore:
    """An entry a judge may score now (an active assignment in an open round)."""

    competition_id: int
    round: str
    round_name: str
    entry_id: int
    title: str
    submitted: bool  # the judge's score for it is in (they may still change it)
    on_stage: bool


async def to_score(person_id: int) -> list[ToScore]:
    """What a person, as a judge of any competition, may score now: the entry on stage first, then the
    rest not yet submitted, then those submitted (the bot's ``/score``)."""
    from events.models import Assignment, AssignmentStatus, Judge

    now = clock.now()
    found: list[ToScore] = []
    for judge in await Judge.filter(person_id=person_id, active=True):
        config = await load_config(judge.competition_id)
        for rnd in config.rounds:
            if not round_is_open(rnd, now):
                continue
            mine = await Assignment.filter(
                round_id=rnd.id, judge_id=judge.id, status=AssignmentStatus.ACTIVE
            ).select_related("entry")
            scored = set(
                ints(
                    await ScoreVersion.filter(
                        round_id=rnd.id, submitted=True, assignment__judge_id=judge.id
                    ).values_list("assignment__entry_id", flat=True)
                )
            )
            for a in mine:
                found.append(
                    ToScore(
                        config.competition.id,
                        rnd.code,
                        rnd.name,
                        a.entry_id,
                        a.entry.title,
                        a.entry_id in scored,
                        a.entry_id == rnd.on_stage_entry_id,
                    )
                )
    found.sort(key=lambda s: (not s.on_stage, s.submitted, s.competition_id, s.round, s.entry_id))
    return found
