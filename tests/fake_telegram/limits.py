"""What Telegram accepts: its limits, its HTML parser, its keyboard checks and a sliding-window rate limiter.

The descriptions are Telegram's own wording, so code that matches on them behaves as it will in production.
The HTML parser follows TDLib's ``parse_html``: the same tags, the same leniency about attributes, the same
error messages with byte offsets.
"""

from __future__ import annotations

import math
import re
import time
from collections import deque
from typing import Any
from urllib.parse import urlsplit

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_COMMANDS = 100
MAX_COMMAND_LENGTH = 32
MAX_COMMAND_DESCRIPTION_LENGTH = 256
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_PHOTO_SIDES = 10_000

INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

CHAT_ACTIONS = frozenset(
    {
        "cancel",
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "record_audio",
        "upload_voice",
        "upload_audio",
        "upload_document",
        "choose_sticker",
        "find_location",
        "pick_up_location",
        "record_video_note",
        "upload_video_note",
    }
)

COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)

PARSE_MODES = {"html": "HTML", "markdown": "Markdown", "markdownv2": "MarkdownV2"}

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    504: "Gateway Timeout",
}


class TelegramError(Exception):
    """A refusal the way the Bot API answers it: HTTP status == error_code, description, optional parameters."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {description}")


def too_many_requests(retry_after: int) -> TelegramError:
    return TelegramError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


# --- HTML (TDLib parse_html) ---------------------------------------------------------------------------------

HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "span",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
        "tg-time",
    }
)
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = frozenset(" \t\r\n\v\f")
_SURROGATE_ERROR = (
    "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units"
)


class HtmlParseError(ValueError):
    """Why Telegram can't parse entities; the message is TDLib's."""


def _decode_entity(text: str, i: int) -> tuple[str, int] | None:
    """The character an entity at text[i] == '&' stands for and where it ends; None if it is not one."""
    n = len(text)
    j = i + 1
    if j < n and text[j] == "#":
        j += 1
        digits = "0123456789"
        base = 10
        if j < n and text[j] in "xX":
            digits, base = "0123456789abcdefABCDEF", 16
            j += 1
        start = j
        while j < n and text[j] in digits and j - start < 9:
            j += 1
        if j == start:
            return None
        code = int(text[start:j], base)
        if code == 0 or code > 0x10FFFF:
            return None
        if 0xD800 <= code <= 0xDFFF:
            raise HtmlParseError(_SURROGATE_ERROR)
        if j < n and text[j] == ";":
            j += 1
        return chr(code), j
    start = j
    while j < n and text[j].isascii() and text[j].isalpha():
        j += 1
    char = _NAMED_ENTITIES.get(text[start:j])
    if char is None:
        return None
    if j < n and text[j] == ";":
        j += 1
    return char, j


def parse_html(text: str, *, strict: bool = False) -> str:
    """The plain text Telegram makes of ``text`` sent with parse_mode=HTML, or HtmlParseError.

    ``strict`` also refuses a bare ``&`` that starts no entity and a bare ``>``, which Telegram lets through but
    its documentation says must be escaped: a test that sees them has found text that was not escaped, and the
    same text with a ``<`` in it would be refused by Telegram.
    """

    def at(pos: int) -> int:
        return len(text[:pos].encode("utf-8", "surrogatepass"))

    out: list[str] = []
    stack: list[str] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_entity(text, i)
            if decoded is not None:
                out.append(decoded[0])
                i = decoded[1]
                continue
            if strict:
                raise HtmlParseError(
                    f'Unescaped "&" at byte offset {at(i)} (the fake Bot API is strict here: write &amp;)'
                )
            out.append(c)
            i += 1
            continue
        if c == ">" and strict:
            raise HtmlParseError(f'Unescaped ">" at byte offset {at(i)} (the fake Bot API is strict here: write &gt;)')
        if c != "<":
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if i < n and text[i] == "/":  # end tag
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {at(begin)}")
            i += 1
            start = i
            while i < n and text[i] not in _SPACES and text[i] != ">":
                i += 1
            end_name = text[start:i].lower()
            while i < n and text[i] in _SPACES:
                i += 1
            if i >= n or text[i] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {at(begin)}")
            i += 1
            tag = stack.pop()
            if end_name and end_name != tag:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {at(begin)}, expected "</{tag}>", found "</{end_name}>"'
                )
            continue

        start = i  # start tag
        while i < n and text[i] not in _SPACES and text[i] != ">":
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {at(begin)}")
        name = text[start:i].lower()
        if name not in HTML_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {at(begin)}')
        attributes: dict[str, str] = {}
        while True:
            while i < n and text[i] in _SPACES:
                i += 1
            if i >= n:
                raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {at(begin)}')
            if text[i] == ">":
                i += 1
                break
            start = i
            while i < n and text[i] not in _SPACES and text[i] not in "=>":
                i += 1
            attribute = text[start:i].lower()
            if not attribute:
                raise HtmlParseError(f'Empty attribute name in the tag "{name}" at byte offset {at(begin)}')
            while i < n and text[i] in _SPACES:
                i += 1
            if i >= n:
                raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {at(begin)}')
            if text[i] != "=":
                attributes[attribute] = ""
                continue
            i += 1
            while i < n and text[i] in _SPACES:
                i += 1
            if i >= n:
                raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {at(begin)}')
            if text[i] not in "'\"":  # a name token
                start = i
                while i < n and ((text[i].isascii() and text[i].isalnum()) or text[i] in ".-"):
                    i += 1
                if i >= n or (text[i] not in _SPACES and text[i] != ">"):
                    raise HtmlParseError(f"Unexpected end of name token at byte offset {at(start)}")
                value = text[start:i].lower()
            else:  # a string literal
                quote = text[i]
                i += 1
                chars: list[str] = []
                while i < n and text[i] != quote:
                    if text[i] == "&" and (decoded := _decode_entity(text, i)) is not None:
                        chars.append(decoded[0])
                        i = decoded[1]
                        continue
                    chars.append(text[i])
                    i += 1
                if i >= n:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {at(begin)}")
                i += 1
                value = "".join(chars)
            attributes[attribute] = value
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at(begin)}')
        if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise HtmlParseError("Custom emoji entity must contain a valid custom emoji identifier")
        stack.append(name)
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def normalize_parse_mode(parse_mode: Any) -> str | None:
    if parse_mode in (None, ""):
        return None
    mode = PARSE_MODES.get(str(parse_mode).lower())
    if mode is None:
        raise bad_request("unsupported parse_mode")
    return mode


def check_text(raw: Any, parse_mode: Any, *, caption: bool = False, strict_html: bool = True) -> str:
    """The text a message shows for ``raw``, or Telegram's refusal (empty, too long, unparsable entities)."""
    text = "" if raw is None else str(raw)
    mode = normalize_parse_mode(parse_mode)
    if mode == "HTML":
        try:
            text = parse_html(text, strict=strict_html)
        except HtmlParseError as e:
            raise bad_request(f"can't parse entities: {e}") from None
    text = text.strip()
    if caption:
        if len(text) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
    elif not text:
        raise bad_request("message text is empty")
    elif len(text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return text


# --- keyboards -------------------------------------------------------------------------------------------------


def _check_web_app_url(url: Any, where: str, *, allow_http: bool) -> None:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise bad_request(f"{where} '{url}' is invalid: Wrong HTTP URL")
    if parts.scheme != "https" and not allow_http:
        raise bad_request(f"{where} '{url}' is invalid: Only HTTPS links are allowed")


def _check_button_url(url: Any) -> None:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https", "tg") or (parts.scheme != "tg" and not parts.netloc):
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _rows(markup: dict[str, Any], key: str, what: str) -> list[list[Any]]:
    rows = markup[key]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'can\'t parse {what}: field "{key}" must be an Array of Arrays')
    return rows


def check_reply_markup(markup: Any, *, allow_http_web_app: bool = False, inline_only: bool = False) -> None:
    """Refuse what Telegram refuses in reply_markup: text-only inline buttons, callback_data over 64 bytes,
    Web App buttons without HTTPS, malformed objects."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        for row in _rows(markup, "inline_keyboard", "inline keyboard"):
            for button in row:
                if not isinstance(button, dict):
                    raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
                if not isinstance(button.get("text"), str):
                    raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
                actions = [
                    key
                    for key in INLINE_BUTTON_ACTIONS
                    if key in button
                    and button[key] is not None
                    and not (key in ("url", "callback_data") and button[key] == "")
                ]
                if not actions:
                    raise bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in actions:
                    data = button["callback_data"]
                    if not isinstance(data, str) or len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                        raise bad_request("BUTTON_DATA_INVALID")
                if "url" in actions:
                    _check_button_url(button["url"])
                if "web_app" in actions:
                    web_app = button["web_app"]
                    _check_web_app_url(
                        web_app.get("url") if isinstance(web_app, dict) else None,
                        "inline keyboard button Web App URL",
                        allow_http=allow_http_web_app,
                    )
        return
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        for row in _rows(markup, "keyboard", "keyboard"):
            for button in row:
                if isinstance(button, str):
                    continue
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
                if "web_app" in button:
                    web_app = button["web_app"]
                    _check_web_app_url(
                        web_app.get("url") if isinstance(web_app, dict) else None,
                        "keyboard button Web App URL",
                        allow_http=allow_http_web_app,
                    )
        return
    if markup and "remove_keyboard" not in markup and "force_reply" not in markup:
        raise bad_request("can't parse reply keyboard markup JSON object")


def check_menu_button(button: Any, *, allow_http_web_app: bool = False) -> dict[str, Any]:
    if button is None:
        return {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
        raise bad_request("can't parse menu button JSON object")
    if button["type"] == "web_app":
        if not button.get("text"):
            raise bad_request("menu button text is empty")
        web_app = button.get("web_app")
        _check_web_app_url(
            web_app.get("url") if isinstance(web_app, dict) else None,
            "menu button web app URL",
            allow_http=allow_http_web_app,
        )
    return button


_COMMAND = re.compile(r"[a-z0-9_]+")


def check_commands(commands: Any) -> list[dict[str, str]]:
    if commands is None:
        return []
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    checked = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command, description = item.get("command"), item.get("description")
        if not command:
            raise bad_request("command must be non-empty")
        if len(str(command)) > MAX_COMMAND_LENGTH:
            raise bad_request(f"command length must not exceed {MAX_COMMAND_LENGTH}")
        if not isinstance(command, str) or not _COMMAND.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not description or not str(description).strip():
            raise bad_request("command description must be non-empty")
        if len(str(description)) > MAX_COMMAND_DESCRIPTION_LENGTH:
            raise bad_request(f"command description length must not exceed {MAX_COMMAND_DESCRIPTION_LENGTH}")
        checked.append({"command": command, "description": str(description)})
    return checked


def check_language_code(language_code: Any) -> str:
    """setMyCommands and friends take a two-letter ISO 639-1 code, not the zh-hans a client reports."""
    code = language_code or ""
    if code and not (isinstance(code, str) and re.fullmatch(r"[a-z]{2}", code)):
        raise bad_request("invalid language code specified")
    return code


# --- rate limits ---------------------------------------------------------------------------------------------


class RateLimiter:
    """Sliding windows over accepted sends: at most ``global_per_s`` overall and ``per_chat_per_s`` per chat in any
    ``window`` seconds. ``retry_after`` is what a refusal asks the bot to wait, in whole seconds like Telegram."""

    def __init__(
        self,
        global_per_s: int | None = 30,
        per_chat_per_s: int | None = 1,
        *,
        window: float = 1.0,
        retry_after: int | None = None,
    ) -> None:
        self.global_per_s = global_per_s
        self.per_chat_per_s = per_chat_per_s
        self.window = window
        self.fixed_retry_after = retry_after
        self._global: deque[float] = deque()
        self._chats: dict[Any, deque[float]] = {}

    def _prune(self, times: deque[float], now: float) -> deque[float]:
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def wait(self, chat_id: Any, now: float | None = None) -> float:
        """Seconds until a send to ``chat_id`` would be allowed; 0 when it is allowed now."""
        now = time.monotonic() if now is None else now
        waits = [0.0]
        if self.global_per_s is not None:
            times = self._prune(self._global, now)
            if len(times) >= self.global_per_s:
                waits.append(times[len(times) - self.global_per_s] + self.window - now)
        if self.per_chat_per_s is not None and chat_id is not None:
            times = self._prune(self._chats.setdefault(chat_id, deque()), now)
            if len(times) >= self.per_chat_per_s:
                waits.append(times[len(times) - self.per_chat_per_s] + self.window - now)
        return max(waits)

    def retry_after(self, wait: float) -> int:
        if self.fixed_retry_after is not None:
            return self.fixed_retry_after
        return max(1, math.ceil(wait))

    def record(self, chat_id: Any, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._global.append(now)
        if chat_id is not None:
            self._chats.setdefault(chat_id, deque()).append(now)
