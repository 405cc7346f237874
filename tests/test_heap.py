"""A server's app freezes its start-up heap out of the garbage collector's way; a test's app (the
caller manages the database) does not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CODE = """
import asyncio, gc, sys
from api.app import create_app
from events.db import close_db, init_db
from events.settings import load_settings

async def main(manage_db):
    settings = load_settings(data_dir=sys.argv[1])
    if not manage_db:
        await init_db(settings)
    app = create_app(settings, manage_db=manage_db)
    before = gc.get_freeze_count()
    async with app.router.lifespan_context(app):
        during = gc.get_freeze_count()
    if not manage_db:
        await close_db()
    print(before, during)

asyncio.run(main(sys.argv[2] == "server"))
"""


@pytest.mark.parametrize("mode", ["server", "embedded"])
def test_only_a_server_freezes_its_start_up_heap(tmp_path, mode):
    done = subprocess.run(
        [sys.executable, "-c", CODE, str(tmp_path), mode], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    before, during = map(int, done.stdout.split())
    assert before == 0
    if mode == "server":
        assert during > 100_000  # the imports, the routes, the ORM's metadata
    else:
        assert during == 0
