"""Idempotency keys: the first response to a key is kept and replayed for the same caller.

A row is claimed *before* the request is handled (unique key+caller), so two concurrent requests
with one key cannot both run; the loser is told the key is in use and to retry.

Replies can carry secrets (a new API token, a registration's access token), so the stored body is
sealed with the at-rest key (events/secretbox.py) and bound to its row: the database alone never
shows them. Who counts as "the same caller" is the transport's business (api/middleware.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tortoise.exceptions import IntegrityError

from events import clock, secretbox
from events.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from events.models import IdempotencyRecord

KEEP_FOR = timedelta(hours=24)
# A claim older than this whose request never finished (the process died) may be taken over.
STALE_CLAIM = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: bytes
    headers: dict[str, str]


async def claim(*, key: str, caller: str, method: str, path: str, request_hash: str) -> StoredResponse | int:
    """Claim ``key`` for this request: the stored response to replay, or the new claim's id.

    Raises ``idempotency_key_in_use`` while the first request runs and ``idempotency_key_reused``
    when the key came with another request.
    """
    now = clock.now()
    for _ in range(2):
        try:
            record = await IdempotencyRecord.create(
                key=key,
                caller=caller,
                method=method,
                path=path,
                request_hash=request_hash,
            )
            return record.id
        except IntegrityError:
            existing = await IdempotencyRecord.get_or_none(key=key, caller=caller)
            if existing is None:
                continue  # released between our insert and our read; try again
            expired = now - existing.created_at > KEEP_FOR
            stale = existing.status_code is None and now - existing.created_at > STALE_CLAIM
            if expired or stale:
                await IdempotencyRecord.filter(id=existing.id).delete()
                continue
            if (existing.method, existing.path, existing.request_hash) != (method, path, request_hash):
                raise IdempotencyKeyReused() from None
            if existing.status_code is None:
                raise IdempotencyKeyInUse() from None
            body = secretbox.current().unseal(existing.response_body or b"", context=_context(existing.id))
            if body is None:
                # Sealed with another key (the data dir was replaced): nothing to replay, run anew.
                await IdempotencyRecord.filter(id=existing.id).delete()
                continue
            return StoredResponse(existing.status_code, body, existing.response_headers or {})
    raise IdempotencyKeyInUse()


def _context(record_id: int) -> str:
    return f"idempotency_record:{record_id}"


async def complete(record_id: int, response: StoredResponse) -> None:
    await IdempotencyRecord.filter(id=record_id).update(
        status_code=response.status_code,
        response_body=secretbox.current().seal(response.body, context=_context(record_id)),
        response_headers=response.headers,
        completed_at=clock.now(),
    )


async def release(record_id: int) -> None:
    """Forget a claim whose request failed on our side, so the client's retry can run."""
    await IdempotencyRecord.filter(id=record_id).delete()


async def purge_expired() -> int:
    return await IdempotencyRecord.filter(created_at__lt=clock.now() - KEEP_FOR).delete()
