"""Console accounts, for admins: make one for a person who holds an organizer, admin or judge role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from api.auth import Caller, require
from api.schemas.accounts import AccountPublic
from api.schemas.common import errors
from events.models import Role
from events.services import accounts, organizations

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])
require_admin = require(Role.ADMIN)


class AccountCreate(BaseModel):
    """Name the person by exactly one of ``person_id``, ``telegram_id``, ``email``."""

    model_config = ConfigDict(extra="forbid")

    person_id: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = None
    telegram_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    login: Annotated[str, Field(max_length=254)] | None = Field(
        default=None, description="The sign-in name (e-mail or phone); default: the person's e-mail, else phone."
    )
    organization: Annotated[int, Field(ge=1, le=2_147_483_647)] | Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="The organization (id or name) the account acts for; default: its role's."
    )
    password: SecretStr | None = Field(
        default=None,
        max_length=256,
        description="At least 10 characters, not the person's name, phone or e-mail; omit for sign-in links only.",
    )


@router.post(
    "",
    status_code=201,
    response_model=AccountPublic,
    responses=errors(400, 401, 403, 404, 409, 413, 422),
    summary="Create a console account",
    description="Admins only. The person must hold an organizer, admin or judge role (`no_console_role`); "
    "one account per person and per sign-in name (`account_exists`); a weak password is `weak_password`.",
)
async def create_account(body: AccountCreate, caller: Caller = Depends(require_admin)) -> AccountPublic:
    person = await accounts.find_person(person_id=body.person_id, telegram_id=body.telegram_id, email=body.email)
    organization_id = (
        (await organizations.resolve_organization(body.organization)).id if body.organization is not None else None
    )
    account = await accounts.create_account(
        person,
        actor=caller.actor,
        password=body.password.get_secret_value() if body.password is not None else None,
        login=body.login,
        organization_id=organization_id,
    )
    return AccountPublic.of(account)
