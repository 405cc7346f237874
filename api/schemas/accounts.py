"""Console accounts as admins see them (never the password or its hash)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from events.localtime import local
from events.models import Account


class AccountPublic(BaseModel):
    id: int
    person_id: int
    login: str = Field(description="The sign-in name: an e-mail address or a phone number (E.164).")
    organization_id: int = Field(description="The organization the account acts for in the console.")
    has_password: bool = Field(description="False: the account signs in by one-time links only.")
    locked_until: datetime | None = Field(description="Set while too many wrong passwords lock the account.")
    created_at: datetime

    @classmethod
    def of(cls, account: Account) -> AccountPublic:
        return cls(
            id=account.id,
            person_id=account.person_id,
            login=account.login,
            organization_id=account.organization_id,
            has_password=account.password_hash is not None,
            locked_until=local(account.locked_until) if account.locked_until else None,
            created_at=local(account.created_at),
        )
