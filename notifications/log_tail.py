"""Reading the activity log in id order without passing a fact that is still being written.

A fact's id is handed out when it is written, not when its transaction commits: on PostgreSQL a
registration written at id 100 may commit after a check-in written at 101. A reader that saw 101 and
moved its cursor there would never see 100 (a confirmation lost in a rush, where hundreds of
transactions overlap). So a hole in the ids the reader sees is a fact in flight until proven otherwise:
the reader waits for the transactions in flight when it read (a hole can only belong to one of them:
an id below one already seen was handed out earlier) and reads again; the holes left then are
transactions that rolled back, gone for good. The same rule as an event store's "high-water mark"
(Marten's daemon skips a hole after a fixed delay; here the transactions themselves are asked).

SQLite has one writer at a time: ids commit in order, and no hole is ever filled later.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time

from events.db import conn as default_db
from events.db import dialect_of
from events.models import Activity

log = logging.getLogger(__name__)

# A transaction in flight longer than this (an open psql session, a long import, another database's
# work: the snapshot is the whole server's) is not waited for again; the hole it might hold is passed.
PATIENCE_SECONDS = 30.0
_POLL_SECONDS = (0.002, 0.005, 0.01, 0.02, 0.05)

_IN_FLIGHT_SQL = "SELECT x::text FROM pg_snapshot_xip(pg_current_snapshot()) AS x"
_STILL_IN_FLIGHT_SQL = "SELECT x::text FROM unnest($1::text[]::xid8[]) AS x WHERE pg_xact_status(x) = 'in progress'"


class LogTail:
    """The facts after a position that can be read without passing one still in flight."""

    def __init__(self) -> None:
        self._outlasted: set[str] = set()  # transactions once waited for in vain: not waited for again

    async def ahead(self, after: int, size: int) -> list[tuple[int, str]]:
        """Ids and kinds of up to ``size`` facts after ``after``, in id order, stopping at none in flight."""
        facts = await _read(after, size)
        connection = default_db()
        if not facts or dialect_of(connection) == "sqlite" or not _holes(after, facts):
            return facts
        in_flight = {row["x"] for row in await connection.execute_query_dict(_IN_FLIGHT_SQL)} - self._outlasted
        if in_flight:
            await self._wait_for(in_flight)
        # What the holes held has committed (maybe between the read and the question, so no longer in
        # flight) or rolled back: read again, no further than before (a hole past that may be a new fact
        # in flight).
        last = facts[-1][0]
        return [fact for fact in await _read(after, size) if fact[0] <= last]

    async def _wait_for(self, xids: set[str]) -> None:
        connection = default_db()
        started = time.monotonic()
        for attempt in itertools.count():
            rows = await connection.execute_query_dict(_STILL_IN_FLIGHT_SQL, [sorted(xids)])
            xids = {row["x"] for row in rows}
            if not xids:
                return
            if time.monotonic() - started > PATIENCE_SECONDS:
                log.warning(
                    "activity log: transactions %s still open after %ss; reading past them", xids, PATIENCE_SECONDS
                )
                self._outlasted |= xids
                return
            await asyncio.sleep(_POLL_SECONDS[min(attempt, len(_POLL_SECONDS) - 1)])


async def _read(after: int, size: int) -> list[tuple[int, str]]:
    return await Activity.filter(id__gt=after).order_by("id").limit(size).values_list("id", "kind")


def _holes(after: int, facts: list[tuple[int, str]]) -> bool:
    return facts[-1][0] - after != len(facts)
