"""Who is calling: a bearer token with a role, or nobody. Role checks are dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from events.errors import Unauthorized
from events.models import ApiToken, Role
from events.services import organizations, tokens


@dataclass(frozen=True, slots=True)
class Caller:
    token: ApiToken | None
    # The raw bearer text when it is not an API token (e.g. a registration's access secret).
    other_secret: str | None = None
    # Whose objects the token reaches (admins: everyone's); nobody's without a token.
    scope: organizations.Scope | None = None
    # The organization that owns what the caller creates (the token's, else the default one).
    acts_for: int | None = None

    @property
    def actor(self) -> str:
        return f"token:{self.token.id}:{self.token.name}" if self.token else "anonymous"

    def has(self, *roles: Role) -> bool:
        if self.token is None:
            return False
        try:
            tokens.require_role(self.token, *roles)
        except Exception:
            return False
        return True

    @property
    def reach(self) -> organizations.Scope:
        """The scope of a guarded route's caller (one that holds a token)."""
        assert self.scope is not None, "a route using the caller's scope must require a token"
        return self.scope


def _bearer(authorization: str | None) -> str | None:
    """The bearer text of an Authorization header; raises ``unauthorized`` for any other scheme."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized()
    return value.strip()


# Declared so /docs offers "Authorize"; the header itself is parsed below, strictly.
_bearer_scheme = HTTPBearer(auto_error=False, description="An API token (wch_…) or a registration's access token")


async def caller_from(authorization: str | None) -> Caller:
    """The caller an Authorization header names; an API token that does not check out is refused,
    other bearer texts are kept. (The hot routes' lean paths read their caller here too.)"""
    text = _bearer(authorization)
    if text is None:
        return Caller(token=None)
    if text.startswith("wch_"):
        token = await tokens.authenticate(text)
        acts_for = token.organization_id or await organizations.default_organization_id()
        return Caller(token=token, scope=await tokens.scope_of(token), acts_for=acts_for)
    return Caller(token=None, other_secret=text)


async def current_caller(request: Request, _: HTTPAuthorizationCredentials | None = Security(_bearer_scheme)) -> Caller:
    """The caller of a request (see ``caller_from``)."""
    return await caller_from(request.headers.get("authorization"))


def require(*roles: Role) -> Callable[..., Awaitable[Caller]]:
    async def dependency(caller: Caller = Depends(current_caller)) -> Caller:
        if caller.token is None:
            raise Unauthorized()
        tokens.require_role(caller.token, *roles)
        return caller

    return dependency


require_organizer = require(Role.ORGANIZER)
