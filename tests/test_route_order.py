"""The API's hot routers are included first (api/app.py): that is only safe while no path one of
their routes answers is also answered by another route, whichever comes first."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from starlette.routing import Match

from api.app import create_app
from api.routers import checkins, registrations
from events.settings import Settings

HOT = (checkins.router, registrations.router)


def _walk(routes: Iterable[Any]) -> Iterator[Any]:
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI's wrapper of an included router
        if inner is not None:
            yield from _walk(inner.routes)
        else:
            yield route


def _sample(path: str) -> str:
    return re.sub(r"\{([^}:]+)(:[^}]+)?\}", lambda m: "a/b" if (m.group(2) or "").endswith("path") else "1", path)


def _answering(routes: list[Any], method: str, path: str) -> list[Any]:
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    return [route for route in routes if route.matches(scope)[0] == Match.FULL]


async def test_the_hot_routes_share_no_path_with_any_other(db: Settings) -> None:
    app = create_app(db, manage_db=False)
    routes = [route for route in _walk(app.router.routes) if getattr(route, "methods", None)]
    hot = [route for route in routes if any(route in router.routes for router in HOT)]
    assert {route.path for route in hot} >= {"/api/v1/checkins", "/api/v1/events/{event_id}/registrations"}
    for route in routes:
        for method in route.methods:
            answering = _answering(routes, method, _sample(route.path))
            assert route in answering
            if route in hot or any(other in hot for other in answering):
                assert answering == [route], f"{method} {route.path} is also answered by {answering}"


def test_the_check_sees_an_overlap() -> None:
    """Control: a literal path beside a parameter path of the same shape is caught."""
    from fastapi import APIRouter

    router = APIRouter()
    router.get("/api/v1/checkins/{scan}")(lambda scan: scan)
    router.get("/api/v1/checkins/events")(lambda: None)
    routes = list(router.routes)
    assert len(_answering(routes, "GET", _sample("/api/v1/checkins/events"))) == 2
