"""Who wants to know that a supply-chain record was saved: an in-process observer registry.

The services that create or change achievements, demands, brokers, investors and events call
``await saved(kind, ids)`` after their transaction commits; observers (the matching index) register
with ``on_saved(kind, callback)``. A callback gets ``(kind, ids)`` and may be sync or async; one that
fails is logged and does not stop the others or the caller (the record is saved already).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from events import changes

log = logging.getLogger(__name__)
NOTES = "supply"  # the stream of notes other processes read (events/changes.py)

Callback = Callable[[str, list[int]], Any]

_observers: dict[str, list[Callback]] = {}


def on_saved(kind: str, callback: Callback) -> None:
    """Call ``callback(kind, ids)`` whenever records of ``kind`` are saved (registered once)."""
    callbacks = _observers.setdefault(kind, [])
    if callback not in callbacks:
        callbacks.append(callback)


async def saved(kind: str, ids: list[int]) -> None:
    """Tell every observer of ``kind`` that these records were created, changed or removed, here and,
    with REDIS_URL, in the deployment's other processes (``changes.notes_since``)."""
    await changes.publish(NOTES, kind, ids)
    for callback in list(_observers.get(kind, ())):
        try:
            result = callback(kind, list(ids))
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("an observer of %s failed", kind)


def off_saved(kind: str, callback: Callback) -> None:
    """Stop calling ``callback`` (tests, shutdown)."""
    callbacks = _observers.get(kind, [])
    if callback in callbacks:
        callbacks.remove(callback)
