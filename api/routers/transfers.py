"""Technology contracts (技术合同): record one, read, list and export them. Counted live in the goals."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from api.auth import Caller, require_organizer
from api.deps import Id, locale, presenter
from api.exports import csv_response, xlsx_response
from api.routers.achievements import SPREADSHEETS
from api.schemas import Presenter
from api.schemas.common import AUTHED, AUTHED_WRITE, COMMON, Page, errors
from api.schemas.supply import TRANSFER_EXPORT_HEADER, TransferPublic, transfer_export_row
from events import clock
from events.errors import N_
from events.i18n import Locale, gettext
from events.models import TransferMode
from events.services import transfers

router = APIRouter(prefix="/api/v1/transfers", tags=["transfers"])


@router.post(
    "",
    status_code=201,
    response_model=TransferPublic,
    responses=AUTHED_WRITE,
    summary="Record a technology contract",
    description="A signed contract for an achievement and/or a demand of your organization: ``seller`` and "
    "``buyer`` by id or name (default: the achievement's owner, the demand's company), ``mode``, "
    "``amount_cny`` (> 0), ``signed_on`` (not in the future), ``broker_id``, ``major``. In the same "
    "transaction the achievement becomes ``transferred`` (a licence leaves it available) and the demand "
    "``contracted``. ``409 contract_no_taken`` for a number your organization recorded; ``409 "
    "invalid_transition`` for a closed or expired demand.",
)
async def record_transfer(
    data: transfers.TransferInput, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> JSONResponse:
    assert caller.acts_for is not None
    transfer = await transfers.record_transfer(
        data, scope=caller.reach, organization_id=caller.acts_for, actor=caller.actor
    )
    body = TransferPublic.of(show, transfer).model_dump(mode="json")
    return JSONResponse(body, status_code=201, headers={"Location": f"/api/v1/transfers/{transfer.id}"})


@router.get(
    "",
    response_model=Page[TransferPublic],
    responses=errors(*COMMON, 401, 403) | SPREADSHEETS,
    summary="List technology contracts",
    description="Your organization's contracts (admins: all), latest signed first; filters by achievement, "
    "demand, mode, ``major`` and the signing period (``from``/``to``, inclusive); ``q`` in the contract number "
    "or a party's name. ``format=csv|xlsx`` exports every match.",
)
async def list_transfers(
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    lang: Locale = Depends(locale),
    achievement_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    demand_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    mode: TransferMode | None = None,
    major: bool | None = None,
    signed_from: Annotated[date | None, Query(alias="from")] = None,
    signed_to: Annotated[date | None, Query(alias="to")] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    format: Annotated[str, Query(pattern="^(json|csv|xlsx)$")] = "json",
) -> Response | Page[TransferPublic]:
    whole = format != "json"
    query = transfers.TransferQuery(
        achievement_id=achievement_id,
        demand_id=demand_id,
        mode=mode,
        major=major,
        signed_from=signed_from,
        signed_to=signed_to,
        q=q,
        limit=None if whole else limit,
        cursor=None if whole else cursor,
    )
    page = await transfers.list_transfers(query, scope=caller.reach)
    if format == "json":
        return Page[TransferPublic].of(page, [TransferPublic.of(show, t) for t in page.items])
    stamp = clock.now().astimezone(show.tz).strftime("%Y%m%d")
    rows = [transfer_export_row(t) for t in page.items]
    if format == "csv":
        return csv_response(f"transfers-{stamp}.csv", TRANSFER_EXPORT_HEADER, rows, tz=show.tz)
    title = gettext(lang, N_("Technology contracts"))
    return await xlsx_response(f"transfers-{stamp}.xlsx", title, TRANSFER_EXPORT_HEADER, rows, tz=show.tz)


@router.get(
    "/{transfer_id}",
    response_model=TransferPublic,
    responses=AUTHED,
    summary="Read a technology contract",
    description="One contract of your organization's (another organization's is ``404``).",
)
async def get_transfer(
    transfer_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> TransferPublic:
    return TransferPublic.of(show, await transfers.get_transfer(transfer_id, scope=caller.reach))
