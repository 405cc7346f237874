"""One of several processes does a job (the scheduler's passes; on SQLite the sender too): elected by a
lock that the operating system or the database releases when the holder dies.

* PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a connection kept for as long as it
  is held. The holder checks that connection every ``check_interval`` seconds and stops the job when it
  broke (its session, and so its lock, may be gone); the others try every ``poll_interval`` seconds and
  one of them takes over within that once the holder's session ended (process killed, host gone).
* SQLite: ``flock`` on a file beside the database; the kernel releases it when the holder exits,
  however it exits. (A SQLite file serves the processes of one host, so a file lock is enough.)
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from events.db import conn, dialect_of, reset_on_release

log = logging.getLogger(__name__)

Job = Callable[[asyncio.Event], Awaitable[object]]


class Lock:
    """Tries to take the lock; while held, ``alive()`` says whether it still is."""

    async def acquire(self) -> bool:
        raise NotImplementedError

    async def alive(self) -> bool:
        return True

    async def release(self) -> None:
        raise NotImplementedError


class AdvisoryLock(Lock):
    def __init__(self, key: int) -> None:
        self.key = key
        self._conn: Any = None
        self._stack: contextlib.AsyncExitStack | None = None

    async def acquire(self) -> bool:
        stack = contextlib.AsyncExitStack()
        try:
            connection = await stack.enter_async_context(conn().acquire_connection())
            # A session lock: the pool must reset this connection when it comes back (the others go
            # back without a reset query), should the unlock below have failed.
            reset_on_release(connection)
            taken = bool(await connection.fetchval("SELECT pg_try_advisory_lock($1)", self.key))
        except BaseException:
            await stack.aclose()
            raise
        if not taken:
            await stack.aclose()
            return False
        self._conn, self._stack = connection, stack
        return True

    async def alive(self) -> bool:
        try:
            await asyncio.wait_for(self._conn.fetchval("SELECT 1"), 5)
        except Exception:
            return False
        return True

    async def release(self) -> None:
        stack, connection = self._stack, self._conn
        self._stack = self._conn = None
        if stack is None:
            return
        try:
            with contextlib.suppress(Exception):
                await connection.fetchval("SELECT pg_advisory_unlock($1)", self.key)
        finally:
            # Back to the pool, whose reset (asked for at acquire) unlocks everything anyway.
            with contextlib.suppress(Exception):
                await stack.aclose()


class FileLock(Lock):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    async def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def lock_for(name: str, key: int, data_dir: Path) -> Lock:
    """The advisory lock ``key`` on PostgreSQL; ``DATA_DIR/<name>.lock`` on SQLite."""
    if dialect_of(conn()) == "postgres":
        return AdvisoryLock(key)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return FileLock(data_dir / f"{name}.lock")


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


@contextlib.asynccontextmanager
async def _holding(lock: Lock) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await asyncio.shield(lock.release())


async def run_as_leader(
    name: str,
    lock: Lock,
    job: Job,
    stop: asyncio.Event,
    *,
    poll_interval: float = 2.0,
    check_interval: float = 2.0,
    on_change: Callable[[bool], None] = lambda _: None,
) -> None:
    """Run ``job(job_stop)`` while this process holds ``lock``, until ``stop``. The job is asked to stop
    (``job_stop`` set) when ``stop`` is set or the lock is lost; then this process waits as the others do.
    ``on_change(True/False)`` reports taking and losing the lead (for /metrics and the logs)."""
    while not stop.is_set():
        try:
            taken = await lock.acquire()
        except Exception:
            log.exception("%s: could not ask for the lock; trying again", name)
            taken = False
        if not taken:
            await _pause(stop, poll_interval)
            continue
        log.info("%s: this process leads (pid %s)", name, os.getpid())
        on_change(True)
        job_stop = asyncio.Event()
        try:
            async with _holding(lock):
                task = asyncio.ensure_future(job(job_stop))
                while not task.done():
                    waiting = asyncio.ensure_future(stop.wait())
                    await asyncio.wait({task, waiting}, timeout=check_interval, return_when=asyncio.FIRST_COMPLETED)
                    waiting.cancel()
                    if stop.is_set() or not await lock.alive():
                        if not stop.is_set():
                            log.warning("%s: the lock's connection broke; stopping until it is held again", name)
                        job_stop.set()
                        with contextlib.suppress(Exception):
                            await task
                        break
                if task.done() and not task.cancelled() and task.exception() is not None:
                    log.error("%s: the job failed", name, exc_info=task.exception())
        finally:
            on_change(False)
        if not stop.is_set():
            await _pause(stop, poll_interval)
