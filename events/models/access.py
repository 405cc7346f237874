from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from events.models.accounts import Account
    from events.models.organizations import Organization


class Role(StrEnum):
    ADMIN = "admin"
    ORGANIZER = "organizer"
    CHECKER = "checker"
    JUDGE = "judge"


class ApiToken(Model):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once, at creation."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    role = fields.CharEnumField(Role, max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    # Checkers may be limited to some events; null means every event.
    event_ids: fields.JSONField[list[int] | None] = fields.JSONField(null=True)
    # The organization the token acts for; null means the default organization (admins see everything).
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="tokens", null=True, on_delete=fields.RESTRICT
    )

    organization_id: int | None
    # The console account that made the token (its holder lists and revokes it there); null for tokens
    # made by the CLI or the API.
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="tokens", null=True, on_delete=fields.SET_NULL
    )
    account_id: int | None

    class Meta:
        table = "api_token"


class IdempotencyRecord(Model):
    """The first response to a POST carrying an Idempotency-Key, replayed for the same key and caller."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=255)
    caller = fields.CharField(max_length=80)
    method = fields.CharField(max_length=8)
    path = fields.CharField(max_length=500)
    request_hash = fields.CharField(max_length=64)
    # Null while the first request is still being handled.
    status_code = fields.IntField(null=True)
    response_body = fields.BinaryField(null=True)
    response_headers: fields.JSONField[dict[str, str] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    completed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "idempotency_record"
        unique_together = (("key", "caller"),)


class FormNonce(Model):
    """A public form's single-use token, spent (api/site forms): inserting its nonce a second time
    fails on the primary key, so a replayed form is refused even by another worker. Rows past
    ``expires_at`` prove nothing any more (the token's own expiry refuses it) and are swept."""

    nonce = fields.CharField(max_length=32, primary_key=True)
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "form_nonce"
