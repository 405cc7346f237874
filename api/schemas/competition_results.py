"""A round's close, wildcards, objections and decisions, the final results and the public results, as
the API shows them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field

from api.schemas.presenter import Presenter
from events import clock, localtime
from events.models import Objection, Round, RoundAdvance, Wildcard
from events.services.competitions import closing


def _at(show: Presenter, value: datetime | None) -> datetime | None:
    return value.astimezone(show.tz) if value is not None else None


def _last_day(value: datetime | None) -> date | None:
    """The notice's last local day: it ends at the local midnight after it."""
    return (localtime.local(value) - timedelta(microseconds=1)).date() if value is not None else None


class AdvancePublic(BaseModel):
    entry_id: int
    how: str = Field(description="rule | wildcard | moved_up")
    rank: int | None
    score: float | None
    award_tier: str | None
    reason: str

    @classmethod
    def of(cls, advance: RoundAdvance) -> AdvancePublic:
        return cls(
            entry_id=advance.entry_id,
            how=str(advance.how),
            rank=advance.rank,
            score=advance.score,
            award_tier=advance.award_tier,
            reason=advance.reason,
        )


class NoticePublic(BaseModel):
    starts_at: datetime | None
    ends_at: datetime | None = Field(description="The moment the notice ends (local midnight), with its offset.")
    last_day: date | None = Field(description="The notice's last local day, as it is announced (公示期至).")
    open: bool = Field(description="Objections are taken now.")

    @classmethod
    def of(cls, show: Presenter, rnd: Round) -> NoticePublic:
        return cls(
            starts_at=_at(show, rnd.closed_at),
            ends_at=_at(show, rnd.notice_ends_at),
            last_day=_last_day(rnd.notice_ends_at),
            open=closing.notice_is_open(rnd, clock.now()),
        )


class UnscoredPublic(BaseModel):
    entry_id: int
    judge_ids: list[int] = Field(description="Judges who owe a submitted score; empty: the entry had no judge.")


class RoundClosed(BaseModel):
    round: str
    status: str = Field(description="notice: results published, objections taken until the notice ends")
    forced: bool
    forced_reason: str | None
    unscored: list[UnscoredPublic] = Field(description="What was still unscored when a forced close went ahead.")
    advanced: list[AdvancePublic]
    eliminated: list[int]
    notice: NoticePublic

    @classmethod
    def of(cls, show: Presenter, result: closing.CloseResult) -> RoundClosed:
        rnd = result.round
        return cls(
            round=rnd.code,
            status=str(rnd.status),
            forced=bool(result.unscored),
            forced_reason=rnd.forced_reason,
            unscored=[UnscoredPublic(entry_id=u.entry_id, judge_ids=u.judge_ids) for u in result.unscored],
            advanced=[AdvancePublic.of(a) for a in result.advanced],
            eliminated=result.eliminated,
            notice=NoticePublic.of(show, rnd),
        )


class RoundFinal(BaseModel):
    round: str
    status: str = Field(description="final")
    finalized_at: datetime | None
    awarded: list[AdvancePublic] = Field(description="The last round's award tiers; empty for the others.")

    @classmethod
    def of(cls, show: Presenter, result: closing.FinalizeResult) -> RoundFinal:
        return cls(
            round=result.round.code,
            status=str(result.round.status),
            finalized_at=_at(show, result.round.finalized_at),
            awarded=[AdvancePublic.of(a) for a in result.awarded],
        )


class WildcardPublic(BaseModel):
    entry_id: int
    reason: str
    by: str
    at: datetime

    @classmethod
    def of(cls, show: Presenter, wildcard: Wildcard) -> WildcardPublic:
        return cls(
            entry_id=wildcard.entry_id, reason=wildcard.reason, by=wildcard.by, at=wildcard.at.astimezone(show.tz)
        )


class ObjectionFiled(BaseModel):
    """What the objector gets back (their contact is not repeated)."""

    id: int
    entry_id: int
    round: str
    status: str
    created_at: datetime

    @classmethod
    def of(cls, show: Presenter, objection: Objection, round_code: str) -> ObjectionFiled:
        return cls(
            id=objection.id,
            entry_id=objection.entry_id,
            round=round_code,
            status=str(objection.status),
            created_at=objection.created_at.astimezone(show.tz),
        )


class ObjectionPublic(BaseModel):
    """An objection as the organizer reads it: who, how to reach them, why, the evidence, the decision."""

    id: int
    entry_id: int
    entry_title: str
    round: str
    objector_name: str
    objector_contact: str
    reason: str
    evidence: str
    status: str = Field(description="pending | upheld | dismissed")
    decided_reason: str | None
    decided_at: datetime | None
    decided_by: str | None
    created_at: datetime

    @classmethod
    def of(cls, show: Presenter, objection: Objection) -> ObjectionPublic:
        return cls(
            id=objection.id,
            entry_id=objection.entry_id,
            entry_title=objection.entry.title,
            round=objection.round.code,
            objector_name=objection.objector_name,
            objector_contact=objection.objector_contact,
            reason=objection.reason,
            evidence=objection.evidence,
            status=str(objection.status),
            decided_reason=objection.decided_reason,
            decided_at=_at(show, objection.decided_at),
            decided_by=objection.decided_by,
            created_at=objection.created_at.astimezone(show.tz),
        )


class DecisionPublic(BaseModel):
    objection: ObjectionPublic
    revoked: list[int] = Field(description="Entries whose way through the round was revoked.")
    moved_up: list[AdvancePublic] = Field(description="Entries moved up in their place (依序递补).")

    @classmethod
    def of(cls, show: Presenter, decision: closing.Decision) -> DecisionPublic:
        return cls(
            objection=ObjectionPublic.of(show, decision.objection),
            revoked=[a.entry_id for a in decision.revoked],
            moved_up=[AdvancePublic.of(a) for a in decision.moved_up],
        )


class ResultEntryPublic(BaseModel):
    entry_id: int
    title: str
    organization: str | None
    track: str
    track_name: str
    rank: int | None = Field(description="Its rank in the round when it went through.")
    score: float | None
    how: str = Field(description="rule | wildcard | moved_up (依序递补)")
    award_tier: str | None = Field(description="The award tier's code, once the last round is final.")
    award_name: str | None


class RoundResultPublic(BaseModel):
    code: str
    name: str
    status: str = Field(description="notice | final")
    advance: dict[str, float]
    notice: NoticePublic
    entries: list[ResultEntryPublic]


class AwardTierShown(BaseModel):
    code: str
    name: str
    count: int


class PublicResultsPublic(BaseModel):
    competition_id: int
    title: str
    status: str
    award_tiers: list[AwardTierShown]
    rounds: list[RoundResultPublic] = Field(description="Published rounds only (under notice or final), in order.")

    @classmethod
    def of(cls, show: Presenter, results: closing.PublicResults) -> PublicResultsPublic:
        names = {str(t["code"]): str(t["name"]) for t in results.award_tiers}
        return cls(
            competition_id=results.competition_id,
            title=results.title,
            status=str(results.status),
            award_tiers=[AwardTierShown(code=t["code"], name=t["name"], count=t["count"]) for t in results.award_tiers],
            rounds=[
                RoundResultPublic(
                    code=r.code,
                    name=r.name,
                    status=str(r.status),
                    advance=r.advance,
                    notice=NoticePublic(
                        starts_at=_at(show, r.notice_starts_at),
                        ends_at=_at(show, r.notice_ends_at),
                        last_day=_last_day(r.notice_ends_at),
                        open=r.objections_open,
                    ),
                    entries=[
                        ResultEntryPublic(
                            entry_id=e.entry_id,
                            title=e.title,
                            organization=e.organization,
                            track=e.track,
                            track_name=e.track_name,
                            rank=e.rank,
                            score=e.score,
                            how=str(e.how),
                            award_tier=e.award_tier,
                            award_name=names.get(e.award_tier) if e.award_tier else None,
                        )
                        for e in r.entries
                    ],
                )
                for r in results.rounds
            ],
        )
