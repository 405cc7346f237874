"""Matches: what the matching service found for a demand or an achievement, with its reasons."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from events.services.matching import Match


class MatchPublic(BaseModel):
    type: Literal["achievement", "broker", "investor", "event", "demand"]
    id: int
    external_id: str | None = Field(default=None, description="The importer's key (achievements, demands).")
    title: str = Field(
        description="The achievement's or demand's title, the broker's or investor's name, the event's title."
    )
    score: float = Field(description="Higher is better; comparable within one answer only.")
    reasons: list[str] = Field(description="Never empty, in the caller's language: what the pair shares first.")
    missing: list[str] = Field(
        default_factory=list, description="Requirements the match does not show it meets (e.g. an unknown TRL)."
    )

    @classmethod
    def of(cls, match: Match) -> MatchPublic:
        return cls(
            type=match.type,
            id=match.id,
            external_id=match.external_id,
            title=match.title,
            score=match.score,
            reasons=match.reasons,
            missing=match.missing,
        )
