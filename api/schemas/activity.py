"""The activity log (the audit trail) as the API shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.presenter import Presenter
from events.models import Activity


class ActivityEntry(BaseModel):
    """A fact, appended in the transaction of the change it records."""

    id: int
    type: str = Field(
        description="What happened, e.g. ``registration.created``, ``checkin.ok``.", examples=["event.published"]
    )
    actor: str = Field(description="Who did it, e.g. ``token:<id>:<name>``, ``telegram:<id>``, ``system``.")
    event_id: int | None
    registration_id: int | None
    person_id: int | None
    payload: dict[str, Any] = Field(description="The fact's details (ids, reasons), by type.")
    created_at: datetime

    @classmethod
    def of(cls, show: Presenter, row: Activity) -> ActivityEntry:
        return cls(
            id=row.id,
            type=row.kind,
            actor=row.actor,
            event_id=row.event_id,
            registration_id=row.registration_id,
            person_id=row.person_id,
            payload=dict(row.payload or {}),
            created_at=row.created_at.astimezone(show.tz),
        )
