"""Door staff's sign-in links: a checker token limited to one event, made from the console.

The token is an ordinary API token (``tokens.create_token``: role checker, ``event_ids=[event]``, the
event's organization), so the scanner at ``/scan`` and the API judge it as any other: it may scan
that event only (``event_out_of_scope`` elsewhere) and stops at once when revoked. Its text is shown
once, inside the link ``/scan#token=…`` (a fragment: never sent to the server, never in a log).
"""

from __future__ import annotations

import hashlib
import json

from tortoise.transactions import in_transaction

from events import clock
from events.errors import N_, InvalidInput, NotFound
from events.models import ApiToken, Event, Role
from events.services import activity, idempotency, ownership, tokens
from events.services.organizations import Scope
from events.settings import get_settings

SCAN_PATH = "/scan"


class DoorLinkNotFound(NotFound):
    code = "door_link_not_found"
    message = N_("No such door-staff link for this event.")


def scan_url(plaintext: str, event_id: int) -> str:
    """The address that signs a phone in to the scanner with this token, on this event."""
    return f"{get_settings().base_url}{SCAN_PATH}#token={plaintext}&event={event_id}"


async def create_door_link(
    event_id: int,
    name: str,
    *,
    scope: Scope,
    actor: str,
    account_id: int | None = None,
    key: str | None = None,
) -> tokens.IssuedToken:
    """A checker token for ``event_id`` alone, named ``name`` (who holds it: "东门 小李").
    With ``key`` (a form's own), the same key again (a double click, a reload that posts again) answers
    the token it made, its text included (kept sealed by ``idempotency``), making no second one.
    Raises ``event_not_found`` (not in ``scope``), ``invalid_input`` (field ``name``),
    ``idempotency_key_reused`` (the key with another name or event), ``idempotency_key_in_use``."""
    event = await ownership.owned_event(event_id, scope)
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput(N_("A door-staff link needs a name of 1 to 100 characters."), field="name")
    if key is None:
        return await _create(event, name, actor=actor, account_id=account_id)
    digest = hashlib.sha256(json.dumps([event.id, name], ensure_ascii=False).encode()).hexdigest()
    claimed = await idempotency.claim(key=key[:100], caller=actor, method="POST", path=KEY_SCOPE, request_hash=digest)
    if isinstance(claimed, idempotency.StoredResponse):
        token_id, _, plaintext = claimed.body.decode().partition(":")
        return tokens.IssuedToken(await ApiToken.get(id=int(token_id)), plaintext)
    try:
        issued = await _create(event, name, actor=actor, account_id=account_id)
    except BaseException:
        await idempotency.release(claimed)
        raise
    body = f"{issued.token.id}:{issued.plaintext}".encode()
    await idempotency.complete(claimed, idempotency.StoredResponse(201, body, {}))
    return issued


KEY_SCOPE = "door-link"


async def _create(event: Event, name: str, *, actor: str, account_id: int | None) -> tokens.IssuedToken:
    async with in_transaction() as conn:
        issued = await tokens.create_token(
            role=Role.CHECKER,
            name=name,
            event_ids=[event.id],
            organization_id=event.organization_id,
            account_id=account_id,
            using_db=conn,
        )
        await activity.record(
            "door_link.created", actor=actor, event_id=event.id, using_db=conn, token_id=issued.token.id, name=name
        )
    return issued


async def door_links(event_id: int, *, scope: Scope) -> list[ApiToken]:
    """The checker tokens limited to ``event_id`` (revoked ones too), newest first.
    Raises ``event_not_found``."""
    event = await ownership.owned_event(event_id, scope)
    found = await ApiToken.filter(role=Role.CHECKER, organization_id=event.organization_id).order_by("-id")
    return [t for t in found if t.event_ids is not None and event.id in t.event_ids]


async def revoke_door_link(event_id: int, token_id: int, *, scope: Scope, actor: str) -> bool:
    """Stop a door-staff link of ``event_id`` at once; False when it was already revoked.
    Raises ``event_not_found``, ``door_link_not_found`` (no such checker token of this event)."""
    found = {t.id: t for t in await door_links(event_id, scope=scope)}
    if token_id not in found:
        raise DoorLinkNotFound()
    async with in_transaction() as conn:
        revoked = bool(
            await ApiToken.filter(id=token_id, revoked_at=None).using_db(conn).update(revoked_at=clock.now())
        )
        if revoked:
            await activity.record("door_link.revoked", actor=actor, event_id=event_id, using_db=conn, token_id=token_id)
    tokens.forget([token_id])
    return revoked
