"""Matched pitches: an organizer asks for the projects of a roadshow to be matched to the verified
investors taking part; each hears of the ones that fit (pushed like every matched opportunity)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.auth import Caller, require_organizer
from api.deps import Id, locale
from api.schemas.common import AUTHED_WRITE
from events.i18n import Locale
from events.services.roadshows import pitches

router = APIRouter(tags=["roadshows"])


class PitchPublic(BaseModel):
    participant_id: int = Field(description="The project's participant id.")
    title: str
    score: float
    reasons: list[str] = Field(description="Never empty; in the caller's language.")
    missing: list[str]


class InvestorPitchesPublic(BaseModel):
    participant_id: int = Field(description="The investor's participant id.")
    investor_id: int
    name: str
    pitches: list[PitchPublic]


class MatchRunPublic(BaseModel):
    event_id: int
    projects: int = Field(description="Project participants read.")
    pairs: int = Field(description="Investor × project pairs that fit.")
    unverified: int = Field(description="Investors taking part whose profile is not verified yet (not told).")
    investors: list[InvestorPitchesPublic]

    @classmethod
    def of(cls, run: pitches.MatchRun) -> MatchRunPublic:
        return cls(
            event_id=run.event_id, projects=run.projects, pairs=run.pairs, unverified=run.unverified,
            investors=[
                InvestorPitchesPublic(
                    participant_id=i.participant_id, investor_id=i.investor_id, name=i.name,
                    pitches=[PitchPublic(participant_id=m.id, title=m.title, score=m.score, reasons=m.reasons,
                                         missing=m.missing) for m in i.pitches],
                )
                for i in run.investors
            ],
        )  # fmt: skip


@router.post(
    "/api/v1/roadshows/{event_id}/match-investors",
    response_model=MatchRunPublic,
    responses=AUTHED_WRITE,
    summary="Match the pitches to the investors",
    description="Each verified investor taking part (a participant with a verified profile) gets the project "
    "participants that fit their profile, with reasons (shared keywords, field, stage against their rounds, "
    "district, ticket size), as matched-opportunity pushes with 想约谈 and 不相关: capped per person per week, never "
    "the same investor × project twice, so calling it again is safe. ``409 not_a_roadshow``.",
)
async def match_investors(
    event_id: Id, caller: Caller = Depends(require_organizer), language: Locale = Depends(locale)
) -> MatchRunPublic:
    run = await pitches.match_investors(event_id, scope=caller.reach, actor=caller.actor, locale=language)
    return MatchRunPublic.of(run)
