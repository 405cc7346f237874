"""The two routes a rush hammers, without the framework's layers: the door's scan
(``POST /api/v1/checkins``) and registering (``POST /api/v1/events/{event_id}/registrations``).

A final's door sends one process ~1,000 scans a second, a 武创荟 opening as many registrations.
Through FastAPI each request crossed nine middleware layers and solved five or six dependencies: on
the profile in #18's note that was ~40 % of the server's CPU per scan, more than the scan's own work.
Here a plain request (a JSON body the route's schema takes, no query string, no Idempotency-Key, no
text the text guard must judge, and for a scan a token with a door role) goes straight to the route's
own code (``checkins.answer_scan``, ``registrations.register_applicant``) and is answered with the
bytes the route would send. Everything else is handed on, body and all, to the full stack, which answers it as
it always has: a refusal, a replay by key or an odd body costs what it did; only the plain request is
lean. The layer sits inside the request-id and proxy-header layers, so each request keeps its id, its
latency metric (under the route's template) and its client address (the anonymous rate limit's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import caller_from
from api.errors import domain_error_response
from api.middleware import read_body, replaying
from api.routers import checkins, registrations
from events.errors import DomainError
from events.i18n import negotiate
from events.services import tokens
from events.services.registration import Applicant

SCAN_PATH = "/api/v1/checkins"
REGISTER_TEMPLATE = "/api/v1/events/{event_id}/registrations"
# Only what the route's ``Id`` takes (1 … 2**31 - 1, plain digits); any other id is the route's to refuse.
_REGISTER_PATH = re.compile(r"/api/v1/events/([1-9][0-9]{0,9})/registrations")
_MAX_ID = 2_147_483_647

Answer = Callable[[Scope, Headers, bytes], Awaitable[Response | None]]


def _route(router: APIRouter, path: str) -> BaseRoute:
    """The route a lean path stands in for: request metrics are labelled by its template."""
    for route in router.routes:
        if getattr(route, "path", None) == path and "POST" in getattr(route, "methods", ()):
            return route
    raise LookupError(path)


def _parsed(body: bytes) -> Any:
    """The body as JSON, or None for what the route answers 400/422 (a JSON ``null`` is refused too)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


class HotRoutes:
    """Answers the plain requests of the two hot routes; hands every other request on."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.scan_route = _route(checkins.router, SCAN_PATH)
        self.register_route = _route(registrations.router, REGISTER_TEMPLATE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        answer: Answer
        path = scope["path"]
        if path == SCAN_PATH:
            answer, route = self._scan, self.scan_route
        elif (found := _REGISTER_PATH.fullmatch(path)) is not None and int(found[1]) <= _MAX_ID:
            answer, route = partial(self._register, int(found[1])), self.register_route
        else:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if (
            scope.get("query_string")  # the routes read none, but the text guard judges any
            or "idempotency-key" in headers  # stored and replayed by IdempotencyMiddleware
            or declared is None  # a streamed body: the body limit's to count
            or not declared.isdigit()
            or int(declared) > self.max_bytes
            or headers.get("content-type", "").split(";")[0].strip().lower() != "application/json"
        ):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:  # the client went away
            return
        # JSON's only way to spell text the database cannot store is an escape: the text guard's to judge.
        response = None if b"\\u" in body else await answer(scope, headers, body)
        if response is None:
            await self.app(scope, replaying(body, receive), send)
            return
        scope["route"] = route
        await response(scope, receive, send)

    async def _scan(self, scope: Scope, headers: Headers, body: bytes) -> Response | None:
        try:
            scan = checkins.CheckinBody.model_validate(_parsed(body))
        except ValidationError:  # the route's 422
            return None
        try:
            caller = await caller_from(headers.get("authorization"))
            if caller.token is None:
                return None
            tokens.require_role(caller.token, *checkins.DOOR_ROLES)
        except DomainError:  # 401 / 403, said by the route's own dependencies
            return None
        state = scope["app"].state
        try:
            answer = await checkins.answer_scan(
                scan,
                caller,
                keys=state.signer,
                tz=state.presenter.tz,
                lang=negotiate(headers.get("accept-language")),
            )
        except DomainError as exc:
            return domain_error_response(Request(scope), exc)
        # What FastAPI sends for a response_model: pydantic's JSON of the model, by alias.
        return Response(answer.model_dump_json(by_alias=True), media_type="application/json")

    async def _register(self, event_id: int, scope: Scope, headers: Headers, body: bytes) -> Response | None:
        try:
            applicant = Applicant.model_validate(_parsed(body))
        except ValidationError:  # the route's 422
            return None
        try:
            caller = await caller_from(headers.get("authorization"))
        except DomainError:  # a bearer that does not check out: the route's 401
            return None
        request = Request(scope)
        state = scope["app"].state
        try:
            created = await registrations.register_applicant(
                event_id,
                applicant,
                request,
                caller,
                show=state.presenter,
                limiter=state.rate_limit,
                config=state.settings,
            )
        except DomainError as exc:
            return domain_error_response(request, exc)
        return Response(
            created.model_dump_json(by_alias=True),
            status_code=201,
            media_type="application/json",
            headers={"Location": registrations.location_of(created)},
        )
