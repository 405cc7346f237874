"""Connections (对接) between demands, achievements and investors: the organizer's list, opening one by
hand, and moving it along ``open → in_talks → contracted | closed``. People open them from the bot by
answering a matched opportunity; both go through ``events.services.connections``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from api.auth import Caller, require_organizer
from api.deps import Id, presenter
from api.schemas import Presenter
from api.schemas.common import AUTHED, AUTHED_WRITE, COMMON, Page, errors
from api.schemas.connections import ConnectionCreate, ConnectionPatch, ConnectionPublic, RecordId
from events.models import ConnectionStatus
from events.services import connections

router = APIRouter(prefix="/api/v1/connections", tags=["connections"])


@router.get(
    "",
    response_model=Page[ConnectionPublic],
    responses=errors(*COMMON, 401, 403),
    summary="List connections",
    description="Connections whose demand or achievement the caller's organization manages (admins: all), newest "
    "first, filtered by ``status``, ``demand_id``, ``achievement_id``. Keyset pages: pass ``next_cursor`` back as "
    "``cursor``.",
)
async def list_connections(
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    status: ConnectionStatus | None = None,
    demand_id: Annotated[RecordId | None, Query()] = None,
    achievement_id: Annotated[RecordId | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[ConnectionPublic]:
    found = connections.ConnectionFilter(status=status, demand_id=demand_id, achievement_id=achievement_id)
    page = await connections.list_connections(found, scope=caller.reach, limit=limit, cursor=cursor)
    return Page[ConnectionPublic].of(page, [ConnectionPublic.of(show, row) for row in page.items])


@router.post(
    "",
    status_code=201,
    response_model=ConnectionPublic,
    responses=AUTHED_WRITE | {200: {"model": ConnectionPublic, "description": "Connected before: the same one."}},
    summary="Open a connection",
    description="Connect a demand and an achievement, or either with an investor; one side must be the caller's "
    "organization's (else ``404``). 201 with the new connection (the other side and the accountable broker are "
    "told, the demand moves to matched); 200 with the existing one when the pair is connected already. "
    "``409 invalid_transition`` for a closed demand or a withdrawn achievement.",
)
async def open_connection(
    body: ConnectionCreate, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> JSONResponse:
    opened = await connections.open_connection(
        demand_id=body.demand_id,
        achievement_id=body.achievement_id,
        investor_id=body.investor_id,
        requested_by=None,
        wants_broker=body.wants_broker,
        origin="organizer",
        actor=caller.actor,
        scope=caller.reach,
    )
    connection = await connections.owned_connection(opened.connection.id, caller.reach)
    return JSONResponse(
        ConnectionPublic.of(show, connection).model_dump(mode="json"),
        status_code=201 if opened.created else 200,
        headers={"Location": f"/api/v1/connections/{connection.id}"},
    )


@router.get(
    "/{connection_id}",
    response_model=ConnectionPublic,
    responses=AUTHED,
    summary="Read a connection",
    description="One connection with its sides, broker and status.",
)
async def get_connection(
    connection_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> ConnectionPublic:
    return ConnectionPublic.of(show, await connections.owned_connection(connection_id, caller.reach))


@router.patch(
    "/{connection_id}",
    response_model=ConnectionPublic,
    responses=AUTHED_WRITE,
    summary="Change a connection's status",
    description="``open → in_talks | closed``, ``in_talks → contracted | closed``, with a note kept in the "
    "activity log; ``in_talks`` moves the demand to in talks. ``409 invalid_transition`` otherwise.",
)
async def change_connection(
    connection_id: Id,
    body: ConnectionPatch,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> ConnectionPublic:
    connection = await connections.change_status(
        connection_id, body.status, note=body.note, actor=caller.actor, scope=caller.reach
    )
    return ConnectionPublic.of(show, connection)
