"""What the matching process runs (``events.child``): the engine's queries, in an event loop of its own
with its own database connection, and the notes that keep its index current.

The loop and the connection are made on the first job and kept for the child's life, and so is the
index, which the engine builds from the database on the first query as it does in any process. Each
query runs at the caller's "now" (``events.clock``), ticking from when it was sent, so a query answers
the same here as in the caller. What the query reads was committed before it was sent: the caller
queries here only outside a transaction (``matching._in_transaction``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from events import clock
from events.settings import Settings

_loop: asyncio.AbstractEventLoop | None = None


def _running_loop(settings: Settings) -> asyncio.AbstractEventLoop:
    global _loop
    if _loop is None:
        from events.db import init_db

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.run_until_complete(init_db(settings))
        _loop = loop
    return _loop


def query(settings: Settings, now: datetime, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``engine.<name>(*args, **kwargs)`` (a query or ``rebuild``) at the caller's ``now``."""
    from events.services.matching import engine

    loop = _running_loop(settings)
    sent = time.monotonic()
    clock.set_clock(lambda: now + timedelta(seconds=time.monotonic() - sent))
    try:
        return loop.run_until_complete(getattr(engine, name)(*args, **kwargs))
    finally:
        clock.set_clock(None)


def note(kind: str, ids: Iterable[int]) -> None:
    """A record was saved: the next query reads it again (``engine.note``; between jobs no loop runs, so
    it is applied at the start of that query)."""
    from events.services.matching import engine

    engine.note(kind, list(ids))


def reset() -> None:
    from events.services.matching import engine

    engine.reset()
