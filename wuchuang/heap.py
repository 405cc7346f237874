"""The serving process's garbage collector, set for a long-lived server under load.

CPython's full (generation 2) collection walks every tracked object the process holds. After start-up
that is the whole import graph, the app's routes and schemas and the ORM's metadata: ~0.5 M objects
that never become garbage. Under a door rush those walks came every ~0.5 s and took 80–130 ms each,
stopping the event loop with every scan in flight (p50 34 ms, p99 200 ms). Moving what start-up made
into the permanent generation (``gc.freeze``, as Instagram does before forking) leaves the collector
only what the server made since, so a full collection costs what the requests left behind.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI


def freeze_after_startup(app: FastAPI) -> None:
    """Once the app's lifespan has started (database pool, workers, bot), collect and freeze the heap.

    For ``serve`` only: a test process that froze its heap would keep every test's cycles forever.
    """
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        async with inner(application) as state:
            gc.collect()
            gc.freeze()
            yield state

    app.router.lifespan_context = lifespan
