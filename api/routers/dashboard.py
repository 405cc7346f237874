"""The programme office's figures (admins: everything; organizers: their organization's)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from api.auth import Caller, require_organizer
from api.deps import locale
from api.schemas.common import AUTHED
from api.schemas.dashboard import Dashboard
from events.i18n import Locale
from events.services import dashboard

router = APIRouter(tags=["dashboard"])

AsOf = Annotated[
    AwareDatetime | date | None,
    Query(
        description="Count as of this moment (ISO 8601 with offset), or the end of this local day (`YYYY-MM-DD`); "
        "default now."
    ),
]


@router.get(
    "/api/v1/dashboard",
    response_model=Dashboard,
    responses=AUTHED,
    summary="The programme office's dashboard",
    description="The plan's targets counted over the programme year (the local calendar year holding `as_of`) "
    "with a forecast at the pace so far, a row per district, the year month by month, and the funnels "
    "registration → check-in and demand → match → connection → contract. Admins see everything, an "
    "organizer their organization's records.",
)
async def get_dashboard(
    as_of: AsOf = None, caller: Caller = Depends(require_organizer), lang: Locale = Depends(locale)
) -> Dashboard:
    moment = as_of if as_of is None or isinstance(as_of, datetime) else dashboard.end_of_day(as_of)
    return Dashboard.of(await dashboard.dashboard(as_of=moment, scope=caller.reach), lang)
