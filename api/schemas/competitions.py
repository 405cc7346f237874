"""Competitions as the API shows them: configuration, entries, judges (the token once), conflicts,
assignments, a judge's own scores, the ranking and an entry's explanation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.presenter import Presenter
from events.models import Assignment, ConflictRecord, Entry, Judge, ScoreVersion
from events.services.competitions import assignment, ranking, scoring
from events.services.competitions.config import Config


def _at(show: Presenter, value: datetime | None) -> datetime | None:
    return value.astimezone(show.tz) if value is not None else None


class TrackPublic(BaseModel):
    code: str
    name: str
    kind: str
    district: str | None
    fields_of_interest: list[str]


class RoundPublic(BaseModel):
    code: str
    name: str
    order: int
    judges_per_entry: int
    advance: dict[str, float] = Field(description="``top``, ``top_per_track``, ``min_score`` as set.")
    opens_at: datetime | None
    closes_at: datetime | None
    status: str = Field(description="open | closed | notice | final")
    notice_days: int
    notice_ends_at: datetime | None
    disagreement_gap: float | None


class CriterionPublic(BaseModel):
    key: str
    name: str
    description: str
    weight: float
    max: float


class AwardTierPublic(BaseModel):
    code: str
    name: str
    count: int


class CompetitionPublic(BaseModel):
    id: int
    title: str
    description: str
    series: str | None
    event_id: int | None = Field(description="The launch event.")
    final_event_id: int | None
    award_event_id: int | None
    status: str
    aggregation: str = Field(description="mean | trimmed_mean | zscore")
    tie_break: list[str]
    award_tiers: list[AwardTierPublic]
    entries_open_at: datetime | None
    entries_close_at: datetime | None
    scale: float = Field(description="The highest weighted total a judge can give (Σ weight · max).")
    tracks: list[TrackPublic]
    rounds: list[RoundPublic]
    criteria: list[CriterionPublic]
    created_at: datetime

    @classmethod
    def of(cls, show: Presenter, config: Config) -> CompetitionPublic:
        c = config.competition
        return cls(
            id=c.id,
            title=c.title,
            description=c.description,
            series=c.series,
            event_id=c.launch_event_id,
            final_event_id=c.final_event_id,
            award_event_id=c.award_event_id,
            status=c.status,
            aggregation=c.aggregation,
            tie_break=config.tie_break,
            award_tiers=[AwardTierPublic(**t) for t in c.award_tiers],
            entries_open_at=_at(show, c.entries_open_at),
            entries_close_at=_at(show, c.entries_close_at),
            scale=config.scale,
            tracks=[
                TrackPublic(
                    code=t.code, name=t.name, kind=t.kind, district=t.district, fields_of_interest=t.fields_of_interest
                )
                for t in config.tracks
            ],
            rounds=[
                RoundPublic(
                    code=r.code,
                    name=r.name,
                    order=r.order,
                    judges_per_entry=r.judges_per_entry,
                    advance=r.advance,
                    opens_at=_at(show, r.opens_at),
                    closes_at=_at(show, r.closes_at),
                    status=r.status,
                    notice_days=r.notice_days,
                    notice_ends_at=_at(show, r.notice_ends_at),
                    disagreement_gap=r.disagreement_gap,
                )
                for r in config.rounds
            ],
            criteria=[
                CriterionPublic(key=k.key, name=k.name, description=k.description, weight=k.weight, max=k.max)
                for k in config.criteria
            ],
            created_at=_at(show, c.created_at) or c.created_at,
        )


class TeamMemberPublic(BaseModel):
    name: str
    role: str = ""


class EntryPublic(BaseModel):
    id: int
    title: str
    track: str = Field(description="The track's code.")
    organization: str | None
    status: str = Field(description="submitted | accepted | rejected | withdrawn | advanced | eliminated | awarded")
    round: str | None = Field(description="The code of the round the entry is in now.")
    summary: str
    leader_name: str
    team: list[TeamMemberPublic]
    achievement_id: int | None
    fields_of_technology: list[str]
    declared_ties: list[str]
    contact_email: str | None
    contact_phone: str | None
    source: str
    review_reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, show: Presenter, entry: Entry) -> EntryPublic:
        return cls(
            id=entry.id,
            title=entry.title,
            track=entry.track.code,
            organization=entry.organization.name if entry.organization else None,
            status=entry.status,
            round=entry.current_round.code if entry.current_round else None,
            summary=entry.summary,
            leader_name=entry.leader_name,
            team=[TeamMemberPublic(**m) for m in entry.team],
            achievement_id=entry.achievement_id,
            fields_of_technology=entry.fields_of_technology,
            declared_ties=entry.declared_ties,
            contact_email=entry.contact_email,
            contact_phone=entry.contact_phone,
            source=entry.source,
            review_reason=entry.review_reason,
            created_at=_at(show, entry.created_at) or entry.created_at,
        )


class JudgeIssued(BaseModel):
    id: int
    token: str = Field(description="The judge's token, scoped to this competition; shown only now.")


class JudgePublic(BaseModel):
    id: int
    name: str
    organization: str | None
    email: str | None
    phone: str | None
    expertise: list[str]
    conflicts: list[str]
    person_id: int | None
    active: bool

    @classmethod
    def of(cls, judge: Judge) -> JudgePublic:
        return cls(
            id=judge.id,
            name=judge.name,
            organization=judge.organization.name if judge.organization else None,
            email=judge.email,
            phone=judge.phone,
            expertise=judge.expertise,
            conflicts=judge.conflicts,
            person_id=judge.person_id,
            active=judge.active,
        )


class ConflictPublic(BaseModel):
    judge_id: int
    entry_id: int
    rule: str = Field(description="declared_tie | same_organization | email_domain | entrant_declared | recusal")
    detail: str
    found_at: datetime

    @classmethod
    def of(cls, show: Presenter, row: ConflictRecord) -> ConflictPublic:
        return cls(
            judge_id=row.judge_id,
            entry_id=row.entry_id,
            rule=row.rule,
            detail=row.detail,
            found_at=_at(show, row.found_at) or row.found_at,
        )


class Shortfall(BaseModel):
    entry_id: int
    missing: int = Field(description="How many judges it still lacks: too few free of conflicts.")


class JudgeLoad(BaseModel):
    judge_id: int
    assignments: int


class AssignmentRun(BaseModel):
    round: str
    created: int
    kept: int
    infeasible: list[Shortfall]
    loads: list[JudgeLoad]

    @classmethod
    def of(cls, report: assignment.AssignmentReport) -> AssignmentRun:
        return cls(
            round=report.round,
            created=report.created,
            kept=report.kept,
            infeasible=[Shortfall(entry_id=e, missing=n) for e, n in report.infeasible],
            loads=[JudgeLoad(judge_id=j, assignments=n) for j, n in report.loads.items()],
        )


class AssignmentPublic(BaseModel):
    id: int
    entry_id: int
    entry_title: str
    track: str
    judge_id: int
    judge_name: str
    status: str = Field(description="active | recused | replaced")
    assigned_at: datetime

    @classmethod
    def of(cls, show: Presenter, row: Assignment) -> AssignmentPublic:
        return cls(
            id=row.id,
            entry_id=row.entry_id,
            entry_title=row.entry.title,
            track=row.entry.track.code,
            judge_id=row.judge_id,
            judge_name=row.judge.name,
            status=row.status,
            assigned_at=_at(show, row.assigned_at) or row.assigned_at,
        )


class ScorePublic(BaseModel):
    entry_id: int
    version: int
    scores: dict[str, float]
    total: float = Field(description="Σ weight · value.")
    comment: str
    submitted: bool
    at: datetime

    @classmethod
    def of(cls, show: Presenter, entry_id: int, row: ScoreVersion) -> ScorePublic:
        return cls(
            entry_id=entry_id,
            version=row.version,
            scores=row.scores,
            total=row.total,
            comment=row.comment,
            submitted=row.submitted,
            at=_at(show, row.at) or row.at,
        )


class MyScorePublic(BaseModel):
    entry_id: int
    entry_title: str
    track: str
    status: str = Field(description="The assignment's: active | recused | replaced")
    latest: ScorePublic | None = Field(description="The judge's last save (a draft or submitted).")
    submitted: ScorePublic | None = Field(description="The version that counts in the ranking.")

    @classmethod
    def of(cls, show: Presenter, mine: scoring.MyScore) -> MyScorePublic:
        a = mine.assignment
        return cls(
            entry_id=a.entry_id,
            entry_title=a.entry.title,
            track=a.entry.track.code,
            status=a.status,
            latest=ScorePublic.of(show, a.entry_id, mine.latest) if mine.latest else None,
            submitted=ScorePublic.of(show, a.entry_id, mine.submitted) if mine.submitted else None,
        )


class RecusalDone(BaseModel):
    entry_id: int
    status: str
    replacement_judge_id: int | None = Field(description="Who took the entry over; null when nobody was free.")


class RankingItem(BaseModel):
    entry_id: int
    title: str
    rank: int | None = Field(description="Over the whole round; null while the entry has no score.")
    track_rank: int | None
    score: float | None = Field(description="The aggregation of the judges' weighted totals.")
    scores_count: int
    track: str
    advanced: bool
    disagreement: bool = Field(description="The judges' totals spread more than the round's gap: re-review.")
    spread: float | None


class Ranking(BaseModel):
    round: str
    aggregation: str
    preview: bool = Field(description="True while the round is open: ``advanced`` is what the rule would do now.")
    items: list[RankingItem]

    @classmethod
    def of(cls, result: ranking.RoundRanking, items: list[ranking.Ranked]) -> Ranking:
        return cls(
            round=result.round.code,
            aggregation=result.config.competition.aggregation,
            preview=result.preview,
            items=[
                RankingItem(
                    entry_id=r.entry_id,
                    title=result.titles.get(r.entry_id, ""),
                    rank=r.rank,
                    track_rank=r.track_rank,
                    score=r.score,
                    scores_count=r.scores_count,
                    track=r.track,
                    advanced=r.entry_id in result.advanced,
                    disagreement=r.disagreement,
                    spread=r.spread,
                )
                for r in items
            ],
        )


class ExplainedPart(BaseModel):
    judge_id: int
    judge_name: str
    total: float
    counted: float = Field(description="What entered the average (zscore: the rescaled total).")
    dropped: bool = Field(description="trimmed_mean: the highest or the lowest, left out.")


class Explanation(BaseModel):
    entry_id: int
    round: str
    aggregation: str
    score: float | None
    rank: int | None
    track_rank: int | None
    scores_count: int
    median: float | None
    spread: float | None
    disagreement: bool
    tie_break: list[str]
    advanced: bool
    parts: list[ExplainedPart]
    rule: dict[str, Any] = Field(description="The round's advance rule.")

    @classmethod
    def of(cls, result: ranking.RoundRanking, r: ranking.Ranked) -> Explanation:
        return cls(
            entry_id=r.entry_id,
            round=result.round.code,
            aggregation=result.config.competition.aggregation,
            score=r.score,
            rank=r.rank,
            track_rank=r.track_rank,
            scores_count=r.scores_count,
            median=r.median,
            spread=r.spread,
            disagreement=r.disagreement,
            tie_break=result.config.tie_break,
            advanced=r.entry_id in result.advanced,
            parts=[
                ExplainedPart(
                    judge_id=p.judge_id,
                    judge_name=result.judges.get(p.judge_id, ""),
                    total=p.total,
                    counted=round(p.counted, 6),
                    dropped=p.dropped,
                )
                for p in r.parts
            ],
            rule=result.round.advance or {},
        )
