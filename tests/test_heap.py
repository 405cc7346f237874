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


# Freed blocks between live ones stay in glibc's heap (and in RSS) until trimmed: 200 MB of 2 KB blocks,
# every 64th kept.
TRIM = """
import sys
from events import heap

def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

blocks = [bytes(2048) for _ in range(100_000)]
kept = blocks[::64]
del blocks
before = rss_mb()
trimmed = heap.trim()
print(trimmed, round(before - rss_mb()))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_trimming_gives_freed_pages_back_to_the_system():
    done = subprocess.run([sys.executable, "-c", TRIM], cwd=ROOT, capture_output=True, text=True, check=True)
    trimmed, given_back_mb = done.stdout.split()
    assert trimmed == "True" and int(given_back_mb) > 100


async def test_the_sender_trims_only_after_a_minute_with_work(monkeypatch):
    from collections import Counter

    from notifications.worker import HeapTrimmer

    trims: list[int] = []
    monkeypatch.setattr("events.heap.trim", lambda: trims.append(1) or True)
    stats: Counter[str] = Counter()
    trimmer = HeapTrimmer(stats)
    assert await trimmer() is False and trims == []  # idle since start
    stats["claimed"] += 50
    assert await trimmer() is True and trims == [1]
    assert await trimmer() is False and trims == [1]  # nothing sent since
    stats["claims"] += 1
    assert await trimmer() is True and trims == [1, 1]
