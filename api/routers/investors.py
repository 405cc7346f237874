"""Investor profiles: enter, read, change, list and verify. Another organization's profile is ``404``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from api.auth import Caller, require_organizer
from api.deps import Id, presenter
from api.schemas import Presenter
from api.schemas.common import AUTHED, AUTHED_WRITE, COMMON, Page, errors
from api.schemas.supply import InvestorPublic
from events.services import investors

router = APIRouter(prefix="/api/v1/investors", tags=["investors"])


@router.post(
    "",
    status_code=201,
    response_model=InvestorPublic,
    responses=AUTHED_WRITE,
    summary="Enter an investor",
    description="A fund's or an angel's profile: fields of interest (codes of ``/api/v1/fields``), rounds ("
    + " | ".join(investors.ROUNDS)
    + "), ticket sizes, districts; the organization by id or name (a new name is added as an investor).",
)
async def create_investor(
    data: investors.InvestorInput, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> JSONResponse:
    assert caller.acts_for is not None
    investor = await investors.create_investor(data, organization_id=caller.acts_for, actor=caller.actor)
    body = InvestorPublic.of(show, investor).model_dump(mode="json")
    return JSONResponse(body, status_code=201, headers={"Location": f"/api/v1/investors/{investor.id}"})


@router.get(
    "",
    response_model=Page[InvestorPublic],
    responses=errors(*COMMON, 401, 403),
    summary="List investors",
    description="Your organization's investor profiles (admins: all), newest first; ``q`` in the name, the "
    "description or the organization; ``field`` and ``district`` among their interests; ``verified``.",
)
async def list_investors(
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    q: Annotated[str | None, Query(max_length=100)] = None,
    field: Annotated[str | None, Query(max_length=40)] = None,
    district: Annotated[str | None, Query(max_length=40)] = None,
    verified: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[InvestorPublic]:
    query = investors.InvestorQuery(q=q, field=field, district=district, verified=verified, limit=limit, cursor=cursor)
    page = await investors.list_investors(query, scope=caller.reach)
    return Page[InvestorPublic].of(page, [InvestorPublic.of(show, i) for i in page.items])


@router.get(
    "/{investor_id}",
    response_model=InvestorPublic,
    responses=AUTHED,
    summary="Read an investor",
    description="One profile of your organization's (another organization's is ``404``).",
)
async def get_investor(
    investor_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> InvestorPublic:
    return InvestorPublic.of(show, await investors.get_investor(investor_id, caller.reach))


@router.patch(
    "/{investor_id}",
    response_model=InvestorPublic,
    responses=AUTHED_WRITE,
    summary="Change an investor",
    description="The fields given change, the others stay as they are.",
)
async def update_investor(
    investor_id: Id,
    patch: investors.InvestorPatch,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> InvestorPublic:
    found = await investors.update_investor(investor_id, patch, scope=caller.reach, actor=caller.actor)
    return InvestorPublic.of(show, found)


class VerifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verified: bool = True


@router.post(
    "/{investor_id}/verify",
    response_model=InvestorPublic,
    responses=AUTHED_WRITE,
    summary="Verify an investor",
    description='Mark the profile as checked by your organization (``{"verified": false}`` takes it back).',
)
async def verify_investor(
    investor_id: Id,
    body: Annotated[VerifyBody | None, Body()] = None,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> InvestorPublic:
    verified = body.verified if body is not None else True
    await investors.verify_investor(investor_id, scope=caller.reach, actor=caller.actor, verified=verified)
    return InvestorPublic.of(show, await investors.get_investor(investor_id, caller.reach))
