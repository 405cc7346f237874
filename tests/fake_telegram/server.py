"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests of the aiogram bot.

    async with FakeTelegram() as tg:
        bot = tg.make_bot()                        # or point the app at tg.base_url
        await tg.user_command(42, "start", "ev-7")
        [reply] = await tg.wait_for_message(42)

It answers like Telegram: the same routes (``/bot<token>/<method>``, ``/file/bot<token>/<path>``), JSON,
urlencoded and multipart bodies, the same refusals with Telegram's descriptions, long polling and webhooks.
Everything the bot sends is recorded (``calls``, ``sent_messages``); users are simulated with ``user_*``;
faults are injected with ``fail_next``, ``block``, ``hang`` and ``rate_limit``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import hmac
import inspect
import io
import itertools
import json
import mimetypes
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import urlencode, urlsplit

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from .limits import (
    CHAT_ACTIONS,
    COMMAND_SCOPES,
    DEFAULT_DESCRIPTIONS,
    MAX_DOWNLOAD_BYTES,
    MAX_PHOTO_SIDES,
    MAX_UPLOAD_BYTES,
    RateLimiter,
    TelegramError,
    bad_request,
    check_commands,
    check_language_code,
    check_menu_button,
    check_reply_markup,
    check_text,
    too_many_requests,
)

DEFAULT_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

INT_PARAMS = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "cache_time",
        "max_connections",
        "message_thread_id",
        "reply_to_message_id",
        "from_chat_id",
        "duration",
        "width",
        "height",
    }
)
BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "is_personal",
        "show_caption_above_media",
        "has_spoiler",
        "disable_content_type_detection",
        "allow_paid_broadcast",
    }
)
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "menu_button",
        "result",
        "results",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "media",
        "message_ids",
    }
)
# Methods that put something in a chat: refused for blocked chats; the send* ones are also rate limited.
CHAT_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendchataction",
        "editmessagetext",
        "editmessagecaption",
        "editmessagereplymarkup",
        "deletemessage",
        "sendmediagroup",
        "sendvideo",
        "sendaudio",
        "sendvoice",
        "sendanimation",
        "sendsticker",
        "sendlocation",
        "sendcontact",
        "sendpoll",
        "copymessage",
        "forwardmessage",
    }
)
RATE_LIMITED_METHODS = frozenset(m for m in CHAT_METHODS if m.startswith("send") and m != "sendchataction") | {
    "copymessage",
    "forwardmessage",
}
# Telegram's default when allowed_updates was never given (or given empty).
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class UploadedFile:
    """A file part of a multipart request, as the bot uploaded it."""

    name: str
    filename: str
    content_type: str
    content: bytes

    def __repr__(self) -> str:
        return f"UploadedFile({self.name!r}, {self.filename!r}, {len(self.content)} bytes)"


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # "photo" | "document"
    content: bytes | None  # None: sent by URL, the fake never downloads it
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    sizes: list[dict[str, Any]] = field(default_factory=list)  # PhotoSize objects, smallest first

    @property
    def file_size(self) -> int:
        return len(self.content) if self.content is not None else 0


class Call(tuple):
    """One request the bot made: a ``(method, params)`` pair, plus how it was answered.

    ``status`` is the HTTP status (None while pending, or if the bot hung up first: then ``cancelled``),
    ``response`` the JSON body, ``seq`` its place in the fake's timeline (see ``FakeTelegram.mark``).
    """

    method: str
    params: dict[str, Any]

    def __new__(cls, method: str, params: dict[str, Any], seq: int = 0) -> Call:
        call = super().__new__(cls, (method, params))
        call.__dict__.update(
            method=method,
            params=params,
            seq=seq,
            status=None,
            response=None,
            cancelled=False,
            source="http",
            at=time.monotonic(),
        )
        return call

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return (self.response or {}).get("result")

    @property
    def description(self) -> str | None:
        return (self.response or {}).get("description")

    def __repr__(self) -> str:
        return f"Call({self.method!r}, {self.params!r}, status={self.status})"


@dataclass
class Fault:
    method: str  # lowercase, or "*"
    status: int
    times: int | None
    retry_after: int | None = None
    description: str | None = None
    chat_id: Any = None
    body: str | None = None

    def error(self) -> TelegramError:
        if self.status == 429:
            retry_after = self.retry_after if self.retry_after is not None else 1
            err = too_many_requests(retry_after)
            if self.description:
                err.description = self.description
            return err
        return TelegramError(self.status, self.description or DEFAULT_DESCRIPTIONS.get(self.status, "Error"))


@dataclass
class Hang:
    method: str
    seconds: float | None
    times: int | None
    chat_id: Any = None
    after_processing: bool = False


@dataclass
class WebhookDelivery:
    """One POST of an update to the bot's webhook."""

    update: dict[str, Any]
    url: str
    headers: dict[str, str]
    status: int | None = None
    error: str | None = None
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _QuickCloseSession(AiohttpSession):
    """aiogram's session without the 250 ms grace period for TLS connections a local server doesn't have."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def _image_info(data: bytes) -> tuple[int, int] | None:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with qrcode[pil]
        return (800, 600) if data else None
    try:
        with Image.open(io.BytesIO(data)) as image:
            size = image.size
            image.verify()
    except Exception:  # anything Pillow can't read is what Telegram can't process
        return None
    return size


def _update_type(update: dict[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


class FakeTelegram:
    """The fake Bot API. Use as ``async with FakeTelegram() as tg`` or through the ``fake_telegram`` fixture."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "wuchuang_test_bot",
        bot_first_name: str = "武创荟 Test Bot",
        strict_chats: bool = True,
        strict_html: bool = True,
        allow_http_web_app: bool = False,
        allow_http_webhook: bool = True,
        host: str = "127.0.0.1",
        webhook_timeout: float = 10.0,
    ) -> None:
        bot_id, sep, _ = token.partition(":")
        if not sep or not bot_id.isdigit():
            raise ValueError("a bot token looks like 123456:ABC...")
        self.token = token
        self.bot_id = int(bot_id)
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.strict_chats = strict_chats
        """Sends to chats no test introduced (user_*, add_user, add_chat) get 400 chat not found."""
        self.strict_html = strict_html
        """HTML must also escape & and > (Telegram only insists on <)."""
        self.allow_http_web_app = allow_http_web_app
        """Accept http:// Web App URLs in buttons and the menu button (Telegram wants https)."""
        self.allow_http_webhook = allow_http_webhook
        """Accept http:// webhooks on any port (Telegram wants https on 443, 80, 88 or 8443)."""
        self.host = host
        self.webhook_timeout = webhook_timeout

        # What the bot did
        self.calls: list[Call] = []
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.web_app_answers: dict[str, dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}
        self.webhook: dict[str, Any] = {"url": "", "secret_token": None, "allowed_updates": None, "max_connections": 40}
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.downloads: list[str] = []
        self.dropped_updates: list[dict[str, Any]] = []
        self.too_many_requests = 0

        # Fault injection
        self.limiter: RateLimiter | None = None
        self.blocked: set[Any] = set()
        self._faults: list[Fault] = []
        self._hangs: list[Hang] = []

        # World state
        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[Any, dict[str, Any]] = {}
        self._messages: dict[tuple[Any, int], dict[str, Any]] = {}
        self._records: list[dict[str, Any]] = []
        self._record_index: dict[tuple[Any, int], dict[str, Any]] = {}
        self._next_message_id: dict[Any, int] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._callback_queries: dict[str, dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 100_000_001
        self._allowed_updates: list[str] | None = None
        self._seq = 0
        self._chat_marks: dict[Any, int] = {}
        self._poll_generation = 0

        self._methods: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {}
        for attr in dir(type(self)):
            if attr.startswith("_api_"):
                name = attr.removeprefix("_api_")
                self._methods[name.lower()] = (name, getattr(self, attr))

        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._webhook_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._base_url: str | None = None

    # --- lifecycle ------------------------------------------------------------------------------------------

    async def start(self) -> Self:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, handler_cancellation=True, shutdown_timeout=0.1
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        host, port = self._runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"
        return self

    async def close(self) -> None:
        self._closing.set()
        self._notify()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: give it to ``TelegramAPIServer.from_base`` (or settings.telegram_api_url)."""
        if self._base_url is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._base_url

    @property
    def api_server(self) -> TelegramAPIServer:
        return TelegramAPIServer.from_base(self.base_url)

    def make_bot(self, *, token: str | None = None, session_timeout: float | None = None, **kwargs: Any) -> Bot:
        """An aiogram Bot talking to this server (its session closes without aiogram's 250 ms TLS grace).

        ``token`` defaults to the fake's; ``session_timeout`` is the request timeout in seconds; other keywords
        go to ``Bot`` (``default=DefaultBotProperties(parse_mode=ParseMode.HTML)``, say)."""
        session = _QuickCloseSession(api=self.api_server)
        if session_timeout is not None:
            session.timeout = session_timeout
        return Bot(token or self.token, session=session, **kwargs)

    # --- recording and waiting ------------------------------------------------------------------------------

    def _tick(self) -> int:
        self._seq += 1
        return self._seq

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, seconds: float) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)

    def mark(self) -> int:
        """A point in the fake's timeline, for ``since=`` arguments: only what happens after it counts."""
        return self._seq

    async def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        what: str | None = None,
    ) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked whenever the fake's state changes) and return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = "\n  ".join(repr(call) for call in self.calls[-10:]) or "(none)"
                raise TimeoutError(
                    f"timed out after {timeout}s waiting for {what or predicate!r}; last calls:\n  {recent}"
                )
            await self._wait_change(remaining)

    async def wait_for_message(
        self,
        chat_id: Any,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        since: int | None = None,
    ) -> list[dict[str, Any]]:
        """Wait for at least ``count`` messages the bot sent to ``chat_id`` and return them all (oldest first).

        Only messages sent after ``since`` count; by default after the test's last user_* update in that chat
        (or from the start if there was none)."""
        start = self._chat_marks.get(chat_id, 0) if since is None else since

        def found() -> list[dict[str, Any]] | None:
            messages = self.sent_messages(chat_id, since=start, include_deleted=True)
            return messages if len(messages) >= count else None

        return await self.wait_for(found, timeout, what=f"{count} message(s) to chat {chat_id}")

    async def wait_for_call(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        since: int = 0,
        ok: bool | None = None,
    ) -> list[Call]:
        """Wait until ``method`` was answered at least ``count`` times (after ``since``); return those calls."""

        def found() -> list[Call] | None:
            calls = [c for c in self.calls_to(method, ok=ok) if c.seq > since and c.status is not None]
            return calls if len(calls) >= count else None

        return await self.wait_for(found, timeout, what=f"{count} {method} call(s)")

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Recorded calls of one method (any letter case), optionally only the accepted or the refused ones."""
        name = method.lower()
        return [c for c in self.calls if c.method.lower() == name and (ok is None or c.ok == ok)]

    def sent_messages(
        self,
        chat_id: Any = None,
        *,
        since: int = 0,
        include_deleted: bool = False,
    ) -> list[dict[str, Any]]:
        """Messages the bot sent, oldest first, as they are now (edits applied).

        Each is a dict: ``chat_id``, ``message_id``, ``method``, ``text`` / ``caption`` (what the user sees:
        tags stripped, entities decoded), ``raw_text`` / ``raw_caption`` (as sent), ``parse_mode``,
        ``reply_markup`` (as sent, reply keyboards too), ``photo`` / ``document`` (bool), ``file``
        (the UploadedFile, if uploaded), ``file_id``, ``edited``, ``deleted``, ``seq`` and ``message``
        (the Telegram Message object, as the bot would get it back)."""
        return [
            copy.deepcopy(r)
            for r in self._records
            if (chat_id is None or r["chat_id"] == chat_id)
            and r["seq"] > since
            and (include_deleted or not r["deleted"])
        ]

    def last_message(self, chat_id: Any) -> dict[str, Any] | None:
        messages = self.sent_messages(chat_id)
        return messages[-1] if messages else None

    @staticmethod
    def inline_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
        """The inline buttons of a sent message (record or Telegram Message), row by row, flattened."""
        markup = message.get("reply_markup") or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]

    def my_commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, str]]:
        return list(self.commands.get((self._scope_key(scope), language_code), []))

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued for getUpdates and not yet confirmed by an offset."""
        return copy.deepcopy(self._updates)

    # --- fault injection ------------------------------------------------------------------------------------

    def rate_limit(
        self,
        global_per_s: int | None = 30,
        per_chat_per_s: int | None = 1,
        *,
        window: float = 1.0,
        retry_after: int | None = None,
    ) -> RateLimiter | None:
        """Refuse send* methods over ``global_per_s`` overall or ``per_chat_per_s`` per chat in any ``window``
        seconds with 429 ``Too Many Requests: retry after N``. ``rate_limit(None, None)`` turns it off."""
        if global_per_s is None and per_chat_per_s is None:
            self.limiter = None
        else:
            self.limiter = RateLimiter(global_per_s, per_chat_per_s, window=window, retry_after=retry_after)
        return self.limiter

    def fail_next(
        self,
        method: str,
        status: int = 500,
        *,
        times: int | None = 1,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: Any = None,
        body: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` ("*" for any; ``times=None`` for all, until
        ``clear_faults``) with ``status``: 429 carries ``retry_after`` (default 1), 403 says the bot was
        blocked, 500 is Internal Server Error. ``chat_id`` narrows it to one chat; ``body`` replaces the JSON
        with raw text (an nginx error page, say)."""
        self._faults.append(Fault(method.lower(), status, times, retry_after, description, chat_id, body))

    def hang(
        self,
        method: str,
        seconds: float | None = None,
        *,
        times: int | None = None,
        chat_id: Any = None,
        after_processing: bool = False,
    ) -> None:
        """Make calls of ``method`` ("*" for any) take ``seconds`` (None: until the server stops) before they
        are answered. By default the call has no effect if the bot gives up first; with ``after_processing``
        it takes effect (the message is sent) and only the answer is late, as when Telegram's reply is lost."""
        self._hangs.append(Hang(method.lower(), seconds, times, chat_id, after_processing))

    def clear_faults(self) -> None:
        """Forget fail_next and hang (not blocks or the rate limit)."""
        self._faults.clear()
        self._hangs.clear()

    def block(self, chat_id: Any) -> None:
        """The user blocked the bot: sends to the chat get 403 Forbidden: bot was blocked by the user."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: Any) -> None:
        self.blocked.discard(chat_id)

    def _take(self, items: list[Any], method: str, params: dict[str, Any]) -> Any:
        for item in items:
            if item.method not in ("*", method.lower()):
                continue
            if item.chat_id is not None and params.get("chat_id") != item.chat_id:
                continue
            if item.times is not None:
                item.times -= 1
                if item.times <= 0:
                    items.remove(item)
            return item
        return None

    async def _sleep(self, seconds: float | None) -> None:
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({closing}, timeout=seconds)
        finally:
            closing.cancel()

    # --- HTTP -------------------------------------------------------------------------------------------------

    @staticmethod
    def _json(payload: dict[str, Any], status: int = 200) -> web.Response:
        return web.Response(
            text=json.dumps(payload, ensure_ascii=False), status=status, content_type="application/json"
        )

    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        return self._json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        path = request.match_info["path"]
        stored = self._files_by_path.get(path)
        if stored is None or stored.content is None:
            return self._json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        self.downloads.append(path)
        content_type = stored.mime_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
        return web.Response(body=stored.content, content_type=content_type)

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await self._read_request(request)
        except TelegramError as err:
            return self._json(err.payload(), err.status)
        if request.match_info["token"] != self.token:
            call = self._record(method, params)
            err = TelegramError(401, "Unauthorized")
            self._finish(call, err.status, err.payload())
            return self._json(err.payload(), err.status)
        status, payload, raw = await self._dispatch(method, params)
        if raw is not None:
            return web.Response(text=raw, status=status, content_type="text/html")
        return self._json(payload, status)

    def _record(self, method: str, params: dict[str, Any], source: str = "http") -> Call:
        call = Call(method, params, self._tick())
        call.source = source
        self.calls.append(call)
        self._notify()
        return call

    def _finish(self, call: Call, status: int, payload: dict[str, Any]) -> None:
        call.status = status
        call.response = payload
        if status == 429:
            self.too_many_requests += 1
        self._notify()

    async def _dispatch(
        self,
        method: str,
        params: dict[str, Any],
        source: str = "http",
    ) -> tuple[int, dict[str, Any], str | None]:
        """Run one API call: record it, apply faults and limits, answer. Returns (status, payload, raw body)."""
        known = self._methods.get(method.lower())
        call = self._record(known[0] if known else method, params, source)
        raw: str | None = None
        try:
            if known is None:
                raise TelegramError(404, "Not Found: method not found")
            name, handler = known
            result = await self._process(name, handler, params)
            status, payload = 200, {"ok": True, "result": result}
            if isinstance(result, _WithDescription):
                payload = {"ok": True, "result": result.result, "description": result.description}
        except TelegramError as err:
            status, payload = err.status, err.payload()
            raw = getattr(err, "raw_body", None)
        except asyncio.CancelledError:
            call.cancelled = True
            self._notify()
            raise
        self._finish(call, status, payload)
        return status, payload, raw

    async def _process(self, name: str, handler: Callable[[dict[str, Any]], Any], params: dict[str, Any]) -> Any:
        lower = name.lower()
        hang = self._take(self._hangs, lower, params)
        if hang is not None and not hang.after_processing:
            await self._sleep(hang.seconds)
            if self._closing.is_set():
                raise TelegramError(500, "Internal Server Error: the fake Bot API is shutting down")
        fault = self._take(self._faults, lower, params)
        if fault is not None:
            err = fault.error()
            if fault.body is not None:
                err.raw_body = fault.body  # type: ignore[attr-defined]
            raise err
        chat_id = params.get("chat_id")
        if lower in CHAT_METHODS and chat_id in self.blocked:
            raise TelegramError(403, "Forbidden: bot was blocked by the user")
        limited = self.limiter is not None and lower in RATE_LIMITED_METHODS
        if limited:
            assert self.limiter is not None
            wait = self.limiter.wait(chat_id)
            if wait > 0:
                raise too_many_requests(self.limiter.retry_after(wait))
        result = handler(params)
        if inspect.isawaitable(result):
            result = await result
        if limited and self.limiter is not None:
            self.limiter.record(chat_id)
        if hang is not None and hang.after_processing:
            await self._sleep(hang.seconds)
        return result

    async def _read_request(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.body_exists:
            content_type = request.content_type
            if content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON object") from None
                if not isinstance(body, dict):
                    raise bad_request("can't parse JSON object")
                raw.update(body)
            elif content_type.startswith("multipart/"):
                fields, files = await _read_multipart(await request.multipart())
                raw.update(fields)
            else:
                form = await request.post()
                raw.update({key: value for key, value in form.items() if isinstance(value, str)})
        return _coerce(raw, files)

    # --- users, chats and updates -------------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        """Introduce (or update) a user and their private chat with the bot (chat.id == user.id)."""
        user = self._users.get(user_id)
        if user is None:
            user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": "zh-hans"}
            self._users[user_id] = user
        for key, value in (
            ("first_name", first_name),
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                user[key] = value
        chat = {"id": user_id, "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        self._chats[user_id] = chat
        return dict(user)

    def add_chat(
        self,
        chat_id: int,
        *,
        chat_type: str = "supergroup",
        title: str = "Test group",
    ) -> dict[str, Any]:
        """Introduce a group, supergroup or channel the bot can send to."""
        chat = {"id": chat_id, "type": chat_type, "title": title}
        self._chats[chat_id] = chat
        return dict(chat)

    def user(self, user_id: int) -> dict[str, Any]:
        return dict(self._users[user_id])

    def _user_for(self, user_id: int, kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        self.add_user(user_id, **kwargs)
        return dict(self._users[user_id]), dict(self._chats[user_id])

    def _next_mid(self, chat_id: Any) -> int:
        mid = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = mid + 1
        return mid

    async def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Deliver an update: POST it to the webhook if one is set, otherwise queue it for getUpdates.

        Updates of a type the bot's allowed_updates exclude are dropped, as Telegram does (``dropped_updates``).
        A webhook delivery is awaited (and a method the bot returns in the response body is executed); one
        that fails is recorded in ``webhook_deliveries`` and getWebhookInfo's last_error_message, not retried.
        Returns the update (with its update_id)."""
        update = copy.deepcopy(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        allowed = self.webhook["allowed_updates"] if self.webhook["url"] else self._allowed_updates
        kind = _update_type(update)
        if (kind not in allowed) if allowed else (kind in DEFAULT_EXCLUDED_UPDATES):
            self.dropped_updates.append(update)
            return update
        if self.webhook["url"]:
            await self._deliver(update)
        else:
            self._updates.append(update)
            self._notify()
        return update

    async def _push_user_message(
        self,
        user_id: int,
        user_kwargs: dict[str, Any],
        **content: Any,
    ) -> dict[str, Any]:
        user, chat = self._user_for(user_id, user_kwargs)
        message = {
            "message_id": self._next_mid(user_id),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
            **{key: value for key, value in content.items() if value is not None},
        }
        self._messages[(user_id, message["message_id"])] = message
        self._chat_marks[user_id] = self._tick()
        return await self.push_update({"message": copy.deepcopy(message)})

    async def user_message(
        self,
        user_id: int,
        text: str,
        *,
        reply_to: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
        **user: Any,
    ) -> dict[str, Any]:
        """The user writes ``text`` in their private chat. A leading /command gets its bot_command entity.

        ``user`` keywords (first_name, last_name, username, language_code) update the user first; a new
        user speaks zh-hans. ``reply_to`` is a message (record or Telegram dict) the user replies to."""
        if entities is None and text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities = [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]
        reply = None
        if reply_to is not None:
            reply = copy.deepcopy(reply_to.get("message", reply_to))
            reply.pop("reply_to_message", None)
        return await self._push_user_message(
            user_id, user, text=text, entities=entities or None, reply_to_message=reply
        )

    async def user_command(
        self,
        user_id: int,
        command: str,
        payload: str | None = None,
        **user: Any,
    ) -> dict[str, Any]:
        """The user sends ``/command payload`` (``user_command(42, "start", "ev-7")`` is a deep link)."""
        text = "/" + command.lstrip("/")
        if payload:
            text = f"{text} {payload}"
        return await self.user_message(user_id, text, **user)

    async def user_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        contact_user_id: int | None = None,
        contact_first_name: str | None = None,
        **user: Any,
    ) -> dict[str, Any]:
        """The user shares a contact: by default their own (what a request_contact button sends)."""
        known = self.add_user(user_id, **user)
        contact = {
            "phone_number": phone_number,
            "first_name": contact_first_name or known["first_name"],
            "user_id": user_id if contact_user_id is None else contact_user_id,
        }
        if contact_user_id is None and "last_name" in known:
            contact["last_name"] = known["last_name"]
        return await self._push_user_message(user_id, {}, contact=contact)

    async def user_photo(
        self,
        user_id: int,
        image: bytes,
        *,
        caption: str | None = None,
        **user: Any,
    ) -> dict[str, Any]:
        """The user sends a photo; its sizes are registered, so getFile and the download work."""
        stored = self._store_photo(image)
        if stored is None:
            raise ValueError("user_photo needs image bytes Pillow can read")
        return await self._push_user_message(user_id, user, photo=copy.deepcopy(stored.sizes), caption=caption)

    async def user_document(
        self,
        user_id: int,
        content: bytes,
        file_name: str = "file.pdf",
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        **user: Any,
    ) -> dict[str, Any]:
        stored = self._store_document(content, file_name, mime_type)
        return await self._push_user_message(user_id, user, document=self._document_object(stored), caption=caption)

    async def user_web_app_data(
        self,
        user_id: int,
        data: str,
        button_text: str = "Open",
        **user: Any,
    ) -> dict[str, Any]:
        """A Web App opened from a reply keyboard button called Telegram.WebApp.sendData(data)."""
        return await self._push_user_message(user_id, user, web_app_data={"data": data, "button_text": button_text})

    async def user_callback(
        self,
        user_id: int,
        callback_data: str,
        message: dict[str, Any] | None = None,
        *,
        inaccessible: bool = False,
        **user: Any,
    ) -> dict[str, Any]:
        """The user presses the inline button carrying ``callback_data`` on ``message`` (a record from
        sent_messages or a Telegram Message; default: the latest bot message in their chat with such a
        button). Raises ValueError if no such button is there now: a real user couldn't press it.
        ``inaccessible``: the message is too old for the bot to see; Telegram then sends only its chat,
        id and date 0 (an InaccessibleMessage)."""
        target = self._button_message(
            user_id, message, lambda b: b.get("callback_data") == callback_data, f"callback_data {callback_data!r}"
        )
        user_obj, _ = self._user_for(user_id, user)
        query_id = str(secrets.randbits(63))
        seen = copy.deepcopy(target)
        if inaccessible:
            seen = {"chat": seen["chat"], "message_id": seen["message_id"], "date": 0}
        query = {
            "id": query_id,
            "from": user_obj,
            "message": seen,
            "chat_instance": str(abs(hash((self.bot_id, user_id))) % 10**18),
            "data": callback_data,
        }
        self._callback_queries[query_id] = query
        self._chat_marks[target["chat"]["id"]] = self._tick()
        return await self.push_update({"callback_query": query})

    async def user_press(
        self, user_id: int, button_text: str, message: dict[str, Any] | None = None, **user: Any
    ) -> dict[str, Any]:
        """The user presses the inline button labelled ``button_text`` (it must carry callback_data)."""
        target = self._button_message(user_id, message, lambda b: b.get("text") == button_text, f"text {button_text!r}")
        button = next(b for b in self.inline_buttons(target) if b.get("text") == button_text)
        if "callback_data" not in button:
            raise ValueError(f"button {button_text!r} opens {sorted(set(button) - {'text'})}, it sends no callback")
        return await self.user_callback(user_id, button["callback_data"], target, **user)

    async def user_blocks_bot(self, user_id: int) -> dict[str, Any]:
        """The user blocks the bot: sends start failing with 403, and a my_chat_member update says so."""
        self.block(user_id)
        user, chat = self._user_for(user_id, {})
        return await self.push_update(
            {
                "my_chat_member": {
                    "chat": chat,
                    "from": user,
                    "date": int(time.time()),
                    "old_chat_member": {"status": "member", "user": self.bot_user},
                    "new_chat_member": {"status": "kicked", "user": self.bot_user, "until_date": 0},
                }
            }
        )

    def _button_message(
        self, user_id: int, message: dict[str, Any] | None, match: Callable[[dict[str, Any]], bool], what: str
    ) -> dict[str, Any]:
        if message is not None:
            telegram = message.get("message", message)
            key = (telegram["chat"]["id"], telegram["message_id"])
            current = self._messages.get(key)
            if current is None:
                raise ValueError(f"message {key} was deleted or never sent")
            candidates = [current]
        else:
            candidates = [
                self._messages[(r["chat_id"], r["message_id"])]
                for r in reversed(self._records)
                if r["chat_id"] == user_id and not r["deleted"]
            ]
        for candidate in candidates:
            if any(match(button) for button in self.inline_buttons(candidate)):
                return candidate
        raise ValueError(
            f"no inline button with {what} in chat {user_id} (buttons now: "
            f"{[self.inline_buttons(c) for c in candidates[:3]]})"
        )

    def web_app_init_data(
        self,
        user_id: int,
        *,
        query_id: str | None = None,
        auth_date: int | None = None,
        start_param: str | None = None,
        **user: Any,
    ) -> str:
        """Telegram.WebApp.initData for a user, signed with this bot's token (HMAC as Telegram does it), with
        a query_id for answerWebAppQuery."""
        user_obj, _ = self._user_for(user_id, user)
        user_obj.pop("is_bot", None)
        fields = {
            "query_id": query_id or f"AAH{secrets.token_urlsafe(12)}",
            "user": json.dumps(user_obj, ensure_ascii=False, separators=(",", ":")),
            "auth_date": str(auth_date if auth_date is not None else int(time.time())),
        }
        if start_param is not None:
            fields["start_param"] = start_param
        check_string = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
        secret = hmac.new(b"WebAppData", self.token.encode(), hashlib.sha256).digest()
        fields["hash"] = hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()
        return urlencode(fields)

    # --- files ------------------------------------------------------------------------------------------------

    def _new_file(self, kind: str, content: bytes | None, ext: str, **extra: Any) -> StoredFile:
        n = next(self._file_counter)
        prefix = "AgACAgIAAxkBAAI" if kind == "photo" else "BQACAgIAAxkBAAI"
        file_id = f"{prefix}{n:06d}{secrets.token_urlsafe(18)}"
        folder = "photos" if kind == "photo" else "documents"
        stored = StoredFile(
            file_id, f"AQAD{n:06d}{secrets.token_hex(4)}", kind, content, f"{folder}/file_{n}.{ext}", **extra
        )
        self._files[file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _store_photo(self, content: bytes | None) -> StoredFile | None:
        if content is not None:
            info = _image_info(content)
            if info is None:
                return None
            width, height = info
        else:
            width, height = 1280, 960
        main = self._new_file("photo", content, "jpg", width=width, height=height)
        sizes = []
        scale = 90 / max(width, height, 1)
        if scale < 1:
            thumb = self._new_file(
                "photo", content, "jpg", width=max(1, round(width * scale)), height=max(1, round(height * scale))
            )
            sizes.append(thumb)
        sizes.append(main)
        main.sizes = [
            {
                "file_id": s.file_id,
                "file_unique_id": s.file_unique_id,
                "width": s.width,
                "height": s.height,
                "file_size": s.file_size,
            }
            for s in sizes
        ]
        for s in sizes:
            s.sizes = main.sizes
        return main

    def _store_document(self, content: bytes | None, file_name: str, mime_type: str | None) -> StoredFile:
        ext = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        return self._new_file("document", content, ext, file_name=file_name, mime_type=mime)

    @staticmethod
    def _document_object(stored: StoredFile) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": stored.file_name,
            "mime_type": stored.mime_type,
            "file_size": stored.file_size,
        }

    def add_file(
        self, content: bytes, *, kind: str = "photo", file_name: str | None = None, mime_type: str | None = None
    ) -> str:
        """Register a file as if a user had sent it; returns its file_id (for a photo, its largest size)."""
        if kind == "photo":
            stored = self._store_photo(content)
            if stored is None:
                raise ValueError("add_file(kind='photo') needs image bytes Pillow can read")
        else:
            stored = self._store_document(content, file_name or "file.bin", mime_type)
        return stored.file_id

    def file_content(self, file_id: str) -> bytes | None:
        stored = self._files.get(file_id)
        return stored.content if stored else None

    def _resolve_input_file(self, value: Any, kind: str) -> StoredFile:
        if isinstance(value, UploadedFile):
            if not value.content:
                raise bad_request("file must be non-empty")
            if kind == "photo":
                info = _image_info(value.content)
                if info is None:
                    raise bad_request("IMAGE_PROCESS_FAILED")
                width, height = info
                if width + height > MAX_PHOTO_SIDES or max(width, height) > 20 * min(width, height):
                    raise bad_request("PHOTO_INVALID_DIMENSIONS")
                stored = self._store_photo(value.content)
                assert stored is not None
                return stored
            if len(value.content) > MAX_UPLOAD_BYTES:
                raise TelegramError(413, "Request Entity Too Large")
            return self._store_document(value.content, value.filename, _content_type(value))
        if isinstance(value, str) and value:
            stored = self._files.get(value)
            if stored is not None:
                if stored.kind != kind:
                    raise bad_request(f"can't use file of type {stored.kind.title()} as {kind.title()}")
                return stored
            if urlsplit(value).scheme in ("http", "https"):
                if kind == "photo":
                    photo = self._store_photo(None)
                    assert photo is not None
                    return photo
                return self._store_document(None, value.rsplit("/", 1)[-1] or "file", None)
        raise bad_request("wrong file identifier/HTTP URL specified")

    # --- sending ------------------------------------------------------------------------------------------------

    def _target_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        chat = self._chats.get(chat_id)
        if chat is None:
            if self.strict_chats or not isinstance(chat_id, int):
                raise bad_request("chat not found")
            if chat_id > 0:
                self.add_user(chat_id)
            else:
                self.add_chat(chat_id)
            chat = self._chats[chat_id]
        return chat

    def _reply_target(self, chat: dict[str, Any], params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        message_id = message_id or params.get("reply_to_message_id")
        if not message_id:
            return None
        target = self._messages.get((chat["id"], message_id))
        if target is None:
            if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        target = copy.deepcopy(target)
        target.pop("reply_to_message", None)
        return target

    def _check_markup(self, params: dict[str, Any], *, inline_only: bool = False) -> Any:
        markup = params.get("reply_markup")
        check_reply_markup(markup, allow_http_web_app=self.allow_http_web_app, inline_only=inline_only)
        return markup or None

    def _check_text(self, raw: Any, parse_mode: Any, *, caption: bool = False) -> str:
        return check_text(raw, parse_mode, caption=caption, strict_html=self.strict_html)

    def _store_sent(
        self,
        method: str,
        chat: dict[str, Any],
        params: dict[str, Any],
        content: dict[str, Any],
        *,
        markup: Any,
        reply_to: dict[str, Any] | None,
        record: dict[str, Any],
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._next_mid(chat["id"]),
            "from": dict(self.bot_user),
            "chat": dict(chat),
            "date": int(time.time()),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = copy.deepcopy(markup)
        self._messages[(chat["id"], message["message_id"])] = message
        entry = {
            "chat_id": chat["id"],
            "message_id": message["message_id"],
            "method": method,
            "date": message["date"],
            "text": None,
            "raw_text": None,
            "caption": None,
            "raw_caption": None,
            "parse_mode": params.get("parse_mode"),
            "reply_markup": copy.deepcopy(markup),
            "photo": False,
            "document": False,
            "file": None,
            "file_id": None,
            "edited": False,
            "deleted": False,
            "seq": self._tick(),
            "message": message,
        }
        entry.update(record)
        self._records.append(entry)
        self._record_index[(chat["id"], message["message_id"])] = entry
        self._notify()
        return copy.deepcopy(message)

    def _caption(self, params: dict[str, Any]) -> tuple[str | None, str | None]:
        raw = params.get("caption")
        if raw in (None, ""):
            return None, None
        return str(raw), self._check_text(raw, params.get("parse_mode"), caption=True) or None

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params)
        raw = params.get("text")
        text = self._check_text(raw, params.get("parse_mode"))
        markup = self._check_markup(params)
        reply_to = self._reply_target(chat, params)
        return self._store_sent(
            "sendMessage",
            chat,
            params,
            {"text": text},
            markup=markup,
            reply_to=reply_to,
            record={"text": text, "raw_text": str(raw)},
        )

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params)
        photo = params.get("photo")
        if photo in (None, ""):
            raise bad_request("there is no photo in the request")
        raw_caption, caption = self._caption(params)
        markup = self._check_markup(params)
        reply_to = self._reply_target(chat, params)
        stored = self._resolve_input_file(photo, "photo")
        content: dict[str, Any] = {"photo": copy.deepcopy(stored.sizes)}
        if caption:
            content["caption"] = caption
        return self._store_sent(
            "sendPhoto",
            chat,
            params,
            content,
            markup=markup,
            reply_to=reply_to,
            record={
                "caption": caption,
                "raw_caption": raw_caption,
                "photo": True,
                "file_id": stored.file_id,
                "file": photo if isinstance(photo, UploadedFile) else None,
            },
        )

    def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params)
        document = params.get("document")
        if document in (None, ""):
            raise bad_request("there is no document in the request")
        raw_caption, caption = self._caption(params)
        markup = self._check_markup(params)
        reply_to = self._reply_target(chat, params)
        stored = self._resolve_input_file(document, "document")
        content: dict[str, Any] = {"document": self._document_object(stored)}
        if caption:
            content["caption"] = caption
        return self._store_sent(
            "sendDocument",
            chat,
            params,
            content,
            markup=markup,
            reply_to=reply_to,
            record={
                "caption": caption,
                "raw_caption": raw_caption,
                "document": True,
                "file_id": stored.file_id,
                "file": document if isinstance(document, UploadedFile) else None,
            },
        )

    def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        self._target_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # --- editing ------------------------------------------------------------------------------------------------

    def _editable(self, params: dict[str, Any], verb: str = "edit") -> tuple[dict[str, Any] | None, Any]:
        if params.get("inline_message_id"):
            return None, None
        if not params.get("message_id"):
            raise bad_request("message identifier is not specified")
        chat = self._target_chat(params)
        key = (chat["id"], params["message_id"])
        message = self._messages.get(key)
        if message is None:
            raise bad_request(f"message to {verb} not found")
        if verb == "edit" and message["from"]["id"] != self.bot_id:
            raise bad_request("message can't be edited")
        return message, key

    def _apply_edit(
        self, key: Any, message: dict[str, Any], changes: dict[str, Any], markup: Any, record: dict[str, Any]
    ) -> dict[str, Any]:
        new_markup = copy.deepcopy(markup) if markup else None
        if all(message.get(k) == v for k, v in changes.items()) and message.get("reply_markup") == new_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        for k, v in changes.items():
            if v is None:
                message.pop(k, None)
            else:
                message[k] = v
        if new_markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = new_markup
        message["edit_date"] = int(time.time())
        entry = self._record_index.get(key)
        if entry is not None:
            entry.update(record, reply_markup=new_markup, edited=True)
        self._notify()
        return copy.deepcopy(message)

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        message, key = self._editable(params)
        raw = params.get("text")
        text = self._check_text(raw, params.get("parse_mode"))
        markup = self._check_markup(params, inline_only=True)
        if message is None:
            return True
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        return self._apply_edit(
            key,
            message,
            {"text": text},
            markup,
            {"text": text, "raw_text": str(raw), "parse_mode": params.get("parse_mode")},
        )

    def _api_editMessageCaption(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        message, key = self._editable(params)
        raw_caption, caption = self._caption(params)
        markup = self._check_markup(params, inline_only=True)
        if message is None:
            return True
        if not any(k in message for k in ("photo", "document", "video", "audio", "animation")):
            raise bad_request("there is no caption in the message to edit")
        return self._apply_edit(
            key,
            message,
            {"caption": caption},
            markup,
            {"caption": caption, "raw_caption": raw_caption, "parse_mode": params.get("parse_mode")},
        )

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        message, key = self._editable(params)
        markup = self._check_markup(params, inline_only=True)
        if message is None:
            return True
        return self._apply_edit(key, message, {}, markup, {})

    def _api_deleteMessage(self, params: dict[str, Any]) -> bool:
        message, key = self._editable(params, verb="delete")
        if message is None:
            raise bad_request("message identifier is not specified")
        del self._messages[key]
        entry = self._record_index.get(key)
        if entry is not None:
            entry["deleted"] = True
        self._notify()
        return True

    # --- queries ------------------------------------------------------------------------------------------------

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callback_queries or query_id in self.callback_answers:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        self.callback_answers[query_id] = {
            key: params[key] for key in ("text", "show_alert", "url", "cache_time") if key in params
        }
        return True

    def _api_answerWebAppQuery(self, params: dict[str, Any]) -> dict[str, Any]:
        query_id = str(params.get("web_app_query_id") or "")
        if not query_id or query_id in self.web_app_answers:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        result = params.get("result")
        if not isinstance(result, dict) or not result.get("type") or not result.get("id"):
            raise bad_request('can\'t parse InlineQueryResult: Field "type" must be of type String')
        if result.get("reply_markup"):
            check_reply_markup(result["reply_markup"], allow_http_web_app=self.allow_http_web_app, inline_only=True)
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            self._check_text(content["message_text"], content.get("parse_mode"))
        self.web_app_answers[query_id] = result
        return {"inline_message_id": f"AgAAA{secrets.token_urlsafe(16)}"}

    # --- getFile ------------------------------------------------------------------------------------------------

    def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id")
        if not file_id:
            raise bad_request("file_id not specified")
        stored = self._files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    # --- commands, menu, descriptions -------------------------------------------------------------------------

    @staticmethod
    def _scope_key(scope: Any) -> str:
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True, separators=(",", ":"))

    def _command_target(self, params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise bad_request("wrong bot command scope type specified")
        if "chat_id" in scope and isinstance(scope["chat_id"], str) and scope["chat_id"].lstrip("-").isdigit():
            scope = {**scope, "chat_id": int(scope["chat_id"])}
        return self._scope_key(scope), check_language_code(params.get("language_code"))

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        target = self._command_target(params)
        commands = check_commands(params.get("commands"))
        if commands:
            self.commands[target] = commands
        else:
            self.commands.pop(target, None)
        return True

    def _api_getMyCommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return list(self.commands.get(self._command_target(params), []))

    def _api_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(self._command_target(params), None)
        return True

    def _api_setChatMenuButton(self, params: dict[str, Any]) -> bool:
        chat_id = params.get("chat_id")
        if chat_id is not None:
            self._target_chat(params)
        self.menu_buttons[chat_id] = check_menu_button(
            params.get("menu_button"), allow_http_web_app=self.allow_http_web_app
        )
        return True

    def _api_getChatMenuButton(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "default"}

    def _set_description(self, kind: str, params: dict[str, Any], key: str, limit: int) -> bool:
        value = params.get(key) or ""
        if len(value) > limit:
            raise bad_request(f"{kind} is too long")
        language = check_language_code(params.get("language_code"))
        self.descriptions[(kind, language)] = value
        return True

    def _api_setMyDescription(self, params: dict[str, Any]) -> bool:
        return self._set_description("description", params, "description", 512)

    def _api_getMyDescription(self, params: dict[str, Any]) -> dict[str, str]:
        language = check_language_code(params.get("language_code"))
        return {"description": self.descriptions.get(("description", language), "")}

    def _api_setMyShortDescription(self, params: dict[str, Any]) -> bool:
        return self._set_description("short_description", params, "short_description", 120)

    def _api_getMyShortDescription(self, params: dict[str, Any]) -> dict[str, str]:
        language = check_language_code(params.get("language_code"))
        return {"short_description": self.descriptions.get(("short_description", language), "")}

    def _api_setMyName(self, params: dict[str, Any]) -> bool:
        return self._set_description("name", params, "name", 64)

    def _api_getMyName(self, params: dict[str, Any]) -> dict[str, str]:
        language = check_language_code(params.get("language_code"))
        return {"name": self.descriptions.get(("name", language), self.bot_user["first_name"])}

    def register_method(self, name: str, handler: Callable[[dict[str, Any]], Any | Awaitable[Any]]) -> None:
        """Serve a method the fake doesn't know: ``handler(params)`` returns the result or raises TelegramError."""
        self._methods[name.lower()] = (name, handler)

    # --- getUpdates ---------------------------------------------------------------------------------------------

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook["url"]:
            raise TelegramError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        if params.get("allowed_updates") is not None:
            self._allowed_updates = list(params["allowed_updates"]) or None
        self._confirm(int(params.get("offset") or 0))
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll still waiting is terminated
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                if self.webhook["url"]:
                    raise TelegramError(409, "Conflict: terminated by setWebhook request")
                raise TelegramError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            if self._updates or self._closing.is_set():
                return copy.deepcopy(self._updates[:limit])
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            await self._wait_change(remaining)

    # --- webhooks -------------------------------------------------------------------------------------------------

    def _api_setWebhook(self, params: dict[str, Any]) -> _WithDescription:
        url = params.get("url") or ""
        if not url:
            return self._api_deleteWebhook(params)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("invalid webhook URL specified")
        if not self.allow_http_webhook:
            if parts.scheme != "https":
                raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            if (parts.port or 443) not in (443, 80, 88, 8443):
                raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token") or None
        if secret is not None:
            if len(secret) > 256:
                raise bad_request("secret token is too long")
            if not all(c.isascii() and (c.isalnum() or c in "_-") for c in secret):
                raise bad_request("secret token contains illegal characters")
        already = self.webhook["url"] == url
        if params.get("drop_pending_updates"):
            self._updates.clear()
        allowed = params.get("allowed_updates")
        self.webhook.update(
            url=url,
            secret_token=secret,
            max_connections=params.get("max_connections") or 40,
            allowed_updates=(list(allowed) or None) if allowed is not None else self.webhook["allowed_updates"],
        )
        self._poll_generation += 1  # a waiting getUpdates is terminated
        self._notify()
        if self._updates:
            self._spawn(self._flush_pending())
        return _WithDescription(True, "Webhook is already set" if already else "Webhook was set")

    def _api_deleteWebhook(self, params: dict[str, Any]) -> _WithDescription:
        had = bool(self.webhook["url"])
        self.webhook.update(url="", secret_token=None)
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._notify()
        return _WithDescription(True, "Webhook was deleted" if had else "Webhook is already deleted")

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook["url"]:
            info["max_connections"] = self.webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
            if self.webhook["allowed_updates"]:
                info["allowed_updates"] = list(self.webhook["allowed_updates"])
            failed = [d for d in self.webhook_deliveries if not d.ok]
            if failed:
                info["last_error_date"] = int(time.time())
                info["last_error_message"] = failed[-1].error or f"Wrong response from the webhook: {failed[-1].status}"
        return info

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush_pending(self) -> None:
        while self._updates and self.webhook["url"]:
            await self._deliver(self._updates.pop(0))

    async def _deliver(self, update: dict[str, Any]) -> WebhookDelivery:
        async with self._webhook_lock:
            if self._http is None:
                self._http = aiohttp.ClientSession()
            url = self.webhook["url"]
            headers = {"Content-Type": "application/json"}
            if self.webhook["secret_token"]:
                headers[SECRET_HEADER] = self.webhook["secret_token"]
            delivery = WebhookDelivery(update, url, headers)
            reply: tuple[str, dict[str, Any]] | None = None
            try:
                async with self._http.post(
                    url,
                    data=json.dumps(update, ensure_ascii=False),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
                ) as resp:
                    delivery.status = resp.status
                    if 200 <= resp.status < 300:
                        reply = await _read_webhook_reply(resp)
                    else:
                        delivery.body = await resp.read()
                        delivery.error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except (aiohttp.ClientError, TimeoutError) as e:
                delivery.error = f"Connection failed: {type(e).__name__}: {e}"
            self.webhook_deliveries.append(delivery)
            self._notify()
        if reply is not None:  # the bot answered with a method call in the response body
            method, params = reply
            await self._dispatch(method, params, source="webhook-reply")
        return delivery


@dataclass
class _WithDescription:
    result: Any
    description: str


async def _read_multipart(reader: aiohttp.MultipartReader) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    fields: dict[str, Any] = {}
    files: dict[str, UploadedFile] = {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
            continue
        if part.filename is not None:
            content = bytes(await part.read(decode=True))
            files[part.name] = UploadedFile(
                part.name,
                part.filename,
                part.headers.get(aiohttp.hdrs.CONTENT_TYPE, "application/octet-stream"),
                content,
            )
        else:
            fields[part.name] = await part.text()
    return fields, files


async def _read_webhook_reply(resp: aiohttp.ClientResponse) -> tuple[str, dict[str, Any]] | None:
    if resp.content_type.startswith("multipart/"):
        fields, files = await _read_multipart(aiohttp.MultipartReader(resp.headers, resp.content))
        params = _coerce(fields, files)
    elif resp.content_type == "application/json":
        try:
            params = await resp.json()
        except ValueError:
            return None
        if not isinstance(params, dict):
            return None
        params = _coerce(params, {})
    else:
        return None
    method = params.pop("method", None)
    return (method, params) if isinstance(method, str) and method else None


def _content_type(uploaded: UploadedFile) -> str | None:
    if uploaded.content_type and uploaded.content_type != "application/octet-stream":
        return uploaded.content_type
    return None


def _coerce(raw: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
    """Parameters as Telegram reads them: numbers, booleans and JSON objects out of form strings, and
    ``attach://name`` (or a file part named like the parameter) replaced by the uploaded file."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            if key in JSON_PARAMS:
                try:
                    value = json.loads(value)
                except ValueError:
                    what = "reply keyboard markup" if key == "reply_markup" else key
                    raise bad_request(f"can't parse {what} JSON object") from None
            elif key in INT_PARAMS or key == "chat_id":
                stripped = value.strip()
                if stripped.lstrip("-").isdigit():
                    value = int(stripped)
            elif key in BOOL_PARAMS:
                value = value.strip().lower() in ("true", "1")
        elif key == "chat_id" and isinstance(value, float) and value.is_integer():
            value = int(value)
        params[key] = value
    used: set[str] = set()
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            name = value.removeprefix("attach://")
            if name not in files:
                raise bad_request(f"file {name!r} not found in the request")
            params[key] = files[name]
            used.add(name)
    for name, uploaded in files.items():
        if name not in used and name not in params:
            params[name] = uploaded
    return params
