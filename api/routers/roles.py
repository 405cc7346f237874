"""Roles of people in the bot (door staff, organizers): find a person, grant, revoke, list.

Admins grant any role for any organization; an organizer grants and revokes checker roles for their
own organization's events only, and sees only their organization's grants.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Caller, require_organizer
from api.deps import Id, presenter
from api.schemas import Presenter
from events.models import PersonRole, Role
from events.services import organizations, staff

router = APIRouter(prefix="/api/v1", tags=["roles"])


class RoleGrant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    # Limit a checker to these events (all of one organization); omit for every event of the organization.
    event_ids: list[Annotated[int, Field(ge=1, le=2_147_483_647)]] | None = Field(default=None, max_length=1000)
    # Admins: the organization the role acts for (id or name); organizers always grant for their own.
    organization: Annotated[int, Field(ge=1, le=2_147_483_647)] | Annotated[str, Field(max_length=200)] | None = None


def _grant(held: PersonRole, show: Presenter) -> dict[str, Any]:
    return {
        "id": held.id,
        "person_id": held.person_id,  # type: ignore[attr-defined]
        "role": str(held.role),
        "organization_id": held.organization_id,  # type: ignore[attr-defined]
        "event_ids": held.event_ids,
        "granted_by": held.granted_by,
        "created_at": show.time(held.created_at),
    }


@router.get("/people")
async def find_people(
    _: Caller = Depends(require_organizer),
    telegram_id: Annotated[int | None, Query(ge=1, lt=2**53)] = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    person_id: Annotated[int | None, Query(alias="id", ge=1, le=2_147_483_647)] = None,
) -> dict[str, Any]:
    """The person with this Telegram id or phone (id and name only), to grant them a role."""
    person = await staff.find_person(staff.PersonRef(person_id=person_id, telegram_id=telegram_id, phone=phone))
    return {"items": [{"id": person.id, "name": person.name, "telegram_id": person.telegram_id}]}


@router.get("/roles")
async def list_roles(
    caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> dict[str, Any]:
    """Every grant (an organizer: their organization's)."""
    return {"items": [_grant(held, show) for held in await staff.list_roles(scope=caller.reach)]}


@router.get("/people/{person_id}/roles")
async def person_roles(
    person_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> dict[str, Any]:
    person = await staff.find_person(staff.PersonRef(person_id=person_id))
    return {"items": [_grant(held, show) for held in await staff.list_roles(person_id=person.id, scope=caller.reach)]}


@router.post("/people/{person_id}/roles", status_code=201)
async def grant_role(
    person_id: Id, body: RoleGrant, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> JSONResponse:
    """Grant (or replace) a role; the grant is written to the activity log with who gave it."""
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
    return JSONResponse(_grant(held, show), status_code=201)


@router.delete("/people/{person_id}/roles/{role}")
async def revoke_role(
    person_id: Id,
    role: Role,
    caller: Caller = Depends(require_organizer),
    organization: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Revoke a role (admins: for one ``organization``, or everywhere)."""
    person = await staff.find_person(staff.PersonRef(person_id=person_id))
    organization_id = None
    if organization is not None:
        organization_id = (await organizations.resolve_organization(organization)).id
    revoked = await staff.revoke_role(
        person, role=role, actor=caller.actor, organization_id=organization_id, granter=caller.reach
    )
    return {"person_id": person.id, "role": str(role), "revoked": revoked}
