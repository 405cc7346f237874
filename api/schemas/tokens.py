"""API tokens as admins see them (never the secret, except once at creation)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from events.localtime import local
from events.models import ApiToken, Role


class TokenPublic(BaseModel):
    id: int
    name: str
    role: Role
    organization_id: int | None = Field(description="Null: the default organization.")
    event_ids: list[int] | None = Field(description="A checker limited to these events; null: every event.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def fields_of(cls, token: ApiToken) -> dict[str, object]:
        return {
            "id": token.id,
            "name": token.name,
            "role": Role(token.role),
            "organization_id": token.organization_id,
            "event_ids": token.event_ids,
            "created_at": local(token.created_at),
            "last_used_at": local(token.last_used_at) if token.last_used_at else None,
            "revoked_at": local(token.revoked_at) if token.revoked_at else None,
        }

    @classmethod
    def of(cls, token: ApiToken) -> TokenPublic:
        return cls.model_validate(cls.fields_of(token))


class TokenCreated(TokenPublic):
    token: str = Field(description="The bearer token itself; shown this once, stored only as a hash.")

    @classmethod
    def issued(cls, token: ApiToken, plaintext: str) -> TokenCreated:
        return cls.model_validate(cls.fields_of(token) | {"token": plaintext})


class TokenRevoked(BaseModel):
    id: int
    revoked: bool
