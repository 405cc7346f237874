"""A server builds every route's request state at start-up, not in the first requests it serves (where
FastAPI would stop the event loop 30–40 ms a router with scans in flight)."""

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
        print(at_start, len(built) - at_start)

asyncio.run(main())
"""


def test_a_server_builds_its_routes_before_its_first_request(tmp_path):
    done = subprocess.run([sys.executable, "-c", CODE, str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    at_start, in_requests = map(int, done.stdout.split())
    assert at_start > 300  # every API route and page
    assert in_requests == 0
