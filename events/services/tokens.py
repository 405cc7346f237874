"""API tokens: created once and shown once, stored as SHA-256, checked on every call."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from events import clock
from events.db_reads import get_one
from events.errors import N_, EventOutOfScope, Forbidden, InvalidInput, Unauthorized
from events.models import ApiToken, Role
from events.services import organizations, paging

# Roles that may do what a lesser one may. Checkers and judges hold only their own powers.
_IMPLIES: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset(Role),
    Role.ORGANIZER: frozenset({Role.ORGANIZER}),
    Role.CHECKER: frozenset({Role.CHECKER}),
    Role.JUDGE: frozenset({Role.JUDGE}),
}
# Writing last_used_at on every request would make each read a write; once a minute is enough.
_TOUCH_EVERY = timedelta(minutes=1)
# A token found live is taken as live for this long by this process without asking the database again:
# at a door, 50 scanners send ~1,000 scans a second under a handful of tokens, and the read was a third
# of a scan's round trips. Revoking in this process forgets it at once (``forget``); the deployment's
# other processes refuse it within this time. Tokens never change otherwise (role, organization and
# events are set at creation). Unknown texts are never kept: guessing fills nothing.
CHECKED_FOR = timedelta(seconds=2)
_CHECKED_MAX = 10_000
_checked: dict[str, tuple[ApiToken, datetime]] = {}


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ApiToken
    plaintext: str


def _hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


async def create_token(
    *,
    role: Role | str,
    name: str,
    event_ids: list[int] | None = None,
    organization_id: int | None = None,
    account_id: int | None = None,
    using_db: BaseDBAsyncClient | None = None,
) -> IssuedToken:
    """Make a token; its text is returned here and never again. ``event_ids`` limits a checker to
    those events; ``organization_id`` is the organization it acts for (None: the default one; an admin
    token without one acts for every organization). Raises ``invalid_input``, ``organization_not_found``.
    """
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(N_("Unknown role %(role)s."), field="role", role=str(role)) from None
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput(N_("A token needs a name of 1 to 100 characters."), field="name")
    if event_ids is not None:
        if role != Role.CHECKER:
            raise InvalidInput(N_("Only checker tokens can be limited to events."), field="event_ids")
        if not event_ids or any(not isinstance(i, int) or i < 1 for i in event_ids):
            raise InvalidInput(N_("List one or more event ids."), field="event_ids")
        event_ids = sorted(set(event_ids))
    if organization_id is not None:
        await organizations.get_organization(organization_id)
    elif role != Role.ADMIN:
        organization_id = await organizations.default_organization_id()
    plaintext = f"wch_{secrets.token_urlsafe(32)}"
    token = await ApiToken.create(
        name=name,
        role=role,
        token_hash=_hash(plaintext),
        event_ids=event_ids,
        organization_id=organization_id,
        account_id=account_id,
        using_db=using_db,
    )
    return IssuedToken(token=token, plaintext=plaintext)


async def authenticate(plaintext: str) -> ApiToken:
    """The live token with this text. Raises ``unauthorized``."""
    key = _hash(plaintext)
    now = clock.now()
    held = _checked.get(key)
    if held is not None and timedelta(0) <= now - held[1] < CHECKED_FOR:
        token = held[0]
    else:
        found = await get_one(ApiToken, token_hash=key, revoked_at=None)
        if found is None:
            raise Unauthorized()
        token = found
        if len(_checked) >= _CHECKED_MAX:
            _checked.clear()
        _checked[key] = (token, now)
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        await ApiToken.filter(id=token.id).update(last_used_at=now)
        token.last_used_at = now
    return token


def require_role(token: ApiToken, *roles: Role) -> None:
    """Raises ``forbidden`` unless the token's role covers one of ``roles``."""
    held = _IMPLIES[Role(token.role)]
    if not any(role in held for role in roles):
        raise Forbidden()


async def scope_of(token: ApiToken) -> organizations.Scope:
    """What the token may see: admins everything, everyone else their organization's objects."""
    if token.role == Role.ADMIN:
        return organizations.EVERYTHING
    organization_id = token.organization_id
    return organizations.Scope(organization_id or await organizations.default_organization_id())


def may_act_on_event(token: ApiToken, event_id: int) -> bool:
    return token.event_ids is None or event_id in token.event_ids


def require_event_scope(token: ApiToken, event_id: int) -> None:
    """Raises ``event_out_of_scope`` for a checker token limited to other events."""
    if not may_act_on_event(token, event_id):
        raise EventOutOfScope()


async def revoke_token(token_id: int) -> bool:
    revoked = bool(await ApiToken.filter(id=token_id, revoked_at=None).update(revoked_at=clock.now()))
    forget([token_id])
    return revoked


def forget(token_ids: Iterable[int | None]) -> None:
    """Drop these tokens from this process's checked tokens: every service that revokes one calls it once
    the revocation is committed (a call meanwhile may have read the row still live), so a revoked token is
    refused here at once and elsewhere within ``CHECKED_FOR``."""
    gone = set(token_ids)
    for key in [key for key, (token, _) in _checked.items() if token.id in gone]:
        _checked.pop(key, None)


def forget_all() -> None:
    """Drop every checked token (tests: a new database)."""
    _checked.clear()


async def list_tokens() -> list[ApiToken]:
    return await ApiToken.all().select_related("organization").order_by("id")


_TOKEN_ORDER = ("id",)


async def token_page(*, limit: int, cursor: str | None = None) -> paging.Page[ApiToken]:
    """One keyset page of every token, oldest first, with the total. Raises ``invalid_input``
    (field ``cursor``) for a cursor not made for this list."""
    qs = ApiToken.all()
    after = paging.after(qs, "tokens", _TOKEN_ORDER, cursor)
    total = await qs.count()
    rows = await after.select_related("organization").order_by(*_TOKEN_ORDER).limit(limit + 1)
    return paging.page(rows, "tokens", _TOKEN_ORDER, limit, total=total)
