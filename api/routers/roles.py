"""Roles of people in the bot (door staff, organizers): find a person, grant, revoke, list.

Admins grant any role for any organization; an organizer grants and revokes checker roles for their
own organization's events only, and sees only their organization's grants.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Caller, require_organizer
from api.deps import Id
from api.schemas.common import AUTHED, AUTHED_WRITE, Items, Page, errors
from api.schemas.people import PersonFound, PersonRoles, RoleRevoked
from events.models import Role
from events.services import organizations, staff

router = APIRouter(prefix="/api/v1", tags=["roles"])


class RoleGrant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    # Limit a checker to these events (all of one organization); omit for every event of the organization.
    event_ids: list[Annotated[int, Field(ge=1, le=2_147_483_647)]] | None = Field(default=None, max_length=1000)
    # Admins: the organization the role acts for (id or name); organizers always grant for their own.
    organization: Annotated[int, Field(ge=1, le=2_147_483_647)] | Annotated[str, Field(max_length=200)] | None = None


@router.get(
    "/people",
    response_model=Items[PersonFound],
    responses=AUTHED,
    summary="Find a person",
    description="The person with this Telegram id, phone (any form) or id — id and name only — to grant them "
    "a role. `404` when nobody matches.",
)
async def find_people(
    _: Caller = Depends(require_organizer),
    telegram_id: Annotated[int | None, Query(ge=1, lt=2**53)] = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    person_id: Annotated[int | None, Query(alias="id", ge=1, le=2_147_483_647)] = None,
) -> Items[PersonFound]:
    person = await staff.find_person(staff.PersonRef(person_id=person_id, telegram_id=telegram_id, phone=phone))
    return Items[PersonFound](items=[PersonFound.of(person)])


Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=400)]


@router.get(
    "/roles",
    response_model=Page[PersonRoles],
    responses=errors(400, 401, 403, 413, 422),
    summary="List role grants",
    description="Every grant (an organizer: their organization's), oldest first, in keyset pages with the total.",
)
async def list_roles(
    caller: Caller = Depends(require_organizer), limit: Limit = 50, cursor: Cursor = None
) -> Page[PersonRoles]:
    page = await staff.role_page(scope=caller.reach, limit=limit, cursor=cursor)
    return Page[PersonRoles].of(page, [PersonRoles.of(held) for held in page.items])


@router.get(
    "/people/{person_id}/roles",
    response_model=Page[PersonRoles],
    responses=AUTHED,
    summary="A person's roles",
    description="The roles one person holds (an organizer: for their organization), in keyset pages.",
)
async def person_roles(
    person_id: Id, caller: Caller = Depends(require_organizer), limit: Limit = 50, cursor: Cursor = None
) -> Page[PersonRoles]:
    person = await staff.find_person(staff.PersonRef(person_id=person_id))
    page = await staff.role_page(person_id=person.id, scope=caller.reach, limit=limit, cursor=cursor)
    return Page[PersonRoles].of(page, [PersonRoles.of(held) for held in page.items])


@router.post(
    "/people/{person_id}/roles",
    status_code=201,
    response_model=PersonRoles,
    responses=AUTHED_WRITE,
    summary="Grant a role",
    description="Grant (or replace) a role; the grant is written to the activity log with who gave it. An "
    "organizer grants checker roles for their own organization's events only (`403` otherwise).",
)
async def grant_role(person_id: Id, body: RoleGrant, caller: Caller = Depends(require_organizer)) -> PersonRoles:
    person = await staff.find_person(staff.PersonRef(person_id=person_id))
    organization_id = None
    if body.organization is not None:
        organization_id = (await organizations.resolve_organization(body.organization)).id
    held = await staff.grant_role(
        person,
        role=body.role,
        event_ids=body.event_ids,
        actor=caller.actor,
        organization_id=organization_id,
        granter=caller.reach,
    )
    return PersonRoles.of(held)


@router.delete(
    "/people/{person_id}/roles/{role}",
    response_model=RoleRevoked,
    responses=AUTHED_WRITE,
    summary="Revoke a role",
    description="Revoke a role (admins: for one `organization`, or everywhere).",
)
async def revoke_role(
    person_id: Id,
    role: Role,
    caller: Caller = Depends(require_organizer),
    organization: Annotated[str | None, Query(max_length=200)] = None,
) -> RoleRevoked:
    person = await staff.find_person(staff.PersonRef(person_id=person_id))
    organization_id = None
    if organization is not None:
        organization_id = (await organizations.resolve_organization(organization)).id
    revoked = await staff.revoke_role(
        person, role=role, actor=caller.actor, organization_id=organization_id, granter=caller.reach
    )
    return RoleRevoked(person_id=person.id, role=role, revoked=revoked)
