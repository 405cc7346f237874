"""Matches for a demand (achievements, brokers, investors, events) and for an achievement (demands,
investors). Organizers read matches for the records their organization manages; admins for all.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import Caller, require_organizer
from api.deps import Id, locale
from api.schemas.common import AUTHED, Items, errors
from api.schemas.matching import MatchPublic
from events.i18n import Locale
from events.services import matching

router = APIRouter(prefix="/api/v1", tags=["matching"])

Limit = Annotated[int, Query(ge=1, le=50, description="How many matches, 1–50.")]


@router.get(
    "/demands/{demand_id}/matches",
    response_model=Items[MatchPublic],
    responses=AUTHED | errors(409),
    summary="Matches for a demand",
    description="The best achievements (technology and scenario demands), brokers, investors (capital demands) or "
    "upcoming events for a demand, best first, each with ``reasons`` (what the pair shares: terms in both texts, "
    "the field, the district, the TRL fit) in the caller's language and what is ``missing``. Achievements pass "
    "the hard filters (TRL ≥ the demand's minimum, unknown TRL kept with a note; a wanted transfer mode; neither "
    "withdrawn nor transferred). ``409 demand_closed`` for a contracted, closed or expired demand; ``422`` for "
    "an unknown ``type``.",
)
async def demand_matches(
    demand_id: Id,
    caller: Caller = Depends(require_organizer),
    language: Locale = Depends(locale),
    type: Annotated[str, Query(max_length=20, description="achievement | broker | investor | event")] = "achievement",
    limit: Limit = 10,
) -> Items[MatchPublic]:
    found = await matching.for_demand(demand_id, type=type, limit=limit, locale=language, scope=caller.reach)
    return Items[MatchPublic](items=[MatchPublic.of(m) for m in found])


@router.get(
    "/achievements/{achievement_id}/matches",
    response_model=Items[MatchPublic],
    responses=AUTHED,
    summary="Matches for an achievement",
    description="The open demands (technology and scenario, deadline not passed, TRL and transfer modes fitting) or "
    "the investors that fit an achievement, best first, with ``reasons`` and ``missing`` in the caller's language. "
    "``422`` for an unknown ``type``.",
)
async def achievement_matches(
    achievement_id: Id,
    caller: Caller = Depends(require_organizer),
    language: Locale = Depends(locale),
    type: Annotated[str, Query(max_length=20, description="demand | investor")] = "demand",
    limit: Limit = 10,
) -> Items[MatchPublic]:
    found = await matching.for_achievement(achievement_id, type=type, limit=limit, locale=language, scope=caller.reach)
    return Items[MatchPublic](items=[MatchPublic.of(m) for m in found])
