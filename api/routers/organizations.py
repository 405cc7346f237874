"""The organizations directory: companies, universities, institutes, investors and offices.

The directory is shared reference data (every organizer reads all of it, as it names owners and
parties); changing an organization is for admins and for organizers acting for that organization.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from api.auth import Caller, require_organizer
from api.deps import Id, presenter
from api.schemas import Presenter
from api.schemas.common import AUTHED, AUTHED_WRITE, COMMON, Page, errors
from api.schemas.supply import OrganizationPublic
from events.models import OrganizationKind
from events.services import organizations

router = APIRouter(prefix="/api/v1/organizations", tags=["organizations"])


@router.post(
    "",
    status_code=201,
    response_model=OrganizationPublic,
    responses=AUTHED_WRITE,
    summary="Add an organization",
    description="A company, university, institute, investor or office. ``credit_code`` (统一社会信用代码) is "
    "checked by its check character and stored upper-case; ``email_domains`` are the organization's own "
    "(no webmail). ``409 organization_name_taken`` / ``credit_code_taken`` when another has them.",
)
async def create_organization(
    data: organizations.OrganizationInput,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> JSONResponse:
    organization = await organizations.create_organization(data, actor=caller.actor)
    body = OrganizationPublic.of(show, organization).model_dump(mode="json")
    return JSONResponse(body, status_code=201, headers={"Location": f"/api/v1/organizations/{organization.id}"})


@router.get(
    "",
    response_model=Page[OrganizationPublic],
    responses=errors(*COMMON, 401, 403),
    summary="Search the directory",
    description="Every organization, by name; ``q`` in the name or the exact credit code. Keyset pages: pass "
    "``next_cursor`` back as ``cursor``.",
)
async def list_organizations(
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    q: Annotated[str | None, Query(max_length=100)] = None,
    kind: OrganizationKind | None = None,
    district: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[OrganizationPublic]:
    page = await organizations.search_organizations(
        organizations.OrganizationQuery(q=q, kind=kind, district=district, limit=limit, cursor=cursor)
    )
    return Page[OrganizationPublic].of(page, [OrganizationPublic.of(show, o) for o in page.items])


@router.get(
    "/{organization_id}",
    response_model=OrganizationPublic,
    responses=AUTHED,
    summary="Read an organization",
    description="One organization of the directory.",
)
async def get_organization(
    organization_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> OrganizationPublic:
    return OrganizationPublic.of(show, await organizations.get_organization(organization_id))


@router.patch(
    "/{organization_id}",
    response_model=OrganizationPublic,
    responses=AUTHED_WRITE,
    summary="Change an organization",
    description="Admins, or an organizer acting for this organization (another's is ``404``). The fields "
    "left out stay as they are; ``credit_code: null`` removes the code.",
)
async def update_organization(
    organization_id: Id,
    patch: organizations.OrganizationPatch,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> OrganizationPublic:
    organization = await organizations.update_organization(
        organization_id, patch, scope=caller.reach, actor=caller.actor
    )
    return OrganizationPublic.of(show, organization)
