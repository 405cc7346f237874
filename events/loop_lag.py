"""How late the server's event loop runs what is due: the one figure that shows a stop of the loop.

Everything a worker does shares one event loop: requests, the notification producer, the scheduler's
passes. A piece of work that holds the loop 40 ms (a batch of ORM models built in one go, a route built
on its first request) adds 40 ms to every request in flight, yet shows in no request's own time nor in
the process's CPU. A timer due every ``INTERVAL`` and run late by ``lag`` measures it (as Node's
``monitorEventLoopDelay`` does): ``wuchuang_event_loop_lag_seconds`` in ``/metrics``, a warning past
``WARN_AFTER``. Four wake-ups a second cost nothing measurable.
"""

from __future__ import annotations

import asyncio
import logging

from events.metrics import LOOP_LAG_SECONDS

INTERVAL = 0.25
WARN_AFTER = 0.5

log = logging.getLogger(__name__)


async def watch(interval: float = INTERVAL) -> None:
    """Observe the loop's lag every ``interval`` seconds, until cancelled."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + interval
        await asyncio.sleep(interval)
        lag = max(0.0, loop.time() - due)
        LOOP_LAG_SECONDS.observe(lag)
        if lag > WARN_AFTER:
            log.warning("the event loop ran %.0f ms late: every request in flight waited as long", lag * 1000)
