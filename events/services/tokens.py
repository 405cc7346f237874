"""API tokens: created once and shown once, stored as SHA-256, checked on every call."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

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
    token = await get_one(ApiToken, token_hash=_hash(plaintext), revoked_at=None)
    if token is None:
        raise Unauthorized()
    now = clock.now()
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
    return bool(await ApiToken.filter(id=token_id, revoked_at=None).update(revoked_at=clock.now()))


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
