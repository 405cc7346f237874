"""The activity log: facts appended inside the transaction of the change they record."""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from events.models import Activity


async def record(
    kind: str,
    *,
    actor: str,
    using_db: BaseDBAsyncClient,
    event_id: int | None = None,
    registration_id: int | None = None,
    person_id: int | None = None,
    **payload: Any,
) -> Activity:
    return await Activity.create(
        kind=kind,
        actor=actor,
        event_id=event_id,
        registration_id=registration_id,
        person_id=person_id,
        payload=payload,
        using_db=using_db,
    )
