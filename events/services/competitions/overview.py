"""What an organizer's competition pages read at a glance: the counts of a competition and its rounds,
a round's coverage (each judge's load, the entries short of judges), and an entry's scores and conflicts.

Reads only: every change goes through the other modules (entries, judges, assignment, closing).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tortoise.expressions import Subquery

from events.models import (
    Assignment,
    AssignmentStatus,
    ConflictRecord,
    Entry,
    Judge,
    Objection,
    ObjectionStatus,
    Round,
    ScoreVersion,
)
from events.services.competitions.config import Config, ints, load_config
from events.services.competitions.entries import IN_PLAY, get_entry
from events.services.organizations import Scope


@dataclass(frozen=True, slots=True)
class RoundCounts:
    round: Round
    in_play: int  # entries being judged in it now
    assignments: int  # active
    scored: int  # active assignments with a submitted score
    pending_objections: int


@dataclass(frozen=True, slots=True)
class Overview:
    config: Config
    entries_by_status: dict[str, int]
    entries: int
    judges: int  # active
    rounds: list[RoundCounts]


def _scored_ids(round_ids: list[int]) -> Subquery:
    return Subquery(ScoreVersion.filter(round_id__in=round_ids, submitted=True).values("assignment_id"))


async def overview(competition_id: int, *, scope: Scope) -> Overview:
    """Raises ``competition_not_found`` (also for another organization's)."""
    config = await load_config(competition_id, scope)
    cid = config.competition.id
    statuses = Counter(await Entry.filter(competition_id=cid).values_list("status", flat=True))
    round_ids = [r.id for r in config.rounds]
    active = Assignment.filter(round_id__in=round_ids, status=AssignmentStatus.ACTIVE)
    assigned = Counter(ints(await active.values_list("round_id", flat=True)))
    scored = Counter(ints(await active.filter(id__in=_scored_ids(round_ids)).values_list("round_id", flat=True)))
    playing = Counter(
        ints(
            await Entry.filter(competition_id=cid, status__in=IN_PLAY, current_round_id__not_isnull=True).values_list(
                "current_round_id", flat=True
            )
        )
    )
    pending = Counter(
        ints(
            await Objection.filter(competition_id=cid, status=ObjectionStatus.PENDING).values_list(
                "round_id", flat=True
            )
        )
    )
    return Overview(
        config=config,
        entries_by_status={str(s): n for s, n in sorted(statuses.items())},
        entries=sum(statuses.values()),
        judges=await Judge.filter(competition_id=cid, active=True).count(),
        rounds=[
            RoundCounts(r, playing.get(r.id, 0), assigned.get(r.id, 0), scored.get(r.id, 0), pending.get(r.id, 0))
            for r in config.rounds
        ],
    )


@dataclass(frozen=True, slots=True)
class JudgeLoad:
    judge_id: int
    name: str
    organization: str
    active: int  # active assignments in the round
    scored: int  # of them, with a submitted score
    conflicts: int  # conflicts logged with the competition's entries


@dataclass(frozen=True, slots=True)
class EntryCover:
    entry_id: int
    title: str
    track: str
    judges: list[tuple[int, bool]]  # (judge id, scored) of its active assignments
    short: int  # judges it still lacks for the round's judges per entry


@dataclass(frozen=True, slots=True)
class Coverage:
    config: Config
    round: Round
    loads: list[JudgeLoad]
    entries: list[EntryCover]  # in play in the round now (or assigned there), in id order
    names: dict[int, str] = field(default_factory=dict)  # judge id → name

    @property
    def short(self) -> list[EntryCover]:
        return [e for e in self.entries if e.short > 0]


async def coverage(competition_id: int, round_code: str, *, scope: Scope) -> Coverage:
    """The round's plan as it stands: every judge's load and every entry's judges, with who still owes
    a score and which entries lack judges. Raises ``competition_not_found``, ``round_not_found``."""
    config = await load_config(competition_id, scope)
    rnd = config.round(round_code)
    cid = config.competition.id
    rows = await Assignment.filter(round_id=rnd.id, status=AssignmentStatus.ACTIVE).values_list(
        "id", "entry_id", "judge_id"
    )
    scored = set(
        ints(await ScoreVersion.filter(round_id=rnd.id, submitted=True).values_list("assignment_id", flat=True))
    )
    on_entry: dict[int, list[tuple[int, bool]]] = {}
    load: Counter[int] = Counter()
    done: Counter[int] = Counter()
    for aid, entry_id, judge_id in rows:
        on_entry.setdefault(int(entry_id), []).append((int(judge_id), int(aid) in scored))
        load[int(judge_id)] += 1
        done[int(judge_id)] += int(aid) in scored
    playing = set(
        ints(
            await Entry.filter(competition_id=cid, current_round_id=rnd.id, status__in=IN_PLAY).values_list(
                "id", flat=True
            )
        )
    )
    ids = sorted(playing | set(on_entry))
    # Plain rows, not models: a round of the 英雄杯 holds hundreds of entries and about a thousand assignments.
    entries = await Entry.filter(id__in=ids).order_by("id").values_list("id", "title", "track__name") if ids else []
    judges = (
        await Judge.filter(competition_id=cid).order_by("id").values_list("id", "name", "organization__name", "active")
    )
    barred = Counter(ints(await ConflictRecord.filter(competition_id=cid).values_list("judge_id", flat=True)))
    k = rnd.judges_per_entry
    open_round = rnd.closed_at is None
    return Coverage(
        config=config,
        round=rnd,
        loads=[
            JudgeLoad(jid, str(name), str(org or ""), load.get(jid, 0), done.get(jid, 0), barred.get(jid, 0))
            for jid, name, org, active in judges
            if active or load.get(jid)
        ],
        entries=[
            EntryCover(
                eid,
                str(title),
                str(track),
                sorted(on_entry.get(eid, [])),
                max(0, k - len(on_entry.get(eid, []))) if open_round and eid in playing else 0,
            )
            for eid, title, track in entries
        ],
        names={jid: str(name) for jid, name, _, _ in judges},
    )


@dataclass(frozen=True, slots=True)
class ScoreLine:
    round: Round
    judge_id: int
    judge: str
    status: str  # the assignment's
    scores: dict[str, float] | None  # the counted version's values (None: nothing submitted)
    total: float | None
    comment: str
    version: int


@dataclass(frozen=True, slots=True)
class ConflictLine:
    judge_id: int
    judge: str
    rule: str
    detail: str


@dataclass(frozen=True, slots=True)
class EntryFile:
    entry: Entry
    config: Config
    scores: list[ScoreLine]
    conflicts: list[ConflictLine]


async def entry_file(competition_id: int, entry_id: int, *, scope: Scope) -> EntryFile:
    """An entry with each judge's counted score per round (the highest submitted version) and the
    conflicts logged against it. Raises ``competition_not_found``, ``entry_not_found``."""
    config = await load_config(competition_id, scope)
    entry = await get_entry(config.competition.id, entry_id, None)
    rounds = {r.id: r for r in config.rounds}
    assignments = await Assignment.filter(entry_id=entry.id).select_related("judge").order_by("round_id", "judge_id")
    versions = await ScoreVersion.filter(assignment_id__in=[a.id for a in assignments], submitted=True).order_by(
        "assignment_id", "version"
    )
    counted = {v.assignment_id: v for v in versions}  # the last (highest) wins
    scores = [
        ScoreLine(
            round=rounds[a.round_id],
            judge_id=a.judge_id,
            judge=a.judge.name,
            status=str(a.status),
            scores=dict(counted[a.id].scores) if a.id in counted else None,
            total=counted[a.id].total if a.id in counted else None,
            comment=counted[a.id].comment if a.id in counted else "",
            version=counted[a.id].version if a.id in counted else 0,
        )
        for a in assignments
        if a.round_id in rounds
    ]
    logged = await ConflictRecord.filter(entry_id=entry.id).select_related("judge").order_by("judge_id", "rule")
    return EntryFile(
        entry=entry,
        config=config,
        scores=scores,
        conflicts=[ConflictLine(c.judge_id, c.judge.name, c.rule, c.detail) for c in logged],
    )


async def judge_conflicts(
    competition_id: int, judge_ids: list[int], *, scope: Scope
) -> dict[int, list[tuple[int, str, str, str]]]:
    """Judge id → the conflicts logged for them: (entry id, entry title, rule, detail), by entry.
    Raises ``competition_not_found``."""
    config = await load_config(competition_id, scope)
    found: dict[int, list[tuple[int, str, str, str]]] = {}
    rows = (
        await ConflictRecord.filter(competition_id=config.competition.id, judge_id__in=judge_ids)
        .order_by("judge_id", "entry_id", "rule")
        .values_list("judge_id", "entry_id", "entry__title", "rule", "detail")
    )
    for judge_id, entry_id, title, rule, detail in rows:
        found.setdefault(int(judge_id), []).append((int(entry_id), str(title), str(rule), str(detail)))
    return found
