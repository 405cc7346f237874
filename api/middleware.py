"""Pure-ASGI middleware: request ids and latency, a cap on body size, text the database can store,
and Idempotency-Key replay for POST."""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import REQUEST_ID
from events import labels, metrics
from events.errors import N_, DomainError
from events.i18n import negotiate
from events.services import idempotency

MAX_KEY_LENGTH = 255


async def _send_error(
    send: Send,
    scope: Scope,
    status: int,
    code: str,
    msgid: str,
    headers: dict[str, str] | None = None,
    field: str | None = None,
) -> None:
    locale = negotiate(Headers(scope=scope).get("accept-language"))
    error: dict[str, Any] = {"code": code, "message": labels.message(locale, msgid, {"field": field} if field else {})}
    if field is not None:
        error["field"] = field
    body = json.dumps({"error": error}, ensure_ascii=False).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body (already bounded by BodyLimitMiddleware), or None on a disconnect."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body this middleware already read, then the real stream."""
    delivered = False

    async def replay_receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay_receive


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` (or the path's own limit in ``overrides``) with 413 before they
    are read into memory."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        overrides: Mapping[str, int] | None = None,
        upload_bytes: int = 0,
        upload_paths: re.Pattern[str] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Exact paths with their own limit (the achievements import).
        self.overrides = dict(overrides or {})
        # Routes that take files (``upload_paths``) may receive up to ``upload_bytes``.
        self.upload_bytes = max(upload_bytes, max_bytes)
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.overrides.get(scope.get("path", ""), self.max_bytes)
        if self.upload_paths is not None and scope["method"] == "POST" and self.upload_paths.fullmatch(scope["path"]):
            limit = max(limit, self.upload_bytes)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_error(send, scope, 413, "payload_too_large", N_("The request body is too large."))
            return
        # Read the whole (bounded) body first: a limit hit mid-stream inside the framework would
        # surface as a parse error rather than 413.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await _send_error(send, scope, 413, "payload_too_large", N_("The request body is too large."))
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        replay_receive = replaying(body, receive)

        await self.app(scope, replay_receive, send)


def _storable(text: str) -> bool:
    """PostgreSQL text holds neither U+0000 nor unpaired surrogates (they cannot be UTF-8)."""
    return "\x00" not in text and (text.isascii() or not any("\ud800" <= c <= "\udfff" for c in text))


def _bad_strings(value: object, path: str) -> Iterator[str]:
    """Dotted paths of the JSON strings (keys too) that could not be stored."""
    if isinstance(value, str):
        if not _storable(value):
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if not _storable(key):
                yield _printable(where)
            else:
                yield from _bad_strings(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _bad_strings(item, f"{path}.{index}" if path else str(index))


def _printable(name: str) -> str:
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\0")[:100]


def _leaf_routes(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    """The app's routes with their own path patterns, through included routers (only to name a field)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _leaf_routes(inner.routes)
        else:
            yield route


class TextGuardMiddleware:
    """Refuse text the database cannot store (U+0000, unpaired surrogates) in the path, the query and
    the body (JSON at any depth, form fields) with 422 ``invalid_input`` naming the field.

    PostgreSQL rejects such text inside the query that carries it, which would surface as a 500 from
    wherever the value reaches SQL; refusing it here, before anything runs, covers every route at once.
    """

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = self._bad_path(scope) or self._bad_query(scope)
        if field is not None:
            await self._refuse(send, scope, field)
            return
        body = await read_body(receive)
        if body is None:  # the client went away
            return
        field = self._bad_body(scope, body)
        if field is not None:
            await self._refuse(send, scope, field)
            return
        replay_receive = replaying(body, receive)

        await self.app(scope, replay_receive, send)

    async def _refuse(self, send: Send, scope: Scope, field: str) -> None:
        await _send_error(
            send,
            scope,
            422,
            "invalid_input",
            N_("%(field)s contains a character that is not allowed (U+0000 or an unpaired surrogate)."),
            field=field,
        )

    def _bad_path(self, scope: Scope) -> str | None:
        path = scope.get("path", "")
        if _storable(path):
            return None
        for route in _leaf_routes(self.routes):
            regex: re.Pattern[str] | None = getattr(route, "path_regex", None)
            match = regex.match(path) if regex is not None else None
            if match is not None:
                for name, value in match.groupdict().items():
                    if not _storable(value):
                        return name
        return "path"

    def _bad_query(self, scope: Scope) -> str | None:
        raw: bytes = scope.get("query_string", b"")
        if not raw or (b"%00" not in raw and b"\x00" not in raw):
            return None
        for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
            if not _storable(name):
                return _printable(name)
            if not _storable(value):
                return name
        return None

    def _bad_body(self, scope: Scope, body: bytes) -> str | None:
        if not body:
            return None
        content_type = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/x-www-form-urlencoded":
            if b"%00" not in body and b"\x00" not in body:
                return None
            for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
                if not _storable(name):
                    return _printable(name)
                if not _storable(value):
                    return name
            return None
        # JSON can only spell U+0000 or a lone surrogate as an escape: no "\u", nothing to check.
        if b"\\u" not in body:
            return None
        try:
            parsed = json.loads(body)
        except ValueError:
            return None  # the route answers invalid_json
        return next(_bad_strings(parsed, ""), None)


# Fields of a reply that are bearer secrets: never replayed to an anonymous caller (see below).
SECRET_FIELDS = frozenset({"access_token", "token", "ticket", "telegram_link"})
SECRET_PREFIXES = ("reg_", "wch_")


def _without_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: None if k in SECRET_FIELDS else _without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secrets(item) for item in value]
    if isinstance(value, str) and value.startswith(SECRET_PREFIXES):
        return None
    return value


def _redacted(body: bytes, content_type: str) -> bytes:
    """The reply as stored for an anonymous caller: secret fields set to null."""
    if "json" not in content_type:
        return body
    try:
        parsed = json.loads(body)
    except ValueError:
        return body
    return json.dumps(_without_secrets(parsed), ensure_ascii=False, separators=(",", ":")).encode()


def _caller_identity(scope: Scope, request_hash: str) -> tuple[str, bool]:
    """Whose idempotency namespace a request is in, and whether the caller is anonymous.

    A bearer token is an identity: its replies are replayed to it whole. An anonymous caller has
    none (an address is shared by a whole campus behind NAT, and changes on a phone that moves), so
    anonymous records are keyed by the key *and* the request's hash: two callers who picked the same
    key with different bodies each get their own answer, and since one sending the very same body
    cannot be told apart from a retry, an anonymous replay never carries a secret (see SECRET_FIELDS).
    """
    auth = Headers(scope=scope).get("authorization")
    if auth:
        return "auth:" + hashlib.sha256(auth.encode()).hexdigest()[:40], False
    return "anon:" + request_hash, True


class IdempotencyMiddleware:
    """The first response to (Idempotency-Key, caller) is stored and replayed for repeats.

    The key is claimed before the request runs, so a concurrent duplicate gets 409 + Retry-After
    instead of running twice. Server errors release the claim so the client's retry can run.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        key = Headers(scope=scope).get("idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        if not key.strip() or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            await _send_error(
                send,
                scope,
                400,
                "invalid_idempotency_key",
                N_("The Idempotency-Key must be 1 to 255 printable characters."),
            )
            return

        body = await read_body(receive)
        if body is None:  # the client went away
            return
        digest = hashlib.sha256(body + b"\0" + scope.get("query_string", b"")).hexdigest()
        caller, anonymous = _caller_identity(scope, digest)
        try:
            claimed = await idempotency.claim(
                key=key, caller=caller, method="POST", path=scope["path"][:500], request_hash=digest
            )
        except DomainError as exc:
            status = 422 if exc.code == "idempotency_key_reused" else 409
            headers = {"Retry-After": "1"} if status == 409 else None
            await _send_error(send, scope, status, exc.code, exc.message, headers)
            return
        if isinstance(claimed, idempotency.StoredResponse):
            replayed = [(k.encode(), v.encode()) for k, v in claimed.headers.items()]
            replayed.append((b"idempotent-replayed", b"true"))
            await send({"type": "http.response.start", "status": claimed.status_code, "headers": replayed})
            await send({"type": "http.response.body", "body": claimed.body})
            return

        replay_receive = replaying(body, receive)

        status = 500
        response_headers: dict[str, str] = {}
        response_body: list[bytes] = []

        async def capture_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    lowered = name.decode("latin-1").lower()
                    if lowered in ("content-type", "location", "retry-after"):
                        response_headers[lowered] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                response_body.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        except BaseException:
            await idempotency.release(claimed)
            raise
        if status >= 500:
            await idempotency.release(claimed)
            return
        stored = b"".join(response_body)
        if anonymous:
            stored = _redacted(stored, response_headers.get("content-type", ""))
        await idempotency.complete(claimed, idempotency.StoredResponse(status, stored, response_headers))


_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "<unmatched>"


def route_template(scope: Scope) -> str:
    """The path pattern of the route that answered (``/api/v1/events/{event_id}``), never the raw
    path: a label per id would be a new metric series per id. A mounted app (the static files) is
    named by its prefix, a path no route matched by one constant."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str) and template:
        return template
    if scope.get("endpoint") is not None and scope.get("root_path"):
        return f"{scope['root_path']}/*"
    return UNMATCHED_ROUTE


class RequestContextMiddleware:
    """The outermost layer: each request gets an id (the client's ``X-Request-ID`` when it is a sane
    token, else a new one), echoed in the response and set in ``api.logs.REQUEST_ID`` so every log
    line of the request carries it; and its latency is observed in
    ``wuchuang_http_request_duration_seconds`` by route template, method and status class."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = Headers(scope=scope).get("x-request-id")
        request_id = offered if offered is not None and _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            metrics.REQUEST_SECONDS.labels(route_template(scope), method, f"{status // 100}xx").observe(
                time.perf_counter() - started
            )
            REQUEST_ID.reset(token)
