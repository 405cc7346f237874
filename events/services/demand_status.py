"""A demand's status timeline: open → matched → in_talks → contracted → closed, or closed|expired
on the way. Every step is a ``DemandStatusChange`` row and a ``demand.status_changed`` fact, written
in the caller's transaction; the creation itself is the first row (from nothing to open).
"""

from __future__ import annotations

from datetime import date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from events import clock, localtime
from events.errors import DemandTransitionRefused
from events.models import Demand, DemandStatus, DemandStatusChange
from events.services import activity

S = DemandStatus
# The main road, in order. A later step may be reached directly (a contract recorded for a demand
# nobody marked "in talks" is still contracted); the timeline shows the step as it was taken.
ROAD = (S.OPEN, S.MATCHED, S.IN_TALKS, S.CONTRACTED, S.CLOSED)
# Statuses a demand is still being worked in: it can be matched, claimed, closed or expire.
ACTIVE = frozenset({S.OPEN, S.MATCHED, S.IN_TALKS})
# Where each status may go. Closed and expired are final; a contracted demand only closes.
GRAPH: dict[DemandStatus, frozenset[DemandStatus]] = {
    S.OPEN: frozenset({S.MATCHED, S.IN_TALKS, S.CONTRACTED, S.CLOSED, S.EXPIRED}),
    S.MATCHED: frozenset({S.IN_TALKS, S.CONTRACTED, S.CLOSED, S.EXPIRED}),
    S.IN_TALKS: frozenset({S.CONTRACTED, S.CLOSED, S.EXPIRED}),
    S.CONTRACTED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.EXPIRED: frozenset(),
}
SYSTEM_ACTOR = "system:expiry"


def can_go(from_status: DemandStatus, to: DemandStatus) -> bool:
    return to in GRAPH[DemandStatus(from_status)]


async def transition(
    demand: Demand, to: DemandStatus, *, actor: str, using_db: BaseDBAsyncClient, note: str = ""
) -> DemandStatusChange:
    """Move ``demand`` to ``to`` along the graph and append the step to its timeline; the first move
    out of ``open`` is its first response. Raises ``invalid_transition`` (409; naming both states)
    for a step the graph has no edge for, including staying where it is.
    """
    to = DemandStatus(to)
    current = DemandStatus(demand.status)
    if not can_go(current, to):
        raise DemandTransitionRefused(status=current.value, to_status=to.value)
    now = clock.now()
    values: dict[str, object] = {"status": to, "status_changed_at": now, "updated_at": now}
    # Conditional on the status read: two concurrent moves of one demand cannot both pass.
    moved = await Demand.filter(id=demand.id, status=current).using_db(using_db).update(**values)
    if not moved:
        fresh = await Demand.get(id=demand.id, using_db=using_db)
        raise DemandTransitionRefused(status=DemandStatus(fresh.status).value, to_status=to.value)
    demand.status, demand.status_changed_at, demand.updated_at = to, now, now
    if current == S.OPEN:
        await mark_first_response(demand, using_db=using_db, at=now)
    step = await DemandStatusChange.create(
        demand_id=demand.id,
        from_status=current,
        to_status=to,
        note=note[:500],
        actor=actor[:100],
        at=now,
        using_db=using_db,
    )
    await activity.record(
        "demand.status_changed",
        actor=actor,
        person_id=demand.contact_id,
        using_db=using_db,
        demand_id=demand.id,
        managed_by=demand.managed_by_id,
        from_status=current.value,
        to_status=to.value,
        note=note[:500],
    )
    return step


async def mark_first_response(demand: Demand, *, using_db: BaseDBAsyncClient, at: datetime | None = None) -> bool:
    """Record the first answer to a demand (a claim, a connection, a move out of open); later ones
    change nothing. Returns whether this was the first.
    """
    at = at or clock.now()
    marked = (
        await Demand.filter(id=demand.id, first_response_at__isnull=True)
        .using_db(using_db)
        .update(first_response_at=at)
    )
    if marked:
        demand.first_response_at = at
    return bool(marked)


async def record_creation(demand: Demand, *, actor: str, using_db: BaseDBAsyncClient) -> DemandStatusChange:
    """The timeline's first row: from nothing to open."""
    return await DemandStatusChange.create(
        demand_id=demand.id, from_status=None, to_status=S.OPEN, actor=actor[:100], at=demand.created_at,
        using_db=using_db,
    )  # fmt: skip


async def timeline(demand_id: int) -> list[DemandStatusChange]:
    return await DemandStatusChange.filter(demand_id=demand_id).order_by("at", "id")


def minutes_to_first_response(demand: Demand) -> int | None:
    if demand.first_response_at is None:
        return None
    return max(0, int((demand.first_response_at - demand.created_at).total_seconds() // 60))


def local_today() -> date:
    return localtime.local(clock.now()).date()


async def expire_due_demands(*, limit: int = 500) -> int:
    """Demands whose deadline (a local date) has passed become ``expired``, unless they reached a
    contract or were closed. A scheduler pass; each demand moves in a transaction of its own, and one
    moved meanwhile by someone else is left to them. Returns how many expired.
    """
    today = local_today()
    due = (
        await Demand.filter(Q(status__in=list(ACTIVE)), deadline__lt=today)
        .order_by("deadline", "id")
        .limit(limit)
        .values_list("id", flat=True)
    )
    expired = 0
    for demand_id in due:
        async with in_transaction() as conn:
            demand = await Demand.get_or_none(id=demand_id, using_db=conn)
            if demand is None or demand.status not in ACTIVE:
                continue
            try:
                await transition(demand, S.EXPIRED, actor=SYSTEM_ACTOR, using_db=conn, note="deadline passed")
            except DemandTransitionRefused:
                continue  # moved by someone else in between: theirs stands
            expired += 1
    return expired
