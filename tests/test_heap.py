"""`serve` freezes its start-up heap out of the garbage collector's way (``wuchuang.heap``); other
users of the app (tests, scripts) do not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CODE = """
import asyncio, gc, sys
from events.settings import load_settings
from wuchuang.runtime import build_app

async def main(serving):
    settings = load_settings(data_dir=sys.argv[1], notifications=False)
    app = build_app(settings, serving=serving)
    before = gc.get_freeze_count()
    async with app.router.lifespan_context(app):
        during = gc.get_freeze_count()
    print(before, during)

asyncio.run(main(sys.argv[2] == "serving"))
"""


@pytest.mark.parametrize("mode", ["serving", "embedded"])
def test_only_the_serving_process_freezes_its_start_up_heap(tmp_path, mode):
    done = subprocess.run(
        [sys.executable, "-c", CODE, str(tmp_path), mode], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    before, during = map(int, done.stdout.split())
    assert before == 0
    if mode == "serving":
        assert during > 100_000  # the imports, the routes, the ORM's metadata
    else:
        assert during == 0
