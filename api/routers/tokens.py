"""API tokens, for admins: create (shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.auth import Caller, require
from api.deps import Id, presenter
from api.schemas import Presenter
from events.errors import NotFound
from events.models import ApiToken, Role
from events.services import organizations, tokens

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])
require_admin = require(Role.ADMIN)


class TokenCreate(BaseModel):
    role: Role
    name: str = Field(min_length=1, max_length=100)
    # Limit a checker token to these events (door staff of one session); omit for all events.
    event_ids: list[int] | None = Field(default=None, max_length=1000)
    # The organization the token acts for: its id, or its name (made if new); omit for the default one.
    organization: Annotated[int, Field(ge=1, le=2_147_483_647)] | Annotated[str, Field(max_length=200)] | None = None


def _public(token: ApiToken, show: Presenter) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "role": str(token.role),
        "organization_id": token.organization_id,  # type: ignore[attr-defined]
        "event_ids": token.event_ids,
        "created_at": show.time(token.created_at),
        "last_used_at": show.time(token.last_used_at),
        "revoked_at": show.time(token.revoked_at),
    }


@router.post("", status_code=201)
async def create_token(
    body: TokenCreate, _: Caller = Depends(require_admin), show: Presenter = Depends(presenter)
) -> JSONResponse:
    organization_id = None
    if body.organization is not None:
        organization_id = (await organizations.resolve_organization(body.organization, create=True)).id
    issued = await tokens.create_token(
        role=body.role, name=body.name, event_ids=body.event_ids, organization_id=organization_id
    )
    return JSONResponse(_public(issued.token, show) | {"token": issued.plaintext}, status_code=201)


@router.get("")
async def list_tokens(_: Caller = Depends(require_admin), show: Presenter = Depends(presenter)) -> dict[str, Any]:
    return {"items": [_public(t, show) for t in await tokens.list_tokens()]}


@router.post("/{token_id}/revoke")
async def revoke_token(token_id: Id, _: Caller = Depends(require_admin)) -> dict[str, Any]:
    if not await tokens.revoke_token(token_id):
        raise NotFound()
    return {"id": token_id, "revoked": True}
