"""The live door view of an event: the check-in figures of ``checkin.event_stats`` and what the
organizer watching the door wants beside them: the last arrivals, arrivals per gate, scans per
checker (who is scanning and how many refusals they meet)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from events.models import Attendance, CheckinResult, CheckinScan, Event
from events.services import checkin

RECENT = 12


@dataclass(frozen=True, slots=True)
class Arrival:
    registration_id: int
    name: str
    organization: str | None
    at: datetime
    gate: str | None


@dataclass(frozen=True, slots=True)
class Checker:
    checker: str  # the actor the scans were made as ("token:12:east door", "telegram:…")
    admitted: int
    refused: int


@dataclass(frozen=True, slots=True)
class DoorView:
    stats: checkin.EventStats
    recent: list[Arrival]
    gates: list[tuple[str | None, int]]  # arrivals per gate, busiest first
    checkers: list[Checker]
    refused: int  # scans that admitted nobody (already in, wrong event, invalid, …)

    @property
    def peak(self) -> int:
        """The busiest five minutes (scales the chart); 0 before anyone came."""
        return max((n for _, n in self.stats.arrivals), default=0)


async def door_view(event: Event, *, recent: int = RECENT) -> DoorView:
    """The figures the door view shows for ``event`` (its own check-ins; a course pass counts at the
    session it was scanned at)."""
    stats = await checkin.event_stats(event)
    last = (
        await Attendance.filter(event_id=event.id)
        .select_related("registration")
        .order_by("-checked_in_at", "-id")
        .limit(recent)
    )
    gate_of = cast("list[str | None]", await Attendance.filter(event_id=event.id).values_list("gate", flat=True))
    gates: Counter[str | None] = Counter(gate_of)
    scans = await CheckinScan.filter(event_id=event.id).values_list("checker", "result")
    admitted: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for who, result in scans:
        (admitted if result == CheckinResult.OK else refused)[who] += 1
    checkers = [
        Checker(who, admitted[who], refused[who]) for who in sorted(set(admitted) | set(refused), key=lambda w: w)
    ]
    return DoorView(
        stats=stats,
        recent=[
            Arrival(a.registration_id, a.registration.name, a.registration.organization, a.checked_in_at, a.gate)
            for a in last
        ],
        gates=sorted(gates.items(), key=lambda kv: (-kv[1], kv[0] or "")),
        checkers=checkers,
        refused=sum(refused.values()),
    )
