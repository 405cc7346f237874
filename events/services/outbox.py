"""The outbox as organizers read it: what was sent to whom, what failed, and sending a failed one again."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.functions import Count

from events import clock
from events.errors import InvalidTransition
from events.models import Category, OutboxMessage, OutboxStatus
from events.services import ownership, paging
from events.services.organizations import Scope

ORDER = ("-id",)  # newest first


@dataclass(frozen=True, slots=True)
class MessageFilter:
    event_id: int | None = None
    person_id: int | None = None
    broadcast_id: int | None = None
    category: Category | None = None
    status: OutboxStatus | None = None


async def list_messages(
    found: MessageFilter, *, scope: Scope, limit: int = 50, cursor: str | None = None
) -> paging.Page[OutboxMessage]:
    """Messages about the scope's events (admins: all), newest first, a page at a time. Raises
    ``invalid_input`` (field ``cursor``) for a cursor not of this list."""
    qs = OutboxMessage.filter(ownership.message_filter(scope))
    for field, value in (
        ("event_id", found.event_id),
        ("person_id", found.person_id),
        ("broadcast_id", found.broadcast_id),
        ("category", found.category),
        ("status", found.status),
    ):
        if value is not None:
            qs = qs.filter(**{field: value})
    rows = await paging.after(qs, "notifications", ORDER, cursor).order_by(*ORDER).limit(limit + 1)
    return paging.page(rows, "notifications", ORDER, limit)


async def message_stats(*, scope: Scope, event_id: int | None = None) -> dict[OutboxStatus, int]:
    """How many of the scope's messages are in each status (every status named)."""
    qs = OutboxMessage.filter(ownership.message_filter(scope))
    if event_id is not None:
        qs = qs.filter(event_id=event_id)
    grouped = await qs.annotate(n=Count("id")).group_by("status").values("status", "n")
    return dict.fromkeys(OutboxStatus, 0) | {OutboxStatus(g["status"]): g["n"] for g in grouped}


async def depth_by_status() -> dict[str, int]:
    """How many outbox rows are in each status, all organizations together (every status named):
    the gauge ``wuchuang_outbox_messages`` on /metrics."""
    grouped = await OutboxMessage.all().annotate(n=Count("id")).group_by("status").values("status", "n")
    return {str(status): 0 for status in OutboxStatus} | {str(g["status"]): int(g["n"]) for g in grouped}


async def retry_message(message_id: int, *, scope: Scope) -> OutboxMessage:
    """Send a failed message again (attempts start over). Raises ``not_found``, ``invalid_transition``."""
    row = await ownership.owned_message(message_id, scope)
    if row.status != OutboxStatus.FAILED:
        raise InvalidTransition(status=str(row.status))
    updated = await OutboxMessage.filter(id=row.id, status=OutboxStatus.FAILED).update(
        status=OutboxStatus.QUEUED, attempts=0, not_before=clock.now(), lease_until=None
    )
    if not updated:
        raise InvalidTransition(status="changed")
    return await OutboxMessage.get(id=row.id)
