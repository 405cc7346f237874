"""Tortoise configuration and start-up. SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import os
import sqlite3
import stat
from typing import Any, cast

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.sqlite.client import SqliteTransactionWrapper
from tortoise.exceptions import TransactionManagementError

from events import changes, localtime, secretbox
from events.models import MODEL_MODULES
from events.settings import Settings


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


def tortoise_config(settings: Settings) -> dict[str, Any]:
    return {
        "connections": {"default": settings.tortoise_url},
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
