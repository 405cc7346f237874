"""What a server (an app that manages its database) does at start-up: it builds every route's request
state, not in the first requests it serves (where FastAPI would stop the event loop 30–40 ms a router
with scans in flight), and it watches its event loop's lag."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CODE = """
import asyncio, sys
import httpx
from fastapi import routing
from api.app import create_app
from events.settings import load_settings

built = []
original = routing._EffectiveRouteContext.from_api_route

def counting(**kwargs):
    built.append(kwargs["original_route"].path)
    return original(**kwargs)

routing._EffectiveRouteContext.from_api_route = staticmethod(counting)

async def main():
    app = create_app(load_settings(data_dir=sys.argv[1]))
    async with app.router.lifespan_context(app):
        at_start = len(built)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for path in ("/health", "/api/v1/events/not-a-number", "/api/v1/demands/x", "/no-such-page"):
                await client.get(path)
        watching = any(task.get_name() == "loop lag" for task in asyncio.all_tasks())
        print(at_start, len(built) - at_start, watching)

asyncio.run(main())
"""


def test_a_server_builds_its_routes_before_its_first_request_and_watches_its_loop(tmp_path):
    done = subprocess.run([sys.executable, "-c", CODE, str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    at_start, in_requests, watching = done.stdout.split()
    assert int(at_start) > 300  # every API route and page
    assert int(in_requests) == 0
    assert watching == "True"
