"""Console accounts: how a person with an organizer, admin or judge role signs in to the console.

An account is not a role: what its holder may do is read from their ``PersonRole`` grants (for the
account's organization); the account holds only what signing in needs (a password hash, a
failed-attempt counter, sessions, single-use links, and the audit of every attempt).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from events.models.organizations import Organization
    from events.models.people import Person


class Account(Model):
    """A person's console sign-in. ``login`` is the name they type (an e-mail address or a phone
    number, normalised); the password is stored as an argon2id hash only."""

    id = fields.IntField(primary_key=True)
    person: fields.OneToOneRelation[Person] = fields.OneToOneField(
        "models.Person", related_name="account", on_delete=fields.CASCADE
    )
    person_id: int
    # The organization the holder acts for in the console (their role for it decides what they may do).
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="accounts", on_delete=fields.RESTRICT
    )
    organization_id: int
    login = fields.CharField(max_length=254, unique=True)
    # Null: the account signs in only by a one-time link.
    password_hash = fields.CharField(max_length=200, null=True)
    password_changed_at = fields.DatetimeField(null=True)
    # Wrong passwords since the last success; at the setting's limit the account locks until ``locked_until``.
    failed_attempts = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    last_signin_at = fields.DatetimeField(null=True)
    disabled_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "account"


class AccountSession(Model):
    """A signed-in browser. The cookie holds a random key; only its SHA-256 is stored here."""

    id = fields.IntField(primary_key=True)
    key_hash = fields.CharField(max_length=64, unique=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="sessions", on_delete=fields.CASCADE
    )
    account_id: int
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    user_agent = fields.CharField(max_length=300, default="")
    ip = fields.CharField(max_length=64, default="")
    # How the session began: "password" or "link".
    method = fields.CharField(max_length=16)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "account_session"


class SigninLink(Model):
    """A one-time sign-in link sent through the bot or by e-mail. The row keeps a random seed; the
    link's token is a capability made from it with the at-rest key (``events.secretbox``), so neither
    this table nor the outbox row that carries the link holds a token that works."""

    id = fields.IntField(primary_key=True)
    seed = fields.CharField(max_length=16, unique=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="links", on_delete=fields.CASCADE
    )
    account_id: int
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "signin_link"


class SigninOutcome(StrEnum):
    SUCCESS = "success"  # signed in by password
    FAILURE = "failure"  # wrong password or unknown login
    LOCKED = "locked"  # refused: the account is locked
    RATE_LIMITED = "rate_limited"  # refused: too many failures from this address
    LINK_SENT = "link_sent"  # a one-time link was queued
    LINK = "link"  # signed in by a one-time link
    LINK_REFUSED = "link_refused"  # a used, expired or unknown link


class SigninAttempt(Model):
    """The audit of sign-ins: every attempt, its outcome, when and from where. The per-address limit
    counts this table's failures, so it holds across workers and restarts."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="attempts", null=True, on_delete=fields.SET_NULL
    )
    account_id: int | None
    outcome = fields.CharEnumField(SigninOutcome, max_length=16)
    ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "signin_attempt"
        indexes = (("ip", "created_at"), ("account_id", "created_at"))
