"""What one worker changes, the others' in-memory caches notice (events/changes.py, with Redis): the
calendar's change counter, and the matching index's notes. "Another process" is played by writing to
Redis as one would (its own origin); tests/test_workers.py does it with real processes."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from events import changes
from events.models import Achievement
from events.services import matching, organizations, supply_events
from events.settings import Settings
from tests.test_matching import _demand, _library

REDIS_URL = os.environ.get("WUCHUANG_TEST_REDIS_URL_CHANGES", "redis://127.0.0.1:6379/11")

pytestmark = pytest.mark.usefixtures("frozen_clock")


@pytest.fixture
async def shared(db: Settings) -> AsyncIterator[Settings]:
    redis = pytest.importorskip("redis.asyncio")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.flushdb()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    finally:
        await client.aclose()
    changes.use(REDIS_URL)
    try:
        yield db
    finally:
        changes.use(None)


async def _as_another_process(work):  # noqa: ANN001, ANN202
    mine = changes._ORIGIN
    changes._ORIGIN = "another-worker"
    try:
        return await work()
    finally:
        changes._ORIGIN = mine


async def test_a_change_counted_anywhere_changes_the_answer(shared: Settings):
    first = await changes.current("events")
    assert await changes.current("events") == first
    await _as_another_process(lambda: changes._client().incr(changes.KEY_PREFIX + "events"))
    second = await changes.current("events")
    assert second != first
    await changes.bump("events")  # this process's own change
    assert await changes.current("events") not in (first, second)


async def test_an_achievement_saved_by_another_worker_is_matched_here(shared: Settings):
    await _library()
    demand = await _demand("石墨烯散热膜", "需要石墨烯导热散热膜")
    before = await matching.for_demand(demand.id)  # the index is built, here
    assert all("石墨烯" not in m.title for m in before)

    async def save_elsewhere(title: str) -> Achievement:
        # Another worker's service: the row committed, then its note published (not noted here).
        made = await Achievement.create(
            title=title,
            keywords=["石墨烯", "散热膜"],
            abstract="石墨烯导热膜用于手机散热",
            managed_by_id=await organizations.default_organization_id(),
            created_by="test",
        )
        return made

    unseen = await save_elsewhere("高导热石墨烯散热膜（未告知）")
    # Control: a row this process was never told about stays out of its index.
    assert all(m.id != unseen.id for m in await matching.for_demand(demand.id))

    await _as_another_process(lambda: changes.publish(supply_events.NOTES, "achievement", [unseen.id]))
    assert (await matching.for_demand(demand.id))[0].id == unseen.id


async def test_own_notes_are_not_read_back(shared: Settings):
    await changes.publish(supply_events.NOTES, "achievement", [1, 2])
    start = "0-0"
    _, mine = await changes.notes_since(supply_events.NOTES, start)
    assert mine == []
    await _as_another_process(lambda: changes.publish(supply_events.NOTES, "demand", [3]))
    _, theirs = await changes.notes_since(supply_events.NOTES, start)
    assert theirs == [("demand", [3])]
