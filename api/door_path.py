"""The door's scan (``POST /api/v1/checkins``) without the framework's layers, for a final's rush.

A door at full speed sends one process ~1,000 scans a second. Through FastAPI each scan crossed nine
middleware layers and solved six dependencies: on the profile in #18's note that was ~40 % of the
server's CPU per scan, more than the scan's own work. Here a plain scan (a JSON body the schema takes,
an API token with a door role, no Idempotency-Key) goes straight to the route's own translation
(``checkins.answer_scan``) and is answered with the same bytes the route would send. Everything else
is handed on, body and all, to the full stack, which answers it as it always has: so a refusal, a
replay by key or text the text guard must judge costs what it did, and only the plain scan is lean.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import caller_from
from api.errors import domain_error_response
from api.middleware import read_body, replaying
from api.routers import checkins
from events.errors import DomainError
from events.i18n import negotiate
from events.services import tokens

PATH = "/api/v1/checkins"


def _route() -> BaseRoute:
    """The route this path stands in for: request metrics are labelled by its template."""
    for route in checkins.router.routes:
        if getattr(route, "path", None) == PATH and "POST" in getattr(route, "methods", ()):
            return route
    raise LookupError(PATH)


class DoorScanPath:
    """Answers the plain scans of ``POST /api/v1/checkins``; hands every other request on."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.route = _route()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if (
            "idempotency-key" in headers  # stored and replayed by IdempotencyMiddleware
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
        response = await self._answer(scope, headers, body)
        if response is None:
            await self.app(scope, replaying(body, receive), send)
            return
        scope["route"] = self.route
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, headers: Headers, body: bytes) -> Response | None:
        """The response to a plain scan; None for a request the full stack must answer."""
        if b"\\u" in body:  # JSON's only way to spell text the database cannot store: the text guard's
            return None
        try:
            parsed: Any = json.loads(body)
            scan = checkins.CheckinBody.model_validate(parsed)
        except (ValueError, RecursionError, ValidationError):  # the route's 400 / 422
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
