"""A lean HTTP/1.1 keep-alive client for load runs: one connection, one request at a time.

httpx spends ~2.5 ms of CPU per request on this machine (its pool, its models, h11), more than the
server it measures: a load client sharing the server's two cores would mostly measure itself. This
one writes a pre-encoded request and splits the status line and headers by hand (~0.1 ms). For
benchmarks only: no redirects, TLS, proxies, compression or chunked bodies (the app always sends
Content-Length).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

KEEP_ALIVE_S = 4.0  # below uvicorn's keep-alive timeout (5 s)

# What a failed exchange raises (the caller counts it as a figure).
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (OSError, asyncio.IncompleteReadError, TimeoutError, RuntimeError)


class HttpStatusError(Exception):
    pass


@dataclass(slots=True)
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def status_code(self) -> int:
        return self.status

    def json(self) -> Any:
        return json.loads(self.body)

    def raise_for_status(self) -> None:
        if self.status >= 400:
            raise HttpStatusError(f"HTTP {self.status}: {self.body[:300]!r}")


class RawConnection:
    """One keep-alive HTTP/1.1 connection doing as little as a client can: one write per request,
    the status line and headers split by hand, exactly Content-Length body bytes read. Reconnects
    after a failure."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, limit=1 << 20), 5
        )

    def request_bytes(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")

    async def post_json(self, path: str, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        headers = {"Content-Type": "application/json", **(headers or {})}
        request = self.request_bytes("POST", path, headers, _dumps(payload))
        return await self.exchange(request, retry=False)

    async def send(self, request: bytes) -> tuple[int, dict[str, str], int]:
        """(status, lower-cased headers, body length) of one GET made by ``request_bytes``."""
        reply = await self.exchange(request, retry=True)
        return reply.status, reply.headers, len(reply.body)

    async def exchange(self, request: bytes, *, retry: bool) -> Reply:
        """One request and its answer. With ``retry``, a kept-alive connection the server closed while
        it was idle (uvicorn's keep-alive timeout is 5 s) is reopened and the request sent once more,
        as any HTTP client does for a safe method; nothing else is retried."""
        reused = self._writer is not None
        try:
            return await self._send_once(request)
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
            partial = getattr(exc, "partial", b"")
            if not retry or not reused or partial:
                raise
        return await self._send_once(request)

    async def _send_once(self, request: bytes) -> Reply:
        if self._writer is None:
            await self.connect()
        assert self._reader is not None
        assert self._writer is not None
        try:
            self._writer.write(request)
            head = await self._reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
            headers = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", ""):
                raise RuntimeError("chunked response: RawConnection reads only Content-Length bodies")
            body = await self._reader.readexactly(int(headers.get("content-length", "0")))
            if headers.get("connection", "").lower() == "close":
                await self.close()
            return Reply(int(status_line.split(" ", 2)[1]), headers, body)
        except BaseException:
            await self.close()
            raise

    @property
    def open(self) -> bool:
        return self._reader is not None and not self._reader.at_eof() and not self._writer.is_closing()  # type: ignore[union-attr]

    def drop(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 2)


class WireClient:
    """The little of httpx.AsyncClient a load script uses (``get``, ``post`` with ``json``), over up to
    ``connections`` raw keep-alive connections: a request takes an idle one or opens one."""

    def __init__(
        self, base_url: str, *, headers: dict[str, str] | None = None, connections: int = 100, timeout_s: float = 60
    ) -> None:
        self._base_url, self._headers, self._timeout_s = base_url, headers or {}, timeout_s
        self._idle: list[tuple[RawConnection, float]] = []
        self._slots = asyncio.Semaphore(connections)

    async def get(self, path: str) -> Reply:
        return await self._exchange("GET", path, None, retry=True)

    async def post(self, path: str, json: Any = None) -> Reply:
        body = b"" if json is None else _dumps(json)
        return await self._exchange("POST", path, body, retry=False)

    async def _exchange(self, method: str, path: str, body: bytes | None, *, retry: bool) -> Reply:
        async with self._slots:
            connection = self._take()
            headers = self._headers if body is None else {**self._headers, "Content-Type": "application/json"}
            request = connection.request_bytes(method, path, headers, body)
            async with asyncio.timeout(self._timeout_s):
                reply = await connection.exchange(request, retry=retry)
            self._idle.append((connection, time.monotonic()))
            return reply

    def _take(self) -> RawConnection:
        """An idle connection the server has not closed, else a new one. uvicorn closes a connection idle
        for 5 s; a POST sent on it would fail and is not retried, so older ones are not reused."""
        while self._idle:
            connection, since = self._idle.pop()
            if time.monotonic() - since < KEEP_ALIVE_S and connection.open:
                return connection
            connection.drop()
        return RawConnection(self._base_url)

    async def __aenter__(self) -> WireClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        idle, self._idle = self._idle, []
        await asyncio.gather(*(c.close() for c, _ in idle))


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


@contextlib.asynccontextmanager
async def raw_connections(base_url: str, count: int) -> AsyncIterator[list[RawConnection]]:
    connections = [RawConnection(base_url) for _ in range(count)]
    try:
        await asyncio.gather(*(c.connect() for c in connections))
        yield connections
    finally:
        await asyncio.gather(*(c.close() for c in connections))
