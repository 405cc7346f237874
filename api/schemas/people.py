"""People found to grant them a role, and the roles they hold in the bot."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from events.localtime import local
from events.models import Person, PersonRole, Role


class PersonFound(BaseModel):
    """Id and name only: enough to grant a role, nothing more about the person."""

    id: int
    name: str
    telegram_id: int | None

    @classmethod
    def of(cls, person: Person) -> PersonFound:
        return cls(id=person.id, name=person.name, telegram_id=person.telegram_id)


class PersonRoles(BaseModel):
    """One role a person holds (a grant)."""

    id: int
    person_id: int
    role: Role
    organization_id: int | None = Field(description="The organization the role acts for (null: the default one).")
    event_ids: list[int] | None = Field(description="A checker limited to these events; null: every event.")
    granted_by: str
    created_at: datetime

    @classmethod
    def of(cls, held: PersonRole) -> PersonRoles:
        return cls(
            id=held.id,
            person_id=held.person_id,
            role=Role(held.role),
            organization_id=held.organization_id,
            event_ids=held.event_ids,
            granted_by=held.granted_by,
            created_at=local(held.created_at),
        )


class RoleRevoked(BaseModel):
    person_id: int
    role: Role
    revoked: bool = Field(description="False when the person did not hold it.")
