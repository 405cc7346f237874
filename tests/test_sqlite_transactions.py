"""SQLite transactions take the write lock at BEGIN (events/db.py), so a transaction that reads before
it writes waits for another process's writer instead of failing with "database is locked"."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from tortoise.transactions import in_transaction

from events.models import Organization
from events.settings import Settings

# Another process's writer, in plain SQL.
INSERT = (
    "INSERT INTO organization (name, name_normalized, kind, email_domains, created_at)"
    " VALUES (?, ?, 'university', '[]', '2026-06-01 00:00:00+00:00')"
)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_a_transaction_holds_the_write_lock_from_its_first_read(db: Settings) -> None:
    assert db.sqlite_file is not None
    other = sqlite3.connect(db.sqlite_file, timeout=0.05, isolation_level=None)
    try:
        async with in_transaction() as connection:
            await Organization.filter(id=-1).using_db(connection).first()  # only a read so far
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute(INSERT, ("x", "x"))
            await Organization.create(
                name="武汉大学", name_normalized="武汉大学", kind="university", using_db=connection
            )
    finally:
        other.close()
    assert await Organization.filter(name="武汉大学").count() == 1


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_a_read_then_write_waits_for_another_processs_writer(db: Settings) -> None:
    """The other writer commits while ours waits at BEGIN; ours then reads its row and writes."""
    assert db.sqlite_file is not None
    other = sqlite3.connect(db.sqlite_file, timeout=5, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute(INSERT, ("华中科技大学", "华中科技大学"))

    async def release() -> None:
        await asyncio.sleep(0.3)
        other.execute("COMMIT")

    releasing = asyncio.create_task(release())
    try:
        async with in_transaction() as connection:
            seen = await Organization.filter(name="华中科技大学").using_db(connection).count()
            await Organization.create(
                name="武汉大学", name_normalized="武汉大学", kind="university", using_db=connection
            )
    finally:
        await releasing
        other.close()
    assert seen == 1
    assert await Organization.all().count() == 2
