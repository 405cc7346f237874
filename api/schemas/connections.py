"""Connections (对接) as the API shows them: the two sides, who asked, the accountable broker, the status."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.presenter import Presenter
from events.models import Connection, ConnectionStatus
from events.services.connections import sides_of

RecordId = Annotated[int, Field(ge=1, le=2_147_483_647)]


class ConnectionSide(BaseModel):
    type: Literal["demand", "achievement", "investor"]
    id: int
    title: str


class ConnectionPublic(BaseModel):
    id: int
    demand_id: int | None
    achievement_id: int | None
    investor_id: int | None
    sides: list[ConnectionSide] = Field(description="The two records joined, demand first.")
    status: ConnectionStatus = Field(description="open → in_talks → contracted | closed")
    origin: str = Field(description="push (an answer to a matched opportunity) | bot | api | organizer")
    wants_broker: bool = Field(description="The person asked for a technology broker to contact them.")
    broker_id: int | None = Field(description="The accountable broker, when there is one.")
    broker_name: str | None
    requested_by: int | None = Field(description="The person who asked for it (null: an organizer).")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, show: Presenter, connection: Connection) -> ConnectionPublic:
        ids = {"demand": connection.demand_id, "achievement": connection.achievement_id,
               "investor": connection.investor_id}  # fmt: skip
        broker = connection.broker
        return cls(
            id=connection.id,
            demand_id=connection.demand_id,
            achievement_id=connection.achievement_id,
            investor_id=connection.investor_id,
            sides=[ConnectionSide(type=kind, id=ids[kind] or 0, title=title) for kind, title in sides_of(connection)],
            status=connection.status,
            origin=connection.origin,
            wants_broker=connection.wants_broker,
            broker_id=connection.broker_id,
            broker_name=broker.person.name if broker is not None else None,
            requested_by=connection.requested_by_id,
            created_at=connection.created_at.astimezone(show.tz),
            updated_at=connection.updated_at.astimezone(show.tz),
        )


class ConnectionCreate(BaseModel):
    """Two of ``demand_id``, ``achievement_id``, ``investor_id``; one of them the caller's organization's."""

    model_config = ConfigDict(extra="forbid")

    demand_id: RecordId | None = None
    achievement_id: RecordId | None = None
    investor_id: RecordId | None = None
    wants_broker: bool = Field(default=False, description="Assign a fitting broker when the demand has none.")


class ConnectionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: ConnectionStatus
    note: Annotated[str, Field(max_length=500)] = ""
