"""Pure-ASGI middleware: a cap on body size, and Idempotency-Key replay for POST."""

from __future__ import annotations

import hashlib
import json

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events.errors import N_, DomainError
from events.i18n import gettext, negotiate
from events.services import idempotency

MAX_KEY_LENGTH = 255


async def _send_error(
    send: Send, scope: Scope, status: int, code: str, msgid: str, headers: dict[str, str] | None = None
) -> None:
    locale = negotiate(Headers(scope=scope).get("accept-language"))
    body = json.dumps({"error": {"code": code, "message": gettext(locale, msgid)}}, ensure_ascii=False).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` with 413 before they are read into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
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
            if received > self.max_bytes:
                await _send_error(send, scope, 413, "payload_too_large", N_("The request body is too large."))
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay_receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay_receive, send)


def _caller_identity(scope: Scope) -> str:
    auth = Headers(scope=scope).get("authorization")
    if auth:
        return "auth:" + hashlib.sha256(auth.encode()).hexdigest()[:40]
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


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

        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        digest = hashlib.sha256(body + b"\0" + scope.get("query_string", b"")).hexdigest()
        try:
            claimed = await idempotency.claim(
                key=key, caller=_caller_identity(scope), method="POST", path=scope["path"][:500], request_hash=digest
            )
        except DomainError as exc:
            status = 422 if exc.code == "idempotency_key_reused" else 409
            headers = {"Retry-After": "1"} if status == 409 else None
            await _send_error(send, scope, status, exc.code, exc.message, headers)
            return
        if isinstance(claimed, idempotency.StoredResponse):
            headers = [(k.encode(), v.encode()) for k, v in claimed.headers.items()]
            headers.append((b"idempotent-replayed", b"true"))
            await send({"type": "http.response.start", "status": claimed.status_code, "headers": headers})
            await send({"type": "http.response.body", "body": claimed.body})
            return

        delivered = False

        async def replay_receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

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
        else:
            await idempotency.complete(
                claimed, idempotency.StoredResponse(status, b"".join(response_body), response_headers)
            )
