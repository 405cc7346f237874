"""The role × page matrix of the console (issue 17, item 5), generated from the app's routes.

Every ``/console`` route (the sign-in pages aside) must have a row: its profile (what each kind of
console user gets) and how to build the request against objects of organization A. Rows live beside
the pages' own tests, in ``tests/console_rows_*.py`` (each exports ``ROWS``), and are gathered here;
a console route with no row fails ``test_every_console_page_is_in_the_matrix``.

Answers are classed: ``ok`` (2xx, or a 303 after a form that is not to the sign-in page), ``signin``
(the 303 to the sign-in page), ``403``, ``404``, other statuses as they are. A POST from someone
without a session carries no CSRF token: 403 whatever the row says for a GET.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

import tests
from api.app import create_app
from api.console.common import signed_in
from events.services import catalog
from events.settings import Settings
from tests.console_kit import USERS, ConsoleWorld, as_, build_console_world
from tests.test_ownership_matrix import app_routes

pytestmark = pytest.mark.usefixtures("frozen_clock")

# In the order of USERS: anonymous, admin, organizer of A, organizer of B, a judge.
OWN = ("signin", "ok", "ok", "404", "403")  # an organizer's page about A's object
ANY = ("signin", "ok", "ok", "ok", "403")  # an organizer's page of their own (lists, new)
EVERYONE = ("signin", "ok", "ok", "ok", "ok")  # every console user's (their account)
ADMIN = ("signin", "ok", "403", "403", "403")
# A row whose answer for B is "not found" as a form error (B's own page, naming A's object).
OWN_REFERRED = ("signin", "ok", "ok", "422", "403")


@dataclass(frozen=True)
class Call:
    path: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] | None = None
    params: dict[str, Any] | None = None


Maker = Callable[[ConsoleWorld], Awaitable[Call]]
Rows = dict[tuple[str, str], tuple[tuple[str, ...], Maker]]


def fixed(**path: Any) -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        return Call(path={k: (v(w) if callable(v) else v) for k, v in path.items()})

    return make


def posting(data: dict[str, Any] | Callable[[ConsoleWorld], dict[str, Any]], **path: Any) -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        form = data(w) if callable(data) else data
        return Call(path={k: (v(w) if callable(v) else v) for k, v in path.items()}, data=form)

    return make


# The account's own pages (api/console/signin.py); the sign-in pages themselves are in the API matrix.
ROWS: Rows = {
    ("GET", "/console"): (EVERYONE, fixed()),
    ("POST", "/console/tokens"): (("signin", "ok", "ok", "ok", "403"), posting({"name": "集成"})),
    ("POST", "/console/tokens/{token_id}/revoke"): (EVERYONE, fixed(token_id=999)),
    ("POST", "/console/sessions/{session_id}/end"): (EVERYONE, fixed(session_id=999_999)),
    ("POST", "/console/password"): (
        ("signin", "401", "401", "401", "401"),  # the page reached, the wrong current password refused
        posting({"current": "not it", "new": "another long password"}),
    ),
}
# Signing out ends the caller's session: each is tried in tests/test_accounts.py, not in a loop here.
NOT_IN_THE_LOOP = {("POST", "/console/signout"), ("POST", "/console/signout-everywhere")}


def gathered_rows() -> Rows:
    rows: Rows = dict(ROWS)
    for module in pkgutil.iter_modules(tests.__path__):
        if module.name.startswith("console_rows_"):
            found: Rows = importlib.import_module(f"tests.{module.name}").ROWS
            doubled = set(rows) & set(found)
            assert not doubled, f"{module.name} repeats rows: {doubled}"
            rows |= found
    return rows


def console_routes(app: FastAPI) -> list[tuple[str, str]]:
    return [
        (method, path)
        for method, path in app_routes(app)
        if (path == "/console" or path.startswith("/console/")) and not path.startswith("/console/signin")
    ]


def answer_class(response: httpx.Response) -> str:
    status = response.status_code
    if status == 303:
        return "signin" if "/console/signin" in response.headers.get("location", "") else "ok"
    if 200 <= status < 300:
        return "ok"
    return str(status)


def expected_of(method: str, user: str, profile_answer: str) -> str:
    if method == "POST" and user == "anonymous":
        return "403"
    return profile_answer


async def run_console_matrix(http: httpx.AsyncClient, w: ConsoleWorld, rows: Rows) -> list[str]:
    wrong = []
    for (method, path), (profile, make) in rows.items():
        for user, answer in zip(USERS, profile, strict=True):
            call = await make(w)
            url = path.format(**call.path)
            response = await as_(http, w, user, method, url, data=call.data, params=call.params)
            got, expected = answer_class(response), expected_of(method, user, answer)
            if got != expected:
                wrong.append(f"{method} {path} as {user}: expected {expected}, got {got} {response.text[:200]!r}")
    return wrong


@pytest.fixture
async def console_client(db: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(db, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        http.app = app  # type: ignore[attr-defined]
        yield http


def test_every_console_page_is_in_the_matrix() -> None:
    app = create_app(manage_db=False)
    rows = gathered_rows()
    served = set(console_routes(app))
    missing = sorted(f"{m} {p}" for m, p in served if (m, p) not in rows and (m, p) not in NOT_IN_THE_LOOP)
    assert not missing, "add these console routes to a tests/console_rows_*.py ROWS: " + ", ".join(missing)
    stale = sorted(f"{m} {p}" for m, p in rows if (m, p) not in served)
    assert not stale, "the console matrix names routes the app no longer serves: " + ", ".join(stale)


async def test_role_page_matrix(console_client: httpx.AsyncClient) -> None:
    w = await build_console_world()
    wrong = await run_console_matrix(console_client, w, gathered_rows())
    assert not wrong, "\n".join(wrong)


async def test_the_matrix_catches_a_page_without_its_owner_check(console_client: httpx.AsyncClient) -> None:
    """A control: a page that shows any event to any organizer fails its row (B sees A's event)."""
    app: FastAPI = console_client.app  # type: ignore[attr-defined]

    async def careless(request: Request, event_id: int) -> Response:
        page = await signed_in(request)
        if isinstance(page, Response):
            return page
        event = await catalog.get_event(event_id, include_unpublished=True)
        return HTMLResponse(event.title)

    app.add_api_route("/console/careless/{event_id}", careless, methods=["GET"])
    w = await build_console_world()
    rows: Rows = {("GET", "/console/careless/{event_id}"): (OWN, fixed(event_id=lambda w: w.event.id))}
    wrong = await run_console_matrix(console_client, w, rows)
    assert len(wrong) == 1
    assert wrong[0].startswith("GET /console/careless/{event_id} as organizer_b: expected 404, got ok")
