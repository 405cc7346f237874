"""API tokens, for admins: create (shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.auth import Caller, require
from api.deps import Id
from api.schemas.common import AUTHED, AUTHED_WRITE, Page, errors
from api.schemas.tokens import TokenCreated, TokenPublic, TokenRevoked
from events.errors import NotFound
from events.models import Role
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


@router.post(
    "",
    status_code=201,
    response_model=TokenCreated,
    responses=AUTHED_WRITE,
    summary="Create a token",
    description="Admins only. The token itself is in `token`, shown this once (only its hash is stored).",
)
async def create_token(body: TokenCreate, _: Caller = Depends(require_admin)) -> TokenCreated:
    organization_id = None
    if body.organization is not None:
        organization_id = (await organizations.resolve_organization(body.organization, create=True)).id
    issued = await tokens.create_token(
        role=body.role, name=body.name, event_ids=body.event_ids, organization_id=organization_id
    )
    return TokenCreated.issued(issued.token, issued.plaintext)


@router.get(
    "",
    response_model=Page[TokenPublic],
    responses=errors(400, 401, 403, 413, 422),
    summary="List tokens",
    description="Admins only: every token (revoked ones too), oldest first, in keyset pages with the total.",
)
async def list_tokens(
    _: Caller = Depends(require_admin),
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Page[TokenPublic]:
    page = await tokens.token_page(limit=limit, cursor=cursor)
    return Page[TokenPublic].of(page, [TokenPublic.of(t) for t in page.items])


@router.post(
    "/{token_id}/revoke",
    response_model=TokenRevoked,
    responses=AUTHED,
    summary="Revoke a token",
    description="Admins only. It stops working at once.",
)
async def revoke_token(token_id: Id, _: Caller = Depends(require_admin)) -> TokenRevoked:
    if not await tokens.revoke_token(token_id):
        raise NotFound()
    return TokenRevoked(id=token_id, revoked=True)
