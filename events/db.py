"""Tortoise configuration and start-up. SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import os
import sqlite3
import stat
from typing import Any, cast

import asyncpg
from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.sqlite.client import SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.connection import get_connections as connections_var
from tortoise.exceptions import TransactionManagementError

from events import changes, localtime, secretbox
from events.models import MODEL_MODULES
from events.settings import Settings

# Rows one statement reads or writes are built in one go, on the event loop the server's requests share
# (the notification producer and the scheduler run in a serving worker): ~70 µs a row with its event
# and person, so 500 held every door scan in flight 30–40 ms; 100 hold it ~7.
ROWS_AT_ONCE = 100


class NoResetConnection(asyncpg.Connection):  # type: ignore[misc]
    """An asyncpg connection the pool gives back without a reset query.

    asyncpg's pool sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` each time
    a connection is released, and Tortoise borrows one per statement or transaction: a round trip more
    for each. Nothing here leaves session state behind (no SET, LISTEN, cursors or held advisory locks:
    the dispatcher unlocks its own and marks its connection with ``reset_on_release``).
    """

    reset_on_release = False

    def get_reset_query(self) -> str:
        return str(super().get_reset_query()) if self.reset_on_release else ""


def reset_on_release(connection: Any) -> None:
    """Have the pool reset this connection (as asyncpg would) when given back: for session state."""
    target = getattr(connection, "_con", connection)  # the pool's proxy, or the connection itself
    if isinstance(target, NoResetConnection):
        target.reset_on_release = True


async def _begin_immediate(self: SqliteTransactionWrapper) -> None:
    """SQLite transactions start as writers (``BEGIN IMMEDIATE``).

    A deferred transaction that reads and then writes while another process (the CLI, a second
    worker) writes cannot wait for the lock: SQLite fails it at once with "database is locked", since
    waiting could deadlock. Taking the write lock at BEGIN makes it wait on ``busy_timeout`` instead.
    Within one process Tortoise already runs one transaction at a time, so nothing is lost by it.
    """
    try:
        await self._connection.commit()
        await self._connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise TransactionManagementError(exc) from exc


SqliteTransactionWrapper.begin = _begin_immediate  # type: ignore[method-assign]


async def _enter_or_let_go(self: SqliteTransactionContext) -> Any:
    """Tortoise's ``__aenter__``, letting go of the connection's transaction lock (and the current
    connection) when BEGIN fails. Tortoise's own keeps the lock when ``begin`` raises, and ``__aexit__``
    never runs for a context that did not enter: one BEGIN refused after ``busy_timeout`` (another
    process holding the write lock that long) left every later transaction of the process waiting
    forever: the server answered nothing more.
    """
    await self._trxlock.acquire()
    try:
        await self.ensure_connection()
        self.token = connections_var().set(self.connection_name, self.connection)
        try:
            await self.connection.begin()
        except BaseException:
            connections_var().reset(self.token)
            raise
    except BaseException:
        self._trxlock.release()
        raise
    return self.connection


SqliteTransactionContext.__aenter__ = _enter_or_let_go  # type: ignore[method-assign]


def tortoise_config(settings: Settings) -> dict[str, Any]:
    connection: str | dict[str, Any] = settings.tortoise_url
    if settings.dialect == "postgres":
        connection = expand_db_url(settings.tortoise_url)
        connection["credentials"]["connection_class"] = NoResetConnection
    return {
        "connections": {"default": connection},
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


def prepare_files(settings: Settings) -> None:
    """The data dir (0700) and the SQLite file (0600) exist, readable by this user only.

    They hold the signing keys, the at-rest key and personal data; SQLite would otherwise create its
    file world-readable under the usual umask. An existing database file is tightened too.
    """
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = settings.sqlite_file
    if path is None:
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


async def init_db(settings: Settings) -> None:
    """Connect Tortoise and load the data dir's at-rest key. The schema is Alembic's job; this never
    creates tables.
    """
    if settings.dialect == "sqlite":
        prepare_files(settings)
    secretbox.use(settings.data_dir)
    changes.use(settings.redis_url)
    localtime.use(settings.timezone)
    # Global fallback: ASGI servers run the lifespan and the requests in different tasks.
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()


def conn() -> BaseDBAsyncClient:
    return cast(BaseDBAsyncClient, connections.get("default"))


def dialect_of(connection: BaseDBAsyncClient) -> str:
    return "sqlite" if connection.capabilities.dialect == "sqlite" else "postgres"
