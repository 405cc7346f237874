"""Demands (需求): entering, reading, changing and exporting them, their status timeline, and brokers'
claims and follow-ups. Organizers act on the demands their organization manages (another's → 404).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from api import training_exports, training_pages
from api.auth import Caller, require_organizer
from api.deps import Id, presenter, settings
from api.exports import csv_response, xlsx_response
from api.schemas import Presenter
from api.schemas.common import AUTHED, AUTHED_WRITE, COMMON, Items, Page, errors
from api.schemas.supply_demands import ClaimBody, DemandPublic, FollowUpBody, TimelineStep, header, rows, widths
from events import clock
from events.errors import N_
from events.i18n import gettext
from events.models import DemandKind, DemandStatus
from events.services import demand_status, demands, ownership
from events.settings import Settings

router = APIRouter(prefix="/api/v1/demands", tags=["demands"])

MAX_LIMIT = 200


def _period(days: int | None, config: Settings) -> timedelta:
    return timedelta(days=days or config.demand_follow_up_days)


@router.post(
    "",
    status_code=201,
    response_model=DemandPublic,
    responses=AUTHED_WRITE,
    summary="Enter a demand",
    description="A technology, talent, capital or scenario demand managed by the caller's organization. "
    "``organization`` is the company's id or name (a new name is added); ``contact`` a name with a phone, "
    "e-mail or Telegram id; ``field`` a code of the plan's fields; ``district`` a district code; "
    "``deadline`` a local date not in the past. A demand close to an active one of the same kind and place "
    "comes back with ``duplicate_of`` (flagged, not merged).",
)
async def create_demand(
    data: demands.DemandInput, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> JSONResponse:
    demand = await demands.create_demand(data, actor=caller.actor, managed_by=caller.acts_for)
    body = DemandPublic.of(show, demand)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=201, headers={"Location": f"/api/v1/demands/{demand.id}"}
    )


@router.get(
    "",
    response_model=Page[DemandPublic],
    responses=errors(*COMMON, 401, 403) | training_exports.SPREADSHEETS,
    summary="List demands",
    description="The caller's organization's demands, newest first, filtered; ``overdue=true``: claimed ones "
    "past their follow-up date. Keyset pages: pass ``next_cursor`` back as ``cursor``. ``format=csv|xlsx`` "
    "exports every matching demand (no paging; times local).",
)
async def list_demands(
    request: Request,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    kind: DemandKind | None = None,
    status: DemandStatus | None = None,
    district: Annotated[str | None, Query(max_length=32)] = None,
    field: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=100, description="In the title or the problem.")] = None,
    broker: Annotated[int | None, Query(ge=1, le=2_147_483_647, description="Claimed by this broker.")] = None,
    organization: Annotated[
        int | None, Query(ge=1, le=2_147_483_647, description="About this organization (id).")
    ] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    format: Annotated[str, Query(pattern="^(json|csv|xlsx)$")] = "json",
    lang: Annotated[str | None, Query(max_length=10)] = None,
) -> Response | Page[DemandPublic]:
    whole = format != "json"
    query = demands.DemandQuery(
        kind=kind,
        status=status,
        district=district or None,
        field=field or None,
        q=q or None,
        broker_id=broker,
        organization_id=organization,
        overdue=overdue,
        limit=None if whole else limit,
        cursor=None if whole else cursor,
    )
    page = await demands.list_demands(query, scope=caller.reach)
    if format == "json":
        return Page[DemandPublic].of(page, [DemandPublic.of(show, d) for d in page.items])
    stamp = clock.now().astimezone(show.tz).strftime("%Y%m%d")
    if format == "csv":
        return csv_response(f"demands-{stamp}.csv", header(None), rows(page.items, None), tz=show.tz)
    locale = training_pages.page_locale(request, lang)
    return await xlsx_response(
        f"demands-{stamp}.xlsx",
        gettext(locale, N_("Demands")),
        header(locale),
        rows(page.items, locale),
        tz=show.tz,
        widths=widths(),
    )


@router.get(
    "/{demand_id}",
    response_model=DemandPublic,
    responses=AUTHED,
    summary="Read a demand",
    description="With its status, time to first response, broker and follow-up date, and the near-duplicate "
    "it resembles, if any.",
)
async def get_demand(
    demand_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> DemandPublic:
    return DemandPublic.of(show, await demands.get_demand(demand_id, caller.reach))


@router.patch(
    "/{demand_id}",
    response_model=DemandPublic,
    responses=AUTHED_WRITE,
    summary="Change a demand",
    description="The fields sent change (null clears an optional one). ``status`` moves along the timeline "
    "(open → matched → in_talks → contracted → closed; closed or expired on the way; closing needs a "
    "``note``); any other move is ``409 invalid_transition``.",
)
async def update_demand(
    demand_id: Id,
    patch: demands.DemandPatch,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> DemandPublic:
    demand = await demands.update_demand(demand_id, patch, actor=caller.actor, scope=caller.reach)
    return DemandPublic.of(show, demand)


@router.get(
    "/{demand_id}/timeline",
    response_model=Items[TimelineStep],
    responses=AUTHED,
    summary="A demand's status timeline",
    description="Every status the demand went through, oldest first, from its creation (null → open); times local.",
)
async def get_timeline(
    demand_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> Items[TimelineStep]:
    demand = await demands.get_demand(demand_id, caller.reach)
    return Items[TimelineStep](items=[TimelineStep.of(show, s) for s in await demand_status.timeline(demand.id)])


@router.post(
    "/{demand_id}/claim",
    response_model=DemandPublic,
    responses=AUTHED_WRITE,
    summary="A broker claims a demand",
    description="The broker (one the caller's organization reaches) becomes accountable for the demand, with "
    "a follow-up date (``follow_up_days``, else the deployment's default); the claim is the demand's first "
    "response. ``409 already_claimed`` when another broker holds it (of two claims at once exactly one "
    "wins), ``409 demand_not_active`` when it is contracted, closed or expired.",
)
async def claim_demand(
    demand_id: Id,
    body: ClaimBody,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    config: Settings = Depends(settings),
) -> DemandPublic:
    await demands.get_demand(demand_id, caller.reach)
    await ownership.owned_broker(body.broker_id, caller.reach)
    demand = await demands.claim_demand(
        demand_id,
        body.broker_id,
        actor=caller.actor,
        scope=caller.reach,
        follow_up=_period(body.follow_up_days, config),
    )
    return DemandPublic.of(show, demand)


@router.delete(
    "/{demand_id}/claim",
    response_model=DemandPublic,
    responses=AUTHED_WRITE,
    summary="Release a demand's claim",
    description="The demand has no broker again. ``409 not_claimed`` when nobody holds it.",
)
async def release_claim(
    demand_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> DemandPublic:
    return DemandPublic.of(show, await demands.release_claim(demand_id, actor=caller.actor, scope=caller.reach))


@router.post(
    "/{demand_id}/follow-up",
    response_model=DemandPublic,
    responses=AUTHED_WRITE,
    summary="Record a follow-up",
    description="The broker's report on the demand (kept in the activity log); the next follow-up is due "
    "``follow_up_days`` from now (else the deployment's default). ``409 not_claimed`` when no broker holds it.",
)
async def follow_up(
    demand_id: Id,
    body: FollowUpBody,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    config: Settings = Depends(settings),
) -> DemandPublic:
    demand = await demands.record_follow_up(
        demand_id,
        body.note,
        actor=caller.actor,
        scope=caller.reach,
        follow_up=_period(body.follow_up_days, config),
    )
    return DemandPublic.of(show, demand)
