"""The papers of a round (评分表): what each judge gave (to sign), how each entry's score was made, and
the round's results. Plain data; ``api/competition_exports.py`` writes them as XLSX and printable HTML.

The scores are the ones the ranking counts: each active assignment's highest submitted version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from events.errors import EntryNotFound, JudgeNotFound
from events.models import (
    AdvanceHow,
    Assignment,
    AssignmentStatus,
    Criterion,
    Entry,
    Judge,
    Round,
    RoundAdvance,
    ScoreVersion,
)
from events.services.competitions import ranking
from events.services.competitions.config import Config
from events.services.organizations import Scope


@dataclass(frozen=True, slots=True)
class Marked:
    """One judge's current submitted score for one entry."""

    values: dict[str, float]
    total: float
    comment: str
    at: datetime
    version: int


async def _marked(round_id: int, assignment_ids: list[int] | None = None) -> dict[int, Marked]:
    """Assignment id → its highest submitted version (active assignments only)."""
    qs = ScoreVersion.filter(round_id=round_id, submitted=True, assignment__status=AssignmentStatus.ACTIVE)
    if assignment_ids is not None:
        qs = qs.filter(assignment_id__in=assignment_ids)
    found: dict[int, Marked] = {}
    for v in await qs.order_by("assignment_id", "version"):
        found[v.assignment_id] = Marked(dict(v.scores), v.total, v.comment, v.at, v.version)
    return found


@dataclass(frozen=True, slots=True)
class JudgeLine:
    entry_id: int
    title: str
    track: str
    marked: Marked | None  # None: not submitted yet


@dataclass(frozen=True, slots=True)
class JudgeSheet:
    judge_id: int
    judge_name: str
    organization: str | None
    lines: list[JudgeLine]


@dataclass(frozen=True, slots=True)
class Papers:
    config: Config
    round: Round

    @property
    def criteria(self) -> list[Criterion]:
        return self.config.criteria


async def judge_sheets(
    competition_id: int, round_code: str, *, scope: Scope, judge_id: int | None = None
) -> tuple[Papers, list[JudgeSheet]]:
    """A sheet per judge of the round (or the one judge): their active entries with each criterion's
    value, the total and the comment. Raises ``competition_not_found``, ``round_not_found``,
    ``judge_not_found``."""
    result = await ranking.round_ranking(competition_id, round_code, scope=scope)
    config, rnd = result.config, result.round
    judges = Judge.filter(competition_id=config.competition.id)
    if judge_id is not None:
        judges = judges.filter(id=judge_id)
    found = await judges.order_by("id").select_related("organization")
    if judge_id is not None and not found:
        raise JudgeNotFound()
    assignments = (
        await Assignment.filter(round_id=rnd.id, status=AssignmentStatus.ACTIVE, judge_id__in=[j.id for j in found])
        .order_by("entry_id")
        .select_related("entry")
    )
    marked = await _marked(rnd.id, [a.id for a in assignments])
    sheets = []
    for judge in found:
        mine = [a for a in assignments if a.judge_id == judge.id]
        if judge_id is None and not mine:
            continue
        sheets.append(
            JudgeSheet(
                judge_id=judge.id,
                judge_name=judge.name,
                organization=judge.organization.name if judge.organization else None,
                lines=[
                    JudgeLine(a.entry_id, a.entry.title, config.track_code(a.entry.track_id), marked.get(a.id))
                    for a in mine
                ],
            )
        )
    return Papers(config, rnd), sheets


@dataclass(frozen=True, slots=True)
class EntryPart:
    judge_id: int
    judge_name: str
    marked: Marked | None
    counted: float | None  # what entered the average (zscore: rescaled)
    dropped: bool  # trimmed_mean: the highest or lowest, left out


@dataclass(frozen=True, slots=True)
class EntrySheet:
    entry_id: int
    title: str
    track: str
    organization: str | None
    score: float | None
    rank: int | None
    track_rank: int | None
    disagreement: bool
    parts: list[EntryPart]


async def entry_sheets(
    competition_id: int, round_code: str, *, scope: Scope, entry_id: int | None = None
) -> tuple[Papers, list[EntrySheet]]:
    """A sheet per entry of the round (or the one entry), best first: each judge's values and total,
    what the aggregation counted and dropped, the score and ranks. Raises ``competition_not_found``,
    ``round_not_found``, ``entry_not_found``."""
    result = await ranking.round_ranking(competition_id, round_code, scope=scope)
    config, rnd = result.config, result.round
    items = [r for r in result.items if entry_id is None or r.entry_id == entry_id]
    if entry_id is not None and not items:
        raise EntryNotFound()
    ids = [r.entry_id for r in items]
    assignments = await Assignment.filter(
        round_id=rnd.id, status=AssignmentStatus.ACTIVE, entry_id__in=ids
    ).select_related("judge")
    marked = await _marked(rnd.id, [a.id for a in assignments])
    entries = {e.id: e for e in await Entry.filter(id__in=ids).select_related("organization")}
    sheets = []
    for r in items:
        parts = {p.judge_id: p for p in r.parts}
        mine = sorted((a for a in assignments if a.entry_id == r.entry_id), key=lambda a: a.judge_id)
        entry = entries[r.entry_id]
        sheets.append(
            EntrySheet(
                entry_id=r.entry_id,
                title=entry.title,
                track=r.track,
                organization=entry.organization.name if entry.organization else None,
                score=r.score,
                rank=r.rank,
                track_rank=r.track_rank,
                disagreement=r.disagreement,
                parts=[
                    EntryPart(
                        a.judge_id,
                        a.judge.name,
                        marked.get(a.id),
                        parts[a.judge_id].counted if a.judge_id in parts else None,
                        parts[a.judge_id].dropped if a.judge_id in parts else False,
                    )
                    for a in mine
                ],
            )
        )
    return Papers(config, rnd), sheets


@dataclass(frozen=True, slots=True)
class ResultLine:
    rank: int | None
    track_rank: int | None
    entry_id: int
    title: str
    organization: str | None
    track: str
    score: float | None
    scores_count: int
    disagreement: bool
    status: str  # the entry's status now
    how: AdvanceHow | None  # how it went through (after the close; the preview before)
    award_tier: str | None


async def round_results(competition_id: int, round_code: str, *, scope: Scope) -> tuple[Papers, list[ResultLine]]:
    """The round's ranking with what the close decided (or the rule's preview while open), every entry.
    Raises ``competition_not_found``, ``round_not_found``."""
    result = await ranking.round_ranking(competition_id, round_code, scope=scope)
    ids = [r.entry_id for r in result.items]
    entries = {e.id: e for e in await Entry.filter(id__in=ids).select_related("organization")}
    tiers = dict(
        await RoundAdvance.filter(round_id=result.round.id, revoked_at=None, award_tier__not_isnull=True).values_list(
            "entry_id", "award_tier"
        )
    )
    lines = []
    for r in result.items:
        entry = entries[r.entry_id]
        lines.append(
            ResultLine(
                rank=r.rank,
                track_rank=r.track_rank,
                entry_id=r.entry_id,
                title=entry.title,
                organization=entry.organization.name if entry.organization else None,
                track=r.track,
                score=r.score,
                scores_count=r.scores_count,
                disagreement=r.disagreement,
                status=str(entry.status),
                how=result.advanced.get(r.entry_id),
                award_tier=str(tiers[r.entry_id]) if r.entry_id in tiers else None,
            )
        )
    return Papers(result.config, result.round), lines
