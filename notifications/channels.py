"""Where an outbox message goes: Telegram (through aiogram) or, without a bot token, the console; and
e-mail (notifications/mail.py) for people without a Telegram chat.

Two levels. A chat ``Channel`` (Telegram, the console) sends one text to one chat. A ``PersonChannel`` is
what the dispatcher picks per row when it sends: it says whether it can reach a person now (``reaches``),
carries one outbox row to them (``deliver``) and knows what "this address is dead" means for the person
(``mark_unreachable``: blocked the bot, an address that bounces). ``ChatChannel`` makes a chat channel
one; ``mail.EmailChannel`` is another; an SMS or WeCom sender would be a third, given to the dispatcher
next to them: producers never know which channel carries what they queue.

A channel sends one message and says how it went as a ``SendResult``; it never raises for what the
transport answers. The dispatcher decides what a result means for the outbox row (sent, retried later,
person marked unreachable, failed for good) and keeps each channel to its own rate; a channel keeps to
none of its own.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TextIO

from events import clock
from events.services.people import set_telegram_blocked

if TYPE_CHECKING:
    from events.models import OutboxMessage, Person

# Inline buttons as stored in the outbox: rows of {"text", "url" | "callback_data"}.
Buttons = Sequence[Sequence[dict[str, Any]]]
# Awaited by a channel between two API calls for one message (photo, then a text too long for a
# caption), so the second call keeps to the limits too.
Pace = Callable[[], Awaitable[None]]
Outcome = Literal["ok", "retry_after", "blocked", "permanent", "transient"]

# Telegram counts a caption in UTF-16 code units after entities are parsed.
MAX_CAPTION_UNITS = 1024
_TAG = re.compile(r"<[^>]*>")
_LINK = re.compile(r"""<a\s[^>]*?href\s*=\s*(["'])(.*?)\1[^>]*>(.*?)</a\s*>""", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class SendResult:
    """How one send went. Exactly one of ``ok``, ``retry_after``, ``blocked``, ``permanent``,
    ``transient`` holds; ``description`` says why for everything but ok."""

    ok: bool = False
    message_id: int | None = None
    retry_after: float | None = None  # 429: wait this long before sending anything again
    blocked: bool = False  # 403: the person blocked the bot (or can't be written to)
    permanent: bool = False  # 400 and the like: sending the same again fails the same way
    transient: bool = False  # network, 5xx, timeouts: worth retrying later
    description: str | None = None

    @classmethod
    def sent(cls, message_id: int | None) -> SendResult:
        return cls(ok=True, message_id=message_id)

    @classmethod
    def flood(cls, retry_after: float, description: str | None = None) -> SendResult:
        return cls(retry_after=max(0.0, float(retry_after)), description=description)

    @classmethod
    def unreachable(cls, description: str) -> SendResult:
        return cls(blocked=True, description=description)

    @classmethod
    def refused(cls, description: str) -> SendResult:
        return cls(permanent=True, description=description)

    @classmethod
    def failed(cls, description: str) -> SendResult:
        return cls(transient=True, description=description)

    @property
    def outcome(self) -> Outcome:
        if self.ok:
            return "ok"
        if self.retry_after is not None:
            return "retry_after"
        if self.blocked:
            return "blocked"
        if self.permanent:
            return "permanent"
        return "transient"


@dataclass(frozen=True, slots=True)
class MessageInfo:
    """What a channel may show besides the message itself (the console does; Telegram ignores it)."""

    outbox_id: int | None = None
    person_id: int | None = None
    person_name: str | None = None
    category: str | None = None
    urgent: bool = False


class Channel(Protocol):
    async def send(
        self,
        *,
        chat_id: int,
        text: str,
        buttons: Buttons | None,
        photo: bytes | None,
        info: MessageInfo | None = None,
        pace: Pace | None = None,
    ) -> SendResult:
        """Send one message; never raises for the transport's refusals (a SendResult says them)."""
        ...


class PersonChannel(Protocol):
    """A way to reach a person, chosen per outbox row when it is sent (see the module docstring)."""

    name: str  # recorded on a sent row ("telegram", "console", "email"); a row may ask for one by name
    rate_per_s: float  # this channel's own limit (messages a second, all people together)

    def reaches(self, person: Person, row: OutboxMessage) -> bool:
        """Whether this channel can carry ``row`` to ``person`` now (linked, not blocked, not bounced)."""
        ...

    async def deliver(self, row: OutboxMessage, *, photo: bytes | None, pace: Pace) -> SendResult:
        """Send the row to its person (``row.person`` is loaded); never raises for the transport's answers."""
        ...

    async def mark_unreachable(self, person: Person, result: SendResult) -> None:
        """The transport said the person cannot be reached this way (``result.blocked``): remember it."""
        ...


class ChatChannel:
    """A chat ``Channel`` as a ``PersonChannel``: reaches people with a Telegram chat that did not block the
    bot. ``catch_all`` (the console only): reaches everyone else who did not block the bot, as the last
    resort in development, so a locally registered attendee's messages can be seen even without e-mail."""

    def __init__(self, channel: Channel, *, rate_per_s: float, name: str | None = None, catch_all: bool = False):
        self.channel = channel
        self.rate_per_s = rate_per_s
        self.requires_chat_id = bool(getattr(channel, "requires_chat_id", True))
        self.name = name or ("telegram" if self.requires_chat_id else "console")
        self.catch_all = catch_all and not self.requires_chat_id

    def reaches(self, person: Person, row: OutboxMessage) -> bool:
        if self.catch_all:  # as the console did before there was e-mail: anyone who did not block the bot
            return person.telegram_blocked_at is None
        if row.channel is not None and row.channel != self.name:
            return False
        return person.telegram_id is not None and person.telegram_blocked_at is None

    async def deliver(self, row: OutboxMessage, *, photo: bytes | None, pace: Pace) -> SendResult:
        person = row.person
        return await self.channel.send(
            chat_id=person.telegram_id or 0,
            text=row.text,
            buttons=row.buttons,
            photo=photo,
            info=MessageInfo(row.id, person.id, person.name, str(row.category), row.urgent),
            pace=pace,
        )

    async def mark_unreachable(self, person: Person, result: SendResult) -> None:
        if person.telegram_id is not None:
            await set_telegram_blocked(person.telegram_id, blocked=True)
        person.telegram_blocked_at = person.telegram_blocked_at or clock.now()


def visible_text(text: str) -> str:
    """What a reader sees of Telegram HTML: tags dropped, entities decoded (links keep their text)."""
    return html.unescape(_TAG.sub("", text))


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fits_caption(text: str) -> bool:
    return _utf16_units(visible_text(text).strip()) <= MAX_CAPTION_UNITS


def _describe(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {message}"


class ConsoleChannel:
    """Prints each message as a readable block (who, category, the text without tags, the buttons) and
    reports it sent: the local stand-in for Telegram when no bot token is set. People without a
    Telegram id are printed too, so a locally registered attendee's messages can be seen."""

    requires_chat_id = False

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout

    async def send(
        self,
        *,
        chat_id: int | None,
        text: str,
        buttons: Buttons | None,
        photo: bytes | None,
        info: MessageInfo | None = None,
        pace: Pace | None = None,
    ) -> SendResult:
        self.stream.write(self.render(chat_id=chat_id, text=text, buttons=buttons, photo=photo, info=info))
        self.stream.flush()
        await asyncio.sleep(0)
        return SendResult.sent(None)

    @staticmethod
    def render(
        *,
        chat_id: int | None,
        text: str,
        buttons: Buttons | None,
        photo: bytes | None,
        info: MessageInfo | None = None,
    ) -> str:
        who = []
        if info is not None and info.person_name:
            who.append(info.person_name)
        if info is not None and info.person_id is not None:
            who.append(f"person {info.person_id}")
        who.append(f"chat {chat_id}" if chat_id else "no Telegram chat")
        head = "to " + ", ".join(who)
        if info is not None and info.category:
            head += f" · {info.category}" + (" (urgent)" if info.urgent else "")
        if info is not None and info.outbox_id is not None:
            head = f"#{info.outbox_id} {head}"
        body = visible_text(_LINK.sub(lambda m: f"{m.group(3)} ({html.unescape(m.group(2))})", text)).strip()
        lines = [f"──── {head} ────"]
        if photo is not None:
            lines.append(f"[photo, {len(photo):,} bytes]")
        lines += body.splitlines() or [""]
        for row in buttons or []:
            cells = []
            for button in row:
                target = button.get("url") or ""
                if not target and "callback_data" in button:
                    target = f"callback {button['callback_data']}"
                cells.append(f"[{button.get('text', '')}{' → ' + target if target else ''}]")
            lines.append(" ".join(cells))
        return "\n".join(lines) + "\n\n"


def __getattr__(name: str) -> Any:
    # The Telegram channel lives apart so that importing the console channel (no bot token) does
    # not load aiogram, which alone costs ~160 MB of memory.
    if name in ("TelegramChannel", "keyboard"):
        from notifications import telegram

        return getattr(telegram, name)
    raise AttributeError(name)
