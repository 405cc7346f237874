"""A server matches in a child process of its own (``matching.use_process``): the same answers as the
engine in the caller, its notes reach the child, its domain errors come back as themselves, a caller's
open transaction is matched where its writes are visible, a lost child is replaced, and the serving
process never loads numpy or scipy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from events.errors import DemandNotFound, InvalidInput
from events.services import matching
from events.settings import Settings
from tests.test_matching import _achievement, _demand, _library

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("frozen_clock")


@pytest.fixture
def in_child(db: Settings) -> Iterator[None]:
    matching.use_process(db)
    try:
        yield
    finally:
        matching.stop_process()


async def _answers(demand_ids: list[int], achievement_id: int) -> list[list[matching.Match]]:
    found = [await matching.for_demand(i, locale=locale) for i in demand_ids for locale in ("zh", "en")]
    found.append(await matching.for_demand(demand_ids[0], type="event"))
    found.append(await matching.for_achievement(achievement_id))
    return found


async def test_the_child_answers_as_the_engine_does_and_keeps_up_with_notes(db):
    library = await _library()
    demands = [
        await _demand("提高钙钛矿电池效率", "我们希望提升钙钛矿太阳能电池的转换效率"),
        await _demand("产线表面缺陷自动检测", "需要用深度学习做产品表面缺陷检测", min_trl=6),
    ]
    here = await _answers([d.id for d in demands], library[0].id)
    assert here[0][0].id == library[0].id and here[2][0].id == library[2].id

    matching.use_process(db)
    try:
        there = await _answers([d.id for d in demands], library[0].id)
        pid = matching.process_pid()
        assert pid not in (None, os.getpid())
        assert there == here

        # Saved after the child built its index: the note reaches it before the next query.
        graphene = await _demand("石墨烯散热膜", "需要石墨烯导热散热膜")
        assert all("石墨烯" not in m.title for m in await matching.for_demand(graphene.id))
        new = await _achievement("高导热石墨烯散热膜", ["石墨烯", "散热膜"], "石墨烯导热膜用于手机散热")
        assert (await matching.for_demand(graphene.id))[0].id == new.id
        assert matching.process_pid() == pid

        # Its domain errors are raised here as themselves, so the API answers them as ever.
        with pytest.raises(DemandNotFound):
            await matching.for_demand(10_000)
        with pytest.raises(InvalidInput) as refused:
            await matching.for_demand(graphene.id, type="unicorn")
        assert refused.value.params["field"] == "type" and "unicorn" in str(refused.value)
    finally:
        matching.stop_process()
    assert matching.process_pid() is None


async def test_inside_a_transaction_the_caller_matches_what_it_has_not_committed(db, in_child):
    await _library()
    async with in_transaction():
        demand = await _demand("提高钙钛矿电池效率", "我们希望提升钙钛矿太阳能电池的转换效率")
        found = await matching.for_demand(demand.id)  # the child could not see this demand yet
    assert found and "钙钛矿" in found[0].title
    assert matching.process_pid() is None  # nothing went to the child
    assert (await matching.for_demand(demand.id)) == found


def _until_gone(pid: int) -> None:
    """Until the worker sees its child dead (it is reaped by the next look), 10 s at most."""
    deadline = time.monotonic() + 10
    while matching.process_pid() == pid and time.monotonic() < deadline:
        time.sleep(0.05)


async def test_a_lost_child_is_replaced_by_the_next_query(db, in_child):
    await _library()
    demand = await _demand("北斗定位", "物流车辆需要北斗高精度定位")
    first = await matching.for_demand(demand.id)
    pid = matching.process_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    _until_gone(pid)
    assert await matching.for_demand(demand.id) == first
    assert matching.process_pid() not in (None, pid)


# A process of its own: the test process itself has numpy loaded (the engine's tests).
SERVE_AND_MATCH = """
import asyncio, sys
from pathlib import Path
import httpx
from tortoise import Tortoise
from api.app import create_app
from events.db import close_db, init_db
from events.models import Achievement, Demand, DemandKind
from events.services import matching, organizations, tokens
from events.settings import load_settings

settings = load_settings(database_url=f"sqlite://{DATA}/server.sqlite3", data_dir=Path(DATA), environment="test")

async def main():
    await init_db(settings)
    await Tortoise.generate_schemas()
    org = await organizations.default_organization_id()
    await Achievement.create(title="北斗高精度定位终端", keywords=["北斗", "高精度定位"], abstract="厘米级定位模块",
                             managed_by_id=org, created_by="test")
    await Achievement.create(title="光纤光栅温度传感器", keywords=["光纤传感"], abstract="电力设备温度监测",
                             managed_by_id=org, created_by="test")
    demand = await Demand.create(title="车载北斗定位", description="物流车辆需要北斗高精度定位",
                                 kind=DemandKind.TECHNOLOGY, managed_by_id=org, created_by="test")
    token = (await tokens.create_token(role="admin", name="t")).plaintext
    await close_db()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            answer = await http.get(f"/api/v1/demands/{demand.id}/matches",
                                    headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200, answer.text
            assert answer.json()["items"][0]["title"] == "北斗高精度定位终端", answer.text
            missing = await http.get("/api/v1/demands/9999/matches", headers={"Authorization": f"Bearer {token}"})
            assert missing.status_code == 404 and missing.json()["error"]["code"] == "demand_not_found"
        assert matching.process_pid() is not None
    assert matching.process_pid() is None  # ended with the server

asyncio.run(main())
print([m for m in ("numpy", "scipy") if m in sys.modules])
"""


def test_the_serving_process_matches_without_loading_numpy(tmp_path):
    code = f"DATA = {str(tmp_path)!r}\n{SERVE_AND_MATCH}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WUCHUANG_")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
