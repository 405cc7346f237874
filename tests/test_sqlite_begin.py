"""A SQLite transaction whose BEGIN is refused lets go of the connection (events/db.py)."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from tortoise.backends.sqlite.client import SqliteTransactionWrapper
from tortoise.exceptions import TransactionManagementError
from tortoise.transactions import in_transaction

from events.models import Event
from events.settings import Settings
from tests.factories import make_event


async def test_a_refused_begin_does_not_leave_the_process_waiting_forever(db: Settings, monkeypatch) -> None:
    """Another process holding the write lock past busy_timeout refuses one BEGIN; the transactions
    after it run (Tortoise's own __aenter__ kept the lock: every later one waited forever)."""
    if db.dialect != "sqlite":
        pytest.skip("SQLite's one connection and its transaction lock")
    event = await make_event(capacity=5)
    original = SqliteTransactionWrapper.begin

    async def refused(self: SqliteTransactionWrapper) -> None:
        raise TransactionManagementError(sqlite3.OperationalError("database is locked"))

    async def attempt() -> None:  # its own task, as the worker's pass and each request are
        async with in_transaction():
            pass

    monkeypatch.setattr(SqliteTransactionWrapper, "begin", refused)
    with pytest.raises(TransactionManagementError):
        await asyncio.create_task(attempt())
    monkeypatch.setattr(SqliteTransactionWrapper, "begin", original)

    async def write() -> None:
        async with in_transaction() as conn:
            await Event.filter(id=event.id).using_db(conn).update(capacity=6)

    await asyncio.wait_for(write(), timeout=30)
    assert (await Event.get(id=event.id)).capacity == 6
